//! `cargo xtask page`: the page as it ships, in `target/page/`. `web/` runs as
//! written (`cargo xtask serve`, the page tests); the shipped page is the same
//! files with the scripts bundled into one minified `app.js` and the stylesheet
//! minified, by esbuild (npm, project-local under `tests/web/`), and the module
//! shrunk further by a chosen set of binaryen's passes (`wasm-opt`, from the same npm
//! folder). One script instead of fifteen modules and their glue is 12 KB less to
//! download gzipped and one fetch instead of a module graph. `cargo xtask dist` packs this folder, `test-dist`
//! runs the page tests against it and `bench` measures it.

use crate::{Result, root, sh};
use std::path::{Path, PathBuf};

/// What `web/` holds; anything else would be left out of the shipped page silently.
const SOURCES: [&str; 5] = ["index.html", "app.js", "style.css", "js", "pkg"];

/// The block of `<link rel="modulepreload">` lines in `index.html` that only the
/// unbundled sources need: from the comment that opens it to this marker.
const MODULES_OPEN: &str = "<!-- Fetch app.js's modules";
const MODULES_CLOSE: &str = "<!-- end of the modules -->";

pub(crate) fn run() -> Result {
    let out = build()?;
    println!("the page is in {}", out.display());
    Ok(())
}

pub(crate) fn build() -> Result<PathBuf> {
    let pkg = crate::wasm::build()?;
    crate::web::npm_packages()?;
    let web = root().join("web");
    check_sources(&web)?;
    let out = crate::target_dir().join("page");
    if out.exists() {
        std::fs::remove_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    }
    std::fs::create_dir_all(out.join("pkg")).map_err(|e| format!("{}: {e}", out.display()))?;
    let esbuild = root().join("tests/web/node_modules/.bin/esbuild");
    let esbuild = esbuild.to_str().ok_or("a non-UTF-8 path to esbuild")?;
    let app = format!("--outfile={}", out.join("app.js").display());
    let css = format!("--outfile={}", out.join("style.css").display());
    let common = ["--minify", "--charset=utf8", "--log-level=warning"];
    let mut args = vec!["web/app.js", "--bundle", "--format=esm", &app];
    args.extend(common);
    sh(esbuild, &args)?;
    let mut args = vec!["web/style.css", &css];
    args.extend(common);
    sh(esbuild, &args)?;
    let html = std::fs::read_to_string(web.join("index.html")).map_err(|e| e.to_string())?;
    std::fs::write(
        out.join("index.html"),
        unindented(&without_module_preloads(&html)?)?,
    )
    .map_err(|e| e.to_string())?;
    for entry in std::fs::read_dir(&pkg).map_err(|e| format!("{}: {e}", pkg.display()))? {
        let path = entry.map_err(|e| e.to_string())?.path();
        let name = path.file_name().ok_or("a nameless file")?;
        std::fs::copy(&path, out.join("pkg").join(name))
            .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    optimize_wasm(&out.join("pkg/pulumi_azure_oidc_wasm_bg.wasm"))?;
    Ok(out)
}

/// binaryen's passes that make the gzipped module smaller, run in place. Not `-Oz`:
/// its inlining, local CSE, local coalescing and function reordering each make the
/// raw module smaller but the gzipped one larger (docs/performance.md). What is left
/// folds the functions rustc emits once per crate that instantiates them (identical
/// drop glue, `#[inline]` helpers) and identical code tails within a function, drops
/// arguments no caller varies and stores nothing reads, tidies blocks and branches,
/// and drops the producers and target-features sections nothing reads at run time:
/// −2.7 KB gzipped, measured pass by pass.
const WASM_OPT_PASSES: [&[&str]; 9] = [
    &["--duplicate-function-elimination"],
    TIDY,
    &["--dae-optimizing", "--duplicate-function-elimination"],
    TIDY,
    &["--remove-unused-module-elements"],
    &[
        "--rse",
        "--simplify-locals-nostructure",
        "--vacuum",
        "--reorder-locals",
    ],
    &["--duplicate-function-elimination"],
    TIDY,
    &["--strip-producers", "--strip-target-features"],
];

/// Block and branch clean-ups, run before and after the folding they enable.
const TIDY: &[&str] = &[
    "--remove-unused-names",
    "--merge-blocks",
    "--optimize-instructions",
    "--remove-unused-brs",
    "--code-folding",
    "--vacuum",
];

/// The WebAssembly features rustc's output uses; wasm-bindgen's output names none, and
/// wasm-opt refuses what it is not told about.
const WASM_FEATURES: &[&str] = &[
    "--enable-bulk-memory",
    "--enable-bulk-memory-opt",
    "--enable-nontrapping-float-to-int",
    "--enable-sign-ext",
    "--enable-reference-types",
    "--enable-multivalue",
    "--enable-mutable-globals",
];

fn optimize_wasm(module: &Path) -> Result {
    let wasm_opt = root().join("tests/web/node_modules/.bin/wasm-opt");
    let wasm_opt = wasm_opt.to_str().ok_or("a non-UTF-8 path to wasm-opt")?;
    let module = module.to_str().ok_or("a non-UTF-8 path to the module")?;
    let mut args: Vec<&str> = WASM_FEATURES.to_vec();
    args.extend(WASM_OPT_PASSES.concat());
    args.extend([module, "-o", module]);
    sh(wasm_opt, &args)
}

fn check_sources(web: &Path) -> Result {
    for entry in std::fs::read_dir(web).map_err(|e| format!("{}: {e}", web.display()))? {
        let name = entry.map_err(|e| e.to_string())?.file_name();
        let name = name.to_string_lossy();
        if !SOURCES.contains(&name.as_ref()) {
            return Err(format!(
                "web/{name} is not part of the shipped page; add it to SOURCES in xtask/src/page.rs \
                 and say how it ships"
            ));
        }
    }
    Ok(())
}

/// `html` without the indentation of its lines. A line break and spaces between tags
/// or words render as one space, and the line break stays; only `<pre>` and the text of
/// a `<textarea>` keep their spaces, and the page has no `<pre>` and only empty
/// textareas, which this checks.
fn unindented(html: &str) -> Result<String> {
    let textareas_with_text =
        html.matches("<textarea").count() != html.matches("></textarea>").count();
    if html.contains("<pre") || textareas_with_text {
        return Err(
            "web/index.html has a <pre> or a textarea with text, whose indentation shows".into(),
        );
    }
    let mut page = String::with_capacity(html.len());
    for line in html.lines() {
        page.push_str(line.trim_start());
        page.push('\n');
    }
    Ok(page)
}

/// `index.html` without the module preloads: in the shipped page every module is in
/// app.js, and a preload of a file that is never imported is a wasted fetch.
fn without_module_preloads(html: &str) -> Result<String> {
    let start = html
        .find(MODULES_OPEN)
        .ok_or("web/index.html: the module preloads' opening comment is missing")?;
    let end = html[start..]
        .find(MODULES_CLOSE)
        .map(|i| start + i + MODULES_CLOSE.len())
        .ok_or("web/index.html: the module preloads' closing marker is missing")?;
    let rest = html[end..].strip_prefix('\n').unwrap_or(&html[end..]);
    let page = format!("{}{rest}", &html[..start]);
    if page.contains("modulepreload") {
        return Err("web/index.html names a module outside its preload block".into());
    }
    Ok(page)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indentation_goes_and_significant_spaces_are_refused() {
        assert_eq!(
            unindented("<ul>\n    <li>a</li>\n\t<li>b\n      c</li>\n</ul>").unwrap(),
            "<ul>\n<li>a</li>\n<li>b\nc</li>\n</ul>\n"
        );
        assert_eq!(
            unindented("  <textarea id=\"t\"></textarea>").unwrap(),
            "<textarea id=\"t\"></textarea>\n"
        );
        assert!(unindented("<pre>\n  code\n</pre>").is_err());
        assert!(unindented("<textarea>\n  text</textarea>").is_err());
    }
}
