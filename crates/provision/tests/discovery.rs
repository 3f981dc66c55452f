//! Discovery: a config's `"*"` entries filled from Pulumi Cloud's paged lists of the
//! org's stacks and ESC environments, then planned, applied and checked like any
//! config.
#![allow(clippy::unwrap_used)]

mod common;

use common::{Hands, provisioner};
use pulumi_azure_oidc::Config;
use pulumi_azure_oidc_emulator as emu;
use pulumi_azure_oidc_provision::Quiet;
use serde_json::json;

const CONFIG: &str = r#"
org: contoso
azure:
  tenant: 6f2c1d4e-8a3b-4c5d-9e0f-1a2b3c4d5e6f
  subscription: 00000000-0000-4000-8000-000000000001
deployments:
  - project: core
    stacks: "*"
    exclude: ["pr-*"]
    roles:
      - { role: Contributor, scope: /subscriptions/00000000-0000-4000-8000-000000000001/resourceGroups/core }
  - project: core
    stack: prod
    operations: [preview, update]
    roles:
      - { role: Reader, scope: /subscriptions/00000000-0000-4000-8000-000000000001 }
  - projects: "*"
    exclude: ["core/*", "*/scratch"]
    operations: [update]
    roles:
      - { role: Reader, scope: /subscriptions/00000000-0000-4000-8000-000000000001 }
esc:
  - project: azure
    envs: "*"
"#;

#[tokio::test(flavor = "multi_thread")]
async fn stars_are_filled_from_every_page_then_applied_like_named_targets() {
    // Two items a page: seven stacks and three environments take several pages each.
    let e = emu::Emulator::start(emu::Options {
        list_page_size: 2,
        ..emu::Options::default()
    })
    .await
    .unwrap();
    let hands = Hands::new(&e).await;
    for (project, stack) in [
        ("core", "dev"),
        ("core", "prod"),
        ("core", "pr-41"),
        ("core", "staging"),
        ("network", "dev"),
        ("network", "scratch"),
        ("web", "prod"),
    ] {
        hands
            .call(
                reqwest::Method::POST,
                &format!("/api/stacks/contoso/{project}"),
                "pulumi",
                Some(json!({"stackName": stack})),
            )
            .await;
    }
    for env in ["dev", "prod", "test"] {
        hands.env("azure", env, "values: {}\n").await;
    }
    hands.env("other", "dev", "values: {}\n").await;

    let config = Config::from_yaml(CONFIG).unwrap();
    assert!(config.needs_discovery());
    let offline = pulumi_azure_oidc::plan(&config).unwrap_err();
    assert!(offline.to_string().contains("\"*\""), "{offline}");

    let p = provisioner(&e, emu::DEFAULT_PULUMI_TOKEN);
    e.reset_stats();
    let expanded = p.discover(&config).await.unwrap();
    let by_kind = e.stats()["by_kind"].clone();
    // 7 stacks at 2 a page: 4 pages; 4 environments: 2 pages.
    assert_eq!(by_kind["pulumi.stacks.list"], 4, "{by_kind}");
    assert_eq!(by_kind["pulumi.esc.list"], 2, "{by_kind}");
    let mut found = expanded.discovered.clone();
    found.sort();
    assert_eq!(
        found,
        [
            "ESC environment contoso/azure/dev",
            "ESC environment contoso/azure/prod",
            "ESC environment contoso/azure/test",
            "stack contoso/core/dev",
            "stack contoso/core/staging",
            "stack contoso/network/dev",
            "stack contoso/web/prod",
        ],
        "excluded by glob: core/pr-41 and network/scratch; core/prod is named in the config"
    );
    // The named entry keeps its own operations and roles.
    let prod = expanded
        .targets
        .iter()
        .find(|t| t.target.to_string() == "stack contoso/core/prod")
        .unwrap();
    assert_eq!(prod.roles[0].role.name, "Reader");

    let plan = p.plan_config(&config).await.unwrap();
    let prepared = p.prepare(plan, false).await.unwrap();
    p.apply(&prepared, &Quiet).await.unwrap();
    let status = p
        .status(p.plan_config(&config).await.unwrap())
        .await
        .unwrap();
    assert!(status.converged, "{status:?}");
    // Apply again: discovery lists again, and nothing is written.
    e.reset_stats();
    let again = p
        .prepare(p.plan_config(&config).await.unwrap(), false)
        .await
        .unwrap();
    assert!(again.diff.is_converged());
    assert_eq!(e.stats()["mutations"], 0);
    let settings = e.state()["deploymentSettings"].clone();
    assert!(settings.get("contoso/web/prod").is_some(), "{settings}");
    assert!(settings.get("contoso/core/pr-41").is_none(), "{settings}");

    // Nothing matching: a clear error, not an empty plan.
    let none = Config::from_yaml(
        "org: contoso\ndeployments:\n  - project: nothing-here\n    stacks: \"*\"\n",
    )
    .unwrap();
    let err = p.discover(&none).await.unwrap_err();
    assert!(
        err.to_string().contains("discovery found no stack"),
        "{err}"
    );
    e.shutdown().await;
}

#[test]
fn star_entries_are_checked_where_they_are_written() {
    let bad = |yaml: &str| Config::from_yaml(yaml).unwrap_err().to_string();
    assert!(
        bad("org: contoso\ndeployments:\n  - project: p\n    stacks: \"dev\"\n")
            .contains("or \"*\"")
    );
    assert!(
        bad("org: contoso\ndeployments:\n  - projects: \"core\"\n").contains("takes only \"*\"")
    );
    assert!(
        bad("org: contoso\ndeployments:\n  - project: p\n    stacks: [a]\n    exclude: [b]\n")
            .contains("discovered stacks only")
    );
    assert!(
        bad("org: contoso\ndeployments:\n  - projects: \"*\"\n    stacks: [a]\n")
            .contains("leave it out")
    );
    assert!(
        bad("org: contoso\nesc:\n  - project: p\n    envs: \"*\"\n    exclude: [\"\"]\n")
            .contains("empty `exclude`")
    );
}
