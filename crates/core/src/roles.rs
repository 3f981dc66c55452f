//! Azure role assignments: built-in role names, scopes, deterministic assignment names.
//!
//! Role GUIDs from `azure-facts.md` §4 (azure-docs `role-based-access-control/built-in-roles`).

use crate::error::{Error, Result};
use crate::join::Joined;
use serde::Serialize;
use std::fmt;

/// Built-in roles accepted by name (case-insensitive), with their definition GUIDs.
pub const BUILT_IN_ROLES: &[(&str, &str)] = &[
    ("Owner", "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"),
    ("Contributor", "b24988ac-6180-42a0-ab88-20f7382dd24c"),
    ("Reader", "acdd72a7-3385-48ef-bd42-f606fba81ae7"),
    (
        "User Access Administrator",
        "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9",
    ),
    (
        "Role Based Access Control Administrator",
        "f58310d9-a9f6-439a-9e8d-f62e7b41a168",
    ),
    (
        "Key Vault Secrets User",
        "4633458b-17de-408a-b874-0445c86b69e6",
    ),
    (
        "Key Vault Secrets Officer",
        "b86a8fe4-44ce-4948-aee5-eccb2c155cd7",
    ),
    (
        "Key Vault Administrator",
        "00482a5a-887f-4fb3-b363-3b7fe8e74483",
    ),
    (
        "Managed Identity Contributor",
        "e40ec5ca-96e0-45a2-b4ff-59039f2c2b59",
    ),
    (
        "Storage Blob Data Contributor",
        "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
    ),
];

/// Roles that can grant access to others: assigning them to a CI identity is a
/// privilege-escalation path worth a warning.
const PRIVILEGED_ROLES: &[&str] = &[
    "8e3af657-a8ff-443c-a75c-2fe8c4bcb635",
    "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9",
    "f58310d9-a9f6-439a-9e8d-f62e7b41a168",
];

/// A lower-case GUID, validated.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(into = "String")]
pub struct Guid(String);

impl Guid {
    pub fn parse(what: &'static str, value: &str) -> Result<Self> {
        // Hyphenated 8-4-4-4-12 hex digits, the one form Azure writes; kept in lower case.
        let hyphen = |i| matches!(i, 8 | 13 | 18 | 23);
        let hyphenated = value.len() == 36
            && value.bytes().enumerate().all(|(i, b)| {
                if hyphen(i) {
                    b == b'-'
                } else {
                    b.is_ascii_hexdigit()
                }
            });
        if hyphenated {
            Ok(Guid(value.to_ascii_lowercase()))
        } else {
            Err(Error::InvalidGuid {
                what,
                value: value.to_owned(),
            })
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<Guid> for String {
    fn from(g: Guid) -> String {
        g.0
    }
}

impl fmt::Display for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Guid({})", self.0)
    }
}

/// A role definition: a built-in role by name, or a custom role by GUID.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Role {
    /// The built-in name, or the GUID for a role this tool does not know by name.
    pub name: String,
    pub id: Guid,
}

impl Role {
    /// Resolve `Contributor`, `contributor`, a role GUID, or a full
    /// `…/roleDefinitions/<guid>` id.
    pub fn parse(value: &str) -> Result<Self> {
        let trimmed = value.trim();
        if let Some((name, id)) = BUILT_IN_ROLES
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(trimmed))
        {
            return Ok(Role {
                name: (*name).to_owned(),
                id: Guid((*id).to_owned()),
            });
        }
        // The text after the last `/roleDefinitions/`, found by the last `/`: a GUID
        // has none, and a search backwards for a text would be a routine of its own in
        // the browser module (0.9 KB) for this one call.
        let guid_text = match trimmed.rsplit_once('/') {
            Some((head, guid)) if head.ends_with("/roleDefinitions") => guid,
            _ => trimmed,
        };
        match Guid::parse("role definition id", guid_text) {
            Ok(id) => {
                let name = BUILT_IN_ROLES
                    .iter()
                    .find(|(_, g)| *g == id.as_str())
                    .map(|(n, _)| (*n).to_owned())
                    .unwrap_or_else(|| id.to_string());
                Ok(Role { name, id })
            }
            Err(_) => Err(Error::InvalidRole {
                value: value.to_owned(),
                rule: format!(
                    "expected a role definition GUID or one of the built-in names: {}",
                    BUILT_IN_ROLES
                        .iter()
                        .map(|(n, _)| *n)
                        .collect::<Vec<_>>()
                        .joined(", ")
                ),
            }),
        }
    }

    /// Whether the role can read Key Vault secret values (data-plane roles only:
    /// Owner and Contributor manage vaults but cannot read their secrets under RBAC).
    pub fn reads_key_vault_secrets(&self) -> bool {
        matches!(
            self.id.as_str(),
            "4633458b-17de-408a-b874-0445c86b69e6"
                | "b86a8fe4-44ce-4948-aee5-eccb2c155cd7"
                | "00482a5a-887f-4fb3-b363-3b7fe8e74483"
        )
    }

    pub fn is_privileged(&self) -> bool {
        PRIVILEGED_ROLES.contains(&self.id.as_str())
    }
}

/// An ARM scope: a management group, a subscription, a resource group or a resource.
///
/// ARM ids are case-insensitive, so two spellings of one scope are one scope: equality,
/// ordering and hashing use the lower-cased form, and the spelling given is kept for
/// display and requests.
#[derive(Debug, Clone, Serialize)]
#[serde(into = "String")]
pub struct Scope {
    path: String,
    normalized: String,
    subscription: Option<Guid>,
}

impl PartialEq for Scope {
    fn eq(&self, other: &Self) -> bool {
        self.normalized == other.normalized
    }
}

impl Eq for Scope {}

impl std::hash::Hash for Scope {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.normalized.hash(state);
    }
}

impl PartialOrd for Scope {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Scope {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.normalized.cmp(&other.normalized)
    }
}

/// How broad a scope is, for warnings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScopeLevel {
    ManagementGroup,
    Subscription,
    ResourceGroup,
    Resource,
}

impl Scope {
    /// The scope as compared: what two equal scopes share.
    pub(crate) fn normalized(&self) -> &str {
        &self.normalized
    }

    /// Parse `/subscriptions/<guid>[/resourceGroups/<name>[/providers/…]]` or
    /// `/providers/Microsoft.Management/managementGroups/<name>`.
    pub fn parse(value: &str) -> Result<Self> {
        let fail = |rule| {
            Err(Error::InvalidScope {
                value: value.to_owned(),
                rule,
            })
        };
        if value != value.trim() || value.contains(char::is_whitespace) {
            return fail("must not contain whitespace");
        }
        if value.len() > 1 && value.ends_with('/') {
            return fail("must not end with `/`");
        }
        let segments: Vec<&str> = value.split('/').collect();
        if segments.first() != Some(&"") || segments.iter().skip(1).any(|s| s.is_empty()) {
            return fail(
                "must be an ARM resource id starting with `/subscriptions/<guid>` or \
                 `/providers/Microsoft.Management/managementGroups/<name>`",
            );
        }
        match &segments[1..] {
            [providers, mgmt, groups, _name]
                if providers.eq_ignore_ascii_case("providers")
                    && mgmt.eq_ignore_ascii_case("Microsoft.Management")
                    && groups.eq_ignore_ascii_case("managementGroups") =>
            {
                Ok(Scope {
                    path: value.to_owned(),
                    normalized: value.to_ascii_lowercase(),
                    subscription: None,
                })
            }
            [subs, sub, rest @ ..] if subs.eq_ignore_ascii_case("subscriptions") => {
                let subscription = Guid::parse("subscription id", sub)?;
                if let Some(rg) = rest.first()
                    && (!rg.eq_ignore_ascii_case("resourceGroups") || rest.len() < 2)
                {
                    return fail("after `/subscriptions/<guid>` expect `/resourceGroups/<name>`");
                }
                // A resource: `/providers/<namespace>/<type>/<name>`, then child type/name pairs.
                if rest.len() > 2
                    && (!rest[2].eq_ignore_ascii_case("providers")
                        || rest.len() < 6
                        || rest.len() % 2 != 0)
                {
                    return fail(
                        "after `/resourceGroups/<name>` expect `/providers/<namespace>/<type>/<name>`",
                    );
                }
                Ok(Scope {
                    path: value.to_owned(),
                    normalized: value.to_ascii_lowercase(),
                    subscription: Some(subscription),
                })
            }
            _ => fail(
                "must be an ARM resource id starting with `/subscriptions/<guid>` or \
                 `/providers/Microsoft.Management/managementGroups/<name>`",
            ),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.path
    }

    pub fn subscription(&self) -> Option<&Guid> {
        self.subscription.as_ref()
    }

    pub fn level(&self) -> ScopeLevel {
        let n = self.path.split('/').count();
        match (self.subscription.is_some(), n) {
            (false, _) => ScopeLevel::ManagementGroup,
            (true, 3) => ScopeLevel::Subscription,
            (true, 5) => ScopeLevel::ResourceGroup,
            (true, _) => ScopeLevel::Resource,
        }
    }

    /// The full role definition id ARM expects for `role` at this scope.
    pub fn role_definition_id(&self, role: &Role) -> String {
        match &self.subscription {
            Some(sub) => format!(
                "/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{}",
                role.id
            ),
            None => format!(
                "/providers/Microsoft.Authorization/roleDefinitions/{}",
                role.id
            ),
        }
    }
}

impl From<Scope> for String {
    fn from(s: Scope) -> String {
        s.path
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.path)
    }
}

/// The deterministic role assignment name (a GUID) for `role_guid` at `scope` for
/// `principal_id`: a UUIDv5 over the three, compared case-insensitively as ARM does.
/// Re-running finds the same assignment instead of adding another, and an assignment
/// whose name matches is known to be this tool's.
pub fn role_assignment_name(scope: &str, role_guid: &str, principal_id: &str) -> String {
    let key = format!(
        "{}\u{0}{}\u{0}{}",
        scope.to_ascii_lowercase(),
        role_guid.to_ascii_lowercase(),
        principal_id.to_ascii_lowercase()
    );
    crate::name_uuid::text(
        &crate::name_uuid::v5(&crate::NAMESPACE, key.as_bytes()),
        true,
    )
}

/// One role to grant at one scope.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct RoleGrant {
    pub role: Role,
    pub scope: Scope,
}

impl RoleGrant {
    pub fn role_definition_id(&self) -> String {
        self.scope.role_definition_id(&self.role)
    }

    /// The deterministic role assignment name of this grant to `principal_id`.
    pub fn assignment_name(&self, principal_id: &str) -> String {
        role_assignment_name(self.scope.as_str(), self.role.id.as_str(), principal_id)
    }

    /// Warnings for broad or privileged grants.
    pub fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.role.is_privileged() {
            out.push(format!(
                "role {} at {} lets the identity grant access to others; prefer Contributor or a narrower role",
                self.role.name, self.scope
            ));
        }
        match self.scope.level() {
            ScopeLevel::ManagementGroup => out.push(format!(
                "role {} at management group scope {} reaches every subscription below it",
                self.role.name, self.scope
            )),
            ScopeLevel::Subscription => out.push(format!(
                "role {} at subscription scope {}; a resource group scope is narrower",
                self.role.name, self.scope
            )),
            _ => {}
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// What the check replaced: `uuid`'s parser, held to the hyphenated length.
    fn uuid_reads(value: &str) -> Option<String> {
        uuid::Uuid::try_parse(value)
            .ok()
            .filter(|_| value.len() == 36)
            .map(|u| u.hyphenated().to_string())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4_000))]
        #[test]
        fn a_guid_is_read_as_uuid_reads_a_hyphenated_one(
            value in "[0-9a-fA-F]{8}[-0-9a-fA-Fg{}]{1,2}[0-9a-fA-F]{3,4}[-{}x]?[0-9a-fA-F]{3,5}-?[0-9a-fA-F]{4}-[0-9a-fA-F]{11,12}[}-]?",
        ) {
            prop_assert_eq!(
                Guid::parse("id", &value).ok().map(String::from),
                uuid_reads(&value)
            );
        }
    }

    #[test]
    fn only_the_hyphenated_form_is_a_guid() {
        let id = "0E7A5C2D-9F41-4B0E-9A57-6C1F4B0E9A57";
        assert_eq!(
            Guid::parse("id", id).map(String::from).unwrap(),
            id.to_ascii_lowercase()
        );
        for other in [
            "0e7a5c2d9f414b0e9a576c1f4b0e9a57",
            "{0e7a5c2d-9f41-4b0e-9a57-6c1f4b0e9a57}",
            "urn:uuid:0e7a5c2d-9f41-4b0e-9a57-6c1f4b0e9a57",
            "0e7a5c2d-9f41-4b0e-9a57-6c1f4b0e9a5g",
            "0e7a5c2d-9f41-4b0e-9a576-c1f4b0e9a57",
            "0e7a5c2d-9f41-4b0e-9a57-6c1f4b0e9a5é",
        ] {
            assert_eq!(uuid_reads(other), None, "{other}");
            assert!(Guid::parse("id", other).is_err(), "{other}");
        }
    }

    #[test]
    fn built_in_names_resolve() {
        let r = Role::parse("contributor").unwrap();
        assert_eq!(r.name, "Contributor");
        assert_eq!(r.id.as_str(), "b24988ac-6180-42a0-ab88-20f7382dd24c");
        let custom = Role::parse("11111111-2222-3333-4444-555555555555").unwrap();
        assert_eq!(custom.name, "11111111-2222-3333-4444-555555555555");
        let full = Role::parse(
            "/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7",
        )
        .unwrap();
        assert_eq!(full.name, "Reader");
        assert!(Role::parse("Contributer").is_err());
        // The GUID is what follows the last `/roleDefinitions/`, even one that shares
        // its slash with the one before.
        let reader = "acdd72a7-3385-48ef-bd42-f606fba81ae7";
        for id in [
            format!("/roleDefinitions/roleDefinitions/{reader}"),
            format!("/x/roleDefinitions/y/roleDefinitions/{reader}"),
        ] {
            assert_eq!(Role::parse(&id).unwrap().name, "Reader", "{id}");
        }
        assert!(Role::parse(&format!("/roleDefinitions/{reader}/roleDefinitions/")).is_err());
    }

    proptest! {
        /// The GUID is found by the last `/` as `rsplit_once("/roleDefinitions/")`
        /// finds it.
        #[test]
        fn a_full_id_reads_as_the_last_role_definitions_segment(
            parts in prop::collection::vec(
                prop::sample::select(vec![
                    "/", "roleDefinitions", "/roleDefinitions/", "/roleDefinitions",
                    "acdd72a7-3385-48ef-bd42-f606fba81ae7", "x", "RoleDefinitions",
                ]),
                0..6,
            )
        ) {
            let text = parts.concat();
            let tail = text.rsplit_once("/roleDefinitions/").map_or(text.as_str(), |(_, g)| g);
            let expected = Guid::parse("role definition id", tail).map(|g| g.as_str().to_owned());
            let got = Role::parse(&text).map(|r| r.id.as_str().to_owned());
            prop_assert_eq!(got.ok(), expected.ok(), "{}", text);
        }
    }

    #[test]
    fn scopes() {
        let sub = "/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590";
        assert_eq!(Scope::parse(sub).unwrap().level(), ScopeLevel::Subscription);
        let rg = format!("{sub}/resourceGroups/core-dev");
        assert_eq!(
            Scope::parse(&rg).unwrap().level(),
            ScopeLevel::ResourceGroup
        );
        assert_eq!(
            Scope::parse("/providers/Microsoft.Management/managementGroups/root")
                .unwrap()
                .level(),
            ScopeLevel::ManagementGroup
        );
        for bad in [
            "",
            "/",
            "subscriptions/x",
            "/subscriptions/not-a-guid",
            &format!("{sub}/"),
        ] {
            assert!(Scope::parse(bad).is_err(), "{bad}");
        }
    }

    /// Least privilege: only a resource-group (or narrower) grant of a role that cannot
    /// grant access to others passes without a warning.
    #[test]
    fn broad_or_privileged_grants_warn() {
        let sub = "/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590";
        let grant = |role: &str, scope: &str| RoleGrant {
            role: Role::parse(role).unwrap(),
            scope: Scope::parse(scope).unwrap(),
        };
        assert!(
            grant("Contributor", &format!("{sub}/resourceGroups/core"))
                .warnings()
                .is_empty()
        );
        let w = grant("Reader", sub).warnings();
        assert_eq!(w.len(), 1);
        assert!(w[0].contains("subscription scope"), "{w:?}");
        let w = grant("Owner", &format!("{sub}/resourceGroups/core")).warnings();
        assert!(w[0].contains("grant access to others"), "{w:?}");
        let w = grant(
            "User Access Administrator",
            "/providers/Microsoft.Management/managementGroups/root",
        )
        .warnings();
        assert_eq!(w.len(), 2, "{w:?}");
        assert!(w[1].contains("management group"), "{w:?}");
    }

    #[test]
    fn assignment_names_are_deterministic_and_case_insensitive() {
        let g = RoleGrant {
            role: Role::parse("Reader").unwrap(),
            scope: Scope::parse("/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590").unwrap(),
        };
        let a = g.assignment_name("AAAAAAAA-0000-0000-0000-000000000000");
        let b = g.assignment_name("aaaaaaaa-0000-0000-0000-000000000000");
        assert_eq!(a, b);
        assert_ne!(a, g.assignment_name("bbbbbbbb-0000-0000-0000-000000000000"));
    }
}
