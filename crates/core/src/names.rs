//! Validated names: parse once at the edge, then trust.
//!
//! Rules (DESIGN §4, sources in `pulumi-oidc-facts.md` §4 and `azure-facts.md` §1.4):
//! - stack, project: 1–100 of `[A-Za-z0-9_.-]` (pulumi/pulumi `tokens/stack_name.go`, `tokens/project.go`);
//! - organization: 3–40, `^[a-zA-Z0-9][a-zA-Z0-9-_]{1,38}[a-zA-Z0-9]$` (esc-sdk swagger `orgName`);
//! - ESC project and environment: 1–100 of `[A-Za-z0-9_.-]`, not `.` or `..` (esc-sdk swagger);
//! - federated credential name: 3–120, `^[A-Za-z0-9][A-Za-z0-9_-]{2,119}$` (the ARM pattern, stricter
//!   than Graph, used everywhere for portability).
//!
//! None of the allowed sets contains `:`, which keeps the colon-delimited subjects unambiguous.

use crate::error::{Error, NameKind, Result};
use std::fmt;

fn is_pulumi_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')
}

fn check_pulumi_name(kind: NameKind, value: &str) -> Result<()> {
    let fail = |rule| {
        Err(Error::InvalidName {
            kind,
            value: value.to_owned(),
            rule,
        })
    };
    if value.is_empty() {
        return fail("must not be empty");
    }
    if value.chars().count() > 100 {
        return fail("must be at most 100 characters");
    }
    if !value.chars().all(is_pulumi_name_char) {
        return fail("may only contain letters, digits, hyphens, underscores and periods");
    }
    Ok(())
}

fn check_org(value: &str) -> Result<()> {
    let fail = |rule| {
        Err(Error::InvalidName {
            kind: NameKind::Org,
            value: value.to_owned(),
            rule,
        })
    };
    let len = value.chars().count();
    if !(3..=40).contains(&len) {
        return fail("must be 3 to 40 characters");
    }
    if !value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return fail("may only contain letters, digits, hyphens and underscores");
    }
    let first = value.chars().next();
    let last = value.chars().last();
    if !first.is_some_and(|c| c.is_ascii_alphanumeric())
        || !last.is_some_and(|c| c.is_ascii_alphanumeric())
    {
        return fail("must start and end with a letter or digit");
    }
    Ok(())
}

fn check_esc_name(kind: NameKind, value: &str) -> Result<()> {
    check_pulumi_name(kind, value)?;
    if value == "." || value == ".." {
        return Err(Error::InvalidName {
            kind,
            value: value.to_owned(),
            rule: "must not be `.` or `..`",
        });
    }
    Ok(())
}

fn check_credential_name(value: &str) -> Result<()> {
    let fail = |rule| {
        Err(Error::InvalidName {
            kind: NameKind::CredentialName,
            value: value.to_owned(),
            rule,
        })
    };
    let len = value.chars().count();
    if !(3..=120).contains(&len) {
        return fail("must be 3 to 120 characters");
    }
    if !value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return fail("may only contain letters, digits, hyphens and underscores");
    }
    if !value
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric())
    {
        return fail("must start with a letter or digit");
    }
    Ok(())
}

macro_rules! validated_name {
    ($(#[$doc:meta])* $name:ident, $check:expr) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(pub(crate) String);

        impl $name {
            /// Validate `value`; the error names the value and the rule it breaks.
            pub fn new(value: impl Into<String>) -> Result<Self> {
                let value = value.into();
                let check: fn(&str) -> Result<()> = $check;
                check(&value)?;
                Ok(Self(value))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::str::FromStr for $name {
            type Err = Error;
            fn from_str(s: &str) -> Result<Self> {
                Self::new(s)
            }
        }

        impl TryFrom<String> for $name {
            type Error = Error;
            fn try_from(s: String) -> Result<Self> {
                Self::new(s)
            }
        }

        impl From<$name> for String {
            fn from(n: $name) -> String {
                n.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($name), self.0)
            }
        }
    };
}

validated_name!(
    /// A Pulumi organization login.
    OrgName,
    check_org
);
validated_name!(
    /// A Pulumi IaC project name.
    ProjectName,
    |v| check_pulumi_name(NameKind::Project, v)
);
validated_name!(
    /// A Pulumi IaC stack name (the short name, without org or project).
    StackName,
    |v| check_pulumi_name(NameKind::Stack, v)
);
validated_name!(
    /// A Pulumi ESC project name. `default` is the legacy project.
    EscProjectName,
    |v| check_esc_name(NameKind::EscProject, v)
);
validated_name!(
    /// A Pulumi ESC environment name (without its project).
    EscEnvName,
    |v| check_esc_name(NameKind::EscEnvironment, v)
);
validated_name!(
    /// An Entra federated identity credential name: unique per app and immutable.
    CredentialName,
    check_credential_name
);

impl EscProjectName {
    /// The project that holds environments created before ESC had projects; its
    /// environments keep the old subject and audience forms.
    pub const LEGACY_DEFAULT: &'static str = "default";

    pub fn is_legacy_default(&self) -> bool {
        self.0 == Self::LEGACY_DEFAULT
    }
}

/// A Pulumi user login, needed when `pulumi.user.login` is a subject attribute.
///
/// Pulumi does not publish its login rule; this accepts what GitHub-style logins
/// use and, above all, rejects `:` and whitespace, which would corrupt the subject.
#[derive(Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct UserLogin(String);

impl UserLogin {
    pub fn new(value: impl Into<String>) -> Result<Self> {
        Self::checked(value.into())
    }

    // Not generic, so that the check is compiled once whatever `new` is given.
    fn checked(value: String) -> Result<Self> {
        let fail = |rule| {
            Err(Error::InvalidUserLogin {
                value: value.clone(),
                rule,
            })
        };
        if value.is_empty() || value.chars().count() > 100 {
            return fail("must be 1 to 100 characters");
        }
        if !value.chars().all(is_pulumi_name_char) {
            return fail("may only contain letters, digits, hyphens, underscores and periods");
        }
        Ok(Self(value))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for UserLogin {
    type Error = Error;
    fn try_from(s: String) -> Result<Self> {
        Self::new(s)
    }
}

impl From<UserLogin> for String {
    fn from(n: UserLogin) -> String {
        n.0
    }
}

impl fmt::Display for UserLogin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for UserLogin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "UserLogin({:?})", self.0)
    }
}

/// An ESC environment reference `project/env` (as `--root-env` takes it).
#[derive(Clone, PartialEq, Eq, Hash, Debug, serde::Serialize)]
pub struct EscEnvRef {
    pub project: EscProjectName,
    pub env: EscEnvName,
}

impl EscEnvRef {
    /// Parse `project/env`. A bare `env` refers to the legacy `default` project.
    pub fn parse(value: &str) -> Result<Self> {
        match value.split_once('/') {
            Some((project, env)) => Ok(Self {
                project: EscProjectName::new(project)?,
                env: EscEnvName::new(env)?,
            }),
            None => Ok(Self {
                project: EscProjectName::new(EscProjectName::LEGACY_DEFAULT)?,
                env: EscEnvName::new(value)?,
            }),
        }
    }

    /// The name ESC uses for `currentEnvironment.name` and `rootEnvironment.name`:
    /// `project/env`, or just `env` in the legacy `default` project
    /// (pulumi-oidc-facts.md §2.3).
    pub fn qualified(&self) -> String {
        if self.project.is_legacy_default() {
            self.env.to_string()
        } else {
            format!("{}/{}", self.project, self.env)
        }
    }
}

impl fmt::Display for EscEnvRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.project, self.env)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    #[test]
    fn org_rules() {
        assert!(OrgName::new("contoso").is_ok());
        assert!(OrgName::new("a-b_c").is_ok());
        for bad in ["ab", "-abc", "abc-", "a b", "a.bc", &"a".repeat(41), "ab:c"] {
            let err = OrgName::new(bad).unwrap_err();
            assert_eq!(err.code(), ErrorCode::InvalidOrg, "{bad}");
            assert!(err.to_string().contains(bad), "{err}");
        }
    }

    #[test]
    fn stack_and_project_rules() {
        assert!(StackName::new("dev.eu-1_a").is_ok());
        assert!(StackName::new("a".repeat(100)).is_ok());
        assert_eq!(
            StackName::new("a".repeat(101)).unwrap_err().code(),
            ErrorCode::InvalidStack
        );
        assert_eq!(
            ProjectName::new("").unwrap_err().code(),
            ErrorCode::InvalidProject
        );
        assert_eq!(
            ProjectName::new("my/proj").unwrap_err().code(),
            ErrorCode::InvalidProject
        );
    }

    #[test]
    fn esc_rules() {
        assert!(EscEnvName::new("prod").is_ok());
        assert!(EscProjectName::new("default").unwrap().is_legacy_default());
        for bad in [".", "..", "a:b", ""] {
            assert_eq!(
                EscEnvName::new(bad).unwrap_err().code(),
                ErrorCode::InvalidEscEnvironment
            );
        }
    }

    #[test]
    fn credential_name_rules() {
        assert!(CredentialName::new("abc").is_ok());
        assert!(CredentialName::new("a".repeat(120)).is_ok());
        for bad in ["ab", "_abc", "a.bc", &"a".repeat(121)] {
            assert_eq!(
                CredentialName::new(bad).unwrap_err().code(),
                ErrorCode::InvalidCredentialName
            );
        }
    }

    #[test]
    fn env_ref_parses_both_forms() {
        let r = EscEnvRef::parse("azure/prod").unwrap();
        assert_eq!(r.qualified(), "azure/prod");
        let r = EscEnvRef::parse("prod").unwrap();
        assert_eq!(r.qualified(), "prod");
        assert!(EscEnvRef::parse("a/b/c").is_err());
    }
}
