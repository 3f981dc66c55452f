//! Managed identities as credential holders, mixed with apps in one config: apply
//! writes each identity's credentials one at a time and under Azure's documented rates
//! (the emulator meters them, scaled), converges, verifies a token against an
//! identity's credential, and destroy removes only what it made.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{Hands, ORG, RATE_SCALE, SUB};
use pulumi_azure_oidc::Config;
use pulumi_azure_oidc::doctor::{self, Severity};
use pulumi_azure_oidc_emulator as emu;
use pulumi_azure_oidc_provision::{Provisioner, Quiet, Secret, VerifyRequest};
use serde_json::Value;

fn config() -> String {
    format!(
        r#"
org: contoso
azure:
  tenant: {tenant}
  subscription: {SUB}
managedIdentity: {{ resourceGroup: pulumi-oidc, location: westeurope }}
deployments:
  - project: core
    stacks: [dev, prod]
    holder: managedIdentity
    roles:
      - {{ role: Contributor, scope: /subscriptions/{SUB}/resourceGroups/core }}
  - project: web
    stacks: [dev]
    roles:
      - {{ role: Reader, scope: /subscriptions/{SUB}/resourceGroups/web }}
esc:
  - project: azure
    envs: [dev]
    holder: {{ managedIdentity: {{ resourceGroup: esc-oidc }} }}
"#,
        tenant = emu::DEFAULT_TENANT_ID
    )
}

fn plan() -> pulumi_azure_oidc::Plan {
    pulumi_azure_oidc::plan(&Config::from_yaml(&config()).unwrap()).unwrap()
}

async fn start() -> (emu::Emulator, Arc<Provisioner>) {
    let e = emu::Emulator::start(emu::Options {
        rate_scale: RATE_SCALE,
        ..emu::Options::default()
    })
    .await
    .unwrap();
    let p = common::provisioner(&e, emu::DEFAULT_PULUMI_TOKEN);
    (e, p)
}

fn identities(state: &Value) -> &Vec<Value> {
    state["managedIdentities"].as_array().unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_mixed_config_applies_converges_verifies_and_destroys() {
    let (e, p) = start().await;
    let prepared = p.prepare(plan(), false).await.unwrap();
    let report = p.apply(&prepared, &Quiet).await.unwrap();
    assert_eq!(report.applied, prepared.diff.changes.len());

    let state = e.state();
    let ids = identities(&state);
    assert_eq!(ids.len(), 2, "{state}");
    let core = ids
        .iter()
        .find(|i| i["resourceGroup"] == "pulumi-oidc")
        .unwrap();
    assert_eq!(core["location"], "westeurope");
    assert_eq!(
        core["federatedIdentityCredentials"]
            .as_array()
            .unwrap()
            .len(),
        8
    );
    assert_eq!(state["applications"].as_array().unwrap().len(), 1);
    // Roles went to the identity's principal; the stack names its client id.
    let principal = core["principalId"].as_str().unwrap();
    assert!(
        state["roleAssignments"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["properties"]["principalId"] == principal),
        "{state}"
    );
    let settings =
        &state["deploymentSettings"]["contoso/core/dev"]["operationContext"]["oidc"]["azure"];
    assert_eq!(settings["clientId"], core["clientId"], "{settings}");
    let env = state["environments"]["contoso/azure/dev"]["yaml"]
        .as_str()
        .unwrap();
    let esc = ids
        .iter()
        .find(|i| i["resourceGroup"] == "esc-oidc")
        .unwrap();
    assert!(env.contains(esc["clientId"].as_str().unwrap()), "{env}");

    // One credential write at a time per identity, never refused for concurrency or
    // throttled: the executor keeps under the rates rather than meeting them.
    let stats = e.stats();
    assert_eq!(stats["max_identity_writes_in_flight"], 1, "{stats}");
    assert_eq!(stats["concurrent_write_conflicts"], 0, "{stats}");
    assert_eq!(stats["metered_throttles"], 0, "{stats}");

    // Converged: nothing to write.
    e.reset_stats();
    let again = p.prepare(plan(), false).await.unwrap();
    assert!(again.diff.is_converged(), "{:?}", again.diff.changes);
    assert_eq!(e.stats()["write_requests"], 0);

    // A token for an identity's stack is exchanged against the identity's credential.
    let token = e
        .mint(&emu::MintRequest::deployment(
            "contoso", "core", "prod", "destroy",
        ))
        .unwrap();
    let verified = p
        .verify(VerifyRequest {
            token: Secret::new(token),
            plan: Some(plan()),
            client_id: None,
            tenant_id: None,
            wait: Duration::from_secs(5),
        })
        .await
        .unwrap();
    assert!(verified.ok, "{:?}", verified.results);
    assert_eq!(
        verified.results[0].client_id.as_deref(),
        core["clientId"].as_str()
    );

    // Destroy removes the identities, their roles and the app, and only those.
    let (steps, live) = p.plan_destroy(&plan()).await.unwrap();
    p.destroy(&steps, &live, &Quiet).await.unwrap();
    let state = e.state();
    assert!(identities(&state).is_empty(), "{state}");
    assert!(state["applications"].as_array().unwrap().is_empty());
    assert!(state["roleAssignments"].as_array().unwrap().is_empty());
    e.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_removed_target_leaves_its_identity_credentials_and_prune_removes_the_identity() {
    let (e, p) = start().await;
    let prepared = p.prepare(plan(), false).await.unwrap();
    p.apply(&prepared, &Quiet).await.unwrap();

    // Without core/prod, its four credentials go; the identity stays.
    let smaller = config().replace("stacks: [dev, prod]", "stacks: [dev]");
    let smaller = pulumi_azure_oidc::plan(&Config::from_yaml(&smaller).unwrap()).unwrap();
    let prepared = p.prepare(smaller, false).await.unwrap();
    let deletes = prepared
        .diff
        .changes
        .iter()
        .filter(|c| matches!(c, pulumi_azure_oidc::diff::Change::DeleteCredential { .. }))
        .count();
    assert_eq!(deletes, 4, "{:?}", prepared.diff.changes);
    p.apply(&prepared, &Quiet).await.unwrap();
    let state = e.state();
    let core = identities(&state)
        .iter()
        .find(|i| i["resourceGroup"] == "pulumi-oidc")
        .unwrap()
        .clone();
    assert_eq!(
        core["federatedIdentityCredentials"]
            .as_array()
            .unwrap()
            .len(),
        4
    );

    // The identity's stacks move to another region: a new identity takes them, and the
    // old one (still in a resource group the config names, found by its tags) is
    // reported, then deleted with prune.
    let moved = config().replace("location: westeurope", "location: northeurope");
    let moved = pulumi_azure_oidc::plan(&Config::from_yaml(&moved).unwrap()).unwrap();
    let kept = p.prepare(moved.clone(), false).await.unwrap();
    assert!(
        kept.diff
            .notes
            .iter()
            .any(|n| n.contains(core["name"].as_str().unwrap())),
        "{:?}",
        kept.diff.notes
    );
    let prepared = p.prepare(moved, true).await.unwrap();
    assert!(
        prepared.diff.changes.iter().any(|c| matches!(
            c,
            pulumi_azure_oidc::diff::Change::DeleteIdentity { app, .. } if app == core["name"].as_str().unwrap()
        )),
        "{:?}",
        prepared.diff.changes
    );
    p.apply(&prepared, &Quiet).await.unwrap();
    let state = e.state();
    let left: Vec<&str> = identities(&state)
        .iter()
        .map(|i| i["location"].as_str().unwrap())
        .collect();
    assert_eq!(left, ["northeurope", "northeurope"], "{state}");
    assert!(
        !identities(&state).iter().any(|i| i["name"] == core["name"]),
        "{state}"
    );
    e.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn doctor_reads_an_identity_behind_a_client_id() {
    let (e, p) = start().await;
    let hands = Hands::new(&e).await;
    // As a user sets it up by hand: an identity, three of a stack's four credentials
    // (refresh is missing), and one with the legacy audience.
    let (id, client, principal) = hands.identity("by-hand", "deployer").await;
    let subject = |op: &str| {
        format!("pulumi:deploy:org:{ORG}:project:core:stack:dev:operation:{op}:scope:write")
    };
    hands
        .identity_credential(&id, "preview", &subject("preview"), ORG)
        .await;
    hands
        .identity_credential(&id, "update", &subject("update"), ORG)
        .await;
    hands
        .identity_credential(&id, "destroy", &subject("destroy"), &format!("azure:{ORG}"))
        .await;
    hands
        .role(
            &principal,
            "b24988ac-6180-42a0-ab88-20f7382dd24c",
            &format!("/subscriptions/{SUB}/resourceGroups/core"),
        )
        .await;
    hands
        .settings(
            "core",
            "dev",
            serde_json::json!({"clientId": client, "tenantId": emu::DEFAULT_TENANT_ID, "subscriptionId": SUB}),
        )
        .await;
    let targets = doctor::targets(None, Some("contoso/core/dev"), None).unwrap();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let report = p.doctor(targets, now).await.unwrap();
    let t = &report.targets[0];
    let faults: Vec<&str> = t
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Fault)
        .map(|f| f.kind)
        .collect();
    assert_eq!(faults, ["missing_credential", "wrong_audience"], "{t:?}");
    let missing = t
        .findings
        .iter()
        .find(|f| f.kind == "missing_credential")
        .unwrap();
    assert!(
        missing
            .message
            .contains(&format!("managed identity {client}")),
        "{missing:?}"
    );
    let fix = missing.fix.as_deref().unwrap();
    assert!(
        fix.starts_with("az identity federated-credential create")
            && fix.contains("--identity-name deployer")
            && fix.contains("--resource-group by-hand"),
        "{fix}"
    );
    e.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn adopt_pins_a_hand_made_identity_and_apply_then_writes_nothing() {
    let (e, p) = start().await;
    let hands = Hands::new(&e).await;
    // Made by hand, complete: an identity with a stack's four credentials and a role.
    let (id, client, principal) = hands.identity("by-hand", "deployer").await;
    for op in ["preview", "update", "refresh", "destroy"] {
        let subject =
            format!("pulumi:deploy:org:{ORG}:project:core:stack:dev:operation:{op}:scope:write");
        hands.identity_credential(&id, op, &subject, ORG).await;
    }
    hands
        .role(
            &principal,
            "b24988ac-6180-42a0-ab88-20f7382dd24c",
            &format!("/subscriptions/{SUB}/resourceGroups/core"),
        )
        .await;
    hands
        .settings(
            "core",
            "dev",
            serde_json::json!({"clientId": client, "tenantId": emu::DEFAULT_TENANT_ID, "subscriptionId": SUB}),
        )
        .await;

    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let adopted = p
        .adopt(ORG, &pulumi_azure_oidc::Issuer::default(), now)
        .await
        .unwrap();
    assert!(
        adopted
            .config
            .contains("holder: { managedIdentity: { id: /subscriptions/"),
        "{}",
        adopted.config
    );
    let config = Config::from_yaml(&adopted.config).unwrap();
    let plan = pulumi_azure_oidc::plan(&config).unwrap();
    assert!(plan.apps[0].is_pinned() && plan.apps[0].identity.is_some());

    // Described as it is: applying it writes nothing, and prune keeps what is not ours.
    e.reset_stats();
    let prepared = p.prepare(plan.clone(), true).await.unwrap();
    assert!(prepared.diff.is_converged(), "{:?}", prepared.diff.changes);
    assert_eq!(e.stats()["write_requests"], 0);

    // Taking ownership tags the identity; then destroy may remove it.
    let taken = p
        .prepare_with(
            plan.clone(),
            pulumi_azure_oidc::diff::DiffOptions {
                prune: false,
                take_ownership: true,
            },
        )
        .await
        .unwrap();
    assert!(
        matches!(
            taken.diff.changes.as_slice(),
            [pulumi_azure_oidc::diff::Change::UpdateIdentity { .. }]
        ),
        "{:?}",
        taken.diff.changes
    );
    p.apply(&taken, &Quiet).await.unwrap();
    let (steps, live) = p.plan_destroy(&plan).await.unwrap();
    p.destroy(&steps, &live, &Quiet).await.unwrap();
    assert!(identities(&e.state()).is_empty(), "{}", e.state());
    e.shutdown().await;
}
