//! Oversized and malformed input: each must fail fast, with an error that names the
//! rule or limit, never echoes a token, and costs bounded memory.
//!
//! Memory is measured by a counting allocator: the most bytes the calling thread held
//! at once during the call, beyond what it held before (the input itself is allocated
//! before the call and not counted).

#![allow(unsafe_code)] // the counting allocator
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use pulumi_azure_oidc::config::{
    MAX_CONFIG_BYTES, MAX_CONFIG_VALUES, MAX_NESTING, MAX_ROLE_GRANTS,
};
use pulumi_azure_oidc::diagnose::jwt;
use pulumi_azure_oidc::{
    Config, Error, ErrorCode, OrgName, ProjectName, StackName, diagnose_error, diagnose_token,
    parse_credential_list,
};
use std::time::{Duration, Instant};

use pulumi_azure_oidc_test_support::counting;

#[global_allocator]
static ALLOCATOR: counting::Counting = counting::Counting;

const MB: usize = 1 << 20;

/// Run `f`, returning its result, the time it took and the most bytes it held at once.
fn measure<T>(f: impl FnOnce() -> T) -> (T, Duration, usize) {
    let started = Instant::now();
    let (out, peak) = counting::peak_of(f);
    (out, started.elapsed(), peak)
}

/// The call failed with `code`, within `time` and `memory`, and its message contains
/// every one of `needles`.
#[track_caller]
fn refused<T: std::fmt::Debug>(
    what: &str,
    f: impl FnOnce() -> Result<T, Error>,
    code: ErrorCode,
    needles: &[&str],
    memory: usize,
) -> String {
    let (result, took, peak) = measure(f);
    let err = result.expect_err(what);
    let message = err.to_string();
    assert_eq!(err.code(), code, "{what}: {message}");
    for needle in needles {
        assert!(
            message.contains(needle),
            "{what}: `{message}` lacks `{needle}`"
        );
    }
    assert!(
        message.len() < 512,
        "{what}: a message of {} bytes",
        message.len()
    );
    // Generous for a debug build on a busy machine; the real figures are milliseconds.
    assert!(took < Duration::from_secs(5), "{what}: took {took:?}");
    assert!(
        peak <= memory,
        "{what}: held {peak} bytes, expected at most {memory}"
    );
    eprintln!("{what}: refused in {took:?}, held at most {peak} bytes: {message}");
    message
}

fn token_with_payload(payload: &str) -> String {
    use base64::Engine;
    let enc = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    format!(
        "{}.{}.c2lnbmF0dXJl",
        enc(r#"{"alg":"RS256"}"#),
        enc(payload)
    )
}

#[test]
fn a_ten_megabyte_token_is_refused_by_size_without_echoing_it() {
    let claims = format!(r#"{{"sub":"{}"}}"#, "s3cr3t-".repeat(10 * MB / 7));
    let token = token_with_payload(&claims);
    assert!(token.len() > 10 * MB);
    let message = refused(
        "10 MB token",
        || diagnose_token(&token, None, 0),
        ErrorCode::InputTooLarge,
        &["the token", "65536"],
        64 * 1024,
    );
    assert!(!message.contains("eyJ"), "{message}");
    assert!(!message.contains(&token[token.len() - 40..]), "{message}");
}

#[test]
fn a_token_just_under_the_limit_with_deeply_nested_json_is_malformed_not_a_crash() {
    let payload = "[".repeat(40_000);
    let token = token_with_payload(&payload);
    assert!(token.len() < 64 * 1024);
    refused(
        "nested JSON token",
        || jwt::decode(&token),
        ErrorCode::MalformedToken,
        &["payload", "not a JSON object"],
        MB,
    );
}

#[test]
fn a_huge_error_text_and_credential_list_are_refused_by_size() {
    let text = format!("AADSTS70021: {}", "x".repeat(10 * MB));
    refused(
        "10 MB error text",
        || diagnose_error(&text),
        ErrorCode::InputTooLarge,
        &["the error text", "65536"],
        64 * 1024,
    );
    let list = format!("[{}]", "{},".repeat(4 * MB));
    refused(
        "12 MB credential list",
        || parse_credential_list(&list),
        ErrorCode::InputTooLarge,
        &["the credential list", "1048576"],
        64 * 1024,
    );
}

#[test]
fn a_fifty_megabyte_config_is_refused_by_size() {
    let config = format!(
        "org: contoso\ndeployments:\n  - project: core\n    stacks: [{}]\n",
        "dev, ".repeat(10 * MB)
    );
    assert!(config.len() >= 50 * MB);
    for (what, parse) in [
        ("50 MB YAML config", Config::from_yaml as fn(&str) -> _),
        ("50 MB JSON config", Config::from_json),
    ] {
        refused(
            what,
            || parse(&config),
            ErrorCode::InputTooLarge,
            &["the config", &MAX_CONFIG_BYTES.to_string()],
            64 * 1024,
        );
    }
}

#[test]
fn deeply_nested_yaml_is_refused_by_its_nesting() {
    let limit = MAX_NESTING.to_string();
    // 100k open brackets: refused before the parser sees them.
    let flow = format!("org: {}", "[".repeat(100_000));
    refused(
        "100k `[`",
        || Config::from_yaml(&flow),
        ErrorCode::InvalidConfig,
        &["nest", &limit],
        MB,
    );
    let flow = format!("org: {}", "{a: ".repeat(100_000));
    refused(
        "100k `{`",
        || Config::from_yaml(&flow),
        ErrorCode::InvalidConfig,
        &["nest", &limit],
        MB,
    );
    // Block style has no brackets: indentation, and `- - - …` on one line.
    let mut block = String::from("org: contoso\nesc:\n");
    for depth in 0..200 {
        block.push_str(&" ".repeat(depth * 2 + 2));
        block.push_str("a:\n");
    }
    refused(
        "200 indented levels",
        || Config::from_yaml(&block),
        ErrorCode::InvalidConfig,
        &["nest", &limit],
        16 * MB,
    );
    let dashes = format!("org: contoso\nesc:\n{}x\n", "- ".repeat(100_000));
    refused(
        "100k `- `",
        || Config::from_yaml(&dashes),
        ErrorCode::InvalidConfig,
        &["nest", &limit],
        64 * MB,
    );
}

#[test]
fn a_yaml_alias_bomb_is_refused_by_the_value_count() {
    let limit = MAX_CONFIG_VALUES.to_string();
    // The classic "billion laughs": nine levels of ten aliases each.
    let mut laughs =
        String::from("org: contoso\nx0: &x0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for level in 1..10 {
        let prev = format!("*x{}", level - 1);
        laughs.push_str(&format!(
            "x{level}: &x{level} [{}]\n",
            [prev.as_str(); 10].join(", ")
        ));
    }
    refused(
        "billion laughs",
        || Config::from_yaml(&laughs),
        ErrorCode::InvalidConfig,
        &["more than", &limit, "alias"],
        16 * MB,
    );
    // Through fields the config knows: one deployment of 2,000 stacks, used 2,000
    // times, would be four million targets from 30 kB of text.
    let stacks: Vec<String> = (0..2000).map(|i| format!("s{i}")).collect();
    let bomb = format!(
        "org: contoso\ndeployments:\n  - &d {{project: p, stacks: [{}]}}\n{}",
        stacks.join(", "),
        "  - *d\n".repeat(2000)
    );
    let limit = pulumi_azure_oidc::config::config_value_limit(bomb.len()).to_string();
    refused(
        "quadratic alias bomb",
        || Config::from_yaml(&bomb),
        ErrorCode::InvalidConfig,
        &["more than", &limit, "alias"],
        16 * MB,
    );
}

/// The limits refuse bombs, not big orgs: 10,000 stacks written out, each with two
/// roles, parse and plan.
#[test]
fn a_ten_thousand_stack_config_is_within_the_limits() {
    let sub = "0b1f6471-1bf0-4dda-aec3-cb9272f09590";
    let mut config = String::from("org: contoso\ndeployments:\n");
    for p in 0..100 {
        let stacks: Vec<String> = (0..100).map(|s| format!("s{s}")).collect();
        config.push_str(&format!(
            "  - project: p{p}\n    stacks: [{}]\n    roles:\n      - {{role: Reader, scope: /subscriptions/{sub}/resourceGroups/a}}\n      - {{role: Contributor, scope: /subscriptions/{sub}/resourceGroups/b}}\n",
            stacks.join(", ")
        ));
    }
    assert!(config.len() < MAX_CONFIG_BYTES);
    let parsed = Config::from_yaml(&config).expect("a 10,000-stack config parses");
    assert_eq!(parsed.targets.len(), 10_000);
    let plan = pulumi_azure_oidc::plan(&parsed).expect("and plans");
    assert_eq!(plan.credential_count(), 40_000);
}

#[test]
fn a_config_multiplying_stacks_by_roles_is_refused() {
    let sub = "0b1f6471-1bf0-4dda-aec3-cb9272f09590";
    let stacks: Vec<String> = (0..1000).map(|i| format!("s{i}")).collect();
    let roles: Vec<String> = (0..100)
        .map(|i| format!("{{role: Reader, scope: /subscriptions/{sub}/resourceGroups/rg{i}}}"))
        .collect();
    let config = format!(
        "org: contoso\ndeployments:\n  - project: p\n    stacks: [{}]\n    roles: [{}]\n",
        stacks.join(", "),
        roles.join(", ")
    );
    assert!(config.len() < MAX_CONFIG_BYTES);
    refused(
        "1,000 stacks × 100 roles",
        || Config::from_yaml(&config),
        ErrorCode::InvalidConfig,
        &[
            "role grants",
            &MAX_ROLE_GRANTS.to_string(),
            "deployments[0]",
        ],
        64 * MB,
    );
}

#[test]
fn control_characters_in_names_are_refused_and_shown_escaped() {
    for (what, value) in [
        ("escape sequence", "dev\u{1b}[31m"),
        ("newline", "dev\nprod"),
        ("NUL", "dev\0"),
        ("bell and OSC", "dev\u{7}\u{1b}]0;x\u{7}"),
        ("DEL", "dev\u{7f}"),
        ("C1 control", "dev\u{9b}"),
    ] {
        for (kind, err) in [
            ("stack", StackName::new(value).unwrap_err()),
            ("project", ProjectName::new(value).unwrap_err()),
            ("org", OrgName::new(value).unwrap_err()),
        ] {
            let message = err.to_string();
            assert!(
                !message.chars().any(char::is_control),
                "{what} in a {kind} name: {message:?}"
            );
            assert!(message.contains("dev"), "{message}");
            assert!(
                message.contains("letters, digits"),
                "{what} in a {kind}: {message}"
            );
        }
    }
    // In a config, the path names where the value is.
    let err = Config::from_yaml(
        "org: contoso\ndeployments:\n  - {project: core, stack: \"dev\\e[2J\"}\n",
    )
    .unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidStack);
    let message = err.to_string();
    assert!(message.contains("deployments[0].stack"), "{message}");
    assert!(message.contains("dev\\u{1b}[2J"), "{message}");
}

#[test]
fn a_megabyte_name_is_refused_with_an_abbreviated_value() {
    let value = "a".repeat(MB) + " ";
    let message = refused(
        "1 MB stack name",
        || StackName::new(value.as_str()),
        ErrorCode::InvalidStack,
        &["at most 100 characters", "1048577 characters"],
        64 * 1024 + 2 * MB,
    );
    assert!(message.len() < 200, "{message}");
}

#[test]
fn an_error_text_at_the_size_limit_is_scanned_in_bounded_time() {
    // Every pattern the parser looks for, opened and never closed, up to the 64 KiB cap.
    let unit =
        "AADSTS700213: Assertion Issuer: 'presented assertion subject '\\\\\\\\u0027 Trace ID: ";
    let text: String = unit.repeat(64 * 1024 / unit.len());
    assert!(text.len() <= 64 * 1024);
    let (result, took, peak) = measure(|| diagnose_error(&text));
    let d = result.unwrap();
    eprintln!("64 KiB error text: {took:?}, held at most {peak} bytes");
    assert_eq!(d.code, 700213);
    assert!(took < Duration::from_secs(10), "took {took:?}");
    assert!(peak < 16 * MB, "held {peak} bytes");
}
