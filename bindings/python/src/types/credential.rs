//! Credentials and role grants.

use super::*;
use crate::errors::to_py_err;

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
    pub(crate) inner: core::RoleGrant,
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
