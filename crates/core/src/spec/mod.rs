//! One target described in plain strings, as every face receives it (CLI flags,
//! JSON from C and the browser, keyword arguments from Python, the golden vectors).
//! Validation happens here once, so the faces stay thin.

use crate::claims::{Issuer, Operation, SubjectAttribute};
use crate::error::{Error, Result};
use crate::names::{
    EscEnvName, EscEnvRef, EscProjectName, OrgName, ProjectName, StackName, UserLogin,
};
use crate::target::{
    DeploymentTarget, EscSubjectForm, EscTarget, RECOMMENDED_ATTRIBUTES, Target, TargetCredentials,
};

mod read;

/// A target as plain strings.
///
/// For ESC, `subject_attributes: None` means the recommended
/// `[currentEnvironment.name]`; `Some(vec![])` means Pulumi's default subject.
///
/// Read from `{"kind": "deployment" | "esc", …}` by hand (`read.rs`), with serde's
/// own errors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetSpec {
    Deployment {
        org: String,
        project: String,
        stack: String,
        /// Absent: all four operations. An empty list is refused.
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
        /// Absent: false.
        include_yaml_subject: bool,
        issuer: Option<String>,
    },
}

impl TargetSpec {
    /// Parse a JSON description such as
    /// `{"kind":"deployment","org":"contoso","project":"core","stack":"dev"}`.
    pub fn from_json(text: &str) -> Result<Self> {
        serde_json::from_str(text).map_err(|e| Error::InvalidConfig {
            message: crate::error::tidy(&format!("invalid target description: {e}")),
            location: None,
        })
    }

    /// Validate into a target and its issuer.
    pub fn build(&self) -> Result<(Target, Issuer)> {
        let issuer = |i: &Option<String>| match i {
            Some(i) => Issuer::new(i.as_str()),
            None => Ok(Issuer::default()),
        };
        match self {
            TargetSpec::Deployment {
                org,
                project,
                stack,
                operations,
                issuer: iss,
            } => {
                if operations.as_ref().is_some_and(Vec::is_empty) {
                    return Err(Error::InvalidOperation("(an empty list)".to_owned()));
                }
                let ops = operations
                    .iter()
                    .flatten()
                    .map(|o| Operation::parse(o))
                    .collect::<Result<Vec<_>>>()?;
                let target = Target::Deployment(DeploymentTarget::new(
                    OrgName::new(org.as_str())?,
                    ProjectName::new(project.as_str())?,
                    StackName::new(stack.as_str())?,
                    &ops,
                ));
                Ok((target, issuer(iss)?))
            }
            TargetSpec::Esc {
                org,
                project,
                env,
                subject_attributes,
                user,
                root_env,
                include_yaml_subject,
                issuer: iss,
            } => {
                let org = OrgName::new(org.as_str())?;
                let env = EscEnvRef {
                    project: EscProjectName::new(project.as_str())?,
                    env: EscEnvName::new(env.as_str())?,
                };
                let attributes = match subject_attributes {
                    None => RECOMMENDED_ATTRIBUTES.to_vec(),
                    Some(list) => list
                        .iter()
                        .map(|a| SubjectAttribute::parse(a))
                        .collect::<Result<Vec<_>>>()?,
                };
                let subject = if attributes.is_empty() {
                    EscSubjectForm::Default
                } else {
                    EscSubjectForm::Attributes {
                        attributes,
                        user: user.as_deref().map(UserLogin::new).transpose()?,
                        root_env: root_env.as_deref().map(EscEnvRef::parse).transpose()?,
                    }
                };
                let target = Target::Esc(EscTarget::new(org, env, subject, *include_yaml_subject)?);
                Ok((target, issuer(iss)?))
            }
        }
    }

    /// The credentials this target needs.
    pub fn credentials(&self) -> Result<TargetCredentials> {
        let (target, issuer) = self.build()?;
        target.credentials(&issuer)
    }

    /// Whether this is an ESC target that takes the recommended attributes because
    /// none were given.
    pub fn uses_recommended_attributes(&self) -> bool {
        matches!(
            self,
            TargetSpec::Esc {
                subject_attributes: None,
                ..
            }
        )
    }
}
