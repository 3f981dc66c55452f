#![allow(clippy::unwrap_used)]
//! The `pulumi-azure-oidc-emulator` binary: it prints its endpoints and CA path, then
//! `ready`; serves requests; stops cleanly (exit 0, `stopped`) on SIGINT and SIGTERM;
//! and `--help` documents every flag.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_pulumi-azure-oidc-emulator");

struct Running {
    child: Child,
    lines: mpsc::Receiver<String>,
    values: BTreeMap<String, String>,
}

impl Drop for Running {
    fn drop(&mut self) {
        // Only if a test failed half-way; the child is ours.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(args: &[&str]) -> Running {
    let mut child = Command::new(BIN)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut values = BTreeMap::new();
    loop {
        let line = lines
            .recv_timeout(Duration::from_secs(30))
            .expect("the emulator did not print `ready` within 30 s");
        if line == "ready" {
            break;
        }
        if let Some((k, v)) = line.split_once('=') {
            values.insert(k.to_owned(), v.to_owned());
        }
    }
    Running {
        child,
        lines,
        values,
    }
}

fn signal_and_wait(mut running: Running, signal: &str) {
    let pid = running.child.id().to_string();
    let status = Command::new("kill").args([signal, &pid]).status().unwrap();
    assert!(status.success());
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let exit = loop {
        if let Some(exit) = running.child.try_wait().unwrap() {
            break exit;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no exit within 10 s of {signal}"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(exit.success(), "{signal}: {exit:?}");
    let rest: Vec<String> = running.lines.try_iter().collect();
    let rest = if rest.is_empty() {
        // The reader thread may lag the exit by a moment.
        running
            .lines
            .recv_timeout(Duration::from_secs(2))
            .into_iter()
            .collect()
    } else {
        rest
    };
    assert_eq!(rest.last().map(String::as_str), Some("stopped"), "{rest:?}");
}

async fn serves(values: &BTreeMap<String, String>) {
    let pem = std::fs::read(&values["ca_file"]).unwrap();
    assert!(pem.starts_with(b"-----BEGIN CERTIFICATE-----"));
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap())
        .build()
        .unwrap();
    for base in [&values["http_url"], &values["https_url"]] {
        let r = client
            .get(format!("{base}/_emulator/info"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let info: serde_json::Value = r.json().await.unwrap();
        assert_eq!(
            info["https_url"].as_str(),
            Some(values["https_url"].as_str())
        );
    }
    // A real service request: an operator token over HTTPS.
    let r = client
        .post(format!(
            "{}/{}/oauth2/v2.0/token",
            values["https_url"], values["tenant_id"]
        ))
        .form(&[
            ("client_id", values["client_id"].as_str()),
            ("client_secret", "emulator-operator-secret"),
            ("grant_type", "client_credentials"),
            ("scope", "https://graph.microsoft.com/.default"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

fn temp_ca(name: &str) -> PathBuf {
    std::env::temp_dir()
        .join(format!("emulator-binary-test-{}", std::process::id()))
        .join(name)
}

#[tokio::test(flavor = "multi_thread")]
async fn starts_prints_serves_and_stops_on_sigint() {
    let ca = temp_ca("sigint-ca.pem");
    let running = start(&[
        "--port",
        "0",
        "--seed",
        "9",
        "--ca-file",
        ca.to_str().unwrap(),
    ]);
    let v = &running.values;
    for key in [
        "http_url",
        "https_url",
        "ca_file",
        "tenant_id",
        "client_id",
        "issuer",
        "graph_url",
    ] {
        assert!(v.contains_key(key), "{key} missing from {v:?}");
    }
    assert!(v["http_url"].starts_with("http://127.0.0.1:"));
    assert!(v["https_url"].starts_with("https://127.0.0.1:"));
    assert_eq!(PathBuf::from(&v["ca_file"]), ca);
    assert_eq!(v["issuer"], "https://api.pulumi.com/oidc");
    assert_eq!(v["graph_url"], format!("{}/v1.0", v["https_url"]));
    serves(v).await;
    signal_and_wait(running, "-INT");
    let _ = std::fs::remove_dir_all(ca.parent().unwrap());
}

#[tokio::test(flavor = "multi_thread")]
async fn stops_on_sigterm_with_the_default_ca_file() {
    let running = start(&[
        "--replication-lag-ms",
        "10",
        "--throttle-rate",
        "0",
        "--rate-scale",
        "50.5",
        "--identity-credential-write-ms",
        "5",
    ]);
    assert!(PathBuf::from(&running.values["ca_file"]).is_file());
    serves(&running.values).await;
    signal_and_wait(running, "-TERM");
}

#[test]
fn help_documents_every_flag() {
    let out = Command::new(BIN).arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    for flag in [
        "--bind",
        "--port",
        "--https-port",
        "--seed",
        "--latency-ms",
        "--spike-rate",
        "--spike-ms",
        "--throttle-rate",
        "--retry-after-max",
        "--server-error-rate",
        "--drop-rate",
        "--replication-lag-ms",
        "--fic-propagation-ms",
        "--tenant-id",
        "--client-id",
        "--client-secret",
        "--read-only-operator",
        "--pulumi-token",
        "--issuer",
        "--free-org",
        "--missing-stack",
        "--ca-file",
        "--managed-identity-header",
        "--rate-scale",
        "--identity-credential-write-ms",
        "--help",
        "--version",
    ] {
        assert!(
            help.contains(flag),
            "--help does not document {flag}:\n{help}"
        );
    }
    // No secret defaults in the help text.
    assert!(!help.contains("emulator-operator-secret"), "{help}");
    assert!(!help.contains("pul-emulator-access-token"), "{help}");
}

#[test]
fn bad_arguments_fail_with_a_message() {
    for args in [
        &["--throttle-rate", "2"][..],
        &["--throttle-rate", "0.6", "--drop-rate", "0.6"][..],
        &["--read-only-operator", "no-colon"][..],
        &["--port", "not-a-port"][..],
        &["--rate-scale", "0"][..],
        &["--rate-scale", "-1"][..],
        &["--rate-scale", "inf"][..],
        &["--identity-credential-write-ms", "-5"][..],
        &["--no-such-flag"][..],
    ] {
        let out = Command::new(BIN).args(args).output().unwrap();
        assert!(!out.status.success(), "{args:?} succeeded");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("error"), "{args:?}: {err}");
        assert!(!String::from_utf8_lossy(&out.stdout).contains("ready"));
    }
}
