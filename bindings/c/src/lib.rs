//! The C ABI of pulumi-azure-oidc: thin conversions over the core, nothing else.
//!
//! One style throughout: inputs are NUL-terminated UTF-8 strings (JSON or YAML text
//! where structured), results are JSON (or plain text for renders) in a string the
//! library allocates and the caller frees with `paoidc_string_free`. Every call returns
//! a `paoidc_status`: `PAOIDC_STATUS_OK` (0), or the core's stable error code, or one
//! of the ABI's own codes (9xxx). The message of the last failure on the calling
//! thread is `paoidc_last_error_message()`. No call panics across the boundary: each
//! catches unwinds and reports `PAOIDC_STATUS_PANIC`.

// The boundary is made of raw pointers; every unsafe block states what it relies on.
#![allow(unsafe_code)]

use pulumi_azure_oidc as core;
use std::cell::RefCell;
use std::ffi::{CStr, CString, c_char};
use std::panic::{AssertUnwindSafe, catch_unwind};

mod status;
pub use status::PaoidcStatus;

thread_local! {
    static LAST_ERROR: RefCell<(i32, CString)> = RefCell::new((0, CString::default()));
}

/// A failure on the way through the boundary.
struct Fail {
    status: PaoidcStatus,
    message: String,
}

impl From<core::Error> for Fail {
    fn from(e: core::Error) -> Self {
        Fail {
            status: PaoidcStatus::from_core(e.code()),
            message: e.to_string(),
        }
    }
}

fn remember(status: i32, message: &str) {
    // Interior NULs cannot come from the core's messages; replace them defensively.
    let message = CString::new(message.replace('\0', " ")).unwrap_or_default();
    LAST_ERROR.with(|cell| *cell.borrow_mut() = (status, message));
}

/// Run `f`, catching panics, recording the error, returning the status.
fn landing_pad(f: impl FnOnce() -> Result<(), Fail>) -> PaoidcStatus {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(())) => {
            remember(0, "");
            PaoidcStatus::Ok
        }
        Ok(Err(fail)) => {
            remember(fail.status as i32, &fail.message);
            fail.status
        }
        Err(_) => {
            let status = PaoidcStatus::Panic;
            remember(
                status as i32,
                "internal error (a panic was caught at the C boundary)",
            );
            status
        }
    }
}

/// Borrow a C string argument as UTF-8.
///
/// # Safety
/// `ptr` is NULL or points to a NUL-terminated string that outlives the call.
unsafe fn arg<'a>(ptr: *const c_char, what: &str) -> Result<&'a str, Fail> {
    if ptr.is_null() {
        return Err(Fail {
            status: PaoidcStatus::NullArgument,
            message: format!("`{what}` is NULL"),
        });
    }
    // SAFETY: non-NULL and NUL-terminated by the caller's contract.
    let bytes = unsafe { CStr::from_ptr(ptr) };
    bytes.to_str().map_err(|e| Fail {
        status: PaoidcStatus::InvalidUtf8,
        message: format!("`{what}` is not UTF-8 (byte {})", e.valid_up_to()),
    })
}

/// An optional C string argument: NULL or empty means absent.
///
/// # Safety
/// As for [`arg`].
unsafe fn optional_arg<'a>(ptr: *const c_char, what: &str) -> Result<Option<&'a str>, Fail> {
    if ptr.is_null() {
        return Ok(None);
    }
    // SAFETY: forwarded contract.
    let s = unsafe { arg(ptr, what) }?;
    Ok((!s.is_empty()).then_some(s))
}

/// Hand a string to the caller through `out`.
///
/// # Safety
/// `out` is NULL (checked) or valid for one pointer write.
unsafe fn give(out: *mut *mut c_char, text: String) -> Result<(), Fail> {
    if out.is_null() {
        return Err(Fail {
            status: PaoidcStatus::NullArgument,
            message: "the output pointer is NULL".into(),
        });
    }
    let c = CString::new(text.replace('\0', " ")).unwrap_or_default();
    // SAFETY: `out` is non-NULL and writable by the caller's contract.
    unsafe { *out = c.into_raw() };
    Ok(())
}

fn json<T: serde::Serialize>(value: &T) -> Result<String, Fail> {
    serde_json::to_string(value).map_err(|e| Fail {
        status: PaoidcStatus::Panic,
        message: format!("cannot represent the result as JSON: {e}"),
    })
}

/// Clear `*out` first, so a failed call never leaves a stale pointer behind.
///
/// # Safety
/// `out` is NULL or valid for one pointer write.
unsafe fn reset(out: *mut *mut c_char) {
    if !out.is_null() {
        // SAFETY: non-NULL and writable by the caller's contract.
        unsafe { *out = std::ptr::null_mut() };
    }
}

const VERSION: &CStr =
    match CStr::from_bytes_with_nul(concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes()) {
        Ok(v) => v,
        Err(_) => panic!("the package version has no interior NUL"),
    };

/// The library version, a static string: do not free it.
#[unsafe(no_mangle)]
pub extern "C" fn paoidc_version() -> *const c_char {
    VERSION.as_ptr()
}

/// A static, human-readable name for `status` (`"ok"`, `"invalid_stack"`, …):
/// do not free it. Unknown values give `"unknown_status"`.
#[unsafe(no_mangle)]
pub extern "C" fn paoidc_status_str(status: i32) -> *const c_char {
    PaoidcStatus::from_i32(status)
        .map(PaoidcStatus::c_name)
        .unwrap_or(c"unknown_status")
        .as_ptr()
}

/// The status of the last call on this thread (0 after a success).
#[unsafe(no_mangle)]
pub extern "C" fn paoidc_last_error_code() -> i32 {
    LAST_ERROR.with(|cell| cell.borrow().0)
}

/// The message of the last failed call on this thread ("" after a success). The
/// pointer is owned by the library and valid until the next `paoidc_` call on this
/// thread: copy it to keep it, do not free it.
#[unsafe(no_mangle)]
pub extern "C" fn paoidc_last_error_message() -> *const c_char {
    LAST_ERROR.with(|cell| cell.borrow().1.as_ptr())
}

/// Free a string this library returned. NULL is accepted and ignored. Do not write
/// into a returned string before freeing it: its length is found again from the NUL.
///
/// # Safety
/// `s` is NULL or a pointer returned through an `out` parameter of this library,
/// not freed before.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn paoidc_string_free(s: *mut c_char) {
    if !s.is_null() {
        // SAFETY: it came from `CString::into_raw` in `give` and is freed once.
        drop(unsafe { CString::from_raw(s) });
    }
}

/// The credentials one target needs. `spec_json` describes the target as in
/// `tests/vectors/subjects.json`, e.g.
/// `{"kind":"deployment","org":"contoso","project":"core","stack":"dev"}`.
/// On success `*out_json` receives `{"target":…,"credentials":[…],"warnings":[…]}`
/// (each credential a Graph body); the caller frees it with `paoidc_string_free`.
///
/// # Safety
/// `spec_json` is NULL or a NUL-terminated string; `out_json` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn paoidc_credentials(
    spec_json: *const c_char,
    out_json: *mut *mut c_char,
) -> PaoidcStatus {
    // SAFETY: forwarded caller contract.
    unsafe { reset(out_json) };
    landing_pad(|| {
        // SAFETY: forwarded caller contract.
        let text = unsafe { arg(spec_json, "spec_json") }?;
        let spec = core::TargetSpec::from_json(text)?;
        let result = serde_json::to_string(&core::kit::credentials(&spec)?).unwrap_or_default();
        // SAFETY: forwarded caller contract.
        unsafe { give(out_json, result) }
    })
}

/// Plan a config (the config file's YAML, or JSON). On success `*out_json` receives
/// the plan as `plan --output json` prints it; the caller frees it with
/// `paoidc_string_free`.
///
/// # Safety
/// `config` is NULL or a NUL-terminated string; `out_json` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn paoidc_plan(
    config: *const c_char,
    out_json: *mut *mut c_char,
) -> PaoidcStatus {
    // SAFETY: forwarded caller contract.
    unsafe { reset(out_json) };
    landing_pad(|| {
        // SAFETY: forwarded caller contract.
        let text = unsafe { arg(config, "config") }?;
        let plan = core::plan(&core::Config::from_yaml(text)?)?;
        // SAFETY: forwarded caller contract.
        unsafe { give(out_json, json(&plan)?) }
    })
}

/// The least rights the operator needs for a config (YAML or JSON), as JSON
/// (`graph`, `owner_of`, `arm`, `pulumi`); with `operator` (its client id, or NULL),
/// also `az`: a bash script granting them. The caller frees `*out_json` with
/// `paoidc_string_free`.
///
/// # Safety
/// String arguments are NULL or NUL-terminated; `out_json` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn paoidc_permissions(
    config: *const c_char,
    operator: *const c_char,
    out_json: *mut *mut c_char,
) -> PaoidcStatus {
    // SAFETY: forwarded caller contract.
    unsafe { reset(out_json) };
    landing_pad(|| {
        // SAFETY: forwarded caller contract.
        let (text, operator) =
            unsafe { (arg(config, "config")?, optional_arg(operator, "operator")?) };
        let plan = core::plan(&core::Config::from_yaml(text)?)?;
        let rights = core::permissions::permissions(&plan);
        let mut value = serde_json::to_value(&rights).map_err(|e| core::Error::InvalidConfig {
            message: format!("cannot represent the rights: {e}"),
            location: None,
        })?;
        if let Some(op) = operator {
            let op = core::roles::Guid::parse("operator client id", op)?;
            value["az"] = serde_json::Value::String(rights.az_commands(op.as_str()));
        }
        // SAFETY: forwarded caller contract.
        unsafe { give(out_json, json(&value)?) }
    })
}

/// Render a config (YAML or JSON): `format` is `az`, `esc`, `pulumi-python`,
/// `pulumi-typescript` or `json`; `options_json` is NULL or
/// `{"clientId":…,"tenantId":…,"subscriptionId":…}`. On success `*out_text`
/// receives the text; the caller frees it with `paoidc_string_free`.
///
/// # Safety
/// String arguments are NULL or NUL-terminated; `out_text` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn paoidc_render(
    config: *const c_char,
    format: *const c_char,
    options_json: *const c_char,
    out_text: *mut *mut c_char,
) -> PaoidcStatus {
    // SAFETY: forwarded caller contract.
    unsafe { reset(out_text) };
    landing_pad(|| {
        // SAFETY: forwarded caller contract.
        let (text, format, options) = unsafe {
            (
                arg(config, "config")?,
                arg(format, "format")?,
                optional_arg(options_json, "options_json")?,
            )
        };
        let plan = core::plan(&core::Config::from_yaml(text)?)?;
        let format = core::RenderFormat::parse(format)?;
        let options: core::kit::RenderInput = match options {
            Some(o) => serde_json::from_str(o).map_err(|e| {
                Fail::from(core::Error::InvalidConfig {
                    message: format!("invalid render options: {e}"),
                    location: None,
                })
            })?,
            None => core::kit::RenderInput::default(),
        };
        let rendered = core::render(&plan, format, &options.options())?;
        // SAFETY: forwarded caller contract.
        unsafe { give(out_text, rendered) }
    })
}

/// Diagnose a token against a credential list (`credentials_json`: Graph's
/// `{"value":[…]}` or `az ad app federated-credential list` output; NULL to only
/// decode it) at `now_unix` (seconds). On success `*out_json` receives the
/// diagnosis as `diagnose --token --output json` prints it; the caller frees it with
/// `paoidc_string_free`. The token itself never appears in results or errors.
///
/// # Safety
/// String arguments are NULL or NUL-terminated; `out_json` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn paoidc_diagnose_token(
    token: *const c_char,
    credentials_json: *const c_char,
    now_unix: i64,
    out_json: *mut *mut c_char,
) -> PaoidcStatus {
    // SAFETY: forwarded caller contract.
    unsafe { reset(out_json) };
    landing_pad(|| {
        // SAFETY: forwarded caller contract.
        let (token, list) = unsafe {
            (
                arg(token, "token")?,
                optional_arg(credentials_json, "credentials_json")?,
            )
        };
        let list = list.map(core::parse_credential_list).transpose()?;
        let d = core::diagnose_token(token, list.as_deref(), now_unix)?;
        // SAFETY: forwarded caller contract.
        unsafe { give(out_json, json(&d)?) }
    })
}

/// Explain an AADSTS error (the message, its JSON body, or a log line quoting it).
/// On success `*out_json` receives the diagnosis as `diagnose --error --output json`
/// prints it; the caller frees it with `paoidc_string_free`.
///
/// # Safety
/// `text` is NULL or NUL-terminated; `out_json` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn paoidc_diagnose_error(
    text: *const c_char,
    out_json: *mut *mut c_char,
) -> PaoidcStatus {
    // SAFETY: forwarded caller contract.
    unsafe { reset(out_json) };
    landing_pad(|| {
        // SAFETY: forwarded caller contract.
        let text = unsafe { arg(text, "text") }?;
        let d = core::diagnose_error(text)?;
        // SAFETY: forwarded caller contract.
        unsafe { give(out_json, json(&d)?) }
    })
}

// ── Provisioning ─────────────────────────────────────────────────────────────────
//
// The executor's blocking calls: each builds its own async runtime (two worker
// threads), runs to the end, and shuts the runtime down before returning, so no
// thread of this library outlives the call.

/// The run options: NULL or empty means `{}` (everything from the environment).
///
/// # Safety
/// As for [`arg`].
unsafe fn run_options(options_json: *const c_char) -> Result<core::provision::RunOptions, Fail> {
    // SAFETY: forwarded caller contract.
    let text = unsafe { optional_arg(options_json, "options_json") }?;
    Ok(core::provision::RunOptions::from_json(
        text.unwrap_or_default(),
    )?)
}

/// Refuse a NULL output pointer before a run, so it never costs a provisioning run.
fn check_out(out: *mut *mut c_char) -> Result<(), Fail> {
    if out.is_null() {
        return Err(Fail {
            status: PaoidcStatus::NullArgument,
            message: "the output pointer is NULL".into(),
        });
    }
    Ok(())
}

/// Apply a config (YAML or JSON text): create or correct the apps, service principals,
/// federated credentials, role assignments, stack deployment settings and ESC
/// environments it describes, and (with `"prune":true`) remove what it no longer
/// describes. `options_json` is NULL or a JSON object of run options (unknown keys are
/// refused): `endpoint`, `ca_file`, `cloud`, `auth`, `azure_tenant_id`,
/// `azure_client_id`, `azure_client_secret`, `pulumi_access_token`, `concurrency`,
/// `dry_run`, `prune`, …; what is absent comes from the environment (`AZURE_*`,
/// `PULUMI_ACCESS_TOKEN`). Blocks until the run ends (network I/O, retries).
/// On success `*out_json` receives the report as `apply --output json` prints it; the
/// caller frees it with `paoidc_string_free`. No secret appears in the report or the
/// last error message.
///
/// # Safety
/// String arguments are NULL or NUL-terminated; `out_json` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn paoidc_apply(
    config: *const c_char,
    options_json: *const c_char,
    out_json: *mut *mut c_char,
) -> PaoidcStatus {
    // SAFETY: forwarded caller contract.
    unsafe { reset(out_json) };
    landing_pad(|| {
        // SAFETY: forwarded caller contract.
        let (text, options) = unsafe { (arg(config, "config")?, run_options(options_json)?) };
        check_out(out_json)?;
        let config = core::Config::from_yaml(text)?;
        let report = pulumi_azure_oidc_provision::apply_blocking(
            &config,
            &options,
            &pulumi_azure_oidc_provision::Quiet,
        )?;
        // SAFETY: forwarded caller contract.
        unsafe { give(out_json, json(&report)?) }
    })
}

/// The live state of a config (YAML or JSON text) against its plan: whether it is
/// converged, the changes `apply` would make, and each target's health. Reads only.
/// (Named `_report` because `paoidc_status` is the result type of every call.)
/// `options_json` as for `paoidc_apply`. Blocks until done. On success `*out_json`
/// receives the report as `status --output json` prints it; the caller frees it with
/// `paoidc_string_free`.
///
/// # Safety
/// String arguments are NULL or NUL-terminated; `out_json` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn paoidc_status_report(
    config: *const c_char,
    options_json: *const c_char,
    out_json: *mut *mut c_char,
) -> PaoidcStatus {
    // SAFETY: forwarded caller contract.
    unsafe { reset(out_json) };
    landing_pad(|| {
        // SAFETY: forwarded caller contract.
        let (text, options) = unsafe { (arg(config, "config")?, run_options(options_json)?) };
        check_out(out_json)?;
        let config = core::Config::from_yaml(text)?;
        let report = pulumi_azure_oidc_provision::status_blocking(&config, &options)?;
        // SAFETY: forwarded caller contract.
        unsafe { give(out_json, json(&report)?) }
    })
}

/// Describe the live set-up of organization `org`, however it was made, as a config
/// pinned to its existing apps (`holder: { clientId }`): `paoidc_apply` with that
/// config changes nothing, and with `"take_ownership":true` marks the apps as managed.
/// Reads only. `options_json` as for `paoidc_apply`. On success `*out_json` receives
/// `{"config": "<YAML>", "adopted": […], "not_expressed": […], "findings": […]}`, as
/// `adopt --output json` prints it; the caller frees it with `paoidc_string_free`.
///
/// # Safety
/// String arguments are NULL or NUL-terminated; `out_json` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn paoidc_adopt(
    org: *const c_char,
    options_json: *const c_char,
    out_json: *mut *mut c_char,
) -> PaoidcStatus {
    // SAFETY: forwarded caller contract.
    unsafe { reset(out_json) };
    landing_pad(|| {
        // SAFETY: forwarded caller contract.
        let (org, options) = unsafe { (arg(org, "org")?, run_options(options_json)?) };
        check_out(out_json)?;
        let adopted = pulumi_azure_oidc_provision::adopt_blocking(org, None, &options, None)?;
        // SAFETY: forwarded caller contract.
        unsafe { give(out_json, json(&adopted)?) }
    })
}

/// Judge a live set-up, however it was made, and say what is wrong with the fix:
/// every target of `config` (YAML or JSON text), or one `stack` (`ORG/PROJECT/STACK`)
/// or `env` (`ORG/PROJECT/ENV`); exactly one of the three is non-NULL. Reads only and
/// needs no OIDC token. `options_json` as for `paoidc_apply`. Blocks until done. A
/// broken set-up is a result, not a failure: the call returns `PAOIDC_STATUS_OK` and
/// the report says `"healthy":false` (and `"checked":false` when something could not
/// be read), each target with its findings and their fixes. On success `*out_json`
/// receives the report as `doctor --output json` prints it; the caller frees it with
/// `paoidc_string_free`.
///
/// # Safety
/// String arguments are NULL or NUL-terminated; `out_json` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn paoidc_doctor(
    config: *const c_char,
    stack: *const c_char,
    env: *const c_char,
    options_json: *const c_char,
    out_json: *mut *mut c_char,
) -> PaoidcStatus {
    // SAFETY: forwarded caller contract.
    unsafe { reset(out_json) };
    landing_pad(|| {
        // SAFETY: forwarded caller contract.
        let (config, stack, env, options) = unsafe {
            (
                optional_arg(config, "config")?,
                optional_arg(stack, "stack")?,
                optional_arg(env, "env")?,
                run_options(options_json)?,
            )
        };
        check_out(out_json)?;
        let config = config.map(core::Config::from_yaml).transpose()?;
        let report = pulumi_azure_oidc_provision::doctor_blocking(
            config.as_ref(),
            stack,
            env,
            &options,
            None,
        )?;
        // SAFETY: forwarded caller contract.
        unsafe { give(out_json, json(&report)?) }
    })
}

/// Exchange a Pulumi OIDC token at the Entra token endpoint, as Azure's SDKs do, and
/// diagnose a refusal. `config` is NULL (then `client_id` and `tenant_id` in the
/// options, or `AZURE_CLIENT_ID`/`AZURE_TENANT_ID`, name the app) or a config whose
/// apps are tried. `options_json` as for `paoidc_apply`, plus `token` (else
/// `PULUMI_OIDC_TOKEN`), `client_id`, `tenant_id` and `wait_secs` (how long to retry
/// propagation errors, default 60). Blocks until done. A refused token is a result,
/// not a failure: the call returns `PAOIDC_STATUS_OK` and the report says `"ok":false`
/// with the AADSTS code and its diagnosis. On success `*out_json` receives the report
/// as `verify --output json` prints it (the token's claims, never the token); the
/// caller frees it with `paoidc_string_free`.
///
/// # Safety
/// String arguments are NULL or NUL-terminated; `out_json` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn paoidc_verify(
    config: *const c_char,
    options_json: *const c_char,
    out_json: *mut *mut c_char,
) -> PaoidcStatus {
    // SAFETY: forwarded caller contract.
    unsafe { reset(out_json) };
    landing_pad(|| {
        // SAFETY: forwarded caller contract.
        let (text, options) =
            unsafe { (optional_arg(config, "config")?, run_options(options_json)?) };
        check_out(out_json)?;
        let config = text.map(core::Config::from_yaml).transpose()?;
        let report = pulumi_azure_oidc_provision::verify_blocking(config.as_ref(), &options)?;
        // SAFETY: forwarded caller contract.
        unsafe { give(out_json, json(&report)?) }
    })
}

/// Remove what this tool made for a config (YAML or JSON text): its marked apps with
/// their credentials and role assignments, the OIDC blocks it wrote to stack settings.
/// Objects it did not make are kept and listed. `options_json` as for `paoidc_apply`.
/// Blocks until done. On success `*out_json` receives the report as
/// `destroy --output json` prints it; the caller frees it with `paoidc_string_free`.
///
/// # Safety
/// String arguments are NULL or NUL-terminated; `out_json` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn paoidc_destroy(
    config: *const c_char,
    options_json: *const c_char,
    out_json: *mut *mut c_char,
) -> PaoidcStatus {
    // SAFETY: forwarded caller contract.
    unsafe { reset(out_json) };
    landing_pad(|| {
        // SAFETY: forwarded caller contract.
        let (text, options) = unsafe { (arg(config, "config")?, run_options(options_json)?) };
        check_out(out_json)?;
        let config = core::Config::from_yaml(text)?;
        let report = pulumi_azure_oidc_provision::destroy_blocking(&config, &options)?;
        // SAFETY: forwarded caller contract.
        unsafe { give(out_json, json(&report)?) }
    })
}
