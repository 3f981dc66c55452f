//! A converged live state, and where benchmark rows go.

use pulumi_azure_oidc::diff::{ObservedApp, ObservedCredential, ObservedDeploymentSettings};
use pulumi_azure_oidc::{ObservedState, Plan, Target};

/// The live state an apply of `plan` leaves: each app with its credentials and a
/// service principal, each stack's deployment settings pointing at its app. A plan
/// without roles or ESC environments diffs against it to zero changes.
pub fn converged_state(plan: &Plan) -> ObservedState {
    ObservedState {
        apps: plan
            .apps
            .iter()
            .map(|a| ObservedApp {
                app_id: a.unique_name.clone(),
                unique_name: Some(a.unique_name.clone()),
                display_name: a.display_name.clone(),
                tags: a.tags.clone(),
                service_principal_id: Some("sp".into()),
                federated_identity_credentials: a
                    .credentials
                    .iter()
                    .map(ObservedCredential::from)
                    .collect(),
                ..Default::default()
            })
            .collect(),
        deployment_settings: plan
            .apps
            .iter()
            .flat_map(|a| a.targets.iter().map(move |t| (a, t)))
            .filter_map(|(a, t)| match &t.target {
                Target::Deployment(d) => Some(ObservedDeploymentSettings {
                    org: d.org.to_string(),
                    project: d.project.to_string(),
                    stack: d.stack.to_string(),
                    client_id: Some(a.unique_name.clone()),
                    ..Default::default()
                }),
                Target::Esc(_) => None,
            })
            .collect(),
        ..Default::default()
    }
}

/// Write a benchmark's rows as JSON to `$<env>`, or to `target/bench/<name>` when
/// that is unset (`cargo xtask bench` sets it).
pub fn write_rows(env: &str, name: &str, rows: &serde_json::Value) {
    let out = std::env::var_os(env)
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| crate::workspace_root().join("target/bench").join(name));
    if let Some(dir) = out.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    let text = serde_json::to_string_pretty(rows).unwrap_or_default();
    if let Err(e) = std::fs::write(&out, text) {
        panic!("{}: {e}", out.display());
    }
}
