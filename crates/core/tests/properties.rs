//! Property tests: names, subjects and plans hold their invariants for any input.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use proptest::prelude::*;
use pulumi_azure_oidc::config::{Config, ConfiguredTarget};
use pulumi_azure_oidc::diagnose::jwt::encode_unsigned;
use pulumi_azure_oidc::diff::{ObservedApp, ObservedCredential, ObservedRoleAssignment};
use pulumi_azure_oidc::plan::MAX_CREDENTIALS_PER_APP;
use pulumi_azure_oidc::{
    AzureSettings, DiffOptions, ErrorCode, Issuer, ObservedState, Role, RoleGrant, Scope,
    TargetSpec, diagnose_token, diff, plan,
};
use std::collections::{HashMap, HashSet};

const NOW: i64 = 1_767_225_600;

fn pulumi_name() -> impl Strategy<Value = String> {
    "[A-Za-z0-9_.-]{1,40}".prop_filter("not . or ..", |s| s != "." && s != "..")
}

fn org_name() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9][a-zA-Z0-9_-]{1,20}[a-zA-Z0-9]"
}

fn operations() -> impl Strategy<Value = Vec<String>> {
    proptest::sample::subsequence(vec!["preview", "update", "refresh", "destroy"], 0..=4)
        .prop_map(|v| v.into_iter().map(str::to_owned).collect())
}

fn attributes() -> impl Strategy<Value = Option<Vec<String>>> {
    prop_oneof![
        Just(None),
        Just(Some(vec![])),
        proptest::sample::subsequence(
            vec![
                "rootEnvironment.name",
                "currentEnvironment.name",
                "pulumi.user.login",
                "pulumi.organization.login"
            ],
            1..=4
        )
        .prop_shuffle()
        .prop_map(|v| Some(v.into_iter().map(str::to_owned).collect())),
    ]
}

fn target_spec(org: String) -> impl Strategy<Value = TargetSpec> {
    let o2 = org.clone();
    prop_oneof![
        (pulumi_name(), pulumi_name(), operations()).prop_map(
            move |(project, stack, operations)| {
                TargetSpec::Deployment {
                    org: org.clone(),
                    project,
                    stack,
                    operations: (!operations.is_empty()).then_some(operations),
                    issuer: None,
                }
            }
        ),
        (pulumi_name(), pulumi_name(), attributes(), any::<bool>()).prop_map(
            move |(project, env, subject_attributes, include_yaml_subject)| TargetSpec::Esc {
                org: o2.clone(),
                project,
                env,
                subject_attributes,
                user: Some("person-a".into()),
                root_env: None,
                include_yaml_subject,
                issuer: None,
            }
        ),
    ]
}

fn token_for(iss: &str, sub: &str, aud: &str) -> String {
    encode_unsigned(&serde_json::json!({
        "iss": iss, "sub": sub, "aud": aud, "nbf": NOW - 60, "exp": NOW + 3600
    }))
}

fn as_observed(c: &pulumi_azure_oidc::FederatedCredential) -> ObservedCredential {
    ObservedCredential::from(c)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn valid_names_parse_and_invalid_characters_are_refused(name in pulumi_name(), bad in "[a-z]{0,5}[ :/@][a-z]{0,5}") {
        prop_assert!(pulumi_azure_oidc::StackName::new(name.as_str()).is_ok());
        prop_assert!(pulumi_azure_oidc::ProjectName::new(name.as_str()).is_ok());
        let err = pulumi_azure_oidc::StackName::new(bad.as_str()).unwrap_err();
        prop_assert_eq!(err.code(), ErrorCode::InvalidStack);
        prop_assert!(err.to_string().contains(&bad));
    }

    #[test]
    fn every_credential_is_valid_and_its_token_is_accepted(
        spec in org_name().prop_flat_map(target_spec),
    ) {
        let generated = match spec.credentials() {
            Ok(g) => g,
            // A subject over 600 characters is refused with its own code, never emitted.
            Err(e) => {
                prop_assert_eq!(e.code(), ErrorCode::ClaimTooLong);
                return Ok(());
            }
        };
        let list: Vec<ObservedCredential> = generated.credentials.iter().map(as_observed).collect();
        let mut names = HashSet::new();
        for c in &generated.credentials {
            prop_assert!(c.subject.chars().count() <= 600);
            prop_assert!(c.name.as_str().len() <= 120);
            prop_assert!(names.insert(c.name.clone()));
            let token = token_for(&c.issuer, &c.subject, &c.audience);
            let d = diagnose_token(&token, Some(&list), NOW).unwrap();
            prop_assert!(d.accepted, "{}", d.verdict);
            // Without a list, the suggested credential is the one this tool generates,
            // name included, whenever the subject names its target.
            let names_target = !c.subject.contains("pulumi.organization.login:")
                || c.subject.contains(":currentEnvironment.name:");
            let alone = diagnose_token(&token, None, NOW).unwrap();
            let fix = alone.fix.unwrap();
            prop_assert_eq!(&fix.subject, &c.subject);
            prop_assert_eq!(&fix.audiences, &vec![c.audience.clone()]);
            if names_target {
                prop_assert_eq!(fix.name.as_str(), c.name.as_str());
            }
            prop_assert_eq!(d.matched.as_deref(), Some(c.name.as_str()));
            // Change one field: refused, and the closest candidate names that field.
            for (field, token) in [
                ("issuer", token_for(&format!("{}/", c.issuer), &c.subject, &c.audience)),
                ("subject", token_for(&c.issuer, &format!("{}x", c.subject), &c.audience)),
                ("audience", token_for(&c.issuer, &c.subject, &format!("{}x", c.audience))),
            ] {
                let d = diagnose_token(&token, Some(&list), NOW).unwrap();
                prop_assert!(!d.accepted);
                let code = match field { "issuer" => 700211, "subject" => 700213, _ => 700212 };
                prop_assert_eq!(d.aadsts, Some(code), "{}", field);
                let closest = d.candidates.iter().find(|k| k.name == c.name.as_str()).unwrap();
                prop_assert_eq!(closest.differences.len(), 1);
                prop_assert_eq!(closest.differences[0].field, field);
                let fix = d.fix.unwrap();
                prop_assert!(fix.name.len() <= 120);
            }
        }
    }

    #[test]
    fn plans_respect_the_limit_keep_targets_whole_and_group_by_roles(
        specs in org_name().prop_flat_map(|org| proptest::collection::vec(target_spec(org), 1..40)),
        role_choice in proptest::collection::vec(0usize..3, 40),
    ) {
        let grants = |i: usize| -> Vec<RoleGrant> {
            let scope = Scope::parse("/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590/resourceGroups/rg").unwrap();
            match i {
                0 => vec![],
                1 => vec![RoleGrant { role: Role::parse("Reader").unwrap(), scope }],
                _ => vec![RoleGrant { role: Role::parse("Contributor").unwrap(), scope }],
            }
        };
        let mut targets = Vec::new();
        let mut seen = HashSet::new();
        for (i, s) in specs.iter().enumerate() {
            let Ok((target, _)) = s.build() else { continue };
            if target.credentials(&Issuer::default()).is_err() || !seen.insert(target.key()) {
                continue;
            }
            targets.push(ConfiguredTarget { target, roles: grants(role_choice[i]), key_vault: None, holder: None, identity: None });
        }
        prop_assume!(!targets.is_empty());
        let org = targets[0].target.org().clone();
        let config = Config { org, issuer: Issuer::default(), azure: AzureSettings::default(), targets, discovery: Vec::new(), discovered: Vec::new() };
        let p = plan(&config).unwrap();
        prop_assert_eq!(&p, &plan(&config).unwrap(), "deterministic");

        let mut placed: HashMap<String, usize> = HashMap::new();
        for app in &p.apps {
            prop_assert!(app.credentials.len() <= MAX_CREDENTIALS_PER_APP);
            let names: HashSet<_> = app.credentials.iter().map(|c| c.name.clone()).collect();
            prop_assert_eq!(names.len(), app.credentials.len(), "names unique per app");
            let subjects: HashSet<_> = app.credentials.iter().map(|c| (&c.issuer, &c.subject)).collect();
            prop_assert_eq!(subjects.len(), app.credentials.len(), "issuer+subject unique per app");
            for t in &app.targets {
                *placed.entry(t.target.key()).or_default() += 1;
                for n in &t.credentials {
                    prop_assert!(names.contains(n), "target kept whole in its app");
                }
                let roles = &config.targets.iter().find(|c| c.target.key() == t.target.key()).unwrap().roles;
                prop_assert_eq!(roles, &app.roles, "same roles within an app");
            }
        }
        prop_assert_eq!(placed.len(), config.targets.len());
        prop_assert!(placed.values().all(|n| *n == 1), "each target in exactly one app");

        // Against an empty tenant the diff only creates, which is all the request
        // preview (`render requests`) knows how to show, and it is what the preview's
        // own `first_changes` gives.
        let first = diff(&p, &ObservedState::default(), DiffOptions::default()).unwrap();
        prop_assert_eq!(&first.changes, &pulumi_azure_oidc::diff::first_changes(&p).unwrap());
        let not_created: Vec<_> = first.changes.iter().filter(|c| !matches!(c,
            pulumi_azure_oidc::Change::CreateApp { .. }
            | pulumi_azure_oidc::Change::CreateIdentity { .. }
            | pulumi_azure_oidc::Change::CreateServicePrincipal { .. }
            | pulumi_azure_oidc::Change::CreateCredential { .. }
            | pulumi_azure_oidc::Change::CreateRoleAssignment { .. }
            | pulumi_azure_oidc::Change::ConfigureDeploymentSettings { .. }
            | pulumi_azure_oidc::Change::WriteEscEnvironment { .. })).collect();
        prop_assert!(not_created.is_empty(), "{:?}", not_created);
        prop_assert!(pulumi_azure_oidc::provision::preview::first_apply(
            &p, &Default::default(), "<tenant-id>", None, None).is_ok());

        // Idempotency: the state after a full apply diffs to nothing.
        let mut state = ObservedState::default();
        for (i, app) in p.apps.iter().enumerate() {
            let sp = format!("sp-{i}");
            state.apps.push(ObservedApp {
                id: format!("obj-{i}"),
                app_id: format!("client-{i}"),
                unique_name: Some(app.unique_name.clone()),
                display_name: app.display_name.clone(),
                tags: app.tags.clone(),
                federated_identity_credentials: app.credentials.iter().map(as_observed).collect(),
                service_principal_id: Some(sp.clone()),
                role_assignments: app.roles.iter().map(|g| ObservedRoleAssignment {
                    name: g.assignment_name(&sp),
                    scope: g.scope.to_string(),
                    role_definition_id: g.role_definition_id(),
                    principal_id: sp.clone(),
                }).collect(),
                identity_id: None,
            });
        }
        let d = diff(&p, &state, DiffOptions::default()).unwrap();
        let azure_writes: Vec<_> = d.changes.iter().filter(|c| !matches!(c,
            pulumi_azure_oidc::Change::ConfigureDeploymentSettings { .. } | pulumi_azure_oidc::Change::WriteEscEnvironment { .. })).collect();
        prop_assert!(azure_writes.is_empty(), "{:?}", azure_writes);
    }
}
