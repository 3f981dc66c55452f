//! `doctor` against the in-process emulator. Every broken set-up is made the way a
//! user's own tools make one: straight through the emulator's Graph, ARM and Pulumi
//! Cloud APIs, never through our executor.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

mod common;

use common::{Hands, ISSUER, ORG, SUB, provisioner};
use pulumi_azure_oidc::doctor::{self, DoctorReport, Severity, TargetDoctor};
use pulumi_azure_oidc_emulator as emu;
use pulumi_azure_oidc_provision::Provisioner;
use serde_json::{Value, json};

const CONTRIBUTOR: &str = "b24988ac-6180-42a0-ab88-20f7382dd24c";
const OWNER: &str = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635";

async fn doctor(p: &Arc<Provisioner>, stack: Option<&str>, env: Option<&str>) -> DoctorReport {
    let targets = doctor::targets(None, stack, env).unwrap();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    p.doctor(targets, now).await.unwrap()
}

fn kinds(t: &TargetDoctor, severity: Severity) -> Vec<&'static str> {
    let mut k: Vec<_> = t
        .findings
        .iter()
        .filter(|f| f.severity == severity)
        .map(|f| f.kind)
        .collect();
    k.sort_unstable();
    k
}

fn settings(client_id: &str) -> Value {
    json!({"clientId": client_id, "tenantId": emu::DEFAULT_TENANT_ID, "subscriptionId": SUB})
}

#[tokio::test(flavor = "multi_thread")]
async fn a_set_up_made_by_hand_is_healthy_and_each_fault_is_found_with_its_fix() {
    let e = emu::Emulator::start(emu::Options::default()).await.unwrap();
    let hands = Hands::new(&e).await;
    let p = provisioner(&e, emu::DEFAULT_PULUMI_TOKEN);
    let rg = format!("/subscriptions/{SUB}/resourceGroups/core");

    // Healthy: as Pulumi's example program makes it.
    let (good_obj, good_app) = hands.app("hand-made good").await;
    let good_sp = hands.sp(&good_app).await;
    hands.stack_credentials(&good_obj, "core", "dev").await;
    hands.role(&good_sp, CONTRIBUTOR, &rg).await;
    hands.settings("core", "dev", settings(&good_app)).await;
    let r = doctor(&p, Some("contoso/core/dev"), None).await;
    let t = &r.targets[0];
    assert!(r.healthy && r.checked, "{r:#?}");
    assert_eq!(r.exit_code(), 0);
    assert_eq!(kinds(t, Severity::Fault), Vec::<&str>::new());
    // Just made: the propagation advice, which changes no verdict.
    assert_eq!(kinds(t, Severity::Advice), ["recently_created"]);

    // Broken in four ways at once: the object id as client id, no service principal,
    // and three credentials that miss by case, issuer slash and audience.
    let (bad_obj, bad_app) = hands.app("hand-made broken").await;
    let sub = |op: &str| {
        format!("pulumi:deploy:org:{ORG}:project:core:stack:prod:operation:{op}:scope:write")
    };
    hands
        .credential(
            &bad_obj,
            "prod-preview",
            ISSUER,
            &sub("preview").to_uppercase(),
            ORG,
        )
        .await;
    hands
        .credential(&bad_obj, "prod-update", ISSUER, &sub("update"), ORG)
        .await;
    hands
        .credential(
            &bad_obj,
            "prod-refresh",
            &format!("{ISSUER}/"),
            &sub("refresh"),
            ORG,
        )
        .await;
    hands
        .credential(
            &bad_obj,
            "prod-destroy",
            ISSUER,
            &sub("destroy"),
            &format!("azure:{ORG}"),
        )
        .await;
    hands.settings("core", "prod", settings(&bad_obj)).await;
    let r = doctor(&p, Some("contoso/core/prod"), None).await;
    let t = &r.targets[0];
    assert!(!r.healthy && r.checked);
    assert_eq!(r.exit_code(), 1);
    assert_eq!(
        kinds(t, Severity::Fault),
        [
            "client_id_is_object_id",
            "no_service_principal",
            "subject_case_or_whitespace",
            "wrong_audience",
            "wrong_issuer"
        ]
    );
    let fix = |kind: &str| {
        t.findings
            .iter()
            .find(|f| f.kind == kind)
            .unwrap()
            .fix
            .clone()
            .unwrap()
    };
    assert!(fix("client_id_is_object_id").contains(&bad_app));
    let message = |kind: &str| {
        t.findings
            .iter()
            .find(|f| f.kind == kind)
            .unwrap()
            .message
            .clone()
    };
    // The audience as written, in backticks like every value in a finding.
    assert!(
        message("wrong_audience").starts_with(&format!(
            "credential `prod-destroy` expects audience `azure:{ORG}`, but "
        )),
        "{}",
        message("wrong_audience")
    );
    assert_eq!(
        fix("no_service_principal"),
        format!("az ad sp create --id {bad_app}")
    );
    let update = fix("wrong_issuer");
    assert!(
        update.starts_with("az ad app federated-credential update"),
        "{update}"
    );
    assert!(
        update.contains("--federated-credential-id prod-refresh"),
        "{update}"
    );
    assert!(
        t.findings
            .iter()
            .any(|f| f.message.contains("trailing slash"))
    );

    // No role, a missing credential, the tenant of another directory, and Owner
    // advice once a role exists.
    let (lone_obj, lone_app) = hands.app("hand-made lone").await;
    let lone_sp = hands.sp(&lone_app).await;
    for op in ["preview", "update", "refresh"] {
        let s = format!("pulumi:deploy:org:{ORG}:project:core:stack:qa:operation:{op}:scope:write");
        hands
            .credential(&lone_obj, &format!("qa-{op}"), ISSUER, &s, ORG)
            .await;
    }
    let mut other_tenant = settings(&lone_app);
    other_tenant["tenantId"] = json!("11111111-2222-4333-8444-555555555555");
    hands.settings("core", "qa", other_tenant).await;
    let r = doctor(&p, Some("contoso/core/qa"), None).await;
    let t = &r.targets[0];
    assert_eq!(
        kinds(t, Severity::Fault),
        ["missing_credential", "no_role", "tenant_mismatch"]
    );
    let missing = t
        .findings
        .iter()
        .find(|f| f.kind == "missing_credential")
        .unwrap();
    assert!(
        missing.message.contains("`destroy` operation"),
        "{}",
        missing.message
    );
    assert!(
        missing
            .fix
            .as_ref()
            .unwrap()
            .contains(":operation:destroy:scope:write")
    );
    hands
        .role(&lone_sp, OWNER, &format!("/subscriptions/{SUB}"))
        .await;
    let r = doctor(&p, Some("contoso/core/qa"), None).await;
    assert!(kinds(&r.targets[0], Severity::Advice).contains(&"broad_role"));
    assert!(!kinds(&r.targets[0], Severity::Fault).contains(&"no_role"));

    // Nothing there at all; a login lacking fields; a client id that names nothing.
    let r = doctor(&p, Some("contoso/core/none"), None).await;
    assert_eq!(kinds(&r.targets[0], Severity::Fault), ["oidc_not_enabled"]);
    hands
        .settings("core", "half", json!({"clientId": good_app}))
        .await;
    let r = doctor(&p, Some("contoso/core/half"), None).await;
    assert!(kinds(&r.targets[0], Severity::Fault).contains(&"login_field_missing"));
    hands
        .settings(
            "core",
            "ghost",
            settings("99999999-8888-4777-8666-555555555555"),
        )
        .await;
    let r = doctor(&p, Some("contoso/core/ghost"), None).await;
    assert_eq!(kinds(&r.targets[0], Severity::Fault), ["no_such_app"]);
    e.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn environments_a_full_holder_and_what_could_not_be_read() {
    let e = emu::Emulator::start(emu::Options::default()).await.unwrap();
    let hands = Hands::new(&e).await;
    let p = provisioner(&e, emu::DEFAULT_PULUMI_TOKEN);
    let (obj, app) = hands.app("env holder").await;
    let sp = hands.sp(&app).await;
    hands
        .role(
            &sp,
            CONTRIBUTOR,
            &format!("/subscriptions/{SUB}/resourceGroups/core"),
        )
        .await;
    let login = |attributes: &str, oidc: &str| {
        format!(
            "values:\n  azure:\n    login:\n      fn::open::azure-login:\n        clientId: {app}\n        tenantId: {}\n        subscriptionId: {SUB}\n{oidc}{attributes}",
            emu::DEFAULT_TENANT_ID
        )
    };
    // `pulumi env setup azure`-style: subjectAttributes, but the credential was made
    // for the default subject; and the org-wide `<yaml>` subject is trusted too.
    hands
        .env(
            "azure",
            "dev",
            &login(
                "        subjectAttributes:\n          - currentEnvironment.name\n",
                "        oidc: true\n",
            ),
        )
        .await;
    hands
        .credential(
            &obj,
            "azure-dev-default",
            ISSUER,
            "pulumi:environments:org:contoso:env:azure/dev",
            &format!("azure:{ORG}"),
        )
        .await;
    hands
        .credential(
            &obj,
            "yaml",
            ISSUER,
            "pulumi:environments:org:contoso:env:<yaml>",
            &format!("azure:{ORG}"),
        )
        .await;
    let r = doctor(&p, None, Some("contoso/azure/dev")).await;
    let t = &r.targets[0];
    assert_eq!(t.kind, "environment");
    assert_eq!(kinds(t, Severity::Fault), ["subject_attributes_unmatched"]);
    assert!(kinds(t, Severity::Advice).contains(&"yaml_subject"));

    // The default subject matches, but the block logs in with a secret.
    hands.env("azure", "stage", &login("", "")).await;
    hands
        .credential(
            &obj,
            "azure-stage",
            ISSUER,
            "pulumi:environments:org:contoso:env:azure/stage",
            &format!("azure:{ORG}"),
        )
        .await;
    let r = doctor(&p, None, Some("contoso/azure/stage")).await;
    assert_eq!(kinds(&r.targets[0], Severity::Fault), ["esc_oidc_off"]);

    // Fill the app to Azure's 20 with unrelated credentials: a missing one cannot be added.
    for i in 0..17 {
        hands
            .credential(
                &obj,
                &format!("filler-{i}"),
                "https://token.actions.githubusercontent.com",
                &format!("repo:contoso/app{i}:ref:refs/heads/main"),
                "api://AzureADTokenExchange",
            )
            .await;
    }
    hands
        .env("azure", "prod", &login("", "        oidc: true\n"))
        .await;
    let r = doctor(&p, None, Some("contoso/azure/prod")).await;
    assert_eq!(
        kinds(&r.targets[0], Severity::Fault),
        ["holder_full", "missing_credential"]
    );
    let r = doctor(&p, None, Some("contoso/azure/missing")).await;
    assert!(r.targets[0].findings[0].message.contains("does not exist"));

    // A subject that depends on whoever opens the environment cannot be predicted.
    hands
        .env(
            "azure",
            "per-user",
            &login(
                "        subjectAttributes:\n          - pulumi.user.login\n",
                "        oidc: true\n",
            ),
        )
        .await;
    let r = doctor(&p, None, Some("contoso/azure/per-user")).await;
    assert_eq!(r.exit_code(), 2, "{r:#?}");
    assert!(
        r.targets[0].unreadable[0].contains("cannot be predicted"),
        "{r:#?}"
    );

    // A Pulumi token the service refuses: nothing could be checked, exit 2.
    let refused = provisioner(&e, "pul-not-the-right-token");
    let r = doctor(&refused, Some("contoso/core/dev"), None).await;
    assert!(!r.checked);
    assert_eq!(r.exit_code(), 2);
    assert!(
        r.targets[0].unreadable[0].contains("deployment settings of contoso/core/dev"),
        "{r:#?}"
    );
    e.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_set_up_made_by_apply_is_healthy() {
    let e = emu::Emulator::start(emu::Options::default()).await.unwrap();
    let p = provisioner(&e, emu::DEFAULT_PULUMI_TOKEN);
    let config = pulumi_azure_oidc::Config::from_yaml(&format!(
        "org: contoso\nazure:\n  tenant: {}\n  subscription: {SUB}\ndeployments:\n  - project: core\n    stacks: [dev, prod]\n    roles:\n      - {{ role: Contributor, scope: /subscriptions/{SUB}/resourceGroups/core }}\nesc:\n  - project: azure\n    envs: [dev]\n    roles:\n      - {{ role: Reader, scope: /subscriptions/{SUB} }}\n",
        emu::DEFAULT_TENANT_ID
    ))
    .unwrap();
    let prepared = p
        .prepare(pulumi_azure_oidc::plan(&config).unwrap(), false)
        .await
        .unwrap();
    p.apply(&prepared, &pulumi_azure_oidc_provision::Quiet)
        .await
        .unwrap();
    let writes_before = e.stats()["mutations"].as_u64().unwrap();
    let targets = doctor::targets(Some(&config), None, None).unwrap();
    let now = time::OffsetDateTime::now_utc().unix_timestamp() + 3600;
    let r = p.doctor(targets, now).await.unwrap();
    assert!(r.healthy && r.checked, "{r:#?}");
    assert_eq!(r.targets.len(), 3);
    assert!(r.targets.iter().all(|t| t.findings.is_empty()), "{r:#?}");
    assert_eq!(
        e.stats()["mutations"].as_u64().unwrap(),
        writes_before,
        "doctor writes nothing"
    );
    e.shutdown().await;
}
