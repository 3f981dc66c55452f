//! Where the tool's core and the emulator meet. The emulator knows nothing of the core:
//! it writes Pulumi's and Entra's formats down from their documentation. So when the
//! core's subject for a stack equals the emulator's minted `sub`, and both equal the
//! docs' literal, the core is right by a witness that could have disagreed; and when
//! the core reads each of the emulator's AADSTS answers the way they were meant, its
//! diagnosis works on Entra's wording rather than on its own.
//!
//! Requests go over the emulator's plain-HTTP listener with a few lines of std, so the
//! test needs nothing beyond what the CLI crate already has.
#![allow(clippy::unwrap_used)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use pulumi_azure_oidc::TargetSpec;
use pulumi_azure_oidc::diagnose::ErrorDiagnosis;
use pulumi_azure_oidc_emulator as emu;
use serde_json::{Value, json};

/// Pulumi's own example, from its Azure Deployments guide.
const DOCUMENTED_SUBJECT: &str =
    "pulumi:deploy:org:contoso:project:core:stack:dev:operation:update:scope:write";
const STACK: &str = r#"{"kind":"deployment","org":"contoso","project":"core","stack":"dev"}"#;
const GRAPH_SCOPE: &str = "https://graph.microsoft.com/.default";
const ARM_SCOPE: &str = "https://management.azure.com/.default";
const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// The claims of a JWT, read without the core's help.
fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&base64url(payload)).unwrap()
}

fn base64url(text: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'-' => 62,
        b'_' => 63,
        _ => panic!("not base64url: {c}"),
    };
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in text.bytes().filter(|&c| c != b'=') {
        acc = (acc << 6) | u32::from(value(c));
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(((acc >> bits) & 0xff) as u8);
        }
    }
    out
}

/// `(subject, audience)` of every credential the core makes for a target.
fn core_credentials(target: &str) -> Vec<(String, String)> {
    TargetSpec::from_json(target)
        .unwrap()
        .credentials()
        .unwrap()
        .credentials
        .into_iter()
        .map(|c| (c.subject, c.audience))
        .collect()
}

fn mint_request(target: &str) -> emu::MintRequest {
    emu::MintRequest {
        target: serde_json::from_str(target).unwrap(),
        ..emu::MintRequest::deployment("contoso", "core", "dev", "update")
    }
}

/// `(sub, aud)` of a token the emulator mints.
fn minted(emulator: &emu::Emulator, request: &emu::MintRequest) -> (String, String) {
    let c = claims(&emulator.mint(request).unwrap());
    (
        c["sub"].as_str().unwrap().to_owned(),
        c["aud"].as_str().unwrap().to_owned(),
    )
}

/// One answer, read whole.
#[derive(Debug)]
struct Answer {
    status: u16,
    text: String,
    json: Value,
}

/// A running emulator and a bare HTTP/1.1 client for its plain listener.
struct Setup {
    rt: tokio::runtime::Runtime,
    emulator: Option<emu::Emulator>,
    graph_token: String,
}

impl Setup {
    fn new() -> Self {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let emulator = rt
            .block_on(emu::Emulator::start(emu::Options::default()))
            .unwrap();
        let mut setup = Self {
            rt,
            emulator: Some(emulator),
            graph_token: String::new(),
        };
        let r = setup.token(&[
            ("client_id", emu::DEFAULT_OPERATOR_CLIENT_ID),
            ("client_secret", emu::DEFAULT_OPERATOR_SECRET),
            ("grant_type", "client_credentials"),
            ("scope", GRAPH_SCOPE),
        ]);
        assert_eq!(r.status, 200, "{}", r.text);
        setup.graph_token = r.json["access_token"].as_str().unwrap().to_owned();
        setup
    }

    fn emu(&self) -> &emu::Emulator {
        self.emulator.as_ref().unwrap()
    }

    fn send(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Answer {
        let host = self
            .emu()
            .http_url()
            .trim_start_matches("http://")
            .to_owned();
        let mut stream = TcpStream::connect(&host).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Length: {}\r\n",
            body.len()
        );
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        stream.write_all(head.as_bytes()).unwrap();
        stream.write_all(body).unwrap();
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).unwrap();
        let raw = String::from_utf8(raw).unwrap();
        let (head, rest) = raw.split_once("\r\n\r\n").unwrap();
        let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
        let chunked = head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked");
        let text = if chunked {
            dechunk(rest)
        } else {
            rest.to_owned()
        };
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        Answer { status, text, json }
    }

    fn token(&self, fields: &[(&str, &str)]) -> Answer {
        let body: Vec<String> = fields
            .iter()
            .map(|(k, v)| format!("{}={}", form_escape(k), form_escape(v)))
            .collect();
        let path = format!("/{}/oauth2/v2.0/token", self.emu().tenant_id());
        self.send(
            "POST",
            &path,
            &[("Content-Type", "application/x-www-form-urlencoded")],
            body.join("&").as_bytes(),
        )
    }

    fn graph(&self, method: &str, path: &str, body: &Value) -> Answer {
        let auth = format!("Bearer {}", self.graph_token);
        self.send(
            method,
            &format!("/v1.0{path}"),
            &[
                ("Authorization", auth.as_str()),
                ("Content-Type", "application/json"),
            ],
            body.to_string().as_bytes(),
        )
    }

    /// An app with its service principal and the credential the core makes for
    /// `operation` of the stack `contoso/core/dev`; returns its client id.
    fn app_trusting_the_stack(&self, operation: &str) -> String {
        let spec = TargetSpec::from_json(STACK).unwrap();
        let credential = spec
            .credentials()
            .unwrap()
            .credentials
            .into_iter()
            .find(|c| c.subject.contains(&format!(":operation:{operation}:")))
            .unwrap();
        let app = self.graph(
            "POST",
            "/applications",
            &json!({"displayName": "agreement", "signInAudience": "AzureADMyOrg"}),
        );
        assert_eq!(app.status, 201, "{}", app.text);
        let client_id = app.json["appId"].as_str().unwrap().to_owned();
        let sp = self.graph("POST", "/servicePrincipals", &json!({"appId": client_id}));
        assert_eq!(sp.status, 201, "{}", sp.text);
        let object_id = app.json["id"].as_str().unwrap();
        let fic = self.graph(
            "POST",
            &format!("/applications/{object_id}/federatedIdentityCredentials"),
            &json!({
                "name": credential.name.as_str(),
                "issuer": credential.issuer,
                "subject": credential.subject,
                "audiences": [credential.audience],
            }),
        );
        assert_eq!(fic.status, 201, "{}", fic.text);
        client_id
    }

    fn exchange(&self, client_id: &str, token: &str) -> Answer {
        self.token(&[
            ("client_assertion", token),
            ("client_assertion_type", JWT_BEARER),
            ("client_id", client_id),
            ("grant_type", "client_credentials"),
            ("scope", ARM_SCOPE),
        ])
    }
}

impl Drop for Setup {
    fn drop(&mut self) {
        if let Some(e) = self.emulator.take() {
            self.rt.block_on(e.shutdown());
        }
    }
}

fn form_escape(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn dechunk(mut rest: &str) -> String {
    let mut out = String::new();
    while let Some((size, tail)) = rest.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).unwrap();
        if size == 0 {
            break;
        }
        out.push_str(&tail[..size]);
        rest = &tail[size + 2..];
    }
    out
}

/// The core reads an answer as the emulator meant it, from the whole body and from the
/// description alone (which is what a client library shows): same code, and the trace
/// fields it carries.
#[track_caller]
fn diagnosed(answer: &Answer, code: u32) -> ErrorDiagnosis {
    assert_eq!(
        answer.json["error_codes"][0].as_u64(),
        Some(u64::from(code)),
        "{}",
        answer.text
    );
    let description = answer.json["error_description"].as_str().unwrap();
    let bare = pulumi_azure_oidc::diagnose_error(description).unwrap();
    assert_eq!(bare.code, code, "{description}");
    let d = pulumi_azure_oidc::diagnose_error(&answer.text).unwrap();
    assert_eq!(d.code, code, "{}", answer.text);
    assert_eq!(d.aadsts, format!("AADSTS{code}"));
    assert!(!d.title.is_empty() && !d.cause.is_empty());
    assert!(
        d.trace_id.is_some() && d.correlation_id.is_some() && d.timestamp.is_some(),
        "{d:?}"
    );
    d
}

#[test]
fn the_core_and_the_emulator_give_the_documented_subject_for_a_stack() {
    let s = Setup::new();
    let core = core_credentials(STACK);
    let core_update = core
        .iter()
        .find(|(subject, _)| subject.contains(":operation:update:"))
        .unwrap();
    let (sub, aud) = minted(
        s.emu(),
        &emu::MintRequest::deployment("contoso", "core", "dev", "update"),
    );
    assert_eq!(core_update.0, sub);
    assert_eq!(sub, DOCUMENTED_SUBJECT);
    assert_eq!(
        (core_update.1.as_str(), aud.as_str()),
        ("contoso", "contoso")
    );
    // Every operation, not just the one in the docs' example.
    assert_eq!(core.len(), 4);
    for (subject, audience) in &core {
        let operation = subject.split(":operation:").nth(1).unwrap();
        let operation = operation.split(':').next().unwrap();
        let request = emu::MintRequest::deployment("contoso", "core", "dev", operation);
        assert_eq!(
            &minted(s.emu(), &request),
            &(subject.clone(), audience.clone())
        );
    }
}

#[test]
fn the_core_and_the_emulator_agree_on_every_esc_subject_form() {
    let s = Setup::new();
    let cases = [
        // The recommended `[currentEnvironment.name]`.
        (
            r#"{"kind":"esc","org":"contoso","project":"project","env":"development"}"#,
            "pulumi:environments:pulumi.organization.login:contoso:currentEnvironment.name:project/development",
            "azure:contoso",
        ),
        // Pulumi's default subject.
        (
            r#"{"kind":"esc","org":"contoso","project":"project","env":"development","subjectAttributes":[]}"#,
            "pulumi:environments:org:contoso:env:project/development",
            "azure:contoso",
        ),
        // The legacy `default` project.
        (
            r#"{"kind":"esc","org":"contoso","project":"default","env":"development","subjectAttributes":[]}"#,
            "pulumi:environments:org:contoso:env:development",
            "contoso",
        ),
        // The docs' subjectAttributes example.
        (
            r#"{"kind":"esc","org":"contoso","project":"project","env":"development","subjectAttributes":["currentEnvironment.name","pulumi.user.login"],"user":"personA"}"#,
            "pulumi:environments:pulumi.organization.login:contoso:currentEnvironment.name:project/development:pulumi.user.login:personA",
            "azure:contoso",
        ),
    ];
    for (target, subject, audience) in cases {
        let core = core_credentials(target);
        let expected = (subject.to_owned(), audience.to_owned());
        assert_eq!(core[0], expected, "core, {target}");
        assert_eq!(
            minted(s.emu(), &mint_request(target)),
            expected,
            "emulator, {target}"
        );
    }
    // The anonymous environment of a stack's config (pulumi/pulumi#14509).
    let target = r#"{"kind":"esc","org":"contoso","project":"project","env":"development","subjectAttributes":[],"includeYamlSubject":true}"#;
    let expected = (
        "pulumi:environments:org:contoso:env:<yaml>".to_owned(),
        "azure:contoso".to_owned(),
    );
    assert!(core_credentials(target).contains(&expected));
    let request = emu::MintRequest {
        yaml_subject: true,
        ..mint_request(target)
    };
    assert_eq!(minted(s.emu(), &request), expected);
}

#[test]
fn a_credential_the_core_makes_accepts_the_token_the_emulator_mints() {
    let s = Setup::new();
    let client_id = s.app_trusting_the_stack("update");
    let token = s
        .emu()
        .mint(&emu::MintRequest::deployment(
            "contoso", "core", "dev", "update",
        ))
        .unwrap();
    let r = s.exchange(&client_id, &token);
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["token_type"], "Bearer");
}

#[test]
fn the_core_diagnoses_each_refusal_of_the_token_endpoint() {
    let s = Setup::new();
    let client_id = s.app_trusting_the_stack("update");
    let deployment = || emu::MintRequest::deployment("contoso", "core", "dev", "update");
    let exchange = |m: &emu::MintRequest| s.exchange(&client_id, &s.emu().mint(m).unwrap());

    // Audience differs.
    let m = emu::MintRequest {
        audience: Some("azure:contoso".into()),
        ..deployment()
    };
    let d = diagnosed(&exchange(&m), 700212);
    assert_eq!(d.presented.audience.as_deref(), Some("azure:contoso"));
    assert!(d.may_be_propagation);

    // Subject differs (another operation); the core rebuilds the credential that would
    // have matched.
    let preview = DOCUMENTED_SUBJECT.replace(":update:", ":preview:");
    let d = diagnosed(
        &exchange(&emu::MintRequest::deployment(
            "contoso", "core", "dev", "preview",
        )),
        700213,
    );
    assert_eq!(d.presented.subject.as_deref(), Some(preview.as_str()));
    assert_eq!(d.suggested_credential.unwrap().subject, preview);

    // Subject differs only in case.
    let m = emu::MintRequest {
        subject: Some(DOCUMENTED_SUBJECT.replace("contoso", "Contoso")),
        ..deployment()
    };
    let d = diagnosed(&exchange(&m), 7002138);
    assert_eq!(d.presented.subject, m.subject);

    // Issuer differs (a trailing slash is another issuer).
    let m = emu::MintRequest {
        issuer: Some(format!("{}/", emu::PULUMI_ISSUER)),
        ..deployment()
    };
    let d = diagnosed(&exchange(&m), 700211);
    assert_eq!(d.presented.issuer, m.issuer);

    // Subject and audience both differ: the generic 70021 with all three values.
    let m = emu::MintRequest {
        audience: Some("other-org".into()),
        ..emu::MintRequest::deployment("contoso", "core", "prod", "update")
    };
    let d = diagnosed(&exchange(&m), 70021);
    assert_eq!(d.presented.issuer.as_deref(), Some(emu::PULUMI_ISSUER));
    assert_eq!(d.presented.audience.as_deref(), Some("other-org"));
    assert_eq!(
        d.presented.subject.as_deref(),
        Some(DOCUMENTED_SUBJECT.replace(":dev:", ":prod:").as_str())
    );

    // Expired an hour ago.
    let m = emu::MintRequest {
        expires_in_secs: Some(-3600),
        ..deployment()
    };
    let d = diagnosed(&exchange(&m), 700024);
    let names: Vec<&str> = d.details.iter().map(|x| x.name.as_str()).collect();
    assert_eq!(names, ["current time", "valid from", "expires"], "{d:?}");

    // Signed by a key the issuer does not publish.
    let m = emu::MintRequest {
        foreign_key: true,
        ..deployment()
    };
    let d = diagnosed(&exchange(&m), 7000272);
    let detail =
        |name: &str, value: &str| d.details.iter().any(|x| x.name == name && x.value == value);
    assert!(detail("key id", "unpublished-key"), "{d:?}");
    assert!(detail("identity provider", emu::PULUMI_ISSUER), "{d:?}");

    // A client id the directory does not know.
    let token = s.emu().mint(&deployment()).unwrap();
    let unknown = "7d9e1b2c-3a4f-4e5d-8c6b-0a1f2e3d4c5b";
    let d = diagnosed(&s.exchange(unknown, &token), 700016);
    assert!(
        d.details
            .iter()
            .any(|x| x.name == "client id" && x.value == unknown)
    );
    assert!(
        d.details
            .iter()
            .any(|x| x.name == "tenant" && x.value == s.emu().tenant_id())
    );

    // A secret grant for an unknown client, and an unknown tenant.
    let r = s.token(&[
        ("client_id", "00000000-1111-4222-8333-444444444444"),
        ("client_secret", "x"),
        ("grant_type", "client_credentials"),
        ("scope", GRAPH_SCOPE),
    ]);
    diagnosed(&r, 700016);
    let r = s.send(
        "POST",
        "/contoso.onmicrosoft.com/oauth2/v2.0/token",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        format!(
            "client_id={}&client_secret={}&grant_type=client_credentials&scope={}",
            emu::DEFAULT_OPERATOR_CLIENT_ID,
            emu::DEFAULT_OPERATOR_SECRET,
            form_escape(GRAPH_SCOPE)
        )
        .as_bytes(),
    );
    diagnosed(&r, 90002);

    // And after all that the right token still works.
    assert_eq!(s.exchange(&client_id, &token).status, 200);
}

#[test]
fn the_core_reads_a_fresh_credentials_refusal_as_propagation() {
    let s = Setup::new();
    let window = Duration::from_millis(300);
    s.emu().set_replication(emu::Replication {
        fic_propagation_ms: 300,
        ..emu::Replication::default()
    });
    let before = Instant::now();
    let client_id = s.app_trusting_the_stack("update");
    let created = Instant::now();
    let token = s
        .emu()
        .mint(&emu::MintRequest::deployment(
            "contoso", "core", "dev", "update",
        ))
        .unwrap();
    let early = s.exchange(&client_id, &token);
    assert!(
        before.elapsed() < window,
        "the test machine is too slow for a 300 ms window"
    );
    let d = diagnosed(&early, 70021);
    assert!(d.may_be_propagation);
    assert_eq!(d.presented.subject.as_deref(), Some(DOCUMENTED_SUBJECT));
    assert_eq!(d.presented.audience.as_deref(), Some("contoso"));
    std::thread::sleep(
        (created + window + Duration::from_millis(30)).saturating_duration_since(Instant::now()),
    );
    let late = s.exchange(&client_id, &token);
    assert_eq!(late.status, 200, "{}", late.text);
}
