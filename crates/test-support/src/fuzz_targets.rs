//! What each fuzz target does with its input, shared by the fuzz targets (`fuzz/`,
//! nightly, libFuzzer) and by the stable replay test (`crates/core/tests/fuzz_replay.rs`),
//! so a committed corpus or regression file is checked on every `cargo xtask test` by
//! the very code the fuzzer ran.
//!
//! Each function takes arbitrary bytes and panics (a crash, for the fuzzer) when the
//! core breaks a promise: it panics itself, an error has an empty or unbounded
//! message, a message carries raw control characters or echoes a token, or a result
//! that parsed fails to serialise, plan or render.

use pulumi_azure_oidc::diagnose::jwt;
use pulumi_azure_oidc::{
    Config, DeploymentTarget, EscEnvRef, EscProjectName, Issuer, Operation, OrgName, ParsedSubject,
    ProjectName, RenderFormat, RenderOptions, StackName, SubjectAttribute, Target, TargetSpec,
    UserLogin, diagnose_error, diagnose_token, parse_credential_list, plan, render,
};
use pulumi_azure_oidc::{CredentialName, Error, EscEnvName, Result, Role, Scope};

/// The fixed "now" of every diagnosis, so a run is reproducible.
const NOW: i64 = 1_767_225_600; // 2026-01-01T00:00:00Z

/// The longest error message any input may produce: messages name values abbreviated.
const MAX_MESSAGE: usize = 4096;

/// Check an error's promises and hand back the value of a success.
fn checked<T>(what: &str, result: Result<T>) -> Option<T> {
    match result {
        Ok(v) => Some(v),
        Err(e) => {
            check_error(what, &e);
            None
        }
    }
}

/// An error has a code, a non-empty message of bounded length, and no raw control
/// characters (a message reaches terminals and logs; a value must not drive them).
pub fn check_error(what: &str, e: &Error) {
    let message = e.to_string();
    assert!(!message.trim().is_empty(), "{what}: empty error message");
    assert!(!e.code().name().is_empty(), "{what}: unnamed error code");
    assert!(
        message.len() <= MAX_MESSAGE,
        "{what}: error message of {} bytes (code {})",
        message.len(),
        e.code().name()
    );
    assert!(
        !message.chars().any(|c| c.is_control() && c != '\n'),
        "{what}: raw control character in error message {message:?}"
    );
}

fn text(data: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(data)
}

/// (a) JWT decoding and token diagnosis. The first line is the token; the rest, when
/// present, is a credential list (Graph's `{"value":[…]}` or `az` output).
pub fn token(data: &[u8]) {
    let input = text(data);
    let (token, list) = input.split_once('\n').unwrap_or((&input, ""));
    let decoded = jwt::decode(token);
    if let Err(e) = &decoded {
        check_error("decode", e);
        let shown = token.trim();
        if shown.len() >= 32 {
            assert!(
                !e.to_string().contains(shown),
                "a token error echoes the token"
            );
        }
    }
    let credentials = if list.trim().is_empty() {
        None
    } else {
        checked("credential list", parse_credential_list(list))
    };
    let plain = diagnose_token(token, None, NOW);
    assert_eq!(
        plain.is_ok(),
        decoded.is_ok(),
        "diagnosis and decoding disagree on whether the token is readable"
    );
    if let Some(d) = checked("diagnose_token", plain) {
        assert!(!d.verified, "a diagnosis claims a verified signature");
        assert!(!d.accepted, "a token is accepted without any credential");
        assert!(!d.verdict.is_empty(), "empty verdict");
        serde_json::to_string(&d).expect("a token diagnosis serialises");
    }
    if let Some(list) = credentials
        && let Some(d) = checked("diagnose_token", diagnose_token(token, Some(&list), NOW))
    {
        assert!(d.checked_credentials);
        assert!(!d.verdict.is_empty(), "empty verdict");
        if d.accepted {
            assert!(
                d.matched.is_some(),
                "accepted without a matching credential"
            );
            assert!(
                d.aadsts.is_none(),
                "accepted, yet an AADSTS code is predicted"
            );
        }
        serde_json::to_string(&d).expect("a token diagnosis serialises");
    }
}

/// (b) The AADSTS error parser and its diagnosis.
pub fn aadsts(data: &[u8]) {
    let input = text(data);
    if let Some(d) = checked("diagnose_error", diagnose_error(&input)) {
        let json = serde_json::to_value(&d).expect("an error diagnosis serialises");
        assert!(json.is_object());
    }
}

/// (c) The config parser (YAML, and JSON), then plan and every render of what parses.
pub fn config(data: &[u8]) {
    let input = text(data);
    let yaml = Config::from_yaml(&input);
    let json = Config::from_json(&input);
    if let (Ok(y), Ok(j)) = (&yaml, &json) {
        assert_eq!(
            y, j,
            "the YAML and JSON parsers read a JSON config differently"
        );
    }
    for config in [checked("from_yaml", yaml), checked("from_json", json)]
        .into_iter()
        .flatten()
    {
        assert!(
            !config.targets.is_empty(),
            "a config without targets parsed"
        );
        let Some(plan) = checked("plan", plan(&config)) else {
            continue;
        };
        serde_json::to_string(&plan).expect("a plan serialises");
        for format in RenderFormat::ALL {
            if let Some(text) = checked("render", render(&plan, format, &RenderOptions::default()))
            {
                assert!(!text.is_empty(), "empty {} render", format.as_str());
            }
        }
    }
}

/// (d) Every name validator and parser; what validates must build subjects that
/// parse back to the same names.
pub fn names(data: &[u8]) {
    let input = text(data);
    // Parts: the whole input, then its lines (a name per line drives the round trip).
    let lines: Vec<&str> = input.lines().collect();
    for value in std::iter::once(&*input).chain(lines.iter().copied()) {
        one_name(value);
    }
    let part = |i: usize| lines.get(i).copied().unwrap_or("");
    let (org, project, stack, env) = (part(0), part(1), part(2), part(3));
    if let (Ok(org), Ok(project), Ok(stack)) = (
        OrgName::new(org),
        ProjectName::new(project),
        StackName::new(stack),
    ) {
        let target = Target::Deployment(DeploymentTarget::new(
            org.clone(),
            project.clone(),
            stack.clone(),
            &[],
        ));
        let creds = target
            .credentials(&Issuer::default())
            .expect("valid names give credentials");
        assert_eq!(creds.credentials.len(), 4);
        for c in &creds.credentials {
            CredentialName::new(c.name.as_str()).expect("generated names are valid");
            match ParsedSubject::parse(&c.subject) {
                ParsedSubject::Deployment {
                    org: o,
                    project: p,
                    stack: s,
                    operation,
                } => {
                    assert_eq!(
                        (o.as_str(), p.as_str(), s.as_str()),
                        (org.as_str(), project.as_str(), stack.as_str())
                    );
                    Operation::parse(&operation).expect("the operation parses back");
                }
                other => panic!("a deployment subject parses as {other:?}"),
            }
        }
    }
    if let (Ok(org), Ok(env)) = (OrgName::new(org), EscEnvRef::parse(env)) {
        let spec = serde_json::json!({
            "kind": "esc", "org": org.as_str(), "project": env.project.as_str(),
            "env": env.env.as_str(), "subjectAttributes": [],
        });
        let spec = TargetSpec::from_json(&spec.to_string()).expect("a valid ESC spec parses");
        let creds = spec.credentials().expect("valid names give credentials");
        for c in &creds.credentials {
            match ParsedSubject::parse(&c.subject) {
                ParsedSubject::Esc { org: o, env: e, .. } => {
                    assert_eq!(o, org.as_str());
                    assert_eq!(e, env.env.as_str());
                }
                other => panic!("an ESC subject parses as {other:?}"),
            }
        }
    }
}

fn one_name(value: &str) {
    fn name_rule<T: AsRef<str>>(what: &str, r: Result<T>, max: usize, extra: &[char]) {
        if let Some(name) = checked(what, r) {
            let name = name.as_ref();
            assert!(
                !name.is_empty() && name.chars().count() <= max,
                "{what}: length"
            );
            assert!(
                name.chars()
                    .all(|c| c.is_ascii_alphanumeric() || extra.contains(&c)),
                "{what}: a character outside the rule"
            );
        }
    }
    name_rule("org", OrgName::new(value), 40, &['-', '_']);
    name_rule("project", ProjectName::new(value), 100, &['-', '_', '.']);
    name_rule("stack", StackName::new(value), 100, &['-', '_', '.']);
    name_rule(
        "esc project",
        EscProjectName::new(value),
        100,
        &['-', '_', '.'],
    );
    name_rule("esc env", EscEnvName::new(value), 100, &['-', '_', '.']);
    name_rule("credential", CredentialName::new(value), 120, &['-', '_']);
    name_rule(
        "user",
        UserLogin::new(value).map(String::from),
        100,
        &['-', '_', '.'],
    );
    if let Some(r) = checked("env ref", EscEnvRef::parse(value)) {
        assert!(!r.qualified().is_empty());
    }
    checked("operation", Operation::parse(value));
    checked("attribute", SubjectAttribute::parse(value));
    if let Some(i) = checked("issuer", Issuer::new(value)) {
        assert_eq!(i.as_str(), value);
        assert!(i.as_str().chars().count() <= 600);
    }
    checked("issuer from API URL", Issuer::from_api_url(value));
    checked("role", Role::parse(value));
    checked("scope", Scope::parse(value));
    checked("render format", RenderFormat::parse(value));
    let parsed = ParsedSubject::parse(value);
    assert!(!parsed.describe().is_empty(), "empty subject description");
    let _ = parsed.expected_audience();
    if let Some(spec) = checked("target spec", TargetSpec::from_json(value)) {
        checked("target spec credentials", spec.credentials());
    }
}
