// Test harness for the calculator page: a static server for web/ on 127.0.0.1 (port 0)
// and headless Chromium (the system one, never a downloaded browser).

import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
// `cargo xtask test-dist` points this at the page folder unpacked from its artefact.
export const WEB = process.env.PULUMI_AZURE_OIDC_PAGE_DIR
  ? path.resolve(process.env.PULUMI_AZURE_OIDC_PAGE_DIR)
  : path.join(ROOT, "web");
export const VECTORS = path.join(ROOT, "tests/vectors");
export const SCREENSHOTS = path.join(ROOT, "target/web-screenshots");
export const CHROMIUM = "/usr/bin/chromium";

const MIME = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".wasm": "application/wasm",
  ".json": "application/json; charset=utf-8",
  ".ts": "text/plain; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".txt": "text/plain; charset=utf-8",
};

export function vectors(name) {
  return JSON.parse(fs.readFileSync(path.join(VECTORS, name), "utf8")).cases;
}

/** Fail early, and say what to do, when the WebAssembly build is missing. */
export function requireWasmBuild() {
  const js = path.join(WEB, "pkg/pulumi_azure_oidc_wasm.js");
  if (!fs.existsSync(js)) {
    throw new Error(`${path.relative(ROOT, js)} is missing: run cargo xtask wasm first`);
  }
}

/** Serve web/ read-only; resolves to {server, origin, requests}. */
export function startServer() {
  const requests = [];
  const server = http.createServer((req, res) => {
    requests.push(req.url);
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { Allow: "GET, HEAD" }).end();
      return;
    }
    let pathname;
    try {
      pathname = decodeURIComponent(new URL(req.url, "http://localhost").pathname);
    } catch {
      res.writeHead(400).end();
      return;
    }
    if (pathname.endsWith("/")) pathname += "index.html";
    const file = path.join(WEB, path.normalize(pathname));
    if (!file.startsWith(WEB + path.sep)) {
      res.writeHead(403).end();
      return;
    }
    fs.readFile(file, (err, body) => {
      if (err) {
        res.writeHead(404, { "Content-Type": "text/plain; charset=utf-8" }).end("not found");
        return;
      }
      res.writeHead(200, {
        "Content-Type": MIME[path.extname(file)] ?? "application/octet-stream",
        "Content-Length": body.length,
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
      });
      res.end(req.method === "HEAD" ? undefined : body);
    });
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      resolve({ server, origin: `http://127.0.0.1:${port}`, requests });
    });
  });
}

/** Headless Chromium with a fresh profile; resolves to {context, profile}. */
export async function launchBrowser() {
  let chromium;
  try {
    ({ chromium } = await import("playwright-core"));
  } catch {
    throw new Error("playwright-core is missing: run `npm ci` in tests/web (it downloads no browser)");
  }
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "pulumi-azure-oidc-web-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
    viewport: { width: 1280, height: 900 },
  });
  return { context, profile };
}

export function removeProfile(profile) {
  if (profile) fs.rmSync(profile, { recursive: true, force: true });
}
