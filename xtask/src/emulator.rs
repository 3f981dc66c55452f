//! Start the emulator binary for the demo and the benchmarks, and talk to its admin
//! endpoints over plain HTTP (std only: xtask stays free of an HTTP stack).

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};

use crate::Result;

pub(crate) struct EmulatorProcess {
    child: Child,
    pub(crate) info: HashMap<String, String>,
}

impl EmulatorProcess {
    /// Start `bin` with `args` and wait for its `ready` line.
    pub(crate) fn start(bin: &Path, args: &[&str]) -> Result<Self> {
        let mut child = Command::new(bin)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
        let stdout = child.stdout.take().ok_or("the emulator has no stdout")?;
        let mut info = HashMap::new();
        for line in BufReader::new(stdout).lines() {
            let line = line.map_err(|e| e.to_string())?;
            if line == "ready" {
                return Ok(Self { child, info });
            }
            if let Some((k, v)) = line.split_once('=') {
                info.insert(k.to_owned(), v.to_owned());
            }
        }
        let _ = child.kill();
        Err("the emulator stopped before it was ready".into())
    }

    pub(crate) fn get(&self, key: &str) -> &str {
        self.info.get(key).map(String::as_str).unwrap_or("")
    }

    /// An admin request over the emulator's plain-HTTP listener; the JSON answer.
    pub(crate) fn admin(&self, method: &str, path: &str, body: &str) -> Result<serde_json::Value> {
        let base = self.get("http_url");
        let host = base.trim_start_matches("http://");
        let mut stream =
            TcpStream::connect(host).map_err(|e| format!("cannot reach the emulator: {e}"))?;
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .map_err(|e| e.to_string())?;
        let mut response = String::new();
        stream
            .read_to_string(&mut response)
            .map_err(|e| e.to_string())?;
        let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
        if !head.starts_with("HTTP/1.1 2") {
            return Err(format!(
                "{method} {path}: {}",
                head.lines().next().unwrap_or("")
            ));
        }
        // The emulator answers with a content length, never chunked.
        Ok(serde_json::from_str(body).unwrap_or(serde_json::Value::Null))
    }

    pub(crate) fn mint(&self, request: &serde_json::Value) -> Result<String> {
        let v = self.admin("POST", "/_emulator/mint", &request.to_string())?;
        v["token"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| "the emulator minted no token".into())
    }
}

impl Drop for EmulatorProcess {
    fn drop(&mut self) {
        // SIGTERM first so it stops cleanly; then make sure.
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}
