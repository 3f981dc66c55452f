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
    pyo3::import_exception!(pulumi_azure_oidc.errors, ApiError);
    pyo3::import_exception!(pulumi_azure_oidc.errors, AuthenticationError);
    pyo3::import_exception!(pulumi_azure_oidc.errors, RetriesExhaustedError);
    pyo3::import_exception!(pulumi_azure_oidc.errors, UnreachableError);
    pyo3::import_exception!(pulumi_azure_oidc.errors, VerificationError);
    pyo3::import_exception!(pulumi_azure_oidc.errors, MissingCredentialsError);
    pyo3::import_exception!(pulumi_azure_oidc.errors, InsufficientRightsError);
    pyo3::import_exception!(pulumi_azure_oidc.errors, InterruptedRunError);
}
use classes::{
    ApiError, AuthenticationError, InsufficientRightsError, InterruptedRunError,
    MissingCredentialsError, RetriesExhaustedError, UnreachableError, VerificationError,
};
pub(crate) use classes::{InputError, InternalError, OidcError};

/// The code a caught panic is reported with: the C ABI's `PAOIDC_STATUS_PANIC`, so
/// every face that can catch one reports the same number.
pub(crate) const PANIC_CODE: i32 = 9003;

/// Map a core error: input problems (the core's `is_input_error`) to `InputError`
/// (a `ValueError`); a service's refusal (`Error::Service`) to `ApiError` with the
/// HTTP status and the service's error code; the other provisioning failures to their
/// `OidcError` subclass; everything else to `OidcError`. All carry `.code`, `.path`
/// and `.kind`.
///
/// The core's `Error` and `ErrorCode` are `#[non_exhaustive]`, so an exhaustive match
/// is impossible from here; the classification is the core's own.
pub(crate) fn to_py_err(e: core::Error) -> PyErr {
    let code = e.code();
    let message = e.to_string();
    let path = e.path().map(str::to_owned);
    if let core::Error::Service {
        status,
        code: service_code,
        ..
    } = &e
    {
        return ApiError::new_err((
            message,
            code.as_i32(),
            *status,
            (!service_code.is_empty()).then(|| service_code.clone()),
            path,
            code.name(),
        ));
    }
    let args = (message, code.as_i32(), path, code.name());
    if code.is_input_error() {
        return InputError::new_err(args);
    }
    match code {
        core::ErrorCode::AuthenticationFailed => AuthenticationError::new_err(args),
        core::ErrorCode::RetriesExhausted => RetriesExhaustedError::new_err(args),
        core::ErrorCode::Unreachable => UnreachableError::new_err(args),
        core::ErrorCode::VerificationFailed => VerificationError::new_err(args),
        core::ErrorCode::MissingCredentials => MissingCredentialsError::new_err(args),
        core::ErrorCode::InsufficientRights => InsufficientRightsError::new_err(args),
        core::ErrorCode::Interrupted => InterruptedRunError::new_err(args),
        _ => OidcError::new_err(args),
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
