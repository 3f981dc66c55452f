//! Typed, immutable result objects: the core's plain data, field for field.
//!
//! Every class is `frozen`; sequences are tuples. `to_dict()` gives the same JSON
//! shape the CLI prints with `--output json`.

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

mod credential;
mod diagnosis;
mod plan;

pub(crate) use credential::{Credential, RoleGrant, credentials};
pub(crate) use diagnosis::{
    Candidate, Difference, ErrorDiagnosis, Presented, TokenClaims, TokenDiagnosis,
};
pub(crate) use plan::{AppPlan, Plan, PlannedTarget};

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
