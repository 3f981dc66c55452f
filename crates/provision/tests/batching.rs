//! Observation in a few round trips: a converged re-run reads Graph and ARM with a
//! number of requests that grows with the apps ÷ 20, not with the stacks, and each
//! request inside a batch is judged and retried on its own.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use pulumi_azure_oidc::Config;
use pulumi_azure_oidc_emulator as emu;
use pulumi_azure_oidc_provision::{Provisioner, Quiet};
use pulumi_azure_oidc_test_support as support;

/// `stacks` stacks packed five to an app: 100 stacks make 20 apps.
fn plan(stacks: usize) -> pulumi_azure_oidc::Plan {
    let text = support::packed_org(stacks, emu::DEFAULT_TENANT_ID, common::SUB);
    pulumi_azure_oidc::plan(&Config::from_yaml(&text).unwrap()).unwrap()
}

fn provisioner(e: &emu::Emulator) -> Arc<Provisioner> {
    Arc::new(Provisioner::new(common::options(e, emu::DEFAULT_PULUMI_TOKEN, None)).unwrap())
}

/// A fresh executor finds `plan` converged.
async fn assert_converged(e: &emu::Emulator, plan: pulumi_azure_oidc::Plan) {
    let prepared = provisioner(e).prepare(plan, false).await.unwrap();
    assert!(prepared.diff.is_converged(), "{:?}", prepared.diff.changes);
}

async fn applied(stacks: usize) -> (emu::Emulator, pulumi_azure_oidc::Plan) {
    let e = emu::Emulator::start(emu::Options::default()).await.unwrap();
    let plan = plan(stacks);
    let p = provisioner(&e);
    let prepared = p.prepare(plan.clone(), false).await.unwrap();
    p.apply(&prepared, &Quiet).await.unwrap();
    (e, plan)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_converged_rerun_of_100_stacks_reads_graph_and_arm_in_four_requests() {
    let (e, plan) = applied(100).await;
    assert_eq!(plan.apps.len(), 20);
    let again = provisioner(&e);
    let prepared = again.prepare(plan, false).await.unwrap();
    assert!(prepared.diff.is_converged(), "{:?}", prepared.diff.changes);
    let sent = again.requests();
    // The tag list, the subscription's role assignments, and the 20 apps' credential
    // lists and service principals in two batches of 20.
    assert_eq!((sent.graph, sent.arm), (3, 1), "{sent:?}");
    assert_eq!(sent.pulumi, 100, "one settings read per stack");
    assert_eq!(sent.writes, 0);
    e.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_app_the_tag_list_misses_is_read_by_key_and_its_tag_restored() {
    let (e, plan) = applied(10).await;
    let hands = common::Hands::new(&e).await;
    let name = plan.apps[0].unique_name.clone();
    let app = hands
        .graph_call(
            reqwest::Method::GET,
            &format!("/v1.0/applications(uniqueName='{name}')"),
            None,
        )
        .await;
    let id = app["id"].as_str().unwrap().to_owned();
    hands
        .graph_call(
            reqwest::Method::PATCH,
            &format!("/v1.0/applications/{id}"),
            Some(serde_json::json!({"tags": []})),
        )
        .await;
    let again = provisioner(&e);
    let prepared = again.prepare(plan.clone(), false).await.unwrap();
    let changes = format!("{:?}", prepared.diff.changes);
    assert_eq!(prepared.diff.changes.len(), 1, "{changes}");
    assert!(changes.contains(&name), "{changes}");
    // The tag list, one batch reading the missing app by key, and one batch for both
    // apps' credentials and service principals.
    let sent = again.requests();
    assert_eq!((sent.graph, sent.arm), (3, 1), "{sent:?}");
    again.apply(&prepared, &Quiet).await.unwrap();
    assert_converged(&e, plan).await;
    e.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn throttled_requests_inside_a_batch_are_retried_on_their_own() {
    let (e, plan) = applied(100).await;
    e.set_faults(emu::FaultOptions {
        throttle_rate: 0.3,
        retry_after_max_secs: 0.05,
        ..Default::default()
    })
    .unwrap();
    let again = provisioner(&e);
    let prepared = again.prepare(plan, false).await.unwrap();
    assert!(prepared.diff.is_converged(), "{:?}", prepared.diff.changes);
    let sent = again.requests();
    assert!(sent.retries > 0, "{sent:?}");
    let stats = e.stats();
    assert_eq!(stats["early_retries"], 0, "{stats}");
    e.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_apps_twenty_credentials_are_written_in_one_round_trip() {
    let e = emu::Emulator::start(emu::Options::default()).await.unwrap();
    let plan = plan(5);
    assert_eq!(plan.apps.len(), 1);
    assert_eq!(plan.apps[0].credentials.len(), 20);
    let p = provisioner(&e);
    let prepared = p.prepare(plan.clone(), false).await.unwrap();
    p.apply(&prepared, &Quiet).await.unwrap();
    let sent = p.requests();
    // The tag list and the batch reading the planned app by key; then the app, its
    // service principal and one chained batch of its 20 credentials.
    assert_eq!(sent.graph, 5, "{sent:?}");
    let stats = e.stats();
    assert_eq!(stats["by_kind"]["graph.batch"], 2, "{stats}");
    assert_converged(&e, plan).await;
    e.shutdown().await;
}
