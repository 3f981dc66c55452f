//! The plan: targets placed in apps.

use super::*;

/// A target (a Deployments stack or an ESC environment) as placed in an app.
#[pyclass(frozen, module = "pulumi_azure_oidc", name = "PlannedTarget")]
#[derive(Debug)]
pub(crate) struct PlannedTarget {
    inner: core::plan::PlannedTarget,
}

#[pymethods]
impl PlannedTarget {
    /// `"deployment"` or `"esc"`.
    #[getter]
    fn kind(&self) -> &'static str {
        match self.inner.target {
            core::Target::Deployment(_) => "deployment",
            core::Target::Esc(_) => "esc",
        }
    }
    /// Unique per target: `deploy:org/project/stack` or `esc:org/project/env`.
    #[getter]
    fn key(&self) -> String {
        self.inner.target.key()
    }
    /// Display form, such as `stack contoso/core/dev`.
    #[getter]
    fn label(&self) -> String {
        self.inner.label.clone()
    }
    #[getter]
    fn org(&self) -> String {
        self.inner.target.org().to_string()
    }
    /// The Pulumi project (Deployments) or the ESC project.
    #[getter]
    fn project(&self) -> String {
        match &self.inner.target {
            core::Target::Deployment(d) => d.project.to_string(),
            core::Target::Esc(e) => e.env.project.to_string(),
        }
    }
    #[getter]
    fn stack(&self) -> Option<String> {
        match &self.inner.target {
            core::Target::Deployment(d) => Some(d.stack.to_string()),
            core::Target::Esc(_) => None,
        }
    }
    #[getter]
    fn env(&self) -> Option<String> {
        match &self.inner.target {
            core::Target::Deployment(_) => None,
            core::Target::Esc(e) => Some(e.env.env.to_string()),
        }
    }
    /// The operations trusted (Deployments); empty for ESC.
    #[getter]
    fn operations(&self, py: Python<'_>) -> PyResult<Py<PyTuple>> {
        match &self.inner.target {
            core::Target::Deployment(d) => {
                strings(py, d.operations.iter().map(|o| o.as_str().to_owned()))
            }
            core::Target::Esc(_) => strings(py, []),
        }
    }
    /// The ESC `subjectAttributes` (empty: Pulumi's default subject, or a Deployments stack).
    #[getter]
    fn subject_attributes(&self, py: Python<'_>) -> PyResult<Py<PyTuple>> {
        match &self.inner.target {
            core::Target::Esc(core::EscTarget {
                subject: core::EscSubjectForm::Attributes { attributes, .. },
                ..
            }) => strings(py, attributes.iter().map(|a| a.as_str().to_owned())),
            _ => strings(py, []),
        }
    }
    #[getter]
    fn include_yaml_subject(&self) -> bool {
        matches!(&self.inner.target, core::Target::Esc(e) if e.include_yaml_subject)
    }
    /// Names of this target's credentials in its app.
    #[getter]
    fn credential_names(&self, py: Python<'_>) -> PyResult<Py<PyTuple>> {
        strings(py, self.inner.credentials.iter().map(|c| c.to_string()))
    }
    /// The Key Vault of an `fn::open::azure-secrets` block, if the config asks for one.
    #[getter]
    fn key_vault(&self) -> Option<String> {
        self.inner.key_vault.as_ref().map(|k| k.vault.clone())
    }
    #[getter]
    fn key_vault_secrets(&self, py: Python<'_>) -> PyResult<Py<PyTuple>> {
        strings(
            py,
            self.inner
                .key_vault
                .iter()
                .flat_map(|k| k.secrets.iter().cloned()),
        )
    }
    /// The ESC environment definition that logs this environment in to Azure
    /// (`fn::open::azure-login` with OIDC); ESC targets only.
    #[pyo3(signature = (*, client_id, tenant_id, subscription_id = None))]
    fn esc_environment_yaml(
        &self,
        client_id: &str,
        tenant_id: &str,
        subscription_id: Option<&str>,
    ) -> PyResult<String> {
        crate::errors::guard(|| {
            let core::Target::Esc(target) = &self.inner.target else {
                return Err(crate::errors::invalid_input(format!(
                    "{} is not an ESC environment; only ESC targets have an environment definition",
                    self.inner.label
                )));
            };
            crate::esc_yaml(
                target,
                client_id,
                tenant_id,
                subscription_id,
                self.inner.key_vault.as_ref(),
            )
        })
    }
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_dict(py, &self.inner)
    }
    fn __repr__(&self) -> String {
        format!("PlannedTarget({:?})", self.inner.label)
    }
}

/// One credential holder (an Entra application with its service principal, or a
/// user-assigned managed identity) with its credentials and roles.
#[pyclass(frozen, get_all, module = "pulumi_azure_oidc", name = "AppPlan")]
#[derive(Debug)]
pub(crate) struct AppPlan {
    /// The Graph `uniqueName` the app is found by.
    unique_name: String,
    display_name: String,
    tags: Py<PyTuple>,
    /// Why these targets share this app.
    reason: String,
    targets: Py<PyTuple>,
    credentials: Py<PyTuple>,
    roles: Py<PyTuple>,
    /// `app` or `managed identity`.
    kind: &'static str,
    /// The managed identity's ARM id; `None` for an app.
    identity_id: Option<String>,
    /// Where the managed identity lives; `None` for an app.
    subscription_id: Option<String>,
    resource_group: Option<String>,
    location: Option<String>,
}

#[pymethods]
impl AppPlan {
    fn __repr__(&self, py: Python<'_>) -> String {
        format!(
            "AppPlan(unique_name={:?}, targets={}, credentials={})",
            self.unique_name,
            self.targets.bind(py).len(),
            self.credentials.bind(py).len()
        )
    }
}

impl AppPlan {
    fn new(py: Python<'_>, app: &core::plan::AppPlan) -> PyResult<Self> {
        Ok(AppPlan {
            unique_name: app.unique_name.clone(),
            display_name: app.display_name.clone(),
            tags: strings(py, app.tags.iter().cloned())?,
            reason: app.reason.clone(),
            targets: objects(
                py,
                app.targets
                    .iter()
                    .map(|t| PlannedTarget { inner: t.clone() }),
            )?,
            credentials: objects(py, app.credentials.iter().map(Credential::from))?,
            roles: objects(py, app.roles.iter().map(|g| RoleGrant { inner: g.clone() }))?,
            kind: app.kind(),
            identity_id: app.identity_id(),
            subscription_id: app.identity.as_ref().map(|p| p.subscription.to_string()),
            resource_group: app.identity.as_ref().map(|p| p.resource_group.clone()),
            location: app.identity.as_ref().map(|p| p.location.clone()),
        })
    }
}

/// The whole desired state: apps of at most 20 credentials, and warnings.
#[pyclass(frozen, module = "pulumi_azure_oidc", name = "Plan")]
#[derive(Debug)]
pub(crate) struct Plan {
    inner: core::Plan,
    apps: Py<PyTuple>,
}

impl Plan {
    pub(crate) fn new(py: Python<'_>, plan: core::Plan) -> PyResult<Self> {
        let apps = plan
            .apps
            .iter()
            .map(|a| AppPlan::new(py, a))
            .collect::<PyResult<Vec<_>>>()?;
        Ok(Plan {
            apps: objects(py, apps)?,
            inner: plan,
        })
    }
}

#[pymethods]
impl Plan {
    #[getter]
    fn org(&self) -> String {
        self.inner.org.to_string()
    }
    #[getter]
    fn issuer(&self) -> String {
        self.inner.issuer.clone()
    }
    #[getter]
    fn tenant_id(&self) -> Option<String> {
        self.inner.azure.tenant.as_ref().map(|g| g.to_string())
    }
    #[getter]
    fn subscription_id(&self) -> Option<String> {
        self.inner
            .azure
            .subscription
            .as_ref()
            .map(|g| g.to_string())
    }
    #[getter]
    fn apps(&self, py: Python<'_>) -> Py<PyTuple> {
        self.apps.clone_ref(py)
    }
    #[getter]
    fn warnings(&self, py: Python<'_>) -> PyResult<Py<PyTuple>> {
        strings(py, self.inner.warnings.iter().cloned())
    }
    #[getter]
    fn credential_count(&self) -> usize {
        self.inner.credential_count()
    }
    /// Render this plan: `az`, `esc`, `pulumi-python`, `pulumi-typescript` or `json`.
    #[pyo3(signature = (format, *, client_id = None, tenant_id = None, subscription_id = None))]
    fn render(
        &self,
        py: Python<'_>,
        format: &str,
        client_id: Option<String>,
        tenant_id: Option<String>,
        subscription_id: Option<String>,
    ) -> PyResult<String> {
        crate::errors::guard(|| {
            crate::render_plan(
                py,
                &self.inner,
                format,
                client_id,
                tenant_id,
                subscription_id,
            )
        })
    }
    /// The plan as `pulumi-azure-oidc plan --output json` prints it.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_dict(py, &self.inner)
    }
    fn __repr__(&self) -> String {
        format!(
            "Plan(org={:?}, apps={}, credentials={})",
            self.inner.org.to_string(),
            self.inner.apps.len(),
            self.inner.credential_count()
        )
    }
}
