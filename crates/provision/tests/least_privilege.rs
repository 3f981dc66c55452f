//! An operator that holds exactly what `permissions` prints for a config, and nothing
//! else, applies, verifies and destroys a config that mixes apps and managed
//! identities; one that lacks a right is stopped before its first write, with the
//! right named. The emulator judges every request as Graph and ARM do.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{Hands, RATE_SCALE, SUB};
use pulumi_azure_oidc::permissions::permissions;
use pulumi_azure_oidc::{Config, ErrorCode};
use pulumi_azure_oidc_emulator as emu;
use pulumi_azure_oidc_provision::{Provisioner, Quiet, Secret, VerifyRequest};

const OPERATOR: &str = "5e1f0c2a-7b3d-4e8f-9a1b-2c3d4e5f6a7b";
const OPERATOR_SECRET: &str = "least-privilege-secret";

fn config() -> String {
    format!(
        r#"
org: contoso
azure:
  tenant: {tenant}
  subscription: {SUB}
deployments:
  - project: core
    stacks: [dev]
    roles:
      - {{ role: Contributor, scope: /subscriptions/{SUB}/resourceGroups/core }}
  - project: platform
    stacks: [prod]
    holder: {{ managedIdentity: {{ resourceGroup: pulumi-oidc, location: westeurope }} }}
    roles:
      - {{ role: Reader, scope: /subscriptions/{SUB}/resourceGroups/platform }}
esc:
  - project: azure
    envs: [dev]
"#,
        tenant = emu::DEFAULT_TENANT_ID
    )
}

fn plan() -> pulumi_azure_oidc::Plan {
    pulumi_azure_oidc::plan(&Config::from_yaml(&config()).unwrap()).unwrap()
}

async fn start() -> emu::Emulator {
    let mut options = emu::Options {
        rate_scale: RATE_SCALE,
        ..emu::Options::default()
    };
    options.operators.push(emu::Operator {
        client_id: OPERATOR.into(),
        client_secret: OPERATOR_SECRET.into(),
        rights: emu::Rights::Granted,
    });
    emu::Emulator::start(options).await.unwrap()
}

fn operator(e: &emu::Emulator) -> Arc<Provisioner> {
    Arc::new(
        Provisioner::new(common::options_as(
            e,
            OPERATOR,
            OPERATOR_SECRET,
            emu::DEFAULT_PULUMI_TOKEN,
            None,
        ))
        .unwrap(),
    )
}

/// What `permissions` prints for the config, granted by an admin through the APIs;
/// `leave_out` names a right (a Graph permission or an ARM role) not to grant.
async fn grant(e: &emu::Emulator, leave_out: Option<&str>) {
    let admin = Hands::new(e).await;
    let me = e.operator_object_id(OPERATOR).unwrap();
    let rights = permissions(&plan());
    for g in &rights.graph {
        if leave_out != Some(g.permission.as_str()) {
            admin
                .grant_graph(&e.graph_service_principal_id(), &me, &g.permission)
                .await;
        }
    }
    for a in &rights.arm {
        if leave_out != Some(a.role.as_str()) {
            admin
                .role_with(&me, &a.role_definition_id, &a.scope, a.condition.as_deref())
                .await;
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn exactly_the_printed_rights_apply_verify_and_destroy_a_mixed_config() {
    let e = start().await;
    grant(&e, None).await;
    let p = operator(&e);
    let prepared = p.prepare(plan(), false).await.unwrap();
    p.apply(&prepared, &Quiet).await.unwrap();
    let state = e.state();
    assert_eq!(state["managedIdentities"].as_array().unwrap().len(), 1);
    assert_eq!(state["applications"].as_array().unwrap().len(), 2);

    let again = p.prepare(plan(), false).await.unwrap();
    assert!(again.diff.is_converged(), "{:?}", again.diff.changes);
    for (stack, project) in [("dev", "core"), ("prod", "platform")] {
        let token = e
            .mint(&emu::MintRequest::deployment(
                "contoso", project, stack, "update",
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
        assert!(verified.ok, "{project}/{stack}: {:?}", verified.results);
    }

    let (steps, live) = p.plan_destroy(&plan()).await.unwrap();
    p.destroy(&steps, &live, &Quiet).await.unwrap();
    let state = e.state();
    assert!(
        state["managedIdentities"].as_array().unwrap().is_empty(),
        "{state}"
    );
    assert!(
        state["applications"].as_array().unwrap().is_empty(),
        "{state}"
    );
    assert!(
        state["roleAssignments"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| {
                r["properties"]["principalId"] == e.operator_object_id(OPERATOR).unwrap().as_str()
            }),
        "only the operator's own assignments remain: {state}"
    );
    e.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_right_stops_the_run_before_any_write() {
    for (left_out, named) in [
        (
            "Application.ReadWrite.OwnedBy",
            "Application.ReadWrite.OwnedBy",
        ),
        (
            "Managed Identity Contributor",
            "Managed Identity Contributor",
        ),
        (
            "Role Based Access Control Administrator",
            "Role Based Access Control Administrator",
        ),
    ] {
        let e = start().await;
        grant(&e, Some(left_out)).await;
        let p = operator(&e);
        e.reset_stats();
        // Without OwnedBy the operator cannot even read the apps: observing stops.
        let err = match p.prepare(plan(), false).await {
            Ok(prepared) => p.apply(&prepared, &Quiet).await.unwrap_err(),
            Err(e) => e,
        };
        assert_eq!(
            err.code(),
            ErrorCode::InsufficientRights,
            "{left_out}: {err}"
        );
        let text = err.to_string();
        assert!(text.contains(named), "{left_out}: {text}");
        assert!(text.contains("permissions --config"), "{text}");
        assert_eq!(
            e.stats()["write_requests"],
            0,
            "{left_out}: nothing is written"
        );
        e.shutdown().await;
    }
}

/// A role outside the condition is refused by the check, and by ARM itself when the
/// check is skipped: the condition, not the tool, is what holds.
#[tokio::test(flavor = "multi_thread")]
async fn the_condition_limits_the_roles_the_operator_may_assign() {
    let e = start().await;
    grant(&e, None).await;
    let wider = config().replace("role: Reader,", "role: Owner,");
    let wider = pulumi_azure_oidc::plan(&Config::from_yaml(&wider).unwrap()).unwrap();
    let p = operator(&e);
    let prepared = p.prepare(wider.clone(), false).await.unwrap();
    let err = p.apply(&prepared, &Quiet).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::InsufficientRights, "{err}");
    assert!(
        err.to_string()
            .contains("8e3af657-a8ff-443c-a75c-2fe8c4bcb635"),
        "{err}"
    );

    let mut unchecked = common::options_as(
        &e,
        OPERATOR,
        OPERATOR_SECRET,
        emu::DEFAULT_PULUMI_TOKEN,
        None,
    );
    unchecked.check_rights = false;
    let p = Arc::new(Provisioner::new(unchecked).unwrap());
    let prepared = p.prepare(wider, false).await.unwrap();
    let err = p.apply(&prepared, &Quiet).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::ServiceError, "{err}");
    assert!(err.to_string().contains("AuthorizationFailed"), "{err}");
    e.shutdown().await;
}
