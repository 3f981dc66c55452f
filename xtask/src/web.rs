//! The browser calculator: serve it, and run its tests in a real Chromium.

use crate::{Result, root, sh};
use std::path::Path;
use std::process::Command;

/// Debian's Chromium; the tests drive it with playwright-core (no browser download).
pub(crate) const CHROMIUM: &str = "/usr/bin/chromium";

fn mime(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("wasm") => "application/wasm",
        Some("json") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("ts") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// `cargo xtask serve [PORT]`: build the page and serve `web/` on 127.0.0.1 only.
pub(crate) fn serve(args: &[String]) -> Result {
    crate::wasm::build()?;
    let port: u16 = match args.first() {
        Some(p) => p
            .parse()
            .map_err(|_| format!("`{p}` is not a port number"))?,
        None => 8765,
    };
    let server = tiny_http::Server::http(("127.0.0.1", port))
        .map_err(|e| format!("cannot listen on 127.0.0.1:{port}: {e}"))?;
    let web = root().join("web");
    println!(
        "serving {} on http://127.0.0.1:{port}/ (Ctrl-C stops)",
        web.display()
    );
    for request in server.incoming_requests() {
        let url = request
            .url()
            .split(['?', '#'])
            .next()
            .unwrap_or("/")
            .to_owned();
        let relative = url.trim_start_matches('/');
        let relative = if relative.is_empty() {
            "index.html"
        } else {
            relative
        };
        // Only plain relative paths inside web/: no `..`, no absolute paths.
        let safe = !relative
            .split('/')
            .any(|part| part == ".." || part.is_empty());
        let path = web.join(relative);
        let response = match std::fs::read(&path) {
            Ok(bytes) if safe => {
                let header = tiny_http::Header::from_bytes("Content-Type", mime(&path))
                    .map_err(|()| "bad header".to_owned())?;
                request.respond(tiny_http::Response::from_data(bytes).with_header(header))
            }
            _ => {
                request.respond(tiny_http::Response::from_string("not found").with_status_code(404))
            }
        };
        if let Err(e) = response {
            eprintln!("xtask: serve: {e}");
        }
    }
    Ok(())
}

pub(crate) fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// Make sure Chromium and the npm packages the page tests need are there: Chromium
/// from Debian (installed when running as root, else the exact command is printed),
/// playwright-core project-local from the committed lockfile.
pub(crate) fn setup() -> Result {
    if !Path::new(CHROMIUM).exists() {
        if is_root() {
            sh("apt-get", &["update"])?;
            sh("apt-get", &["install", "-y", "chromium"])?;
        } else {
            return Err(format!(
                "the page tests need Debian's Chromium at {CHROMIUM}; install it with:\n  \
                 sudo apt-get update && sudo apt-get install -y chromium"
            ));
        }
    }
    npm_packages()
}

/// playwright-core (the page tests) and esbuild (the shipped page), from the committed
/// lockfile into `tests/web/node_modules`.
pub(crate) fn npm_packages() -> Result {
    let tests = root().join("tests/web");
    let modules = tests.join("node_modules");
    let tools = ["playwright-core", ".bin/esbuild", ".bin/wasm-opt"];
    if tools.iter().any(|t| !modules.join(t).exists()) {
        let status = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&tests)
            .status()
            .map_err(|e| format!("cannot run npm (install Node.js 20 and npm): {e}"))?;
        if !status.success() {
            return Err(format!("`npm ci` in {} failed ({status})", tests.display()));
        }
    }
    Ok(())
}

/// Build the page and run `node --test tests/web/`.
pub(crate) fn test() -> Result<(u64, u64)> {
    crate::wasm::build()?;
    setup()?;
    crate::node_test(&["--test", "tests/web/"])
}
