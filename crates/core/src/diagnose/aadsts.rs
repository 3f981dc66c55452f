//! Reading an Entra (AADSTS) error and saying what it means for a Pulumi set-up.
//!
//! Message texts as captured in public issues (`azure-facts.md` §6). They vary: old
//! responses put `\r\n` before `Trace ID`, newer ones a space; JSON bodies escape
//! them; docs links moved from docs.microsoft.com to learn.microsoft.com. The parser
//! accepts the bare message, the message with its JSON escapes left in, or the whole
//! JSON error body.

use super::{paste, scan};
use crate::claims::ParsedSubject;
use crate::credential::GraphCredentialBody;
use crate::error::{Error, Result};
use serde::Serialize;

/// What the error says was presented to Entra.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Presented {
    pub issuer: Option<String>,
    pub subject: Option<String>,
    pub audience: Option<String>,
}

/// A named value an error message states.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Detail {
    pub name: String,
    pub value: String,
}

/// The diagnosis of one AADSTS error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ErrorDiagnosis {
    pub code: u32,
    /// `AADSTS70021`.
    pub aadsts: String,
    pub title: String,
    pub presented: Presented,
    /// What the subject says about who presented it.
    pub subject_kind: Option<ParsedSubject>,
    /// The same, in words.
    pub subject_description: Option<String>,
    /// Other values the message states (client id, tenant, times, key id), in order.
    pub details: Vec<Detail>,
    pub cause: String,
    pub fix: Vec<String>,
    /// The credential that would make the presented token pass, when the error states
    /// enough to build it.
    pub suggested_credential: Option<GraphCredentialBody>,
    /// The `az` command that creates it, shell-quoted.
    pub suggested_command: Option<String>,
    /// Whether the error is also what a correct credential answers for a few minutes
    /// after it is created (retry before concluding).
    pub may_be_propagation: bool,
    pub trace_id: Option<String>,
    pub correlation_id: Option<String>,
    pub timestamp: Option<String>,
    /// The other errors in the same paste, each diagnosed, in the order they appear.
    pub also: Vec<ErrorDiagnosis>,
}

/// A stated value: trimmed, and none when empty.
fn capture(value: Option<&str>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// The message of an OAuth (`error_description`) or Graph/ARM (`error.message`) error
/// body.
fn json_message(v: &serde_json::Value) -> Option<&str> {
    v.get("error_description")
        .and_then(|d| d.as_str())
        .or_else(|| v.get("error")?.get("message")?.as_str())
}

/// Normalise the input: undo what pasting did (`paste::unwrap`), replace each JSON
/// error body in it by its message, turn escaped and real line breaks into spaces.
fn normalise(text: &str) -> String {
    let unwrapped = paste::unwrap(text);
    let mut body = String::with_capacity(unwrapped.len());
    let mut rest = unwrapped.trim();
    // A JSON error body, whole or quoted in a longer line (`…: {"error":…}`).
    while let Some((start, matched_end)) = scan::json_error(rest) {
        let object = scan::json_object_end(&rest[start..]).and_then(|len| {
            let v = serde_json::from_str::<serde_json::Value>(&rest[start..start + len]).ok()?;
            Some((v, start + len))
        });
        match object {
            Some((v, end)) => {
                body.push_str(&rest[..start]);
                body.push_str(json_message(&v).unwrap_or(&rest[start..end]));
                body.push(' ');
                rest = &rest[end..];
            }
            _ => {
                body.push_str(&rest[..matched_end]);
                rest = &rest[matched_end..];
            }
        }
    }
    body.push_str(rest);
    // Escapes survive copying from JSON or from logs that quote JSON again, with any
    // number of backslashes: `\r\n`, `\\r\\n`, `\"`, `\u0027`.
    let body = scan::replace_escapes(&body, &["r", "n", "t"], " ");
    let body = scan::replace_escapes(&body, &["u0027"], "'");
    let body = scan::replace_escapes(&body, &["\""], "\"");
    let body = body.replace(['\r', '\n', '\t'], " ");
    let mut out = String::with_capacity(body.len());
    let mut last_space = false;
    for c in body.chars() {
        if c == ' ' {
            if !last_space {
                out.push(c);
            }
            last_space = true;
        } else {
            out.push(c);
            last_space = false;
        }
    }
    out
}

/// Parse and explain an AADSTS error text.
pub fn diagnose_error(text: &str) -> Result<ErrorDiagnosis> {
    // Real error bodies are a few hundred bytes; a cap keeps the scans linear and short.
    const MAX: usize = 64 * 1024;
    if text.len() > MAX {
        return Err(Error::InputTooLarge {
            what: "the error text",
            len: text.len(),
            max: MAX,
        });
    }
    let body = normalise(text);
    // One error runs from its code to the trace id, correlation id or timestamp that
    // ends Entra's message. A code before that end is nested in the same message
    // (`AADSTS70002: Error validating credentials. AADSTS50012: …`) and shares its ids;
    // a code after it starts the next error of the paste.
    let codes: Vec<(usize, usize, u32)> = scan::aadsts_codes(&body)
        .into_iter()
        .filter_map(|(start, end, digits)| Some((start, end, digits.parse().ok()?)))
        .collect();
    let mut groups: Vec<(usize, Vec<u32>)> = Vec::new();
    let mut last_end = 0;
    for &(start, end, code) in &codes {
        let ended = scan::has_message_end(&body[last_end..start]);
        match groups.last_mut() {
            Some((_, members)) if !ended => members.push(code),
            _ => groups.push((start, vec![code])),
        }
        last_end = end;
    }
    if groups.is_empty() {
        // Only a link to the code, as a rendered page leaves it.
        let code = capture(scan::linked_code(&body))
            .and_then(|c| c.parse().ok())
            .ok_or(Error::UnrecognisedError)?;
        groups.push((0, vec![code]));
    }
    let mut found: Vec<ErrorDiagnosis> = Vec::new();
    for (i, (start, members)) in groups.iter().enumerate() {
        let end = groups.get(i + 1).map_or(body.len(), |next| next.0);
        let part = &body[*start..end];
        for &code in members {
            let d = diagnose_one(code, part);
            if !found.iter().any(|e| repeats(e, &d)) {
                found.push(d);
            }
        }
    }
    let mut found = found.into_iter();
    let mut first = found.next().ok_or(Error::UnrecognisedError)?;
    first.also = found.collect();
    Ok(first)
}

/// Whether `later` says nothing `earlier` did not: the same code, and every claim
/// value it states the same (one error quoted twice, or met again in a retry).
fn repeats(earlier: &ErrorDiagnosis, later: &ErrorDiagnosis) -> bool {
    let same = |a: &Option<String>, b: &Option<String>| b.is_none() || a == b;
    earlier.code == later.code
        && same(&earlier.presented.issuer, &later.presented.issuer)
        && same(&earlier.presented.subject, &later.presented.subject)
        && same(&earlier.presented.audience, &later.presented.audience)
}

/// The diagnosis of one error, `body` being the part of the paste about it.
fn diagnose_one(code: u32, body: &str) -> ErrorDiagnosis {
    let body = body.to_owned();

    let presented = Presented {
        issuer: capture(scan::quoted(&body, "Assertion Issuer: '"))
            .or_else(|| capture(scan::quoted(&body, "presented assertion issuer '")))
            .or_else(|| capture(scan::quoted(&body, "issued by '"))),
        subject: capture(scan::quoted(&body, "Assertion Subject: '"))
            .or_else(|| capture(scan::quoted(&body, "presented assertion subject '"))),
        audience: capture(scan::quoted(&body, "Assertion Audience: '"))
            .or_else(|| capture(scan::quoted(&body, "presented assertion audience '"))),
    };
    // A GUID first: glued text (`…3b00Correlation ID`) would otherwise run into the id.
    let trace_id = capture(scan::id_after(&body, "Trace ID: "));
    let correlation_id = capture(scan::id_after(&body, "Correlation ID: "));
    let timestamp = capture(scan::timestamp(&body));

    let mut details = Vec::new();
    let mut detail = |k: &str, v: Option<String>| {
        if let Some(v) = v {
            details.push(Detail {
                name: k.to_owned(),
                value: v,
            });
        }
    };
    match code {
        700024 => {
            detail(
                "current time",
                capture(scan::word_after(&body, "Current time: ")),
            );
            detail(
                "valid from",
                capture(scan::word_after(&body, "valid from ")),
            );
            detail(
                "expires",
                capture(scan::word_before_stop(
                    &body,
                    "expiry time of assertion ",
                    true,
                )),
            );
        }
        7000272 => {
            detail(
                "key id",
                capture(scan::word_between(
                    &body,
                    "certificate with identifier ",
                    " used",
                )),
            );
            detail(
                "identity provider",
                capture(scan::word_before_stop(&body, "identity provider ", false)),
            );
        }
        700016 => {
            detail(
                "client id",
                capture(scan::quoted(&body, "Application with identifier '")),
            );
            detail("tenant", capture(scan::quoted(&body, "in the directory '")));
        }
        90002 => {
            detail("tenant", capture(scan::quoted(&body, "Tenant '")));
        }
        7002137 => {
            detail(
                "expected subject",
                capture(scan::quoted(&body, "Subject is '")),
            );
        }
        _ => {}
    }

    let subject_kind = presented.subject.as_deref().map(ParsedSubject::parse);
    let explained = explain(code, &presented, subject_kind.as_ref(), &details);
    let suggested_credential = suggest(&presented, subject_kind.as_ref());
    ErrorDiagnosis {
        code,
        aadsts: format!("AADSTS{code}"),
        title: explained.title,
        presented,
        subject_description: subject_kind.as_ref().map(ParsedSubject::describe),
        subject_kind,
        details,
        cause: explained.cause,
        fix: explained.fix,
        suggested_command: suggested_credential.as_ref().map(|c| c.az_command(false)),
        suggested_credential,
        may_be_propagation: matches!(
            code,
            70021 | 700211 | 700212 | 700213 | 7002131 | 70025 | 700016
        ),
        trace_id,
        correlation_id,
        timestamp,
        also: Vec::new(),
    }
}

struct Explained {
    title: String,
    cause: String,
    fix: Vec<String>,
}

fn or_unknown(v: &Option<String>) -> &str {
    v.as_deref().unwrap_or("(not stated)")
}

fn explain(
    code: u32,
    p: &Presented,
    kind: Option<&ParsedSubject>,
    details: &[Detail],
) -> Explained {
    let detail = |k: &str| {
        details
            .iter()
            .find(|d| d.name == k)
            .map(|d| d.value.as_str())
            .unwrap_or("(not stated)")
    };
    let who = kind
        .filter(|k| !matches!(k, ParsedSubject::Other))
        .map(|k| format!(" The subject is from {}.", k.describe()))
        .unwrap_or_default();
    let propagation = "If the credential was created in the last few minutes, retry first: new credentials take a while to reach every Entra replica.".to_owned();
    let mut fix = Vec::new();
    let (title, cause) = match code {
        70021 | 700211 | 700212 | 700213 | 7002131 => {
            let which = match code {
                700211 => "issuer",
                700212 => "audience",
                700213 | 7002131 => "subject",
                _ => "issuer, subject and audience",
            };
            fix.push(format!(
                "The app's federated credentials must match the token's {which} exactly (case-sensitive, no wildcards). \
                 Compare them with: az ad app federated-credential list --id <app client id>"
            ));
            if let Some(ParsedSubject::EscAnonymous { .. }) = kind {
                fix.push(
                    "The subject is `<yaml>`: an ESC environment was opened from a stack's `environment:` config \
                     (pulumi/pulumi#14509). Best fix: add `subjectAttributes: [currentEnvironment.name]` to the \
                     environment's `fn::open::azure-login` block and trust that subject. Trusting `<yaml>` itself \
                     works but lets every environment in the organization use the credential."
                        .into(),
                );
            }
            if let (Some(aud), Some(k)) = (&p.audience, kind)
                && let Some(expected) = k.expected_audience()
                && &expected != aud
            {
                fix.push(format!(
                    "A token with this subject normally carries audience `{expected}`, not `{aud}`."
                ));
            }
            if code == 700211 {
                fix.push(
                    "Pulumi Cloud's issuer is exactly `https://api.pulumi.com/oidc` (no trailing slash); \
                     a self-hosted Pulumi Cloud uses `<scheme>://<api host>/oidc`."
                        .into(),
                );
            }
            if code == 700212 {
                fix.push(
                    "Audiences: Deployments and ESC's legacy `default` project use the org name (`<org>`); other \
                     ESC projects use `azure:<org>`. Never `api://AzureADTokenExchange` for Pulumi."
                        .into(),
                );
            }
            fix.push(propagation);
            (
                format!("no federated credential matches the presented {which}"),
                format!(
                    "Azure found no federated identity credential on the app whose {which} match the token's. \
                     Presented issuer: {}; subject: {}; audience: {}.{who}",
                    or_unknown(&p.issuer),
                    or_unknown(&p.subject),
                    or_unknown(&p.audience)
                ),
            )
        }
        7002138 => {
            fix.push("Change the credential's subject to the presented subject, with the same letter case.".into());
            (
                "the subject matches only when letter case is ignored".into(),
                format!(
                    "A credential's subject equals `{}` except for letter case; Azure compares case-sensitively.{who}",
                    or_unknown(&p.subject)
                ),
            )
        }
        7002137 => {
            fix.push(format!(
                "Set the credential's subject to `{}`.",
                detail("expected subject")
            ));
            (
                "the credential's subject does not match the one Azure expects".into(),
                format!("The presented subject is `{}`.", or_unknown(&p.subject)),
            )
        }
        700024 => {
            fix.push(
                "Use a fresh token: Pulumi's OIDC tokens are short-lived; a long `pulumi up` or `destroy` that reuses \
                 the token from the start can outlive it (pulumi/pulumi#20801)."
                    .into(),
            );
            fix.push("Check the clock of the machine that minted or presents the token.".into());
            (
                "the token is outside its valid time range".into(),
                format!(
                    "Azure's time was {}, the token was valid from {} until {}.",
                    detail("current time"),
                    detail("valid from"),
                    detail("expires")
                ),
            )
        }
        7000272 => {
            fix.push(
                "Check that the issuer's JWKS (`<issuer>/.well-known/jwks`) publishes the signing key; for \
                 Pulumi Cloud the issuer must be exactly `https://api.pulumi.com/oidc`."
                    .into(),
            );
            (
                "the token's signing key is not in the issuer's published keys".into(),
                format!(
                    "Key `{}` is not in the metadata of `{}`.",
                    detail("key id"),
                    detail("identity provider")
                ),
            )
        }
        // azure-facts.md §6: `Client assertion failed signature validation.`
        700027 => {
            fix.push(
                "Pass the token exactly as Pulumi Cloud issued it (no cut, quotes, spaces or line breaks), or \
                 mint a fresh one; a token built or edited by hand cannot carry a valid signature."
                    .into(),
            );
            (
                "the token's signature does not verify".into(),
                "Azure found the signing key but the signature does not match the token: it was altered after \
                 signing, or signed by a key other than the one its `kid` names."
                    .into(),
            )
        }
        700016 => {
            fix.push(
                "Check the client id (ARM_CLIENT_ID / deployment settings `clientId`) and the tenant id: the app \
                 must be registered in that tenant."
                    .into(),
            );
            fix.push(propagation);
            (
                "the application was not found in the tenant".into(),
                format!(
                    "No app with client id `{}` exists in tenant `{}`.",
                    detail("client id"),
                    detail("tenant")
                ),
            )
        }
        90002 => {
            fix.push(
                "Check the tenant id (ARM_TENANT_ID / `tenantId`) and the cloud (public, China, US Government)."
                    .into(),
            );
            (
                "the tenant was not found".into(),
                format!(
                    "Tenant `{}` does not exist in this cloud.",
                    detail("tenant")
                ),
            )
        }
        700222 => {
            fix.push("Use a Pulumi-issued token, not one issued by Entra itself.".into());
            (
                "Entra-issued tokens cannot be used for federation".into(),
                "The assertion was issued by Microsoft Entra.".into(),
            )
        }
        7000215 | 7000216 | 7000218 => {
            fix.push(
                "For OIDC, send the Pulumi token as `client_assertion` with \
                 `client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer` (set ARM_USE_OIDC=true \
                 and ARM_OIDC_TOKEN), not a client secret."
                    .into(),
            );
            (
                "the request carried no usable client credential".into(),
                "The token request had no valid client assertion or secret.".into(),
            )
        }
        // The codes below carry no claim fields; each is explained by its code alone
        // (Microsoft Entra's authentication and authorization error codes reference,
        // `reference-error-codes.md`).
        7000229 => {
            fix.push(
                "Create the app's service principal in this tenant: az ad sp create --id <app client id>".into(),
            );
            fix.push(propagation);
            (
                "the app has no service principal in the tenant".into(),
                "The app is registered but has no service principal (enterprise application) in the tenant, \
                 so nothing can sign in as it."
                    .into(),
            )
        }
        7000222 => {
            fix.push(
                "Create a new client secret for the app, or move this login to OIDC (a Pulumi token as client \
                 assertion), which has no secret to expire."
                    .into(),
            );
            (
                "the client secret has expired".into(),
                "The request used a client secret whose validity has ended.".into(),
            )
        }
        7000112 => {
            fix.push(
                "Enable the app's sign-in: its service principal has `accountEnabled` false (Enterprise \
                 applications > Properties > Enabled for users to sign in)."
                    .into(),
            );
            (
                "the application is disabled".into(),
                "The app's service principal is disabled in this tenant.".into(),
            )
        }
        70011 => {
            fix.push(
                "Ask for `<resource>/.default`, where the resource is the cloud's ARM or Graph resource \
                 (`https://management.azure.com/.default` in Azure's public cloud)."
                    .into(),
            );
            (
                "the requested scope is not valid".into(),
                "The token request named a scope Entra does not accept for this flow.".into(),
            )
        }
        500011 => {
            fix.push(
                "Check the resource (scope) the client asks a token for: it must exist in this tenant's cloud; a \
                 public-cloud resource asked of a national cloud, or a typo, fails this way."
                    .into(),
            );
            (
                "the requested resource is not in the tenant".into(),
                "The resource named in the token request has no service principal in this tenant."
                    .into(),
            )
        }
        53003 | 530003 => {
            fix.push(
                "A Conditional Access policy blocked the sign-in: exclude the workload identity from it, or give it \
                 a policy for workload identities that allows this location."
                    .into(),
            );
            (
                "blocked by Conditional Access".into(),
                "The credentials were valid, but a Conditional Access policy refused the sign-in."
                    .into(),
            )
        }
        70025 => {
            fix.push(
                "Add the federated credential the token needs to the app (pulumi-azure-oidc subjects prints it; \
                 pulumi-azure-oidc apply creates it)."
                    .into(),
            );
            fix.push(propagation);
            (
                "the app has no federated credentials".into(),
                "A token was presented as client assertion, but the app trusts no external issuer at all.".into(),
            )
        }
        50166 | 501661 | 90061 => {
            fix.push(
                "Entra fetches `<issuer>/.well-known/openid-configuration` and the keys it names from the internet: \
                 the issuer must be reachable from Microsoft's network (a self-hosted Pulumi Cloud or GitHub \
                 Enterprise Server behind a firewall is not), over HTTPS with a public certificate."
                    .into(),
            );
            fix.push(
                "Check the credential's issuer for typos: an unknown host fails the same way."
                    .into(),
            );
            (
                "Entra could not reach the token issuer's OIDC endpoint".into(),
                "Entra tried to read the issuer's discovery document or signing keys to check the token, and the \
                 request failed."
                    .into(),
            )
        }
        70002 | 50012 => {
            fix.push(
                "Check the client secret (the secret's value, not its id) or switch this login to OIDC; when the \
                 message names an assertion, pass the token exactly as issued."
                    .into(),
            );
            (
                "the client credential was refused".into(),
                "Entra could not validate the client's secret or assertion.".into(),
            )
        }
        50027 | 5002723 => {
            fix.push(
                "Pass the OIDC token itself as `client_assertion`, unaltered: it must be a signed JWT whose header \
                 names its key (`kid`)."
                    .into(),
            );
            (
                "the client assertion is not a valid JWT".into(),
                "The token presented as client assertion is malformed or names no signing key."
                    .into(),
            )
        }
        90014 | 900144 => {
            fix.push(
                "The token request lacks a required field: use Azure's SDK or CLI with ARM_USE_OIDC / \
                 AZURE_FEDERATED_TOKEN_FILE set rather than a hand-built request."
                    .into(),
            );
            (
                "the token request is missing a required field".into(),
                "The request to Entra's token endpoint lacked a field the grant needs.".into(),
            )
        }
        _ => {
            fix.push(format!(
                "Look the code up: https://login.microsoftonline.com/error?code={code}"
            ));
            (
                format!("AADSTS{code}"),
                "This code is not one of the federation errors this tool explains.".into(),
            )
        }
    };
    Explained { title, cause, fix }
}

fn suggest(p: &Presented, kind: Option<&ParsedSubject>) -> Option<GraphCredentialBody> {
    let subject = p.subject.clone()?;
    let kind = kind?;
    if matches!(kind, ParsedSubject::Other) {
        return None;
    }
    let issuer = p
        .issuer
        .clone()
        .unwrap_or_else(|| crate::claims::PULUMI_CLOUD_ISSUER.to_owned());
    let audience = p.audience.clone().or_else(|| kind.expected_audience())?;
    let name = super::suggested_name(kind, &issuer, &subject);
    Some(GraphCredentialBody {
        name,
        issuer,
        subject,
        audiences: vec![audience],
        description: format!("{} {}", kind.describe(), crate::credential::MANAGED_MARKER),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_body_with_escapes() {
        let body = r#"{"error":"invalid_request","error_description":"AADSTS70021: No matching federated identity record found for presented assertion. Assertion Issuer: 'https://api.pulumi.com/oidc'. Assertion Subject: 'pulumi:deploy:org:contoso:project:core:stack:dev:operation:update:scope:write'. Assertion Audience: 'contoso'. https://docs.microsoft.com/en-us/azure/active-directory/develop/workload-identity-federation\r\nTrace ID: 0a1b2c3d-0000-0000-0000-000000000000\r\nCorrelation ID: 1a1b2c3d-0000-0000-0000-000000000000\r\nTimestamp: 2022-10-27 23:39:22Z","error_codes":[70021]}"#;
        let d = diagnose_error(body).unwrap();
        assert_eq!(d.code, 70021);
        assert_eq!(d.presented.audience.as_deref(), Some("contoso"));
        assert_eq!(
            d.trace_id.as_deref(),
            Some("0a1b2c3d-0000-0000-0000-000000000000")
        );
        assert_eq!(d.timestamp.as_deref(), Some("2022-10-27 23:39:22Z"));
        assert_eq!(
            d.suggested_credential.unwrap().name,
            "deploy-core-dev-update"
        );
    }

    #[test]
    fn a_signature_failure_is_explained() {
        let body = r#"{"error":"invalid_client","error_description":"AADSTS700027: Client assertion failed signature validation. Trace ID: 0a1b2c3d-0000-0000-0000-000000000000","error_codes":[700027]}"#;
        let d = diagnose_error(body).unwrap();
        assert_eq!(d.code, 700027);
        assert_eq!(d.title, "the token's signature does not verify");
        assert!(
            d.fix
                .iter()
                .any(|f| f.contains("exactly as Pulumi Cloud issued it"))
        );
    }

    #[test]
    fn every_explanation_reads_as_single_spaced_sentences() {
        for code in [
            70021, 700211, 700212, 700213, 7002131, 7002138, 7002137, 700024, 7000272, 700027,
            700016, 90002, 700222, 7000215, 7000229, 7000222, 7000112, 70011, 500011, 53003, 70025,
            50166, 70002, 50027, 90014, 12345,
        ] {
            let e = explain(code, &Presented::default(), None, &[]);
            for text in [&e.title, &e.cause].into_iter().chain(&e.fix) {
                assert!(!text.contains("  "), "AADSTS{code}: {text:?}");
                assert_eq!(text.trim(), text.as_str(), "AADSTS{code}: {text:?}");
            }
        }
    }

    #[test]
    fn no_code_is_an_error() {
        assert_eq!(
            diagnose_error("something went wrong").unwrap_err().code(),
            crate::ErrorCode::UnrecognisedError
        );
    }
}
