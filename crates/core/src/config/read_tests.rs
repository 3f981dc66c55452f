//! The config's structs are read by `map_struct!` instead of the derive; these tests
//! keep the derive as the reference and compare the two on generated configs, as JSON
//! and as YAML: the same value, or the same error at the same place.

use super::{Names, RawConfig, RawHolder, RawPlacement};
use proptest::prelude::*;

mod derived {
    //! The derive the readers replaced, with the same names so that `Debug` matches.
    use super::{Names, RawHolder, RawPlacement};
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    #[expect(dead_code, reason = "read only through Debug")]
    pub(super) struct RawConfig {
        org: String,
        issuer: Option<String>,
        azure: Option<RawAzure>,
        #[serde(default)]
        deployments: Vec<RawDeployment>,
        #[serde(default)]
        esc: Vec<RawEsc>,
        holder: Option<RawHolder>,
        managed_identity: Option<RawPlacement>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    #[expect(dead_code, reason = "read only through Debug")]
    pub(super) struct RawAzure {
        tenant: Option<String>,
        subscription: Option<String>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    #[expect(dead_code, reason = "read only through Debug")]
    pub(super) struct RawDeployment {
        project: Option<String>,
        projects: Option<String>,
        stack: Option<String>,
        stacks: Option<Names>,
        #[serde(default)]
        exclude: Vec<String>,
        holder: Option<RawHolder>,
        operations: Option<Vec<String>>,
        #[serde(default)]
        roles: Vec<RawRole>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    #[expect(dead_code, reason = "read only through Debug")]
    pub(super) struct RawEsc {
        project: Option<String>,
        projects: Option<String>,
        env: Option<String>,
        envs: Option<Names>,
        #[serde(default)]
        exclude: Vec<String>,
        holder: Option<RawHolder>,
        subject_attributes: Option<Vec<String>>,
        user: Option<String>,
        root_env: Option<String>,
        #[serde(default)]
        include_yaml_subject: bool,
        #[serde(default)]
        roles: Vec<RawRole>,
        key_vault: Option<RawKeyVault>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    #[expect(dead_code, reason = "read only through Debug")]
    pub(super) struct RawRole {
        role: String,
        scope: String,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    #[expect(dead_code, reason = "read only through Debug")]
    pub(super) struct RawKeyVault {
        vault: String,
        secrets: Vec<String>,
    }
}

/// What a key holds.
#[derive(Clone, Copy)]
enum Shape {
    Text,
    Texts,
    Names,
    Flag,
    Holder,
    Placement,
    Object(&'static [(&'static str, Shape)]),
    List(&'static [(&'static str, Shape)]),
}

const AZURE: &[(&str, Shape)] = &[("tenant", Shape::Text), ("subscription", Shape::Text)];
const ROLE: &[(&str, Shape)] = &[("role", Shape::Text), ("scope", Shape::Text)];
const KEY_VAULT: &[(&str, Shape)] = &[("vault", Shape::Text), ("secrets", Shape::Texts)];
const DEPLOYMENT: &[(&str, Shape)] = &[
    ("project", Shape::Text),
    ("projects", Shape::Text),
    ("stack", Shape::Text),
    ("stacks", Shape::Names),
    ("exclude", Shape::Texts),
    ("holder", Shape::Holder),
    ("operations", Shape::Texts),
    ("roles", Shape::List(ROLE)),
];
const ESC: &[(&str, Shape)] = &[
    ("project", Shape::Text),
    ("projects", Shape::Text),
    ("env", Shape::Text),
    ("envs", Shape::Names),
    ("exclude", Shape::Texts),
    ("holder", Shape::Holder),
    ("subjectAttributes", Shape::Texts),
    ("user", Shape::Text),
    ("rootEnv", Shape::Text),
    ("includeYamlSubject", Shape::Flag),
    ("roles", Shape::List(ROLE)),
    ("keyVault", Shape::Object(KEY_VAULT)),
];
const CONFIG: &[(&str, Shape)] = &[
    ("org", Shape::Text),
    ("issuer", Shape::Text),
    ("azure", Shape::Object(AZURE)),
    ("deployments", Shape::List(DEPLOYMENT)),
    ("esc", Shape::List(ESC)),
    ("holder", Shape::Holder),
    ("managedIdentity", Shape::Placement),
];

/// Values of the wrong kind for some key. No list where a struct belongs: the
/// derive also read a struct from a list of its values, which nobody wrote and the
/// readers now refuse (`a_struct_given_as_a_list_is_refused`).
const WRONG: &[&str] = &["3", "1.5", "true", "null", "\"x\"", "{}", "[\"a\"]"];

/// Choices from a seed, so a failing case prints as the text it made.
struct Picks(u64);

impl Picks {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) % n as u64) as usize
    }
}

fn value(shape: Shape, picks: &mut Picks, depth: usize) -> String {
    if picks.below(8) == 0 {
        let wrong = WRONG[picks.below(WRONG.len())];
        let is_struct = matches!(shape, Shape::Object(_) | Shape::Placement);
        if !(is_struct && wrong.starts_with('[')) {
            return wrong.to_owned();
        }
    }
    match shape {
        Shape::Text => ["\"contoso\"", "\"dev\"", "\"*\"", "\"Owner\""][picks.below(4)].to_owned(),
        Shape::Texts => ["[]", "[\"dev\"]", "[\"dev\", \"prod\"]"][picks.below(3)].to_owned(),
        Shape::Names => ["\"*\"", "[\"dev\"]", "[]"][picks.below(3)].to_owned(),
        Shape::Flag => ["true", "false"][picks.below(2)].to_owned(),
        Shape::Holder => [
            "\"application\"",
            "\"managedIdentity\"",
            "{\"clientId\": \"x\"}",
            "{\"managedIdentity\": {\"location\": \"westeurope\"}}",
        ][picks.below(4)]
        .to_owned(),
        Shape::Placement => [
            "{\"location\": \"westeurope\"}",
            "{\"id\": \"x\", \"zone\": 1}",
        ][picks.below(2)]
        .to_owned(),
        Shape::Object(keys) => object(keys, picks, depth + 1),
        Shape::List(keys) => {
            let items: Vec<String> = (0..picks.below(3))
                .map(|_| object(keys, picks, depth + 1))
                .collect();
            format!("[{}]", items.join(", "))
        }
    }
}

fn object(keys: &[(&str, Shape)], picks: &mut Picks, depth: usize) -> String {
    let mut entries = Vec::new();
    let wanted = if depth > 3 {
        0
    } else {
        picks.below(keys.len() + 2)
    };
    for _ in 0..wanted {
        // Now and then a key of no struct, or one in the wrong case.
        let (key, shape) = match picks.below(16) {
            0 => ("stak", Shape::Text),
            1 => ("Org", Shape::Text),
            _ => keys[picks.below(keys.len())],
        };
        entries.push(format!("\"{key}\": {}", value(shape, picks, depth)));
    }
    format!("{{{}}}", entries.join(", "))
}

fn both_json(text: &str) -> (Result<String, String>, Result<String, String>) {
    (
        serde_json::from_str::<RawConfig>(text)
            .map(|c| format!("{c:?}"))
            .map_err(|e| e.to_string()),
        serde_json::from_str::<derived::RawConfig>(text)
            .map(|c| format!("{c:?}"))
            .map_err(|e| e.to_string()),
    )
}

/// The browser's reader (`json_read`, through a JSON value) against serde_json's
/// reader of the same value.
fn both_value(text: &str) -> (Result<String, String>, Result<String, String>) {
    let value: serde_json::Value = serde_json::from_str(text).expect("generated JSON");
    (
        crate::json_read::from_value::<RawConfig>(value.clone())
            .map(|c| format!("{c:?}"))
            .map_err(|e| e.to_string()),
        serde_json::from_value::<RawConfig>(value)
            .map(|c| format!("{c:?}"))
            .map_err(|e| e.to_string()),
    )
}

fn both_yaml(text: &str) -> (Result<String, String>, Result<String, String>) {
    (
        serde_norway::from_str::<RawConfig>(text)
            .map(|c| format!("{c:?}"))
            .map_err(|e| e.to_string()),
        serde_norway::from_str::<derived::RawConfig>(text)
            .map(|c| format!("{c:?}"))
            .map_err(|e| e.to_string()),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]
    #[test]
    fn configs_read_as_the_derive_read_them(seed in any::<u64>()) {
        let text = object(CONFIG, &mut Picks(seed), 0);
        let (mine, derived) = both_json(&text);
        prop_assert_eq!(mine, derived, "JSON {}", text);
        let (mine, derived) = both_yaml(&text);
        prop_assert_eq!(mine, derived, "YAML {}", text);
        let (browser, serde_json) = both_value(&text);
        prop_assert_eq!(browser, serde_json, "JSON value {}", text);
    }
}

#[test]
fn whole_configs_read_as_before() {
    let text = r#"{"org": "contoso", "azure": {"tenant": "t", "subscription": "s"},
        "deployments": [{"project": "core", "stacks": ["dev", "prod"], "operations": ["update"],
                         "roles": [{"role": "Contributor", "scope": "/subscriptions/s"}]}],
        "esc": [{"project": "azure", "env": "prod", "includeYamlSubject": true,
                 "keyVault": {"vault": "kv", "secrets": ["a"]}}]}"#;
    let (mine, derived) = both_json(text);
    assert!(mine.is_ok(), "{mine:?}");
    assert_eq!(mine, derived);
    let (browser, serde_json) = both_value(text);
    assert!(browser.is_ok(), "{browser:?}");
    assert_eq!(browser, serde_json);
    let yaml = "org: contoso\ndeployments:\n  - project: core\n    stacks: [dev]\n    roles:\n      - role: Owner\n        scope: /subscriptions/s\n";
    let (mine, derived) = both_yaml(yaml);
    assert!(mine.is_ok(), "{mine:?}");
    assert_eq!(mine, derived);
}

#[test]
fn errors_name_the_key_and_where_it_is() {
    let (mine, derived) =
        both_yaml("org: contoso\ndeployments:\n  - project: core\n    stak: [dev]\n");
    let mine = mine.unwrap_err();
    assert_eq!(Err(mine.clone()), derived);
    assert!(
        mine.starts_with("deployments[0]: unknown field `stak`, expected one of `project`"),
        "{mine}"
    );
    assert!(mine.contains("line 4 column 5"), "{mine}");
    let (mine, derived) = both_json(r#"{"org": "a", "org": "b"}"#);
    assert_eq!(
        mine,
        Err("duplicate field `org` at line 1 column 18".to_owned())
    );
    assert_eq!(mine, derived);
    let (mine, derived) = both_json(r#"{"deployments": []}"#);
    assert_eq!(
        mine,
        Err("missing field `org` at line 1 column 19".to_owned())
    );
    assert_eq!(mine, derived);
}

#[test]
fn a_struct_given_as_a_list_is_refused() {
    // serde_json's derive read `"azure": ["t", "s"]` as `{tenant: t, subscription: s}`;
    // serde_norway's already refused it, and both readers now do.
    let (mine, derived) = both_json(r#"{"org": "contoso", "azure": ["t", "s"]}"#);
    assert!(derived.is_ok(), "{derived:?}");
    assert_eq!(
        mine,
        Err("invalid type: sequence, expected struct RawAzure at line 1 column 28".to_owned())
    );
    let (mine, derived) = both_yaml("org: contoso\nazure: [t, s]\n");
    assert_eq!(
        mine,
        Err(
            "azure: invalid type: sequence, expected struct RawAzure at line 2 column 8".to_owned()
        )
    );
    assert_eq!(mine, derived);
}

#[test]
fn yaml_keys_that_are_not_text_read_as_before() {
    for yaml in [
        "org: contoso\n1: x\n",
        "org: contoso\ntrue: x\n",
        "org: contoso\n~: x\n",
        "? [a]\n: x\n",
    ] {
        let (mine, derived) = both_yaml(yaml);
        assert!(mine.is_err(), "{yaml}");
        assert_eq!(mine, derived, "{yaml}");
    }
}
