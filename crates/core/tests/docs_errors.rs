//! The error table in `docs/errors.md` is generated from the core: this test renders it
//! from [`ErrorCode::ALL`] and fails when the page says anything else.
//!
//! To regenerate the table after adding or renaming a code:
//!
//! ```sh
//! UPDATE_DOCS=1 cargo test --workspace --locked --test docs_errors
//! ```
//!
//! which rewrites the region between `<!-- errors:start -->` and `<!-- errors:end -->`
//! and leaves the rest of the page alone.

use pulumi_azure_oidc::ErrorCode;
use std::fmt::Write as _;
use std::path::PathBuf;

const START: &str = "<!-- errors:start -->";
const END: &str = "<!-- errors:end -->";

/// The table, one row per code in numeric order, exactly as the page must hold it.
fn table() -> String {
    let mut out = String::new();
    out.push_str("| code | name | input error |\n");
    out.push_str("|---:|---|---|\n");
    for code in ErrorCode::ALL {
        let input = if code.is_input_error() { "yes" } else { "no" };
        let _ = writeln!(out, "| {} | `{}` | {input} |", code.as_i32(), code.name());
    }
    out
}

fn page() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/errors.md")
}

#[test]
fn the_errors_page_lists_every_code_of_the_core() {
    let path = page();
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let (Some(start), Some(end)) = (text.find(START), text.find(END)) else {
        panic!(
            "{} must hold the generated table between `{START}` and `{END}`",
            path.display()
        );
    };
    assert!(
        start < end,
        "`{START}` must come before `{END}` in {}",
        path.display()
    );

    let wanted = format!("\n{}", table());
    let found = &text[start + START.len()..end];
    if found == wanted {
        return;
    }
    if std::env::var("UPDATE_DOCS").is_ok_and(|v| v == "1") {
        let updated = format!("{}{START}{wanted}{}", &text[..start], &text[end..]);
        std::fs::write(&path, updated)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        eprintln!("rewrote the error table in {}", path.display());
        return;
    }
    panic!(
        "the error table in {} differs from the core's error codes.\n\
         Regenerate it with:\n\n    \
         UPDATE_DOCS=1 cargo test --workspace --locked --test docs_errors\n\n\
         expected:\n{wanted}\nfound:\n{found}",
        path.display()
    );
}

#[test]
fn the_table_has_one_row_per_code() {
    let rows = table().lines().count() - 2;
    assert_eq!(rows, ErrorCode::ALL.len());
}
