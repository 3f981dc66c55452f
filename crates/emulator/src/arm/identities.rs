//! User-assigned managed identities (`Microsoft.ManagedIdentity/userAssignedIdentities`)
//! and their federated identity credentials, as ARM serves them. This module reads the
//! path and the api-version, checks the caller may write, and hands the request to
//! `identity` (the identities themselves, and their service principals in the emulated
//! directory) or `credentials` (their federated credentials, one write at a time and
//! within the documented request rates). `rules` holds what a request must meet.
//!
//! Shapes: Azure/azure-rest-api-specs
//! `specification/msi/resource-manager/Microsoft.ManagedIdentity/ManagedIdentity/stable/2024-11-30/ManagedIdentity.json`
//! and its examples; the answers' ids (`resourcegroups` in lower case), `tags: {}`, the
//! `location` header of a 201, DELETE's empty 200 with
//! `x-ms-ratelimit-remaining-subscription-deletes`, as recorded in Azure/azure-cli
//! `src/azure-cli/azure/cli/command_modules/identity/tests/latest/recordings/test_identity_management.yaml`
//! and `test_federated_identity_credential.yaml`.
//!
//! Any resource group whose name passes ARM's rules counts as existing: the emulator
//! serves no resource groups of its own. Any subscription id is accepted, as for role
//! assignments.

mod credentials;
mod identity;
mod rules;

use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use serde_json::Value;

use super::{Handled, method_not_allowed, missing_api_version, unknown_resource_type};
use crate::authz::arm::{Access, judge};
use crate::http::{Req, arm_error, arm_json};
use crate::shared::{Grant, Shared, lock};
use rules::{Api, Refusal, SUPPORTED_API_VERSIONS, valid_resource_group};

const NAMESPACE: &str = "Microsoft.ManagedIdentity";
const IDENTITIES: &str = "userAssignedIdentities";
const CREDENTIALS: &str = "federatedIdentityCredentials";
const IDENTITY_TYPE: &str = "Microsoft.ManagedIdentity/userAssignedIdentities";
const CREDENTIAL_TYPE: &str =
    "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials";

/// Whether the path is under `providers/Microsoft.ManagedIdentity`.
pub(super) fn is_ours(req: &Req) -> bool {
    req.segments
        .windows(2)
        .any(|w| w[0].eq_ignore_ascii_case("providers") && w[1].eq_ignore_ascii_case(NAMESPACE))
}

/// Where an identity lives, with the names as the request spelled them.
#[derive(Debug, Clone)]
struct IdentityPath {
    subscription: String,
    resource_group: String,
    name: String,
}

impl IdentityPath {
    /// The resource id as ARM writes it in answers (`resourcegroups` in lower case).
    fn id(&self) -> String {
        format!(
            "/subscriptions/{}/resourcegroups/{}/providers/{IDENTITY_TYPE}/{}",
            self.subscription, self.resource_group, self.name
        )
    }

    /// The key the directory holds it under: names compare without regard to case.
    fn key(&self) -> String {
        self.id().to_ascii_lowercase()
    }
}

#[derive(Debug)]
enum Target {
    BySubscription(String),
    ByGroup(String, String),
    Identity(IdentityPath),
    Credentials(IdentityPath),
    Credential(IdentityPath, String),
}

impl Target {
    fn resource_group(&self) -> Option<&str> {
        match self {
            Self::BySubscription(_) => None,
            Self::ByGroup(_, rg) => Some(rg),
            Self::Identity(p) | Self::Credentials(p) | Self::Credential(p, _) => {
                Some(&p.resource_group)
            }
        }
    }

    fn identity(&self) -> Option<&IdentityPath> {
        match self {
            Self::Identity(p) | Self::Credentials(p) | Self::Credential(p, _) => Some(p),
            _ => None,
        }
    }
}

fn parse(segments: &[String]) -> Option<Target> {
    let segs: Vec<&str> = segments.iter().map(String::as_str).collect();
    let is = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
    match segs.as_slice() {
        [s, sub, p, ns, t]
            if is(s, "subscriptions")
                && is(p, "providers")
                && is(ns, NAMESPACE)
                && is(t, IDENTITIES) =>
        {
            Some(Target::BySubscription((*sub).to_owned()))
        }
        [s, sub, g, rg, p, ns, t, rest @ ..]
            if is(s, "subscriptions")
                && is(g, "resourceGroups")
                && is(p, "providers")
                && is(ns, NAMESPACE)
                && is(t, IDENTITIES) =>
        {
            let path = |name: &str| IdentityPath {
                subscription: (*sub).to_owned(),
                resource_group: (*rg).to_owned(),
                name: name.to_owned(),
            };
            match rest {
                [] => Some(Target::ByGroup((*sub).to_owned(), (*rg).to_owned())),
                [name] => Some(Target::Identity(path(name))),
                [name, c] if is(c, CREDENTIALS) => Some(Target::Credentials(path(name))),
                [name, c, fic] if is(c, CREDENTIALS) => {
                    Some(Target::Credential(path(name), (*fic).to_owned()))
                }
                _ => None,
            }
        }
        _ => None,
    }
}

/// The identity a credential write (PUT or DELETE) goes to, for the stats of writes in
/// flight per identity.
pub(crate) fn credential_write_key(req: &Req) -> Option<String> {
    if req.method != Method::PUT && req.method != Method::DELETE {
        return None;
    }
    match parse(&req.segments)? {
        Target::Credential(p, _) => Some(p.key()),
        _ => None,
    }
}

/// One request as the handlers see it.
struct Ctx<'a> {
    shared: &'a Shared,
    base: &'a str,
    req: &'a Req,
    api: Api,
}

pub(super) async fn handle(shared: &Shared, base: &str, req: &Req, grant: &Grant) -> Handled {
    let Some(target) = parse(&req.segments) else {
        return ("arm.unknown", unknown_resource_type(req));
    };
    let Some(version) = req.query("api-version") else {
        return ("arm.missing_api_version", missing_api_version(req));
    };
    let Some(api) = Api::parse(version) else {
        return (
            "arm.unsupported_api_version",
            no_registered_provider(shared, req, &target, version),
        );
    };
    if let Some(access) = access(&target, &req.method) {
        let dir = lock(&shared.dir);
        if let Err(denied) = judge(shared, &dir, req, grant, &access) {
            return ("arm.forbidden", denied);
        }
    }
    if let Some(rg) = target.resource_group()
        && !valid_resource_group(rg)
    {
        // A name ARM would refuse cannot name a group that exists.
        return ("arm.resource_group", resource_group_not_found(req, rg));
    }
    let ctx = Ctx {
        shared,
        base,
        req,
        api,
    };
    let method = req.method.clone();
    match (target, method) {
        (Target::BySubscription(sub), Method::GET) => {
            ("arm.identities.list", identity::list(&ctx, &sub, None))
        }
        (Target::ByGroup(sub, rg), Method::GET) => {
            ("arm.identities.list", identity::list(&ctx, &sub, Some(&rg)))
        }
        (Target::Identity(p), Method::PUT) => ("arm.identities.put", identity::put(&ctx, &p)),
        (Target::Identity(p), Method::PATCH) => {
            ("arm.identities.update", identity::patch(&ctx, &p))
        }
        (Target::Identity(p), Method::GET) => ("arm.identities.get", identity::get(&ctx, &p)),
        (Target::Identity(p), Method::DELETE) => {
            ("arm.identities.delete", identity::delete(&ctx, &p))
        }
        (Target::Credentials(p), Method::GET) => {
            ("arm.identityCredentials.list", credentials::list(&ctx, &p))
        }
        (Target::Credential(p, name), Method::PUT) => (
            "arm.identityCredentials.put",
            credentials::put(&ctx, &p, &name).await,
        ),
        (Target::Credential(p, name), Method::GET) => (
            "arm.identityCredentials.get",
            credentials::get(&ctx, &p, &name),
        ),
        (Target::Credential(p, name), Method::DELETE) => (
            "arm.identityCredentials.delete",
            credentials::delete(&ctx, &p, &name).await,
        ),
        _ => ("arm.method", method_not_allowed(req)),
    }
}

/// The action a request performs and the scope it is on, for RBAC: reading a list at
/// the subscription or resource group, reading, writing or deleting an identity or a
/// credential at its id (the actions of *Managed Identity Contributor*, azure-docs
/// `role-based-access-control/built-in-roles/identity.md`). Other verbs are refused with
/// 405 by the routes.
fn access(target: &Target, method: &Method) -> Option<Access> {
    let verb = match *method {
        Method::GET => "read",
        Method::PUT | Method::PATCH => "write",
        Method::DELETE => "delete",
        _ => return None,
    };
    let (action, scope) = match target {
        Target::BySubscription(sub) => (
            format!("{IDENTITY_TYPE}/{verb}"),
            format!("/subscriptions/{sub}"),
        ),
        Target::ByGroup(sub, rg) => (
            format!("{IDENTITY_TYPE}/{verb}"),
            format!("/subscriptions/{sub}/resourceGroups/{rg}"),
        ),
        Target::Identity(p) => (format!("{IDENTITY_TYPE}/{verb}"), p.id()),
        Target::Credentials(p) => (format!("{CREDENTIAL_TYPE}/{verb}"), p.id()),
        Target::Credential(p, fic) => (
            format!("{CREDENTIAL_TYPE}/{verb}"),
            format!("{}/{CREDENTIALS}/{fic}", p.id()),
        ),
    };
    Some(Access::new(action, scope))
}

/// ARM's answer to an api-version the type does not have, in the wording captured in
/// Azure/azure-cli#28496 (and for a child type, `labs/virtualMachines`, in
/// Azure/azure-resource-manager-schemas#135). The capture goes on to list the type's
/// locations; the emulator accepts any location, so that part is left out. The location
/// named is the request's or the identity's (ASSUMPTION: `global` when neither is known).
fn no_registered_provider(shared: &Shared, req: &Req, target: &Target, version: &str) -> Response {
    let resource_type = match target {
        Target::Credentials(_) | Target::Credential(..) => format!("{IDENTITIES}/{CREDENTIALS}"),
        _ => IDENTITIES.to_owned(),
    };
    let from_body = req
        .json_body()
        .ok()
        .and_then(|b| b.get("location").and_then(Value::as_str).map(str::to_owned));
    let stored = target.identity().and_then(|p| {
        lock(&shared.dir)
            .identities
            .get(&p.key())
            .map(|i| i.location.clone())
    });
    let location = from_body.or(stored).unwrap_or_else(|| "global".into());
    arm_error(
        req,
        StatusCode::BAD_REQUEST,
        "NoRegisteredProviderFound",
        &format!(
            "No registered resource provider found for location '{location}' and API version '{version}' for type '{resource_type}'. The supported api-versions are '{}'.",
            SUPPORTED_API_VERSIONS.join(", ")
        ),
    )
}

/// ARM's answer for a resource group that does not exist (the widely seen wording; no
/// capture cited).
fn resource_group_not_found(req: &Req, rg: &str) -> Response {
    arm_error(
        req,
        StatusCode::NOT_FOUND,
        "ResourceGroupNotFound",
        &format!("Resource group '{rg}' could not be found."),
    )
}

fn refuse(req: &Req, refusal: Refusal) -> Response {
    arm_error(req, refusal.status, refusal.code, &refusal.message)
}

/// A JSON answer. A DELETE's answer counts against the subscription's deletes, not its
/// writes, as the recorded answers show.
fn answer(req: &Req, status: StatusCode, body: Option<&Value>) -> Response {
    let mut resp = arm_json(req, status, body.unwrap_or(&Value::Null));
    if body.is_none() {
        *resp.body_mut() = axum::body::Body::empty();
        resp.headers_mut().remove(header::CONTENT_TYPE);
    }
    if req.method == Method::DELETE {
        let headers = resp.headers_mut();
        headers.remove("x-ms-ratelimit-remaining-subscription-writes");
        headers.insert(
            "x-ms-ratelimit-remaining-subscription-deletes",
            HeaderValue::from_static("14999"),
        );
    }
    resp
}

/// A 201 with the new resource, and its id as `location`, as recorded.
fn created(req: &Req, id: &str, body: &Value) -> Response {
    let mut resp = answer(req, StatusCode::CREATED, Some(body));
    if let Ok(v) = HeaderValue::from_str(id) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segs(path: &str) -> Vec<String> {
        path.split('/')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn paths_parse_without_regard_to_case() {
        let p = parse(&segs(
            "/subscriptions/S/resourcegroups/RG/providers/microsoft.managedidentity/USERASSIGNEDIDENTITIES/Id1/federatedidentitycredentials/f1",
        ));
        let Some(Target::Credential(path, fic)) = p else {
            panic!("{p:?}");
        };
        assert_eq!(fic, "f1");
        assert_eq!(
            path.id(),
            "/subscriptions/S/resourcegroups/RG/providers/Microsoft.ManagedIdentity/userAssignedIdentities/Id1"
        );
        assert!(matches!(
            parse(&segs(
                "/subscriptions/s/providers/Microsoft.ManagedIdentity/userAssignedIdentities"
            )),
            Some(Target::BySubscription(_))
        ));
        assert!(matches!(
            parse(&segs(
                "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities"
            )),
            Some(Target::ByGroup(..))
        ));
        assert!(
            parse(&segs(
                "/subscriptions/s/providers/Microsoft.ManagedIdentity/identities"
            ))
            .is_none()
        );
        assert!(parse(&segs(
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/i/listAssociatedResources"
        ))
        .is_none());
    }
}
