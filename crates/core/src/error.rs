//! The one error type of the core and its stable numeric codes.
//!
//! Every face (CLI exit status and JSON, C status, Python `exc.code`, JS `err.code`)
//! reports [`ErrorCode`]. Codes are explicit and never reused: a retired variant keeps
//! its number reserved. Ranges: 1xxx input and names, 2xxx diagnosis input,
//! 3xxx planning against live state, 4xxx talking to Azure and Pulumi Cloud.

use serde::Serialize;

/// Result alias used throughout the core.
pub type Result<T, E = Error> = std::result::Result<T, E>;

macro_rules! error_codes {
    ($($variant:ident = $number:literal => $name:literal,)*) => {
        /// Stable identity of an error, shared by every face.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        #[repr(i32)]
        #[non_exhaustive]
        pub enum ErrorCode {
            $($variant = $number,)*
        }

        impl ErrorCode {
            /// Every code, in the order declared (numeric order, checked by a test).
            pub const ALL: &'static [ErrorCode] = &[$(Self::$variant,)*];

            /// A stable symbolic name (`invalid_org`), used in JSON error reports and
            /// as the JS error `name` suffix.
            pub fn name(self) -> &'static str {
                match self {
                    $(Self::$variant => $name,)*
                }
            }
        }
    };
}

error_codes! {
    InvalidOrg = 1001 => "invalid_org",
    InvalidProject = 1002 => "invalid_project",
    InvalidStack = 1003 => "invalid_stack",
    InvalidEscProject = 1004 => "invalid_esc_project",
    InvalidEscEnvironment = 1005 => "invalid_esc_environment",
    InvalidCredentialName = 1006 => "invalid_credential_name",
    InvalidIssuer = 1007 => "invalid_issuer",
    ClaimTooLong = 1008 => "claim_too_long",
    InvalidOperation = 1009 => "invalid_operation",
    InvalidSubjectAttribute = 1010 => "invalid_subject_attribute",
    MissingAttributeValue = 1011 => "missing_attribute_value",
    InvalidUserLogin = 1012 => "invalid_user_login",
    InvalidRole = 1013 => "invalid_role",
    InvalidScope = 1014 => "invalid_scope",
    InvalidGuid = 1015 => "invalid_guid",
    InvalidConfig = 1016 => "invalid_config",
    DuplicateTarget = 1017 => "duplicate_target",
    EmptyTarget = 1018 => "empty_target",
    UnreadableInput = 1019 => "unreadable_input",
    InvalidKeyVault = 1020 => "invalid_key_vault",
    InputTooLarge = 1021 => "input_too_large",
    MalformedToken = 2001 => "malformed_token",
    MalformedCredentialList = 2002 => "malformed_credential_list",
    UnrecognisedError = 2003 => "unrecognised_error",
    InvalidTime = 2004 => "invalid_time",
    CredentialLimitExceeded = 3001 => "credential_limit_exceeded",
    CredentialConflict = 3002 => "credential_conflict",
    AuthenticationFailed = 4001 => "authentication_failed",
    ServiceError = 4002 => "service_error",
    RetriesExhausted = 4003 => "retries_exhausted",
    Unreachable = 4004 => "unreachable",
    VerificationFailed = 4005 => "verification_failed",
    MissingCredentials = 4006 => "missing_credentials",
    Interrupted = 4007 => "interrupted",
    InsufficientRights = 4008 => "insufficient_rights",
}

impl ErrorCode {
    /// The numeric value, as C, Python and JavaScript see it.
    pub fn as_i32(self) -> i32 {
        self as i32
    }

    /// Look a code up by its number.
    pub fn from_i32(value: i32) -> Option<Self> {
        Self::ALL.iter().copied().find(|c| c.as_i32() == value)
    }

    /// Whether the error is the caller's input (as opposed to a conflict with live state).
    /// Python maps these to `ValueError` subclasses.
    pub fn is_input_error(self) -> bool {
        (1000..3000).contains(&self.as_i32())
    }
}

/// Everything the core can refuse. Messages name the offending value and the rule.
///
/// Token text never appears in a message: malformed tokens are described by
/// their shape only.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("invalid {kind} `{}`: {rule}", Shown(.value))]
    InvalidName {
        kind: NameKind,
        value: String,
        rule: &'static str,
    },
    #[error("invalid issuer `{}`: {rule}", Shown(.value))]
    InvalidIssuer { value: String, rule: &'static str },
    #[error("{claim} is {len} characters long; Azure accepts at most 600 (`{}`)", Shown(.value))]
    ClaimTooLong {
        claim: &'static str,
        value: String,
        len: usize,
    },
    #[error(
        "invalid operation `{}`: expected one of preview, update, refresh, destroy",
        Shown(.0)
    )]
    InvalidOperation(String),
    #[error(
        "invalid subject attribute `{}`: expected one of rootEnvironment.name, \
         currentEnvironment.name, pulumi.user.login, pulumi.organization.login",
        Shown(.0)
    )]
    InvalidSubjectAttribute(String),
    #[error("subject attribute `{0}` is listed twice; each attribute may appear once")]
    DuplicateSubjectAttribute(&'static str),
    #[error("subject attribute `{attribute}` needs a value: {hint}")]
    MissingAttributeValue {
        attribute: &'static str,
        hint: &'static str,
    },
    #[error("invalid user login `{}`: {rule}", Shown(.value))]
    InvalidUserLogin { value: String, rule: &'static str },
    #[error("invalid role `{}`: {rule}", Shown(.value))]
    InvalidRole { value: String, rule: String },
    #[error("invalid scope `{}`: {rule}", Shown(.value))]
    InvalidScope { value: String, rule: &'static str },
    #[error(
        "invalid {what} `{}`: expected a GUID such as 00000000-0000-0000-0000-000000000000",
        Shown(.value)
    )]
    InvalidGuid { what: &'static str, value: String },
    #[error("invalid config{}: {message}", location.as_deref().map(|l| format!(" ({l})")).unwrap_or_default())]
    InvalidConfig {
        message: String,
        location: Option<String>,
    },
    #[error("target `{}` is listed more than once", Shown(.0))]
    DuplicateTarget(String),
    #[error("{0}")]
    EmptyTarget(String),
    #[error("malformed token: {0}")]
    MalformedToken(String),
    #[error("malformed credential list: {0}")]
    MalformedCredentialList(String),
    #[error(
        "no AADSTS error code found in the text: expected something like `AADSTS70021: No matching federated identity record found ...`"
    )]
    UnrecognisedError,
    #[error(
        "invalid time `{}`: expected RFC 3339, such as 2026-01-31T12:00:00Z",
        Shown(.value)
    )]
    InvalidTime { value: String },
    #[error(
        "application `{app}` would hold {count} federated identity credentials; Azure allows at most 20 per application"
    )]
    CredentialLimitExceeded { app: String, count: usize },
    #[error("{0}")]
    CredentialConflict(String),
    #[error("invalid Key Vault {what} `{}`: {rule}", Shown(.value))]
    InvalidKeyVault {
        what: &'static str,
        value: String,
        rule: &'static str,
    },
    #[error("{what} is {len} bytes; at most {max} are accepted")]
    InputTooLarge {
        what: &'static str,
        len: usize,
        max: usize,
    },
    /// Input the caller named could not be read (a file, standard input).
    #[error("cannot read {}: {}", ShownLong(.what), ShownLong(.reason))]
    UnreadableInput { what: String, reason: String },
    /// Azure or Pulumi Cloud could not authenticate us (no credential, a refused secret).
    #[error("authentication failed: {0}")]
    AuthenticationFailed(String),
    /// A service refused a request. `code` is the service's own error code
    /// (`Request_BadRequest`, `RoleAssignmentExists`), empty when its
    /// body has none.
    #[error("{service} refused {operation}: {}: {message}", status_line(*.status, .code))]
    Service {
        service: &'static str,
        operation: String,
        status: u16,
        code: String,
        message: String,
    },
    /// A retryable failure persisted past the retry budget.
    #[error("{operation}: still failing after {attempts} attempts over {seconds} s: {last}")]
    RetriesExhausted {
        operation: String,
        attempts: u32,
        seconds: u64,
        last: String,
    },
    #[error("cannot reach {url}: {reason}")]
    Unreachable { url: String, reason: String },
    /// The token exchange failed; `diagnosis` says why and what to change.
    #[error("verification failed: {summary}")]
    VerificationFailed {
        summary: String,
        aadsts: Option<u32>,
    },
    /// A token or secret the command needs is not configured.
    #[error("{0}")]
    MissingCredentials(String),
    /// The run was stopped before it finished; re-running completes it.
    #[error("interrupted: {0}")]
    Interrupted(String),
    /// The operator lacks a right a run needs; found before any write. `fix` says how
    /// to grant it.
    #[error("the operator lacks {right}: {detail}; nothing was written. {fix}")]
    InsufficientRights {
        right: String,
        detail: String,
        fix: String,
    },
    /// Any of the above, found at `path` in a config file; keeps the inner code.
    #[error("{path}: {inner}")]
    InConfig { path: String, inner: Box<Error> },
}

/// Values longer than this many characters are shown abbreviated in messages.
const SHOWN_MAX: usize = 64;
/// How many characters of a long value a message keeps.
const SHOWN_KEEP: usize = 24;

/// A value as a message shows it: control characters escaped (`\u{1b}`, `\n`), so a
/// value cannot drive the terminal or forge log lines, and a value longer than 64
/// characters cut to its first 24 and its length, so a message stays short whatever
/// was pasted (megabytes of garbage, or a secret in the wrong place).
#[derive(Debug, Clone, Copy)]
pub struct Shown<'a>(pub &'a str);

impl std::fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        show(f, self.0, SHOWN_MAX, SHOWN_KEEP)
    }
}

/// As [`Shown`], for text that is legitimately longer but not unbounded (a file path
/// and the reason it cannot be read): cut past 256 characters.
#[derive(Debug, Clone, Copy)]
pub struct ShownLong<'a>(pub &'a str);

impl std::fmt::Display for ShownLong<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        show(f, self.0, 256, 120)
    }
}

/// A control character as `char::escape_default` writes it (`\n`, `\t`, `\r`,
/// `\u{1b}`), without that iterator's machinery for every other character.
fn escape_control(c: char, out: &mut impl std::fmt::Write) -> std::fmt::Result {
    match c {
        '\t' => out.write_str("\\t"),
        '\r' => out.write_str("\\r"),
        '\n' => out.write_str("\\n"),
        _ => write!(out, "\\u{{{:x}}}", u32::from(c)),
    }
}

fn show(f: &mut std::fmt::Formatter<'_>, value: &str, max: usize, keep: usize) -> std::fmt::Result {
    use std::fmt::Write;
    let long = value.len() > max && value.chars().nth(max).is_some();
    let keep = if long { keep } else { max };
    for c in value.chars().take(keep) {
        if c.is_control() {
            escape_control(c, f)?;
        } else {
            f.write_char(c)?;
        }
    }
    if long {
        write!(f, "… ({} characters)", value.chars().count())?;
    }
    Ok(())
}

/// A parser's message made fit to show: quoted values (`"…"` and `` `…` ``) longer
/// than 24 characters are cut, since a config or description error must not echo a
/// token or secret pasted into the wrong place, and control characters are escaped
/// everywhere, as [`Shown`] does.
pub(crate) fn tidy(message: &str) -> String {
    let escaped = |s: &str, out: &mut String| {
        for c in s.chars() {
            if c.is_control() {
                // Writing to a String cannot fail.
                let _ = escape_control(c, out);
            } else {
                out.push(c);
            }
        }
    };
    let mut out = String::with_capacity(message.len().min(1024));
    let mut rest = message;
    while let Some(start) = rest.find(['"', '`']) {
        let quote = &rest[start..=start];
        escaped(&rest[..=start], &mut out);
        rest = &rest[start + 1..];
        let Some(end) = rest.find(quote) else { break };
        let quoted = &rest[..end];
        if quoted.chars().nth(24).is_some() {
            escaped(&quoted.chars().take(12).collect::<String>(), &mut out);
            out.push('…');
        } else {
            escaped(quoted, &mut out);
        }
        out.push_str(quote);
        rest = &rest[end + 1..];
    }
    escaped(rest, &mut out);
    out
}

/// Which validated name an [`Error::InvalidName`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum NameKind {
    Org,
    Project,
    Stack,
    EscProject,
    EscEnvironment,
    CredentialName,
}

impl std::fmt::Display for NameKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            NameKind::Org => "organization name",
            NameKind::Project => "project name",
            NameKind::Stack => "stack name",
            NameKind::EscProject => "ESC project name",
            NameKind::EscEnvironment => "ESC environment name",
            NameKind::CredentialName => "federated credential name",
        })
    }
}

impl Error {
    /// The stable code of this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::InvalidName { kind, .. } => match kind {
                NameKind::Org => ErrorCode::InvalidOrg,
                NameKind::Project => ErrorCode::InvalidProject,
                NameKind::Stack => ErrorCode::InvalidStack,
                NameKind::EscProject => ErrorCode::InvalidEscProject,
                NameKind::EscEnvironment => ErrorCode::InvalidEscEnvironment,
                NameKind::CredentialName => ErrorCode::InvalidCredentialName,
            },
            Error::InvalidIssuer { .. } => ErrorCode::InvalidIssuer,
            Error::ClaimTooLong { .. } => ErrorCode::ClaimTooLong,
            Error::InvalidOperation(_) => ErrorCode::InvalidOperation,
            Error::InvalidSubjectAttribute(_) => ErrorCode::InvalidSubjectAttribute,
            Error::DuplicateSubjectAttribute(_) => ErrorCode::InvalidSubjectAttribute,
            Error::MissingAttributeValue { .. } => ErrorCode::MissingAttributeValue,
            Error::InvalidUserLogin { .. } => ErrorCode::InvalidUserLogin,
            Error::InvalidRole { .. } => ErrorCode::InvalidRole,
            Error::InvalidScope { .. } => ErrorCode::InvalidScope,
            Error::InvalidGuid { .. } => ErrorCode::InvalidGuid,
            Error::InvalidConfig { .. } => ErrorCode::InvalidConfig,
            Error::DuplicateTarget(_) => ErrorCode::DuplicateTarget,
            Error::EmptyTarget(_) => ErrorCode::EmptyTarget,
            Error::MalformedToken(_) => ErrorCode::MalformedToken,
            Error::MalformedCredentialList(_) => ErrorCode::MalformedCredentialList,
            Error::UnrecognisedError => ErrorCode::UnrecognisedError,
            Error::InvalidTime { .. } => ErrorCode::InvalidTime,
            Error::CredentialLimitExceeded { .. } => ErrorCode::CredentialLimitExceeded,
            Error::CredentialConflict(_) => ErrorCode::CredentialConflict,
            Error::UnreadableInput { .. } => ErrorCode::UnreadableInput,
            Error::InvalidKeyVault { .. } => ErrorCode::InvalidKeyVault,
            Error::InputTooLarge { .. } => ErrorCode::InputTooLarge,
            Error::AuthenticationFailed(_) => ErrorCode::AuthenticationFailed,
            Error::Service { .. } => ErrorCode::ServiceError,
            Error::RetriesExhausted { .. } => ErrorCode::RetriesExhausted,
            Error::Unreachable { .. } => ErrorCode::Unreachable,
            Error::VerificationFailed { .. } => ErrorCode::VerificationFailed,
            Error::MissingCredentials(_) => ErrorCode::MissingCredentials,
            Error::Interrupted(_) => ErrorCode::Interrupted,
            Error::InsufficientRights { .. } => ErrorCode::InsufficientRights,
            Error::InConfig { inner, .. } => inner.code(),
        }
    }

    /// Say where in a config file this error was found.
    pub fn in_config(self, path: String) -> Error {
        Error::InConfig {
            path,
            inner: Box::new(self),
        }
    }

    /// Where in a config the error was found (`deployments[0].stacks[1]`), if it was.
    pub fn path(&self) -> Option<&str> {
        match self {
            Error::InConfig { path, .. } => Some(path),
            _ => None,
        }
    }

    /// A serialisable form for JSON outputs: `{code, name, message}`.
    pub fn report(&self) -> ErrorReport {
        ErrorReport {
            code: self.code().as_i32(),
            name: self.code().name(),
            message: self.to_string(),
        }
    }
}

/// The JSON shape of an error, as every face prints it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ErrorReport {
    pub code: i32,
    pub name: &'static str,
    pub message: String,
}

/// `HTTP 409 RoleAssignmentExists`, or `HTTP 401` when the service sent no code.
pub fn status_line(status: u16, code: &str) -> String {
    if code.is_empty() {
        format!("HTTP {status}")
    } else {
        format!("HTTP {status} {code}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped_as_escape_default_escapes_them() {
        for c in (0u32..0x20).chain(0x7f..0xa0).filter_map(char::from_u32) {
            let mut ours = String::new();
            escape_control(c, &mut ours).unwrap();
            assert_eq!(ours, c.escape_default().to_string(), "{:x}", u32::from(c));
        }
    }
    use std::collections::HashSet;

    #[test]
    fn codes_are_unique_and_round_trip() {
        let mut numbers = HashSet::new();
        let mut names = HashSet::new();
        for code in ErrorCode::ALL {
            assert!(numbers.insert(code.as_i32()), "duplicate code {code:?}");
            assert!(names.insert(code.name()), "duplicate name {code:?}");
            assert_eq!(ErrorCode::from_i32(code.as_i32()), Some(*code));
        }
        assert_eq!(ErrorCode::from_i32(0), None);
    }

    #[test]
    fn shown_escapes_control_characters_and_abbreviates_long_values() {
        assert_eq!(Shown("dev").to_string(), "dev");
        assert_eq!(Shown("a\u{1b}[31mb\n").to_string(), "a\\u{1b}[31mb\\n");
        let long = "x".repeat(10_000);
        let shown = Shown(&long).to_string();
        assert!(shown.starts_with(&"x".repeat(SHOWN_KEEP)), "{shown}");
        assert!(shown.ends_with("… (10000 characters)"), "{shown}");
        assert!(shown.len() < 64, "{shown}");
        let exact = "y".repeat(SHOWN_MAX);
        assert_eq!(Shown(&exact).to_string(), exact);
        let err = Error::InvalidName {
            kind: NameKind::Stack,
            value: "dev\u{7}\u{1b}]0;pwned\u{7}".into(),
            rule: "may only contain letters, digits, hyphens, underscores and periods",
        };
        assert!(!err.to_string().chars().any(char::is_control), "{err}");
    }

    #[test]
    fn all_is_sorted_so_the_table_reads_in_order() {
        let mut sorted = ErrorCode::ALL.to_vec();
        sorted.sort();
        assert_eq!(sorted, ErrorCode::ALL);
    }
}
