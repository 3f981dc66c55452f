//! `adopt`: a set-up made by hand (through the emulator's own APIs, never our
//! executor) described as a config that `apply` leaves untouched, until
//! `--take-ownership` marks it ours for `destroy`.
#![allow(clippy::unwrap_used)]

mod common;

use common::{Hands, ISSUER, ORG, SUB, provisioner};
use pulumi_azure_oidc::diff::DiffOptions;
use pulumi_azure_oidc::{Config, Issuer};
use pulumi_azure_oidc_emulator as emu;
use pulumi_azure_oidc_provision::Quiet;
use serde_json::json;

const CONTRIBUTOR: &str = "b24988ac-6180-42a0-ab88-20f7382dd24c";
const READER: &str = "acdd72a7-3385-48ef-bd42-f606fba81ae7";

fn settings(client_id: &str) -> serde_json::Value {
    json!({"clientId": client_id, "tenantId": emu::DEFAULT_TENANT_ID, "subscriptionId": SUB})
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hand_made_set_up_is_adopted_then_applied_with_zero_writes() {
    let e = emu::Emulator::start(emu::Options::default()).await.unwrap();
    let hands = Hands::new(&e).await;
    let rg = format!("/subscriptions/{SUB}/resourceGroups/core");

    // App A, as Pulumi's example program makes one: no uniqueName, no tags; four
    // credentials for core/dev, two for core/prod, and somebody's GitHub credential.
    let (a_obj, a_app) = hands.app("core deployments (by hand)").await;
    let a_sp = hands.sp(&a_app).await;
    hands.stack_credentials(&a_obj, "core", "dev").await;
    for op in ["preview", "update"] {
        let subject =
            format!("pulumi:deploy:org:{ORG}:project:core:stack:prod:operation:{op}:scope:write");
        hands
            .credential(&a_obj, &format!("prod-{op}"), ISSUER, &subject, ORG)
            .await;
    }
    hands
        .credential(
            &a_obj,
            "github-main",
            "https://token.actions.githubusercontent.com",
            "repo:contoso/infra:ref:refs/heads/main",
            "api://AzureADTokenExchange",
        )
        .await;
    hands.role(&a_sp, CONTRIBUTOR, &rg).await;
    for stack in ["dev", "prod", "qa"] {
        hands.settings("core", stack, settings(&a_app)).await;
    }
    // App B, for an environment, as `pulumi env setup azure` would: subjectAttributes.
    let (b_obj, b_app) = hands.app("esc login (by hand)").await;
    let b_sp = hands.sp(&b_app).await;
    hands
        .role(&b_sp, READER, &format!("/subscriptions/{SUB}"))
        .await;
    let attrs = vec!["currentEnvironment.name".to_owned()];
    let wanted = pulumi_azure_oidc::doctor::env_target(ORG, "azure", "dev", &attrs)
        .unwrap()
        .credentials(&Issuer::default())
        .unwrap()
        .credentials;
    hands
        .credential(
            &b_obj,
            "azure-dev",
            ISSUER,
            &wanted[0].subject,
            &wanted[0].audience,
        )
        .await;
    hands
        .env(
            "azure",
            "dev",
            &format!(
                "values:\n  azure:\n    login:\n      fn::open::azure-login:\n        clientId: {b_app}\n        tenantId: {}\n        subscriptionId: {SUB}\n        oidc: true\n        subjectAttributes:\n          - currentEnvironment.name\n",
                emu::DEFAULT_TENANT_ID
            ),
        )
        .await;

    // An app that trusts one of the org's subjects, though nothing points at it; and
    // one that trusts another org's.
    let (stray_obj, stray_app) = hands.app("old core deployments").await;
    let old =
        format!("pulumi:deploy:org:{ORG}:project:core:stack:old:operation:update:scope:write");
    hands
        .credential(&stray_obj, "old-update", ISSUER, &old, ORG)
        .await;
    let (other_obj, other_app) = hands.app("fabrikam").await;
    let theirs = "pulumi:deploy:org:fabrikam:project:core:stack:dev:operation:update:scope:write";
    hands
        .credential(&other_obj, "fabrikam-update", ISSUER, theirs, "fabrikam")
        .await;

    let p = provisioner(&e, emu::DEFAULT_PULUMI_TOKEN);
    let now = time::OffsetDateTime::now_utc().unix_timestamp() + 3600;
    let before = e.stats()["mutations"].as_u64().unwrap();
    let adopted = p.adopt(ORG, &Issuer::default(), now).await.unwrap();
    assert_eq!(
        e.stats()["mutations"].as_u64().unwrap(),
        before,
        "adopt writes nothing"
    );
    let mut labels = adopted.adopted.clone();
    labels.sort();
    assert_eq!(
        labels,
        [
            "environment contoso/azure/dev",
            "stack contoso/core/dev",
            "stack contoso/core/prod"
        ],
        "{}",
        adopted.config
    );
    assert!(
        adopted.not_expressed.iter().any(|n| n.contains("core/qa")),
        "{:?}",
        adopted.not_expressed
    );
    assert!(
        adopted
            .not_expressed
            .iter()
            .any(|n| n.contains("github-main")),
        "{:?}",
        adopted.not_expressed
    );
    assert!(
        adopted
            .not_expressed
            .iter()
            .any(|n| n.contains(&stray_app) && n.contains(&old)),
        "{:?}",
        adopted.not_expressed
    );
    assert!(
        adopted
            .not_expressed
            .iter()
            .all(|n| !n.contains(&other_app)),
        "{:?}",
        adopted.not_expressed
    );
    assert!(
        adopted.config.contains(&format!("clientId: {a_app}")),
        "{}",
        adopted.config
    );
    assert!(
        adopted.config.contains("operations: [preview, update]"),
        "{}",
        adopted.config
    );
    assert!(
        adopted.config.contains("# Not in this config:"),
        "{}",
        adopted.config
    );

    // The config describes the set-up as it is: apply writes nothing at all.
    let config = Config::from_yaml(&adopted.config).unwrap();
    let plan = p.plan_config(&config).await.unwrap();
    let prepared = p.prepare(plan.clone(), false).await.unwrap();
    assert!(prepared.diff.is_converged(), "{:#?}", prepared.diff.changes);
    let before = e.stats()["mutations"].as_u64().unwrap();
    let status = p.status(plan.clone()).await.unwrap();
    assert!(status.converged, "{status:?}");
    assert_eq!(e.stats()["mutations"].as_u64().unwrap(), before);
    // Pruning never touches what somebody else made in an app we do not own.
    let pruned = p.prepare(plan.clone(), true).await.unwrap();
    assert!(pruned.diff.is_converged(), "{:#?}", pruned.diff.changes);

    // Taking ownership tags the apps and marks the credentials the config uses.
    let owned = p
        .prepare_with(
            plan.clone(),
            DiffOptions {
                prune: false,
                take_ownership: true,
            },
        )
        .await
        .unwrap();
    let kinds: Vec<String> = owned.diff.changes.iter().map(|c| c.summary()).collect();
    assert_eq!(
        kinds.iter().filter(|k| k.starts_with("~ app")).count(),
        2,
        "{kinds:#?}"
    );
    p.apply(&owned, &Quiet).await.unwrap();
    let again = p.prepare(plan.clone(), false).await.unwrap();
    assert!(again.diff.is_converged(), "{:#?}", again.diff.changes);
    let state = e.state();
    let app_b = state["applications"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["appId"] == b_app.as_str())
        .unwrap();
    assert!(
        app_b["tags"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t == "pulumi-azure-oidc"),
        "{app_b}"
    );

    // Now destroy may remove what became ours: app B whole; of app A, the credentials
    // the config used, while somebody's GitHub credential keeps the app.
    let (steps, live) = p.plan_destroy(&plan).await.unwrap();
    p.destroy(&steps, &live, &Quiet).await.unwrap();
    let state = e.state();
    let apps = state["applications"].as_array().unwrap();
    assert!(apps.iter().all(|a| a["appId"] != b_app.as_str()));
    let a = apps.iter().find(|a| a["appId"] == a_app.as_str()).unwrap();
    let names: Vec<&str> = a["federatedIdentityCredentials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["github-main"]);
    e.shutdown().await;
}
