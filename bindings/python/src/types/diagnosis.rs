//! Diagnoses of tokens and AADSTS errors.

use super::*;

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
    also: Vec<Py<ErrorDiagnosis>>,
}

impl ErrorDiagnosis {
    pub(crate) fn new(py: Python<'_>, d: core::diagnose::ErrorDiagnosis) -> PyResult<Self> {
        let also = d
            .also
            .iter()
            .map(|other| Py::new(py, ErrorDiagnosis::new(py, other.clone())?))
            .collect::<PyResult<Vec<_>>>()?;
        Ok(ErrorDiagnosis {
            also,
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
    /// The other errors in the same text, each diagnosed, in the order they appear.
    #[getter]
    fn also(&self, py: Python<'_>) -> Vec<Py<ErrorDiagnosis>> {
        self.also.iter().map(|d| d.clone_ref(py)).collect()
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
