#![allow(clippy::unwrap_used)]
//! The emulator mints the subjects and audiences Pulumi documents, compared with the
//! documents' own literal strings rather than with anything the tool computes: if the
//! tool got a subject wrong, a set-up it made would fail here against the emulator
//! instead of passing because the double agreed with it.
//!
//! Literals from pulumi/docs `content/docs/deployments/guides/oidc/azure.md` (the four
//! `contoso/core/dev` subjects), `content/docs/esc/guides/configuring-oidc/_index.md`
//! (`project/development`, the legacy `default` project, the `subjectAttributes`
//! example with `personA`), and pulumi/pulumi#14509 (the `<yaml>` subject).

use base64::Engine;
use pulumi_azure_oidc_emulator::{Emulator, MintRequest, Options, PULUMI_ISSUER};
use serde_json::{Value, json};

fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

/// `(sub, aud, iss)` of a token minted for `request`.
fn minted(emu: &Emulator, request: &MintRequest) -> (String, String, String) {
    let c = claims(&emu.mint(request).unwrap());
    let text = |k: &str| c[k].as_str().unwrap().to_owned();
    (text("sub"), text("aud"), text("iss"))
}

fn esc(target: Value) -> MintRequest {
    let mut request = MintRequest::esc("contoso", "project", "development");
    request.target = target;
    request
}

#[tokio::test(flavor = "multi_thread")]
async fn deployments_tokens_carry_the_documented_subject_and_audience() {
    let emu = Emulator::start(Options::default()).await.unwrap();
    let update = MintRequest::deployment("contoso", "core", "dev", "update");
    assert_eq!(
        minted(&emu, &update),
        (
            "pulumi:deploy:org:contoso:project:core:stack:dev:operation:update:scope:write".into(),
            "contoso".into(),
            PULUMI_ISSUER.into(),
        )
    );
    // The Azure guide's list: one subject per operation.
    for (op, literal) in [
        (
            "preview",
            "pulumi:deploy:org:contoso:project:core:stack:dev:operation:preview:scope:write",
        ),
        (
            "refresh",
            "pulumi:deploy:org:contoso:project:core:stack:dev:operation:refresh:scope:write",
        ),
        (
            "destroy",
            "pulumi:deploy:org:contoso:project:core:stack:dev:operation:destroy:scope:write",
        ),
    ] {
        let (sub, aud, _) = minted(&emu, &MintRequest::deployment("contoso", "core", "dev", op));
        assert_eq!((sub.as_str(), aud.as_str()), (literal, "contoso"), "{op}");
    }
    let c = claims(&emu.mint(&update).unwrap());
    assert_eq!(c["stackId"], "contoso/core/dev");
    assert_eq!(c["scope"], "write");
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn esc_tokens_carry_the_documented_subjects_and_audiences() {
    let emu = Emulator::start(Options::default()).await.unwrap();
    let cases = [
        // No subjectAttributes: Pulumi's default subject.
        (
            esc(
                json!({"kind": "esc", "org": "contoso", "project": "project", "env": "development", "subjectAttributes": []}),
            ),
            "pulumi:environments:org:contoso:env:project/development",
            "azure:contoso",
        ),
        // The legacy `default` project: no project in the subject, the bare org as audience.
        (
            esc(
                json!({"kind": "esc", "org": "contoso", "project": "default", "env": "development", "subjectAttributes": []}),
            ),
            "pulumi:environments:org:contoso:env:development",
            "contoso",
        ),
        // The docs' subjectAttributes example.
        (
            esc(json!({
                "kind": "esc", "org": "contoso", "project": "project", "env": "development",
                "subjectAttributes": ["currentEnvironment.name", "pulumi.user.login"], "user": "personA",
            })),
            "pulumi:environments:pulumi.organization.login:contoso:currentEnvironment.name:project/development:pulumi.user.login:personA",
            "azure:contoso",
        ),
        // The same in the `default` project, where the name is the bare environment.
        (
            esc(json!({
                "kind": "esc", "org": "contoso", "project": "default", "env": "development",
                "subjectAttributes": ["currentEnvironment.name", "pulumi.user.login"], "user": "personA",
            })),
            "pulumi:environments:pulumi.organization.login:contoso:currentEnvironment.name:development:pulumi.user.login:personA",
            "contoso",
        ),
        // Without attributes given, the block a set-up writes: `[currentEnvironment.name]`.
        (
            MintRequest::esc("contoso", "project", "development"),
            "pulumi:environments:pulumi.organization.login:contoso:currentEnvironment.name:project/development",
            "azure:contoso",
        ),
        // Opened from a stack's config without attributes (pulumi/pulumi#14509).
        (
            MintRequest {
                yaml_subject: true,
                ..esc(
                    json!({"kind": "esc", "org": "contoso", "project": "project", "env": "development", "subjectAttributes": []}),
                )
            },
            "pulumi:environments:org:contoso:env:<yaml>",
            "azure:contoso",
        ),
    ];
    for (request, subject, audience) in cases {
        let (sub, aud, iss) = minted(&emu, &request);
        assert_eq!(
            (sub.as_str(), aud.as_str(), iss.as_str()),
            (subject, audience, PULUMI_ISSUER),
            "{}",
            request.target
        );
    }
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn names_and_attributes_pulumi_refuses_are_not_minted() {
    let emu = Emulator::start(Options::default()).await.unwrap();
    for target in [
        json!({"kind": "deployment", "org": "ab", "project": "core", "stack": "dev"}),
        json!({"kind": "deployment", "org": "contoso", "project": "co re", "stack": "dev"}),
        json!({"kind": "deployment", "org": "contoso", "project": "core", "stack": "d:ev"}),
        json!({"kind": "esc", "org": "contoso", "project": "..", "env": "dev"}),
        json!({"kind": "esc", "org": "contoso", "project": "infra", "env": "dev", "subjectAttributes": ["currentEnvironment.project"]}),
    ] {
        let request = MintRequest {
            target: target.clone(),
            ..MintRequest::deployment("contoso", "core", "dev", "update")
        };
        assert!(emu.mint(&request).is_err(), "{target}");
    }
    let other = MintRequest::deployment("contoso", "core", "dev", "import");
    assert!(emu.mint(&other).is_err());
    emu.shutdown().await;
}
