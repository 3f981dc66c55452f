//! Core benchmarks: subjects, plan and diff for 10 / 1,000 / 10,000 stacks, and a
//! token diagnosis against a full app of 20 credentials. Run with `cargo xtask bench`.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use pulumi_azure_oidc::config::{Config, ConfiguredTarget};
use pulumi_azure_oidc::diagnose::jwt::encode_unsigned;
use pulumi_azure_oidc::diff::ObservedCredential;
use pulumi_azure_oidc::{
    AzureSettings, DeploymentTarget, DiffOptions, Issuer, OrgName, ProjectName, StackName, Target,
    diagnose_token, diff, plan,
};
use std::hint::black_box;

use pulumi_azure_oidc_test_support as support;

const SIZES: [usize; 3] = [10, 1_000, 10_000];

fn stacks(n: usize) -> Vec<Target> {
    let org = OrgName::new("contoso").expect("valid");
    (0..n)
        .map(|i| {
            Target::Deployment(DeploymentTarget::new(
                org.clone(),
                ProjectName::new(format!("project-{}", i / 100)).expect("valid"),
                StackName::new(format!("stack-{i}")).expect("valid"),
                &[],
            ))
        })
        .collect()
}

fn config(n: usize) -> Config {
    Config {
        org: OrgName::new("contoso").expect("valid"),
        issuer: Issuer::default(),
        azure: AzureSettings::default(),
        targets: stacks(n)
            .into_iter()
            .map(|target| ConfiguredTarget {
                target,
                roles: Vec::new(),
                key_vault: None,
                holder: None,
                identity: None,
            })
            .collect(),
        discovery: Vec::new(),
        discovered: Vec::new(),
    }
}

fn bench_subjects(c: &mut Criterion) {
    let mut g = c.benchmark_group("subjects");
    let issuer = Issuer::default();
    for n in SIZES {
        let targets = stacks(n);
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::from_parameter(n), &targets, |b, targets| {
            b.iter(|| {
                for t in targets {
                    black_box(t.credentials(&issuer).expect("valid"));
                }
            })
        });
    }
    g.finish();
}

fn bench_plan(c: &mut Criterion) {
    let mut g = c.benchmark_group("plan");
    for n in SIZES {
        let cfg = config(n);
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::from_parameter(n), &cfg, |b, cfg| {
            b.iter(|| black_box(plan(cfg).expect("plans")))
        });
    }
    g.finish();
}

fn bench_diff(c: &mut Criterion) {
    let mut g = c.benchmark_group("diff_converged");
    for n in SIZES {
        let p = plan(&config(n)).expect("plans");
        let state = support::converged_state(&p);
        assert!(
            diff(&p, &state, DiffOptions::default())
                .expect("diffs")
                .is_converged()
        );
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(
            BenchmarkId::from_parameter(n),
            &(p, state),
            |b, (p, state)| {
                b.iter(|| black_box(diff(p, state, DiffOptions::default()).expect("diffs")))
            },
        );
    }
    g.finish();
}

fn bench_diagnose(c: &mut Criterion) {
    let p = plan(&config(5)).expect("plans");
    let creds: Vec<ObservedCredential> = p.apps[0]
        .credentials
        .iter()
        .map(|c| ObservedCredential {
            id: None,
            name: c.name.to_string(),
            issuer: c.issuer.clone(),
            subject: Some(c.subject.clone()),
            audiences: vec![c.audience.clone()],
            description: None,
        })
        .collect();
    assert_eq!(creds.len(), 20);
    let token = encode_unsigned(&serde_json::json!({
        "iss": "https://api.pulumi.com/oidc",
        "sub": "pulumi:deploy:org:contoso:project:project-0:stack:stack-9:operation:update:scope:write",
        "aud": "contoso", "nbf": 0, "exp": 4_000_000_000_i64,
    }));
    c.bench_function("diagnose_token_vs_20", |b| {
        b.iter(|| black_box(diagnose_token(&token, Some(&creds), 1_767_225_600).expect("decodes")))
    });
}

/// What `paoidc_credentials` does inside the C ABI (spec JSON in, JSON out), so the
/// C figure has its Rust counterpart measured side by side.
fn bench_credentials_json(c: &mut Criterion) {
    let spec = r#"{"kind":"deployment","org":"contoso","project":"core","stack":"dev"}"#;
    c.bench_function("credentials_json", |b| {
        b.iter(|| {
            let generated = pulumi_azure_oidc::TargetSpec::from_json(black_box(spec))
                .expect("valid")
                .credentials()
                .expect("valid");
            let bodies: Vec<_> = generated.credentials.iter().map(|c| c.to_graph_body()).collect();
            black_box(
                serde_json::json!({"target": generated.target, "credentials": bodies, "warnings": generated.warnings})
                    .to_string(),
            )
        })
    });
}

criterion_group!(
    benches,
    bench_subjects,
    bench_plan,
    bench_diff,
    bench_diagnose,
    bench_credentials_json
);
criterion_main!(benches);
