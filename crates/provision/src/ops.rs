//! The remote operations, one method each: the core describes the request and reads
//! the answer; this sends it with the right credential.

use pulumi_azure_oidc::diff::{ObservedCredential, ObservedRoleAssignment};
use pulumi_azure_oidc::error::Result;
use pulumi_azure_oidc::provision::requests::{self, Upserted};
use pulumi_azure_oidc::provision::{Answer, AppIds, Credential, Request};
use serde_json::Value;

use super::Provisioner;
use super::http::Auth;

impl Provisioner {
    /// Send `request` with the credential its service takes.
    pub(crate) async fn send(&self, request: &Request) -> Result<Answer> {
        let url = request.url(&self.endpoints);
        match request.credential() {
            Credential::AzureToken => {
                let scope = request
                    .scope(&self.endpoints)
                    .unwrap_or_default()
                    .to_owned();
                let token = self.bearer(&scope).await?;
                self.http.send(request, &url, Auth::Bearer(&token)).await
            }
            Credential::PulumiToken => {
                let token = self.pulumi_token()?;
                self.http.send(request, &url, Auth::Pulumi(token)).await
            }
            Credential::None => self.http.send(request, &url, Auth::None).await,
        }
    }

    /// Send `request` and check its status is one of `ok`.
    pub(crate) async fn expect(&self, request: Request, ok: &[u16]) -> Result<()> {
        let answer = self.send(&request).await?;
        requests::expect(answer, &request, ok)
    }

    // ---- applications ----

    /// The app with this uniqueName, or `None`. A fresh app may read as missing; the
    /// upsert that follows is idempotent, so that costs a write, never a duplicate.
    pub(crate) async fn get_app(&self, unique_name: &str) -> Result<Option<Value>> {
        let r = requests::get_app(unique_name);
        requests::read_optional(self.send(&r).await?, &r)
    }

    pub(crate) async fn get_app_by_client_id(&self, client_id: &str) -> Result<Option<Value>> {
        let r = requests::get_app_by_client_id(client_id);
        requests::read_optional(self.send(&r).await?, &r)
    }

    /// Upsert by uniqueName: 201 with the new app, or 204 when it existed — then read
    /// it (waiting out replication) for its ids.
    pub(crate) async fn upsert_app(&self, unique_name: &str, r: Request) -> Result<AppIds> {
        match requests::read_upserted_app(self.send(&r).await?, &r)? {
            Upserted::Created(ids) => Ok(ids),
            Upserted::Existed => {
                let read = requests::read_after_upsert(&requests::get_app(unique_name));
                requests::read_app_ids(self.send(&read).await?, &read)
            }
        }
    }

    pub(crate) async fn delete_app(&self, app: &AppIds, label: &str) -> Result<()> {
        self.expect(requests::delete_app(app, label), &[204, 404])
            .await
    }

    /// Managed apps of an org, by tag, all pages.
    pub(crate) async fn list_apps_tagged(&self, tag: &str) -> Result<Vec<Value>> {
        let mut next = Some(requests::list_apps_tagged(tag));
        let mut out = Vec::new();
        while let Some(r) = next {
            let (items, more) =
                requests::read_page(self.send(&r).await?, &r, &self.endpoints.graph)?;
            out.extend(items);
            next = more;
        }
        Ok(out)
    }

    // ---- managed identities ----

    /// Every page of an ARM list.
    async fn arm_pages(&self, first: Request) -> Result<Vec<Value>> {
        let mut next = Some(first);
        let mut out = Vec::new();
        while let Some(r) = next {
            let (items, more) =
                requests::read_arm_page(self.send(&r).await?, &r, &self.endpoints.arm)?;
            out.extend(items);
            next = more;
        }
        Ok(out)
    }

    pub(crate) async fn get_identity(&self, id: &str) -> Result<Option<Value>> {
        let r = requests::get_identity(id);
        requests::read_optional(self.send(&r).await?, &r)
    }

    pub(crate) async fn list_identities(&self, resource_group: &str) -> Result<Vec<Value>> {
        self.arm_pages(requests::list_identities(resource_group))
            .await
    }

    pub(crate) async fn list_identity_credentials(
        &self,
        id: &str,
        label: &str,
    ) -> Result<Vec<ObservedCredential>> {
        let items = self
            .arm_pages(requests::list_identity_credentials(id, label))
            .await?;
        Ok(requests::observed_identity_credentials(&items))
    }

    /// Create or update the identity; its ids and principal id.
    pub(crate) async fn put_identity(
        &self,
        id: &str,
        location: &str,
        tags: &[String],
    ) -> Result<(AppIds, String)> {
        let r = requests::put_identity(id, location, tags);
        requests::read_identity_ids(self.send(&r).await?, &r)
    }

    /// A credential write to an identity, in its turn under Azure's rates.
    pub(crate) async fn identity_credential_write(
        &self,
        id: &str,
        r: Request,
        ok: &[u16],
    ) -> Result<()> {
        self.pacer.write_slot(id).await;
        let result = self.expect(r, ok).await;
        self.pacer.written(id);
        result
    }

    pub(crate) async fn delete_identity(&self, id: &str) -> Result<()> {
        self.expect(requests::delete_identity(id), &[200, 204, 404])
            .await
    }

    // ---- service principals ----

    pub(crate) async fn get_sp(&self, app_id: &str) -> Result<Option<String>> {
        let r = requests::get_sp(app_id);
        requests::read_sp_id(self.send(&r).await?, &r)
    }

    /// Upsert by appId, retrying while the app replicates; returns the SP's id.
    pub(crate) async fn upsert_sp(&self, app: &AppIds, label: &str) -> Result<String> {
        let r = requests::upsert_sp(app, label);
        match requests::read_upserted_sp(self.send(&r).await?, &r)? {
            Upserted::Created(id) => Ok(id),
            Upserted::Existed => {
                let read = requests::read_after_upsert(&r);
                requests::read_sp_after_upsert(self.send(&read).await?, &read)
            }
        }
    }

    pub(crate) async fn delete_sp(&self, sp_id: &str, label: &str) -> Result<()> {
        self.expect(requests::delete_sp(sp_id, label), &[204, 404])
            .await
    }

    // ---- federated identity credentials ----

    pub(crate) async fn list_credentials(
        &self,
        app: &AppIds,
        label: &str,
    ) -> Result<Vec<ObservedCredential>> {
        let r = requests::list_credentials(app, label);
        requests::read_credentials(self.send(&r).await?, &r)
    }

    pub(crate) async fn delete_credential(
        &self,
        app: &AppIds,
        label: &str,
        name: &str,
    ) -> Result<()> {
        self.expect(requests::delete_credential(app, label, name), &[204, 404])
            .await
    }

    // ---- role assignments ----

    pub(crate) async fn list_role_assignments(
        &self,
        scope: &str,
        principal_id: &str,
    ) -> Result<Vec<ObservedRoleAssignment>> {
        self.role_assignment_pages(requests::list_role_assignments(scope, principal_id))
            .await
    }

    /// Every page of a role-assignment list.
    pub(crate) async fn role_assignment_pages(
        &self,
        first: Request,
    ) -> Result<Vec<ObservedRoleAssignment>> {
        let mut next = Some(first);
        let mut out = Vec::new();
        while let Some(r) = next {
            let answer = self.send(&r).await?;
            let (items, more) =
                requests::read_role_assignments_page(answer, &r, &self.endpoints.arm)?;
            out.extend(items);
            next = more;
        }
        Ok(out)
    }

    pub(crate) async fn delete_role_assignment(
        &self,
        scope: &str,
        name: &str,
        what: &str,
    ) -> Result<()> {
        self.expect(
            requests::delete_role_assignment(scope, name, what),
            &[200, 204, 404],
        )
        .await
    }

    // ---- Pulumi Cloud ----

    pub(crate) async fn get_settings(
        &self,
        org: &str,
        project: &str,
        stack: &str,
    ) -> Result<Option<Value>> {
        let r = requests::get_settings(org, project, stack);
        requests::read_optional(self.send(&r).await?, &r)
    }

    /// The environment's YAML and ETag, or `None` if it does not exist.
    pub(crate) async fn get_env(
        &self,
        org: &str,
        project: &str,
        env: &str,
    ) -> Result<Option<(String, Option<String>)>> {
        let r = requests::get_env(org, project, env);
        requests::read_env(self.send(&r).await?, &r)
    }

    pub(crate) async fn create_env(&self, org: &str, project: &str, env: &str) -> Result<()> {
        self.expect(
            requests::create_env(org, project, env),
            &[200, 201, 204, 409],
        )
        .await
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
        let r = requests::put_env(org, project, env, yaml, etag);
        requests::read_env_written(self.send(&r).await?, &r)
    }
}
