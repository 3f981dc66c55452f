//! The executor against the in-process emulator: apply, converge, verify, destroy.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use pulumi_azure_oidc::Config;
use pulumi_azure_oidc_emulator as emu;
use pulumi_azure_oidc_provision::{
    AzureAuth, Endpoints, Options, Provisioner, Quiet, RetryPolicy, Secret, VerifyRequest,
};
use serde_json::Value;

const CONFIG: &str = r#"
org: contoso
azure:
  tenant: 6f2c1d4e-8a3b-4c5d-9e0f-1a2b3c4d5e6f
  subscription: 0b1f6471-1bf0-4dda-aec3-cb9272f09590
deployments:
  - project: core
    stacks: [dev, staging, prod]
    roles:
      - { role: Contributor, scope: /subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590/resourceGroups/core }
  - project: network
    stacks: [dev, prod]
    roles:
      - { role: Contributor, scope: /subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590/resourceGroups/core }
esc:
  - project: azure
    envs: [dev]
    roles:
      - { role: Reader, scope: /subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590 }
"#;

async fn start(options: emu::Options) -> (emu::Emulator, Arc<Provisioner>) {
    let e = emu::Emulator::start(options).await.unwrap();
    let p = provisioner(&e, None);
    (e, p)
}

fn provisioner(e: &emu::Emulator, request_limit: Option<u64>) -> Arc<Provisioner> {
    Arc::new(
        Provisioner::new(common::options(e, emu::DEFAULT_PULUMI_TOKEN, request_limit)).unwrap(),
    )
}

fn plan() -> pulumi_azure_oidc::Plan {
    pulumi_azure_oidc::plan(&Config::from_yaml(CONFIG).unwrap()).unwrap()
}

fn count(state: &Value, key: &str) -> usize {
    state[key].as_array().map(Vec::len).unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread")]
async fn apply_converges_verifies_and_destroys() {
    let (e, p) = start(emu::Options::default()).await;
    let prepared = p.prepare(plan(), false).await.unwrap();
    assert!(!prepared.diff.is_converged());
    let report = p.apply(&prepared, &Quiet).await.unwrap();
    assert_eq!(report.applied, prepared.diff.changes.len());
    let state = e.state();
    let apps = state["applications"].as_array().unwrap();
    assert_eq!(apps.len(), prepared.plan.apps.len());
    let fics: usize = apps
        .iter()
        .map(|a| a["federatedIdentityCredentials"].as_array().unwrap().len())
        .sum();
    assert_eq!(fics, prepared.plan.credential_count());
    assert_eq!(count(&state, "servicePrincipals"), apps.len());
    assert_eq!(count(&state, "roleAssignments"), 2);
    assert_eq!(state["deploymentSettings"].as_object().unwrap().len(), 5);
    let env = &state["environments"]["contoso/azure/dev"]["yaml"];
    assert!(
        env.as_str().unwrap().contains("fn::open::azure-login"),
        "{env}"
    );

    // A second run changes nothing and writes nothing.
    e.reset_stats();
    let again = p.prepare(plan(), false).await.unwrap();
    assert!(again.diff.is_converged(), "{:?}", again.diff.changes);
    let stats = e.stats();
    assert_eq!(stats["write_requests"], 0, "{stats}");

    // A token for a planned stack is accepted; one with a wrong audience is diagnosed.
    let token = e
        .mint(&emu::MintRequest::deployment(
            "contoso", "core", "dev", "update",
        ))
        .unwrap();
    let ok = p
        .verify(VerifyRequest {
            token: Secret::new(token),
            plan: Some(plan()),
            client_id: None,
            tenant_id: None,
            wait: Duration::from_secs(5),
        })
        .await
        .unwrap();
    assert!(ok.ok, "{:?}", ok.results);
    let mut bad = emu::MintRequest::deployment("contoso", "core", "dev", "update");
    bad.audience = Some("azure:contoso".into());
    let token = e.mint(&bad).unwrap();
    let holder = again
        .plan
        .app_for("deploy:contoso/core/dev")
        .unwrap()
        .unique_name
        .clone();
    let client = again
        .live
        .state
        .apps
        .iter()
        .find(|a| a.unique_name.as_deref() == Some(holder.as_str()))
        .unwrap()
        .app_id
        .clone();
    let failed = p
        .verify(VerifyRequest {
            token: Secret::new(token),
            plan: None,
            client_id: Some(client),
            tenant_id: Some(emu::DEFAULT_TENANT_ID.into()),
            wait: Duration::ZERO,
        })
        .await
        .unwrap();
    assert!(!failed.ok);
    assert_eq!(
        failed.results[0].aadsts,
        Some(700212),
        "{:?}",
        failed.results[0]
    );

    // Destroy removes everything it made.
    let (steps, live) = p.plan_destroy(&plan()).await.unwrap();
    let report = p.destroy(&steps, &live, &Quiet).await.unwrap();
    assert!(!report.removed.is_empty());
    let state = e.state();
    assert_eq!(count(&state, "applications"), 0, "{state}");
    assert_eq!(count(&state, "servicePrincipals"), 0);
    assert_eq!(count(&state, "roleAssignments"), 0);
    assert!(
        state["deploymentSettings"]
            .as_object()
            .unwrap()
            .values()
            .all(|v| v["operationContext"]["oidc"].get("azure").is_none()),
        "{state}"
    );
    e.shutdown().await;
}

const SMALL: &str = r#"
org: contoso
azure:
  tenant: 6f2c1d4e-8a3b-4c5d-9e0f-1a2b3c4d5e6f
deployments:
  - project: core
    stacks: [dev]
    roles:
      - { role: Contributor, scope: /subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590/resourceGroups/core }
esc:
  - project: azure
    envs: [dev]
"#;

fn small_plan() -> pulumi_azure_oidc::Plan {
    pulumi_azure_oidc::plan(&Config::from_yaml(SMALL).unwrap()).unwrap()
}

/// No object exists twice: one app per uniqueName, credential names unique per app,
/// one service principal per app, role assignments unique by grant.
fn assert_no_duplicates(state: &Value) {
    let apps = state["applications"].as_array().unwrap();
    let mut names: Vec<&str> = apps
        .iter()
        .map(|a| a["uniqueName"].as_str().unwrap())
        .collect();
    let n = names.len();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), n, "duplicate apps: {state}");
    for a in apps {
        let mut fics: Vec<&str> = a["federatedIdentityCredentials"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        let n = fics.len();
        fics.sort();
        fics.dedup();
        assert_eq!(fics.len(), n, "duplicate credentials: {a}");
    }
    let sps = state["servicePrincipals"].as_array().unwrap();
    let mut by_app: Vec<&str> = sps.iter().map(|s| s["appId"].as_str().unwrap()).collect();
    let n = by_app.len();
    by_app.sort();
    by_app.dedup();
    assert_eq!(by_app.len(), n, "duplicate service principals: {state}");
    let ras = state["roleAssignments"].as_array().unwrap();
    let mut grants: Vec<String> = ras
        .iter()
        .map(|r| {
            format!(
                "{}|{}|{}",
                r["properties"]["scope"],
                r["properties"]["roleDefinitionId"],
                r["properties"]["principalId"]
            )
            .to_lowercase()
        })
        .collect();
    let n = grants.len();
    grants.sort();
    grants.dedup();
    assert_eq!(grants.len(), n, "duplicate role assignments: {state}");
}

async fn converged(p: &Arc<Provisioner>, plan: pulumi_azure_oidc::Plan) -> bool {
    p.prepare(plan, false).await.unwrap().diff.is_converged()
}

/// How many times the soak loops repeat: `cargo xtask soak` raises it; the bounded
/// run in `cargo xtask test` uses 1.
fn soak_rounds() -> u64 {
    std::env::var("PAOIDC_SOAK_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n| n >= 1)
        .unwrap_or(1)
}

/// The fault kinds of azure-facts.md §5, each alone and all combined.
fn fault_scenario(name: &str) -> (emu::FaultOptions, emu::Replication) {
    let none = emu::FaultOptions::default();
    let no_lag = emu::Replication::default();
    match name {
        "latency spikes" => (
            emu::FaultOptions {
                latency_ms: 2,
                spike_rate: 0.2,
                spike_ms: 150,
                ..none
            },
            no_lag,
        ),
        "429 with Retry-After" => (
            emu::FaultOptions {
                throttle_rate: 0.3,
                retry_after_max_secs: 0.05,
                ..none
            },
            no_lag,
        ),
        "5xx" => (
            emu::FaultOptions {
                server_error_rate: 0.3,
                ..none
            },
            no_lag,
        ),
        "dropped connections" => (
            emu::FaultOptions {
                drop_rate: 0.2,
                ..none
            },
            no_lag,
        ),
        "replication lag" => (
            none,
            emu::Replication {
                lag_ms: 80,
                fic_propagation_ms: 0,
            },
        ),
        "combined" => (
            emu::FaultOptions {
                latency_ms: 2,
                spike_rate: 0.05,
                spike_ms: 100,
                throttle_rate: 0.1,
                retry_after_max_secs: 0.05,
                server_error_rate: 0.1,
                drop_rate: 0.1,
            },
            emu::Replication {
                lag_ms: 40,
                fic_propagation_ms: 0,
            },
        ),
        other => unreachable!("{other}"),
    }
}

const FAULT_SCENARIOS: [&str; 6] = [
    "latency spikes",
    "429 with Retry-After",
    "5xx",
    "dropped connections",
    "replication lag",
    "combined",
];

/// The directory holds exactly the plan's objects: no duplicate and nothing the plan
/// does not name (a write outside the plan would show up as an extra object).
fn assert_exactly_the_plan(state: &Value, plan: &pulumi_azure_oidc::Plan, what: &str) {
    assert_no_duplicates(state);
    let apps = state["applications"].as_array().unwrap();
    let mut got: Vec<(String, Vec<String>)> = apps
        .iter()
        .map(|a| {
            let mut fics: Vec<String> = a["federatedIdentityCredentials"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["name"].as_str().unwrap().to_owned())
                .collect();
            fics.sort();
            (a["uniqueName"].as_str().unwrap().to_owned(), fics)
        })
        .collect();
    got.sort();
    let mut want: Vec<(String, Vec<String>)> = plan
        .apps
        .iter()
        .map(|a| {
            let mut fics: Vec<String> = a
                .credentials
                .iter()
                .map(|c| c.name.as_str().to_owned())
                .collect();
            fics.sort();
            (a.unique_name.clone(), fics)
        })
        .collect();
    want.sort();
    assert_eq!(
        got, want,
        "{what}: apps and credentials differ from the plan"
    );
    assert_eq!(count(state, "servicePrincipals"), plan.apps.len(), "{what}");
    let grants: usize = plan.apps.iter().map(|a| a.roles.len()).sum();
    assert_eq!(count(state, "roleAssignments"), grants, "{what}");
}

/// No stack is pointed at an identity that cannot yet accept its token: a stack whose
/// deployment settings name an app finds every credential it presents in that app.
fn assert_settings_follow_credentials(state: &Value, plan: &pulumi_azure_oidc::Plan, what: &str) {
    let apps = state["applications"].as_array().unwrap();
    let Some(settings) = state["deploymentSettings"].as_object() else {
        return;
    };
    for (stack, v) in settings {
        let Some(client) = v["operationContext"]["oidc"]["azure"]["clientId"].as_str() else {
            continue;
        };
        let app = apps
            .iter()
            .find(|a| a["appId"] == client)
            .unwrap_or_else(|| panic!("{what}: {stack} names app {client}, which is not there"));
        let have: Vec<&str> = app["federatedIdentityCredentials"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        let key = format!("deploy:{stack}");
        let target = plan
            .apps
            .iter()
            .flat_map(|a| &a.targets)
            .find(|t| t.target.key() == key)
            .unwrap_or_else(|| panic!("{what}: {stack} is not in the plan"));
        for name in &target.credentials {
            assert!(
                have.contains(&name.as_str()),
                "{what}: {stack} points at {client} before its credential {name} exists"
            );
        }
    }
}

async fn one_faulty_run(scenario: &'static str, seed: u64) {
    let what = format!("{scenario}, seed {seed}");
    let (faults, replication) = fault_scenario(scenario);
    // Under Azure's documented budgets too (at the tests' rate scale), so their
    // headers and refusals meet the faults.
    let (e, p) = start(emu::Options {
        seed,
        faults,
        replication,
        budgets: emu::Budgets::Azure,
        rate_scale: common::RATE_SCALE,
        ..Default::default()
    })
    .await;
    let prepared = p
        .prepare(small_plan(), false)
        .await
        .unwrap_or_else(|err| panic!("{what}: {err}"));
    p.apply(&prepared, &Quiet)
        .await
        .unwrap_or_else(|err| panic!("{what}: {err}"));
    let stats = e.stats();
    let injected = stats["faults"].clone();
    assert_eq!(
        stats["early_retries"], 0,
        "{what}: retried before Retry-After: {stats}"
    );
    e.set_faults(emu::FaultOptions::default()).unwrap();
    e.set_replication(emu::Replication::default());
    assert!(
        converged(&p, small_plan()).await,
        "{what} did not converge (faults {injected})"
    );
    assert_exactly_the_plan(&e.state(), &small_plan(), &what);
    e.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn fault_matrix_converges_with_exactly_the_planned_objects() {
    // Eight seeds per fault kind (times the soak rounds), eight runs at a time: the
    // runs mostly wait on injected faults.
    let seeds = 8 * soak_rounds();
    let mut runs = FAULT_SCENARIOS
        .iter()
        .flat_map(|s| (0..seeds).map(move |seed| (*s, seed)));
    let mut done = 0;
    loop {
        let batch: Vec<(&'static str, u64)> = runs.by_ref().take(8).collect();
        if batch.is_empty() {
            break;
        }
        let mut tasks = tokio::task::JoinSet::new();
        for (scenario, seed) in batch {
            tasks.spawn(one_faulty_run(scenario, seed));
        }
        while let Some(joined) = tasks.join_next().await {
            if let Err(e) = joined {
                std::panic::resume_unwind(e.into_panic());
            }
            done += 1;
        }
    }
    assert_eq!(done, FAULT_SCENARIOS.len() as u64 * seeds);
    eprintln!("fault matrix: {done} runs converged");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_apply_interrupted_after_k_requests_is_finished_by_a_rerun() {
    // How many requests a whole first run takes.
    let (e, p) = start(emu::Options::default()).await;
    let prepared = p.prepare(small_plan(), false).await.unwrap();
    p.apply(&prepared, &Quiet).await.unwrap();
    let total = p.requests();
    let n = total.graph + total.arm + total.pulumi;
    e.shutdown().await;
    assert!(n > 10, "{total:?}");
    for k in 0..n {
        let e = emu::Emulator::start(emu::Options::default()).await.unwrap();
        let cut = provisioner(&e, Some(k));
        let outcome = async {
            let prepared = cut.prepare(small_plan(), false).await?;
            cut.apply(&prepared, &Quiet).await
        }
        .await;
        assert!(
            outcome.is_err(),
            "k={k}: the run should have been cut short"
        );
        assert_settings_follow_credentials(&e.state(), &small_plan(), &format!("k={k}"));
        let p = provisioner(&e, None);
        let prepared = p.prepare(small_plan(), false).await.unwrap();
        p.apply(&prepared, &Quiet)
            .await
            .unwrap_or_else(|err| panic!("k={k}: {err}"));
        assert!(converged(&p, small_plan()).await, "k={k}");
        assert_no_duplicates(&e.state());
        e.shutdown().await;
    }
}

async fn verify_code(
    e: &emu::Emulator,
    p: &Arc<Provisioner>,
    client: &str,
    request: emu::MintRequest,
) -> (Option<u32>, pulumi_azure_oidc_provision::VerifyResult) {
    let token = e.mint(&request).unwrap();
    let report = p
        .verify(VerifyRequest {
            token: Secret::new(token),
            plan: None,
            client_id: Some(client.into()),
            tenant_id: Some(emu::DEFAULT_TENANT_ID.into()),
            wait: Duration::ZERO,
        })
        .await
        .unwrap();
    assert!(!report.ok);
    (report.results[0].aadsts, report.results[0].clone())
}

#[tokio::test(flavor = "multi_thread")]
async fn verify_names_the_aadsts_code_and_the_fix() {
    let (e, p) = start(emu::Options::default()).await;
    let prepared = p.prepare(small_plan(), false).await.unwrap();
    let report = p.apply(&prepared, &Quiet).await.unwrap();
    let holder = prepared
        .plan
        .app_for("deploy:contoso/core/dev")
        .unwrap()
        .unique_name
        .clone();
    let client = report
        .apps
        .iter()
        .find(|a| a.unique_name == holder)
        .unwrap()
        .client_id
        .clone()
        .unwrap();
    let base = || emu::MintRequest::deployment("contoso", "core", "dev", "update");

    let mut wrong_subject = base();
    wrong_subject.subject = Some(
        "pulumi:deploy:org:contoso:project:core:stack:prod:operation:update:scope:write".into(),
    );
    let (code, r) = verify_code(&e, &p, &client, wrong_subject).await;
    assert_eq!(code, Some(700213));
    assert!(
        r.diagnosis.is_some() && r.token_diagnosis.is_some(),
        "{r:?}"
    );

    let mut wrong_issuer = base();
    wrong_issuer.issuer = Some("https://api.pulumi.com/oidc/".into());
    assert_eq!(
        verify_code(&e, &p, &client, wrong_issuer).await.0,
        Some(700211)
    );

    let mut expired = base();
    expired.expires_in_secs = Some(-3600);
    assert_eq!(verify_code(&e, &p, &client, expired).await.0, Some(700024));

    let mut foreign = base();
    foreign.foreign_key = true;
    assert_eq!(verify_code(&e, &p, &client, foreign).await.0, Some(7000272));

    let (code, r) = verify_code(&e, &p, "00000000-0000-4000-8000-000000000000", base()).await;
    assert_eq!(code, Some(700016), "{r:?}");
    e.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn verify_waits_out_credential_propagation() {
    let (e, p) = start(emu::Options {
        replication: emu::Replication {
            lag_ms: 0,
            fic_propagation_ms: 800,
        },
        ..Default::default()
    })
    .await;
    let prepared = p.prepare(small_plan(), false).await.unwrap();
    p.apply(&prepared, &Quiet).await.unwrap();
    let token = e
        .mint(&emu::MintRequest::deployment(
            "contoso", "core", "dev", "update",
        ))
        .unwrap();
    let report = p
        .verify(VerifyRequest {
            token: Secret::new(token),
            plan: Some(small_plan()),
            client_id: None,
            tenant_id: None,
            wait: Duration::from_secs(20),
        })
        .await
        .unwrap();
    assert!(report.ok, "{:?}", report.results);
    assert!(
        report.results[0].attempts > 1,
        "the first exchange should have met AADSTS70021"
    );
    e.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn failures_are_clear_and_a_rerun_or_destroy_cleans_up() {
    use pulumi_azure_oidc::ErrorCode;
    // A wrong client secret.
    let e = emu::Emulator::start(emu::Options::default()).await.unwrap();
    let bad = Arc::new(
        Provisioner::new(Options {
            endpoints: Endpoints::default().all_at(e.https_url()),
            azure: Some(AzureAuth::ClientSecret {
                tenant_id: emu::DEFAULT_TENANT_ID.into(),
                client_id: emu::DEFAULT_OPERATOR_CLIENT_ID.into(),
                secret: Secret::new("not-the-secret-marker-123"),
            }),
            pulumi_token: Some(Secret::new("pul-wrong-marker-456")),
            ca_pem: Some(e.ca_pem().to_owned()),
            retry: RetryPolicy::fast(),
            ..Options::default()
        })
        .unwrap(),
    );
    let err = bad.prepare(small_plan(), false).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::AuthenticationFailed, "{err}");
    let text = format!("{err} {err:?}");
    assert!(text.contains("7000215"), "{text}");
    assert!(!text.contains("not-the-secret-marker-123"), "{text}");
    e.shutdown().await;

    // A read-only operator: stopped before the first write, naming the right it lacks;
    // without that check, Graph's own 403; nothing made either way; the writer then
    // converges.
    let e = emu::Emulator::start(emu::Options {
        operators: vec![
            emu::Operator {
                client_id: emu::DEFAULT_OPERATOR_CLIENT_ID.into(),
                client_secret: emu::DEFAULT_OPERATOR_SECRET.into(),
                rights: emu::Rights::Full,
            },
            emu::Operator {
                client_id: "11111111-2222-4333-8444-555555555555".into(),
                client_secret: "reader-secret".into(),
                rights: emu::Rights::ReadOnly,
            },
        ],
        ..Default::default()
    })
    .await
    .unwrap();
    let as_reader = |check_rights: bool| {
        Arc::new(
            Provisioner::new(Options {
                endpoints: Endpoints::default().all_at(e.https_url()),
                azure: Some(AzureAuth::ClientSecret {
                    tenant_id: emu::DEFAULT_TENANT_ID.into(),
                    client_id: "11111111-2222-4333-8444-555555555555".into(),
                    secret: Secret::new("reader-secret"),
                }),
                pulumi_token: Some(Secret::new(emu::DEFAULT_PULUMI_TOKEN)),
                ca_pem: Some(e.ca_pem().to_owned()),
                retry: RetryPolicy::fast(),
                check_rights,
                ..Options::default()
            })
            .unwrap(),
        )
    };
    let reader = as_reader(true);
    let prepared = reader.prepare(small_plan(), false).await.unwrap();
    let err = reader.apply(&prepared, &Quiet).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::InsufficientRights, "{err}");
    assert!(err.to_string().contains("AppRegistration.Create"), "{err}");
    let unchecked = as_reader(false);
    let err = unchecked.apply(&prepared, &Quiet).await.unwrap_err();
    match &err {
        pulumi_azure_oidc::Error::Service { status, code, .. } => {
            assert_eq!(*status, 403);
            assert_eq!(code, "Authorization_RequestDenied");
        }
        other => panic!("{other}"),
    }
    assert_eq!(count(&e.state(), "applications"), 0);
    let p = provisioner(&e, None);
    let prepared = p.prepare(small_plan(), false).await.unwrap();
    p.apply(&prepared, &Quiet).await.unwrap();
    assert!(converged(&p, small_plan()).await);
    e.shutdown().await;

    // An org without Deployments (402) and a missing stack (404): clear errors naming
    // the stack; what was made before is managed, and destroy removes it.
    for (options, status) in [
        (
            emu::Options {
                free_orgs: vec!["contoso".into()],
                ..Default::default()
            },
            402,
        ),
        (
            emu::Options {
                missing_stacks: vec!["contoso/core/dev".into()],
                ..Default::default()
            },
            404,
        ),
    ] {
        let (e, p) = start(options).await;
        let result = async {
            let prepared = p.prepare(small_plan(), false).await?;
            p.apply(&prepared, &Quiet).await
        }
        .await;
        let err = result.unwrap_err();
        match &err {
            pulumi_azure_oidc::Error::Service {
                status: s,
                operation,
                service,
                ..
            } => {
                assert_eq!(*s, status, "{err}");
                assert!(operation.contains("contoso/core/dev"), "{err}");
                assert_eq!(*service, "Pulumi Cloud");
            }
            other => panic!("{other}"),
        }
        let (steps, live) = p.plan_destroy(&small_plan()).await.unwrap();
        p.destroy(&steps, &live, &Quiet).await.unwrap();
        assert_eq!(count(&e.state(), "applications"), 0, "{}", e.state());
        e.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn destroy_keeps_what_it_did_not_make() {
    let (e, p) = start(emu::Options::default()).await;
    let prepared = p.prepare(small_plan(), false).await.unwrap();
    let report = p.apply(&prepared, &Quiet).await.unwrap();
    // Somebody adds a credential to a managed app, and makes an app of their own.
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(e.ca_pem().as_bytes()).unwrap())
        .build()
        .unwrap();
    let token: Value = client
        .post(format!(
            "{}/{}/oauth2/v2.0/token",
            e.https_url(),
            emu::DEFAULT_TENANT_ID
        ))
        .form(&[
            ("client_id", emu::DEFAULT_OPERATOR_CLIENT_ID),
            ("client_secret", emu::DEFAULT_OPERATOR_SECRET),
            ("grant_type", "client_credentials"),
            ("scope", "https://graph.microsoft.com/.default"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let bearer = token["access_token"].as_str().unwrap();
    let managed = &report.apps[0];
    let r = client
        .post(format!("{}/v1.0/applications/{}/federatedIdentityCredentials", e.https_url(), managed.object_id.as_ref().unwrap()))
        .bearer_auth(bearer)
        .json(&serde_json::json!({"name": "hand-made", "issuer": "https://token.actions.githubusercontent.com", "subject": "repo:contoso/app:ref:refs/heads/main", "audiences": ["api://AzureADTokenExchange"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let r = client
        .post(format!("{}/v1.0/applications", e.https_url()))
        .bearer_auth(bearer)
        .json(&serde_json::json!({"displayName": "someone else's app"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);

    let (steps, live) = p.plan_destroy(&small_plan()).await.unwrap();
    assert!(
        steps.kept.iter().any(|k| k.contains("hand-made")),
        "{:?}",
        steps.kept
    );
    p.destroy(&steps, &live, &Quiet).await.unwrap();
    let state = e.state();
    let apps = state["applications"].as_array().unwrap();
    assert_eq!(apps.len(), 2, "{state}");
    assert!(
        apps.iter()
            .any(|a| a["displayName"] == "someone else's app")
    );
    let kept = apps
        .iter()
        .find(|a| a["uniqueName"].as_str() == Some(managed.unique_name.as_str()))
        .unwrap();
    let names: Vec<&str> = kept["federatedIdentityCredentials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["hand-made"], "only the tool's credentials go");
    e.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn two_applies_at_once_make_no_duplicates() {
    let (e, a) = start(emu::Options::default()).await;
    let b = provisioner(&e, None);
    let run = |p: Arc<Provisioner>| async move {
        let prepared = p.prepare(plan(), false).await?;
        p.apply(&prepared, &Quiet).await
    };
    let (ra, rb) = tokio::join!(run(a.clone()), run(b.clone()));
    // Both may succeed (every write is an upsert by key); a loser may report a clear
    // conflict, and a re-run converges either way.
    for r in [&ra, &rb] {
        if let Err(err) = r {
            assert!(
                matches!(err, pulumi_azure_oidc::Error::Service { .. }),
                "{err}"
            );
        }
    }
    let prepared = a.prepare(plan(), false).await.unwrap();
    a.apply(&prepared, &Quiet).await.unwrap();
    assert!(converged(&a, plan()).await);
    assert_no_duplicates(&e.state());
    assert_eq!(count(&e.state(), "applications"), plan().apps.len());
    e.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sustained_throttling_is_waited_out_within_the_concurrency_limit() {
    let e = emu::Emulator::start(emu::Options {
        seed: 11,
        faults: emu::FaultOptions {
            throttle_rate: 0.5,
            retry_after_max_secs: 0.05,
            ..Default::default()
        },
        ..Default::default()
    })
    .await
    .unwrap();
    let p = Arc::new(
        Provisioner::new(Options {
            endpoints: Endpoints::default().all_at(e.https_url()),
            azure: Some(AzureAuth::ClientSecret {
                tenant_id: emu::DEFAULT_TENANT_ID.into(),
                client_id: emu::DEFAULT_OPERATOR_CLIENT_ID.into(),
                secret: Secret::new(emu::DEFAULT_OPERATOR_SECRET),
            }),
            pulumi_token: Some(Secret::new(emu::DEFAULT_PULUMI_TOKEN)),
            ca_pem: Some(e.ca_pem().to_owned()),
            retry: RetryPolicy::fast(),
            concurrency: 3,
            ..Options::default()
        })
        .unwrap(),
    );
    let prepared = p.prepare(plan(), false).await.unwrap();
    p.apply(&prepared, &Quiet).await.unwrap();
    let stats = e.stats();
    assert!(
        stats["faults"]["throttle"].as_u64().unwrap() > 20,
        "{stats}"
    );
    assert!(stats["max_in_flight"].as_u64().unwrap() <= 3, "{stats}");
    assert!(p.requests().retries > 20);
    // Backs off as told: no request came back before its Retry-After had passed.
    assert_eq!(stats["early_retries"], 0, "{stats}");
    assert!(stats["honoured_retries"].as_u64().unwrap() > 20, "{stats}");
    e.set_faults(emu::FaultOptions::default()).unwrap();
    assert!(converged(&p, plan()).await);
    e.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn destroy_after_a_partial_apply_removes_exactly_what_was_made() {
    let (e, p) = start(emu::Options::default()).await;
    let prepared = p.prepare(small_plan(), false).await.unwrap();
    p.apply(&prepared, &Quiet).await.unwrap();
    let total = p.requests();
    let n = total.graph + total.arm + total.pulumi;
    e.shutdown().await;
    for k in [n / 4, n / 2, 3 * n / 4, n - 1] {
        let e = emu::Emulator::start(emu::Options::default()).await.unwrap();
        let cut = provisioner(&e, Some(k));
        let partial = async {
            let prepared = cut.prepare(small_plan(), false).await?;
            cut.apply(&prepared, &Quiet).await
        }
        .await;
        assert!(partial.is_err(), "k={k}");
        let p = provisioner(&e, None);
        let (steps, live) = p.plan_destroy(&small_plan()).await.unwrap();
        p.destroy(&steps, &live, &Quiet).await.unwrap();
        let state = e.state();
        for kind in ["applications", "servicePrincipals", "roleAssignments"] {
            assert_eq!(count(&state, kind), 0, "k={k}: {kind} left: {state}");
        }
        let settings_point_nowhere = state["deploymentSettings"]
            .as_object()
            .unwrap()
            .values()
            .all(|v| v["operationContext"]["oidc"].get("azure").is_none());
        assert!(settings_point_nowhere, "k={k}: {state}");
        e.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unreachable_login_endpoint_fails_fast_and_says_so() {
    let e = emu::Emulator::start(emu::Options::default()).await.unwrap();
    let mut endpoints = Endpoints::default().all_at(e.https_url());
    // A port nothing listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    endpoints.login = format!("https://127.0.0.1:{closed}");
    let p = Arc::new(
        Provisioner::new(Options {
            endpoints,
            azure: Some(AzureAuth::ClientSecret {
                tenant_id: emu::DEFAULT_TENANT_ID.into(),
                client_id: emu::DEFAULT_OPERATOR_CLIENT_ID.into(),
                secret: Secret::new(emu::DEFAULT_OPERATOR_SECRET),
            }),
            pulumi_token: Some(Secret::new(emu::DEFAULT_PULUMI_TOKEN)),
            ca_pem: Some(e.ca_pem().to_owned()),
            retry: RetryPolicy::fast(),
            ..Options::default()
        })
        .unwrap(),
    );
    let started = std::time::Instant::now();
    let err = p.prepare(small_plan(), false).await.unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        err.code(),
        pulumi_azure_oidc::ErrorCode::Unreachable,
        "{err}"
    );
    assert!(err.to_string().contains(&closed.to_string()), "{err}");
    e.shutdown().await;
}

/// Least privilege for the operator's own credentials: the executor asks the token
/// endpoint for exactly the resources the plan touches (Graph always, ARM only when a
/// role is granted), and a plan that names no roles grants none.
#[tokio::test(flavor = "multi_thread")]
async fn the_executor_requests_only_the_scopes_the_plan_needs() {
    let (e, p) = start(emu::Options::default()).await;

    let no_roles = pulumi_azure_oidc::plan(
        &Config::from_yaml(
            "org: contoso\nazure:\n  tenant: 6f2c1d4e-8a3b-4c5d-9e0f-1a2b3c4d5e6f\n\
             deployments:\n  - project: core\n    stacks: [dev, prod]\n",
        )
        .unwrap(),
    )
    .unwrap();
    let prepared = p.prepare(no_roles, false).await.unwrap();
    p.apply(&prepared, &Quiet).await.unwrap();
    let stats = e.stats();
    let issued = stats["tokens_issued"].as_object().unwrap();
    assert!(issued["graph"].as_u64().unwrap() >= 1, "{stats}");
    assert!(
        !issued.contains_key("arm"),
        "no ARM token without roles: {stats}"
    );
    assert_eq!(count(&e.state(), "roleAssignments"), 0);

    e.reset_stats();
    // A fresh provisioner, so no token is reused from the first run's cache.
    let p = provisioner(&e, None);
    let prepared = p.prepare(plan(), false).await.unwrap();
    p.apply(&prepared, &Quiet).await.unwrap();
    let stats = e.stats();
    let issued = stats["tokens_issued"].as_object().unwrap();
    let kinds: Vec<&str> = issued.keys().map(String::as_str).collect();
    assert_eq!(kinds, ["arm", "graph"], "{stats}");
    // One token per resource for the whole run, not one per request.
    assert!(issued.values().all(|n| n.as_u64() == Some(1)), "{stats}");
}
