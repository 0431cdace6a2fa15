//! Stored feedback (Example as Knowledge): users confirm or reject matches through
//! `POST /api/v1/feedback`, and the newest examples become demonstrations of later requests.
//!
//! Each API key is a tenant: its examples are used for its own requests only, so nothing one
//! key sends changes another key's answers or slows them down. Per key and kind the newest
//! [`KEEP`] examples are held, as shared snapshots (a request takes a reference-counted
//! handle, not a copy of the store); one example is at most [`MAX_EXAMPLE_BYTES`]. A per-key
//! generation enters the result-cache key, so new feedback is never hidden by a cached answer
//! and never invalidates another key's.

use std::collections::HashMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tokio::sync::RwLock;

use crate::crypto::Cipher;
use crate::engine::{EntityExample, SchemaExample};
use crate::store::{Store, StoreError};

/// How many of a key's newest examples of each kind are used.
pub const KEEP: usize = 200;

/// Largest accepted example, as JSON (entity: both records; schema: both column names).
pub const MAX_EXAMPLE_BYTES: usize = 8 * 1024;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Example {
    Entity(EntityExample),
    Schema(SchemaExample),
}

impl Example {
    fn kind(&self) -> &'static str {
        match self {
            Example::Entity(_) => "entity",
            Example::Schema(_) => "schema",
        }
    }
}

/// One key's examples: immutable snapshots, replaced (not mutated) when feedback arrives.
#[derive(Clone, Default)]
pub struct KeyExamples {
    /// Entity examples, newest first.
    pub entity: Arc<Vec<EntityExample>>,
    /// Schema examples, newest first.
    pub schema: Arc<Vec<SchemaExample>>,
    /// Changes whenever this key's examples change (part of its cache keys).
    pub generation: u64,
}

impl KeyExamples {
    fn push(&mut self, ex: Example) {
        match ex {
            Example::Entity(e) => {
                let mut v = Vec::with_capacity(KEEP);
                v.push(e);
                v.extend(self.entity.iter().take(KEEP - 1).cloned());
                self.entity = Arc::new(v);
            }
            Example::Schema(s) => {
                let mut v = Vec::with_capacity(KEEP);
                v.push(s);
                v.extend(self.schema.iter().take(KEEP - 1).cloned());
                self.schema = Arc::new(v);
            }
        }
        self.generation += 1;
    }
}

#[derive(Clone)]
pub struct FeedbackStore {
    store: Store,
    cipher: Cipher,
    by_key: Arc<RwLock<HashMap<String, KeyExamples>>>,
}

impl FeedbackStore {
    /// Loads each key's newest stored examples.
    pub async fn load(store: Store, cipher: Cipher) -> Result<Self, StoreError> {
        let mut by_key: HashMap<String, (Vec<EntityExample>, Vec<SchemaExample>)> = HashMap::new();
        for kind in ["entity", "schema"] {
            for (key_id, tok) in store.list_feedback(kind, KEEP as i64).await? {
                let Ok(plain) = cipher.decrypt(&tok) else {
                    tracing::warn!("skipping feedback that does not decrypt with SECRET_KEY");
                    continue;
                };
                let slot = by_key.entry(key_id).or_default();
                match serde_json::from_slice::<Example>(&plain) {
                    Ok(Example::Entity(e)) => slot.0.push(e),
                    Ok(Example::Schema(s)) => slot.1.push(s),
                    Err(e) => tracing::warn!(error = %e, "skipping unreadable feedback"),
                }
            }
        }
        let by_key = by_key
            .into_iter()
            .map(|(k, (entity, schema))| {
                let ex = KeyExamples {
                    entity: Arc::new(entity),
                    schema: Arc::new(schema),
                    generation: 0,
                };
                (k, ex)
            })
            .collect();
        Ok(Self {
            store,
            cipher,
            by_key: Arc::new(RwLock::new(by_key)),
        })
    }

    /// This key's examples (cheap: shared snapshots).
    pub async fn for_key(&self, key_id: &str) -> KeyExamples {
        self.by_key
            .read()
            .await
            .get(key_id)
            .cloned()
            .unwrap_or_default()
    }

    /// Stores an example of this key (encrypted) and makes it one of the key's examples at
    /// once. The caller checks [`MAX_EXAMPLE_BYTES`] (it names the request's fields).
    pub async fn add(&self, key_id: &str, ex: Example) -> Result<String, StoreError> {
        let plain = serde_json::to_vec(&ex).map_err(|e| StoreError::Encode(e.to_string()))?;
        let id = self
            .store
            .insert_feedback(Some(key_id), ex.kind(), &self.cipher.encrypt(&plain))
            .await?;
        self.by_key
            .write()
            .await
            .entry(key_id.to_string())
            .or_default()
            .push(ex);
        Ok(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Record;

    fn record(name: &str) -> Record {
        serde_json::from_value(serde_json::json!({ "name": name })).unwrap()
    }

    fn entity(name: &str) -> Example {
        Example::Entity(EntityExample {
            left: record(name),
            right: record(name),
            is_match: true,
        })
    }

    async fn feedback_store(dir: &std::path::Path) -> (Store, FeedbackStore) {
        let cfg = crate::config::DatabaseConfig {
            data_dir: dir.to_path_buf(),
            ..Default::default()
        };
        let store = Store::connect(&cfg).await.unwrap();
        store.migrate().await.unwrap();
        let cipher = Cipher::from_secret("test-secret").unwrap();
        let fb = FeedbackStore::load(store.clone(), cipher).await.unwrap();
        (store, fb)
    }

    /// One key's feedback is its own: another key sees none of it, its generation does not
    /// move, and a restart (reload from the store) keeps the scoping.
    #[tokio::test]
    async fn examples_belong_to_the_key_that_gave_them() {
        let dir = tempfile::tempdir().unwrap();
        let (store, fb) = feedback_store(dir.path()).await;
        fb.add("key-a", entity("alpha")).await.unwrap();
        let a = fb.for_key("key-a").await;
        let b = fb.for_key("key-b").await;
        assert_eq!((a.entity.len(), a.generation), (1, 1));
        assert_eq!((b.entity.len(), b.generation), (0, 0));
        fb.add("key-b", entity("beta")).await.unwrap();
        assert_eq!(fb.for_key("key-a").await.generation, 1);

        let cipher = Cipher::from_secret("test-secret").unwrap();
        let reloaded = FeedbackStore::load(store, cipher).await.unwrap();
        let a = reloaded.for_key("key-a").await;
        assert_eq!(a.entity.len(), 1);
        assert_eq!(a.entity[0].left, record("alpha"));
        assert_eq!(
            reloaded.for_key("key-b").await.entity[0].left,
            record("beta")
        );
        assert!(reloaded.for_key("key-c").await.entity.is_empty());
    }

    /// A key holds its newest KEEP examples, newest first, in memory and after a reload; a
    /// snapshot taken before new feedback does not change under the request holding it.
    #[tokio::test]
    async fn a_key_keeps_its_newest_examples_only() {
        let dir = tempfile::tempdir().unwrap();
        let (store, fb) = feedback_store(dir.path()).await;
        let before = fb.for_key("k").await;
        for i in 0..KEEP + 5 {
            fb.add("k", entity(&format!("n{i}"))).await.unwrap();
        }
        assert!(before.entity.is_empty());
        let now = fb.for_key("k").await;
        assert_eq!(now.entity.len(), KEEP);
        assert_eq!(now.entity[0].left, record(&format!("n{}", KEEP + 4)));
        let cipher = Cipher::from_secret("test-secret").unwrap();
        let reloaded = FeedbackStore::load(store, cipher).await.unwrap();
        assert_eq!(reloaded.for_key("k").await.entity.len(), KEEP);
    }
}
