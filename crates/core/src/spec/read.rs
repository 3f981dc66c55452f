//! `TargetSpec` from `{"kind": "deployment" | "esc", …}`, read by hand.
//!
//! The derive for an internally tagged enum buffers the whole input and then copies
//! serde's readers for the buffer, the largest part of reading a target in the page's
//! module. This reads each key once, into its own type, and picks the variant at the
//! end. The errors are the derive's (the tests below compare them on generated
//! inputs), and they now carry the reader's position: an error found in the buffer
//! used to have none.

use super::TargetSpec;
use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, Visitor};
use std::fmt;

const KINDS: &[&str] = &["deployment", "esc"];
const DEPLOYMENT: &[&str] = &["org", "project", "stack", "operations", "issuer"];
const ESC: &[&str] = &[
    "org",
    "project",
    "env",
    "subjectAttributes",
    "user",
    "rootEnv",
    "includeYamlSubject",
    "issuer",
];

#[derive(Clone, Copy)]
enum Kind {
    Deployment,
    Esc,
}

impl<'de> Deserialize<'de> for Kind {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl Visitor<'_> for Visit {
            type Value = Kind;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("variant identifier")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Kind, E> {
                match v {
                    "deployment" => Ok(Kind::Deployment),
                    "esc" => Ok(Kind::Esc),
                    _ => Err(E::unknown_variant(v, KINDS)),
                }
            }
        }
        d.deserialize_identifier(Visit)
    }
}

/// Every key either variant takes, as given; `None` when absent.
#[derive(Default)]
struct Given {
    kind: Option<Kind>,
    org: Option<String>,
    project: Option<String>,
    stack: Option<String>,
    env: Option<String>,
    operations: Option<Option<Vec<String>>>,
    subject_attributes: Option<Option<Vec<String>>>,
    user: Option<Option<String>>,
    root_env: Option<Option<String>>,
    include_yaml_subject: Option<bool>,
    issuer: Option<Option<String>>,
    /// The keys other than `kind` in their order, each with whether it came before.
    keys: Vec<(String, bool)>,
}

impl<'de> Deserialize<'de> for TargetSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(SpecVisitor)
    }
}

struct SpecVisitor;

/// Read a key's value into its slot; a repeated key's value is skipped, and the
/// repeat reported once the kind says whether the key belongs at all.
fn take<'de, T: Deserialize<'de>, A: MapAccess<'de>>(
    slot: &mut Option<T>,
    map: &mut A,
) -> Result<bool, A::Error> {
    if slot.is_some() {
        map.next_value::<IgnoredAny>()?;
        return Ok(true);
    }
    *slot = Some(map.next_value()?);
    Ok(false)
}

impl<'de> Visitor<'de> for SpecVisitor {
    type Value = TargetSpec;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a target description: a map with `kind` (`deployment` or `esc`)")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<TargetSpec, A::Error> {
        let mut g = Given::default();
        while let Some(key) = map.next_key::<String>()? {
            let again = match key.as_str() {
                "kind" => {
                    // A second `kind` is refused before its value is read, as the
                    // derive did.
                    if g.kind.is_some() {
                        return Err(de::Error::duplicate_field("kind"));
                    }
                    g.kind = Some(map.next_value()?);
                    continue;
                }
                "org" => take(&mut g.org, &mut map)?,
                "project" => take(&mut g.project, &mut map)?,
                "stack" => take(&mut g.stack, &mut map)?,
                "env" => take(&mut g.env, &mut map)?,
                "operations" => take(&mut g.operations, &mut map)?,
                "subjectAttributes" => take(&mut g.subject_attributes, &mut map)?,
                "user" => take(&mut g.user, &mut map)?,
                "rootEnv" => take(&mut g.root_env, &mut map)?,
                "includeYamlSubject" => take(&mut g.include_yaml_subject, &mut map)?,
                "issuer" => take(&mut g.issuer, &mut map)?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                    false
                }
            };
            g.keys.push((key, again));
        }
        let kind = g.kind.ok_or_else(|| de::Error::missing_field("kind"))?;
        let takes = match kind {
            Kind::Deployment => DEPLOYMENT,
            Kind::Esc => ESC,
        };
        // The derive read the variant's keys in order once the kind was known: the
        // first key the kind does not take, or the first repeated one, is the error.
        for (key, again) in &g.keys {
            match takes.iter().find(|t| **t == key.as_str()) {
                None => return Err(de::Error::unknown_field(key, takes)),
                Some(name) if *again => return Err(de::Error::duplicate_field(name)),
                Some(_) => {}
            }
        }
        let need = |v: Option<String>, name| v.ok_or_else(|| de::Error::missing_field(name));
        Ok(match kind {
            Kind::Deployment => TargetSpec::Deployment {
                org: need(g.org, "org")?,
                project: need(g.project, "project")?,
                stack: need(g.stack, "stack")?,
                operations: g.operations.flatten(),
                issuer: g.issuer.flatten(),
            },
            Kind::Esc => TargetSpec::Esc {
                org: need(g.org, "org")?,
                project: need(g.project, "project")?,
                env: need(g.env, "env")?,
                subject_attributes: g.subject_attributes.flatten(),
                user: g.user.flatten(),
                root_env: g.root_env.flatten(),
                include_yaml_subject: g.include_yaml_subject.unwrap_or(false),
                issuer: g.issuer.flatten(),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde::Deserialize;

    /// The derive this reader replaced, kept as the reference; its `Debug` reads as
    /// `TargetSpec`'s, which is how the two are compared.
    #[derive(Debug, Deserialize)]
    #[expect(dead_code, reason = "read only through Debug")]
    #[serde(
        tag = "kind",
        rename_all = "camelCase",
        rename_all_fields = "camelCase",
        deny_unknown_fields
    )]
    enum Derived {
        Deployment {
            org: String,
            project: String,
            stack: String,
            operations: Option<Vec<String>>,
            issuer: Option<String>,
        },
        Esc {
            org: String,
            project: String,
            env: String,
            subject_attributes: Option<Vec<String>>,
            user: Option<String>,
            root_env: Option<String>,
            #[serde(default)]
            include_yaml_subject: bool,
            issuer: Option<String>,
        },
    }

    /// Keys and values of the right type for each (a wrong type is an error both
    /// readers report, at different moments when there is a second error).
    const ENTRIES: &[(&str, &str)] = &[
        ("kind", "\"deployment\""),
        ("kind", "\"esc\""),
        ("kind", "\"stack\""),
        ("org", "\"contoso\""),
        ("project", "\"core\""),
        ("stack", "\"dev\""),
        ("env", "\"prod\""),
        ("operations", "[\"update\"]"),
        ("operations", "null"),
        ("subjectAttributes", "[\"currentEnvironment.name\"]"),
        ("subjectAttributes", "null"),
        ("user", "\"alice\""),
        ("user", "null"),
        ("rootEnv", "\"azure/base\""),
        ("rootEnv", "null"),
        ("includeYamlSubject", "true"),
        ("issuer", "\"https://api.pulumi.com/oidc\""),
        ("issuer", "null"),
        ("stak", "1"),
        ("Org", "\"contoso\""),
    ];

    fn without_position(message: String) -> String {
        match message.find(" at line ") {
            Some(i) => message[..i].to_owned(),
            None => message,
        }
    }

    fn both(text: &str) -> (Result<String, String>, Result<String, String>) {
        let mine = serde_json::from_str::<TargetSpec>(text).map(|t| format!("{t:?}"));
        let derived = serde_json::from_str::<Derived>(text).map(|t| format!("{t:?}"));
        let message = |e: serde_json::Error| without_position(e.to_string());
        (mine.map_err(message), derived.map_err(message))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]
        #[test]
        fn reads_and_refuses_as_the_derive_did(picks in proptest::collection::vec(0..ENTRIES.len(), 0..12)) {
            let body: Vec<String> = picks
                .iter()
                .map(|&i| format!("\"{}\": {}", ENTRIES[i].0, ENTRIES[i].1))
                .collect();
            let text = format!("{{{}}}", body.join(", "));
            let (mine, derived) = both(&text);
            prop_assert_eq!(mine, derived, "{}", text);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        /// Mostly whole descriptions: one kind's keys, some left out, in any order,
        /// now and then one more entry of any sort.
        #[test]
        fn near_whole_descriptions_read_as_the_derive_did(
            esc in any::<bool>(),
            keep in proptest::collection::vec(any::<bool>(), 8),
            order in Just((0..9usize).collect::<Vec<_>>()).prop_shuffle(),
            extra in proptest::option::of(0..ENTRIES.len()),
        ) {
            let kind = if esc { "\"esc\"" } else { "\"deployment\"" };
            let fields: Vec<&(&str, &str)> = ENTRIES
                .iter()
                .filter(|(k, v)| {
                    *k != "kind" && (if esc { ESC } else { DEPLOYMENT }).contains(k) && *v != "null"
                })
                .collect();
            let mut body: Vec<String> = vec![format!("\"kind\": {kind}")];
            for (i, (k, v)) in fields.iter().enumerate() {
                if keep[i % keep.len()] || i < 3 {
                    body.push(format!("\"{k}\": {v}"));
                }
            }
            if let Some(i) = extra {
                body.push(format!("\"{}\": {}", ENTRIES[i].0, ENTRIES[i].1));
            }
            let ordered: Vec<&String> = order.iter().filter_map(|&i| body.get(i)).collect();
            let text = format!(
                "{{{}}}",
                ordered.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
            );
            let (mine, derived) = both(&text);
            prop_assert_eq!(mine, derived, "{}", text);
        }
    }

    #[test]
    fn whole_descriptions_read_as_before() {
        for text in [
            r#"{"kind":"deployment","org":"contoso","project":"core","stack":"dev"}"#,
            r#"{"org":"contoso","project":"core","stack":"dev","operations":["update"],"kind":"deployment"}"#,
            r#"{"kind":"esc","org":"contoso","project":"azure","env":"prod","subjectAttributes":[],"includeYamlSubject":true}"#,
        ] {
            let (mine, derived) = both(text);
            assert!(mine.is_ok(), "{text}: {mine:?}");
            assert_eq!(mine, derived, "{text}");
        }
    }

    #[test]
    fn errors_name_the_key_and_where_it_is() {
        let e = serde_json::from_str::<TargetSpec>(
            r#"{"kind":"deployment","org":"contoso","project":"core","stack":"dev","env":"x"}"#,
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            e,
            "unknown field `env`, expected one of `org`, `project`, `stack`, `operations`, \
             `issuer` at line 1 column 78"
        );
        let e = serde_json::from_str::<TargetSpec>(r#"{"kind":"esc","org":3}"#)
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "invalid type: integer `3`, expected a string at line 1 column 21"
        );
        let e = serde_json::from_str::<TargetSpec>(r#"["deployment"]"#)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("invalid type: sequence, expected a target description"),
            "{e}"
        );
    }
}
