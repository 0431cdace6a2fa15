//! Secret material: which keys the generated Secret must hold, filling them once from an
//! injected random source, and which user Secrets the workloads read (so a change to one
//! rolls them).

use std::collections::BTreeMap;

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use rand::Rng;

use super::meta::meta;
use super::names;
use crate::crd::SecretKeyRef;
use crate::validate::{Datastore, Validated};

/// Keys of the generated Secret.
pub mod keys {
    /// Payload encryption secret of the matcher.
    pub const SECRET_KEY: &str = "SECRET_KEY";
    /// Comma-separated client API keys.
    pub const API_KEYS: &str = "VALID_API_KEYS";
    /// Password of managed PostgreSQL.
    pub const POSTGRES_PASSWORD: &str = "POSTGRES_PASSWORD";
    /// Password of managed Redis.
    pub const REDIS_PASSWORD: &str = "REDIS_PASSWORD";
}

/// Secret material gathered from the cluster and completed before building.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SecretInputs {
    /// Full data of the `<name>-generated` Secret: the existing keys plus freshly generated
    /// ones for keys that were missing. Existing values are never replaced.
    pub generated: BTreeMap<String, String>,
    /// Values of user-referenced secret keys that the matcher uses, keyed `secret/key`
    /// (only hashed into the pod template, never written anywhere).
    pub referenced: BTreeMap<String, String>,
}

/// Keys the generated Secret must hold for this spec.
pub fn required_generated_keys(v: &Validated) -> Vec<&'static str> {
    let mut k = Vec::new();
    if v.matcher.secret_key_secret_ref.is_none() {
        k.push(keys::SECRET_KEY);
    }
    if v.matcher.api_keys_secret_ref.is_none() {
        k.push(keys::API_KEYS);
    }
    if let Datastore::Managed(m) = &v.postgres
        && m.password_secret_ref.is_none()
    {
        k.push(keys::POSTGRES_PASSWORD);
    }
    if let Datastore::Managed(m) = &v.redis
        && m.password_secret_ref.is_none()
    {
        k.push(keys::REDIS_PASSWORD);
    }
    k
}

/// User-provided secret keys the workloads read (hashed into the pod template).
pub fn referenced_secret_keys(v: &Validated) -> Vec<SecretKeyRef> {
    let m = &v.matcher;
    let mut refs: Vec<SecretKeyRef> = [
        m.secret_key_secret_ref.clone(),
        m.api_keys_secret_ref.clone(),
        m.llm.api_key_secret_ref.clone(),
    ]
    .into_iter()
    .flatten()
    .collect();
    for ds in [&v.redis, &v.postgres] {
        match ds {
            Datastore::Managed(m) => refs.extend(m.password_secret_ref.clone()),
            Datastore::External(e) => refs.push(e.url_secret_ref.clone()),
        }
    }
    refs
}

/// Whether the workloads read a key of the user's Secret `name` (in the object's
/// namespace): a change to it must roll them, so the operator watches Secrets.
pub fn references_secret(v: &Validated, name: &str) -> bool {
    referenced_secret_keys(v).iter().any(|r| r.name == name)
}

/// Complete the generated Secret's data: keep every existing key, generate the missing
/// required ones from `rng` (a CSPRNG in production).
pub fn fill_generated(
    existing: &BTreeMap<String, String>,
    required: &[&str],
    rng: &mut impl Rng,
) -> BTreeMap<String, String> {
    let mut out = existing.clone();
    for key in required {
        if !out.contains_key(*key) {
            let value = match *key {
                keys::API_KEYS => format!("kcmf_{}", random_alnum(rng, 40)),
                keys::SECRET_KEY => random_alnum(rng, 64),
                _ => random_alnum(rng, 32),
            };
            out.insert((*key).to_string(), value);
        }
    }
    out
}

fn random_alnum(rng: &mut impl Rng, len: usize) -> String {
    rng.sample_iter(rand::distr::Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

/// The `<name>-generated` Secret.
pub fn generated_secret(v: &Validated, data: &BTreeMap<String, String>) -> Secret {
    Secret {
        metadata: meta(v, names::secret(&v.name), "secrets"),
        type_: Some("Opaque".into()),
        data: Some(
            data.iter()
                .map(|(k, val)| (k.clone(), ByteString(val.as_bytes().to_vec())))
                .collect(),
        ),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::build::testing::*;
    use crate::build::*;

    use rand::SeedableRng;
    use rand::rngs::StdRng;
    use std::collections::BTreeMap;

    use serde_json::json;

    #[test]
    fn secret_references_are_what_the_workloads_read() {
        let v = v(serde_json::json!({
            "matcher": {"llm": {"apiKeySecretRef": {"name": "llm-key", "key": "token"}}},
            "redis": {"external": {"urlSecretRef": {"name": "urls", "key": "redis"}}}
        }));
        assert!(references_secret(&v, "llm-key"));
        assert!(references_secret(&v, "urls"));
        // the generated Secret is the operator's own; other Secrets are not read
        assert!(!references_secret(&v, &names::secret("demo")));
        assert!(!references_secret(&v, "unrelated"));
    }

    #[test]
    fn generated_secrets_are_filled_once_and_never_replaced() {
        let v = v(json!({}));
        let req = required_generated_keys(&v);
        assert_eq!(
            req,
            vec![
                keys::SECRET_KEY,
                keys::API_KEYS,
                keys::POSTGRES_PASSWORD,
                keys::REDIS_PASSWORD
            ]
        );
        let first = fill_generated(&BTreeMap::new(), &req, &mut StdRng::seed_from_u64(1));
        assert_eq!(first.len(), 4);
        assert_eq!(first[keys::SECRET_KEY].len(), 64);
        assert!(first[keys::API_KEYS].starts_with("kcmf_"));
        assert!(first.values().all(|s| {
            s.trim_start_matches("kcmf_")
                .chars()
                .all(|c| c.is_ascii_alphanumeric())
        }));
        // A different random source must not change existing values.
        let again = fill_generated(&first, &req, &mut StdRng::seed_from_u64(2));
        assert_eq!(first, again);
        // Keys no longer required are kept too (switching to external keeps the old password).
        let mut partial = first.clone();
        partial.remove(keys::REDIS_PASSWORD);
        let refilled = fill_generated(&partial, &req[..2], &mut StdRng::seed_from_u64(3));
        assert_eq!(
            refilled.get(keys::POSTGRES_PASSWORD),
            first.get(keys::POSTGRES_PASSWORD)
        );
        assert!(!refilled.contains_key(keys::REDIS_PASSWORD));
        // Secret objects carry `data` only (stringData would make every apply a change).
        let s = generated_secret(&v, &first);
        assert!(s.string_data.is_none());
        assert_eq!(
            s.data.as_ref().unwrap()[keys::SECRET_KEY].0,
            first[keys::SECRET_KEY].as_bytes()
        );
    }

    #[test]
    fn user_secret_references_win() {
        let v = v(json!({
            "matcher": {
                "apiKeysSecretRef": {"name": "mine", "key": "keys"},
                "secretKeySecretRef": {"name": "mine", "key": "secret"},
                "llm": {"provider": "openai", "apiKeySecretRef": {"name": "llm", "key": "token"}}
            },
            "postgres": {"managed": {"passwordSecretRef": {"name": "pg", "key": "pw"}}}
        }));
        assert_eq!(required_generated_keys(&v), vec![keys::REDIS_PASSWORD]);
        let refs = referenced_secret_keys(&v);
        assert_eq!(refs.len(), 4);
        let d = build(&v, &inputs(&v)).unwrap();
        let c = &deployment(&d)
            .spec
            .as_ref()
            .unwrap()
            .template
            .spec
            .as_ref()
            .unwrap()
            .containers[0];
        let env = env_of(c);
        let sref = |n: &str| {
            env[n]
                .value_from
                .as_ref()
                .unwrap()
                .secret_key_ref
                .clone()
                .unwrap()
        };
        assert_eq!(
            (sref("VALID_API_KEYS").name, sref("VALID_API_KEYS").key),
            ("mine".into(), "keys".into())
        );
        assert_eq!(sref("SECRET_KEY").key, "secret");
        assert_eq!(sref("OPENAI_API_KEY").name, "llm");
        assert_eq!(sref("POSTGRES_PASSWORD").name, "pg");
        assert_eq!(sref("REDIS_PASSWORD").name, "demo-generated");
    }
}
