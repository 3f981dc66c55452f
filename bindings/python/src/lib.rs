//! `pulumi_azure_oidc._native`: the core for Python, conversions only.
//!
//! Each function converts its arguments, calls the core, and converts the result into
//! the typed, frozen classes of [`types`]. Core errors become the exceptions of
//! `pulumi_azure_oidc.errors` in [`errors`]; a Rust panic becomes `InternalError`.
//! The public surface is re-exported, with `__all__`, by `pulumi_azure_oidc/__init__.py`.

use pulumi_azure_oidc as core;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString};
use std::ffi::CString;

mod errors;
mod provision;
mod types;

use errors::{guard, invalid_input, to_py_err};

/// Emit the core's warnings as `pulumi_azure_oidc.OidcWarning`s, at the caller's line.
fn warn(py: Python<'_>, warnings: &[String]) -> PyResult<()> {
    if warnings.is_empty() {
        return Ok(());
    }
    let category = py
        .import("pulumi_azure_oidc.errors")?
        .getattr("OidcWarning")?;
    for w in warnings {
        let message = CString::new(w.replace('\0', " ")).unwrap_or_default();
        PyErr::warn(py, &category, &message, 1)?;
    }
    Ok(())
}

fn credentials_of(py: Python<'_>, spec: core::TargetSpec) -> PyResult<Py<PyList>> {
    let generated = spec.credentials().map_err(to_py_err)?;
    warn(py, &generated.warnings)?;
    types::credentials(py, &generated.credentials)
}

/// The crate version.
#[pyfunction]
fn version() -> &'static str {
    core::VERSION
}

/// Every error code with its symbolic name (`{1001: "invalid_org", …}`).
#[pyfunction]
fn error_codes(py: Python<'_>) -> PyResult<Bound<'_, PyDict>> {
    let dict = PyDict::new(py);
    for code in core::ErrorCode::ALL {
        dict.set_item(code.as_i32(), code.name())?;
    }
    Ok(dict)
}

/// The constants every face shows: the per-app limit, operations, formats, error codes.
#[pyfunction]
fn constants(py: Python<'_>) -> PyResult<Bound<'_, PyAny>> {
    let value = serde_json::to_value(core::kit::constants()).unwrap_or_default();
    types::json_to_py(py, &value)
}

/// The credentials a Pulumi Deployments stack needs: one per operation.
#[pyfunction]
#[pyo3(signature = (org, project, stack, *, operations = None, issuer = None))]
fn deployment_credentials(
    py: Python<'_>,
    org: String,
    project: String,
    stack: String,
    operations: Option<Vec<String>>,
    issuer: Option<String>,
) -> PyResult<Py<PyList>> {
    guard(|| {
        credentials_of(
            py,
            core::TargetSpec::Deployment {
                org,
                project,
                stack,
                operations,
                issuer,
            },
        )
    })
}

#[allow(clippy::too_many_arguments)] // the keyword arguments of the Python signature
fn esc_spec(
    org: String,
    project: String,
    env: String,
    subject_attributes: Option<Vec<String>>,
    user: Option<String>,
    root_env: Option<String>,
    include_yaml_subject: bool,
    issuer: Option<String>,
) -> core::TargetSpec {
    core::TargetSpec::Esc {
        org,
        project,
        env,
        subject_attributes,
        user,
        root_env,
        include_yaml_subject,
        issuer,
    }
}

/// The credentials a Pulumi ESC environment needs (one, or two with the `<yaml>` subject).
#[pyfunction]
#[pyo3(signature = (
    org, project, env, *, subject_attributes = None, user = None, root_env = None,
    include_yaml_subject = false, issuer = None
))]
#[allow(clippy::too_many_arguments)] // the keyword arguments of the Python signature
fn esc_credentials(
    py: Python<'_>,
    org: String,
    project: String,
    env: String,
    subject_attributes: Option<Vec<String>>,
    user: Option<String>,
    root_env: Option<String>,
    include_yaml_subject: bool,
    issuer: Option<String>,
) -> PyResult<Py<PyList>> {
    guard(|| {
        credentials_of(
            py,
            esc_spec(
                org,
                project,
                env,
                subject_attributes,
                user,
                root_env,
                include_yaml_subject,
                issuer,
            ),
        )
    })
}

/// The core's ESC environment definition, with the ids checked as GUIDs first.
pub(crate) fn esc_yaml(
    target: &core::EscTarget,
    client_id: &str,
    tenant_id: &str,
    subscription_id: Option<&str>,
    key_vault: Option<&core::config::KeyVaultSecrets>,
) -> PyResult<String> {
    let guid = |what, v: &str| core::roles::Guid::parse(what, v).map_err(to_py_err);
    let client_id = guid("client id", client_id)?;
    let tenant_id = guid("tenant id", tenant_id)?;
    let subscription_id = subscription_id
        .map(|s| guid("subscription id", s))
        .transpose()?;
    Ok(core::render::esc_environment_yaml(
        target,
        &core::render::EscLogin {
            client_id: client_id.as_str(),
            tenant_id: tenant_id.as_str(),
            subscription_id: subscription_id.as_ref().map(|s| s.as_str()),
        },
        key_vault,
    ))
}

/// The ESC environment definition that logs `org`/`project`/`env` in to Azure with
/// OIDC (`fn::open::azure-login`), as YAML.
#[pyfunction]
#[pyo3(signature = (
    org, project, env, *, client_id, tenant_id, subscription_id = None,
    subject_attributes = None, user = None, root_env = None, key_vault = None,
    key_vault_secrets = None
))]
#[allow(clippy::too_many_arguments)] // the keyword arguments of the Python signature
fn esc_environment_yaml(
    org: String,
    project: String,
    env: String,
    client_id: &str,
    tenant_id: &str,
    subscription_id: Option<&str>,
    subject_attributes: Option<Vec<String>>,
    user: Option<String>,
    root_env: Option<String>,
    key_vault: Option<String>,
    key_vault_secrets: Option<Vec<String>>,
) -> PyResult<String> {
    guard(|| {
        let spec = esc_spec(
            org,
            project,
            env,
            subject_attributes,
            user,
            root_env,
            false,
            None,
        );
        let core::Target::Esc(target) = spec.build().map_err(to_py_err)?.0 else {
            return Err(invalid_input("not an ESC environment".into()));
        };
        let key_vault = match (key_vault, key_vault_secrets) {
            (None, None) => None,
            (Some(vault), secrets) => Some(
                core::config::KeyVaultSecrets::new(vault, secrets.unwrap_or_default())
                    .map_err(to_py_err)?,
            ),
            (None, Some(_)) => {
                return Err(invalid_input(
                    "key_vault_secrets needs key_vault, the vault they are read from".into(),
                ));
            }
        };
        esc_yaml(
            &target,
            client_id,
            tenant_id,
            subscription_id,
            key_vault.as_ref(),
        )
    })
}

/// A config from a dict, config text (YAML or JSON), or a path.
///
/// A `str` holding a line break, or starting with `{`, is config text; any other `str`,
/// and any `os.PathLike`, names a file.
fn read_config(py: Python<'_>, config: &Bound<'_, PyAny>) -> PyResult<core::Config> {
    if config.is_instance_of::<PyDict>() {
        let text: String = py
            .import("json")?
            .call_method1("dumps", (config,))
            .map_err(|e| invalid_input(format!("the config dict is not JSON data: {e}")))?
            .extract()?;
        return core::Config::from_json(&text).map_err(to_py_err);
    }
    let path = if let Ok(s) = config.cast::<PyString>() {
        let text: String = s.extract()?;
        if text.contains('\n') || text.trim_start().starts_with('{') {
            return core::Config::from_yaml(&text).map_err(to_py_err);
        }
        text
    } else {
        let fspath = py
            .import("os")?
            .call_method1("fspath", (config,))
            .map_err(|_| {
                pyo3::exceptions::PyTypeError::new_err(format!(
                    "config must be a dict, config text (str) or a path, not {}",
                    config
                        .get_type()
                        .name()
                        .map(|n| n.to_string())
                        .unwrap_or_default()
                ))
            })?;
        fspath.extract::<String>()?
    };
    let text = std::fs::read_to_string(&path).map_err(|e| {
        to_py_err(core::Error::UnreadableInput {
            what: format!("config file `{path}`"),
            reason: e.to_string(),
        })
    })?;
    core::Config::from_yaml_at(&text, &path).map_err(to_py_err)
}

/// Plan a config: apps of at most 20 credentials, role sets never mixed.
#[pyfunction]
fn plan(py: Python<'_>, config: &Bound<'_, PyAny>) -> PyResult<types::Plan> {
    guard(|| {
        let config = read_config(py, config)?;
        let plan = core::plan(&config).map_err(to_py_err)?;
        types::Plan::new(py, plan)
    })
}

pub(crate) fn render_plan(
    py: Python<'_>,
    plan: &core::Plan,
    format: &str,
    client_id: Option<String>,
    tenant_id: Option<String>,
    subscription_id: Option<String>,
) -> PyResult<String> {
    let _ = py;
    let format = core::RenderFormat::parse(format).map_err(to_py_err)?;
    let options = core::kit::RenderInput {
        client_id,
        tenant_id,
        subscription_id,
    }
    .options();
    core::render(plan, format, &options).map_err(to_py_err)
}

/// Render a config as `az` (a bash script), `esc` (environment YAML),
/// `pulumi-python`, `pulumi-typescript` or `json` (Graph-ready bodies).
#[pyfunction]
#[pyo3(signature = (config, format, *, client_id = None, tenant_id = None, subscription_id = None))]
fn render(
    py: Python<'_>,
    config: &Bound<'_, PyAny>,
    format: &str,
    client_id: Option<String>,
    tenant_id: Option<String>,
    subscription_id: Option<String>,
) -> PyResult<String> {
    guard(|| {
        let config = read_config(py, config)?;
        let plan = core::plan(&config).map_err(to_py_err)?;
        render_plan(py, &plan, format, client_id, tenant_id, subscription_id)
    })
}

/// The least rights the operator needs for a config, as `permissions --output json`
/// prints them; with `operator` (its client id), also `az`: a script granting them.
#[pyfunction]
#[pyo3(signature = (config, *, operator = None))]
fn permissions<'py>(
    py: Python<'py>,
    config: &Bound<'_, PyAny>,
    operator: Option<&str>,
) -> PyResult<Bound<'py, PyAny>> {
    guard(|| {
        let config = read_config(py, config)?;
        let plan = core::plan(&config).map_err(to_py_err)?;
        let rights = core::permissions::permissions(&plan);
        let mut value = serde_json::to_value(&rights)
            .map_err(|e| invalid_input(format!("cannot represent the rights: {e}")))?;
        if let Some(op) = operator {
            let op = core::roles::Guid::parse("operator client id", op).map_err(to_py_err)?;
            value["az"] = serde_json::Value::String(rights.az_commands(op.as_str()));
        }
        types::json_to_py(py, &value)
    })
}

/// Unix seconds from an int, an aware `datetime`, or now.
fn unix_time(now: Option<&Bound<'_, PyAny>>) -> PyResult<i64> {
    let Some(now) = now.filter(|n| !n.is_none()) else {
        return Ok(std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0));
    };
    if now.hasattr("timestamp")? {
        let seconds: f64 = now.call_method0("timestamp")?.extract()?;
        return Ok(seconds.floor() as i64);
    }
    now.extract::<i64>().map_err(|_| {
        to_py_err(core::Error::InvalidTime {
            value: now.repr().map(|r| r.to_string()).unwrap_or_default(),
        })
    })
}

/// Credential list text from a str (JSON), or from JSON-like data (a list of Graph
/// bodies, Graph's `{"value": [...]}`) or a list of `FederatedCredential`s.
fn credential_list_text(py: Python<'_>, credentials: &Bound<'_, PyAny>) -> PyResult<String> {
    if let Ok(s) = credentials.cast::<PyString>() {
        return s.extract();
    }
    let items = if credentials.is_instance_of::<PyDict>() {
        credentials.clone()
    } else {
        let list = PyList::empty(py);
        for item in credentials.try_iter()? {
            let item = item?;
            match item.cast::<types::Credential>() {
                Ok(c) => list.append(c.call_method0("to_graph_body")?)?,
                Err(_) => list.append(item)?,
            }
        }
        list.into_any()
    };
    py.import("json")?
        .call_method1("dumps", (items,))
        .map_err(|e| {
            to_py_err(core::Error::MalformedCredentialList(format!(
                "not JSON data: {e}"
            )))
        })?
        .extract()
}

/// Diagnose a token against a credential list (or only decode and time-check it).
/// The token never appears in the result or in an error.
#[pyfunction]
#[pyo3(signature = (token, credentials = None, *, now = None))]
fn diagnose_token(
    py: Python<'_>,
    token: &str,
    credentials: Option<&Bound<'_, PyAny>>,
    now: Option<&Bound<'_, PyAny>>,
) -> PyResult<types::TokenDiagnosis> {
    guard(|| {
        let list = match credentials.filter(|c| !c.is_none()) {
            Some(c) => {
                let text = credential_list_text(py, c)?;
                Some(core::parse_credential_list(&text).map_err(to_py_err)?)
            }
            None => None,
        };
        let now = unix_time(now)?;
        let d = core::diagnose_token(token, list.as_deref(), now).map_err(to_py_err)?;
        types::TokenDiagnosis::new(py, d)
    })
}

/// Explain an AADSTS error (the message, its JSON body, or a log line quoting it).
#[pyfunction]
fn diagnose_error(py: Python<'_>, text: &str) -> PyResult<types::ErrorDiagnosis> {
    guard(|| {
        let d = core::diagnose_error(text).map_err(to_py_err)?;
        types::ErrorDiagnosis::new(py, d)
    })
}

/// Run the `pulumi-azure-oidc` command line `argv` (program name first) and return
/// its exit status: the wheel's console script, the very code of the native binary.
/// The interpreter lock is released while it runs.
#[pyfunction]
fn cli_main(py: Python<'_>, argv: Vec<String>) -> PyResult<u8> {
    guard(|| Ok(py.detach(|| pulumi_azure_oidc_cli::run(argv))))
}

/// Panics on purpose, so the tests can check a panic becomes `InternalError`.
#[pyfunction]
fn _panic_for_tests() -> PyResult<()> {
    guard(|| -> PyResult<()> {
        let empty: Vec<u8> = Vec::new();
        // Index out of bounds: a real panic, not an error value.
        let _ = empty[std::hint::black_box(1)];
        Ok(())
    })
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("PANIC_CODE", errors::PANIC_CODE)?;
    m.add_function(wrap_pyfunction!(version, m)?)?;
    m.add_function(wrap_pyfunction!(error_codes, m)?)?;
    m.add_function(wrap_pyfunction!(constants, m)?)?;
    m.add_function(wrap_pyfunction!(deployment_credentials, m)?)?;
    m.add_function(wrap_pyfunction!(esc_credentials, m)?)?;
    m.add_function(wrap_pyfunction!(esc_environment_yaml, m)?)?;
    m.add_function(wrap_pyfunction!(plan, m)?)?;
    m.add_function(wrap_pyfunction!(render, m)?)?;
    m.add_function(wrap_pyfunction!(permissions, m)?)?;
    m.add_function(wrap_pyfunction!(diagnose_token, m)?)?;
    m.add_function(wrap_pyfunction!(diagnose_error, m)?)?;
    m.add_function(wrap_pyfunction!(cli_main, m)?)?;
    m.add_function(wrap_pyfunction!(_panic_for_tests, m)?)?;
    types::register(m)?;
    provision::register(m)?;
    Ok(())
}
