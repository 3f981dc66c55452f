//! `cargo xtask wasm-sizes`: what makes the page's WASM heavy, by crate and by
//! function. Builds the same code as `cargo xtask wasm` with its function names kept
//! (profile `wasm-names`) and trims it with wasm-bindgen as the page's build does, so
//! that the sizes are those of the module the page loads; then reads the code
//! section's body sizes and the name section with wasmparser, the parser walrus itself
//! uses: no tool to install. `--all=FILE` writes every function's size and name, one
//! per line, tab-separated, for the analyses the summary does not make; `--keeps=N`
//! lists the N functions that keep the most code in the module (`wasm_calls`).

use std::collections::HashMap;

use crate::{Result, root};

pub(crate) fn run(extra: &[String]) -> Result {
    let top: usize = extra
        .iter()
        .find_map(|a| a.strip_prefix("--top=").and_then(|n| n.parse().ok()))
        .unwrap_or(30);
    crate::wasm::cargo_build("wasm-names")?;
    let input = root().join("target/wasm32-unknown-unknown/wasm-names/pulumi_azure_oidc_wasm.wasm");
    let out = crate::target_dir().join("wasm-sizes");
    crate::wasm::bindgen(&input, &out, true)?;
    let path = out.join("pulumi_azure_oidc_wasm_bg.wasm");
    let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let (functions, data) = sizes(&bytes)?;
    let code: usize = functions.iter().map(|(_, s)| s).sum();
    println!(
        "{}: {} bytes; code {code}, data {data}, other {}",
        path.display(),
        bytes.len(),
        bytes.len().saturating_sub(code + data)
    );
    let mut by_crate: HashMap<String, usize> = HashMap::new();
    for (name, size) in &functions {
        *by_crate.entry(crate_of(name)).or_default() += size;
    }
    let mut crates: Vec<_> = by_crate.into_iter().collect();
    crates.sort_by_key(|c| std::cmp::Reverse(c.1));
    println!("\ncode by crate (first path segment of each function):");
    for (name, size) in crates.iter().take(top) {
        println!(
            "{size:>9}  {:>5.1} %  {name}",
            100.0 * *size as f64 / code as f64
        );
    }
    if let Some(file) = extra.iter().find_map(|a| a.strip_prefix("--all=")) {
        let all: String = functions
            .iter()
            .map(|(n, s)| format!("{s}\t{n}\n"))
            .collect();
        std::fs::write(file, all).map_err(|e| format!("{file}: {e}"))?;
    }
    if let Some(n) = extra.iter().find_map(|a| {
        a.strip_prefix("--keeps=")
            .and_then(|n| n.parse::<usize>().ok())
    }) {
        let graph = crate::wasm_calls::Graph::read(&bytes)?;
        let name = |f: u32| -> String {
            let shown = graph
                .defined(f)
                .and_then(|i| functions.get(i))
                .map_or("(imported)", |(n, _)| n.as_str());
            shown.chars().take(100).collect()
        };
        println!("\nfunctions that keep the most code (own size, what goes with them, callers):");
        for k in graph.keeps().iter().take(n) {
            let callers: Vec<String> = k.callers.iter().take(2).map(|&c| name(c)).collect();
            println!(
                "{:>9} {:>7}  {}  <- {}{}",
                k.keeps,
                k.own,
                name(k.function),
                callers.join(" | "),
                if k.callers.len() > 2 { " | …" } else { "" }
            );
        }
    }
    let mut largest = functions;
    largest.sort_by_key(|f| std::cmp::Reverse(f.1));
    println!("\nlargest functions:");
    for (name, size) in largest.iter().take(top) {
        let shown: String = name.chars().take(140).collect();
        println!("{size:>9}  {shown}");
    }
    Ok(())
}

/// Each function's demangled name and body size, and the data segments' total size.
fn sizes(bytes: &[u8]) -> Result<(Vec<(String, usize)>, usize)> {
    use wasmparser::{KnownCustom, Name, Parser, Payload};
    let mut imported: u32 = 0;
    let mut bodies: Vec<usize> = Vec::new();
    let mut names: HashMap<u32, String> = HashMap::new();
    let mut data = 0usize;
    for payload in Parser::new(0).parse_all(bytes) {
        match payload.map_err(|e| format!("wasm: {e}"))? {
            Payload::ImportSection(reader) => {
                for import in reader.into_imports() {
                    let import = import.map_err(|e| format!("wasm: {e}"))?;
                    if matches!(import.ty, wasmparser::TypeRef::Func(_)) {
                        imported += 1;
                    }
                }
            }
            Payload::CodeSectionEntry(body) => bodies.push(body.range().len()),
            Payload::DataSection(reader) => {
                for segment in reader {
                    data += segment.map_err(|e| format!("wasm: {e}"))?.data.len();
                }
            }
            Payload::CustomSection(custom) => {
                if let KnownCustom::Name(reader) = custom.as_known() {
                    for name in reader {
                        if let Ok(Name::Function(map)) = name {
                            for naming in map.into_iter().flatten() {
                                let name = format!("{:#}", rustc_demangle::demangle(naming.name));
                                names.insert(naming.index, without_crate_hashes(&name));
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }
    let functions = bodies
        .into_iter()
        .enumerate()
        .map(|(i, size)| {
            let index = imported + u32::try_from(i).unwrap_or(u32::MAX);
            let name = names
                .remove(&index)
                .unwrap_or_else(|| format!("(function {index})"));
            (name, size)
        })
        .collect();
    Ok((functions, data))
}

/// `name` without the `[0123456789abcdef]` that follows each crate in a v0-demangled
/// path: the same in every function of a crate, and in the way when reading.
fn without_crate_hashes(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut rest = name;
    while let Some(open) = rest.find('[') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find(']') {
            Some(close)
                if (8..=16).contains(&close)
                    && after[..close].bytes().all(|b| b.is_ascii_hexdigit()) =>
            {
                rest = &after[close + 1..];
            }
            _ => {
                out.push('[');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The crate a demangled path starts with; `<T as Trait>` impls are filed under the
/// crate of the trait's implementor where the name says it.
fn crate_of(name: &str) -> String {
    let trimmed = name.trim_start_matches('<').trim_start_matches('&');
    let first = trimmed
        .split("::")
        .next()
        .unwrap_or(trimmed)
        .split([' ', '<', '>'])
        .next()
        .unwrap_or_default();
    if first.is_empty() {
        "(unnamed)".to_owned()
    } else {
        first.to_owned()
    }
}
