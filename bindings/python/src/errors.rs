//! The only place core errors become Python exceptions.
//!
//! The exception classes live in `pulumi_azure_oidc/errors.py` (multiple inheritance:
//! input errors are also `ValueError`s; picklable because they are plain Python
//! classes) and are raised from here through `import_exception!`.

use pulumi_azure_oidc as core;
use pyo3::PyErr;
use std::panic::{AssertUnwindSafe, catch_unwind};

mod classes {
    #![allow(unreachable_pub, missing_debug_implementations)] // macro-made wrapper types
    pyo3::import_exception!(pulumi_azure_oidc.errors, OidcError);
    pyo3::import_exception!(pulumi_azure_oidc.errors, InputError);
    pyo3::import_exception!(pulumi_azure_oidc.errors, InternalError);
}
pub(crate) use classes::{InputError, InternalError, OidcError};

/// The code a caught panic is reported with: the C ABI's `PAOIDC_STATUS_PANIC`, so
/// every face that can catch one reports the same number.
pub(crate) const PANIC_CODE: i32 = 9003;

/// Map a core error: input problems (the core's `is_input_error`) to `InputError`
/// (a `ValueError`), everything else to `OidcError`; both carry `.code` and `.path`.
///
/// The core's `Error` and `ErrorCode` are `#[non_exhaustive]`, so an exhaustive match
/// is impossible from here; the classification is the core's own.
pub(crate) fn to_py_err(e: core::Error) -> PyErr {
    let code = e.code();
    let args = (
        e.to_string(),
        code.as_i32(),
        e.path().map(str::to_owned),
        code.name(),
    );
    if code.is_input_error() {
        InputError::new_err(args)
    } else {
        OidcError::new_err(args)
    }
}

/// An input error raised by the binding itself for an argument the core never sees
/// (a config dict that is not JSON, say), under the core's `invalid_config` code.
pub(crate) fn invalid_input(message: String) -> PyErr {
    to_py_err(core::Error::InvalidConfig {
        message,
        location: None,
    })
}

/// Run `f`, turning a Rust panic into `InternalError` (an `OidcError`) instead of
/// PyO3's `PanicException`, which derives from `BaseException` and so escapes
/// `except Exception`.
pub(crate) fn guard<T>(f: impl FnOnce() -> pyo3::PyResult<T>) -> pyo3::PyResult<T> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(result) => result,
        Err(_) => Err(InternalError::new_err((
            "internal error: a panic was caught at the Python boundary (please report it)",
            PANIC_CODE,
            None::<String>,
            "panic",
        ))),
    }
}
