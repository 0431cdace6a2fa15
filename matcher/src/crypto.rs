//! Secrets handling: API key generation and hashing, and the Fernet cipher that encrypts
//! stored payloads.
//!
//! The Fernet key is `urlsafe_b64encode(sha256(SECRET_KEY))`, so a Python client reads a
//! stored payload with:
//! `Fernet(base64.urlsafe_b64encode(hashlib.sha256(secret.encode()).digest())).decrypt(token)`.

use base64::Engine as _;
use base64::engine::general_purpose::{URL_SAFE, URL_SAFE_NO_PAD};
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Prefix of every API key this service issues.
pub const KEY_PREFIX: &str = "kcmf";

#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error("cannot decrypt stored payload (wrong SECRET_KEY or corrupted data)")]
    Decrypt,
    #[error("invalid Fernet key")]
    Key,
}

/// Derives the Fernet key (urlsafe base64 of 32 bytes) from the secret.
pub fn fernet_key(secret: &str) -> String {
    URL_SAFE.encode(Sha256::digest(secret.as_bytes()))
}

/// Encrypts and decrypts stored payloads.
#[derive(Clone)]
pub struct Cipher {
    inner: std::sync::Arc<fernet::Fernet>,
}

impl Cipher {
    pub fn from_secret(secret: &str) -> Result<Self, CryptoError> {
        let f = fernet::Fernet::new(&fernet_key(secret)).ok_or(CryptoError::Key)?;
        Ok(Self {
            inner: std::sync::Arc::new(f),
        })
    }

    pub fn encrypt(&self, plain: &[u8]) -> String {
        self.inner.encrypt(plain)
    }

    pub fn decrypt(&self, token: &str) -> Result<Vec<u8>, CryptoError> {
        self.inner.decrypt(token).map_err(|_| CryptoError::Decrypt)
    }
}

/// A freshly generated API key: `kcmf_<id>_<secret>`. Only `hash` is ever stored.
#[derive(Debug, Clone)]
pub struct NewKey {
    pub id: String,
    pub plain: String,
    pub hash: String,
}

/// Random URL-safe token of `bytes` random bytes.
pub fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    URL_SAFE_NO_PAD.encode(buf)
}

/// Generates a new API key with a CSPRNG.
pub fn generate_key() -> NewKey {
    let mut idb = [0u8; 6];
    rand::rng().fill_bytes(&mut idb);
    let id = hex::encode(idb);
    let plain = format!("{KEY_PREFIX}_{id}_{}", random_token(32));
    let hash = hash_key(&plain);
    NewKey { id, plain, hash }
}

/// SHA-256 of the key, hex. Keys carry 256 bits of entropy, so a fast hash is enough.
pub fn hash_key(plain: &str) -> String {
    hex::encode(Sha256::digest(plain.as_bytes()))
}

/// The id part of an issued key, if the key has our shape.
pub fn key_id(plain: &str) -> Option<&str> {
    let rest = plain.strip_prefix(KEY_PREFIX)?.strip_prefix('_')?;
    let (id, secret) = rest.split_once('_')?;
    (!id.is_empty() && !secret.is_empty()).then_some(id)
}

/// Constant-time comparison of two hashes.
pub fn hashes_equal(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

/// Stable hash of a string, hex (cache keys, request hashes).
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_roundtrip() {
        let k = generate_key();
        assert_eq!(key_id(&k.plain), Some(k.id.as_str()));
        assert!(hashes_equal(&hash_key(&k.plain), &k.hash));
        assert!(!hashes_equal(&hash_key("kcmf_x_y"), &k.hash));
        assert_ne!(generate_key().plain, k.plain);
    }

    #[test]
    fn key_id_rejects_foreign_shapes() {
        assert_eq!(key_id("abc"), None);
        assert_eq!(key_id("kcmf__x"), None);
        assert_eq!(key_id("kcmf_id_"), None);
    }

    #[test]
    fn fernet_roundtrip_and_wrong_key() {
        let c = Cipher::from_secret("s3cret").unwrap();
        let t = c.encrypt(b"{\"a\":1}");
        assert!(!t.contains("\"a\""));
        assert_eq!(c.decrypt(&t).unwrap(), b"{\"a\":1}");
        let other = Cipher::from_secret("other").unwrap();
        assert!(other.decrypt(&t).is_err());
    }
}
