//! The Pulumi OIDC issuer stand-in: signing keys, the discovery document, JWKS, and
//! minting of Deployments and ESC tokens with the claims of `pulumi-oidc-facts.md` §2.
//!
//! Tokens are RS256, as Entra requires of federated issuers (`azure-facts.md` §1.4).
//! A second "foreign" key, never published, signs tokens that must be refused with
//! AADSTS7000272.

use jsonwebtoken::jwk::{Jwk, JwkSet, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header};
use pulumi_azure_oidc::{Operation, TargetSpec};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use time::OffsetDateTime;

pub(crate) struct SigningKey {
    pub(crate) kid: String,
    encoding: EncodingKey,
    pub(crate) decoding: DecodingKey,
    jwk: Jwk,
}

impl std::fmt::Debug for SigningKey {
    // The private key never reaches a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    pub(crate) fn generate(kid: &str) -> Result<Self, String> {
        let pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256)
            .map_err(|e| format!("cannot generate the issuer's RSA key: {e}"))?;
        let encoding = EncodingKey::from_rsa_pem(pair.serialize_pem().as_bytes())
            .map_err(|e| format!("cannot load the issuer's RSA key: {e}"))?;
        let mut jwk = Jwk::from_encoding_key(&encoding, Algorithm::RS256)
            .map_err(|e| format!("cannot derive the issuer's JWK: {e}"))?;
        jwk.common.key_id = Some(kid.to_owned());
        jwk.common.public_key_use = Some(PublicKeyUse::Signature);
        jwk.common.key_algorithm = Some(KeyAlgorithm::RS256);
        let decoding = DecodingKey::from_jwk(&jwk)
            .map_err(|e| format!("cannot load the issuer's public key: {e}"))?;
        Ok(Self {
            kid: kid.to_owned(),
            encoding,
            decoding,
            jwk,
        })
    }

    fn sign(&self, claims: &Value) -> Result<String, String> {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding)
            .map_err(|e| format!("cannot sign the token: {e}"))
    }
}

#[derive(Debug)]
pub(crate) struct IssuerKeys {
    pub(crate) published: SigningKey,
    /// Made on first use: RSA key generation is most of an emulator's start-up time,
    /// and most runs never mint a foreign-key token.
    foreign: std::sync::OnceLock<Result<SigningKey, String>>,
}

impl IssuerKeys {
    pub(crate) fn generate() -> Result<Self, String> {
        Ok(Self {
            published: SigningKey::generate("emulator-key-1")?,
            foreign: std::sync::OnceLock::new(),
        })
    }

    /// One key pair per process: RSA generation is the slowest part of a start, and
    /// tests start many emulators. Each emulator still trusts only its own issuers.
    pub(crate) fn shared() -> Result<std::sync::Arc<Self>, String> {
        static KEYS: std::sync::OnceLock<std::sync::Arc<IssuerKeys>> = std::sync::OnceLock::new();
        if let Some(k) = KEYS.get() {
            return Ok(k.clone());
        }
        let keys = std::sync::Arc::new(Self::generate()?);
        Ok(KEYS.get_or_init(|| keys).clone())
    }

    pub(crate) fn jwks(&self) -> Value {
        serde_json::to_value(JwkSet {
            keys: vec![self.published.jwk.clone()],
        })
        .unwrap_or(Value::Null)
    }

    /// A key the issuer never publishes, for tokens that must get AADSTS7000272.
    pub(crate) fn foreign(&self) -> Result<&SigningKey, String> {
        self.foreign
            .get_or_init(|| SigningKey::generate("unpublished-key"))
            .as_ref()
            .map_err(Clone::clone)
    }

    /// The published key with this `kid`, if any.
    pub(crate) fn key(&self, kid: &str) -> Option<&SigningKey> {
        (self.published.kid == kid).then_some(&self.published)
    }
}

pub(crate) fn discovery(issuer: &str) -> Value {
    json!({
        "issuer": issuer,
        "jwks_uri": format!("{issuer}/.well-known/jwks"),
        "response_types_supported": ["id_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "claims_supported": ["iss", "sub", "aud", "iat", "nbf", "exp", "jti"],
    })
}

/// A token to mint: a target as every face describes it, plus deliberate defects.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MintRequest {
    /// `{"kind":"deployment",…}` or `{"kind":"esc",…}`, as in `tests/vectors/`.
    pub target: Value,
    /// Deployments: the operation presented (default `update`).
    #[serde(default)]
    pub operation: Option<String>,
    /// ESC: present the `<yaml>` subject, as an environment opened from a stack's
    /// config does (pulumi/pulumi#14509).
    #[serde(default)]
    pub yaml_subject: bool,
    /// Overrides, to make a token that must not be accepted.
    #[serde(default)]
    pub issuer: Option<String>,
    #[serde(default)]
    pub subject: Option<String>,
    #[serde(default)]
    pub audience: Option<String>,
    /// Lifetime from now; negative makes an expired token. Default 3600.
    #[serde(default)]
    pub expires_in_secs: Option<i64>,
    /// Sign with a key the issuer does not publish.
    #[serde(default)]
    pub foreign_key: bool,
}

impl MintRequest {
    /// A Deployments token for one stack and operation.
    pub fn deployment(org: &str, project: &str, stack: &str, operation: &str) -> Self {
        Self::new(
            json!({"kind": "deployment", "org": org, "project": project, "stack": stack}),
            Some(operation.to_owned()),
        )
    }

    /// An ESC token for `project/env` with the recommended `[currentEnvironment.name]`
    /// subject.
    pub fn esc(org: &str, project: &str, env: &str) -> Self {
        Self::new(
            json!({"kind": "esc", "org": org, "project": project, "env": env}),
            None,
        )
    }

    fn new(target: Value, operation: Option<String>) -> Self {
        Self {
            target,
            operation,
            yaml_subject: false,
            issuer: None,
            subject: None,
            audience: None,
            expires_in_secs: None,
            foreign_key: false,
        }
    }
}

/// Mint a token signed by the published key (or the foreign one when asked).
pub(crate) fn mint(
    keys: &IssuerKeys,
    default_issuer: &str,
    req: &MintRequest,
) -> Result<String, String> {
    let spec: TargetSpec =
        serde_json::from_value(req.target.clone()).map_err(|e| format!("invalid target: {e}"))?;
    let issuer = req
        .issuer
        .clone()
        .unwrap_or_else(|| default_issuer.to_owned());
    let (target, _) = spec.build().map_err(|e| e.to_string())?;
    // The subject and audience come from the target under the default issuer; an
    // override only replaces `iss`, so it may be anything a broken token could carry
    // (a trailing slash, another host) — the point of an override.
    let creds = target
        .credentials(&pulumi_azure_oidc::Issuer::new(default_issuer).map_err(|e| e.to_string())?)
        .map_err(|e| e.to_string())?;
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let exp = now + req.expires_in_secs.unwrap_or(3600);
    let mut claims = serde_json::Map::new();
    let (subject, audience) = match &spec {
        TargetSpec::Deployment {
            org,
            project,
            stack,
            ..
        } => {
            let op = Operation::parse(req.operation.as_deref().unwrap_or("update"))
                .map_err(|e| e.to_string())?;
            let suffix = format!(":operation:{}:scope:write", op.as_str());
            let cred = creds
                .credentials
                .iter()
                .find(|c| c.subject.ends_with(&suffix))
                .ok_or_else(|| format!("the target has no `{}` operation", op.as_str()))?;
            // The custom claims of a Deployments token (pulumi-oidc-facts.md §2.2).
            claims.insert("org".into(), json!(org));
            claims.insert("project".into(), json!(project));
            claims.insert("stack".into(), json!(stack));
            claims.insert("stackId".into(), json!(format!("{org}/{project}/{stack}")));
            claims.insert("operation".into(), json!(op.as_str()));
            claims.insert("deployment".into(), json!(1));
            claims.insert("scope".into(), json!("write"));
            (cred.subject.clone(), cred.audience.clone())
        }
        TargetSpec::Esc {
            project,
            env,
            user,
            root_env,
            ..
        } => {
            let cred = if req.yaml_subject {
                creds
                    .credentials
                    .iter()
                    .find(|c| c.subject.ends_with(":env:<yaml>"))
            } else {
                creds.credentials.first()
            }
            .ok_or("the target has no credential of that form")?;
            let current = if project == "default" {
                env.clone()
            } else {
                format!("{project}/{env}")
            };
            // The claims of an ESC vendor-login token (pulumi-oidc-facts.md §2.3).
            claims.insert("current_env".into(), json!(current));
            claims.insert(
                "root_env".into(),
                json!(root_env.clone().unwrap_or_else(|| current.clone())),
            );
            claims.insert(
                "trigger_user".into(),
                json!(user.clone().unwrap_or_else(|| "emulator-user".into())),
            );
            (cred.subject.clone(), cred.audience.clone())
        }
    };
    claims.insert("iss".into(), json!(issuer));
    claims.insert("sub".into(), json!(req.subject.clone().unwrap_or(subject)));
    claims.insert(
        "aud".into(),
        json!(req.audience.clone().unwrap_or(audience)),
    );
    claims.insert("iat".into(), json!(now.min(exp)));
    claims.insert("nbf".into(), json!(now.min(exp) - 5));
    claims.insert("exp".into(), json!(exp));
    claims.insert("jti".into(), json!(uuid::Uuid::new_v4().to_string()));
    let key = if req.foreign_key {
        keys.foreign()?
    } else {
        &keys.published
    };
    key.sign(&Value::Object(claims))
}
