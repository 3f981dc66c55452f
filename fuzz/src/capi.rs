//! (e) The C ABI's string entry points, called as C calls them: NUL-terminated
//! arbitrary bytes (not necessarily UTF-8), results freed with `paoidc_string_free`.
//!
//! Shared by the `capi` fuzz target and the stable replay test
//! (`bindings/c/tests/fuzz_replay.rs`); both include the C library's source as the
//! module `crate::ffi`, because a Rust library of it would share the core's name
//! (`pulumi_azure_oidc`, which gives `libpulumi_azure_oidc.so` its name).
//!
//! Input layout: the first byte picks the entry point, the rest is split at NUL bytes
//! into its string arguments (a missing argument is passed as NULL).

#![allow(unsafe_code)] // calling the C ABI is what this checks

use crate::ffi;
use std::ffi::{CStr, CString, c_char};
use std::ptr;

const NOW: i64 = 1_767_225_600; // 2026-01-01T00:00:00Z

/// Returns the status the call answered (0 for empty input, which calls nothing).
pub fn capi(data: &[u8]) -> i32 {
    let Some((&selector, rest)) = data.split_first() else {
        return 0;
    };
    let args: Vec<CString> = rest
        .split(|&b| b == 0)
        .take(3)
        .map(|part| CString::new(part).expect("split at NUL"))
        .collect();
    let arg = |i: usize| args.get(i).map_or(ptr::null(), |a| a.as_ptr());
    let mut out: *mut c_char = ptr::null_mut();
    // SAFETY: every argument is NULL or a NUL-terminated string that outlives the
    // call; `out` is a valid place for one pointer.
    let (status, json) = unsafe {
        match selector % 5 {
            0 => (ffi::paoidc_credentials(arg(0), &mut out), true),
            1 => (ffi::paoidc_plan(arg(0), &mut out), true),
            2 => (ffi::paoidc_render(arg(0), arg(1), arg(2), &mut out), false),
            3 => (
                ffi::paoidc_diagnose_token(arg(0), arg(1), NOW, &mut out),
                true,
            ),
            _ => (ffi::paoidc_diagnose_error(arg(0), &mut out), true),
        }
    };
    let code = status as i32;
    assert_ne!(
        status,
        ffi::PaoidcStatus::Panic,
        "a panic reached the C boundary"
    );
    // SAFETY: the library returns static strings and a thread-local message that
    // stays valid until the next call on this thread.
    let (last_code, message, name) = unsafe {
        (
            ffi::paoidc_last_error_code(),
            CStr::from_ptr(ffi::paoidc_last_error_message())
                .to_str()
                .expect("the last error message is UTF-8")
                .to_owned(),
            CStr::from_ptr(ffi::paoidc_status_str(code))
                .to_str()
                .expect("status names are UTF-8"),
        )
    };
    assert_eq!(
        last_code, code,
        "the last error code is the returned status"
    );
    assert_ne!(name, "unknown_status", "status {code} has no name");
    if code == 0 {
        assert!(!out.is_null(), "success without a result");
        // SAFETY: a success hands over a NUL-terminated string the caller owns.
        let text = unsafe { CStr::from_ptr(out) }
            .to_str()
            .expect("results are UTF-8")
            .to_owned();
        // SAFETY: returned by the library, freed once.
        unsafe { ffi::paoidc_string_free(out) };
        if json {
            serde_json::from_str::<serde_json::Value>(&text).expect("a JSON result parses");
        }
        assert!(message.is_empty(), "a success leaves an error message");
    } else {
        assert!(out.is_null(), "a failure leaves a result pointer");
        assert!(
            !message.trim().is_empty(),
            "status {code} without a message"
        );
        assert!(
            message.len() <= 4096,
            "an error message of {} bytes",
            message.len()
        );
    }
    code
}
