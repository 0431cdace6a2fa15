//! API-key authentication: key lookup (store keys by id, then a constant-time hash
//! comparison; `VALID_API_KEYS` from the environment), and a short-lived cache of
//! successful lookups so the hot path does not hit the store. A revoked key stops working
//! within [`AUTH_CACHE_TTL`]. The middleware that guards `/api/v1/*` with it is
//! [`crate::api::middleware::require_key`]; this module knows nothing of HTTP state.

use std::sync::Arc;
use std::time::Duration;

use crate::crypto::{hash_key, hashes_equal, key_id};
use crate::store::{Store, StoreError};

/// How long a successful key lookup is trusted before the store is asked again.
pub const AUTH_CACHE_TTL: Duration = Duration::from_secs(2);

/// Who is calling: attached to the request by the middleware.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub key_id: String,
    pub role: Role,
    /// The key's project, if any: its feedback examples are shared with the project's
    /// other keys (see [`crate::feedback`]).
    pub project: Option<String>,
}

impl Caller {
    /// Whose feedback examples this caller sees and adds to.
    pub fn tenant(&self) -> String {
        crate::store::tenant_of(&self.key_id, self.project.as_deref())
    }
}

/// Longest project name.
pub const MAX_PROJECT_LEN: usize = 64;

/// A project name: 1 to [`MAX_PROJECT_LEN`] ASCII letters, digits, `.`, `_` or `-`,
/// starting with a letter or digit (it appears in logs, CLI tables and URLs unquoted).
pub fn check_project(name: &str) -> Result<(), String> {
    let ok_start = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric());
    let ok_chars = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if name.len() > MAX_PROJECT_LEN || !ok_start || !ok_chars {
        return Err(format!(
            "a project name is 1 to {MAX_PROJECT_LEN} ASCII letters, digits, `.`, `_` or `-`, \
             starting with a letter or digit; got {name:?}"
        ));
    }
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Admin,
    User,
}

impl Role {
    pub fn as_str(&self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::User => "user",
        }
    }
    pub fn parse(s: &str) -> Role {
        if s == "admin" {
            Role::Admin
        } else {
            Role::User
        }
    }
}

#[derive(Clone)]
pub struct Authenticator {
    store: Store,
    header: axum::http::HeaderName,
    /// (id, hash) of the keys given in `VALID_API_KEYS`.
    static_keys: Arc<Vec<(String, String)>>,
    cache: moka::future::Cache<String, Caller>,
}

impl Authenticator {
    pub fn new(store: Store, header: axum::http::HeaderName, static_keys: &[String]) -> Self {
        let static_keys = static_keys
            .iter()
            .map(|k| {
                let h = hash_key(k);
                (format!("env-{}", &h[..12]), h)
            })
            .collect();
        Self {
            store,
            header,
            static_keys: Arc::new(static_keys),
            cache: moka::future::Cache::builder()
                .max_capacity(10_000)
                .time_to_live(AUTH_CACHE_TTL)
                .build(),
        }
    }

    pub fn header(&self) -> &axum::http::HeaderName {
        &self.header
    }

    /// Resolves a presented key to a caller, or `None` when it is not valid.
    pub async fn authenticate(&self, presented: &str) -> Result<Option<Caller>, StoreError> {
        let h = hash_key(presented);
        if let Some(c) = self.cache.get(&h).await {
            return Ok(Some(c));
        }
        let mut found = None;
        for (id, sh) in self.static_keys.iter() {
            if hashes_equal(sh, &h) {
                found = Some(Caller {
                    key_id: id.clone(),
                    role: Role::Admin,
                    project: None,
                });
            }
        }
        if found.is_none()
            && let Some(id) = key_id(presented)
            && let Some(row) = self.store.find_key(id).await?
            && row.revoked_at.is_none()
            && hashes_equal(&row.key_hash, &h)
        {
            found = Some(Caller {
                key_id: row.id,
                role: Role::parse(&row.role),
                project: row.project,
            });
        }
        if let Some(c) = &found {
            self.cache.insert(h, c.clone()).await;
        }
        Ok(found)
    }

    /// Drops cached lookups (after a revocation through the API).
    pub fn invalidate_all(&self) {
        self.cache.invalidate_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_names_are_checked() {
        for ok in ["etl", "team-a.prod_2", "A", &"p".repeat(MAX_PROJECT_LEN)] {
            assert!(check_project(ok).is_ok(), "{ok:?}");
        }
        for bad in [
            "",
            "-a",
            ".a",
            "a b",
            "a/b",
            "é",
            &"p".repeat(MAX_PROJECT_LEN + 1),
        ] {
            assert!(check_project(bad).is_err(), "{bad:?}");
        }
    }
}
