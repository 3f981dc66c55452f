//! What Pulumi Cloud writes into the OIDC tokens it issues, transcribed from Pulumi's
//! published documentation. The emulator deliberately does not ask the tool under test
//! for these strings: a double that computes subjects the way the tool does would
//! accept the tool's mistakes.
//!
//! Sources, all public:
//! - issuer: pulumi/docs `content/docs/pulumi-cloud/access-management/oidc/provider/_index.md`
//!   and `content/docs/esc/guides/configuring-oidc/_index.md` (`https://api.pulumi.com/oidc`
//!   for Deployments and for the ESC vendor login providers);
//! - Deployments: pulumi/docs `content/docs/pulumi-cloud/deployments/oidc/_index.md` (the
//!   `sub` format, `aud` = the organization, the custom claims) and
//!   `content/docs/deployments/guides/oidc/azure.md` (one subject per operation, e.g.
//!   `pulumi:deploy:org:contoso:project:core:stack:dev:operation:preview:scope:write`);
//! - ESC: pulumi/docs `content/docs/esc/guides/configuring-oidc/_index.md` and
//!   `…/configuring-oidc/azure.md` (default subject, the legacy `default` project form,
//!   the `subjectAttributes` prefix and allow-list, audience `azure:<org>` except in the
//!   `default` project);
//! - the anonymous environment a stack's config opens: pulumi/pulumi#14509, and
//!   pulumi/esc `environment.go` (`AnonymousEnvironmentName = "<yaml>"`,
//!   `AnonymousProjectName = "<project>"`).

/// The issuer of Pulumi Cloud's tokens for Deployments and ESC login providers, which
/// the emulator impersonates by default so configurations written for Azure work
/// against it unchanged.
pub const PULUMI_ISSUER: &str = "https://api.pulumi.com/oidc";

/// The operations a Deployments token names; the docs list exactly these four
/// ("one of `preview`, `update`, `refresh`, or `destroy`").
pub(crate) const OPERATIONS: [&str; 4] = ["preview", "update", "refresh", "destroy"];

/// `scope` of a Deployments token: "Always `write`".
pub(crate) const DEPLOYMENT_SCOPE: &str = "write";

/// The project of environments made before ESC had projects. The docs keep their old
/// subject and audience "to prevent regressions for legacy environments".
pub(crate) const LEGACY_PROJECT: &str = "default";

/// The name ESC gives the anonymous environment it opens for a stack's
/// `environment:` block.
pub(crate) const ANONYMOUS_ENV: &str = "<yaml>";

/// `pulumi:deploy:org:<organization name>:project:<project name>:stack:<stack name>:operation:<operation kind>:scope:write`.
pub(crate) fn deployment_subject(org: &str, project: &str, stack: &str, operation: &str) -> String {
    format!(
        "pulumi:deploy:org:{org}:project:{project}:stack:{stack}:operation:{operation}:scope:{DEPLOYMENT_SCOPE}"
    )
}

/// "The name of the organization associated with the deployment."
pub(crate) fn deployment_audience(org: &str) -> String {
    org.to_owned()
}

/// How ESC names an environment in `currentEnvironment.name`, `rootEnvironment.name`
/// and the default subject: `<project>/<env>`, or just `<env>` in the legacy project.
pub(crate) fn esc_env_name(project: &str, env: &str) -> String {
    if project == LEGACY_PROJECT {
        env.to_owned()
    } else {
        format!("{project}/{env}")
    }
}

/// Without `subjectAttributes`: `pulumi:environments:org:<organization name>:env:<project name>/<environment name>`,
/// or `…:env:<environment name>` in the legacy project.
pub(crate) fn esc_default_subject(org: &str, project: &str, env: &str) -> String {
    format!(
        "pulumi:environments:org:{org}:env:{}",
        esc_env_name(project, env)
    )
}

/// What an environment without `subjectAttributes` presents when a stack's config
/// opens it: the anonymous environment's name takes the place of its own.
pub(crate) fn esc_anonymous_subject(org: &str) -> String {
    format!("pulumi:environments:org:{org}:env:{ANONYMOUS_ENV}")
}

/// The attributes ESC allows in `subjectAttributes` ("deliberately restricted" to
/// non-spoofable, platform-derived values).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Attribute {
    RootEnvironmentName,
    CurrentEnvironmentName,
    UserLogin,
    OrganizationLogin,
}

impl Attribute {
    const ALL: [Self; 4] = [
        Self::RootEnvironmentName,
        Self::CurrentEnvironmentName,
        Self::UserLogin,
        Self::OrganizationLogin,
    ];

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::RootEnvironmentName => "rootEnvironment.name",
            Self::CurrentEnvironmentName => "currentEnvironment.name",
            Self::UserLogin => "pulumi.user.login",
            Self::OrganizationLogin => "pulumi.organization.login",
        }
    }

    pub(crate) fn parse(value: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|a| a.as_str() == value)
            .ok_or_else(|| {
                let allowed: Vec<&str> = Self::ALL.iter().map(|a| a.as_str()).collect();
                format!(
                    "`{value}` is not a subject attribute ESC allows (one of {})",
                    allowed.join(", ")
                )
            })
    }
}

/// With `subjectAttributes`: "the subject instead begins with the fixed prefix
/// `pulumi:environments:pulumi.organization.login:{ORGANIZATION_NAME}`, and each
/// configured attribute is appended to it as a `:<attribute>:<value>` pair, in the
/// order listed."
pub(crate) fn esc_attribute_subject(org: &str, pairs: &[(Attribute, String)]) -> String {
    let mut subject = format!("pulumi:environments:pulumi.organization.login:{org}");
    for (attribute, value) in pairs {
        subject.push(':');
        subject.push_str(attribute.as_str());
        subject.push(':');
        subject.push_str(value);
    }
    subject
}

/// The audience of an `azure-login` token: "the name of your Pulumi organization
/// prefixed with `azure:`", except that "for environments in the `default` project the
/// audience will use just the Pulumi organization name".
pub(crate) fn esc_audience(org: &str, project: &str) -> String {
    if project == LEGACY_PROJECT {
        org.to_owned()
    } else {
        format!("azure:{org}")
    }
}

/// The anonymous environment lives in ESC's anonymous project, not in `default`, so
/// its tokens carry the prefixed audience whatever project the opened environment is in.
pub(crate) fn esc_anonymous_audience(org: &str) -> String {
    esc_audience(org, "<project>")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_examples() {
        assert_eq!(
            deployment_subject("contoso", "core", "dev", "preview"),
            "pulumi:deploy:org:contoso:project:core:stack:dev:operation:preview:scope:write"
        );
        assert_eq!(
            esc_default_subject("contoso", "project", "development"),
            "pulumi:environments:org:contoso:env:project/development"
        );
        assert_eq!(
            esc_default_subject("contoso", "default", "development"),
            "pulumi:environments:org:contoso:env:development"
        );
        assert_eq!(
            esc_attribute_subject(
                "contoso",
                &[
                    (
                        Attribute::CurrentEnvironmentName,
                        "project/development".into()
                    ),
                    (Attribute::UserLogin, "personA".into()),
                ]
            ),
            "pulumi:environments:pulumi.organization.login:contoso:currentEnvironment.name:project/development:pulumi.user.login:personA"
        );
        assert_eq!(
            esc_anonymous_subject("contoso"),
            "pulumi:environments:org:contoso:env:<yaml>"
        );
        assert_eq!(esc_audience("contoso", "project"), "azure:contoso");
        assert_eq!(esc_audience("contoso", "default"), "contoso");
        assert_eq!(esc_anonymous_audience("contoso"), "azure:contoso");
    }

    #[test]
    fn only_the_allow_list_parses() {
        assert_eq!(
            Attribute::parse("currentEnvironment.name"),
            Ok(Attribute::CurrentEnvironmentName)
        );
        assert!(Attribute::parse("currentEnvironment.project").is_err());
    }
}
