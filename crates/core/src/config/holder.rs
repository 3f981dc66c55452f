//! What holds a target's credentials: an Entra app this tool makes (the default), an
//! existing app pinned by client id, or a user-assigned managed identity in a given
//! subscription, resource group and region.
//!
//! In the config, per entry or org-wide:
//!
//! ```yaml
//! holder: application                  # the default
//! holder: { clientId: GUID }           # an existing app (as `adopt` writes it)
//! holder: managedIdentity              # where the top-level `managedIdentity:` says
//! holder:
//!   managedIdentity: { subscription: GUID, resourceGroup: rg, location: westeurope }
//! ```

use serde::de::{self, IgnoredAny};
use serde::{Deserialize, Serialize};
use std::fmt;

use crate::error::{Error, Result};
use crate::fields::read_once;
use crate::roles::Guid;

/// Where a managed identity lives. Validated with ARM's rules, so every render and
/// request built from it is safe to paste.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IdentityPlacement {
    pub subscription: Guid,
    pub resource_group: String,
    /// An Azure region's programmatic name (`westeurope`); empty for an existing
    /// identity, which is never created.
    pub location: String,
    /// The name of an existing identity a config pins its targets to
    /// (`managedIdentity: { id }`): read, never created, renamed or tagged unless the
    /// run takes ownership of it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub existing: Option<String>,
}

impl IdentityPlacement {
    /// The ARM id of the identity `name` placed here.
    pub fn resource_id(&self, name: &str) -> String {
        format!(
            "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}",
            self.subscription, self.resource_group
        )
    }

    /// The resource group's ARM id: the scope *Managed Identity Contributor* is
    /// granted at.
    pub fn resource_group_id(&self) -> String {
        format!(
            "/subscriptions/{}/resourceGroups/{}",
            self.subscription, self.resource_group
        )
    }

    /// An existing identity's placement from its ARM id
    /// (`/subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}`).
    pub fn existing(here: &str, id: &str) -> Result<Self> {
        let parts: Vec<&str> = id.trim_end_matches('/').split('/').collect();
        let rule = || {
            invalid(
                here,
                format!(
                    "managed identity id `{id}`: expected /subscriptions/GUID/resourceGroups/GROUP/providers/Microsoft.ManagedIdentity/userAssignedIdentities/NAME"
                ),
            )
        };
        let ok = parts.len() == 9
            && parts[0].is_empty()
            && parts[1].eq_ignore_ascii_case("subscriptions")
            && parts[3].eq_ignore_ascii_case("resourceGroups")
            && parts[5].eq_ignore_ascii_case("providers")
            && parts[6].eq_ignore_ascii_case("Microsoft.ManagedIdentity")
            && parts[7].eq_ignore_ascii_case("userAssignedIdentities");
        if !ok {
            return Err(rule());
        }
        let subscription = Guid::parse("subscription id", parts[2]).map_err(|_| rule())?;
        check_resource_group(here, parts[4])?;
        let name = parts[8];
        let name_ok = (3..=128).contains(&name.len())
            && name.starts_with(|c: char| c.is_ascii_alphanumeric())
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !name_ok {
            return Err(rule());
        }
        Ok(IdentityPlacement {
            subscription,
            resource_group: parts[4].to_owned(),
            location: String::new(),
            existing: Some(name.to_owned()),
        })
    }

    /// A short stable key for names and grouping.
    pub fn key(&self) -> String {
        format!(
            "{}/{}/{}",
            self.subscription,
            self.resource_group.to_ascii_lowercase(),
            self.location
        )
    }
}

/// The holder a config entry (or the whole org) asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum HolderChoice {
    Application,
    ExistingApp(String),
    ManagedIdentity(Option<IdentityPlacement>),
}

impl RawPlacement {
    /// The existing identity this names by `id`, if it does (and nothing else).
    pub(crate) fn existing(&self, here: &str) -> Result<Option<IdentityPlacement>> {
        let Some(id) = &self.id else {
            return Ok(None);
        };
        if self.subscription.is_some() || self.resource_group.is_some() || self.location.is_some() {
            return Err(invalid(
                &format!("{here}.managedIdentity"),
                "give either `id` (an existing identity) or `subscription`, `resourceGroup` and `location` (one to make), not both".into(),
            ));
        }
        IdentityPlacement::existing(&format!("{here}.managedIdentity.id"), id).map(Some)
    }
}

/// `holder:` as written: a word, or a map with one key.
#[derive(Debug)]
pub(crate) enum RawHolder {
    Word(String),
    Map(RawHolderMap),
}

#[derive(Debug)]
pub(crate) struct RawHolderMap {
    client_id: Option<String>,
    managed_identity: Option<RawPlacement>,
    /// The first unknown key in key order, so a misspelt key gets an error that names
    /// it and where it is.
    other: Option<String>,
}

/// `managedIdentity: { subscription, resourceGroup, location }`; each may come from
/// the org-wide default.
#[derive(Debug, Default, Clone)]
pub(crate) struct RawPlacement {
    subscription: Option<String>,
    resource_group: Option<String>,
    location: Option<String>,
    /// An existing identity's ARM id, instead of a place to make one.
    id: Option<String>,
    other: Option<String>,
}

// These three are read by hand rather than derived: the derive needs an untagged enum
// and `#[serde(flatten)]`, which both buffer the input and copy serde's readers for
// the buffer, several KB of the page's module. The errors are serde's own.

impl<'de> Deserialize<'de> for RawHolder {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct Visit;
        impl<'de> de::Visitor<'de> for Visit {
            type Value = RawHolder;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(
                    "`application`, `managedIdentity`, or a map with `clientId` or `managedIdentity`",
                )
            }
            fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<RawHolder, E> {
                Ok(RawHolder::Word(v.to_owned()))
            }
            fn visit_map<A: de::MapAccess<'de>>(
                self,
                map: A,
            ) -> std::result::Result<RawHolder, A::Error> {
                RawHolderMap::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(RawHolder::Map)
            }
        }
        d.deserialize_any(Visit)
    }
}

impl<'de> Deserialize<'de> for RawHolderMap {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct Visit;
        impl<'de> de::Visitor<'de> for Visit {
            type Value = RawHolderMap;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a map with `clientId` or `managedIdentity`")
            }
            fn visit_map<A: de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> std::result::Result<RawHolderMap, A::Error> {
                let mut client_id = None;
                let mut managed_identity = None;
                let mut other = None;
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "clientId" => read_once(&mut client_id, "clientId", &mut map)?,
                        "managedIdentity" => {
                            read_once(&mut managed_identity, "managedIdentity", &mut map)?
                        }
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                            keep_first(&mut other, key);
                        }
                    }
                }
                Ok(RawHolderMap {
                    client_id: client_id.flatten(),
                    managed_identity: managed_identity.flatten(),
                    other,
                })
            }
        }
        d.deserialize_map(Visit)
    }
}

impl<'de> Deserialize<'de> for RawPlacement {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct Visit;
        impl<'de> de::Visitor<'de> for Visit {
            type Value = RawPlacement;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a map with `subscription`, `resourceGroup` and `location`, or `id`")
            }
            fn visit_map<A: de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> std::result::Result<RawPlacement, A::Error> {
                let mut fields: [Option<Option<String>>; 4] = Default::default();
                let mut other = None;
                while let Some(key) = map.next_key::<String>()? {
                    match PLACEMENT_FIELDS.iter().position(|f| *f == key) {
                        Some(i) => read_once(&mut fields[i], PLACEMENT_FIELDS[i], &mut map)?,
                        None => {
                            map.next_value::<IgnoredAny>()?;
                            keep_first(&mut other, key);
                        }
                    }
                }
                let [subscription, resource_group, location, id] = fields.map(Option::flatten);
                Ok(RawPlacement {
                    subscription,
                    resource_group,
                    location,
                    id,
                    other,
                })
            }
        }
        d.deserialize_map(Visit)
    }
}

/// Keep the least unknown key in key order, the one a sorted map of them would name
/// first; a map of all of them would copy a B-tree into the page's module for it.
fn keep_first(first: &mut Option<String>, key: String) {
    if first.as_ref().is_none_or(|f| key < *f) {
        *first = Some(key);
    }
}

const PLACEMENT_FIELDS: [&str; 4] = ["subscription", "resourceGroup", "location", "id"];

impl RawPlacement {
    pub(crate) fn unknown_key(&self) -> Option<&str> {
        if self.id.is_some() {
            return Some("id");
        }
        self.other.as_deref()
    }
}

fn invalid(here: &str, message: String) -> Error {
    Error::InvalidConfig {
        message,
        location: Some(here.to_owned()),
    }
}

fn no_other(here: &str, other: Option<&str>, expected: &str) -> Result<()> {
    match other {
        Some(k) => Err(invalid(
            here,
            format!("unknown key `{k}`, expected {expected}"),
        )),
        None => Ok(()),
    }
}

/// Read one `holder:` value at `here` (`deployments[0].holder`).
pub(crate) fn holder_choice(here: &str, raw: RawHolder) -> Result<(HolderChoice, RawPlacement)> {
    match raw {
        RawHolder::Word(w) => match w.as_str() {
            "application" => Ok((HolderChoice::Application, RawPlacement::default())),
            "managedIdentity" => Ok((HolderChoice::ManagedIdentity(None), RawPlacement::default())),
            other => Err(invalid(
                here,
                format!(
                    "`holder` is `application`, `managedIdentity`, `{{ clientId: GUID }}` or `{{ managedIdentity: {{ subscription, resourceGroup, location }} }}`; not `{other}`"
                ),
            )),
        },
        RawHolder::Map(m) => {
            no_other(here, m.other.as_deref(), "`clientId` or `managedIdentity`")?;
            match (m.client_id, m.managed_identity) {
                (Some(c), None) => {
                    let g = Guid::parse("client id", &c)
                        .map_err(|e| e.in_config(format!("{here}.clientId")))?;
                    Ok((
                        HolderChoice::ExistingApp(g.to_string().to_ascii_lowercase()),
                        RawPlacement::default(),
                    ))
                }
                (None, Some(p)) => {
                    no_other(
                        &format!("{here}.managedIdentity"),
                        p.other.as_deref(),
                        "`id`, `subscription`, `resourceGroup` or `location`",
                    )?;
                    let existing = p.existing(here)?;
                    Ok((HolderChoice::ManagedIdentity(existing), p))
                }
                (Some(_), Some(_)) => Err(invalid(
                    here,
                    "give either `clientId` (an existing app) or `managedIdentity`, not both"
                        .into(),
                )),
                (None, None) => Err(invalid(
                    here,
                    "an empty `holder`: give `clientId` or `managedIdentity`".into(),
                )),
            }
        }
    }
}

/// Fill a placement from the entry's own values, then the org-wide default's, then
/// `azure.subscription`; each must end up present and valid.
pub(crate) fn placement(
    here: &str,
    own: RawPlacement,
    default: Option<&RawPlacement>,
    azure_subscription: Option<&Guid>,
) -> Result<IdentityPlacement> {
    let pick = |own: Option<String>, f: fn(&RawPlacement) -> Option<&String>| {
        own.or_else(|| default.and_then(f).cloned())
    };
    let subscription = match pick(own.subscription, |d| d.subscription.as_ref()) {
        Some(s) => Guid::parse("subscription id", &s)
            .map_err(|e| e.in_config(format!("{here}.managedIdentity.subscription")))?,
        None => azure_subscription.cloned().ok_or_else(|| {
            invalid(
                here,
                "a managed identity needs a subscription: give `managedIdentity.subscription` here or at the top level, or `azure.subscription`".into(),
            )
        })?,
    };
    let resource_group = pick(own.resource_group, |d| d.resource_group.as_ref()).ok_or_else(|| {
        invalid(
            here,
            "a managed identity needs `managedIdentity.resourceGroup` (here or at the top level): the resource group it is made in".into(),
        )
    })?;
    check_resource_group(here, &resource_group)?;
    let location = pick(own.location, |d| d.location.as_ref()).ok_or_else(|| {
        invalid(
            here,
            "a managed identity needs `managedIdentity.location` (here or at the top level), such as `westeurope`".into(),
        )
    })?;
    let location = check_location(here, &location)?;
    Ok(IdentityPlacement {
        subscription,
        resource_group,
        location,
        existing: None,
    })
}

/// ARM's resource group name rule: 1–90 letters, digits, `_`, `-`, `.`, `(`, `)`,
/// not ending in `.` (azure-rest-api-specs `resources` ResourceGroupNameParameter,
/// pattern `^[-\w\._\(\)]+$`; the docs' naming rules add the trailing period).
fn check_resource_group(here: &str, rg: &str) -> Result<()> {
    let ok = (1..=90).contains(&rg.chars().count())
        && rg
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '(' | ')'))
        && !rg.ends_with('.');
    if ok {
        Ok(())
    } else {
        Err(invalid(
            &format!("{here}.managedIdentity.resourceGroup"),
            format!(
                "resource group `{rg}`: 1 to 90 letters, digits, `_`, `-`, `.`, `(` and `)`, not ending in `.`"
            ),
        ))
    }
}

/// A region's programmatic name, as `az account list-locations` lists it
/// (`westeurope`, `eastus2`); a display name (`West Europe`) is folded into it.
fn check_location(here: &str, location: &str) -> Result<String> {
    let folded: String = location
        .chars()
        .filter(|c| *c != ' ')
        .collect::<String>()
        .to_ascii_lowercase();
    if (2..=40).contains(&folded.len()) && folded.chars().all(|c| c.is_ascii_alphanumeric()) {
        Ok(folded)
    } else {
        Err(invalid(
            &format!("{here}.managedIdentity.location"),
            format!(
                "location `{location}`: an Azure region's name, such as `westeurope` (letters and digits)"
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Config;

    const SUB: &str = "0b1f6471-1bf0-4dda-aec3-cb9272f09590";

    #[test]
    fn an_entry_and_the_org_can_ask_for_identities() {
        let c = Config::from_yaml(&format!(
            "org: contoso\nmanagedIdentity: {{ subscription: {SUB}, resourceGroup: rg-oidc, location: West Europe }}\nholder: managedIdentity\n\
             deployments:\n  - project: core\n    stacks: [dev]\n  - project: web\n    stack: dev\n    holder: application\n\
             esc:\n  - project: azure\n    env: prod\n    holder: {{ managedIdentity: {{ resourceGroup: other }} }}\n"
        ))
        .unwrap();
        let placed = |i: usize| c.targets[i].identity.clone();
        assert_eq!(placed(0).unwrap().location, "westeurope");
        assert!(placed(1).is_none());
        let esc = placed(2).unwrap();
        assert_eq!(esc.resource_group, "other");
        assert_eq!(esc.subscription.as_str(), SUB);
    }

    #[test]
    fn a_bad_or_missing_placement_names_the_rule() {
        let err = Config::from_yaml(
            "org: contoso\ndeployments:\n  - project: core\n    stack: dev\n    holder: managedIdentity\n",
        )
        .unwrap_err();
        assert!(err.to_string().contains("needs a subscription"), "{err}");
        let err = Config::from_yaml(&format!(
            "org: contoso\ndeployments:\n  - project: core\n    stack: dev\n    holder: {{ managedIdentity: {{ subscription: {SUB}, resourceGroup: 'bad/rg', location: x1 }} }}\n"
        ))
        .unwrap_err();
        assert!(err.to_string().contains("bad/rg"), "{err}");
        let err = Config::from_yaml(&format!(
            "org: contoso\ndeployments:\n  - project: core\n    stack: dev\n    holder: {{ managedIdentity: {{ subscription: {SUB}, resourceGroup: rg, locaton: x }} }}\n"
        ))
        .unwrap_err();
        assert!(err.to_string().contains("locaton"), "{err}");
        let err = Config::from_yaml(
            "org: contoso\ndeployments:\n  - project: core\n    stack: dev\n    holder: identity\n",
        )
        .unwrap_err();
        assert!(err.to_string().contains("`identity`"), "{err}");
    }

    #[test]
    fn an_existing_identity_is_pinned_by_its_id() {
        let id = format!(
            "/subscriptions/{SUB}/resourcegroups/by-hand/providers/Microsoft.ManagedIdentity/userAssignedIdentities/deployer"
        );
        let c = Config::from_yaml(&format!(
            "org: contoso\ndeployments:\n  - project: core\n    stack: dev\n    holder: {{ managedIdentity: {{ id: '{id}' }} }}\n"
        ))
        .unwrap();
        let p = c.targets[0].identity.clone().unwrap();
        assert_eq!(p.existing.as_deref(), Some("deployer"));
        assert_eq!(p.resource_group, "by-hand");
        let plan = crate::plan::plan(&c).unwrap();
        assert!(plan.apps[0].is_pinned());
        assert_eq!(plan.apps[0].unique_name, "deployer");
        let err = Config::from_yaml(&format!(
            "org: contoso\ndeployments:\n  - project: core\n    stack: dev\n    holder: {{ managedIdentity: {{ id: '{id}', location: westeurope }} }}\n"
        ))
        .unwrap_err();
        assert!(err.to_string().contains("not both"), "{err}");
        let err = Config::from_yaml(
            "org: contoso\ndeployments:\n  - project: core\n    stack: dev\n    holder: { managedIdentity: { id: /subscriptions/x } }\n",
        )
        .unwrap_err();
        assert!(err.to_string().contains("/subscriptions/x"), "{err}");
    }
}
