//! `cargo xtask demo`: the whole flow. First offline (subjects, plan, renders, diagnosis),
//! then against the bundled emulator: apply, verify real token exchanges, diagnose a
//! wrong audience, re-apply with zero writes, destroy.

use crate::emulator::EmulatorProcess;
use crate::{Result, root, sh};
use std::path::Path;
use std::process::Command;

struct Step {
    title: &'static str,
    args: &'static [&'static str],
    /// Exit status the step is expected to end with (diagnosis of a bad set-up is 1).
    expect: i32,
    /// Show at most this many lines of output (0 = all).
    lines: usize,
}

const STEPS: &[Step] = &[
    Step {
        title: "The four subjects of the Pulumi docs' worked example (contoso/core/dev)",
        args: &[
            "subjects",
            "deployments",
            "--org",
            "contoso",
            "--project",
            "core",
            "--stack",
            "dev",
        ],
        expect: 0,
        lines: 0,
    },
    Step {
        title: "An ESC environment, with the recommended subjectAttributes",
        args: &[
            "subjects",
            "esc",
            "--org",
            "contoso",
            "--project",
            "azure",
            "--env",
            "prod",
        ],
        expect: 0,
        lines: 0,
    },
    Step {
        title: "Plan: 8 stacks and 2 ESC environments, grouped by role set, packed into apps (and one managed identity) of at most 20 credentials",
        args: &["plan", "--config", "examples/pulumi-azure-oidc.yaml"],
        expect: 0,
        lines: 0,
    },
    Step {
        title: "Permissions: the least rights the operator needs for this config",
        args: &["permissions", "--config", "examples/pulumi-azure-oidc.yaml"],
        expect: 0,
        lines: 14,
    },
    Step {
        title: "Render: the az script (first lines)",
        args: &[
            "render",
            "az",
            "--config",
            "examples/pulumi-azure-oidc.yaml",
        ],
        expect: 0,
        lines: 24,
    },
    Step {
        title: "Render: the ESC environment definitions",
        args: &[
            "render",
            "esc",
            "--config",
            "examples/pulumi-azure-oidc.yaml",
        ],
        expect: 0,
        lines: 0,
    },
    Step {
        title: "Render: a Pulumi Python program (first lines)",
        args: &[
            "render",
            "pulumi-python",
            "--config",
            "examples/pulumi-azure-oidc.yaml",
        ],
        expect: 0,
        lines: 40,
    },
    Step {
        title: "Render: a Pulumi TypeScript program (first lines)",
        args: &[
            "render",
            "pulumi-typescript",
            "--config",
            "examples/pulumi-azure-oidc.yaml",
        ],
        expect: 0,
        lines: 30,
    },
    Step {
        title: "Render: the requests a first apply sends, in order (first lines)",
        args: &[
            "render",
            "requests",
            "--config",
            "examples/pulumi-azure-oidc.yaml",
        ],
        expect: 0,
        lines: 30,
    },
    Step {
        title: "Render: Graph-ready JSON (first lines)",
        args: &[
            "render",
            "json",
            "--config",
            "examples/pulumi-azure-oidc.yaml",
        ],
        expect: 0,
        lines: 30,
    },
    Step {
        title: "Diagnose: an update token against a hand-made credential list (refused: wrong audience)",
        args: &[
            "diagnose",
            "--token",
            "@examples/token-update.jwt",
            "--credentials",
            "examples/credentials.json",
        ],
        expect: 1,
        lines: 0,
    },
    Step {
        title: "Diagnose: the same token against the credentials this tool generates (accepted)",
        args: &[
            "diagnose",
            "--token",
            "@examples/token-update.jwt",
            "--credentials",
            "target/demo/generated.json",
        ],
        expect: 0,
        lines: 0,
    },
    Step {
        title: "Diagnose: the AADSTS700213 error from pulumi/esc#173",
        args: &["diagnose", "--error", "@examples/aadsts700213.txt"],
        expect: 1,
        lines: 0,
    },
];

/// The example config's tenant, so the emulator's directory is the one it names.
const EXAMPLE_TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const CONFIG: &str = "examples/pulumi-azure-oidc.yaml";

fn show(
    bin: &Path,
    title: &str,
    args: &[String],
    envs: &[(&str, String)],
    expect: i32,
    lines: usize,
) -> Result<String> {
    println!("\n━━ {title}");
    println!(
        "$ pulumi-azure-oidc {}\n",
        args.iter()
            .map(|a| if a.len() > 60 {
                format!("{}…", &a[..24])
            } else {
                a.clone()
            })
            .collect::<Vec<_>>()
            .join(" ")
    );
    let mut cmd = Command::new(bin);
    cmd.args(args).current_dir(root());
    for name in SCRUBBED {
        cmd.env_remove(name);
    }
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let out = cmd
        .output()
        .map_err(|e| format!("cannot run {}: {e}", bin.display()))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let total = stdout.lines().count();
    let shown = if lines == 0 { total } else { lines.min(total) };
    for line in stdout.lines().take(shown) {
        println!("{line}");
    }
    if shown < total {
        println!("… ({} more lines)", total - shown);
    }
    // Progress lines (standard error) follow the same limit.
    let stderr = String::from_utf8_lossy(&out.stderr);
    let err_total = stderr.lines().count();
    let err_shown = if lines == 0 {
        err_total
    } else {
        lines.min(err_total)
    };
    for line in stderr.lines().take(err_shown) {
        println!("{line}");
    }
    if err_shown < err_total {
        println!("… ({} more progress lines)", err_total - err_shown);
    }
    let code = out.status.code().unwrap_or(-1);
    if code != expect {
        return Err(format!(
            "`pulumi-azure-oidc {}` exited {code}, expected {expect}",
            args.join(" ")
        ));
    }
    Ok(stdout.into_owned())
}

/// Credentials and endpoints a developer's shell may hold; the demo must not use them.
const SCRUBBED: &[&str] = &[
    "AZURE_TENANT_ID",
    "AZURE_CLIENT_ID",
    "AZURE_CLIENT_SECRET",
    "AZURE_FEDERATED_TOKEN_FILE",
    "AZURE_AUTHORITY_HOST",
    "IDENTITY_ENDPOINT",
    "MSI_ENDPOINT",
    "ARM_CLIENT_ID",
    "ARM_TENANT_ID",
    "PULUMI_ACCESS_TOKEN",
    "PULUMI_BACKEND_URL",
    "PULUMI_OIDC_TOKEN",
    "PULUMI_AZURE_OIDC_ENDPOINT",
    "PULUMI_AZURE_OIDC_CA_FILE",
];

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| (*s).to_owned()).collect()
}

pub(crate) fn run() -> Result {
    sh(
        "cargo",
        &["build", "--workspace", "--bins", "--locked", "--quiet"],
    )?;
    let bin = crate::target_dir().join("debug/pulumi-azure-oidc");
    let emulator_bin = crate::target_dir().join("debug/pulumi-azure-oidc-emulator");
    std::fs::create_dir_all(root().join("target/demo")).map_err(|e| e.to_string())?;
    let generated = Command::new(&bin)
        .args([
            "subjects",
            "deployments",
            "--org",
            "contoso",
            "--project",
            "core",
            "--stack",
            "dev",
            "-o",
            "json",
        ])
        .current_dir(root())
        .output()
        .map_err(|e| e.to_string())?;
    if !generated.status.success() {
        return Err(format!(
            "generating the demo's credential list failed: {}",
            String::from_utf8_lossy(&generated.stderr)
        ));
    }
    std::fs::write(root().join("target/demo/generated.json"), &generated.stdout)
        .map_err(|e| e.to_string())?;

    println!("Part 1: offline. What Azure needs, computed; nothing is sent anywhere.");
    for (i, step) in STEPS.iter().enumerate() {
        show(
            &bin,
            &format!("{}. {}", i + 1, step.title),
            &strings(step.args),
            &[],
            step.expect,
            step.lines,
        )?;
    }

    println!(
        "\n\nPart 2: provisioning, against the bundled emulator (a local Graph, ARM, Entra token"
    );
    println!("endpoint, Pulumi Cloud and Pulumi OIDC issuer, with Azure's replication delays).");
    let emu = EmulatorProcess::start(
        &emulator_bin,
        &[
            "--tenant-id",
            EXAMPLE_TENANT,
            "--replication-lag-ms",
            "300",
            "--fic-propagation-ms",
            "1500",
        ],
    )?;
    println!(
        "\nemulator: {} (CA {})",
        emu.get("https_url"),
        emu.get("ca_file")
    );
    let envs: Vec<(&str, String)> = vec![
        (
            "PULUMI_AZURE_OIDC_ENDPOINT",
            emu.get("https_url").to_owned(),
        ),
        ("PULUMI_AZURE_OIDC_CA_FILE", emu.get("ca_file").to_owned()),
        ("AZURE_TENANT_ID", EXAMPLE_TENANT.to_owned()),
        ("AZURE_CLIENT_ID", emu.get("client_id").to_owned()),
        ("AZURE_CLIENT_SECRET", "emulator-operator-secret".to_owned()),
        (
            "PULUMI_ACCESS_TOKEN",
            "pul-emulator-access-token".to_owned(),
        ),
    ];
    println!(
        "environment: PULUMI_AZURE_OIDC_ENDPOINT, PULUMI_AZURE_OIDC_CA_FILE point at it; AZURE_TENANT_ID,"
    );
    println!(
        "AZURE_CLIENT_ID, AZURE_CLIENT_SECRET and PULUMI_ACCESS_TOKEN hold its test credentials."
    );
    let cfg = |cmd: &str, extra: &[&str]| {
        let mut v = strings(&[cmd, "--config", CONFIG]);
        v.extend(strings(extra));
        v
    };
    show(
        &bin,
        "Dry run: what apply would change",
        &cfg("apply", &["--dry-run"]),
        &envs,
        0,
        12,
    )?;
    show(
        &bin,
        "Apply: apps, service principals, credentials, role assignments, stack settings, ESC environments",
        &cfg("apply", &["--yes"]),
        &envs,
        0,
        0,
    )?;
    show(
        &bin,
        "Status: every target healthy",
        &cfg("status", &[]),
        &envs,
        0,
        0,
    )?;
    show(
        &bin,
        "Doctor: the live set-up judged from what each stack and environment names",
        &strings(&["doctor", "--stack", "contoso/core/dev"]),
        &envs,
        0,
        0,
    )?;

    // Tokens as Pulumi would mint them, for each stack and environment, exchanged for real.
    let mut tokens = Vec::new();
    for (project, stacks) in [
        ("core", &["dev", "staging", "prod"][..]),
        ("network", &["dev", "staging", "prod"][..]),
        ("reports", &["prod"][..]),
        // Held by a user-assigned managed identity: the same exchange.
        ("platform", &["prod"][..]),
    ] {
        for stack in stacks {
            tokens.push((format!("Deployments {project}/{stack} (update)"), serde_json::json!({"target": {"kind": "deployment", "org": "contoso", "project": project, "stack": stack}, "operation": "update"})));
        }
    }
    for env in ["dev", "prod"] {
        tokens.push((format!("ESC azure/{env}"), serde_json::json!({"target": {"kind": "esc", "org": "contoso", "project": "azure", "env": env}})));
    }
    for (i, (what, request)) in tokens.iter().enumerate() {
        let token = emu.mint(request)?;
        let path = root().join(format!("target/demo/token-{i}.jwt"));
        std::fs::write(&path, &token).map_err(|e| e.to_string())?;
        show(
            &bin,
            &format!("Verify a {what} token: exchanged at the Entra token endpoint"),
            &cfg("verify", &["--token", &format!("@{}", path.display())]),
            &envs,
            0,
            0,
        )?;
    }

    let state = emu.admin("GET", "/_emulator/state", "")?;
    let holder = state["applications"]
        .as_array()
        .and_then(|apps| {
            apps.iter().find(|a| {
                a["federatedIdentityCredentials"]
                    .as_array()
                    .is_some_and(|f| f.iter().any(|c| c["name"] == "deploy-core-dev-update"))
            })
        })
        .and_then(|a| a["appId"].as_str())
        .ok_or("the demo cannot find the app of contoso/core/dev")?
        .to_owned();
    let wrong = emu.mint(&serde_json::json!({"target": {"kind": "deployment", "org": "contoso", "project": "core", "stack": "dev"}, "operation": "update", "audience": "azure:contoso"}))?;
    let path = root().join("target/demo/token-wrong-audience.jwt");
    std::fs::write(&path, &wrong).map_err(|e| e.to_string())?;
    let mut pre_run = envs.clone();
    pre_run.retain(|(k, _)| *k != "AZURE_CLIENT_SECRET" && *k != "AZURE_CLIENT_ID");
    pre_run.push(("AZURE_CLIENT_ID", holder));
    show(
        &bin,
        "A token with the ESC audience presented to a Deployments app: refused, and why (as a Deployments pre-run command would)",
        &strings(&[
            "verify",
            "--token",
            &format!("@{}", path.display()),
            "--wait",
            "0",
        ]),
        &pre_run,
        1,
        0,
    )?;

    emu.admin("POST", "/_emulator/stats/reset", "")?;
    show(
        &bin,
        "Apply again: nothing to change",
        &cfg("apply", &["--yes"]),
        &envs,
        0,
        3,
    )?;
    let stats = emu.admin("GET", "/_emulator/stats", "")?;
    println!(
        "emulator: {} requests, {} of them writes",
        stats["requests"], stats["write_requests"]
    );
    if stats["write_requests"] != 0 {
        return Err(format!("the converged re-run wrote: {stats}"));
    }
    show(
        &bin,
        "Destroy: remove what the tool made, in a safe order",
        &cfg("destroy", &["--yes"]),
        &envs,
        0,
        30,
    )?;
    let state = emu.admin("GET", "/_emulator/state", "")?;
    let left = state["applications"].as_array().map(Vec::len).unwrap_or(0);
    if left != 0 {
        return Err(format!("destroy left {left} apps behind"));
    }
    drop(emu);
    println!(
        "\n━━ Done: planned, applied, verified with real token exchanges, re-applied with zero writes, destroyed."
    );
    Ok(())
}
