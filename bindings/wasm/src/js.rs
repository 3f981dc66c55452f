//! The few JavaScript built-ins the module calls, declared here rather than taken from
//! js-sys. js-sys declares the whole of JavaScript's standard library, and the
//! closure-taking parts of it (`forEach`, `Promise`, typed arrays' callbacks, its
//! futures executor) each leave a call shim in the module's function table that
//! wasm-bindgen cannot remove, used or not: about 5 KB of code the page never runs.

use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    /// `JSON.parse(text)`.
    #[wasm_bindgen(js_namespace = JSON, js_name = parse, catch)]
    pub fn json_parse(text: &str) -> Result<JsValue, JsValue>;

    /// `JSON.stringify(value)`: none for `undefined` or a function, an error for a
    /// cycle or a BigInt.
    #[wasm_bindgen(js_namespace = JSON, js_name = stringify, catch)]
    pub fn json_stringify(value: &JsValue) -> Result<Option<String>, JsValue>;

    /// A JavaScript `Error`.
    #[wasm_bindgen(js_name = Error)]
    pub type JsErrorObject;

    /// `new Error(message)`.
    #[wasm_bindgen(constructor, js_class = "Error")]
    pub fn new(message: &str) -> JsErrorObject;

    #[wasm_bindgen(method, setter = name, js_class = "Error")]
    pub fn set_name(this: &JsErrorObject, name: &str);

    #[wasm_bindgen(method, setter = code, js_class = "Error")]
    pub fn set_code(this: &JsErrorObject, code: i32);

    #[wasm_bindgen(method, setter = kind, js_class = "Error")]
    pub fn set_kind(this: &JsErrorObject, kind: &str);

    #[wasm_bindgen(method, setter = path, js_class = "Error")]
    pub fn set_path(this: &JsErrorObject, path: &str);
}
