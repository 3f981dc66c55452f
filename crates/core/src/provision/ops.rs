//! The remote operations, one function each: Graph, ARM and Pulumi Cloud calls with
//! the replication errors each must wait out (azure-facts.md §5.3).

use reqwest::Method;
use serde_json::{Value, json};

use super::Provisioner;
use super::http::{Auth, Body, Call, Response, Service, never};
use crate::diff::{ObservedCredential, ObservedRoleAssignment};
use crate::error::{Error, Result};

/// Ids of an app, as Graph returns them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AppIds {
    pub(crate) id: String,
    pub(crate) app_id: String,
}

fn not_found(r: &Response) -> bool {
    r.status == 404
}

/// The service principal write that runs ahead of the app's replication (§1.3).
fn sp_replication(r: &Response) -> bool {
    not_found(r)
        || (r.status == 400
            && r.error_parts()
                .1
                .contains("does not reference a valid application object"))
        || (r.status == 403 && r.error_parts().1.contains("must in the local tenant"))
}

fn principal_not_found(r: &Response) -> bool {
    r.status == 400 && r.error_code() == "PrincipalNotFound"
}

pub(crate) fn quote(value: &str) -> String {
    value.replace('\'', "''")
}

fn enc(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

impl Provisioner {
    fn graph_url(&self, path: &str) -> String {
        format!("{}/v1.0/{path}", self.endpoints.graph.trim_end_matches('/'))
    }

    fn arm_url(&self, scope: &str, tail: &str) -> String {
        format!(
            "{}{}/providers/Microsoft.Authorization/roleAssignments{tail}",
            self.endpoints.arm.trim_end_matches('/'),
            scope.trim_end_matches('/')
        )
    }

    fn pulumi_url(&self, path: &str) -> String {
        format!(
            "{}/api/{path}",
            self.endpoints.pulumi_api.trim_end_matches('/')
        )
    }

    async fn graph(
        &self,
        operation: String,
        method: Method,
        path: &str,
        body: Option<Value>,
        headers: Vec<(&'static str, String)>,
        transient: fn(&Response) -> bool,
    ) -> Result<Response> {
        let token = self.bearer(&self.endpoints.graph_scope.clone()).await?;
        self.http
            .send(Call {
                service: Service::Graph,
                operation,
                method,
                url: self.graph_url(path),
                auth: Auth::Bearer(&token),
                body: body.map(Body::Json),
                headers,
                transient,
            })
            .await
    }

    async fn arm(
        &self,
        operation: String,
        method: Method,
        url: String,
        body: Option<Value>,
        transient: fn(&Response) -> bool,
    ) -> Result<Response> {
        let token = self.bearer(&self.endpoints.arm_scope.clone()).await?;
        self.http
            .send(Call {
                service: Service::Arm,
                operation,
                method,
                url,
                auth: Auth::Bearer(&token),
                body: body.map(Body::Json),
                headers: Vec::new(),
                transient,
            })
            .await
    }

    pub(crate) async fn pulumi(
        &self,
        operation: String,
        method: Method,
        path: &str,
        body: Option<Body>,
        headers: Vec<(&'static str, String)>,
    ) -> Result<Response> {
        let token = self.pulumi_token()?;
        self.http
            .send(Call {
                service: Service::Pulumi,
                operation,
                method,
                url: self.pulumi_url(path),
                auth: Auth::Pulumi(token),
                body,
                headers,
                transient: never,
            })
            .await
    }

    // ---- applications ----

    /// The app with this uniqueName, or `None`. A fresh app may read as missing; the
    /// upsert that follows is idempotent, so that costs a write, never a duplicate.
    pub(crate) async fn get_app(&self, unique_name: &str) -> Result<Option<Value>> {
        let op = format!("read app {unique_name}");
        let r = self
            .graph(
                op.clone(),
                Method::GET,
                &format!("applications(uniqueName='{}')", quote(unique_name)),
                None,
                vec![],
                never,
            )
            .await?;
        match r.status {
            200 => Ok(Some(r.json())),
            404 => Ok(None),
            _ => Err(r.into_error(Service::Graph, &op)),
        }
    }

    /// Upsert by uniqueName (`Prefer: create-if-missing`, §1.1): 201 with the new app,
    /// or 204 when it existed — then read it (waiting out replication) for its ids.
    pub(crate) async fn upsert_app(&self, unique_name: &str, body: Value) -> Result<AppIds> {
        let op = format!("create app {unique_name}");
        let path = format!("applications(uniqueName='{}')", quote(unique_name));
        let r = self
            .graph(
                op.clone(),
                Method::PATCH,
                &path,
                Some(body),
                vec![("prefer", "create-if-missing".into())],
                never,
            )
            .await?;
        match r.status {
            201 => ids(&r.json()).ok_or_else(|| malformed(&op)),
            204 => {
                let op = format!("read app {unique_name}");
                let r = self
                    .graph(op.clone(), Method::GET, &path, None, vec![], not_found)
                    .await?;
                if r.ok() {
                    ids(&r.json()).ok_or_else(|| malformed(&op))
                } else {
                    Err(r.into_error(Service::Graph, &op))
                }
            }
            _ => Err(r.into_error(Service::Graph, &op)),
        }
    }

    pub(crate) async fn update_app(&self, app: &AppIds, label: &str, body: Value) -> Result<()> {
        let op = format!("update app {label}");
        let r = self
            .graph(
                op.clone(),
                Method::PATCH,
                &format!("applications/{}", app.id),
                Some(body),
                vec![],
                not_found,
            )
            .await?;
        expect(r, &op, Service::Graph, &[204, 200])
    }

    pub(crate) async fn delete_app(&self, app: &AppIds, label: &str) -> Result<()> {
        let op = format!("delete app {label}");
        let r = self
            .graph(
                op.clone(),
                Method::DELETE,
                &format!("applications/{}", app.id),
                None,
                vec![],
                never,
            )
            .await?;
        expect(r, &op, Service::Graph, &[204, 404])
    }

    /// Managed apps of an org, by tag (`tags/any(t:t eq '…')`), all pages.
    pub(crate) async fn list_apps_tagged(&self, tag: &str) -> Result<Vec<Value>> {
        let filter = format!("tags/any(t:t eq '{}')", quote(tag));
        let mut url = format!("applications?$filter={}&$top=999", enc(&filter));
        let mut out = Vec::new();
        loop {
            let op = "list managed apps".to_owned();
            let r = self
                .graph(op.clone(), Method::GET, &url, None, vec![], never)
                .await?;
            if !r.ok() {
                return Err(r.into_error(Service::Graph, &op));
            }
            let v = r.json();
            out.extend(v["value"].as_array().cloned().unwrap_or_default());
            match v["@odata.nextLink"].as_str() {
                Some(next) => {
                    let prefix = self.graph_url("");
                    url = next.strip_prefix(&prefix).unwrap_or(next).to_owned();
                }
                None => return Ok(out),
            }
        }
    }

    // ---- service principals ----

    pub(crate) async fn get_sp(&self, app_id: &str) -> Result<Option<String>> {
        let op = format!("read service principal of {app_id}");
        let r = self
            .graph(
                op.clone(),
                Method::GET,
                &format!("servicePrincipals(appId='{}')", quote(app_id)),
                None,
                vec![],
                never,
            )
            .await?;
        match r.status {
            200 => Ok(r.json()["id"].as_str().map(str::to_owned)),
            404 => Ok(None),
            _ => Err(r.into_error(Service::Graph, &op)),
        }
    }

    /// Upsert by appId (§1.3), retrying while the app replicates; returns the SP's id.
    pub(crate) async fn upsert_sp(&self, app: &AppIds, label: &str) -> Result<String> {
        let op = format!("create service principal of {label}");
        let path = format!("servicePrincipals(appId='{}')", quote(&app.app_id));
        let body = json!({"tags": [crate::plan::MANAGED_TAG]});
        let r = self
            .graph(
                op.clone(),
                Method::PATCH,
                &path,
                Some(body),
                vec![("prefer", "create-if-missing".into())],
                sp_replication,
            )
            .await?;
        match r.status {
            201 => r.json()["id"]
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| malformed(&op)),
            204 => {
                let r = self
                    .graph(op.clone(), Method::GET, &path, None, vec![], not_found)
                    .await?;
                if r.ok() {
                    r.json()["id"]
                        .as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| malformed(&op))
                } else {
                    Err(r.into_error(Service::Graph, &op))
                }
            }
            _ => Err(r.into_error(Service::Graph, &op)),
        }
    }

    pub(crate) async fn delete_sp(&self, sp_id: &str, label: &str) -> Result<()> {
        let op = format!("delete service principal of {label}");
        let r = self
            .graph(
                op.clone(),
                Method::DELETE,
                &format!("servicePrincipals/{sp_id}"),
                None,
                vec![],
                never,
            )
            .await?;
        expect(r, &op, Service::Graph, &[204, 404])
    }

    // ---- federated identity credentials ----

    pub(crate) async fn list_credentials(
        &self,
        app: &AppIds,
        label: &str,
    ) -> Result<Vec<ObservedCredential>> {
        let op = format!("list credentials of {label}");
        let r = self
            .graph(
                op.clone(),
                Method::GET,
                &format!("applications/{}/federatedIdentityCredentials", app.id),
                None,
                vec![],
                not_found,
            )
            .await?;
        if !r.ok() {
            return Err(r.into_error(Service::Graph, &op));
        }
        serde_json::from_value(r.json()["value"].clone()).map_err(|e| Error::Service {
            service: Service::Graph.name(),
            operation: op,
            status: r.status,
            code: "unreadable_response".into(),
            message: e.to_string(),
        })
    }

    /// Upsert by name (`federatedIdentityCredentials(name='…')`, §1.5): idempotent, so a
    /// retry after a lost answer cannot make a second credential.
    pub(crate) async fn upsert_credential(
        &self,
        app: &AppIds,
        label: &str,
        body: Value,
        name: &str,
    ) -> Result<()> {
        let op = format!("create credential {name} in {label}");
        let path = format!(
            "applications/{}/federatedIdentityCredentials(name='{}')",
            app.id,
            quote(name)
        );
        let r = self
            .graph(
                op.clone(),
                Method::PATCH,
                &path,
                Some(body),
                vec![("prefer", "create-if-missing".into())],
                not_found,
            )
            .await?;
        expect(r, &op, Service::Graph, &[201, 204])
    }

    pub(crate) async fn update_credential(
        &self,
        app: &AppIds,
        label: &str,
        body: Value,
        name: &str,
    ) -> Result<()> {
        let op = format!("update credential {name} in {label}");
        let path = format!(
            "applications/{}/federatedIdentityCredentials/{}",
            app.id,
            enc(name)
        );
        let r = self
            .graph(
                op.clone(),
                Method::PATCH,
                &path,
                Some(body),
                vec![],
                not_found,
            )
            .await?;
        expect(r, &op, Service::Graph, &[204, 200])
    }

    pub(crate) async fn delete_credential(
        &self,
        app: &AppIds,
        label: &str,
        name: &str,
    ) -> Result<()> {
        let op = format!("delete credential {name} in {label}");
        let path = format!(
            "applications/{}/federatedIdentityCredentials/{}",
            app.id,
            enc(name)
        );
        let r = self
            .graph(op.clone(), Method::DELETE, &path, None, vec![], never)
            .await?;
        expect(r, &op, Service::Graph, &[204, 404])
    }

    // ---- role assignments ----

    /// The principal's assignments at, above or below `scope` (§4).
    pub(crate) async fn list_role_assignments(
        &self,
        scope: &str,
        principal_id: &str,
    ) -> Result<Vec<ObservedRoleAssignment>> {
        let op = format!("list role assignments of {principal_id} at {scope}");
        let filter = format!("principalId eq '{}'", quote(principal_id));
        let url = format!(
            "{}?api-version=2022-04-01&$filter={}",
            self.arm_url(scope, ""),
            enc(&filter)
        );
        let r = self.arm(op.clone(), Method::GET, url, None, never).await?;
        if !r.ok() {
            return Err(r.into_error(Service::Arm, &op));
        }
        Ok(r.json()["value"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|v| ObservedRoleAssignment {
                        name: v["name"].as_str().unwrap_or_default().to_owned(),
                        scope: v["properties"]["scope"]
                            .as_str()
                            .unwrap_or_default()
                            .to_owned(),
                        role_definition_id: v["properties"]["roleDefinitionId"]
                            .as_str()
                            .unwrap_or_default()
                            .to_owned(),
                        principal_id: v["properties"]["principalId"]
                            .as_str()
                            .unwrap_or_default()
                            .to_owned(),
                    })
                    .collect()
            })
            .unwrap_or_default())
    }

    /// PUT with the deterministic name; `RoleAssignmentExists` means another name holds
    /// the same grant, which satisfies the plan (§4).
    pub(crate) async fn create_role_assignment(
        &self,
        scope: &str,
        name: &str,
        role_definition_id: &str,
        principal_id: &str,
        what: &str,
    ) -> Result<()> {
        let op = format!("assign {what}");
        let url = format!(
            "{}?api-version=2022-04-01",
            self.arm_url(scope, &format!("/{name}"))
        );
        let body = json!({"properties": {"roleDefinitionId": role_definition_id, "principalId": principal_id, "principalType": "ServicePrincipal"}});
        let r = self
            .arm(
                op.clone(),
                Method::PUT,
                url,
                Some(body),
                principal_not_found,
            )
            .await?;
        if r.status == 409 && r.error_code() == "RoleAssignmentExists" {
            return Ok(());
        }
        expect(r, &op, Service::Arm, &[200, 201])
    }

    pub(crate) async fn delete_role_assignment(
        &self,
        scope: &str,
        name: &str,
        what: &str,
    ) -> Result<()> {
        let op = format!("remove {what}");
        let url = format!(
            "{}?api-version=2022-04-01",
            self.arm_url(scope, &format!("/{name}"))
        );
        let r = self
            .arm(op.clone(), Method::DELETE, url, None, never)
            .await?;
        expect(r, &op, Service::Arm, &[200, 204, 404])
    }

    // ---- Pulumi Cloud ----

    pub(crate) async fn get_settings(
        &self,
        org: &str,
        project: &str,
        stack: &str,
    ) -> Result<Option<Value>> {
        let op = format!("read deployment settings of {org}/{project}/{stack}");
        let r = self
            .pulumi(
                op.clone(),
                Method::GET,
                &format!("stacks/{org}/{project}/{stack}/deployments/settings"),
                None,
                vec![],
            )
            .await?;
        match r.status {
            200 => Ok(Some(r.json())),
            404 => Ok(None),
            _ => Err(r.into_error(Service::Pulumi, &op)),
        }
    }

    pub(crate) async fn patch_settings(
        &self,
        org: &str,
        project: &str,
        stack: &str,
        body: Value,
    ) -> Result<()> {
        let op = format!("write deployment settings of {org}/{project}/{stack}");
        let r = self
            .pulumi(
                op.clone(),
                Method::POST,
                &format!("stacks/{org}/{project}/{stack}/deployments/settings"),
                Some(Body::Json(body)),
                vec![],
            )
            .await?;
        expect(r, &op, Service::Pulumi, &[200, 204])
    }

    /// The environment's YAML and ETag, or `None` if it does not exist.
    pub(crate) async fn get_env(
        &self,
        org: &str,
        project: &str,
        env: &str,
    ) -> Result<Option<(String, Option<String>)>> {
        let op = format!("read ESC environment {org}/{project}/{env}");
        let r = self
            .pulumi(
                op.clone(),
                Method::GET,
                &format!("esc/environments/{org}/{project}/{env}"),
                None,
                vec![],
            )
            .await?;
        match r.status {
            200 => {
                let etag = r.header("etag").map(str::to_owned);
                Ok(Some((String::from_utf8_lossy(&r.body).into_owned(), etag)))
            }
            404 => Ok(None),
            _ => Err(r.into_error(Service::Pulumi, &op)),
        }
    }

    pub(crate) async fn create_env(&self, org: &str, project: &str, env: &str) -> Result<()> {
        let op = format!("create ESC environment {org}/{project}/{env}");
        let r = self
            .pulumi(
                op.clone(),
                Method::POST,
                &format!("esc/environments/{org}"),
                Some(Body::Json(json!({"project": project, "name": env}))),
                vec![],
            )
            .await?;
        // 409: it exists already (a retry after a lost answer, or someone else).
        expect(r, &op, Service::Pulumi, &[200, 201, 204, 409])
    }

    /// Write the definition if it still has `etag`; `Ok(false)` when it changed since.
    pub(crate) async fn put_env(
        &self,
        org: &str,
        project: &str,
        env: &str,
        yaml: String,
        etag: Option<&str>,
    ) -> Result<bool> {
        let op = format!("write ESC environment {org}/{project}/{env}");
        let mut headers = Vec::new();
        if let Some(tag) = etag {
            headers.push(("if-match", tag.to_owned()));
            headers.push(("etag", tag.to_owned()));
        }
        let r = self
            .pulumi(
                op.clone(),
                Method::PATCH,
                &format!("esc/environments/{org}/{project}/{env}"),
                Some(Body::Yaml(yaml)),
                headers,
            )
            .await?;
        if r.status == 409 {
            return Ok(false);
        }
        expect(r, &op, Service::Pulumi, &[200, 204]).map(|()| true)
    }
}

fn ids(v: &Value) -> Option<AppIds> {
    Some(AppIds {
        id: v["id"].as_str()?.to_owned(),
        app_id: v["appId"].as_str()?.to_owned(),
    })
}

fn malformed(op: &str) -> Error {
    Error::Service {
        service: Service::Graph.name(),
        operation: op.to_owned(),
        status: 200,
        code: "unreadable_response".into(),
        message: "the answer lacks id or appId".into(),
    }
}

fn expect(r: Response, op: &str, service: Service, ok: &[u16]) -> Result<()> {
    if ok.contains(&r.status) {
        Ok(())
    } else {
        Err(r.into_error(service, op))
    }
}

pub(crate) fn app_ids(v: &Value) -> Option<AppIds> {
    ids(v)
}
