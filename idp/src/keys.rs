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
    /// Signs the sign-in form's anti-forgery tokens; derived from the persisted key, so a restart
    /// does not turn every open sign-in form into an error.
    form_key: [u8; 32],
}

/// How long a sign-in form may stay open before its anti-forgery token is refused.
pub const FORM_TOKEN_LIFETIME_SECS: i64 = 3600;

type FormMac = hmac::Hmac<sha2::Sha256>;

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
        let form_key = {
            use sha2::Digest;
            sha2::Sha256::new()
                .chain_update(b"ciba-idp sign-in form tokens\0")
                .chain_update(pem.as_bytes())
                .finalize()
                .into()
        };
        Ok(Self {
            kid,
            encoding: EncodingKey::from_rsa_pem(pem.as_bytes())?,
            public: private.to_public_key(),
            form_key,
        })
    }

    /// A fresh anti-forgery token for a sign-in form: `issued.nonce.mac`. It needs no server-side
    /// state, so showing the form stores nothing (anonymous traffic cannot grow the session store).
    pub fn form_token(&self, now: i64) -> String {
        let payload = format!("{now}.{}", crate::oauth::random_token());
        format!(
            "{payload}.{}",
            URL_SAFE_NO_PAD.encode(self.form_mac(&payload))
        )
    }

    /// Whether `token` is one of ours and not older than [`FORM_TOKEN_LIFETIME_SECS`].
    pub fn verify_form_token(&self, token: &str, now: i64) -> bool {
        use hmac::Mac;
        let Some((payload, mac)) = token.rsplit_once('.') else {
            return false;
        };
        let Ok(mac) = URL_SAFE_NO_PAD.decode(mac) else {
            return false;
        };
        let issued = payload
            .split_once('.')
            .and_then(|(issued, _)| issued.parse::<i64>().ok());
        let fresh = issued.is_some_and(|at| (0..=FORM_TOKEN_LIFETIME_SECS).contains(&(now - at)));
        let mut expected =
            <FormMac as Mac>::new_from_slice(&self.form_key).expect("any key length");
        expected.update(payload.as_bytes());
        fresh && expected.verify_slice(&mac).is_ok()
    }

    fn form_mac(&self, payload: &str) -> Vec<u8> {
        use hmac::Mac;
        let mut mac = <FormMac as Mac>::new_from_slice(&self.form_key).expect("any key length");
        mac.update(payload.as_bytes());
        mac.finalize().into_bytes().to_vec()
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
