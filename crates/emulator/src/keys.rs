//! The issuer's signing keys: the published one, served as JWKS and trusted by the
//! token endpoint, and a "foreign" one that is never published, for tokens Entra
//! must refuse with AADSTS7000272.
//!
//! RS256, because Entra federates only with issuers that sign with it ("Only issuers
//! that provide tokens signed using the RS256 algorithm are supported",
//! MicrosoftDocs/entra-docs `docs/workload-id/workload-identity-federation-considerations.md`).

use std::sync::{Arc, OnceLock};

use jsonwebtoken::jwk::{Jwk, JwkSet, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header};
use serde_json::Value;

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

    pub(crate) fn sign(&self, claims: &Value) -> Result<String, String> {
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
    foreign: OnceLock<Result<SigningKey, String>>,
}

impl IssuerKeys {
    pub(crate) fn generate() -> Result<Self, String> {
        Ok(Self {
            published: SigningKey::generate("emulator-key-1")?,
            foreign: OnceLock::new(),
        })
    }

    /// One key pair per process: RSA generation is the slowest part of a start, and
    /// tests start many emulators. Each emulator still trusts only its own issuers.
    pub(crate) fn shared() -> Result<Arc<Self>, String> {
        static KEYS: OnceLock<Arc<IssuerKeys>> = OnceLock::new();
        if let Some(k) = KEYS.get() {
            return Ok(k.clone());
        }
        let keys = Arc::new(Self::generate()?);
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
