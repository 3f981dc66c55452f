//! The provisioning commands as a user runs them: the binary against an in-process
//! emulator, with marker values for every secret to prove none is ever printed.
#![allow(clippy::unwrap_used)]

use assert_cmd::Command;
use pulumi_azure_oidc_emulator as emu;

const CLIENT_SECRET: &str = "MARKER-client-secret-7f3a";
const PULUMI_TOKEN: &str = "MARKER-pulumi-token-91bc";
/// Put into every Azure access token the emulator issues.
const ACCESS_TOKEN_MARKER: &str = "MARKER-access-token-c41d";
/// The first segment of every JWT the emulator signs (its access tokens and the OIDC
/// tokens it mints): none may be printed, whole or in part.
const EMULATOR_JWT_HEADER: &str =
    "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiIsImtpZCI6ImVtdWxhdG9yLWtleS0xIn0";

const CONFIG: &str = r#"
org: contoso
azure:
  tenant: 6f2c1d4e-8a3b-4c5d-9e0f-1a2b3c4d5e6f
deployments:
  - project: core
    stacks: [dev, prod]
    roles:
      - { role: Contributor, scope: /subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590/resourceGroups/core }
esc:
  - project: azure
    envs: [dev]
"#;

struct Setup {
    rt: tokio::runtime::Runtime,
    emulator: Option<emu::Emulator>,
    dir: tempfile::TempDir,
}

impl Setup {
    fn new(options: emu::Options) -> Self {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let emulator = rt.block_on(emu::Emulator::start(emu::Options {
            operators: vec![emu::Operator {
                client_id: emu::DEFAULT_OPERATOR_CLIENT_ID.into(),
                client_secret: CLIENT_SECRET.into(),
                rights: emu::Rights::Full,
            }],
            pulumi_token: PULUMI_TOKEN.into(),
            token_marker: ACCESS_TOKEN_MARKER.into(),
            ..options
        }));
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("config.yaml"), CONFIG).unwrap();
        Self {
            rt,
            emulator: Some(emulator.unwrap()),
            dir,
        }
    }

    fn emu(&self) -> &emu::Emulator {
        self.emulator.as_ref().unwrap()
    }

    fn config(&self) -> String {
        self.dir.path().join("config.yaml").display().to_string()
    }

    fn std_cli(&self, args: &[&str]) -> std::process::Command {
        let e = self.emu();
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_pulumi-azure-oidc"));
        for name in [
            "AZURE_FEDERATED_TOKEN_FILE",
            "IDENTITY_ENDPOINT",
            "MSI_ENDPOINT",
            "ARM_CLIENT_ID",
            "ARM_TENANT_ID",
            "PULUMI_BACKEND_URL",
            "PULUMI_OIDC_TOKEN",
        ] {
            cmd.env_remove(name);
        }
        cmd.env("HOME", self.dir.path())
            .env("PULUMI_AZURE_OIDC_ENDPOINT", e.https_url())
            .env("PULUMI_AZURE_OIDC_CA_FILE", e.ca_file())
            .env("AZURE_TENANT_ID", emu::DEFAULT_TENANT_ID)
            .env("AZURE_CLIENT_ID", emu::DEFAULT_OPERATOR_CLIENT_ID)
            .env("AZURE_CLIENT_SECRET", CLIENT_SECRET)
            .env("PULUMI_ACCESS_TOKEN", PULUMI_TOKEN)
            .args(args);
        cmd
    }

    fn cli(&self, args: &[&str]) -> Command {
        Command::from_std(self.std_cli(args))
    }
}

impl Drop for Setup {
    fn drop(&mut self) {
        if let Some(e) = self.emulator.take() {
            self.rt.block_on(e.shutdown());
        }
    }
}

/// Run, check the exit status, and return everything printed.
fn run<C: std::borrow::BorrowMut<Command>>(mut cmd: C, expect: i32) -> String {
    let out = cmd.borrow_mut().output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(expect), "{text}");
    text
}

#[test]
fn apply_status_verify_destroy_and_no_secret_is_ever_printed() {
    let s = Setup::new(emu::Options::default());
    let config = s.config();
    let mut printed = String::new();

    printed += &run(s.cli(&["apply", "--config", &config, "--dry-run"]), 0);
    let out = run(
        s.cli(&[
            "-vvv", "apply", "--config", &config, "--yes", "--output", "json",
        ]),
        0,
    );
    let json_start = out.find('{').unwrap();
    let report: serde_json::Value = serde_json::Deserializer::from_str(&out[json_start..])
        .into_iter()
        .next()
        .unwrap()
        .unwrap();
    assert_eq!(report["dry_run"], false);
    assert!(report["applied"].as_u64().unwrap() > 10, "{report}");
    assert_eq!(report["apps"].as_array().unwrap().len(), 2);
    assert!(report["apps"][0]["client_id"].is_string());
    assert!(
        report["esc_environments"]["contoso/azure/dev"]
            .as_str()
            .unwrap()
            .contains("fn::open::azure-login")
    );
    printed += &out;

    let status = run(s.cli(&["status", "--config", &config, "-vv"]), 0);
    // The most verbose level does log every request, so the checks below mean something.
    assert!(
        status.contains("request") && status.contains("status=200"),
        "{status}"
    );
    printed += &status;
    // doctor judges the live set-up apply made: healthy, by config or by name.
    let healthy = run(s.cli(&["doctor", "--config", &config, "-vv"]), 0);
    assert!(healthy.contains("Healthy"), "{healthy}");
    assert!(healthy.contains("stack contoso/core/prod"), "{healthy}");
    printed += &healthy;
    let one = run(
        s.cli(&["doctor", "--env", "contoso/azure/dev", "--output", "json"]),
        0,
    );
    let report: serde_json::Value = serde_json::from_str(&one).unwrap();
    assert_eq!(report["targets"][0]["kind"], "environment", "{report}");
    printed += &one;
    // A `"*"` entry is filled from Pulumi Cloud's list of the org's stacks, which now
    // holds the two stacks apply gave settings to.
    let star = s.dir.path().join("star.yaml");
    std::fs::write(
        &star,
        "org: contoso\ndeployments:\n  - project: core\n    stacks: \"*\"\n    exclude: [prod]\n",
    )
    .unwrap();
    let star = star.display().to_string();
    let planned = run(s.cli(&["plan", "--config", &star]), 0);
    assert!(
        planned.contains("found in Pulumi Cloud: stack contoso/core/dev"),
        "{planned}"
    );
    assert!(!planned.contains("core/prod"), "{planned}");
    // adopt writes a config pinned to the app apply made; applying it changes nothing.
    let adopted = s.dir.path().join("adopted.yaml").display().to_string();
    let said = run(
        s.cli(&["adopt", "--org", "contoso", "--config-out", &adopted]),
        0,
    );
    assert!(said.contains("adopted 3 target(s)"), "{said}");
    let text = std::fs::read_to_string(&adopted).unwrap();
    assert!(text.contains("holder: { clientId: "), "{text}");
    let unchanged = run(s.cli(&["apply", "--config", &adopted, "--yes"]), 0);
    assert!(unchanged.contains("nothing to change"), "{unchanged}");
    let malformed = run(s.cli(&["doctor", "--stack", "contoso/core"]), 2);
    assert!(malformed.contains("ORG/PROJECT/NAME"), "{malformed}");
    let again = run(s.cli(&["apply", "--config", &config, "--yes"]), 0);
    assert!(again.contains("nothing to change"), "{again}");
    printed += &again;

    let token = s
        .emu()
        .mint(&emu::MintRequest::deployment(
            "contoso", "core", "prod", "preview",
        ))
        .unwrap();
    let ok = run(
        s.cli(&["verify", "--config", &config, "--token", &token, "-vvv"]),
        0,
    );
    assert!(ok.contains("accepted for client id"), "{ok}");
    printed += &ok;

    let mut bad = emu::MintRequest::esc("contoso", "azure", "dev");
    bad.subject = Some("pulumi:environments:org:contoso:env:<yaml>".into());
    let bad_token = s.emu().mint(&bad).unwrap();
    let token_file = s.dir.path().join("bad.jwt");
    std::fs::write(&token_file, &bad_token).unwrap();
    let refused = run(
        s.cli(&[
            "verify",
            "--config",
            &config,
            "--token",
            &format!("@{}", token_file.display()),
            "--wait",
            "0",
            "--output",
            "json",
        ]),
        1,
    );
    assert!(
        refused.contains("no app in the plan trusts this token"),
        "{refused}"
    );
    printed += &refused;

    // Refuses to write unasked when nobody can confirm.
    let mut unasked = s.cli(&["destroy", "--config", &config]);
    let text = run(unasked.write_stdin(""), 2);
    assert!(text.contains("--yes"), "{text}");
    assert!(s.emu().state()["applications"].as_array().unwrap().len() == 2);

    printed += &run(s.cli(&["destroy", "--config", &config, "--yes", "-vvv"]), 0);
    assert_eq!(s.emu().state()["applications"].as_array().unwrap().len(), 0);
    // Now the stack names no login: a finding, exit 1, with the fix.
    let broken = run(s.cli(&["doctor", "--stack", "contoso/core/dev"]), 1);
    assert!(broken.contains("OIDC to Azure is not enabled"), "{broken}");
    assert!(broken.contains("fix:"), "{broken}");
    printed += &broken;
    // A Pulumi token the service refuses: nothing could be checked, exit 2.
    let mut refused = s.cli(&["doctor", "--stack", "contoso/core/dev"]);
    refused.env("PULUMI_ACCESS_TOKEN", "pul-refused-token");
    let unchecked = run(refused, 2);
    assert!(unchecked.contains("could not read"), "{unchecked}");
    assert!(!unchecked.contains("pul-refused-token"), "{unchecked}");
    printed += &unchecked;

    // A refused secret: a clear error, and still no secret in it.
    let wrong = run(
        s.cli(&["status", "--config", &config, "-vvv"])
            .env("AZURE_CLIENT_SECRET", "MARKER-wrong-secret-55aa"),
        2,
    );
    assert!(wrong.contains("authentication failed"), "{wrong}");
    assert!(!wrong.contains("MARKER-wrong-secret-55aa"), "{wrong}");
    printed += &wrong;

    for secret in [
        CLIENT_SECRET,
        PULUMI_TOKEN,
        token.as_str(),
        bad_token.as_str(),
        signature(&token),
        signature(&bad_token),
        EMULATOR_JWT_HEADER,
        ACCESS_TOKEN_MARKER,
    ] {
        assert!(
            !printed.contains(secret),
            "`{secret}` was printed:\n{printed}"
        );
    }
}

#[test]
fn managed_identity_authenticates_through_the_emulator() {
    let s = Setup::new(emu::Options {
        managed_identity_header: Some("mi-header-value".into()),
        ..emu::Options::default()
    });
    let config = s.config();
    let text = run(
        s.cli(&[
            "apply",
            "--config",
            &config,
            "--dry-run",
            "--auth",
            "managed-identity",
        ])
        .env_remove("AZURE_CLIENT_SECRET")
        .env_remove("AZURE_CLIENT_ID")
        .env(
            "IDENTITY_ENDPOINT",
            format!("{}/msi/token", s.emu().http_url()),
        )
        .env("IDENTITY_HEADER", "mi-header-value"),
        0,
    );
    assert!(text.contains("changes:"), "{text}");
}

#[test]
fn missing_credentials_are_named() {
    let s = Setup::new(emu::Options::default());
    let config = s.config();
    let text = run(
        s.cli(&["status", "--config", &config])
            .env_remove("PULUMI_ACCESS_TOKEN"),
        2,
    );
    assert!(text.contains("PULUMI_ACCESS_TOKEN"), "{text}");
    let text = run(
        s.cli(&["status", "--config", &config, "--auth", "client-secret"])
            .env_remove("AZURE_CLIENT_SECRET"),
        2,
    );
    assert!(text.contains("AZURE_CLIENT_SECRET"), "{text}");
    let text = run(
        s.cli(&["verify", "--wait", "0"])
            .env_remove("AZURE_CLIENT_SECRET"),
        2,
    );
    assert!(text.contains("PULUMI_OIDC_TOKEN"), "{text}");
}

#[test]
fn the_pulumi_token_comes_from_the_pulumi_cli_login_too() {
    let s = Setup::new(emu::Options::default());
    let config = s.config();
    // What `pulumi login` leaves behind, keyed by the backend URL.
    let home = s.dir.path().join(".pulumi");
    std::fs::create_dir_all(&home).unwrap();
    let url = s.emu().https_url().to_owned();
    std::fs::write(
        home.join("credentials.json"),
        serde_json::json!({"current": url, "accessTokens": {url.clone(): PULUMI_TOKEN}})
            .to_string(),
    )
    .unwrap();
    let text = run(
        s.cli(&["status", "--config", &config])
            .env_remove("PULUMI_ACCESS_TOKEN"),
        1,
    );
    assert!(text.contains("run apply"), "{text}");
    assert!(!text.contains(PULUMI_TOKEN), "{text}");
}

/// How many times the soak loops repeat: `cargo xtask soak` raises it.
fn soak_rounds() -> u64 {
    std::env::var("PAOIDC_SOAK_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n| n >= 1)
        .unwrap_or(1)
}

/// The emulator holds exactly the config's two apps, their service principals and
/// the one role assignment, each once.
fn assert_converged_once(s: &Setup, config: &str, what: &str) {
    let status = run(s.cli(&["status", "--config", config]), 0);
    assert!(status.contains("Everything matches"), "{what}: {status}");
    let state = s.emu().state();
    for (kind, n) in [
        ("applications", 2),
        ("servicePrincipals", 2),
        ("roleAssignments", 1),
    ] {
        assert_eq!(
            state[kind].as_array().unwrap().len(),
            n,
            "{what}: {kind}: {state}"
        );
    }
}

#[test]
fn an_apply_killed_at_any_point_is_finished_by_a_rerun() {
    let s = Setup::new(emu::Options {
        faults: emu::FaultOptions {
            latency_ms: 15,
            ..Default::default()
        },
        ..emu::Options::default()
    });
    let config = s.config();
    // A run takes about a second at this latency; the kill points cover it, and each
    // soak round shifts them so many different requests are cut.
    let mut points = 0;
    for round in 0..soak_rounds() {
        for base in [40u64, 120, 250, 400, 600, 900] {
            let after_ms = base + (round * 37) % 110;
            let what = format!("kill at {after_ms} ms (round {round})");
            // SIGKILL mid-run: no handler runs, whatever request was in flight is cut.
            let mut child = s
                .std_cli(&["apply", "--config", &config, "--yes"])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap();
            std::thread::sleep(std::time::Duration::from_millis(after_ms));
            let _ = child.kill();
            let _ = child.wait();
            run(s.cli(&["apply", "--config", &config, "--yes"]), 0);
            assert_converged_once(&s, &config, &what);
            // Start the next round from nothing.
            run(s.cli(&["destroy", "--config", &config, "--yes"]), 0);
            points += 1;
        }
    }
    eprintln!("kill points: {points} runs converged");
}

#[test]
fn two_apply_processes_at_once_make_no_duplicates() {
    let s = Setup::new(emu::Options {
        faults: emu::FaultOptions {
            latency_ms: 5,
            ..Default::default()
        },
        ..emu::Options::default()
    });
    let config = s.config();
    for round in 0..2 * soak_rounds() {
        let what = format!("round {round}");
        let spawn = || {
            s.std_cli(&["apply", "--config", &config, "--yes"])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        };
        let (a, b) = (spawn(), spawn());
        for out in [a.wait_with_output().unwrap(), b.wait_with_output().unwrap()] {
            // Every write is an upsert by key, so both usually succeed; one that
            // loses a race must say which request was refused, not fail silently.
            if !out.status.success() {
                let err = String::from_utf8_lossy(&out.stderr);
                assert!(err.contains("refused"), "{what}: {err}");
            }
        }
        run(s.cli(&["apply", "--config", &config, "--yes"]), 0);
        assert_converged_once(&s, &config, &what);
        run(s.cli(&["destroy", "--config", &config, "--yes"]), 0);
    }
}

/// The signature segment of a compact JWT: never shown, even where claims are.
fn signature(jwt: &str) -> &str {
    jwt.rsplit('.').next().unwrap()
}

/// A stack held by a user-assigned managed identity, through the CLI: the emulator
/// meters identity credential writes at Azure's rates fifty times faster, and the CLI
/// is told the same scale.
#[test]
fn a_managed_identity_holder_from_apply_to_destroy() {
    let s = Setup::new(emu::Options {
        rate_scale: 50.0,
        ..emu::Options::default()
    });
    let config = s.dir.path().join("identity.yaml");
    std::fs::write(
        &config,
        format!(
            "org: contoso\nazure:\n  tenant: {0}\n  subscription: {1}\n\
             deployments:\n  - project: platform\n    stacks: [prod]\n    holder: {{ managedIdentity: {{ resourceGroup: pulumi-oidc, location: westeurope }} }}\n    roles: [{{ role: Contributor, scope: /subscriptions/{1}/resourceGroups/platform }}]\n",
            emu::DEFAULT_TENANT_ID,
            emu::DEFAULT_SUBSCRIPTION_ID
        ),
    )
    .unwrap();
    let config = config.display().to_string();
    let with_scale = |args: &[&str]| {
        let mut cmd = s.cli(args);
        cmd.env("PULUMI_AZURE_OIDC_RATE_SCALE", "50");
        cmd
    };
    let plan = run(s.cli(&["plan", "--config", &config]), 0);
    assert!(plan.contains("1 managed identity"), "{plan}");
    let out = run(with_scale(&["apply", "--config", &config, "--yes"]), 0);
    assert!(
        out.contains("+ managed identity pulumi-oidc-contoso-"),
        "{out}"
    );
    let state = s.emu().state();
    let identity = &state["managedIdentities"][0];
    assert_eq!(
        identity["federatedIdentityCredentials"]
            .as_array()
            .unwrap()
            .len(),
        4
    );
    assert_eq!(s.emu().stats()["metered_throttles"], 0);
    run(with_scale(&["status", "--config", &config]), 0);
    let doctor = run(s.cli(&["doctor", "--stack", "contoso/platform/prod"]), 0);
    assert!(doctor.contains("healthy"), "{doctor}");
    let out = run(with_scale(&["destroy", "--config", &config, "--yes"]), 0);
    assert!(out.contains("- managed identity"), "{out}");
    assert!(
        s.emu().state()["managedIdentities"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}
