//! The diff: (plan, observed state) → ordered changes. Pure.
//!
//! Observed state is plain data, shaped like what the Graph, ARM and Pulumi Cloud
//! list calls return. Ownership rules (DESIGN §4): apps are matched by `uniqueName`;
//! a credential is ours when its description carries [`MANAGED_MARKER`] or its name is
//! one the plan uses; credentials somebody else made are reported and kept unless the
//! caller asks to prune them.

use crate::credential::{FederatedCredential, MANAGED_MARKER};
use crate::error::{Error, Result};
use crate::hash::{HashMap, HashSet};
use crate::join::Joined;
use crate::plan::{AppPlan, MANAGED_TAG, MAX_CREDENTIALS_PER_APP, Plan};
use crate::roles::RoleGrant;
use crate::target::Target;
use serde::Serialize;

pub use crate::observed::{
    ObservedApp, ObservedCredential, ObservedDeploymentSettings, ObservedEscEnvironment,
    ObservedRoleAssignment, ObservedState,
};

/// Options of the diff.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DiffOptions {
    /// Delete credentials this tool did not create when they are in the way or in a
    /// managed app, and delete managed apps the plan no longer uses.
    pub prune: bool,
    /// Mark the existing apps a config pins (`holder:`) and the credentials in them
    /// that the plan uses as this tool's, so that `destroy` may later remove them.
    pub take_ownership: bool,
}

/// One write, in the order it must happen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Change {
    CreateApp {
        app: String,
        display_name: String,
        tags: Vec<String>,
    },
    UpdateApp {
        app: String,
        display_name: String,
        tags: Vec<String>,
    },
    CreateServicePrincipal {
        app: String,
    },
    DeleteCredential {
        app: String,
        name: String,
        reason: String,
    },
    UpdateCredential {
        app: String,
        credential: FederatedCredential,
        reason: String,
    },
    CreateCredential {
        app: String,
        credential: FederatedCredential,
    },
    CreateRoleAssignment {
        app: String,
        role: String,
        scope: String,
        role_definition_id: String,
    },
    DeleteRoleAssignment {
        app: String,
        name: String,
        scope: String,
        role_definition_id: String,
    },
    ConfigureDeploymentSettings {
        app: String,
        org: String,
        project: String,
        stack: String,
    },
    WriteEscEnvironment {
        app: String,
        org: String,
        project: String,
        env: String,
    },
    DeleteApp {
        app: String,
        reason: String,
    },
    /// Create a user-assigned managed identity (its place is in the plan).
    CreateIdentity {
        app: String,
        location: String,
        resource_group: String,
        tags: Vec<String>,
    },
    /// Put the plan's tags on an existing identity.
    UpdateIdentity {
        app: String,
        tags: Vec<String>,
    },
    /// Delete a managed identity this tool made (with its credentials and roles).
    DeleteIdentity {
        app: String,
        id: String,
        reason: String,
    },
}

impl Change {
    /// The app the change belongs to (its uniqueName label); each app's changes run in
    /// order, apart from other apps'.
    pub fn app(&self) -> &str {
        match self {
            Change::CreateApp { app, .. }
            | Change::UpdateApp { app, .. }
            | Change::CreateServicePrincipal { app }
            | Change::DeleteCredential { app, .. }
            | Change::UpdateCredential { app, .. }
            | Change::CreateCredential { app, .. }
            | Change::CreateRoleAssignment { app, .. }
            | Change::DeleteRoleAssignment { app, .. }
            | Change::ConfigureDeploymentSettings { app, .. }
            | Change::WriteEscEnvironment { app, .. }
            | Change::DeleteApp { app, .. }
            | Change::CreateIdentity { app, .. }
            | Change::UpdateIdentity { app, .. }
            | Change::DeleteIdentity { app, .. } => app,
        }
    }

    /// One line for humans, such as `+ credential deploy-core-dev-preview in pulumi-oidc-…`.
    pub fn summary(&self) -> String {
        match self {
            Change::CreateApp {
                app, display_name, ..
            } => {
                format!("+ app {app} ({display_name})")
            }
            Change::UpdateApp { app, .. } => format!("~ app {app}: display name and tags"),
            Change::CreateServicePrincipal { app } => format!("+ service principal of {app}"),
            Change::DeleteCredential { app, name, reason } => {
                format!("- credential {name} in {app} ({reason})")
            }
            Change::UpdateCredential {
                app,
                credential,
                reason,
            } => format!("~ credential {} in {app} ({reason})", credential.name),
            Change::CreateCredential { app, credential } => {
                format!(
                    "+ credential {} in {app}: {}",
                    credential.name, credential.subject
                )
            }
            Change::CreateRoleAssignment {
                app, role, scope, ..
            } => format!("+ role {role} at {scope} for {app}"),
            Change::DeleteRoleAssignment {
                app, scope, name, ..
            } => {
                format!("- role assignment {name} at {scope} for {app}")
            }
            Change::ConfigureDeploymentSettings {
                app,
                org,
                project,
                stack,
            } => format!("~ deployment settings of {org}/{project}/{stack} → {app}"),
            Change::WriteEscEnvironment {
                app,
                org,
                project,
                env,
            } => format!("~ ESC environment {org}/{project}/{env} → {app}"),
            Change::DeleteApp { app, reason } => format!("- app {app} ({reason})"),
            Change::CreateIdentity {
                app,
                location,
                resource_group,
                ..
            } => {
                format!("+ managed identity {app} in resource group {resource_group} ({location})")
            }
            Change::UpdateIdentity { app, .. } => format!("~ managed identity {app}: tags"),
            Change::DeleteIdentity { app, reason, .. } => {
                format!("- managed identity {app} ({reason})")
            }
        }
    }
}

/// A credential somebody else made, found in a managed app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnmanagedCredential {
    pub app: String,
    pub name: String,
    pub subject: Option<String>,
    pub kept: bool,
    pub note: String,
}

/// The result of the diff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diff {
    pub changes: Vec<Change>,
    pub unmanaged: Vec<UnmanagedCredential>,
    pub notes: Vec<String>,
}

impl Diff {
    pub fn is_converged(&self) -> bool {
        self.changes.is_empty()
    }

    pub fn writes(&self) -> usize {
        self.changes.len()
    }
}

/// A managed identity's credentials have no description (ARM's
/// `FederatedIdentityCredentialProperties` holds issuer, subject and audiences only), so
/// for identities the description is never compared.
fn same_content(planned: &FederatedCredential, o: &ObservedCredential, described: bool) -> bool {
    o.issuer == planned.issuer
        && o.subject.as_deref() == Some(planned.subject.as_str())
        && o.audiences == [planned.audience.clone()]
        && (!described || o.description.as_deref() == Some(planned.description.as_str()))
}

fn is_managed(o: &ObservedCredential) -> bool {
    o.description
        .as_deref()
        .is_some_and(|d| d.contains(MANAGED_MARKER))
}

fn differences(c: &FederatedCredential, o: &ObservedCredential, described: bool) -> String {
    let mut what = Vec::new();
    if o.issuer != c.issuer {
        what.push("issuer");
    }
    if o.subject.as_deref() != Some(c.subject.as_str()) {
        what.push("subject");
    }
    if o.audiences != [c.audience.clone()] {
        what.push("audience");
    }
    if described && o.description.as_deref() != Some(c.description.as_str()) {
        what.push("description");
    }
    format!("{} differ", what.joined(", "))
}

/// Reconcile one app's credentials.
///
/// Existing credentials are matched to planned ones by issuer and subject first
/// (what Entra matches on, and unique per app), then by name; a credential that
/// already trusts the right subject is kept under whatever name it has, so renaming
/// never costs a delete and a create. Credentials this tool made that match nothing
/// are deleted; others are reported and kept unless `prune`.
fn credential_changes(
    app: &AppPlan,
    existing: &[ObservedCredential],
    label: &str,
    options: DiffOptions,
    foreign: bool,
    changes: &mut Vec<Change>,
    unmanaged: &mut Vec<UnmanagedCredential>,
) -> Result<()> {
    // In an app somebody else made, nothing of theirs is deleted or rewritten, and a
    // name that happens to equal a planned one does not make a credential ours.
    let options = if foreign {
        DiffOptions {
            prune: false,
            ..options
        }
    } else {
        options
    };
    // An identity carries no description to mark credentials with; one this tool made
    // (tagged) is this tool's alone, and so is every credential in it.
    let described = app.identity.is_none();
    let is_managed = |o: &ObservedCredential| (!described && !foreign) || is_managed(o);
    let update = |label: &str, o: &ObservedCredential, c: &FederatedCredential| {
        update(label, o, c, described)
    };
    let mut used = vec![false; existing.len()];
    let mut deletes = Vec::new();
    let mut updates = Vec::new();
    let mut creates = Vec::new();
    let same_subject = |c: &FederatedCredential, o: &ObservedCredential| {
        o.issuer == c.issuer && o.subject.as_deref() == Some(c.subject.as_str())
    };

    for c in &app.credentials {
        if let Some(i) = existing.iter().position(|o| same_subject(c, o)) {
            let o = &existing[i];
            used[i] = true;
            let audience_ok = o.audiences == [c.audience.clone()];
            let managed = is_managed(o) || (!foreign && o.name == c.name.as_str());
            match (audience_ok, managed) {
                (true, managed) => {
                    if managed && !same_content(c, o, described) {
                        updates.push(update(label, o, c));
                    }
                    // An identity's credentials have no description to mark: its
                    // tags alone make it this tool's.
                    if !managed && options.take_ownership && app.is_pinned() && described {
                        // Taking ownership: our marker goes into its description.
                        updates.push(update(label, o, c));
                    } else if !managed {
                        unmanaged.push(UnmanagedCredential {
                            app: label.to_owned(),
                            name: o.name.clone(),
                            subject: o.subject.clone(),
                            kept: true,
                            note: format!(
                                "already trusts what {} would; kept and used instead",
                                c.name
                            ),
                        });
                    }
                }
                (false, true) => updates.push(update(label, o, c)),
                (false, false) if options.prune => {
                    deletes.push(delete(
                        label,
                        o,
                        "not made by this tool; wrong audience; prune",
                    ));
                    creates.push(c.clone());
                }
                (false, false) => {
                    let audiences = match o.audiences.as_slice() {
                        [] => "none".to_owned(),
                        list => format!("`{}`", list.joined("`, `")),
                    };
                    return Err(Error::CredentialConflict(format!(
                        "app {label}: credential `{}` (not made by this tool) has the issuer and subject \
                         of planned credential `{}` but audience {audiences} instead of `{}`; Azure \
                         allows one credential per issuer and subject. Fix or delete it, or re-run with \
                         prune",
                        o.name, c.name, c.audience
                    )));
                }
            }
        } else if let Some(i) = existing
            .iter()
            .enumerate()
            .position(|(i, o)| !foreign && !used[i] && o.name == c.name.as_str())
        {
            // Our name, other content (a changed issuer, say): correct it in place.
            used[i] = true;
            updates.push(update(label, &existing[i], c));
        } else {
            creates.push(c.clone());
        }
    }
    for (o, used) in existing.iter().zip(&used) {
        if *used {
            continue;
        }
        if is_managed(o) {
            deletes.push(delete(label, o, "made by this tool, no longer in the plan"));
        } else if options.prune {
            unmanaged.push(UnmanagedCredential {
                app: label.to_owned(),
                name: o.name.clone(),
                subject: o.subject.clone(),
                kept: false,
                note: "not made by this tool; deleted because prune was requested".into(),
            });
            deletes.push(delete(label, o, "not made by this tool; prune"));
        } else {
            unmanaged.push(UnmanagedCredential {
                app: label.to_owned(),
                name: o.name.clone(),
                subject: o.subject.clone(),
                kept: true,
                note: "not made by this tool; kept (prune deletes it)".into(),
            });
        }
    }
    // A planned name can be held by a credential that is kept for another subject;
    // a new credential then takes a suffixed name instead of failing on the clash.
    let taken: HashSet<&str> = existing.iter().map(|o| o.name.as_str()).collect();
    let creates: Vec<FederatedCredential> = creates
        .into_iter()
        .map(|mut c| {
            if taken.contains(c.name.as_str()) {
                c.name = crate::names::CredentialName(crate::credential::with_hash_suffix(
                    c.name.as_str(),
                    &[&c.issuer, &c.subject, "renamed"],
                ));
            }
            c
        })
        .collect();
    let total = existing.len() - deletes.len() + creates.len();
    if total > MAX_CREDENTIALS_PER_APP {
        let kept_unmanaged = unmanaged
            .iter()
            .filter(|u| u.app == label && u.kept)
            .count();
        return Err(Error::CredentialLimitExceeded {
            app: format!(
                "{label} ({kept_unmanaged} kept credentials not made by this tool; prune deletes them)"
            ),
            count: total,
        });
    }
    // Deletes first, so the app never passes 20 on the way.
    changes.extend(deletes);
    changes.extend(updates);
    changes.extend(
        creates
            .into_iter()
            .map(|credential| Change::CreateCredential {
                app: label.to_owned(),
                credential,
            }),
    );
    Ok(())
}

fn update(label: &str, o: &ObservedCredential, c: &FederatedCredential, described: bool) -> Change {
    let mut credential = c.clone();
    let reason = differences(c, o, described);
    // The name is immutable: an update keeps the existing one.
    credential.name = crate::names::CredentialName(o.name.clone());
    Change::UpdateCredential {
        app: label.to_owned(),
        credential,
        reason,
    }
}

fn delete(label: &str, o: &ObservedCredential, reason: &str) -> Change {
    Change::DeleteCredential {
        app: label.to_owned(),
        name: o.name.clone(),
        reason: reason.to_owned(),
    }
}

/// Compute the ordered changes that take `observed` to `plan`.
pub fn diff(plan: &Plan, observed: &ObservedState, options: DiffOptions) -> Result<Diff> {
    let mut changes = Vec::new();
    let mut unmanaged = Vec::new();
    let mut notes = Vec::new();
    let mut late = Vec::new();
    // Indexes, so a plan of thousands of apps and stacks diffs in linear time.
    let apps_by_name: HashMap<&str, &ObservedApp> = observed
        .apps
        .iter()
        .filter_map(|o| o.unique_name.as_deref().map(|u| (u, o)))
        .collect();
    let settings: HashMap<(&str, &str, &str), &ObservedDeploymentSettings> = observed
        .deployment_settings
        .iter()
        .map(|s| ((s.org.as_str(), s.project.as_str(), s.stack.as_str()), s))
        .collect();
    let environments: HashMap<(&str, &str, &str), &ObservedEscEnvironment> = observed
        .esc_environments
        .iter()
        .map(|s| ((s.org.as_str(), s.project.as_str(), s.env.as_str()), s))
        .collect();

    for app in &plan.apps {
        let found = apps_by_name.get(app.unique_name.as_str()).copied();
        if found.is_none() && !app.is_pinned() {
            creations(app, &mut changes, &mut late);
            continue;
        }
        let label = app.unique_name.clone();
        // An app a config pins is read, never made; it stays somebody else's unless
        // it carries our tags or this run takes ownership of it.
        let mut foreign = false;
        if app.is_pinned() {
            let Some(o) = found else {
                return Err(pinned_but_missing(app));
            };
            let owned = app.tags.iter().all(|t| o.tags.contains(t));
            if !owned && options.take_ownership {
                changes.push(if app.identity.is_some() {
                    Change::UpdateIdentity {
                        app: label.clone(),
                        tags: app.tags.clone(),
                    }
                } else {
                    Change::UpdateApp {
                        app: label.clone(),
                        display_name: o.display_name.clone(),
                        tags: app.tags.clone(),
                    }
                });
            }
            foreign = !owned && !options.take_ownership;
        }
        match (found, &app.identity) {
            _ if app.is_pinned() => {}
            (None, Some(p)) => changes.push(Change::CreateIdentity {
                app: label.clone(),
                location: p.location.clone(),
                resource_group: p.resource_group.clone(),
                tags: app.tags.clone(),
            }),
            (Some(o), Some(_)) => {
                if !app.tags.iter().all(|t| o.tags.contains(t)) {
                    changes.push(Change::UpdateIdentity {
                        app: label.clone(),
                        tags: app.tags.clone(),
                    });
                }
            }
            (None, None) => changes.push(Change::CreateApp {
                app: label.clone(),
                display_name: app.display_name.clone(),
                tags: app.tags.clone(),
            }),
            (Some(o), None) => {
                let tags_ok = app.tags.iter().all(|t| o.tags.contains(t));
                if o.display_name != app.display_name || !tags_ok {
                    changes.push(Change::UpdateApp {
                        app: label.clone(),
                        display_name: app.display_name.clone(),
                        tags: app.tags.clone(),
                    });
                }
            }
        }
        // An identity comes with its principal.
        if app.identity.is_none()
            && found
                .and_then(|o| o.service_principal_id.as_ref())
                .is_none()
        {
            changes.push(Change::CreateServicePrincipal { app: label.clone() });
        }

        let existing: &[ObservedCredential] = found
            .map(|o| o.federated_identity_credentials.as_slice())
            .unwrap_or(&[]);
        credential_changes(
            app,
            existing,
            &label,
            options,
            foreign,
            &mut changes,
            &mut unmanaged,
        )?;

        let role_options = if foreign {
            DiffOptions {
                prune: false,
                ..options
            }
        } else {
            options
        };
        role_changes(app, found, &label, role_options, &mut changes, &mut notes);

        for t in &app.targets {
            match &t.target {
                Target::Deployment(d) => {
                    let current = settings
                        .get(&(d.org.as_str(), d.project.as_str(), d.stack.as_str()))
                        .copied();
                    let ok = match (current, found) {
                        (Some(s), Some(o)) => {
                            s.client_id.as_deref() == Some(o.app_id.as_str())
                                && opt_eq(&s.tenant_id, &plan.azure.tenant)
                                && opt_eq(&s.subscription_id, &plan.azure.subscription)
                        }
                        _ => false,
                    };
                    if !ok {
                        late.push(write_target(&label, &t.target));
                    }
                }
                Target::Esc(e) => {
                    let current = environments
                        .get(&(e.org.as_str(), e.env.project.as_str(), e.env.env.as_str()))
                        .copied();
                    let expected_attrs: Vec<String> = match &e.subject {
                        crate::target::EscSubjectForm::Default => Vec::new(),
                        crate::target::EscSubjectForm::Attributes { attributes, .. } => {
                            attributes.iter().map(|a| a.as_str().to_owned()).collect()
                        }
                    };
                    let ok = match (current, found) {
                        (Some(s), Some(o)) => {
                            s.client_id.as_deref() == Some(o.app_id.as_str())
                                && opt_eq(&s.tenant_id, &plan.azure.tenant)
                                && opt_eq(&s.subscription_id, &plan.azure.subscription)
                                && s.oidc == Some(true)
                                && s.subject_attributes == expected_attrs
                        }
                        _ => false,
                    };
                    if !ok {
                        late.push(write_target(&label, &t.target));
                    }
                }
            }
        }
    }
    changes.extend(late);

    let planned: HashSet<&str> = plan.apps.iter().map(|a| a.unique_name.as_str()).collect();
    let org_tag = format!("{MANAGED_TAG}:org:{}", plan.org);
    for o in &observed.apps {
        let ours = o.tags.iter().any(|t| t == MANAGED_TAG) && o.tags.contains(&org_tag);
        let in_plan = o
            .unique_name
            .as_deref()
            .is_some_and(|u| planned.contains(u));
        if ours && !in_plan {
            let name = o.unique_name.clone().unwrap_or_else(|| o.id.clone());
            if let (true, Some(id)) = (options.prune, &o.identity_id) {
                changes.push(Change::DeleteIdentity {
                    app: name,
                    id: id.clone(),
                    reason: "managed by this tool, no longer in the plan; prune".into(),
                });
            } else if options.prune {
                changes.push(Change::DeleteApp {
                    app: name,
                    reason: "managed by this tool, no longer in the plan; prune".into(),
                });
            } else {
                notes.push(format!(
                    "{} {name} ({}) is managed by this tool but no longer in the plan; kept (prune deletes it)",
                    if o.identity_id.is_some() { "managed identity" } else { "app" },
                    o.display_name
                ));
            }
        }
    }
    Ok(Diff {
        changes,
        unmanaged,
        notes,
    })
}

/// The changes that make `plan` exist in a tenant that has none of it: the diff
/// against nothing, without the code that compares. The request preview (`render
/// requests`, the page's "Requests an apply sends") runs only this.
pub fn first_changes(plan: &Plan) -> Result<Vec<Change>> {
    let mut changes = Vec::new();
    let mut late = Vec::new();
    for app in &plan.apps {
        if app.is_pinned() {
            return Err(pinned_but_missing(app));
        }
        creations(app, &mut changes, &mut late);
    }
    changes.extend(late);
    Ok(changes)
}

/// An app or identity that does not exist yet: it, its principal (an identity comes
/// with one), its credentials and role assignments; its stacks' and environments'
/// writes go to `late`, after every app's own changes.
fn creations(app: &AppPlan, changes: &mut Vec<Change>, late: &mut Vec<Change>) {
    let label = &app.unique_name;
    match &app.identity {
        Some(p) => changes.push(Change::CreateIdentity {
            app: label.clone(),
            location: p.location.clone(),
            resource_group: p.resource_group.clone(),
            tags: app.tags.clone(),
        }),
        None => {
            changes.push(Change::CreateApp {
                app: label.clone(),
                display_name: app.display_name.clone(),
                tags: app.tags.clone(),
            });
            changes.push(Change::CreateServicePrincipal { app: label.clone() });
        }
    }
    changes.extend(app.credentials.iter().map(|c| Change::CreateCredential {
        app: label.clone(),
        credential: c.clone(),
    }));
    changes.extend(app.roles.iter().map(|g| assign(label, g)));
    late.extend(app.targets.iter().map(|t| write_target(label, &t.target)));
}

fn assign(label: &str, g: &RoleGrant) -> Change {
    Change::CreateRoleAssignment {
        app: label.to_owned(),
        role: g.role.name.clone(),
        scope: g.scope.to_string(),
        role_definition_id: g.role_definition_id(),
    }
}

/// Point a stack's deployment settings or an ESC environment at the app.
fn write_target(label: &str, target: &Target) -> Change {
    match target {
        Target::Deployment(d) => Change::ConfigureDeploymentSettings {
            app: label.to_owned(),
            org: d.org.to_string(),
            project: d.project.to_string(),
            stack: d.stack.to_string(),
        },
        Target::Esc(e) => Change::WriteEscEnvironment {
            app: label.to_owned(),
            org: e.org.to_string(),
            project: e.env.project.to_string(),
            env: e.env.env.to_string(),
        },
    }
}

/// A config pins an existing app or identity (`holder:`) the tenant does not have;
/// this tool never creates those.
fn pinned_but_missing(app: &AppPlan) -> Error {
    let message = match (&app.pinned_client_id, app.identity_id()) {
        (Some(client_id), _) => format!(
            "no app with client id {client_id} in the tenant: `holder` names an existing app, which this tool never creates"
        ),
        (None, id) => format!(
            "no managed identity {} in its resource group: `holder` names an existing identity, which this tool never creates",
            id.unwrap_or_default()
        ),
    };
    Error::InvalidConfig {
        message,
        location: None,
    }
}

fn opt_eq(observed: &Option<String>, planned: &Option<crate::roles::Guid>) -> bool {
    match planned {
        Some(g) => observed
            .as_deref()
            .is_some_and(|o| o.eq_ignore_ascii_case(g.as_str())),
        None => true,
    }
}

fn role_changes(
    app: &AppPlan,
    found: Option<&ObservedApp>,
    label: &str,
    options: DiffOptions,
    changes: &mut Vec<Change>,
    notes: &mut Vec<String>,
) {
    let assignments: &[ObservedRoleAssignment] =
        found.map(|o| o.role_assignments.as_slice()).unwrap_or(&[]);
    let principal = found.and_then(|o| o.service_principal_id.as_deref());
    let matches = |g: &RoleGrant, a: &ObservedRoleAssignment| {
        a.scope.eq_ignore_ascii_case(g.scope.as_str())
            && a.role_definition_id
                .to_ascii_lowercase()
                .ends_with(&format!("/roledefinitions/{}", g.role.id))
            && principal.is_some_and(|p| p.eq_ignore_ascii_case(&a.principal_id))
    };
    for g in &app.roles {
        if !assignments.iter().any(|a| matches(g, a)) {
            changes.push(assign(label, g));
        }
    }
    // Assignments of this app's principal that the plan no longer asks for. Only ones
    // this tool made (their name is the deterministic one) are removed; ones an admin
    // granted by hand are reported and kept unless pruning.
    for a in assignments {
        let Some(p) = principal.filter(|p| p.eq_ignore_ascii_case(&a.principal_id)) else {
            continue;
        };
        if app.roles.iter().any(|g| matches(g, a)) {
            continue;
        }
        let role_guid = a.role_definition_id.rsplit('/').next().unwrap_or_default();
        let ours = a
            .name
            .eq_ignore_ascii_case(&crate::roles::role_assignment_name(&a.scope, role_guid, p));
        if ours || options.prune {
            changes.push(Change::DeleteRoleAssignment {
                app: label.to_owned(),
                name: a.name.clone(),
                scope: a.scope.clone(),
                role_definition_id: a.role_definition_id.clone(),
            });
        } else {
            notes.push(format!(
                "app {label}: role assignment {} ({} at {}) was not made by this tool; kept (prune deletes it)",
                a.name, role_guid, a.scope
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::plan::plan;

    const SUB: &str = "0b1f6471-1bf0-4dda-aec3-cb9272f09590";

    fn the_plan() -> Plan {
        let text = format!(
            "org: contoso\nazure: {{tenant: {SUB}, subscription: {SUB}}}\ndeployments:\n  - project: core\n    stacks: [dev]\n    roles: [{{role: Contributor, scope: /subscriptions/{SUB}/resourceGroups/core-dev}}]\n"
        );
        plan(&Config::from_yaml(&text).unwrap()).unwrap()
    }

    #[test]
    fn a_first_apply_is_the_diff_against_nothing_and_refuses_a_pinned_app() {
        let p = the_plan();
        let against_nothing = diff(&p, &ObservedState::default(), DiffOptions::default()).unwrap();
        assert_eq!(first_changes(&p).unwrap(), against_nothing.changes);
        // Their order is `empty_state_creates_everything_in_order`'s.
        let pinned = format!(
            "org: contoso\nholder: {{ clientId: {SUB} }}\ndeployments:\n  - project: core\n    stacks: [dev]\n"
        );
        let p = plan(&Config::from_yaml(&pinned).unwrap()).unwrap();
        let first = first_changes(&p).unwrap_err().to_string();
        let against_nothing = diff(&p, &ObservedState::default(), DiffOptions::default())
            .unwrap_err()
            .to_string();
        assert_eq!(first, against_nothing);
        assert!(first.contains("no app with client id"), "{first}");
    }

    /// The observed state after a complete apply of `p`.
    fn converged(p: &Plan) -> ObservedState {
        let mut state = ObservedState::default();
        for (i, app) in p.apps.iter().enumerate() {
            let sp = format!("00000000-0000-0000-0000-00000000000{i}");
            state.apps.push(ObservedApp {
                id: format!("obj-{i}"),
                app_id: format!("client-{i}"),
                unique_name: Some(app.unique_name.clone()),
                display_name: app.display_name.clone(),
                tags: app.tags.clone(),
                federated_identity_credentials: app
                    .credentials
                    .iter()
                    .map(ObservedCredential::from)
                    .collect(),
                service_principal_id: Some(sp.clone()),
                role_assignments: app
                    .roles
                    .iter()
                    .map(|g| ObservedRoleAssignment {
                        name: g.assignment_name(&sp),
                        scope: g.scope.to_string(),
                        role_definition_id: g.role_definition_id(),
                        principal_id: sp.clone(),
                    })
                    .collect(),
                identity_id: None,
            });
            for t in &app.targets {
                if let Target::Deployment(d) = &t.target {
                    state.deployment_settings.push(ObservedDeploymentSettings {
                        org: d.org.to_string(),
                        project: d.project.to_string(),
                        stack: d.stack.to_string(),
                        client_id: Some(format!("client-{i}")),
                        tenant_id: Some(SUB.into()),
                        subscription_id: Some(SUB.into()),
                    });
                }
            }
        }
        state
    }

    #[test]
    fn empty_state_creates_everything_in_order() {
        let p = the_plan();
        let d = diff(&p, &ObservedState::default(), DiffOptions::default()).unwrap();
        let kinds: Vec<&str> = d
            .changes
            .iter()
            .map(|c| match c {
                Change::CreateApp { .. } => "app",
                Change::CreateServicePrincipal { .. } => "sp",
                Change::CreateCredential { .. } => "fic",
                Change::CreateRoleAssignment { .. } => "role",
                Change::ConfigureDeploymentSettings { .. } => "settings",
                _ => "other",
            })
            .collect();
        assert_eq!(
            kinds,
            ["app", "sp", "fic", "fic", "fic", "fic", "role", "settings"]
        );
    }

    #[test]
    fn converged_state_makes_no_changes() {
        let p = the_plan();
        let d = diff(&p, &converged(&p), DiffOptions::default()).unwrap();
        assert!(d.is_converged(), "{:?}", d.changes);
    }

    #[test]
    fn unmanaged_credentials_are_kept_unless_pruned() {
        let p = the_plan();
        let mut state = converged(&p);
        state.apps[0]
            .federated_identity_credentials
            .push(ObservedCredential {
                name: "hand-made".into(),
                issuer: "https://token.actions.githubusercontent.com".into(),
                subject: Some("repo:contoso/x:ref:refs/heads/main".into()),
                audiences: vec!["api://AzureADTokenExchange".into()],
                ..Default::default()
            });
        let d = diff(&p, &state, DiffOptions::default()).unwrap();
        assert!(d.is_converged());
        assert_eq!(d.unmanaged.len(), 1);
        assert!(d.unmanaged[0].kept);
        let d = diff(
            &p,
            &state,
            DiffOptions {
                prune: true,
                take_ownership: false,
            },
        )
        .unwrap();
        assert!(
            matches!(&d.changes[..], [Change::DeleteCredential { name, .. }] if name == "hand-made")
        );
    }

    #[test]
    fn changed_credential_is_updated_and_stale_managed_one_deleted() {
        let p = the_plan();
        let mut state = converged(&p);
        state.apps[0].federated_identity_credentials[0].audiences = vec!["azure:contoso".into()];
        let mut stale = state.apps[0].federated_identity_credentials[1].clone();
        stale.name = "deploy-core-old-update".into();
        stale.subject = Some(
            "pulumi:deploy:org:contoso:project:core:stack:old:operation:update:scope:write".into(),
        );
        state.apps[0].federated_identity_credentials.push(stale);
        let d = diff(&p, &state, DiffOptions::default()).unwrap();
        assert!(
            matches!(&d.changes[0], Change::DeleteCredential { name, .. } if name == "deploy-core-old-update")
        );
        assert!(
            matches!(&d.changes[1], Change::UpdateCredential { reason, .. } if reason == "audience differ")
        );
        assert_eq!(d.changes.len(), 2);
    }

    #[test]
    fn a_foreign_credential_with_another_audience_is_a_conflict_that_names_both() {
        let p = the_plan();
        let mut state = converged(&p);
        let planned = state.apps[0].federated_identity_credentials[0].clone();
        let foreign = &mut state.apps[0].federated_identity_credentials[0];
        foreign.name = "hand-made".into();
        foreign.description = None;
        foreign.audiences = vec!["azure:a".into(), "azure:b".into()];
        let err = diff(&p, &state, DiffOptions::default()).unwrap_err();
        assert_eq!(err.code(), crate::ErrorCode::CredentialConflict);
        let message = err.to_string();
        assert!(
            message.contains(&format!(
                "but audience `azure:a`, `azure:b` instead of `{}`",
                planned.audiences[0]
            )),
            "{message}"
        );
        state.apps[0].federated_identity_credentials[0]
            .audiences
            .clear();
        let message = diff(&p, &state, DiffOptions::default())
            .unwrap_err()
            .to_string();
        assert!(
            message.contains("but audience none instead of"),
            "{message}"
        );
    }

    #[test]
    fn full_app_with_unmanaged_credentials_is_an_error() {
        let p = the_plan();
        let mut state = converged(&p);
        state.apps[0].federated_identity_credentials.truncate(0);
        for i in 0..17 {
            state.apps[0]
                .federated_identity_credentials
                .push(ObservedCredential {
                    name: format!("other-{i}"),
                    issuer: "https://example.com".into(),
                    subject: Some(format!("s{i}")),
                    audiences: vec!["x".into()],
                    ..Default::default()
                });
        }
        let err = diff(&p, &state, DiffOptions::default()).unwrap_err();
        assert_eq!(err.code(), crate::ErrorCode::CredentialLimitExceeded);
    }

    #[test]
    fn a_credential_under_another_name_is_kept_not_renamed() {
        let p = the_plan();
        let mut state = converged(&p);
        state.apps[0].federated_identity_credentials[0].name = "old-name".into();
        let d = diff(&p, &state, DiffOptions::default()).unwrap();
        assert!(d.is_converged(), "{:?}", d.changes);
    }

    #[test]
    fn only_role_assignments_this_tool_made_are_removed() {
        let p = the_plan();
        let mut state = converged(&p);
        let sp = state.apps[0].service_principal_id.clone().unwrap();
        let reader = format!(
            "/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7"
        );
        // One granted by hand (random name), one this tool made earlier (deterministic name).
        state.apps[0].role_assignments.push(ObservedRoleAssignment {
            name: "11111111-2222-3333-4444-555555555555".into(),
            scope: format!("/subscriptions/{SUB}"),
            role_definition_id: reader.clone(),
            principal_id: sp.clone(),
        });
        let scope = format!("/subscriptions/{SUB}/resourceGroups/old");
        state.apps[0].role_assignments.push(ObservedRoleAssignment {
            name: crate::roles::role_assignment_name(
                &scope,
                "acdd72a7-3385-48ef-bd42-f606fba81ae7",
                &sp,
            ),
            scope,
            role_definition_id: reader,
            principal_id: sp,
        });
        let d = diff(&p, &state, DiffOptions::default()).unwrap();
        assert!(
            matches!(&d.changes[..], [Change::DeleteRoleAssignment { scope, .. }] if scope.ends_with("/old")),
            "{:?}",
            d.changes
        );
        assert!(
            d.notes
                .iter()
                .any(|n| n.contains("11111111-2222-3333-4444-555555555555"))
        );
        let d = diff(
            &p,
            &state,
            DiffOptions {
                prune: true,
                take_ownership: false,
            },
        )
        .unwrap();
        assert_eq!(d.changes.len(), 2);
    }

    #[test]
    fn a_stale_credential_with_our_name_is_corrected_in_place() {
        let p = the_plan();
        let mut state = converged(&p);
        state.apps[0].federated_identity_credentials[0].issuer =
            "https://old.example.com/oidc".into();
        let d = diff(&p, &state, DiffOptions::default()).unwrap();
        assert!(
            matches!(&d.changes[..], [Change::UpdateCredential { reason, .. }] if reason == "issuer differ"),
            "{:?}",
            d.changes
        );
    }
}
