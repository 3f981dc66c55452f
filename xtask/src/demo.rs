//! `cargo xtask demo`: the whole offline flow on the bundled examples.

use crate::{Result, root, sh};
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
        title: "Plan: 7 stacks and 2 ESC environments, grouped by role set, packed into apps of at most 20 credentials",
        args: &["plan", "--config", "examples/pulumi-azure-oidc.yaml"],
        expect: 0,
        lines: 0,
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

pub(crate) fn run() -> Result {
    sh(
        "cargo",
        &["build", "--workspace", "--bins", "--locked", "--quiet"],
    )?;
    let bin = crate::target_dir().join("debug/pulumi-azure-oidc");
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

    for (i, step) in STEPS.iter().enumerate() {
        println!("\n━━ {}. {}", i + 1, step.title);
        println!("$ pulumi-azure-oidc {}\n", step.args.join(" "));
        let out = Command::new(&bin)
            .args(step.args)
            .current_dir(root())
            .output()
            .map_err(|e| format!("cannot run {}: {e}", bin.display()))?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        let total = stdout.lines().count();
        let shown = if step.lines == 0 {
            total
        } else {
            step.lines.min(total)
        };
        for line in stdout.lines().take(shown) {
            println!("{line}");
        }
        if shown < total {
            println!("… ({} more lines)", total - shown);
        }
        let stderr = String::from_utf8_lossy(&out.stderr);
        for line in stderr.lines() {
            println!("{line}");
        }
        let code = out.status.code().unwrap_or(-1);
        if code != step.expect {
            return Err(format!(
                "step {} (`{}`) exited {code}, expected {}",
                i + 1,
                step.args.join(" "),
                step.expect
            ));
        }
    }
    println!(
        "\n━━ Done: every step ran offline. Provisioning against the bundled emulator joins this demo \
         when the emulator and the executor land."
    );
    Ok(())
}
