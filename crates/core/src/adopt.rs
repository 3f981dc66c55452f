//! `adopt`: a config that describes an existing set-up as it is.
//!
//! The executor reads every stack and environment of an org, the login each names,
//! and the app behind each client id (as `doctor` does). [`describe`] turns that into
//! a config whose entries are pinned to those apps (`holder: { clientId }`), listing
//! exactly the operations and subject forms their credentials already trust and the
//! roles their service principals already hold. Credentials are matched by issuer,
//! subject and audience, never by name. `apply` with the result writes nothing; what
//! the config cannot say, and what `doctor` finds wrong, become comments. Nothing is
//! repaired here.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use crate::claims::{Issuer, Operation};
use crate::doctor::{self, Holder, Login, Seen, Severity};
use crate::error::Result;
use crate::join::Joined;
use crate::roles::BUILT_IN_ROLES;
use crate::spec::TargetSpec;
use crate::target::Target;

/// One stack or environment of the org, with the login it names.
#[derive(Debug, Clone)]
pub struct Found {
    /// `true` for a stack, `false` for an ESC environment.
    pub stack: bool,
    pub project: String,
    pub name: String,
    pub login: Option<Login>,
}

/// What `adopt` made of an org.
#[derive(Debug, Clone, Serialize)]
pub struct Adopted {
    /// The config, as YAML with comments.
    pub config: String,
    /// Targets the config lists.
    pub adopted: Vec<String>,
    /// What the config does not say, each with why.
    pub not_expressed: Vec<String>,
    /// Faults `doctor` finds in what was adopted, by target.
    pub findings: Vec<String>,
}

/// `Role name` for a built-in role, else the role definition's GUID.
fn role_of(role_definition_id: &str) -> String {
    let guid = role_definition_id
        .rsplit('/')
        .next()
        .unwrap_or(role_definition_id)
        .to_ascii_lowercase();
    BUILT_IN_ROLES
        .iter()
        .find(|(_, id)| *id == guid)
        .map_or(guid.clone(), |(name, _)| (*name).to_owned())
}

fn has(holder: &Holder, c: &crate::credential::FederatedCredential) -> bool {
    holder.credentials.iter().any(|o| {
        o.subject
            .as_deref()
            .is_some_and(|s| c.accepts(&o.issuer, s, &o.audiences))
    })
}

/// An entry being written: one holder, one project, one kind, one set of operations
/// or subject attributes.
#[derive(Default)]
struct Entry {
    names: Vec<String>,
}

/// An app of the tenant that trusts the org's issuer, though no stack or environment
/// names it: its client id, name, and the subjects it trusts.
#[derive(Debug, Clone)]
pub struct Stray {
    pub app_id: String,
    pub display_name: String,
    pub subjects: Vec<String>,
}

/// Describe the org's set-up. `holders` are the apps read, by client id; `strays`
/// the other apps that trust the issuer; `tenant` is the tenant they were read in;
/// `now` is Unix seconds.
pub fn describe(
    org: &str,
    issuer: &Issuer,
    tenant: &str,
    found: &[Found],
    holders: &BTreeMap<String, Holder>,
    strays: &[Stray],
    now: i64,
) -> Result<Adopted> {
    let mut not_expressed = Vec::new();
    for s in strays {
        not_expressed.push(format!(
            "app {} ({}) trusts {} subject(s) of this issuer, but no stack or environment of {org} names it: {}; left as it is",
            s.app_id,
            s.display_name,
            s.subjects.len(),
            s.subjects.joined(", ")
        ));
    }
    let mut findings = Vec::new();
    let mut adopted = Vec::new();
    let mut tenants = std::collections::BTreeSet::new();
    let mut subscriptions = std::collections::BTreeSet::new();
    // (holder, project, kind, form) → entry; kind: 0 stacks, 1 environments.
    let mut entries: BTreeMap<(String, String, u8, String), Entry> = BTreeMap::new();
    let mut used_credentials: BTreeMap<String, Vec<String>> = BTreeMap::new();

    for f in found {
        let what = if f.stack { "stack" } else { "environment" };
        let label = format!("{what} {org}/{}/{}", f.project, f.name);
        let Some(login) = &f.login else { continue };
        let Some(client_id) = login.client_id.as_deref() else {
            not_expressed.push(format!("{label}: its Azure login names no client id"));
            continue;
        };
        let Some(holder) = holders.get(client_id) else {
            not_expressed.push(format!(
                "{label}: client id {client_id} names no app in tenant {tenant}"
            ));
            continue;
        };
        let target = if f.stack {
            TargetSpec::Deployment {
                org: org.to_owned(),
                project: f.project.clone(),
                stack: f.name.clone(),
                operations: None,
                issuer: Some(issuer.to_string()),
            }
            .build()?
            .0
        } else {
            match doctor::env_target(org, &f.project, &f.name, &login.subject_attributes) {
                Ok(t) => t,
                Err(e) => {
                    not_expressed.push(format!("{label}: {e}; left out"));
                    continue;
                }
            }
        };
        let seen = Seen {
            login: Some(login.clone()),
            target_exists: true,
            holder: Some(holder.clone()),
            tenant: tenant.to_owned(),
            unreadable: Vec::new(),
        };
        for finding in doctor::assess(&target, issuer, &seen, now)?.findings {
            if finding.severity == Severity::Fault {
                findings.push(format!("{label}: {} [{}]", finding.message, finding.kind));
            }
        }
        let wanted = target.credentials(issuer)?.credentials;
        let present: Vec<bool> = wanted.iter().map(|c| has(holder, c)).collect();
        if !present.iter().any(|p| *p) {
            not_expressed.push(format!(
                "{label}: app {} holds no credential it can use; left out",
                holder.app_id
            ));
            continue;
        }
        used_credentials
            .entry(holder.app_id.clone())
            .or_default()
            .extend(
                wanted
                    .iter()
                    .filter(|c| has(holder, c))
                    .map(|c| c.subject.clone()),
            );
        if let Some(t) = &login.tenant_id {
            tenants.insert(t.to_ascii_lowercase());
        }
        if let Some(s) = &login.subscription_id {
            subscriptions.insert(s.to_ascii_lowercase());
        }
        let form = match &target {
            Target::Deployment(_) => Operation::ALL
                .iter()
                .zip(&present)
                .filter(|(_, p)| **p)
                .map(|(op, _)| op.as_str())
                .collect::<Vec<_>>()
                .joined(","),
            Target::Esc(_) => login.subject_attributes.joined(","),
        };
        entries
            .entry((
                holder.app_id.clone(),
                f.project.clone(),
                u8::from(!f.stack),
                form,
            ))
            .or_default()
            .names
            .push(f.name.clone());
        adopted.push(label);
    }

    // Credentials no adopted target uses stay as they are; say which.
    for (app_id, holder) in holders {
        let used = used_credentials.get(app_id);
        for c in &holder.credentials {
            let subject = c.subject.clone().unwrap_or_default();
            if used.is_some_and(|u| u.contains(&subject)) {
                continue;
            }
            let why = if c.issuer == issuer.as_str() {
                "no adopted stack or environment uses it"
            } else {
                "another issuer than Pulumi's"
            };
            not_expressed.push(format!(
                "app {app_id}: credential `{}` ({} / {subject}): {why}; left as it is",
                c.name, c.issuer
            ));
        }
    }

    let mut y = String::new();
    let _ = writeln!(
        y,
        "# The set-up of {org} as it is, found by pulumi-azure-oidc adopt. `apply` with this\n\
         # config changes nothing; `apply --take-ownership` marks the pinned apps and their\n\
         # credentials as managed, so that `destroy` may remove them later."
    );
    let _ = writeln!(y, "org: {}", yaml_str(org));
    if issuer.as_str() != crate::claims::PULUMI_CLOUD_ISSUER {
        let _ = writeln!(y, "issuer: {}", yaml_str(issuer.as_str()));
    }
    let one = |set: &std::collections::BTreeSet<String>, what: &str, ne: &mut Vec<String>| match set
        .len()
    {
        0 => None,
        1 => set.iter().next().cloned(),
        _ => {
            ne.push(format!(
                "the logins name {} {what}s ({}); the config holds one, so none is written",
                set.len(),
                set.iter().cloned().collect::<Vec<_>>().joined(", ")
            ));
            None
        }
    };
    let tenant_id = one(&tenants, "tenant", &mut not_expressed);
    let subscription = one(&subscriptions, "subscription", &mut not_expressed);
    if tenant_id.is_some() || subscription.is_some() {
        let _ = writeln!(y, "azure:");
        if let Some(t) = tenant_id {
            let _ = writeln!(y, "  tenant: {t}");
        }
        if let Some(s) = subscription {
            let _ = writeln!(y, "  subscription: {s}");
        }
    }
    for (kind, key) in [(0u8, "deployments"), (1u8, "esc")] {
        let mine: Vec<_> = entries
            .iter()
            .filter(|((_, _, k, _), _)| *k == kind)
            .collect();
        if mine.is_empty() {
            continue;
        }
        let _ = writeln!(y, "{key}:");
        for ((app_id, project, _, form), entry) in mine {
            let holder = &holders[app_id];
            let _ = writeln!(y, "  - project: {}", yaml_str(project));
            let list = if kind == 0 { "stacks" } else { "envs" };
            let names: Vec<String> = entry.names.iter().map(|n| yaml_str(n)).collect();
            let _ = writeln!(y, "    {list}: [{}]", names.joined(", "));
            if kind == 0 && form.split(',').count() < Operation::ALL.len() {
                let _ = writeln!(y, "    operations: [{}]", form.replace(',', ", "));
            }
            if kind == 1 {
                let attrs: Vec<String> = form
                    .split(',')
                    .filter(|a| !a.is_empty())
                    .map(yaml_str)
                    .collect();
                let _ = writeln!(y, "    subjectAttributes: [{}]", attrs.joined(", "));
            }
            match &holder.identity_id {
                Some(id) => {
                    let _ = writeln!(
                        y,
                        "    holder: {{ managedIdentity: {{ id: {} }} }}   # client id {}",
                        yaml_str(id),
                        holder.app_id
                    );
                }
                None => {
                    let _ = writeln!(
                        y,
                        "    holder: {{ clientId: {} }}   # {}",
                        holder.app_id,
                        holder.display_name.replace('\n', " ")
                    );
                }
            }
            let mut roles: Vec<(String, String)> = holder
                .role_assignments
                .iter()
                .map(|a| (role_of(&a.role_definition_id), a.scope.clone()))
                .collect();
            roles.sort();
            roles.dedup();
            if !roles.is_empty() {
                let _ = writeln!(y, "    roles:");
                for (role, scope) in roles {
                    let _ = writeln!(
                        y,
                        "      - {{ role: {}, scope: {} }}",
                        yaml_str(&role),
                        yaml_str(&scope)
                    );
                }
            }
        }
    }
    if entries.is_empty() {
        let _ = writeln!(
            y,
            "# Nothing to adopt: no stack or environment logs in through an app this\n# tenant holds."
        );
    }
    for (title, lines) in [
        (
            "What doctor finds wrong (described as it is, not repaired)",
            &findings,
        ),
        ("Not in this config", &not_expressed),
    ] {
        if lines.is_empty() {
            continue;
        }
        let _ = writeln!(y, "\n# {title}:");
        for l in lines {
            let _ = writeln!(y, "#   - {}", l.replace('\n', " "));
        }
    }
    Ok(Adopted {
        config: y,
        adopted,
        not_expressed,
        findings,
    })
}

/// A YAML scalar: plain when it is safe, else double-quoted JSON (which is YAML).
fn yaml_str(value: &str) -> String {
    let plain = !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c))
        && !value.starts_with(['-', '.'])
        && !matches!(
            value.to_ascii_lowercase().as_str(),
            "true" | "false" | "null" | "yes" | "no" | "on" | "off" | "~"
        )
        && value.parse::<f64>().is_err();
    if plain {
        value.to_owned()
    } else {
        crate::json_text::compact(value).unwrap_or_else(|_| "\"\"".to_owned())
    }
}
