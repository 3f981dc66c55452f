//! The core for the browser: wasm-bindgen exports, nothing else.
//!
//! Every function converts its arguments, calls the core, and converts the result
//! (plain JS objects, the same shapes as the CLI's `--output json`). A core error is
//! thrown as a JS `Error` whose `name` is `OidcError`, `code` the core's stable number
//! and `kind` its symbolic name, so the page can switch on `err.code` as C and Python do.

mod js;

use pulumi_azure_oidc as core;
use serde::Serialize;
use wasm_bindgen::prelude::*;

#[cfg(target_family = "wasm")]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

fn to_js<T: Serialize + ?Sized>(value: &T) -> Result<JsValue, JsValue> {
    // Through JSON text: results read exactly like the CLI's JSON, and a token's
    // out-of-range numbers (an `exp` of 1e16, say) become JS numbers instead of a
    // serializer error.
    let text = core::json_text::compact(value).map_err(|e| {
        throw(core::Error::InvalidConfig {
            message: format!("cannot represent the result: {e}"),
            location: None,
        })
    })?;
    js::json_parse(&text)
}

/// A JS argument as a core type, read as JSON text (`JSON.stringify`) by serde_json.
/// serde_json is in the module anyway; a second deserializer (serde-wasm-bindgen)
/// would copy every argument type's Deserialize code, about 6 KB of the gzipped module.
/// The text is read as a JSON value and the type from that by the core's `json_read`,
/// as the core reads the page's config (`Config::from_json`); see there why.
/// `undefined` reads as `null`. The message leaves out serde_json's line and column:
/// they point into text the caller never wrote.
fn from_js<T: serde::de::DeserializeOwned>(value: &JsValue) -> Result<T, String> {
    let text = js::json_stringify(value)
        .ok()
        .flatten()
        .unwrap_or_else(|| "null".to_owned());
    let value = serde_json::from_str(&text).map_err(|e: serde_json::Error| {
        let message = e.to_string();
        let position = format!(" at line {} column {}", e.line(), e.column());
        match message.strip_suffix(&position) {
            Some(bare) if e.line() > 0 => bare.to_owned(),
            _ => message,
        }
    })?;
    core::json_read::from_value(value).map_err(|e| e.to_string())
}

fn throw(error: core::Error) -> JsValue {
    let js = js::JsErrorObject::new(&error.to_string());
    js.set_name("OidcError");
    let code = error.code();
    js.set_code(code.as_i32());
    js.set_kind(code.name());
    if let Some(path) = error.path() {
        js.set_path(path);
    }
    js.into()
}

/// The crate version.
#[wasm_bindgen]
pub fn version() -> String {
    core::VERSION.to_owned()
}

/// The constants the page shows: the per-app limit, operations, formats, and every
/// error code with its name.
#[wasm_bindgen]
pub fn constants() -> Result<JsValue, JsValue> {
    to_js(&core::kit::constants())
}

/// The credentials one target needs: `{target, credentials, warnings}`, each
/// credential a Graph body `{name, issuer, subject, audiences, description}`.
/// `spec` is `{kind: "deployment"|"esc", org, project, stack|env, …}` as in
/// `tests/vectors/subjects.json`.
#[wasm_bindgen]
pub fn credentials(spec: JsValue) -> Result<JsValue, JsValue> {
    let spec: core::TargetSpec = from_js(&spec).map_err(|e| {
        throw(core::Error::InvalidConfig {
            message: format!("invalid target description: {e}"),
            location: None,
        })
    })?;
    to_js(&core::kit::credentials(&spec).map_err(throw)?)
}

/// Plan a config given as JSON text (the config file's schema; the page builds it).
#[wasm_bindgen]
pub fn plan(config: &str) -> Result<JsValue, JsValue> {
    let config = core::Config::from_json(config).map_err(throw)?;
    to_js(&core::plan(&config).map_err(throw)?)
}

/// Render a config (JSON text): `format` is az, esc, pulumi-python, pulumi-typescript or json;
/// `options` may give `{clientId, tenantId, subscriptionId}`.
#[wasm_bindgen]
pub fn render(config: &str, format: &str, options: JsValue) -> Result<String, JsValue> {
    let config = core::Config::from_json(config).map_err(throw)?;
    let plan = core::plan(&config).map_err(throw)?;
    let format = core::RenderFormat::parse(format).map_err(throw)?;
    let options: core::kit::RenderInput = if options.is_undefined() || options.is_null() {
        core::kit::RenderInput::default()
    } else {
        from_js(&options).map_err(|e| {
            throw(core::Error::InvalidConfig {
                message: format!("invalid render options: {e}"),
                location: None,
            })
        })?
    };
    core::render(&plan, format, &options.options()).map_err(throw)
}

/// Diagnose a token, against a credential list (JSON text) when one is given, at
/// `now_seconds` (Unix time; the page passes the clock or a chosen time).
#[wasm_bindgen(js_name = diagnoseToken)]
pub fn diagnose_token(
    token: &str,
    credentials: Option<String>,
    now_seconds: f64,
) -> Result<JsValue, JsValue> {
    let list = match credentials.as_deref().filter(|c| !c.trim().is_empty()) {
        Some(text) => Some(core::parse_credential_list(text).map_err(throw)?),
        None => None,
    };
    // Beyond 2^53 seconds a JS number no longer holds whole seconds.
    const MAX_SAFE: f64 = 9_007_199_254_740_991.0;
    if !now_seconds.is_finite() || now_seconds.abs() > MAX_SAFE {
        // zmij (serde_json's float printer) rather than `f64`'s `Display`, whose two
        // printers would be in the module for this one message: 6 KB of code.
        return Err(throw(core::Error::InvalidTime {
            value: zmij::Buffer::new().format(now_seconds).to_owned(),
        }));
    }
    let d = core::diagnose_token(token, list.as_deref(), now_seconds as i64).map_err(throw)?;
    to_js(&d)
}

/// Explain an AADSTS error text.
#[wasm_bindgen(js_name = diagnoseError)]
pub fn diagnose_error(text: &str) -> Result<JsValue, JsValue> {
    to_js(&core::diagnose_error(text).map_err(throw)?)
}
