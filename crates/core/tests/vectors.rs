//! The golden vectors in `tests/vectors/`, which every face must reproduce.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use pulumi_azure_oidc::diagnose::TimeStatus;
use pulumi_azure_oidc::{TargetSpec, diagnose_error, diagnose_token, parse_credential_list};
use serde_json::Value;
use std::path::PathBuf;

fn vectors(name: &str) -> Vec<Value> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/vectors")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let doc: Value = serde_json::from_str(&text).unwrap();
    doc["cases"].as_array().unwrap().clone()
}

fn spec(input: &Value) -> TargetSpec {
    serde_json::from_value(input.clone())
        .unwrap_or_else(|e| panic!("bad vector input {input}: {e}"))
}

#[test]
fn subjects() {
    let cases = vectors("subjects.json");
    assert!(cases.len() >= 10);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let got = spec(&case["input"])
            .credentials()
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let bodies: Vec<Value> = got
            .credentials
            .iter()
            .map(|c| serde_json::to_value(c.to_graph_body()).unwrap())
            .collect();
        assert_eq!(Value::Array(bodies), case["expected"], "{name}");
        let warnings = case["warnings"].as_u64().unwrap_or(0) as usize;
        assert_eq!(got.warnings.len(), warnings, "{name}");
    }
}

#[test]
fn errors() {
    for case in vectors("errors.json") {
        let name = case["name"].as_str().unwrap();
        let err = spec(&case["call"]).credentials().expect_err(name);
        assert_eq!(
            i64::from(err.code().as_i32()),
            case["code"].as_i64().unwrap(),
            "{name}: {err}"
        );
        let message = err.to_string();
        for needle in case["contains"].as_array().unwrap() {
            let needle = needle.as_str().unwrap();
            assert!(
                message.contains(needle),
                "{name}: `{message}` lacks `{needle}`"
            );
        }
    }
}

fn time_name(t: TimeStatus) -> &'static str {
    match t {
        TimeStatus::Valid => "valid",
        TimeStatus::Expired => "expired",
        TimeStatus::NotYetValid => "not_yet_valid",
        TimeStatus::Unknown => "unknown",
    }
}

#[test]
fn diagnose_tokens() {
    for case in vectors("diagnose_token.json") {
        let name = case["name"].as_str().unwrap();
        let creds = case
            .get("credentials")
            .map(|c| parse_credential_list(&c.to_string()).unwrap());
        let d = diagnose_token(
            case["token"].as_str().unwrap(),
            creds.as_deref(),
            case["now"].as_i64().unwrap(),
        )
        .unwrap();
        let e = &case["expected"];
        assert_eq!(
            d.accepted,
            e["accepted"].as_bool().unwrap(),
            "{name}: {}",
            d.verdict
        );
        if let Some(m) = e.get("matched") {
            assert_eq!(d.matched.as_deref(), m.as_str(), "{name}");
        }
        if let Some(code) = e.get("aadsts") {
            assert_eq!(
                d.aadsts.map(u64::from),
                code.as_u64(),
                "{name}: {}",
                d.verdict
            );
        }
        if let Some(t) = e.get("time") {
            assert_eq!(time_name(d.time), t.as_str().unwrap(), "{name}");
        }
        if let Some(c) = e.get("checkedCredentials") {
            assert_eq!(d.checked_credentials, c.as_bool().unwrap(), "{name}");
        }
        let kinds = |i: usize| -> Vec<&str> {
            d.candidates[i].differences.iter().map(|x| x.kind).collect()
        };
        if let Some(first) = e.get("firstCandidate") {
            assert_eq!(
                d.candidates[0].name,
                first["name"].as_str().unwrap(),
                "{name}"
            );
            let want: Vec<&str> = first["kinds"]
                .as_array()
                .unwrap()
                .iter()
                .map(|k| k.as_str().unwrap())
                .collect();
            assert_eq!(kinds(0), want, "{name}");
        }
        if let Some(want) = e.get("firstCandidateKinds") {
            let want: Vec<&str> = want
                .as_array()
                .unwrap()
                .iter()
                .map(|k| k.as_str().unwrap())
                .collect();
            assert_eq!(kinds(0), want, "{name}");
        }
        if let Some(s) = e.get("fixSubject") {
            assert_eq!(
                d.fix.as_ref().unwrap().subject,
                s.as_str().unwrap(),
                "{name}"
            );
        }
        if let Some(a) = e.get("fixAudience") {
            assert_eq!(
                d.fix.as_ref().unwrap().audiences,
                [a.as_str().unwrap()],
                "{name}"
            );
        }
        if let Some(n) = e.get("fixName") {
            assert_eq!(d.fix.as_ref().unwrap().name, n.as_str().unwrap(), "{name}");
        }
        if let Some(a) = e.get("fixAction") {
            assert_eq!(serde_json::to_value(d.fix_action).unwrap(), *a, "{name}");
        }
        if let Some(n) = e.get("notesContain") {
            assert!(
                d.notes.iter().any(|x| x.contains(n.as_str().unwrap())),
                "{name}: {:?}",
                d.notes
            );
        }
        // The token itself never appears in the diagnosis.
        let json = serde_json::to_string(&d).unwrap();
        assert!(!json.contains(case["token"].as_str().unwrap()), "{name}");
    }
}

#[test]
fn diagnose_errors() {
    let cases = vectors("diagnose_error.json");
    // The diagnosis rate over the whole set, printed for `--nocapture`: a case is
    // explained when it is not a known gap and gets a specific explanation, not the
    // generic look-up link.
    let explained = cases
        .iter()
        .filter(|c| c.get("knownGap").is_none())
        .filter(|c| {
            diagnose_error(c["text"].as_str().unwrap())
                .is_ok_and(|d| !d.title.starts_with("AADSTS"))
        })
        .count();
    let gaps = cases.iter().filter(|c| c.get("knownGap").is_some()).count();
    println!(
        "diagnosis rate: {explained} of {} error texts explained ({:.1} %); {gaps} known gap(s)",
        cases.len(),
        100.0 * explained as f64 / cases.len() as f64
    );
    for case in cases {
        let name = case["name"].as_str().unwrap();
        assert!(
            case["source"].as_str().is_some_and(|s| !s.is_empty()),
            "{name}: cite a source"
        );
        if let Some(gap) = case.get("knownGap") {
            // Not yet explained: it must still be answered cleanly, never panic.
            assert!(
                gap.as_str().is_some_and(|g| !g.is_empty()),
                "{name}: say why"
            );
            if let Err(e) = diagnose_error(case["text"].as_str().unwrap()) {
                assert_eq!(
                    e.code(),
                    pulumi_azure_oidc::ErrorCode::UnrecognisedError,
                    "{name}"
                );
            }
            continue;
        }
        let d = diagnose_error(case["text"].as_str().unwrap())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let e = &case["expected"];
        assert_eq!(u64::from(d.code), e["code"].as_u64().unwrap(), "{name}");
        let also: Vec<u64> = d.also.iter().map(|x| u64::from(x.code)).collect();
        let expected_also: Vec<u64> = e
            .get("also")
            .and_then(|a| a.as_array())
            .map(|a| a.iter().filter_map(|c| c.as_u64()).collect())
            .unwrap_or_default();
        assert_eq!(also, expected_also, "{name}: the other errors in the text");
        if let Some(p) = e.get("presented") {
            for field in ["issuer", "subject", "audience"] {
                if let Some(v) = p.get(field) {
                    let got = match field {
                        "issuer" => &d.presented.issuer,
                        "subject" => &d.presented.subject,
                        _ => &d.presented.audience,
                    };
                    assert_eq!(got.as_deref(), v.as_str(), "{name}: {field}");
                }
            }
        }
        if let Some(k) = e.get("subjectKind") {
            let kind = serde_json::to_value(&d.subject_kind).unwrap();
            assert_eq!(kind["kind"], *k, "{name}");
        }
        for (key, got) in [
            ("traceId", &d.trace_id),
            ("correlationId", &d.correlation_id),
            ("timestamp", &d.timestamp),
        ] {
            if let Some(v) = e.get(key) {
                assert_eq!(got.as_deref(), v.as_str(), "{name}: {key}");
            }
        }
        if let Some(details) = e.get("details") {
            for (k, v) in details.as_object().unwrap() {
                let got = d
                    .details
                    .iter()
                    .find(|x| &x.name == k)
                    .map(|x| x.value.as_str());
                assert_eq!(got, v.as_str(), "{name}: detail {k}");
            }
        }
        if let Some(f) = e.get("fixContains") {
            let f = f.as_str().unwrap();
            assert!(d.fix.iter().any(|x| x.contains(f)), "{name}: {:?}", d.fix);
        }
        if let Some(t) = e.get("titleContains") {
            assert!(d.title.contains(t.as_str().unwrap()), "{name}: {}", d.title);
        }
        if let Some(n) = e.get("suggestedName") {
            assert_eq!(
                d.suggested_credential.as_ref().map(|c| c.name.as_str()),
                n.as_str(),
                "{name}"
            );
        }
        if let Some(a) = e.get("suggestedAudience") {
            assert_eq!(
                d.suggested_credential
                    .as_ref()
                    .map(|c| c.audiences[0].as_str()),
                a.as_str(),
                "{name}"
            );
        }
        if let Some(p) = e.get("mayBePropagation") {
            assert_eq!(d.may_be_propagation, p.as_bool().unwrap(), "{name}");
        }
    }
}

#[test]
fn plans() {
    for case in vectors("plan.json") {
        let name = case["name"].as_str().unwrap();
        let config =
            pulumi_azure_oidc::Config::from_yaml(case["config"].as_str().unwrap()).unwrap();
        let p = pulumi_azure_oidc::plan(&config).unwrap();
        let apps: Vec<Value> = p
            .apps
            .iter()
            .map(|a| {
                serde_json::json!({
                    "uniqueName": a.unique_name,
                    "displayName": a.display_name,
                    "targets": a.targets.iter().map(|t| t.label.clone()).collect::<Vec<_>>(),
                    "credentials": a.credentials.iter().map(|c| c.name.to_string()).collect::<Vec<_>>(),
                    "roles": a.roles.iter().map(|g| format!("{} at {}", g.role.name, g.scope)).collect::<Vec<_>>(),
                })
            })
            .collect();
        assert_eq!(Value::Array(apps), case["expected"]["apps"], "{name}");
        assert_eq!(
            p.warnings.len() as u64,
            case["expected"]["warnings"].as_u64().unwrap(),
            "{name}"
        );
    }
}
