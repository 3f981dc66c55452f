//! The executor against the in-process emulator: apply, converge, verify, destroy.
#![allow(clippy::unwrap_used)]
#![cfg(feature = "provision")]

use std::sync::Arc;
use std::time::Duration;

use pulumi_azure_oidc::Config;
use pulumi_azure_oidc::provision::{
    AzureAuth, Endpoints, Options, Provisioner, Quiet, RetryPolicy, Secret, VerifyRequest,
};
use pulumi_azure_oidc_emulator as emu;
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
        Provisioner::new(Options {
            endpoints: Endpoints::default().all_at(e.https_url()),
            azure: Some(AzureAuth::ClientSecret {
                tenant_id: emu::DEFAULT_TENANT_ID.into(),
                client_id: emu::DEFAULT_OPERATOR_CLIENT_ID.into(),
                secret: Secret::new(emu::DEFAULT_OPERATOR_SECRET),
            }),
            pulumi_token: Some(Secret::new(emu::DEFAULT_PULUMI_TOKEN)),
            tenant_id: None,
            ca_pem: Some(e.ca_pem().to_owned()),
            retry: RetryPolicy::fast(),
            concurrency: 4,
            request_limit,
        })
        .unwrap(),
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
