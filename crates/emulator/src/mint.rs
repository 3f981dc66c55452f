//! Minting: the signed token Pulumi Cloud would hand a Deployments run or an ESC
//! `azure-login` provider, with the claims `claims` describes, and on request the
//! defects a broken set-up presents (another issuer, subject or audience, an expired
//! token, an unpublished signing key).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use time::OffsetDateTime;

use crate::claims::{self, Attribute};
use crate::keys::IssuerKeys;
use crate::names;

/// A token to mint: a target as every face describes it, plus deliberate defects.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MintRequest {
    /// `{"kind":"deployment",…}` or `{"kind":"esc",…}`, as in `tests/vectors/`.
    pub target: Value,
    /// Deployments: the operation presented (default `update`).
    #[serde(default)]
    pub operation: Option<String>,
    /// ESC: present the `<yaml>` subject, as an environment without
    /// `subjectAttributes` does when a stack's config opens it (pulumi/pulumi#14509).
    #[serde(default)]
    pub yaml_subject: bool,
    /// Overrides, to make a token that must not be accepted.
    #[serde(default)]
    pub issuer: Option<String>,
    #[serde(default)]
    pub subject: Option<String>,
    #[serde(default)]
    pub audience: Option<String>,
    /// Lifetime from now; negative makes an expired token. Default 3600.
    #[serde(default)]
    pub expires_in_secs: Option<i64>,
    /// Sign with a key the issuer does not publish.
    #[serde(default)]
    pub foreign_key: bool,
}

impl MintRequest {
    /// A Deployments token for one stack and operation.
    pub fn deployment(org: &str, project: &str, stack: &str, operation: &str) -> Self {
        Self::new(
            json!({"kind": "deployment", "org": org, "project": project, "stack": stack}),
            Some(operation.to_owned()),
        )
    }

    /// An ESC token for `project/env` with the recommended `[currentEnvironment.name]`
    /// subject.
    pub fn esc(org: &str, project: &str, env: &str) -> Self {
        Self::new(
            json!({"kind": "esc", "org": org, "project": project, "env": env}),
            None,
        )
    }

    fn new(target: Value, operation: Option<String>) -> Self {
        Self {
            target,
            operation,
            yaml_subject: false,
            issuer: None,
            subject: None,
            audience: None,
            expires_in_secs: None,
            foreign_key: false,
        }
    }
}

/// The target description shared by every face (the golden vectors' shape). Fields
/// that only shape what a set-up provisions are accepted so any vector can be minted
/// for, and ignored: a token's claims do not depend on them.
#[derive(Debug, Deserialize)]
#[serde(
    tag = "kind",
    rename_all = "camelCase",
    rename_all_fields = "camelCase",
    deny_unknown_fields
)]
enum Target {
    Deployment {
        org: String,
        project: String,
        stack: String,
        /// The operations the stack is trusted for; minting another one is refused, so
        /// a test cannot present a token the target never asked for by accident.
        operations: Option<Vec<String>>,
        #[serde(rename = "issuer")]
        _issuer: Option<serde::de::IgnoredAny>,
    },
    Esc {
        org: String,
        project: String,
        env: String,
        /// Absent: `[currentEnvironment.name]`, the block a set-up writes; empty: none,
        /// which gives ESC's default subject.
        subject_attributes: Option<Vec<String>>,
        user: Option<String>,
        root_env: Option<String>,
        #[serde(rename = "includeYamlSubject")]
        _include_yaml_subject: Option<serde::de::IgnoredAny>,
        #[serde(rename = "issuer")]
        _issuer: Option<serde::de::IgnoredAny>,
    },
}

/// Who opens an environment when the request names nobody.
const DEFAULT_USER: &str = "emulator-user";

/// Mint a token signed by the published key (or the foreign one when asked).
pub(crate) fn mint(
    keys: &IssuerKeys,
    default_issuer: &str,
    req: &MintRequest,
) -> Result<String, String> {
    let target: Target =
        serde_json::from_value(req.target.clone()).map_err(|e| format!("invalid target: {e}"))?;
    let mut claims = Map::new();
    let (subject, audience) = match &target {
        Target::Deployment {
            org,
            project,
            stack,
            operations,
            ..
        } => deployment_claims(&mut claims, org, project, stack, operations.as_deref(), req)?,
        Target::Esc {
            org,
            project,
            env,
            subject_attributes,
            user,
            root_env,
            ..
        } => {
            let env = EscEnv {
                org,
                project,
                env,
                attributes: subject_attributes.as_deref(),
                user: user.as_deref(),
                root: root_env.as_deref(),
            };
            esc_claims(&mut claims, &env, req)?
        }
    };
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let exp = now + req.expires_in_secs.unwrap_or(3600);
    // An override only replaces its own claim, so a token may carry anything a broken
    // set-up could present (a trailing slash, another host) next to correct values.
    let issuer = req.issuer.as_deref().unwrap_or(default_issuer);
    claims.insert("iss".into(), json!(issuer));
    claims.insert("sub".into(), json!(req.subject.clone().unwrap_or(subject)));
    claims.insert(
        "aud".into(),
        json!(req.audience.clone().unwrap_or(audience)),
    );
    claims.insert("iat".into(), json!(now.min(exp)));
    claims.insert("nbf".into(), json!(now.min(exp) - 5));
    claims.insert("exp".into(), json!(exp));
    claims.insert("jti".into(), json!(uuid::Uuid::new_v4().to_string()));
    let key = if req.foreign_key {
        keys.foreign()?
    } else {
        &keys.published
    };
    key.sign(&Value::Object(claims))
}

fn deployment_claims(
    claims: &mut Map<String, Value>,
    org: &str,
    project: &str,
    stack: &str,
    trusted: Option<&[String]>,
    req: &MintRequest,
) -> Result<(String, String), String> {
    names::org(org)?;
    names::project(project)?;
    names::stack(stack)?;
    let operation = req.operation.as_deref().unwrap_or("update");
    let known = |op: &str| {
        if claims::OPERATIONS.contains(&op) {
            Ok(())
        } else {
            Err(format!(
                "`{op}` is not a Pulumi Deployments operation (one of {})",
                claims::OPERATIONS.join(", ")
            ))
        }
    };
    known(operation)?;
    if let Some(list) = trusted {
        if list.is_empty() {
            return Err("the target's operations list is empty".into());
        }
        for op in list {
            known(op)?;
        }
        if !list.iter().any(|op| op == operation) {
            return Err(format!("the target has no `{operation}` operation"));
        }
    }
    // The custom claims the Deployments OIDC page lists.
    claims.insert("org".into(), json!(org));
    claims.insert("project".into(), json!(project));
    claims.insert("stack".into(), json!(stack));
    claims.insert("stackId".into(), json!(format!("{org}/{project}/{stack}")));
    claims.insert("operation".into(), json!(operation));
    claims.insert("deployment".into(), json!(1));
    claims.insert("scope".into(), json!(claims::DEPLOYMENT_SCOPE));
    Ok((
        claims::deployment_subject(org, project, stack, operation),
        claims::deployment_audience(org),
    ))
}

struct EscEnv<'a> {
    org: &'a str,
    project: &'a str,
    env: &'a str,
    attributes: Option<&'a [String]>,
    user: Option<&'a str>,
    /// `project/env`, or a bare `env` of the legacy project.
    root: Option<&'a str>,
}

/// The name ESC reports for an environment given as `project/env` or bare `env`.
fn qualified(reference: &str) -> Result<String, String> {
    let (project, env) = reference
        .split_once('/')
        .unwrap_or((claims::LEGACY_PROJECT, reference));
    names::esc_project(project)?;
    names::esc_env(env)?;
    Ok(claims::esc_env_name(project, env))
}

fn esc_claims(
    claims: &mut Map<String, Value>,
    e: &EscEnv<'_>,
    req: &MintRequest,
) -> Result<(String, String), String> {
    names::org(e.org)?;
    names::esc_project(e.project)?;
    names::esc_env(e.env)?;
    let current = claims::esc_env_name(e.project, e.env);
    // Opened directly, the root is the environment itself.
    let root = e
        .root
        .map(qualified)
        .transpose()?
        .unwrap_or(current.clone());
    let user = e.user.unwrap_or(DEFAULT_USER);
    let (subject, audience) = if req.yaml_subject {
        (
            claims::esc_anonymous_subject(e.org),
            claims::esc_anonymous_audience(e.org),
        )
    } else {
        let attributes = match e.attributes {
            None => vec![Attribute::CurrentEnvironmentName],
            Some(list) => list
                .iter()
                .map(|a| Attribute::parse(a))
                .collect::<Result<_, _>>()?,
        };
        let subject = if attributes.is_empty() {
            claims::esc_default_subject(e.org, e.project, e.env)
        } else {
            let pairs: Vec<(Attribute, String)> = attributes
                .into_iter()
                .map(|a| {
                    let value = match a {
                        Attribute::CurrentEnvironmentName => current.clone(),
                        Attribute::RootEnvironmentName => root.clone(),
                        Attribute::UserLogin => user.to_owned(),
                        Attribute::OrganizationLogin => e.org.to_owned(),
                    };
                    (a, value)
                })
                .collect();
            claims::esc_attribute_subject(e.org, &pairs)
        };
        (subject, claims::esc_audience(e.org, e.project))
    };
    // The other claims the ESC OIDC guide lists for vendor-login tokens.
    claims.insert("current_env".into(), json!(current));
    claims.insert("root_env".into(), json!(root));
    claims.insert("trigger_user".into(), json!(user));
    Ok((subject, audience))
}
