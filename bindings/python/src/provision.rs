//! Provisioning for Python: the core's blocking facade, called with the GIL released,
//! and its reports as typed, frozen classes. The keyword arguments become the core's
//! `RunOptions` JSON in `pulumi_azure_oidc/provision.py`, so unknown options are
//! refused by the core, by name.

use crate::errors::{guard, to_py_err};
use crate::types::{ErrorDiagnosis, TokenClaims, TokenDiagnosis, json_to_py, objects, strings};
use pulumi_azure_oidc as core;
use pulumi_azure_oidc_provision as run;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};

fn options(json: &str) -> PyResult<run::RunOptions> {
    run::RunOptions::from_json(json).map_err(to_py_err)
}

/// One app after a run.
#[pyclass(frozen, get_all, module = "pulumi_azure_oidc", name = "AppSummary")]
#[derive(Debug)]
pub(crate) struct AppSummary {
    /// The Graph `uniqueName` the app is found by.
    unique_name: String,
    display_name: String,
    /// The client id (`appId`) to configure; None only in a dry run of a new app.
    client_id: Option<String>,
    object_id: Option<String>,
    service_principal_id: Option<String>,
    /// The targets this app serves, as labels (`stack contoso/core/dev`).
    targets: Py<PyTuple>,
    credentials: usize,
    roles: Py<PyTuple>,
}

#[pymethods]
impl AppSummary {
    fn __repr__(&self) -> String {
        format!(
            "AppSummary(unique_name={:?}, client_id={:?})",
            self.unique_name, self.client_id
        )
    }
}

fn apps(py: Python<'_>, list: &[run::AppSummary]) -> PyResult<Py<PyTuple>> {
    let items = list
        .iter()
        .map(|a| {
            Ok(AppSummary {
                unique_name: a.unique_name.clone(),
                display_name: a.display_name.clone(),
                client_id: a.client_id.clone(),
                object_id: a.object_id.clone(),
                service_principal_id: a.service_principal_id.clone(),
                targets: strings(py, a.targets.iter().cloned())?,
                credentials: a.credentials,
                roles: strings(py, a.roles.iter().cloned())?,
            })
        })
        .collect::<PyResult<Vec<_>>>()?;
    objects(py, items)
}

/// A credential on a managed app that the plan does not name.
#[pyclass(
    frozen,
    get_all,
    module = "pulumi_azure_oidc",
    name = "UnmanagedCredential"
)]
#[derive(Debug)]
pub(crate) struct UnmanagedCredential {
    app: String,
    name: String,
    subject: Option<String>,
    /// Kept (True) unless the run pruned it.
    kept: bool,
    note: String,
}

#[pymethods]
impl UnmanagedCredential {
    fn __repr__(&self) -> String {
        format!(
            "UnmanagedCredential(app={:?}, name={:?}, kept={})",
            self.app,
            self.name,
            if self.kept { "True" } else { "False" }
        )
    }
}

fn unmanaged(py: Python<'_>, list: &[core::diff::UnmanagedCredential]) -> PyResult<Py<PyTuple>> {
    objects(
        py,
        list.iter().map(|u| UnmanagedCredential {
            app: u.app.clone(),
            name: u.name.clone(),
            subject: u.subject.clone(),
            kept: u.kept,
            note: u.note.clone(),
        }),
    )
}

/// Requests a run made, per service.
#[pyclass(frozen, get_all, module = "pulumi_azure_oidc", name = "RequestCounts")]
#[derive(Debug)]
pub(crate) struct RequestCounts {
    graph: u64,
    arm: u64,
    pulumi: u64,
    entra: u64,
    writes: u64,
    retries: u64,
}

#[pymethods]
impl RequestCounts {
    fn __repr__(&self) -> String {
        format!(
            "RequestCounts(graph={}, arm={}, pulumi={}, entra={}, writes={}, retries={})",
            self.graph, self.arm, self.pulumi, self.entra, self.writes, self.retries
        )
    }
}

fn requests(py: Python<'_>, r: &run::RequestCounts) -> PyResult<Py<RequestCounts>> {
    Py::new(
        py,
        RequestCounts {
            graph: r.graph,
            arm: r.arm,
            pulumi: r.pulumi,
            entra: r.entra,
            writes: r.writes,
            retries: r.retries,
        },
    )
}

/// What `apply` did (or, with `dry_run`, would do).
#[pyclass(frozen, get_all, module = "pulumi_azure_oidc", name = "ApplyReport")]
#[derive(Debug)]
pub(crate) struct ApplyReport {
    org: String,
    dry_run: bool,
    /// The changes, in order, one line each.
    changes: Py<PyTuple>,
    /// How many changes were carried out.
    applied: usize,
    apps: Py<PyTuple>,
    unmanaged: Py<PyTuple>,
    notes: Py<PyTuple>,
    warnings: Py<PyTuple>,
    /// ESC environments written: `org/project/env` -> the definition now stored.
    esc_environments: Py<PyDict>,
    /// Deployment settings written: `org/project/stack` -> the OIDC block sent.
    deployment_settings: Py<PyDict>,
    requests: Py<RequestCounts>,
    /// The report as JSON text, as the CLI prints it with `--output json`.
    json: String,
}

#[pymethods]
impl ApplyReport {
    /// As `pulumi-azure-oidc apply --output json` prints it.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        from_json(py, &self.json)
    }
    fn __repr__(&self, py: Python<'_>) -> String {
        format!(
            "ApplyReport(org={:?}, dry_run={}, changes={}, applied={})",
            self.org,
            if self.dry_run { "True" } else { "False" },
            self.changes.bind(py).len(),
            self.applied
        )
    }
}

fn from_json<'py>(py: Python<'py>, json: &str) -> PyResult<Bound<'py, PyAny>> {
    let value: serde_json::Value = serde_json::from_str(json)
        .map_err(|e| crate::errors::invalid_input(format!("cannot represent the report: {e}")))?;
    json_to_py(py, &value)
}

fn json_text<T: serde::Serialize>(value: &T) -> PyResult<String> {
    serde_json::to_string(value)
        .map_err(|e| crate::errors::invalid_input(format!("cannot represent the report: {e}")))
}

impl ApplyReport {
    fn new(py: Python<'_>, r: &run::ApplyReport) -> PyResult<Self> {
        let esc = PyDict::new(py);
        for (k, v) in &r.esc_environments {
            esc.set_item(k, v)?;
        }
        let settings = PyDict::new(py);
        for (k, v) in &r.deployment_settings {
            settings.set_item(k, json_to_py(py, v)?)?;
        }
        Ok(ApplyReport {
            org: r.org.clone(),
            dry_run: r.dry_run,
            changes: strings(py, r.changes.iter().cloned())?,
            applied: r.applied,
            apps: apps(py, &r.apps)?,
            unmanaged: unmanaged(py, &r.unmanaged)?,
            notes: strings(py, r.notes.iter().cloned())?,
            warnings: strings(py, r.warnings.iter().cloned())?,
            esc_environments: esc.unbind(),
            deployment_settings: settings.unbind(),
            requests: requests(py, &r.requests)?,
            json: json_text(r)?,
        })
    }
}

/// One target's health.
#[pyclass(frozen, get_all, module = "pulumi_azure_oidc", name = "TargetHealth")]
#[derive(Debug)]
pub(crate) struct TargetHealth {
    target: String,
    app: String,
    ok: bool,
    problems: Py<PyTuple>,
}

#[pymethods]
impl TargetHealth {
    fn __repr__(&self) -> String {
        format!(
            "TargetHealth(target={:?}, ok={})",
            self.target,
            if self.ok { "True" } else { "False" }
        )
    }
}

/// What `status` found: the live diff and each target's health; nothing written.
#[pyclass(frozen, get_all, module = "pulumi_azure_oidc", name = "StatusReport")]
#[derive(Debug)]
pub(crate) struct StatusReport {
    org: String,
    /// True when `apply` would change nothing.
    converged: bool,
    /// What `apply` would change, one line each.
    changes: Py<PyTuple>,
    targets: Py<PyTuple>,
    apps: Py<PyTuple>,
    unmanaged: Py<PyTuple>,
    notes: Py<PyTuple>,
    requests: Py<RequestCounts>,
    /// The report as JSON text, as the CLI prints it with `--output json`.
    json: String,
}

#[pymethods]
impl StatusReport {
    /// As `pulumi-azure-oidc status --output json` prints it.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        from_json(py, &self.json)
    }
    fn __repr__(&self, py: Python<'_>) -> String {
        format!(
            "StatusReport(org={:?}, converged={}, changes={})",
            self.org,
            if self.converged { "True" } else { "False" },
            self.changes.bind(py).len()
        )
    }
}

impl StatusReport {
    fn new(py: Python<'_>, r: &run::StatusReport) -> PyResult<Self> {
        Ok(StatusReport {
            org: r.org.clone(),
            converged: r.converged,
            changes: strings(py, r.changes.iter().cloned())?,
            targets: objects(
                py,
                r.targets
                    .iter()
                    .map(|t| {
                        Ok(TargetHealth {
                            target: t.target.clone(),
                            app: t.app.clone(),
                            ok: t.ok,
                            problems: strings(py, t.problems.iter().cloned())?,
                        })
                    })
                    .collect::<PyResult<Vec<_>>>()?,
            )?,
            apps: apps(py, &r.apps)?,
            unmanaged: unmanaged(py, &r.unmanaged)?,
            notes: strings(py, r.notes.iter().cloned())?,
            requests: requests(py, &r.requests)?,
            json: json_text(r)?,
        })
    }
}

/// The token exchange against one app.
#[pyclass(frozen, get_all, module = "pulumi_azure_oidc", name = "VerifyResult")]
#[derive(Debug)]
pub(crate) struct VerifyResult {
    client_id: Option<String>,
    /// The app's unique name, when known.
    app: Option<String>,
    ok: bool,
    attempts: u32,
    /// The AADSTS code Entra answered with, when it refused.
    aadsts: Option<u32>,
    error: Option<String>,
    /// The core's reading of the AADSTS error.
    diagnosis: Option<Py<ErrorDiagnosis>>,
    /// The token against the app's credentials, when they could be read.
    token_diagnosis: Option<Py<TokenDiagnosis>>,
}

#[pymethods]
impl VerifyResult {
    fn __repr__(&self) -> String {
        format!(
            "VerifyResult(client_id={:?}, ok={}, aadsts={:?})",
            self.client_id,
            if self.ok { "True" } else { "False" },
            self.aadsts
        )
    }
}

/// What `verify` found. A refused token is a result (`ok` False), not an exception.
/// Holds the token's claims, never the token.
#[pyclass(frozen, get_all, module = "pulumi_azure_oidc", name = "VerifyReport")]
#[derive(Debug)]
pub(crate) struct VerifyReport {
    ok: bool,
    claims: Py<TokenClaims>,
    results: Py<PyTuple>,
    /// The report as JSON text, as the CLI prints it with `--output json`.
    json: String,
}

#[pymethods]
impl VerifyReport {
    /// As `pulumi-azure-oidc verify --output json` prints it.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        from_json(py, &self.json)
    }
    fn __repr__(&self, py: Python<'_>) -> String {
        format!(
            "VerifyReport(ok={}, results={})",
            if self.ok { "True" } else { "False" },
            self.results.bind(py).len()
        )
    }
}

impl VerifyReport {
    fn new(py: Python<'_>, r: run::VerifyReport) -> PyResult<Self> {
        let json = json_text(&r)?;
        let results = r
            .results
            .into_iter()
            .map(|v| {
                Ok(VerifyResult {
                    client_id: v.client_id,
                    app: v.app,
                    ok: v.ok,
                    attempts: v.attempts,
                    aadsts: v.aadsts,
                    error: v.error,
                    diagnosis: v
                        .diagnosis
                        .map(|d| Py::new(py, ErrorDiagnosis::new(py, d)?))
                        .transpose()?,
                    token_diagnosis: v
                        .token_diagnosis
                        .map(|d| Py::new(py, TokenDiagnosis::new(py, d)?))
                        .transpose()?,
                })
            })
            .collect::<PyResult<Vec<_>>>()?;
        Ok(VerifyReport {
            ok: r.ok,
            claims: Py::new(py, TokenClaims::new(py, &r.claims)?)?,
            results: objects(py, results)?,
            json,
        })
    }
}

/// What `destroy` removed, and what it kept because this tool did not make it.
#[pyclass(frozen, get_all, module = "pulumi_azure_oidc", name = "DestroyReport")]
#[derive(Debug)]
pub(crate) struct DestroyReport {
    org: String,
    removed: Py<PyTuple>,
    kept: Py<PyTuple>,
    requests: Py<RequestCounts>,
    /// The report as JSON text, as the CLI prints it with `--output json`.
    json: String,
}

#[pymethods]
impl DestroyReport {
    /// As `pulumi-azure-oidc destroy --output json` prints it.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        from_json(py, &self.json)
    }
    fn __repr__(&self, py: Python<'_>) -> String {
        format!(
            "DestroyReport(org={:?}, removed={}, kept={})",
            self.org,
            self.removed.bind(py).len(),
            self.kept.bind(py).len()
        )
    }
}

/// Apply a config; `options_json` is the core's `RunOptions` (see provision.py).
#[pyfunction]
fn provision_apply(
    py: Python<'_>,
    config: &Bound<'_, PyAny>,
    options_json: &str,
) -> PyResult<ApplyReport> {
    guard(|| {
        let config = crate::read_config(py, config)?;
        let options = options(options_json)?;
        let report = py
            .detach(|| run::apply_blocking(&config, &options, &run::Quiet))
            .map_err(to_py_err)?;
        ApplyReport::new(py, &report)
    })
}

/// The live state of a config against its plan; reads only.
#[pyfunction]
fn provision_status(
    py: Python<'_>,
    config: &Bound<'_, PyAny>,
    options_json: &str,
) -> PyResult<StatusReport> {
    guard(|| {
        let config = crate::read_config(py, config)?;
        let options = options(options_json)?;
        let report = py
            .detach(|| run::status_blocking(&config, &options))
            .map_err(to_py_err)?;
        StatusReport::new(py, &report)
    })
}

/// Judge each target's live set-up; reads only. Exactly one of `config`, `stack`
/// (`ORG/PROJECT/STACK`) and `env` (`ORG/PROJECT/ENV`). The report as a dict, as
/// `doctor --output json` prints it.
#[pyfunction]
#[pyo3(signature = (config, stack, env, options_json, now=None))]
fn provision_doctor<'py>(
    py: Python<'py>,
    config: Option<&Bound<'py, PyAny>>,
    stack: Option<&str>,
    env: Option<&str>,
    options_json: &str,
    now: Option<i64>,
) -> PyResult<Bound<'py, PyAny>> {
    guard(|| {
        let config = config
            .filter(|c| !c.is_none())
            .map(|c| crate::read_config(py, c))
            .transpose()?;
        let options = options(options_json)?;
        let report = py
            .detach(|| run::doctor_blocking(config.as_ref(), stack, env, &options, now))
            .map_err(to_py_err)?;
        from_json(py, &json_text(&report)?)
    })
}

/// Describe an org's live set-up as a config pinned to its existing apps; reads
/// only. A dict as `adopt --output json` prints it (`config` is the YAML text).
#[pyfunction]
#[pyo3(signature = (org, issuer, options_json, now=None))]
fn provision_adopt<'py>(
    py: Python<'py>,
    org: &str,
    issuer: Option<&str>,
    options_json: &str,
    now: Option<i64>,
) -> PyResult<Bound<'py, PyAny>> {
    guard(|| {
        let options = options(options_json)?;
        let adopted = py
            .detach(|| run::adopt_blocking(org, issuer, &options, now))
            .map_err(to_py_err)?;
        from_json(py, &json_text(&adopted)?)
    })
}

/// Exchange a token at the Entra token endpoint; `config` may be None.
#[pyfunction]
fn provision_verify(
    py: Python<'_>,
    config: Option<&Bound<'_, PyAny>>,
    options_json: &str,
) -> PyResult<VerifyReport> {
    guard(|| {
        let config = config
            .filter(|c| !c.is_none())
            .map(|c| crate::read_config(py, c))
            .transpose()?;
        let options = options(options_json)?;
        let report = py
            .detach(|| run::verify_blocking(config.as_ref(), &options))
            .map_err(to_py_err)?;
        VerifyReport::new(py, report)
    })
}

/// Remove what this tool made for a config.
#[pyfunction]
fn provision_destroy(
    py: Python<'_>,
    config: &Bound<'_, PyAny>,
    options_json: &str,
) -> PyResult<DestroyReport> {
    guard(|| {
        let config = crate::read_config(py, config)?;
        let options = options(options_json)?;
        let r = py
            .detach(|| run::destroy_blocking(&config, &options))
            .map_err(to_py_err)?;
        Ok(DestroyReport {
            org: r.org.clone(),
            removed: strings(py, r.removed.iter().cloned())?,
            kept: strings(py, r.kept.iter().cloned())?,
            requests: requests(py, &r.requests)?,
            json: json_text(&r)?,
        })
    })
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<AppSummary>()?;
    m.add_class::<UnmanagedCredential>()?;
    m.add_class::<RequestCounts>()?;
    m.add_class::<ApplyReport>()?;
    m.add_class::<TargetHealth>()?;
    m.add_class::<StatusReport>()?;
    m.add_class::<VerifyResult>()?;
    m.add_class::<VerifyReport>()?;
    m.add_class::<DestroyReport>()?;
    m.add_function(wrap_pyfunction!(provision_apply, m)?)?;
    m.add_function(wrap_pyfunction!(provision_status, m)?)?;
    m.add_function(wrap_pyfunction!(provision_doctor, m)?)?;
    m.add_function(wrap_pyfunction!(provision_adopt, m)?)?;
    m.add_function(wrap_pyfunction!(provision_verify, m)?)?;
    m.add_function(wrap_pyfunction!(provision_destroy, m)?)?;
    Ok(())
}
