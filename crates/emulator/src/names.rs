//! Pulumi Cloud's naming rules, as the emulated Pulumi Cloud and issuer enforce them.
//! Transcribed from Pulumi's public sources rather than shared with the tool, so a
//! tool that accepts a name Pulumi refuses is caught here.
//!
//! - stack: pulumi/pulumi `sdk/go/common/tokens/stack_name.go` — non-empty, at most
//!   100, "may only contain alphanumeric, hyphens, underscores, or periods";
//! - project: pulumi/pulumi `sdk/go/common/tokens/project.go` and `names.go` — non-empty,
//!   at most 100, `[A-Za-z0-9_.-]`;
//! - organization: pulumi/esc-sdk `sdk/swagger.yaml`, parameter `orgName` — 3 to 40,
//!   `^[a-zA-Z0-9][a-zA-Z0-9-_]{1,38}[a-zA-Z0-9]$`;
//! - ESC project and environment: pulumi/esc-sdk `sdk/swagger.yaml`, `ProjectName` and
//!   `EnvName` — 1 to 100 of `[a-zA-Z0-9-_.]`, not `.` or `..`. The swagger's
//!   lookaheads would also refuse every name that merely *starts* with `default`,
//!   `open` or `yaml` (`openai`, `defaults`), which is not what the docs describe
//!   ("may only contain alphanumeric characters, hyphens, underscores, and periods")
//!   and would refuse the legacy `default` project the docs say environments live in;
//!   so only the two path names are refused.

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')
}

fn short_name(what: &str, value: &str) -> Result<(), String> {
    let fail = |rule: &str| Err(format!("invalid {what} `{value}`: {rule}"));
    if value.is_empty() {
        return fail("must not be empty");
    }
    if value.chars().count() > 100 {
        return fail("must be at most 100 characters");
    }
    if !value.chars().all(is_name_char) {
        return fail("may only contain alphanumerics, hyphens, underscores and periods");
    }
    Ok(())
}

pub(crate) fn stack(value: &str) -> Result<(), String> {
    short_name("stack name", value)
}

pub(crate) fn project(value: &str) -> Result<(), String> {
    short_name("project name", value)
}

pub(crate) fn org(value: &str) -> Result<(), String> {
    let fail = |rule: &str| Err(format!("invalid organization name `{value}`: {rule}"));
    if !(3..=40).contains(&value.chars().count()) {
        return fail("must be 3 to 40 characters");
    }
    if !value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
    {
        return fail("may only contain alphanumerics, hyphens and underscores");
    }
    let edge_ok = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    if !edge_ok(value.chars().next()) || !edge_ok(value.chars().last()) {
        return fail("must start and end with a letter or digit");
    }
    Ok(())
}

fn esc_name(what: &str, value: &str) -> Result<(), String> {
    short_name(what, value)?;
    if value == "." || value == ".." {
        return Err(format!("invalid {what} `{value}`: must not be `.` or `..`"));
    }
    Ok(())
}

pub(crate) fn esc_project(value: &str) -> Result<(), String> {
    esc_name("ESC project name", value)
}

pub(crate) fn esc_env(value: &str) -> Result<(), String> {
    esc_name("ESC environment name", value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn org_rule() {
        for good in ["contoso", "a-b_c", "abc", &"a".repeat(40)] {
            assert!(org(good).is_ok(), "{good}");
        }
        for bad in ["ab", "-abc", "abc-", "a b", "a.bc", "ab:c", &"a".repeat(41)] {
            let err = org(bad).unwrap_err();
            assert!(err.contains(bad), "{err}");
        }
    }

    #[test]
    fn stack_project_and_esc_rules() {
        assert!(stack("dev.eu-1_a").is_ok());
        assert!(stack(&"a".repeat(100)).is_ok());
        assert!(stack(&"a".repeat(101)).is_err());
        assert!(project("").is_err());
        assert!(project("my/proj").is_err());
        assert!(esc_project("default").is_ok());
        assert!(esc_env("openai").is_ok());
        for bad in [".", "..", "a:b", "", "bad name"] {
            assert!(esc_env(bad).is_err(), "{bad}");
        }
    }
}
