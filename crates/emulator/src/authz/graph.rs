//! Microsoft Graph's authorization of app-only callers: the app roles its service
//! principal defines, the roles a caller's token carries, and what each role lets it do
//! to applications, service principals, their owners and app role assignments.
//!
//! Sources (microsoftgraph/microsoft-graph-docs-contrib): `concepts/permissions-reference.md`
//! (the roles; `Application.ReadWrite.OwnedBy` manages only what the caller owns,
//! ownership being the object's `owners`), `api-reference/v1.0/api/application-post-applications.md`
//! (`AppRegistration.Create` is the least permission to create an app),
//! `application-post-owners.md` ("Application.ReadWrite.OwnedBy will not be sufficient to
//! add another owner"), `application-delete-owners.md` (OwnedBy may remove one),
//! `application-list-owners.md`,
//! `serviceprincipal-post-approleassignedto.md` (granting needs
//! `AppRoleAssignment.ReadWrite.All` with `Application.Read.All` or `Directory.Read.All`);
//! field-notes-2026-12.md §6 (the refusal, 403 `Authorization_RequestDenied`
//! "Insufficient privileges to complete the operation.").

use axum::http::StatusCode;
use axum::response::Response;

use super::{Base, same_object};
use crate::http::{Req, graph_error};
use crate::shared::Grant;
use crate::state::{Application, Directory, ServicePrincipal};

/// One app role of Microsoft Graph (an application permission).
#[derive(Debug)]
pub(crate) struct AppRole {
    pub(crate) id: &'static str,
    pub(crate) value: &'static str,
    pub(crate) display_name: &'static str,
    pub(crate) description: &'static str,
}

pub(crate) const APPLICATION_READ_ALL: &str = "Application.Read.All";
pub(crate) const APPLICATION_READWRITE_ALL: &str = "Application.ReadWrite.All";
pub(crate) const APPLICATION_READWRITE_OWNEDBY: &str = "Application.ReadWrite.OwnedBy";
pub(crate) const APPROLEASSIGNMENT_READWRITE_ALL: &str = "AppRoleAssignment.ReadWrite.All";
pub(crate) const DIRECTORY_READ_ALL: &str = "Directory.Read.All";
pub(crate) const APPREGISTRATION_CREATE: &str = "AppRegistration.Create";

/// The app roles of Microsoft Graph the emulator knows: the ones that govern
/// applications and service principals. Ids and texts as `permissions-reference.md`
/// gives them (its per-permission tables with "Identifier" rows; the older version's
/// table for the texts of `Application.Read.All` and `Application.ReadWrite.All`),
/// except where marked. That reference also says `Application.ReadWrite.OwnedBy` may
/// list every application and service principal.
pub(crate) const APP_ROLES: &[AppRole] = &[
    AppRole {
        id: "9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30",
        value: APPLICATION_READ_ALL,
        display_name: "Read applications",
        description: "Allows the app to read applications and service principals without a signed-in user.",
    },
    AppRole {
        id: "1bfefb4e-e0b5-418b-a88f-73c46d2cc8e9",
        value: APPLICATION_READWRITE_ALL,
        display_name: "Read and write all apps",
        description: "Allows the calling app to create, and manage (read, update, update application secrets and delete) applications and service principals without a signed-in user.  Does not allow management of consent grants or application assignments to users or groups.",
    },
    AppRole {
        id: "18a4783c-866b-4cc7-a460-3d5e5662c884",
        value: APPLICATION_READWRITE_OWNEDBY,
        display_name: "Manage apps that this app creates or owns",
        description: "Allows the app to create other applications, and fully manage those applications (read, update, update application secrets and delete), without a signed-in user.  It cannot update any apps that it is not an owner of.",
    },
    AppRole {
        id: "06b708a9-e830-4db3-a914-8e69da51d44f",
        value: APPROLEASSIGNMENT_READWRITE_ALL,
        display_name: "Manage app permission grants and app role assignments",
        description: "Allows the app to manage permission grants for application permissions to any API (including Microsoft Graph) and application assignments for any app, without a signed-in user.",
    },
    AppRole {
        // The texts of this role and the next are the emulator's, not checked against
        // the reference.
        id: "7ab1d382-f21e-4acd-a863-ba3e13f7da61",
        value: DIRECTORY_READ_ALL,
        display_name: "Read directory data",
        description: "Allows the app to read data in your organization's directory, such as users, groups and apps, without a signed-in user.",
    },
    AppRole {
        // ASSUMPTION: the id. The permissions reference available here predates this
        // permission, and no public source for its id was found; this GUID is the
        // emulator's own. Scripts must look roles up by value (as the tool's do).
        id: "db72d6c1-9bd9-4b2a-9c3f-0e0a6c1d5e42",
        value: APPREGISTRATION_CREATE,
        display_name: "Create application registrations",
        description: "Allows the app to create application registrations without a signed-in user.",
    },
];

/// What a token of this base carries without any grant.
fn implicit_roles(base: Base) -> &'static [&'static str] {
    match base {
        Base::Full => &[APPLICATION_READWRITE_ALL, APPROLEASSIGNMENT_READWRITE_ALL],
        Base::ReadOnly => &[APPLICATION_READ_ALL],
        Base::Granted | Base::Federated => &[],
    }
}

/// The `roles` of a Graph token issued now to `principal`: its base's and the values of
/// the Microsoft Graph app roles assigned to it, each once, in the order Graph's
/// service principal lists them (Entra documents no order; this one is stable).
pub(crate) fn token_roles(dir: &Directory, base: Base, principal: &str) -> Vec<String> {
    let graph = dir.graph_sp_id.as_str();
    let held = |role: &AppRole| {
        implicit_roles(base).contains(&role.value)
            || dir.app_role_assignments.values().any(|a| {
                same_object(&a.principal_id, principal)
                    && same_object(&a.resource_id, graph)
                    && a.app_role_id.eq_ignore_ascii_case(role.id)
            })
    };
    APP_ROLES
        .iter()
        .filter(|r| held(r))
        .map(|r| r.value.to_owned())
        .collect()
}

/// Graph's refusal of a caller without the permission an operation needs.
pub(crate) fn denied(req: &Req) -> Response {
    graph_error(
        req,
        StatusCode::FORBIDDEN,
        "Authorization_RequestDenied",
        "Insufficient privileges to complete the operation.",
    )
}

/// What one token may do, judged as Graph judges app-only tokens: by the roles the
/// token carries (fixed when it was issued; a new grant needs a new token) and, for
/// `Application.ReadWrite.OwnedBy`, by the target's owners.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Judge<'a> {
    grant: &'a Grant,
}

impl<'a> Judge<'a> {
    pub(crate) fn new(grant: &'a Grant) -> Self {
        Self { grant }
    }

    fn has(&self, role: &str) -> bool {
        self.grant
            .roles
            .iter()
            .any(|r| r.eq_ignore_ascii_case(role))
    }

    fn owns(&self, owners: &[String]) -> bool {
        owners.iter().any(|o| same_object(o, &self.grant.object_id))
    }

    /// Reading applications and service principals (get, list, filter, owners, app role
    /// assignments).
    pub(crate) fn may_read(&self) -> bool {
        self.grant.base == Base::Federated
            || [
                APPLICATION_READ_ALL,
                APPLICATION_READWRITE_OWNEDBY,
                APPLICATION_READWRITE_ALL,
                DIRECTORY_READ_ALL,
            ]
            .iter()
            .any(|r| self.has(r))
    }

    /// Creating an application (the creator becomes its owner).
    pub(crate) fn may_create_app(&self) -> bool {
        [
            APPREGISTRATION_CREATE,
            APPLICATION_READWRITE_OWNEDBY,
            APPLICATION_READWRITE_ALL,
        ]
        .iter()
        .any(|r| self.has(r))
    }

    /// Changing or deleting an application, or its federated credentials.
    pub(crate) fn may_manage_app(&self, app: &Application) -> bool {
        self.has(APPLICATION_READWRITE_ALL)
            || (self.has(APPLICATION_READWRITE_OWNEDBY) && self.owns(&app.owners))
    }

    /// Creating the service principal of `app`.
    pub(crate) fn may_create_sp_for(&self, app: &Application) -> bool {
        self.may_manage_app(app)
    }

    /// Changing or deleting a service principal: the caller owns it or its app.
    pub(crate) fn may_manage_sp(&self, sp: &ServicePrincipal, dir: &Directory) -> bool {
        if self.has(APPLICATION_READWRITE_ALL) {
            return true;
        }
        self.has(APPLICATION_READWRITE_OWNEDBY)
            && (self.owns(&sp.owners)
                || dir
                    .app_by_app_id(&sp.app_id)
                    .is_some_and(|app| self.owns(&app.owners)))
    }

    /// Adding an owner to an application (removing one is `may_manage_app`).
    pub(crate) fn may_add_owners(&self) -> bool {
        self.has(APPLICATION_READWRITE_ALL)
    }

    /// Granting and revoking app roles.
    pub(crate) fn may_assign_app_roles(&self) -> bool {
        self.has(APPROLEASSIGNMENT_READWRITE_ALL) && self.may_read()
    }
}
