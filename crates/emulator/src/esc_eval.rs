//! ESC evaluation, for `yaml/check` and `open`: an environment's `values` resolved into
//! ESC's `Value` tree (`{"value": …, "secret": …, "unknown": …, "trace": {}}`, objects
//! and arrays holding `Value`s), as pulumi/esc-sdk `sdk/swagger.yaml` describes
//! `Environment`, `CheckEnvironment` and `Value`.
//!
//! Served: plain values, `${path}` interpolation (`a.b`, `a[0]`, `a["k"]`), `fn::secret`
//! and `fn::open::azure-login`. Opening `azure-login` does not log in to Azure: it
//! answers with its documented outputs (Pulumi docs `esc/providers/login/azure-login.md`:
//! `clientId`, `tenantId`, `subscriptionId`, `clientSecret`, `oidc.token`), the token
//! being the one Pulumi's issuer would sign for this environment. A check leaves a
//! provider's outputs unknown, as ESC does without opening. Imports, other providers and
//! other builtins are refused with a diagnostic.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value, json};

use crate::keys::IssuerKeys;
use crate::mint::{self, MintRequest};

/// What an open needs to sign the `azure-login` token.
pub(crate) struct Opener<'a> {
    pub(crate) keys: &'a IssuerKeys,
    pub(crate) issuer: &'a str,
    pub(crate) org: &'a str,
    pub(crate) project: &'a str,
    pub(crate) env: &'a str,
}

#[derive(Clone, Debug)]
enum Node {
    Known(Value, bool),
    Unknown,
    Object(Vec<(String, Node)>),
    Array(Vec<Node>),
}

#[derive(Clone, Debug, PartialEq)]
enum Seg {
    Key(String),
    Index(usize),
}

fn path_text(path: &[Seg]) -> String {
    let mut out = String::from("values");
    for s in path {
        match s {
            Seg::Key(k) => {
                out.push('.');
                out.push_str(k);
            }
            Seg::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

/// The evaluated `values` as ESC's `properties`, or the diagnostics that stop it.
pub(crate) fn evaluate(yaml: &str, opener: Option<&Opener>) -> Result<Value, Vec<Value>> {
    let doc: Value = match serde_norway::from_str(yaml) {
        Ok(Value::Null) => Value::Object(Map::new()),
        Ok(v @ Value::Object(_)) => v,
        Ok(_) => {
            return Err(vec![diag(
                "the environment definition must be a YAML mapping",
                None,
            )]);
        }
        Err(e) => return Err(vec![diag(&e.to_string(), None)]),
    };
    if doc.get("imports").is_some_and(|i| !i.is_null()) {
        return Err(vec![diag(
            "imports are not served by this emulator",
            Some("imports"),
        )]);
    }
    let values = match doc.get("values") {
        None | Some(Value::Null) => Value::Object(Map::new()),
        Some(v @ Value::Object(_)) => v.clone(),
        Some(_) => return Err(vec![diag("values must be a mapping", Some("values"))]),
    };
    let mut eval = Eval {
        root: &values,
        opener,
        cache: HashMap::new(),
        visiting: HashSet::new(),
        diags: Vec::new(),
    };
    let node = eval.eval_at(&[], &values);
    if !eval.diags.is_empty() {
        return Err(eval.diags);
    }
    match node {
        Node::Object(fields) => Ok(Value::Object(
            fields.into_iter().map(|(k, n)| (k, to_value(n))).collect(),
        )),
        _ => Ok(json!({})),
    }
}

fn diag(summary: &str, path: Option<&str>) -> Value {
    match path {
        Some(p) => json!({"summary": summary, "path": p}),
        None => json!({"summary": summary}),
    }
}

fn to_value(node: Node) -> Value {
    let mut v = Map::new();
    match node {
        Node::Known(value, secret) => {
            v.insert("value".into(), value);
            if secret {
                v.insert("secret".into(), json!(true));
            }
        }
        Node::Unknown => {
            v.insert("value".into(), Value::Null);
            v.insert("unknown".into(), json!(true));
        }
        Node::Object(fields) => {
            v.insert(
                "value".into(),
                Value::Object(fields.into_iter().map(|(k, n)| (k, to_value(n))).collect()),
            );
        }
        Node::Array(items) => {
            v.insert(
                "value".into(),
                Value::Array(items.into_iter().map(to_value).collect()),
            );
        }
    }
    v.insert("trace".into(), json!({}));
    Value::Object(v)
}

fn secret(node: Node) -> Node {
    match node {
        Node::Known(v, _) => Node::Known(v, true),
        Node::Object(f) => Node::Object(f.into_iter().map(|(k, n)| (k, secret(n))).collect()),
        Node::Array(a) => Node::Array(a.into_iter().map(secret).collect()),
        Node::Unknown => Node::Unknown,
    }
}

/// The single `fn::…` key of a builtin call.
fn builtin(raw: &Value) -> Option<(&str, &Value)> {
    let map = raw.as_object()?;
    if map.len() != 1 {
        return None;
    }
    let (k, v) = map.iter().next()?;
    k.starts_with("fn::").then_some((k.as_str(), v))
}

struct Eval<'a> {
    root: &'a Value,
    opener: Option<&'a Opener<'a>>,
    cache: HashMap<String, Node>,
    visiting: HashSet<String>,
    diags: Vec<Value>,
}

impl Eval<'_> {
    fn eval_at(&mut self, path: &[Seg], raw: &Value) -> Node {
        let key = path_text(path);
        if let Some(n) = self.cache.get(&key) {
            return n.clone();
        }
        if !self.visiting.insert(key.clone()) {
            self.diags.push(diag("cyclic reference", Some(&key)));
            return Node::Unknown;
        }
        let node = self.eval_raw(path, raw);
        self.visiting.remove(&key);
        self.cache.insert(key, node.clone());
        node
    }

    fn eval_raw(&mut self, path: &[Seg], raw: &Value) -> Node {
        if let Some((name, arg)) = builtin(raw) {
            return self.call(path, name, arg);
        }
        match raw {
            Value::Object(map) => Node::Object(
                map.iter()
                    .map(|(k, v)| {
                        let mut p = path.to_vec();
                        p.push(Seg::Key(k.clone()));
                        (k.clone(), self.eval_at(&p, v))
                    })
                    .collect(),
            ),
            Value::Array(items) => Node::Array(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, v)| {
                        let mut p = path.to_vec();
                        p.push(Seg::Index(i));
                        self.eval_at(&p, v)
                    })
                    .collect(),
            ),
            Value::String(s) => self.interpolate(path, s),
            other => Node::Known(other.clone(), false),
        }
    }

    fn call(&mut self, path: &[Seg], name: &str, arg: &Value) -> Node {
        let at = path_text(path);
        let mut arg_path = path.to_vec();
        arg_path.push(Seg::Key(name.to_owned()));
        match name {
            "fn::secret" => {
                let inner = self.eval_at(&arg_path, arg);
                secret(inner)
            }
            "fn::open::azure-login" => {
                let inputs = self.eval_at(&arg_path, arg);
                self.azure_login(&at, inputs)
            }
            other if other.starts_with("fn::open::") => {
                let provider = &other["fn::open::".len()..];
                self.diags
                    .push(diag(&format!("unknown provider \"{provider}\""), Some(&at)));
                Node::Unknown
            }
            other => {
                self.diags.push(diag(
                    &format!("builtin {other} is not served by this emulator"),
                    Some(&at),
                ));
                Node::Unknown
            }
        }
    }

    fn azure_login(&mut self, at: &str, inputs: Node) -> Node {
        let Node::Object(fields) = inputs else {
            self.diags
                .push(diag("azure-login takes a mapping of inputs", Some(at)));
            return Node::Unknown;
        };
        let get = |k: &str| fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        let mut missing = Vec::new();
        for required in ["clientId", "tenantId"] {
            if get(required).is_none() {
                missing.push(required);
            }
        }
        if !missing.is_empty() {
            self.diags.push(diag(
                &format!("missing required property {}", missing.join(", ")),
                Some(at),
            ));
            return Node::Unknown;
        }
        let Some(opener) = self.opener else {
            // A check does not open providers: their outputs are unknown.
            return Node::Unknown;
        };
        let mut out = Vec::new();
        for k in ["clientId", "tenantId", "subscriptionId"] {
            if let Some(v) = get(k) {
                out.push((k.to_owned(), v));
            }
        }
        if let Some(s) = get("clientSecret") {
            out.push(("clientSecret".into(), secret(s)));
        }
        if matches!(get("oidc"), Some(Node::Known(Value::Bool(true), _))) {
            let attributes: Vec<Value> = match get("subjectAttributes") {
                Some(Node::Array(items)) => items
                    .into_iter()
                    .filter_map(|n| match n {
                        Node::Known(v @ Value::String(_), _) => Some(v),
                        _ => None,
                    })
                    .collect(),
                _ => Vec::new(),
            };
            let mut req = MintRequest::esc(opener.org, opener.project, opener.env);
            req.target["subjectAttributes"] = Value::Array(attributes);
            match mint::mint(opener.keys, opener.issuer, &req) {
                Ok(token) => out.push((
                    "oidc".into(),
                    Node::Object(vec![("token".into(), Node::Known(json!(token), true))]),
                )),
                Err(e) => {
                    self.diags.push(diag(&e, Some(at)));
                    return Node::Unknown;
                }
            }
        }
        Node::Object(out)
    }

    /// `${path}` references: a string that is one reference takes the referenced
    /// value whole; otherwise each reference is rendered into the text.
    fn interpolate(&mut self, path: &[Seg], s: &str) -> Node {
        if !s.contains("${") {
            return Node::Known(json!(s), false);
        }
        let at = path_text(path);
        let whole = s.starts_with("${") && s.find('}') == Some(s.len() - 1);
        let mut out = String::new();
        let mut rest = s;
        let mut secret_any = false;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let Some(end) = after.find('}') else {
                self.diags
                    .push(diag("unterminated interpolation", Some(&at)));
                return Node::Unknown;
            };
            let Some(segs) = parse_path(&after[..end]) else {
                self.diags.push(diag(
                    &format!("invalid property path \"{}\"", &after[..end]),
                    Some(&at),
                ));
                return Node::Unknown;
            };
            let node = self.lookup(&at, &segs);
            if whole {
                return node;
            }
            match node {
                Node::Unknown => return Node::Unknown,
                Node::Known(Value::String(v), sec) => {
                    secret_any |= sec;
                    out.push_str(&v);
                }
                Node::Known(v, sec) => {
                    secret_any |= sec;
                    out.push_str(&v.to_string());
                }
                other => out.push_str(&to_value(other)["value"].to_string()),
            }
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Node::Known(json!(out), secret_any)
    }

    fn lookup(&mut self, at: &str, segs: &[Seg]) -> Node {
        let root = self.root;
        let mut raw = root;
        for (i, seg) in segs.iter().enumerate() {
            if builtin(raw).is_some() {
                let node = self.eval_at(&segs[..i], raw);
                return self.walk(at, node, &segs[i..]);
            }
            let next = match (seg, raw) {
                (Seg::Key(k), Value::Object(m)) => m.get(k),
                (Seg::Index(n), Value::Array(a)) => a.get(*n),
                _ => None,
            };
            let Some(next) = next else {
                return self.unknown_property(at, segs);
            };
            raw = next;
        }
        self.eval_at(segs, raw)
    }

    fn walk(&mut self, at: &str, node: Node, rest: &[Seg]) -> Node {
        let mut node = node;
        for seg in rest {
            node = match (seg, node) {
                (_, Node::Unknown) => return Node::Unknown,
                (Seg::Key(k), Node::Object(fields)) => {
                    match fields.into_iter().find(|(n, _)| n == k) {
                        Some((_, v)) => v,
                        None => return self.unknown_property(at, rest),
                    }
                }
                (Seg::Index(i), Node::Array(items)) => match items.into_iter().nth(*i) {
                    Some(v) => v,
                    None => return self.unknown_property(at, rest),
                },
                _ => return self.unknown_property(at, rest),
            };
        }
        node
    }

    fn unknown_property(&mut self, at: &str, segs: &[Seg]) -> Node {
        let full = path_text(segs);
        let name = full
            .strip_prefix("values")
            .unwrap_or(&full)
            .trim_start_matches('.');
        self.diags
            .push(diag(&format!("unknown property \"{name}\""), Some(at)));
        Node::Unknown
    }
}

/// `a.b[0]["c d"]` as segments; `None` when it does not parse.
fn parse_path(text: &str) -> Option<Vec<Seg>> {
    let mut segs = Vec::new();
    let chars: Vec<char> = text.trim().chars().collect();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '.' if !segs.is_empty() => i += 1,
            '[' => {
                let close = chars[i..].iter().position(|c| *c == ']')? + i;
                let inner: String = chars[i + 1..close].iter().collect();
                if let Some(q) = inner.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
                    segs.push(Seg::Key(q.to_owned()));
                } else {
                    segs.push(Seg::Index(inner.parse().ok()?));
                }
                i = close + 1;
                continue;
            }
            _ => {}
        }
        if i >= chars.len() {
            break;
        }
        if chars[i] == '[' {
            continue;
        }
        let start = i;
        while i < chars.len() && chars[i] != '.' && chars[i] != '[' {
            i += 1;
        }
        if start == i {
            return None;
        }
        segs.push(Seg::Key(chars[start..i].iter().collect()));
    }
    (!segs.is_empty()).then_some(segs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_parse() {
        assert_eq!(
            parse_path("azure.login[0][\"a b\"]"),
            Some(vec![
                Seg::Key("azure".into()),
                Seg::Key("login".into()),
                Seg::Index(0),
                Seg::Key("a b".into()),
            ])
        );
        assert_eq!(parse_path(""), None);
    }

    #[test]
    fn plain_values_and_references_resolve() {
        let yaml = "values:\n  a: x\n  b: ${a}-y\n  c: ${d}\n  d:\n    fn::secret: s\n  e: [1, 2]\n  f: ${e[1]}\n";
        let props = evaluate(yaml, None).unwrap();
        assert_eq!(props["a"]["value"], "x");
        assert_eq!(props["b"]["value"], "x-y");
        assert_eq!(props["c"]["value"], "s");
        assert_eq!(props["c"]["secret"], true);
        assert_eq!(props["e"]["value"][1]["value"], 2);
        assert_eq!(props["f"]["value"], 2);
        assert_eq!(props["a"]["trace"], json!({}));
    }

    #[test]
    fn a_check_leaves_azure_login_unknown_and_refuses_what_it_cannot_evaluate() {
        let yaml = "values:\n  l:\n    fn::open::azure-login:\n      clientId: c\n      tenantId: t\n      oidc: true\n  id: ${l.clientId}\n";
        let props = evaluate(yaml, None).unwrap();
        assert_eq!(props["l"]["unknown"], true);
        assert_eq!(props["id"]["unknown"], true);
        let bad = evaluate("values:\n  a: ${nope}\n", None).unwrap_err();
        assert_eq!(bad[0]["summary"], "unknown property \"nope\"");
        let cyc = evaluate("values:\n  a: ${b}\n  b: ${a}\n", None).unwrap_err();
        assert_eq!(cyc[0]["summary"], "cyclic reference");
        assert!(evaluate("values:\n  a:\n    fn::open::aws-login: {}\n", None).is_err());
        assert!(evaluate("values: [\n", None).is_err());
    }
}
