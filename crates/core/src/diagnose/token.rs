//! A token checked against an app's federated credentials, as Entra would check it.
//!
//! Entra accepts a client assertion when one credential's issuer, subject and
//! audience equal the token's, exactly and case-sensitively, and the token is within
//! its validity window (`azure-facts.md` §1.4, §6). When none matches, Entra answers
//! 700211 (no credential has the issuer), 700213 (issuer known, subject not),
//! 7002138 (the subject matches only ignoring case) or 700212 (issuer and subject
//! known, audience not); older responses said 70021 for all of them.

use super::jwt::{TokenClaims, decode};
use crate::claims::ParsedSubject;
use crate::credential::GraphCredentialBody;
use crate::diff::ObservedCredential;
use crate::error::Result;
use crate::join::Joined;
use serde::Serialize;
use std::fmt::Write as _;

/// How one field of a credential differs from the token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Difference {
    /// `issuer`, `subject` or `audience`.
    pub field: &'static str,
    /// What the token presents.
    pub token: String,
    /// What the credential holds.
    pub credential: String,
    /// A stable label: `case_only`, `trailing_slash`, `whitespace`, `missing_azure_prefix`,
    /// `unexpected_azure_prefix`, `azure_default_audience`, `yaml_subject`, `named_env_vs_yaml`,
    /// `subject_form`, `operation`, `stack`, `project`, `environment`, `org`, `product`, `different`.
    pub kind: &'static str,
    pub explanation: String,
}

/// A credential that comes close, and how it differs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Candidate {
    pub name: String,
    pub differences: Vec<Difference>,
}

/// What to do with the suggested credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FixAction {
    Create,
    Update,
}

/// Whether the token is within its validity window at the given time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeStatus {
    Valid,
    Expired,
    NotYetValid,
    /// The token has no `exp`.
    Unknown,
}

/// The verdict on a token.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TokenDiagnosis {
    /// Always false: the signature is not checked.
    pub verified: bool,
    /// Whether a credential list was given; without one, only the claims and the time
    /// are checked.
    pub checked_credentials: bool,
    pub claims: TokenClaims,
    /// What the subject says about who presents it.
    pub subject_kind: ParsedSubject,
    /// The same, in words.
    pub subject_description: String,
    pub checked_at: i64,
    pub time: TimeStatus,
    /// Whether Azure would accept it (a credential matches and the time is valid).
    pub accepted: bool,
    /// The credential that matches, if any.
    pub matched: Option<String>,
    /// The AADSTS code Azure would answer with, when it would refuse.
    pub aadsts: Option<u32>,
    pub verdict: String,
    /// The closest credentials, closest first.
    pub candidates: Vec<Candidate>,
    /// The credential that would make the token pass.
    pub fix: Option<GraphCredentialBody>,
    /// Whether to create `fix`, or update the existing credential of the same name
    /// (when an existing one is off by the audience, a slash or letter case; Azure
    /// allows one credential per issuer and subject, so creating would fail).
    pub fix_action: Option<FixAction>,
    /// The `az` command that applies `fix`, shell-quoted.
    pub fix_command: Option<String>,
    pub notes: Vec<String>,
}

fn differ_issuer(token: &str, cred: &str) -> Option<Difference> {
    if token == cred {
        return None;
    }
    let (kind, explanation) = if token.eq_ignore_ascii_case(cred) {
        (
            "case_only",
            "the issuer differs only in letter case; Azure compares exactly".to_owned(),
        )
    } else if token.trim_end_matches('/') == cred.trim_end_matches('/') {
        (
            "trailing_slash",
            format!("the issuer differs by a trailing slash; the token's is `{token}`"),
        )
    } else if token.trim() == cred.trim() {
        (
            "whitespace",
            "the credential's issuer has surrounding whitespace".to_owned(),
        )
    } else {
        ("different", format!("the token comes from `{token}`"))
    };
    Some(Difference {
        field: "issuer",
        token: token.to_owned(),
        credential: cred.to_owned(),
        kind,
        explanation,
    })
}

fn differ_audience(token: &[String], cred: &[String]) -> Option<Difference> {
    let cred_aud = cred.first().cloned().unwrap_or_default();
    if token.contains(&cred_aud) {
        return None;
    }
    let shown = token.joined(", ");
    let (kind, explanation) = if token.iter().any(|t| t.eq_ignore_ascii_case(&cred_aud)) {
        (
            "case_only",
            "the audience differs only in letter case; Azure compares exactly".to_owned(),
        )
    } else if cred_aud == "api://AzureADTokenExchange" {
        (
            "azure_default_audience",
            format!(
                "the credential uses Azure's suggested audience, but Pulumi tokens carry `{shown}` \
                 (the org name for Deployments and the legacy `default` project, `azure:<org>` for ESC)"
            ),
        )
    } else if token
        .iter()
        .any(|t| t.strip_prefix("azure:") == Some(cred_aud.as_str()))
    {
        (
            "missing_azure_prefix",
            format!(
                "ESC tokens carry the audience `azure:{cred_aud}`; the credential lacks the `azure:` prefix"
            ),
        )
    } else if token
        .iter()
        .any(|t| cred_aud.strip_prefix("azure:") == Some(t.as_str()))
    {
        (
            "unexpected_azure_prefix",
            format!(
                "the token's audience is the plain org name `{shown}` (Deployments, or ESC's legacy \
                 `default` project); the credential has the `azure:` prefix"
            ),
        )
    } else {
        ("different", format!("the token's audience is `{shown}`"))
    };
    Some(Difference {
        field: "audience",
        token: shown,
        credential: cred_aud,
        kind,
        explanation,
    })
}

fn differ_subject(token: &str, cred: &str) -> Option<Difference> {
    if token == cred {
        return None;
    }
    let t = ParsedSubject::parse(token);
    let c = ParsedSubject::parse(cred);
    let (kind, explanation): (&'static str, String) = if token.eq_ignore_ascii_case(cred) {
        (
            "case_only",
            "the subject differs only in letter case (Azure answers AADSTS7002138)".into(),
        )
    } else if token.trim() == cred.trim() {
        (
            "whitespace",
            "the credential's subject has surrounding whitespace".into(),
        )
    } else {
        match (&t, &c) {
            (ParsedSubject::EscAnonymous { .. }, ParsedSubject::Esc { .. } | ParsedSubject::EscAttributes { .. }) => (
                "yaml_subject",
                "the token carries the `<yaml>` subject: the environment was opened from a stack's config \
                 (pulumi/pulumi#14509). Add `subjectAttributes: [currentEnvironment.name]` to the \
                 environment's azure-login block and trust that subject, rather than trusting `<yaml>`"
                    .into(),
            ),
            (ParsedSubject::Esc { .. } | ParsedSubject::EscAttributes { .. }, ParsedSubject::EscAnonymous { .. }) => (
                "named_env_vs_yaml",
                "the credential trusts the `<yaml>` subject, but the token names its environment".into(),
            ),
            (
                ParsedSubject::Deployment { org: to, project: tp, stack: ts, operation: top },
                ParsedSubject::Deployment { org: co, project: cp, stack: cs, operation: cop },
            ) => {
                if to != co {
                    ("org", format!("the token is from organization `{to}`, the credential names `{co}`"))
                } else if tp != cp {
                    ("project", format!("the token is from project `{tp}`, the credential names `{cp}`"))
                } else if ts != cs {
                    ("stack", format!("the token is from stack `{ts}`, the credential names `{cs}`"))
                } else if top != cop {
                    (
                        "operation",
                        format!(
                            "the token is for operation `{top}`, the credential for `{cop}`: each operation \
                             needs its own credential"
                        ),
                    )
                } else {
                    ("different", "the subjects differ".into())
                }
            }
            (ParsedSubject::Esc { .. }, ParsedSubject::EscAttributes { .. }) => (
                "subject_form",
                "the credential expects a subjectAttributes subject, but the environment does not set \
                 subjectAttributes (its token has the default form)"
                    .into(),
            ),
            (ParsedSubject::EscAttributes { .. }, ParsedSubject::Esc { .. }) => (
                "subject_form",
                "the environment sets subjectAttributes, so its token no longer has the default form the \
                 credential expects"
                    .into(),
            ),
            (
                ParsedSubject::Esc { org: to, project: tp, env: te },
                ParsedSubject::Esc { org: co, project: cp, env: ce },
            ) => {
                if to != co {
                    ("org", format!("the token is from organization `{to}`, the credential names `{co}`"))
                } else if tp != cp {
                    (
                        "project",
                        format!(
                            "the token names ESC project `{}`, the credential `{}` (the legacy `default` project has no project in the subject)",
                            tp.as_deref().unwrap_or("default"),
                            cp.as_deref().unwrap_or("default")
                        ),
                    )
                } else if te != ce {
                    ("environment", format!("the token is from environment `{te}`, the credential names `{ce}`"))
                } else {
                    ("different", "the subjects differ".into())
                }
            }
            (ParsedSubject::Deployment { .. }, ParsedSubject::Esc { .. } | ParsedSubject::EscAttributes { .. } | ParsedSubject::EscAnonymous { .. })
            | (ParsedSubject::Esc { .. } | ParsedSubject::EscAttributes { .. } | ParsedSubject::EscAnonymous { .. }, ParsedSubject::Deployment { .. }) => (
                "product",
                "the token and the credential are for different Pulumi products (Deployments vs ESC)".into(),
            ),
            _ => ("different", "the subjects differ".into()),
        }
    };
    Some(Difference {
        field: "subject",
        token: token.to_owned(),
        credential: cred.to_owned(),
        kind,
        explanation,
    })
}

/// RFC 3339 in UTC (`2026-12-05T10:00:00Z`), or the number itself outside years
/// 0–9999, which RFC 3339 cannot write. Written from the date's fields: `time`'s
/// formatter would bring its whole format-description machinery into the page.
fn format_time(epoch: i64) -> String {
    match time::OffsetDateTime::from_unix_timestamp(epoch) {
        Ok(t) if t.year() >= 0 => format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        ),
        _ => epoch.to_string(),
    }
}

/// Diagnose `token` against `credentials` at `now` (Unix seconds). Without a
/// credential list the token is decoded, its time checked, and the credential that
/// would accept it suggested.
pub fn diagnose_token(
    token: &str,
    credentials: Option<&[ObservedCredential]>,
    now: i64,
) -> Result<TokenDiagnosis> {
    let claims = decode(token)?;
    Ok(diagnose_claims(claims, credentials, now))
}

/// Diagnose already-decoded claims.
pub fn diagnose_claims(
    claims: TokenClaims,
    credential_list: Option<&[ObservedCredential]>,
    now: i64,
) -> TokenDiagnosis {
    let checked = credential_list.is_some();
    let credentials = credential_list.unwrap_or(&[]);
    let iss = claims.issuer.clone().unwrap_or_default();
    let sub = claims.subject.clone().unwrap_or_default();
    let auds = claims.audiences.clone();
    let subject_kind = ParsedSubject::parse(&sub);
    let mut notes = Vec::new();

    let time = match (claims.expires_at, claims.not_before) {
        (_, Some(nbf)) if now < nbf => TimeStatus::NotYetValid,
        (Some(exp), _) if now >= exp => TimeStatus::Expired,
        (Some(_), _) => TimeStatus::Valid,
        (None, _) => TimeStatus::Unknown,
    };

    let matched = credentials.iter().find(|c| {
        c.issuer == iss
            && c.subject.as_deref() == Some(sub.as_str())
            && c.audiences.len() == 1
            && auds.contains(&c.audiences[0])
    });

    let mut candidates: Vec<Candidate> = credentials
        .iter()
        .filter(|c| matched.is_none_or(|m| m.name != c.name))
        .map(|c| {
            let differences: Vec<Difference> = [
                differ_issuer(&iss, &c.issuer),
                match &c.subject {
                    Some(s) => differ_subject(&sub, s),
                    None => Some(Difference {
                        field: "subject",
                        token: sub.clone(),
                        credential: String::new(),
                        kind: "different",
                        explanation: "the credential is a flexible credential (claimsMatchingExpression); Azure supports those only for GitHub, GitLab and Terraform Cloud issuers".into(),
                    }),
                },
                differ_audience(&auds, &c.audiences),
            ]
            .into_iter()
            .flatten()
            .collect();
            Candidate {
                name: c.name.clone(),
                differences,
            }
        })
        .filter(|c| c.differences.len() < 3)
        .collect();
    // Fewest differences first; among equals, one that shares the token's subject
    // (Entra looks credentials up by issuer and subject, so that is the one meant),
    // then one whose difference has a precise explanation; then by name, for a stable order.
    candidates.sort_by(|a, b| {
        let key = |c: &Candidate| {
            (
                c.differences.len(),
                c.differences.iter().any(|d| d.field == "subject"),
                c.differences
                    .iter()
                    .filter(|d| d.kind == "different")
                    .count(),
            )
        };
        (key(a), &a.name).cmp(&(key(b), &b.name))
    });
    candidates.truncate(5);
    if matched.is_some() {
        candidates.clear();
    }
    // A near miss is fixed in place: the same credential, corrected.
    let near_miss: Option<String> = candidates
        .first()
        .filter(|c| {
            c.differences.len() == 1
                && (c.differences[0].field == "audience"
                    || matches!(
                        c.differences[0].kind,
                        "case_only" | "trailing_slash" | "whitespace"
                    ))
        })
        .map(|c| c.name.clone());

    let aadsts = if matched.is_some() || !checked {
        None
    } else if !credentials.iter().any(|c| c.issuer == iss) {
        Some(700211)
    } else if !credentials
        .iter()
        .any(|c| c.issuer == iss && c.subject.as_deref() == Some(sub.as_str()))
    {
        let case_only = credentials.iter().any(|c| {
            c.issuer == iss
                && c.subject
                    .as_deref()
                    .is_some_and(|s| s.eq_ignore_ascii_case(&sub))
        });
        Some(if case_only { 7002138 } else { 700213 })
    } else {
        Some(700212)
    };
    // Entra refuses a client assertion without `exp`, so an unknown expiry is not valid.
    let time_ok = matches!(time, TimeStatus::Valid);
    if time == TimeStatus::Unknown {
        notes.push("the token has no `exp` claim; Azure refuses assertions without one".into());
    }
    let accepted = matched.is_some() && time_ok;

    let fix = if matched.is_none() && !iss.is_empty() && !sub.is_empty() && !auds.is_empty() {
        let audience = subject_kind
            .expected_audience()
            .filter(|a| auds.contains(a))
            .unwrap_or_else(|| auds[0].clone());
        let name = super::suggested_name(&subject_kind, &iss, &sub);
        if matches!(subject_kind, ParsedSubject::EscAnonymous { .. }) {
            notes.push(crate::target::YAML_SUBJECT_WARNING.to_owned());
        }
        // Correcting somebody's credential keeps their description, so it stays theirs.
        let existing_description = near_miss
            .as_ref()
            .and_then(|n| credentials.iter().find(|c| &c.name == n))
            .and_then(|c| c.description.clone());
        Some(GraphCredentialBody {
            name: near_miss.clone().unwrap_or(name),
            issuer: iss.clone(),
            subject: sub.clone(),
            audiences: vec![audience],
            description: existing_description.unwrap_or_else(|| {
                format!(
                    "{} {}",
                    subject_kind.describe(),
                    crate::credential::MANAGED_MARKER
                )
            }),
        })
    } else {
        None
    };

    if let Some(expected) = subject_kind.expected_audience()
        && !auds.is_empty()
        && !auds.contains(&expected)
    {
        notes.push(format!(
            "a token with this subject normally carries the audience `{expected}`, this one carries `{}`",
            auds.joined(", ")
        ));
    }
    if iss.ends_with("/oidc/v2") {
        notes.push(
            "issuer `…/oidc/v2` is for `fn::open::oidc` custom-audience tokens; `fn::open::azure-login` and \
             Deployments use `…/oidc`"
                .into(),
        );
    }
    if credentials.len() > crate::plan::MAX_CREDENTIALS_PER_APP {
        notes.push(format!(
            "the list holds {} credentials; Azure allows at most 20 per application",
            credentials.len()
        ));
    }
    if claims.issuer.is_none() || claims.subject.is_none() || claims.audiences.is_empty() {
        notes.push("the token lacks an `iss`, `sub` or `aud` claim; Azure refuses it".into());
    }

    let time_text = match time {
        TimeStatus::Expired => format!(
            "the token expired at {} (checked at {}); Azure answers AADSTS700024. Pulumi tokens live about an hour: \
             fetch a fresh one for each run",
            format_time(claims.expires_at.unwrap_or_default()),
            format_time(now)
        ),
        TimeStatus::NotYetValid => format!(
            "the token is not valid before {} (checked at {}); Azure answers AADSTS700024. Check the clock",
            format_time(claims.not_before.unwrap_or_default()),
            format_time(now)
        ),
        _ => String::new(),
    };
    let verdict = match (matched, time_ok) {
        (None, _) if !checked && fix.is_none() => {
            "decoded, but the token lacks an `iss`, `sub` or `aud` claim, so no credential can accept it".to_owned()
        }
        (None, _) if !checked => {
            let mut v = "decoded; no credential list given to check against: the credential below accepts this token".to_owned();
            if !time_ok {
                let _ = write!(v, ", but {time_text}");
            }
            v
        }
        (Some(m), true) => format!(
            "accepted: credential `{}` matches issuer, subject and audience",
            m.name
        ),
        (Some(m), false) => format!("credential `{}` matches, but {time_text}", m.name),
        (None, _) => {
            let mut v = match aadsts {
                Some(700211) => {
                    format!("refused (AADSTS700211): no credential has the issuer `{iss}`")
                }
                Some(7002138) => format!(
                    "refused (AADSTS7002138): a credential matches the subject `{sub}` only when letter case is ignored"
                ),
                Some(700213) => {
                    format!("refused (AADSTS700213): no credential has the subject `{sub}`")
                }
                _ => format!(
                    "refused (AADSTS700212): a credential has this issuer and subject, but not the audience `{}`",
                    auds.joined(", ")
                ),
            };
            if !time_ok {
                let _ = write!(v, "; also {time_text}");
            }
            v
        }
    };

    TokenDiagnosis {
        verified: false,
        checked_credentials: checked,
        claims,
        subject_description: subject_kind.describe(),
        subject_kind,
        checked_at: now,
        time,
        accepted,
        matched: matched.map(|m| m.name.clone()),
        aadsts: if accepted {
            None
        } else if matched.is_some() || (!checked && !time_ok) {
            Some(700024)
        } else {
            aadsts
        },
        verdict,
        candidates,
        fix_command: fix.as_ref().map(|f| f.az_command(near_miss.is_some())),
        fix_action: fix.as_ref().map(|_| {
            if near_miss.is_some() {
                FixAction::Update
            } else {
                FixAction::Create
            }
        }),
        fix,
        notes,
    }
}

#[cfg(test)]
mod tests {
    use super::format_time;
    use proptest::prelude::*;

    /// What `time`'s own RFC 3339 formatter writes, the reference `format_time` keeps.
    fn reference(epoch: i64) -> String {
        time::OffsetDateTime::from_unix_timestamp(epoch)
            .ok()
            .and_then(|t| {
                t.format(&time::format_description::well_known::Rfc3339)
                    .ok()
            })
            .unwrap_or_else(|| epoch.to_string())
    }

    #[test]
    fn times_read_as_rfc3339_does_at_the_edges() {
        // Year 0's first second, the second before it, 1970, a leap day, year 9999's
        // last second and the one after, and the extremes of i64.
        for epoch in [
            -62_167_219_200,
            -62_167_219_201,
            0,
            -1,
            951_782_400,
            1_798_761_600,
            253_402_300_799,
            253_402_300_800,
            i64::MIN,
            i64::MAX,
        ] {
            assert_eq!(format_time(epoch), reference(epoch), "{epoch}");
        }
    }

    proptest! {
        #[test]
        fn times_read_as_rfc3339_does(epoch in -70_000_000_000i64..260_000_000_000) {
            prop_assert_eq!(format_time(epoch), reference(epoch));
        }
    }
}
