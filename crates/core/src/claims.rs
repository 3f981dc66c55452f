//! The claims Pulumi Cloud puts in its OIDC tokens: issuer, subject, audience.
//!
//! Formats from `pulumi-oidc-facts.md` §2 (Pulumi docs `deployments/oidc`,
//! `esc/guides/configuring-oidc`), summarised in DESIGN §4:
//! - Deployments: `pulumi:deploy:org:<org>:project:<project>:stack:<stack>:operation:<op>:scope:write`,
//!   audience `<org>`;
//! - ESC: `pulumi:environments:org:<org>:env:<project>/<env>`, audience `azure:<org>`; in the legacy
//!   `default` project `…:env:<env>` and audience `<org>`;
//! - ESC with `subjectAttributes`: `pulumi:environments:pulumi.organization.login:<org>` followed by
//!   `:<attribute>:<value>` per attribute, in order;
//! - ESC consumed from stack config without attributes: `pulumi:environments:org:<org>:env:<yaml>`
//!   (pulumi/pulumi#14509).

use crate::error::{Error, Result};
use crate::join::Joined;
use crate::names::{EscEnvRef, OrgName};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Azure's limit on issuer, subject and audience (Graph `federatedIdentityCredential`).
pub const MAX_CLAIM_LEN: usize = 600;

/// The issuer of Pulumi Cloud's OIDC tokens for Deployments and ESC login providers.
pub const PULUMI_CLOUD_ISSUER: &str = "https://api.pulumi.com/oidc";

/// The literal environment name of the anonymous environment that `pulumi up` opens
/// for a stack's `environment:` block (pulumi/esc `AnonymousEnvironmentName`).
pub const ANONYMOUS_ENV: &str = "<yaml>";

/// A Pulumi Deployments operation; each has its own subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Operation {
    Preview,
    Update,
    Refresh,
    Destroy,
}

impl Operation {
    /// All operations, in the order the docs list them and the CLI prints them.
    pub const ALL: [Operation; 4] = [
        Operation::Preview,
        Operation::Update,
        Operation::Refresh,
        Operation::Destroy,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Preview => "preview",
            Operation::Update => "update",
            Operation::Refresh => "refresh",
            Operation::Destroy => "destroy",
        }
    }

    pub fn parse(value: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|op| op.as_str() == value)
            .ok_or_else(|| Error::InvalidOperation(value.to_owned()))
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The ESC `subjectAttributes` allow-list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum SubjectAttribute {
    #[serde(rename = "rootEnvironment.name")]
    RootEnvironmentName,
    #[serde(rename = "currentEnvironment.name")]
    CurrentEnvironmentName,
    #[serde(rename = "pulumi.user.login")]
    UserLogin,
    #[serde(rename = "pulumi.organization.login")]
    OrganizationLogin,
}

impl SubjectAttribute {
    pub const ALL: [SubjectAttribute; 4] = [
        SubjectAttribute::RootEnvironmentName,
        SubjectAttribute::CurrentEnvironmentName,
        SubjectAttribute::UserLogin,
        SubjectAttribute::OrganizationLogin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SubjectAttribute::RootEnvironmentName => "rootEnvironment.name",
            SubjectAttribute::CurrentEnvironmentName => "currentEnvironment.name",
            SubjectAttribute::UserLogin => "pulumi.user.login",
            SubjectAttribute::OrganizationLogin => "pulumi.organization.login",
        }
    }

    pub fn parse(value: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|a| a.as_str() == value)
            .ok_or_else(|| Error::InvalidSubjectAttribute(value.to_owned()))
    }
}

impl fmt::Display for SubjectAttribute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A validated OIDC issuer URL.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Issuer(String);

impl Issuer {
    /// Validate an issuer: `https://` (or `http://` for a local Pulumi Cloud), no
    /// surrounding whitespace (Entra blocks the exchange), no trailing slash (Pulumi
    /// never issues one and Azure compares exactly), at most 600 characters.
    pub fn new(value: impl Into<String>) -> Result<Self> {
        Self::checked(value.into())
    }

    // Not generic, so that the check is compiled once whatever `new` is given.
    fn checked(value: String) -> Result<Self> {
        let fail = |rule| {
            Err(Error::InvalidIssuer {
                value: value.clone(),
                rule,
            })
        };
        if value.trim() != value {
            return fail("must not have leading or trailing whitespace");
        }
        let Some(rest) = value
            .strip_prefix("https://")
            .or_else(|| value.strip_prefix("http://"))
        else {
            return fail("must be an https:// URL");
        };
        let host = rest.split('/').next().unwrap_or_default();
        if host.is_empty() || host.contains(char::is_whitespace) {
            return fail("must name a host");
        }
        if value.ends_with('/') {
            return fail(
                "must not end with `/`: Pulumi's tokens carry no trailing slash and Azure compares exactly",
            );
        }
        if value.contains(['?', '#']) {
            return fail("must not contain a query or fragment");
        }
        check_len("issuer", &value)?;
        Ok(Self(value))
    }

    /// The issuer of a self-hosted Pulumi Cloud, derived from its API URL as Pulumi
    /// does: `<scheme>://<host>/oidc` (pulumi/pulumi `pkg/cmd/esc/cli/setup.go`, `oidcIssuer()`).
    pub fn from_api_url(api_url: &str) -> Result<Self> {
        let trimmed = api_url.trim();
        let (scheme, rest) = trimmed
            .split_once("://")
            .ok_or_else(|| Error::InvalidIssuer {
                value: api_url.to_owned(),
                rule: "the API URL must be an https:// URL",
            })?;
        let host = rest.split('/').next().unwrap_or_default();
        Self::new(format!("{scheme}://{host}/oidc"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_pulumi_cloud(&self) -> bool {
        self.0 == PULUMI_CLOUD_ISSUER
    }
}

impl Default for Issuer {
    fn default() -> Self {
        Self(PULUMI_CLOUD_ISSUER.to_owned())
    }
}

impl TryFrom<String> for Issuer {
    type Error = Error;
    fn try_from(s: String) -> Result<Self> {
        Self::new(s)
    }
}

impl From<Issuer> for String {
    fn from(i: Issuer) -> String {
        i.0
    }
}

impl fmt::Display for Issuer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Issuer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Issuer({:?})", self.0)
    }
}

pub(crate) fn check_len(claim: &'static str, value: &str) -> Result<()> {
    // Bytes bound characters from above, so short values need no count.
    if value.len() <= MAX_CLAIM_LEN {
        return Ok(());
    }
    let len = value.chars().count();
    if len > MAX_CLAIM_LEN {
        return Err(Error::ClaimTooLong {
            claim,
            value: value.to_owned(),
            len,
        });
    }
    Ok(())
}

/// Audience of a Deployments token: the organization name.
pub fn deployment_audience(org: &OrgName) -> String {
    org.to_string()
}

/// Audience of an ESC `azure-login` token: `azure:<org>`, or `<org>` in the legacy
/// `default` project.
pub fn esc_audience(org: &OrgName, env: &EscEnvRef) -> String {
    if env.project.is_legacy_default() {
        org.to_string()
    } else {
        format!("azure:{org}")
    }
}

/// Subject of a Deployments token.
pub fn deployment_subject(
    org: &OrgName,
    project: &crate::names::ProjectName,
    stack: &crate::names::StackName,
    op: Operation,
) -> String {
    deployment_subject_with(&deployment_subject_prefix(org, project, stack), op)
}

/// The part of a stack's subjects before the operation; the four subjects of a stack
/// share it, so generating them builds it once.
pub fn deployment_subject_prefix(
    org: &OrgName,
    project: &crate::names::ProjectName,
    stack: &crate::names::StackName,
) -> String {
    format!("pulumi:deploy:org:{org}:project:{project}:stack:{stack}:operation:")
}

/// The subject for `op`, given the stack's [`deployment_subject_prefix`].
pub fn deployment_subject_with(prefix: &str, op: Operation) -> String {
    let mut subject = String::with_capacity(prefix.len() + 20);
    subject.push_str(prefix);
    subject.push_str(op.as_str());
    subject.push_str(":scope:write");
    subject
}

/// Default subject of an ESC token (no `subjectAttributes`).
pub fn esc_default_subject(org: &OrgName, env: &EscEnvRef) -> String {
    format!("pulumi:environments:org:{org}:env:{}", env.qualified())
}

/// The subject an ESC environment presents when opened through a stack's config
/// without `subjectAttributes` (pulumi/pulumi#14509).
pub fn esc_yaml_subject(org: &OrgName) -> String {
    format!("pulumi:environments:org:{org}:env:{ANONYMOUS_ENV}")
}

/// Subject of an ESC token with `subjectAttributes`: the fixed prefix, then
/// `:<attribute>:<value>` per attribute in order.
pub fn esc_attribute_subject(org: &OrgName, pairs: &[(SubjectAttribute, String)]) -> String {
    let mut subject = format!("pulumi:environments:pulumi.organization.login:{org}");
    for (attribute, value) in pairs {
        subject.push(':');
        subject.push_str(attribute.as_str());
        subject.push(':');
        subject.push_str(value);
    }
    subject
}

/// What a subject says about who presents it, recovered from its text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ParsedSubject {
    Deployment {
        org: String,
        project: String,
        stack: String,
        operation: String,
    },
    Esc {
        org: String,
        /// `None` for the legacy `default` project form.
        project: Option<String>,
        env: String,
    },
    EscAnonymous {
        org: String,
    },
    EscAttributes {
        org: String,
        attributes: Vec<(String, String)>,
    },
    Other,
}

impl ParsedSubject {
    /// Recognise a Pulumi subject. Never fails: unknown text is [`ParsedSubject::Other`].
    pub fn parse(subject: &str) -> Self {
        if let Some(rest) = subject.strip_prefix("pulumi:deploy:org:") {
            let parts: Vec<&str> = rest.split(':').collect();
            if let [
                org,
                "project",
                project,
                "stack",
                stack,
                "operation",
                op,
                "scope",
                "write",
            ] = parts.as_slice()
            {
                return ParsedSubject::Deployment {
                    org: (*org).to_owned(),
                    project: (*project).to_owned(),
                    stack: (*stack).to_owned(),
                    operation: (*op).to_owned(),
                };
            }
            return ParsedSubject::Other;
        }
        if let Some(rest) = subject.strip_prefix("pulumi:environments:org:") {
            if let Some((org, env)) = rest.split_once(":env:") {
                if org.contains(':') || env.contains(':') {
                    return ParsedSubject::Other;
                }
                if env == ANONYMOUS_ENV {
                    return ParsedSubject::EscAnonymous {
                        org: org.to_owned(),
                    };
                }
                return match env.split_once('/') {
                    Some((project, env)) => ParsedSubject::Esc {
                        org: org.to_owned(),
                        project: Some(project.to_owned()),
                        env: env.to_owned(),
                    },
                    None => ParsedSubject::Esc {
                        org: org.to_owned(),
                        project: None,
                        env: env.to_owned(),
                    },
                };
            }
            return ParsedSubject::Other;
        }
        if let Some(rest) = subject.strip_prefix("pulumi:environments:pulumi.organization.login:") {
            let mut parts = rest.split(':');
            let org = parts.next().unwrap_or_default().to_owned();
            let rest: Vec<&str> = parts.collect();
            if org.is_empty() || !rest.len().is_multiple_of(2) {
                return ParsedSubject::Other;
            }
            let attributes = rest
                .chunks(2)
                .map(|pair| (pair[0].to_owned(), pair[1].to_owned()))
                .collect();
            return ParsedSubject::EscAttributes { org, attributes };
        }
        ParsedSubject::Other
    }

    /// The audience Pulumi puts in a token that carries this subject, when the
    /// subject alone determines it.
    pub fn expected_audience(&self) -> Option<String> {
        match self {
            ParsedSubject::Deployment { org, .. } => Some(org.clone()),
            ParsedSubject::Esc {
                org, project: None, ..
            } => Some(org.clone()),
            ParsedSubject::Esc { org, .. } | ParsedSubject::EscAnonymous { org } => {
                Some(format!("azure:{org}"))
            }
            ParsedSubject::EscAttributes { org, attributes } => {
                let current = attributes
                    .iter()
                    .find(|(k, _)| k == SubjectAttribute::CurrentEnvironmentName.as_str());
                match current {
                    // A `currentEnvironment.name` without a project means the legacy project.
                    Some((_, value)) if !value.contains('/') => Some(org.clone()),
                    Some(_) => Some(format!("azure:{org}")),
                    None => None,
                }
            }
            ParsedSubject::Other => None,
        }
    }

    /// A short human description, such as `Deployments stack contoso/core/dev (preview)`.
    pub fn describe(&self) -> String {
        match self {
            ParsedSubject::Deployment {
                org,
                project,
                stack,
                operation,
            } => format!("Pulumi Deployments stack {org}/{project}/{stack}, operation {operation}"),
            ParsedSubject::Esc {
                org,
                project: Some(project),
                env,
            } => format!("Pulumi ESC environment {org}/{project}/{env}"),
            ParsedSubject::Esc {
                org,
                project: None,
                env,
            } => format!("Pulumi ESC environment {org}/default/{env} (legacy default project)"),
            ParsedSubject::EscAnonymous { org } => format!(
                "ESC environments opened from stack config in {org} (the anonymous `<yaml>` environment)"
            ),
            ParsedSubject::EscAttributes { org, attributes } => {
                let attrs: Vec<String> =
                    attributes.iter().map(|(k, v)| format!("{k}={v}")).collect();
                format!(
                    "Pulumi ESC in {org} with subjectAttributes ({})",
                    attrs.joined(", ")
                )
            }
            ParsedSubject::Other => "not a Pulumi Cloud subject".to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::names::{ProjectName, StackName};

    fn org() -> OrgName {
        OrgName::new("contoso").unwrap()
    }

    #[test]
    fn docs_worked_example() {
        // pulumi/docs content/docs/deployments/guides/oidc/azure.md: one subject per operation.
        let p = ProjectName::new("core").unwrap();
        let s = StackName::new("dev").unwrap();
        assert_eq!(
            deployment_subject(&org(), &p, &s, Operation::Preview),
            "pulumi:deploy:org:contoso:project:core:stack:dev:operation:preview:scope:write"
        );
    }

    #[test]
    fn esc_forms() {
        let env = EscEnvRef::parse("project/development").unwrap();
        assert_eq!(
            esc_default_subject(&org(), &env),
            "pulumi:environments:org:contoso:env:project/development"
        );
        assert_eq!(esc_audience(&org(), &env), "azure:contoso");
        let legacy = EscEnvRef::parse("default/development").unwrap();
        assert_eq!(
            esc_default_subject(&org(), &legacy),
            "pulumi:environments:org:contoso:env:development"
        );
        assert_eq!(esc_audience(&org(), &legacy), "contoso");
        // The docs' subjectAttributes example.
        let s = esc_attribute_subject(
            &org(),
            &[
                (
                    SubjectAttribute::CurrentEnvironmentName,
                    "project/development".into(),
                ),
                (SubjectAttribute::UserLogin, "personA".into()),
            ],
        );
        assert_eq!(
            s,
            "pulumi:environments:pulumi.organization.login:contoso:currentEnvironment.name:project/development:pulumi.user.login:personA"
        );
    }

    #[test]
    fn parse_round_trips() {
        let sub = "pulumi:deploy:org:contoso:project:core:stack:dev:operation:preview:scope:write";
        assert_eq!(
            ParsedSubject::parse(sub),
            ParsedSubject::Deployment {
                org: "contoso".into(),
                project: "core".into(),
                stack: "dev".into(),
                operation: "preview".into()
            }
        );
        assert_eq!(
            ParsedSubject::parse("pulumi:environments:org:contoso:env:<yaml>"),
            ParsedSubject::EscAnonymous {
                org: "contoso".into()
            }
        );
        assert_eq!(
            ParsedSubject::parse("repo:octo/x:ref:main"),
            ParsedSubject::Other
        );
    }

    #[test]
    fn issuer_rules() {
        assert!(Issuer::new("https://api.pulumi.com/oidc").is_ok());
        for bad in [
            " https://api.pulumi.com/oidc",
            "https://api.pulumi.com/oidc/",
            "api.pulumi.com/oidc",
            "https://",
        ] {
            assert!(Issuer::new(bad).is_err(), "{bad}");
        }
        assert_eq!(
            Issuer::from_api_url("https://pulumi.example.com/api/")
                .unwrap()
                .as_str(),
            "https://pulumi.example.com/oidc"
        );
    }
}
