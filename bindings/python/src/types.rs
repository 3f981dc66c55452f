//! Typed, immutable result objects: the core's plain data, field for field.
//!
//! Every class is `frozen`; sequences are tuples. `to_dict()` gives the same JSON
//! shape the CLI prints with `--output json`.

use crate::errors::to_py_err;
use pulumi_azure_oidc as core;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyTuple};
use serde_json::Value;

/// A JSON value as Python objects (dict, list, str, int, float, bool, None).
pub(crate) fn json_to_py<'py>(py: Python<'py>, value: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match value {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => b.into_pyobject(py)?.to_owned().into_any(),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                i.into_pyobject(py)?.into_any()
            } else if let Some(u) = n.as_u64() {
                u.into_pyobject(py)?.into_any()
            } else {
                n.as_f64().unwrap_or(f64::NAN).into_pyobject(py)?.into_any()
            }
        }
        Value::String(s) => s.into_pyobject(py)?.into_any(),
        Value::Array(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(json_to_py(py, item)?)?;
            }
            list.into_any()
        }
        Value::Object(map) => {
            let dict = PyDict::new(py);
            for (k, v) in map {
                dict.set_item(k, json_to_py(py, v)?)?;
            }
            dict.into_any()
        }
    })
}

pub(crate) fn to_dict<'py, T: serde::Serialize>(
    py: Python<'py>,
    value: &T,
) -> PyResult<Bound<'py, PyAny>> {
    let value = serde_json::to_value(value)
        .map_err(|e| crate::errors::invalid_input(format!("cannot represent the result: {e}")))?;
    json_to_py(py, &value)
}

pub(crate) fn strings(
    py: Python<'_>,
    items: impl IntoIterator<Item = String>,
) -> PyResult<Py<PyTuple>> {
    let items: Vec<String> = items.into_iter().collect();
    Ok(PyTuple::new(py, items)?.unbind())
}

pub(crate) fn objects<T: pyo3::PyClass + Into<pyo3::PyClassInitializer<T>>>(
    py: Python<'_>,
    items: impl IntoIterator<Item = T>,
) -> PyResult<Py<PyTuple>> {
    let items = items
        .into_iter()
        .map(|item| Bound::new(py, item))
        .collect::<PyResult<Vec<_>>>()?;
    Ok(PyTuple::new(py, items)?.unbind())
}

/// An optional string as Python shows it.
fn opt(value: &Option<String>) -> String {
    value
        .as_ref()
        .map(|v| format!("{v:?}"))
        .unwrap_or_else(|| "None".into())
}

/// A JSON value's `kind` tag, such as a parsed subject's `deployment` or `esc_anonymous`.
fn kind_tag<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.get("kind").and_then(Value::as_str).map(str::to_owned))
        .unwrap_or_default()
}

/// The constructor arguments of a credential, in order (for pickling).
type CredentialArgs = (String, String, String, String, String);

/// One federated identity credential: what Entra must hold for a token to pass.
#[pyclass(
    frozen,
    eq,
    hash,
    get_all,
    module = "pulumi_azure_oidc",
    name = "FederatedCredential"
)]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Credential {
    name: String,
    issuer: String,
    subject: String,
    audience: String,
    description: String,
}

impl From<&core::FederatedCredential> for Credential {
    fn from(c: &core::FederatedCredential) -> Self {
        Credential {
            name: c.name.to_string(),
            issuer: c.issuer.clone(),
            subject: c.subject.clone(),
            audience: c.audience.clone(),
            description: c.description.clone(),
        }
    }
}

impl From<&core::GraphCredentialBody> for Credential {
    /// The core's suggested credentials carry exactly one audience.
    fn from(b: &core::GraphCredentialBody) -> Self {
        Credential {
            name: b.name.clone(),
            issuer: b.issuer.clone(),
            subject: b.subject.clone(),
            audience: b.audiences.first().cloned().unwrap_or_default(),
            description: b.description.clone(),
        }
    }
}

impl Credential {
    fn graph_body(&self) -> core::GraphCredentialBody {
        core::GraphCredentialBody {
            name: self.name.clone(),
            issuer: self.issuer.clone(),
            subject: self.subject.clone(),
            audiences: vec![self.audience.clone()],
            description: self.description.clone(),
        }
    }
}

#[pymethods]
impl Credential {
    /// Validated by the core: the name's rule, the issuer's form, Azure's 600-character limits.
    #[new]
    fn new(
        name: String,
        issuer: String,
        subject: String,
        audience: String,
        description: String,
    ) -> PyResult<Self> {
        crate::errors::guard(|| {
            let name = core::CredentialName::new(name).map_err(to_py_err)?;
            let issuer = core::Issuer::new(issuer).map_err(to_py_err)?;
            let c = core::FederatedCredential::new(name, &issuer, subject, audience, description)
                .map_err(to_py_err)?;
            Ok(Credential::from(&c))
        })
    }

    /// The Graph request body (`POST /applications/{id}/federatedIdentityCredentials`),
    /// also what `az ad app federated-credential create --parameters` takes.
    fn to_graph_body<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_dict(py, &self.graph_body())
    }

    /// The shell-quoted `az` command that creates this credential (`update=True`:
    /// corrects the existing one of the same name).
    #[pyo3(signature = (*, update = false))]
    fn az_command(&self, update: bool) -> String {
        self.graph_body().az_command(update)
    }

    fn __repr__(&self) -> String {
        format!(
            "FederatedCredential(name={:?}, issuer={:?}, subject={:?}, audience={:?}, description={:?})",
            self.name, self.issuer, self.subject, self.audience, self.description
        )
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<(Bound<'py, PyAny>, CredentialArgs)> {
        let c = slf.get();
        Ok((
            slf.get_type().into_any(),
            (
                c.name.clone(),
                c.issuer.clone(),
                c.subject.clone(),
                c.audience.clone(),
                c.description.clone(),
            ),
        ))
    }
}

pub(crate) fn credentials(
    py: Python<'_>,
    list: &[core::FederatedCredential],
) -> PyResult<Py<PyList>> {
    let items = list
        .iter()
        .map(|c| Bound::new(py, Credential::from(c)))
        .collect::<PyResult<Vec<_>>>()?;
    Ok(PyList::new(py, items)?.unbind())
}

/// One role granted at one scope to an app's service principal.
#[pyclass(frozen, eq, hash, module = "pulumi_azure_oidc", name = "RoleGrant")]
#[derive(Debug, PartialEq, Eq, Hash)]
pub(crate) struct RoleGrant {
    inner: core::RoleGrant,
}

#[pymethods]
impl RoleGrant {
    /// `role` is a built-in role's name (any case) or a role definition GUID; `scope`
    /// an ARM id (management group, subscription, resource group or resource).
    #[new]
    fn new(role: &str, scope: &str) -> PyResult<Self> {
        crate::errors::guard(|| {
            Ok(RoleGrant {
                inner: core::RoleGrant {
                    role: core::Role::parse(role).map_err(to_py_err)?,
                    scope: core::Scope::parse(scope).map_err(to_py_err)?,
                },
            })
        })
    }
    /// The role's name (`Contributor`), or its GUID when it is not a built-in role.
    #[getter]
    fn role(&self) -> String {
        self.inner.role.name.clone()
    }
    /// The role definition's GUID.
    #[getter]
    fn role_id(&self) -> String {
        self.inner.role.id.to_string()
    }
    #[getter]
    fn scope(&self) -> String {
        self.inner.scope.to_string()
    }
    /// The full id ARM expects (`/subscriptions/<sub>/providers/Microsoft.Authorization/roleDefinitions/<guid>`).
    #[getter]
    fn role_definition_id(&self) -> String {
        self.inner.role_definition_id()
    }
    /// The deterministic assignment name (a GUID) of this grant to `principal_id`.
    fn assignment_name(&self, principal_id: &str) -> String {
        self.inner.assignment_name(principal_id)
    }
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_dict(py, &self.inner)
    }
    fn __repr__(&self) -> String {
        format!(
            "RoleGrant(role={:?}, scope={:?})",
            self.inner.role.name,
            self.inner.scope.to_string()
        )
    }
}

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

/// One Entra application with its service principal, credentials and roles.
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

/// How one field of a credential differs from the token.
#[pyclass(frozen, get_all, module = "pulumi_azure_oidc", name = "Difference")]
#[derive(Debug)]
pub(crate) struct Difference {
    /// `issuer`, `subject` or `audience`.
    field: String,
    token: String,
    credential: String,
    /// A stable label such as `case_only`, `missing_azure_prefix`, `operation`.
    kind: String,
    explanation: String,
}

#[pymethods]
impl Difference {
    fn __repr__(&self) -> String {
        format!("Difference(field={:?}, kind={:?})", self.field, self.kind)
    }
}

/// A credential that comes close to a token, and how it differs.
#[pyclass(frozen, get_all, module = "pulumi_azure_oidc", name = "Candidate")]
#[derive(Debug)]
pub(crate) struct Candidate {
    name: String,
    differences: Py<PyTuple>,
}

#[pymethods]
impl Candidate {
    fn __repr__(&self, py: Python<'_>) -> String {
        format!(
            "Candidate(name={:?}, differences={})",
            self.name,
            self.differences.bind(py).len()
        )
    }
}

/// A token's claims, as it states them (never the token itself).
#[pyclass(frozen, get_all, module = "pulumi_azure_oidc", name = "TokenClaims")]
#[derive(Debug)]
pub(crate) struct TokenClaims {
    issuer: Option<String>,
    subject: Option<String>,
    audiences: Py<PyTuple>,
    expires_at: Option<i64>,
    not_before: Option<i64>,
    issued_at: Option<i64>,
    algorithm: Option<String>,
    key_id: Option<String>,
    /// The other claims (`org`, `project`, `stack`, `operation`, …).
    other: Py<PyDict>,
}

impl TokenClaims {
    pub(crate) fn new(py: Python<'_>, c: &core::diagnose::jwt::TokenClaims) -> PyResult<Self> {
        let other = PyDict::new(py);
        for (k, v) in &c.other {
            other.set_item(k, json_to_py(py, v)?)?;
        }
        Ok(TokenClaims {
            issuer: c.issuer.clone(),
            subject: c.subject.clone(),
            audiences: strings(py, c.audiences.iter().cloned())?,
            expires_at: c.expires_at,
            not_before: c.not_before,
            issued_at: c.issued_at,
            algorithm: c.algorithm.clone(),
            key_id: c.key_id.clone(),
            other: other.unbind(),
        })
    }
}

#[pymethods]
impl TokenClaims {
    fn __repr__(&self) -> String {
        format!(
            "TokenClaims(issuer={}, subject={})",
            opt(&self.issuer),
            opt(&self.subject)
        )
    }
}

/// The verdict on a token: would Azure accept it, and if not, the exact fix.
#[pyclass(frozen, module = "pulumi_azure_oidc", name = "TokenDiagnosis")]
#[derive(Debug)]
pub(crate) struct TokenDiagnosis {
    inner: core::diagnose::TokenDiagnosis,
    claims: Py<TokenClaims>,
    candidates: Py<PyTuple>,
    fix: Option<Py<Credential>>,
}

fn snake<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

impl TokenDiagnosis {
    pub(crate) fn new(py: Python<'_>, d: core::diagnose::TokenDiagnosis) -> PyResult<Self> {
        let claims = TokenClaims::new(py, &d.claims)?;
        let candidates = d
            .candidates
            .iter()
            .map(|cand| {
                Ok(Candidate {
                    name: cand.name.clone(),
                    differences: objects(
                        py,
                        cand.differences.iter().map(|x| Difference {
                            field: x.field.to_owned(),
                            token: x.token.clone(),
                            credential: x.credential.clone(),
                            kind: x.kind.to_owned(),
                            explanation: x.explanation.clone(),
                        }),
                    )?,
                })
            })
            .collect::<PyResult<Vec<_>>>()?;
        Ok(TokenDiagnosis {
            claims: Py::new(py, claims)?,
            candidates: objects(py, candidates)?,
            fix: d
                .fix
                .as_ref()
                .map(|f| Py::new(py, Credential::from(f)))
                .transpose()?,
            inner: d,
        })
    }
}

#[pymethods]
impl TokenDiagnosis {
    /// Always False: the signature is not checked.
    #[getter]
    fn verified(&self) -> bool {
        self.inner.verified
    }
    /// Whether a credential list was given.
    #[getter]
    fn checked_credentials(&self) -> bool {
        self.inner.checked_credentials
    }
    #[getter]
    fn claims(&self, py: Python<'_>) -> Py<TokenClaims> {
        self.claims.clone_ref(py)
    }
    /// What the subject says about who presents it: `deployment`, `esc`,
    /// `esc_anonymous`, `esc_attributes` or `other`.
    #[getter]
    fn subject_kind(&self) -> String {
        kind_tag(&self.inner.subject_kind)
    }
    #[getter]
    fn subject_description(&self) -> String {
        self.inner.subject_description.clone()
    }
    /// The Unix time the token was checked at.
    #[getter]
    fn checked_at(&self) -> i64 {
        self.inner.checked_at
    }
    /// `valid`, `expired`, `not_yet_valid` or `unknown`.
    #[getter]
    fn time(&self) -> String {
        snake(&self.inner.time)
    }
    /// Whether Azure would accept the token (a credential matches, the time is valid).
    #[getter]
    fn accepted(&self) -> bool {
        self.inner.accepted
    }
    #[getter]
    fn matched(&self) -> Option<String> {
        self.inner.matched.clone()
    }
    /// The AADSTS code Azure would answer with, when it would refuse.
    #[getter]
    fn aadsts(&self) -> Option<u32> {
        self.inner.aadsts
    }
    #[getter]
    fn verdict(&self) -> String {
        self.inner.verdict.clone()
    }
    /// The closest credentials, closest first.
    #[getter]
    fn candidates(&self, py: Python<'_>) -> Py<PyTuple> {
        self.candidates.clone_ref(py)
    }
    /// The credential that would make the token pass.
    #[getter]
    fn fix(&self, py: Python<'_>) -> Option<Py<Credential>> {
        self.fix.as_ref().map(|f| f.clone_ref(py))
    }
    /// `create` or `update` (the existing credential of the same name).
    #[getter]
    fn fix_action(&self) -> Option<String> {
        self.inner.fix_action.as_ref().map(snake)
    }
    /// The `az` command that applies `fix`, shell-quoted.
    #[getter]
    fn fix_command(&self) -> Option<String> {
        self.inner.fix_command.clone()
    }
    #[getter]
    fn notes(&self, py: Python<'_>) -> PyResult<Py<PyTuple>> {
        strings(py, self.inner.notes.iter().cloned())
    }
    /// As `pulumi-azure-oidc diagnose --token … --output json` prints it.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_dict(py, &self.inner)
    }
    fn __repr__(&self) -> String {
        format!(
            "TokenDiagnosis(accepted={}, aadsts={}, verdict={:?})",
            if self.inner.accepted { "True" } else { "False" },
            self.inner
                .aadsts
                .map(|c| c.to_string())
                .unwrap_or_else(|| "None".into()),
            self.inner.verdict
        )
    }
}

/// What an AADSTS error states was presented to Entra.
#[pyclass(frozen, get_all, module = "pulumi_azure_oidc", name = "Presented")]
#[derive(Debug)]
pub(crate) struct Presented {
    issuer: Option<String>,
    subject: Option<String>,
    audience: Option<String>,
}

#[pymethods]
impl Presented {
    fn __repr__(&self) -> String {
        format!(
            "Presented(issuer={}, subject={}, audience={})",
            opt(&self.issuer),
            opt(&self.subject),
            opt(&self.audience)
        )
    }
}

/// The diagnosis of one AADSTS error.
#[pyclass(frozen, module = "pulumi_azure_oidc", name = "ErrorDiagnosis")]
#[derive(Debug)]
pub(crate) struct ErrorDiagnosis {
    inner: core::diagnose::ErrorDiagnosis,
    presented: Py<Presented>,
    suggested: Option<Py<Credential>>,
}

impl ErrorDiagnosis {
    pub(crate) fn new(py: Python<'_>, d: core::diagnose::ErrorDiagnosis) -> PyResult<Self> {
        Ok(ErrorDiagnosis {
            presented: Py::new(
                py,
                Presented {
                    issuer: d.presented.issuer.clone(),
                    subject: d.presented.subject.clone(),
                    audience: d.presented.audience.clone(),
                },
            )?,
            suggested: d
                .suggested_credential
                .as_ref()
                .map(|c| Py::new(py, Credential::from(c)))
                .transpose()?,
            inner: d,
        })
    }
}

#[pymethods]
impl ErrorDiagnosis {
    /// The AADSTS number, such as 70021.
    #[getter]
    fn code(&self) -> u32 {
        self.inner.code
    }
    /// `AADSTS70021`.
    #[getter]
    fn aadsts(&self) -> String {
        self.inner.aadsts.clone()
    }
    #[getter]
    fn title(&self) -> String {
        self.inner.title.clone()
    }
    #[getter]
    fn presented(&self, py: Python<'_>) -> Py<Presented> {
        self.presented.clone_ref(py)
    }
    /// The presented subject's kind (as for `TokenDiagnosis.subject_kind`), if stated.
    #[getter]
    fn subject_kind(&self) -> Option<String> {
        self.inner.subject_kind.as_ref().map(kind_tag)
    }
    #[getter]
    fn subject_description(&self) -> Option<String> {
        self.inner.subject_description.clone()
    }
    /// Other values the message states, in order, as a dict (name -> value).
    #[getter]
    fn details<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let dict = PyDict::new(py);
        for d in &self.inner.details {
            // The first of a repeated name wins, as the core's own lookups do.
            if !dict.contains(&d.name)? {
                dict.set_item(&d.name, &d.value)?;
            }
        }
        Ok(dict)
    }
    #[getter]
    fn cause(&self) -> String {
        self.inner.cause.clone()
    }
    #[getter]
    fn fix(&self, py: Python<'_>) -> PyResult<Py<PyTuple>> {
        strings(py, self.inner.fix.iter().cloned())
    }
    #[getter]
    fn suggested_credential(&self, py: Python<'_>) -> Option<Py<Credential>> {
        self.suggested.as_ref().map(|c| c.clone_ref(py))
    }
    #[getter]
    fn suggested_command(&self) -> Option<String> {
        self.inner.suggested_command.clone()
    }
    /// Whether a correct credential also answers this for a few minutes after it is
    /// created (retry before concluding).
    #[getter]
    fn may_be_propagation(&self) -> bool {
        self.inner.may_be_propagation
    }
    #[getter]
    fn trace_id(&self) -> Option<String> {
        self.inner.trace_id.clone()
    }
    #[getter]
    fn correlation_id(&self) -> Option<String> {
        self.inner.correlation_id.clone()
    }
    #[getter]
    fn timestamp(&self) -> Option<String> {
        self.inner.timestamp.clone()
    }
    /// As `pulumi-azure-oidc diagnose --error … --output json` prints it.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_dict(py, &self.inner)
    }
    fn __repr__(&self) -> String {
        format!(
            "ErrorDiagnosis(aadsts={:?}, title={:?})",
            self.inner.aadsts, self.inner.title
        )
    }
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Credential>()?;
    m.add_class::<RoleGrant>()?;
    m.add_class::<PlannedTarget>()?;
    m.add_class::<AppPlan>()?;
    m.add_class::<Plan>()?;
    m.add_class::<Difference>()?;
    m.add_class::<Candidate>()?;
    m.add_class::<TokenClaims>()?;
    m.add_class::<TokenDiagnosis>()?;
    m.add_class::<Presented>()?;
    m.add_class::<ErrorDiagnosis>()?;
    Ok(())
}
