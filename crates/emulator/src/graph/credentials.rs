//! Federated identity credentials of an application: list, create, read, update,
//! delete, by id or by name, and the upsert by name.
//!
//! Sources: microsoftgraph/microsoft-graph-docs-contrib `api-reference/v1.0/api/`
//! `application-list-federatedidentitycredentials.md`,
//! `application-post-federatedidentitycredentials.md`, `federatedidentitycredential-update.md`
//! (204), `federatedidentitycredential-upsert.md` (`Prefer: create-if-missing`),
//! `federatedidentitycredential-delete.md`; the duplicate-name 409 as captured in
//! Azure/azure-dev#1482, the duplicate issuer+subject 400 as captured in
//! Azure/azure-workload-identity#434.

use std::time::Instant;

use axum::http::{Method, StatusCode};
use axum::response::Response;
use serde_json::{Map, Value, json};

use super::limits::{MAX_CREDENTIALS, MAX_FIELD, valid_credential_name};
use super::query::{matches, parse_filter, unsupported_query};
use super::request::{Ctx, Handled, check_props, method_not_allowed, prefers_create};
use crate::http::{
    Req, graph_bad_request, graph_error, graph_json, graph_no_content, graph_not_found,
};
use crate::state::{Application, Credential, Directory, credential_json};

pub(super) fn list_credentials(ctx: &Ctx<'_>, app: &Application) -> Response {
    let clauses = match ctx.req.query("$filter") {
        None => Vec::new(),
        Some(f) => match parse_filter(f, &["name", "subject", "issuer"]) {
            Some(c) => c,
            None => return unsupported_query(ctx.req),
        },
    };
    let items: Vec<Value> = app
        .credentials
        .iter()
        .map(credential_json)
        .filter(|v| matches(&clauses, v))
        .collect();
    let body = json!({
        "@odata.context": format!("{}/v1.0/$metadata#applications('{}')/federatedIdentityCredentials", ctx.base, app.id),
        "value": items,
    });
    graph_json(ctx.req, StatusCode::OK, &body)
}

const FIC_PROPS: &[&str] = &["name", "issuer", "subject", "audiences", "description"];

/// The validated fields of a credential body. `partial` allows missing fields (update).
struct FicFields {
    name: Option<String>,
    issuer: Option<String>,
    subject: Option<String>,
    audiences: Option<Vec<String>>,
    description: Option<Option<String>>,
}

fn check_credential(
    req: &Req,
    body: &Map<String, Value>,
    partial: bool,
) -> Result<FicFields, Response> {
    check_props(req, body, FIC_PROPS, "federatedIdentityCredential")?;
    let text = |key: &str| -> Result<Option<String>, Response> {
        match body.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(graph_bad_request(
                req,
                &format!(
                    "Invalid value specified for property '{key}' of resource 'FederatedIdentityCredential'."
                ),
            )),
        }
    };
    let name = text("name")?;
    let issuer = text("issuer")?;
    let subject = text("subject")?;
    let description = match body.get("description") {
        None => None,
        Some(Value::Null) => Some(None),
        Some(Value::String(s)) => Some(Some(s.clone())),
        Some(_) => {
            return Err(graph_bad_request(
                req,
                "Invalid value specified for property 'description' of resource 'FederatedIdentityCredential'.",
            ));
        }
    };
    let audiences = match body.get("audiences") {
        None | Some(Value::Null) => None,
        Some(Value::Array(a)) => Some(
            a.iter()
                .map(|v| v.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| graph_bad_request(req, "Invalid value specified for property 'audiences' of resource 'FederatedIdentityCredential'."))?,
        ),
        Some(_) => return Err(graph_bad_request(req, "Invalid value specified for property 'audiences' of resource 'FederatedIdentityCredential'.")),
    };
    if !partial {
        for (field, present) in [
            ("name", name.is_some()),
            ("issuer", issuer.is_some()),
            ("subject", subject.is_some()),
            ("audiences", audiences.is_some()),
        ] {
            if !present {
                return Err(graph_bad_request(
                    req,
                    &format!("Property '{field}' is required for a federated identity credential."),
                ));
            }
        }
    }
    if let Some(n) = &name {
        // Entra's rule (see `limits`); the message wording is an assumption.
        if !valid_credential_name(n) {
            return Err(graph_bad_request(
                req,
                &format!(
                    "Federated identity credential name '{n}' is invalid. It must be 3-120 characters of letters, digits, '-' and '_', starting with a letter or digit."
                ),
            ));
        }
    }
    for (field, value) in [("issuer", &issuer), ("subject", &subject)] {
        if let Some(v) = value
            && (v.is_empty() || v.chars().count() > MAX_FIELD)
        {
            return Err(graph_bad_request(
                req,
                &format!("Property '{field}' must be 1 to {MAX_FIELD} characters."),
            ));
        }
    }
    if let Some(Some(d)) = &description
        && d.chars().count() > MAX_FIELD
    {
        return Err(graph_bad_request(
            req,
            &format!("Property 'description' must be at most {MAX_FIELD} characters."),
        ));
    }
    if let Some(a) = &audiences {
        // "This field can only accept a single value"; wording from the
        // managed-identity variant of the same rule.
        if a.len() != 1 {
            return Err(graph_bad_request(
                req,
                "Federated identity credentials must have exactly one audience.",
            ));
        }
        if a[0].is_empty() || a[0].chars().count() > MAX_FIELD {
            return Err(graph_bad_request(
                req,
                &format!("Property 'audiences' values must be 1 to {MAX_FIELD} characters."),
            ));
        }
    }
    Ok(FicFields {
        name,
        issuer,
        subject,
        audiences,
        description,
    })
}

fn duplicate_pair(req: &Req, issuer: &str, subject: &str) -> Response {
    // The body captured in Azure/azure-workload-identity#434.
    graph_error(
        req,
        StatusCode::BAD_REQUEST,
        "InvalidFederatedIdentityCredentialValue",
        &format!(
            "The combination of issuer and subject must be unique for the application. Issuer {issuer} and Subject: {subject} already exist. paramName: FederatedIdentityCredential.Subject, paramValue: {subject}, objectType: Microsoft.Online.DirectoryServices.Application"
        ),
    )
}

pub(super) fn create_credential(
    ctx: &Ctx<'_>,
    dir: &mut Directory,
    app_id: &str,
    key_name: Option<&str>,
) -> Response {
    let req = ctx.req;
    let body = match req.json_body() {
        Ok(b) => b,
        Err(m) => return graph_bad_request(req, &m),
    };
    let mut body = body;
    if let Some(k) = key_name {
        match body.get("name").and_then(Value::as_str) {
            Some(n) if n != k => {
                return graph_bad_request(req, "The name in the body does not match the key.");
            }
            _ => {
                body.insert("name".into(), json!(k));
            }
        }
    }
    let fields = match check_credential(req, &body, false) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let (Some(name), Some(issuer), Some(subject), Some(audiences)) =
        (fields.name, fields.issuer, fields.subject, fields.audiences)
    else {
        return graph_bad_request(
            req,
            "A federated identity credential needs name, issuer, subject and audiences.",
        );
    };
    let Some(app) = dir.applications.get_mut(app_id) else {
        return graph_not_found(req, app_id);
    };
    if app.credentials.iter().any(|c| c.name == name) {
        // The body captured in Azure/azure-dev#1482.
        return graph_error(
            req,
            StatusCode::CONFLICT,
            "Request_MultipleObjectsWithSameKeyValue",
            &format!("FederatedIdentityCredential with name {name} already exists."),
        );
    }
    if app
        .credentials
        .iter()
        .any(|c| c.issuer == issuer && c.subject == subject)
    {
        return duplicate_pair(req, &issuer, &subject);
    }
    if app.credentials.len() >= MAX_CREDENTIALS {
        // ASSUMPTION: no public capture of Graph's answer to a 21st credential exists;
        // only the limit is documented. Clients must count first.
        return graph_bad_request(
            req,
            &format!(
                "The maximum number of {MAX_CREDENTIALS} federated identity credentials per application has been reached."
            ),
        );
    }
    let cred = Credential {
        id: uuid::Uuid::new_v4().to_string(),
        name,
        issuer,
        subject,
        audiences,
        description: fields.description.flatten(),
        created: Instant::now(),
    };
    let mut out = credential_json(&cred);
    out["@odata.context"] = json!(format!(
        "{}/v1.0/$metadata#applications('{}')/federatedIdentityCredentials/$entity",
        ctx.base, app.id
    ));
    app.credentials.push(cred);
    ctx.shared.mutated();
    graph_json(req, StatusCode::CREATED, &out)
}

pub(super) fn credential_routes(
    ctx: &Ctx<'_>,
    dir: &mut Directory,
    app_id: &str,
    id_or_name: &str,
    by_name_key: bool,
) -> Handled {
    let req = ctx.req;
    let Some(app) = dir.applications.get(app_id) else {
        return ("graph.fic.parent_missing", graph_not_found(req, app_id));
    };
    let position = app
        .credentials
        .iter()
        .position(|c| c.name == id_or_name || (!by_name_key && c.id == id_or_name));
    let visible = position.filter(|&i| ctx.visible(app.credentials[i].created));
    let not_found = || {
        graph_error(
            req,
            StatusCode::NOT_FOUND,
            "Request_ResourceNotFound",
            &format!("FederatedIdentityCredential with name {id_or_name} not found."),
        )
    };
    match req.method {
        Method::GET => match visible {
            Some(i) => (
                "graph.fic.get",
                graph_json(req, StatusCode::OK, &credential_json(&app.credentials[i])),
            ),
            None => ("graph.fic.get", not_found()),
        },
        Method::DELETE => match visible {
            Some(i) => {
                if let Some(app) = dir.applications.get_mut(app_id) {
                    app.credentials.remove(i);
                }
                ctx.shared.mutated();
                ("graph.fic.delete", graph_no_content(req))
            }
            None => ("graph.fic.delete", not_found()),
        },
        Method::PATCH => {
            let upsert = by_name_key && prefers_create(req);
            let kind = if upsert {
                "graph.fic.upsert"
            } else {
                "graph.fic.update"
            };
            // The upsert is strongly consistent on the name key, like the app's.
            let target = if by_name_key { position } else { visible };
            match target {
                None if upsert => (kind, create_credential(ctx, dir, app_id, Some(id_or_name))),
                None => (kind, not_found()),
                Some(i) => (kind, update_credential(ctx, dir, app_id, i)),
            }
        }
        _ => ("graph.method", method_not_allowed(req)),
    }
}

fn update_credential(ctx: &Ctx<'_>, dir: &mut Directory, app_id: &str, index: usize) -> Response {
    let req = ctx.req;
    let body = match req.json_body() {
        Ok(b) => b,
        Err(m) => return graph_bad_request(req, &m),
    };
    let fields = match check_credential(req, &body, true) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let Some(app) = dir.applications.get_mut(app_id) else {
        return graph_not_found(req, app_id);
    };
    let current = app.credentials[index].clone();
    if let Some(n) = &fields.name
        && *n != current.name
    {
        return graph_bad_request(req, "Property 'name' is immutable and cannot be changed.");
    }
    let issuer = fields.issuer.unwrap_or(current.issuer.clone());
    let subject = fields.subject.unwrap_or(current.subject.clone());
    if app
        .credentials
        .iter()
        .enumerate()
        .any(|(i, c)| i != index && c.issuer == issuer && c.subject == subject)
    {
        return duplicate_pair(req, &issuer, &subject);
    }
    let updated = Credential {
        issuer,
        subject,
        audiences: fields.audiences.unwrap_or(current.audiences.clone()),
        description: fields.description.unwrap_or(current.description.clone()),
        ..current.clone()
    };
    let changed = updated.issuer != current.issuer
        || updated.subject != current.subject
        || updated.audiences != current.audiences
        || updated.description != current.description;
    if changed {
        // A changed credential propagates to the token service again.
        app.credentials[index] = Credential {
            created: Instant::now(),
            ..updated
        };
        ctx.shared.mutated();
    }
    graph_no_content(req)
}
