//! Targets (a Deployments stack, an ESC environment) and the credentials each needs.

use crate::claims::{
    Issuer, Operation, SubjectAttribute, deployment_audience, deployment_subject_prefix,
    deployment_subject_with, esc_attribute_subject, esc_audience, esc_default_subject,
    esc_yaml_subject,
};
use crate::credential::{FederatedCredential, MANAGED_MARKER, readable_name};
use crate::error::{Error, Result};
use crate::join::Joined;
use crate::names::{EscEnvRef, OrgName, ProjectName, StackName, UserLogin};
use serde::Serialize;
use std::fmt;

/// A Pulumi Deployments stack whose runs log in to Azure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeploymentTarget {
    pub org: OrgName,
    pub project: ProjectName,
    pub stack: StackName,
    /// Operations to trust, in canonical order, without duplicates.
    pub operations: Vec<Operation>,
}

impl DeploymentTarget {
    /// A stack trusted for `operations` (all four when empty).
    pub fn new(
        org: OrgName,
        project: ProjectName,
        stack: StackName,
        operations: &[Operation],
    ) -> Self {
        let mut operations = if operations.is_empty() {
            Operation::ALL.to_vec()
        } else {
            operations.to_vec()
        };
        // Equal operations are identical, so the unstable sort loses nothing.
        operations.sort_unstable();
        operations.dedup();
        Self {
            org,
            project,
            stack,
            operations,
        }
    }
}

/// Which subject form an ESC environment presents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "form", rename_all = "snake_case")]
pub enum EscSubjectForm {
    /// No `subjectAttributes`: `…:org:<org>:env:<project>/<env>`.
    Default,
    /// `subjectAttributes` in order, with the values they resolve to.
    Attributes {
        attributes: Vec<SubjectAttribute>,
        user: Option<UserLogin>,
        root_env: Option<EscEnvRef>,
    },
}

/// The `subjectAttributes` recommended when the caller does not choose: the subject
/// names the environment, and it also works when the environment is opened from a
/// stack's config (DESIGN §4; `pulumi env setup azure` does the same).
pub const RECOMMENDED_ATTRIBUTES: [SubjectAttribute; 1] =
    [SubjectAttribute::CurrentEnvironmentName];

/// A Pulumi ESC environment whose `fn::open::azure-login` logs in to Azure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EscTarget {
    pub org: OrgName,
    pub env: EscEnvRef,
    pub subject: EscSubjectForm,
    /// Also trust the org-wide `<yaml>` subject (pulumi/pulumi#14509). Any
    /// environment in the organization can then use this credential.
    pub include_yaml_subject: bool,
}

impl EscTarget {
    /// Validate that each attribute has the value it needs.
    pub fn new(
        org: OrgName,
        env: EscEnvRef,
        subject: EscSubjectForm,
        include_yaml_subject: bool,
    ) -> Result<Self> {
        if let EscSubjectForm::Attributes {
            attributes, user, ..
        } = &subject
        {
            if attributes.is_empty() {
                return Err(Error::EmptyTarget(format!(
                    "ESC environment `{env}`: an empty subjectAttributes list means the default subject; \
                     omit the attributes instead"
                )));
            }
            for (i, a) in attributes.iter().enumerate() {
                if attributes[..i].contains(a) {
                    return Err(Error::DuplicateSubjectAttribute(a.as_str()));
                }
            }
            if attributes.contains(&SubjectAttribute::UserLogin) && user.is_none() {
                return Err(Error::MissingAttributeValue {
                    attribute: SubjectAttribute::UserLogin.as_str(),
                    hint: "give the Pulumi user login that opens the environment (--user / `user:`)",
                });
            }
        }
        Ok(Self {
            org,
            env,
            subject,
            include_yaml_subject,
        })
    }

    /// The attribute/value pairs of the subject, in order.
    pub fn attribute_values(&self) -> Option<Vec<(SubjectAttribute, String)>> {
        let EscSubjectForm::Attributes {
            attributes,
            user,
            root_env,
        } = &self.subject
        else {
            return None;
        };
        Some(
            attributes
                .iter()
                .map(|a| {
                    let value = match a {
                        SubjectAttribute::CurrentEnvironmentName => self.env.qualified(),
                        // Opened directly, the root is the environment itself; opened from a
                        // stack's config, ESC resolves the root to the first named environment.
                        SubjectAttribute::RootEnvironmentName => {
                            root_env.as_ref().unwrap_or(&self.env).qualified()
                        }
                        SubjectAttribute::UserLogin => {
                            user.as_ref().map(|u| u.to_string()).unwrap_or_default()
                        }
                        SubjectAttribute::OrganizationLogin => self.org.to_string(),
                    };
                    (*a, value)
                })
                .collect(),
        )
    }
}

/// Something that logs in to Azure with a Pulumi OIDC token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Target {
    Deployment(DeploymentTarget),
    Esc(EscTarget),
}

/// A generated credential with the warnings that come with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TargetCredentials {
    pub target: String,
    pub credentials: Vec<FederatedCredential>,
    pub warnings: Vec<String>,
}

/// Warning attached to every `<yaml>` credential.
pub const YAML_SUBJECT_WARNING: &str = "the `<yaml>` subject is shared by every ESC environment opened from any stack's config in \
     the organization: any of them can use this credential (pulumi/pulumi#14509); prefer \
     subjectAttributes: [currentEnvironment.name]";

impl Target {
    pub fn org(&self) -> &OrgName {
        match self {
            Target::Deployment(d) => &d.org,
            Target::Esc(e) => &e.org,
        }
    }

    /// A key unique per target, used to detect duplicates: `deploy:org/project/stack`
    /// or `esc:org/project/env`.
    pub fn key(&self) -> String {
        match self {
            Target::Deployment(d) => format!("deploy:{}/{}/{}", d.org, d.project, d.stack),
            Target::Esc(e) => format!("esc:{}/{}", e.org, e.env),
        }
    }

    /// The credentials this target needs, in a stable order.
    pub fn credentials(&self, issuer: &Issuer) -> Result<TargetCredentials> {
        let mut credentials = Vec::new();
        let mut warnings = Vec::new();
        match self {
            Target::Deployment(d) => {
                let subject_prefix = deployment_subject_prefix(&d.org, &d.project, &d.stack);
                let description_prefix =
                    format!("Pulumi Deployments {}/{}/{} ", d.org, d.project, d.stack);
                for op in &d.operations {
                    let subject = deployment_subject_with(&subject_prefix, *op);
                    let mut description =
                        String::with_capacity(description_prefix.len() + MANAGED_MARKER.len() + 10);
                    description.push_str(&description_prefix);
                    description.push_str(op.as_str());
                    description.push(' ');
                    description.push_str(MANAGED_MARKER);
                    let name = readable_name(
                        &["deploy", d.project.as_str(), d.stack.as_str(), op.as_str()],
                        &[issuer.as_str(), &subject],
                    );
                    credentials.push(FederatedCredential::new(
                        name,
                        issuer,
                        subject,
                        deployment_audience(&d.org),
                        description,
                    )?);
                }
            }
            Target::Esc(e) => {
                let audience = esc_audience(&e.org, &e.env);
                if let EscSubjectForm::Attributes { attributes, .. } = &e.subject
                    && !attributes.iter().any(|a| {
                        matches!(
                            a,
                            SubjectAttribute::CurrentEnvironmentName
                                | SubjectAttribute::RootEnvironmentName
                        )
                    })
                {
                    warnings.push(
                        "these subjectAttributes do not name an environment, so the subject is the same for \
                         every environment that lists the same attributes: each of them can use this credential; \
                         add currentEnvironment.name"
                            .to_owned(),
                    );
                }
                let uses = |attribute| match &e.subject {
                    EscSubjectForm::Attributes { attributes, .. } => {
                        attributes.contains(&attribute)
                    }
                    EscSubjectForm::Default => false,
                };
                if let EscSubjectForm::Attributes { user, root_env, .. } = &e.subject {
                    if user.is_some() && !uses(SubjectAttribute::UserLogin) {
                        warnings.push("a user login is given but pulumi.user.login is not a subject attribute; it is ignored".to_owned());
                    }
                    if root_env.is_some() && !uses(SubjectAttribute::RootEnvironmentName) {
                        warnings.push("a root environment is given but rootEnvironment.name is not a subject attribute; it is ignored".to_owned());
                    }
                }
                let (subject, suffix) = match e.attribute_values() {
                    None => (esc_default_subject(&e.org, &e.env), String::new()),
                    Some(pairs) => (
                        esc_attribute_subject(&e.org, &pairs),
                        attribute_suffix(pairs.iter().map(|(a, v)| (a.as_str(), v.as_str()))),
                    ),
                };
                let name = readable_name(
                    &["esc", e.env.project.as_str(), e.env.env.as_str(), &suffix],
                    &[issuer.as_str(), &subject],
                );
                credentials.push(FederatedCredential::new(
                    name,
                    issuer,
                    subject,
                    audience.clone(),
                    format!("Pulumi ESC {}/{} {MANAGED_MARKER}", e.org, e.env),
                )?);
                if e.include_yaml_subject {
                    // The anonymous environment is not in the legacy `default` project, so its
                    // audience is `azure:<org>` whatever project this environment is in (as in
                    // pulumi/examples azure-ts-oidc-provider-pulumi-cloud and `pulumi env setup azure`).
                    let audience = format!("azure:{}", e.org);
                    let subject = esc_yaml_subject(&e.org);
                    let name =
                        readable_name(&["esc-yaml", e.org.as_str()], &[issuer.as_str(), &subject]);
                    credentials.push(FederatedCredential::new(
                        name,
                        issuer,
                        subject,
                        audience,
                        format!(
                            "Pulumi ESC environments opened from stack config in {} {MANAGED_MARKER}",
                            e.org
                        ),
                    )?);
                    warnings.push(YAML_SUBJECT_WARNING.to_owned());
                }
            }
        }
        Ok(TargetCredentials {
            target: self.to_string(),
            credentials,
            warnings,
        })
    }
}

/// A readable suffix naming the attribute form, so that two forms for one
/// environment do not share a credential name. Works on the attribute names and
/// values as they appear in a subject, so diagnosis names credentials the same way.
pub(crate) fn attribute_suffix<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    pairs
        .into_iter()
        .map(|(a, v)| match a {
            "currentEnvironment.name" => "current".to_owned(),
            "rootEnvironment.name" => format!("root-{v}"),
            "pulumi.user.login" => format!("user-{v}"),
            "pulumi.organization.login" => "org".to_owned(),
            other => other.to_owned(),
        })
        .collect::<Vec<_>>()
        .joined("-")
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Deployment(d) => write!(f, "stack {}/{}/{}", d.org, d.project, d.stack),
            Target::Esc(e) => write!(f, "ESC environment {}/{}", e.org, e.env),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stack(ops: &[Operation]) -> Target {
        Target::Deployment(DeploymentTarget::new(
            OrgName::new("contoso").unwrap(),
            ProjectName::new("core").unwrap(),
            StackName::new("dev").unwrap(),
            ops,
        ))
    }

    #[test]
    fn stack_gets_four_credentials_in_order() {
        let c = stack(&[]).credentials(&Issuer::default()).unwrap();
        let names: Vec<_> = c.credentials.iter().map(|c| c.name.to_string()).collect();
        assert_eq!(
            names,
            [
                "deploy-core-dev-preview",
                "deploy-core-dev-update",
                "deploy-core-dev-refresh",
                "deploy-core-dev-destroy"
            ]
        );
        assert!(c.credentials.iter().all(|c| c.audience == "contoso"));
    }

    #[test]
    fn chosen_operations_are_sorted_and_deduplicated() {
        let c = stack(&[Operation::Destroy, Operation::Preview, Operation::Destroy])
            .credentials(&Issuer::default())
            .unwrap();
        assert_eq!(c.credentials.len(), 2);
        assert!(c.credentials[0].subject.contains("operation:preview"));
    }

    #[test]
    fn user_attribute_needs_a_user() {
        let err = EscTarget::new(
            OrgName::new("contoso").unwrap(),
            EscEnvRef::parse("azure/prod").unwrap(),
            EscSubjectForm::Attributes {
                attributes: vec![SubjectAttribute::UserLogin],
                user: None,
                root_env: None,
            },
            false,
        )
        .unwrap_err();
        assert_eq!(err.code(), crate::ErrorCode::MissingAttributeValue);
    }
}
