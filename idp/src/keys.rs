//! The provider's RS256 signing key and the JWKS that publishes it.
//!
//! RS256 because OpenID Connect Discovery requires every provider to support it, so any client library
//! can verify our ID tokens. The key is generated on first start and kept in the database: restarting
//! must not invalidate tokens clients already hold.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding};
use rsa::traits::PublicKeyParts;
use rsa::{RsaPrivateKey, RsaPublicKey};
use serde::Serialize;
use serde_json::{Value, json};

use crate::db::Db;

pub struct SigningKey {
    kid: String,
    encoding: EncodingKey,
    public: RsaPublicKey,
}

impl SigningKey {
    /// Loads the persisted key, generating and storing one the first time.
    pub async fn load_or_create(db: &Db, now: i64) -> anyhow::Result<Self> {
        let (kid, pem) = match db.signing_key().await? {
            Some(stored) => stored,
            None => {
                let private = RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048)?;
                let pem = private.to_pkcs8_pem(LineEnding::LF)?.to_string();
                let kid = uuid::Uuid::new_v4().simple().to_string();
                db.insert_signing_key(&kid, &pem, now).await?;
                tracing::info!(%kid, "generated a new signing key");
                (kid, pem)
            }
        };
        let private = RsaPrivateKey::from_pkcs8_pem(&pem)?;
        Ok(Self {
            kid,
            encoding: EncodingKey::from_rsa_pem(pem.as_bytes())?,
            public: private.to_public_key(),
        })
    }

    pub fn sign(&self, claims: &impl Serialize) -> anyhow::Result<String> {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(self.kid.clone());
        Ok(jsonwebtoken::encode(&header, claims, &self.encoding)?)
    }

    /// The public half as a JSON Web Key Set.
    pub fn jwks(&self) -> Value {
        let b64 = |bytes: Vec<u8>| URL_SAFE_NO_PAD.encode(bytes);
        json!({ "keys": [{
            "kty": "RSA",
            "use": "sig",
            "alg": "RS256",
            "kid": self.kid,
            "n": b64(self.public.n().to_bytes_be()),
            "e": b64(self.public.e().to_bytes_be()),
        }]})
    }
}
