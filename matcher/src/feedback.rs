//! Stored feedback (Example as Knowledge): users confirm or reject matches through
//! `POST /api/v1/feedback`; the newest examples are kept in memory and added to every
//! request's demonstrations. A generation counter enters the result-cache key, so new
//! feedback is never hidden by a cached answer.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};
use tokio::sync::RwLock;

use crate::crypto::Cipher;
use crate::engine::{EntityExample, SchemaExample};
use crate::store::{Store, StoreError};

/// How many of the newest examples of each kind are used.
pub const KEEP: usize = 500;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Example {
    Entity(EntityExample),
    Schema(SchemaExample),
}

#[derive(Default)]
struct Inner {
    entity: Vec<EntityExample>,
    schema: Vec<SchemaExample>,
}

#[derive(Clone)]
pub struct FeedbackStore {
    store: Store,
    cipher: Cipher,
    inner: Arc<RwLock<Inner>>,
    generation: Arc<AtomicU64>,
}

impl FeedbackStore {
    /// Loads the newest stored examples.
    pub async fn load(store: Store, cipher: Cipher) -> Result<Self, StoreError> {
        let mut inner = Inner::default();
        for kind in ["entity", "schema"] {
            for tok in store.list_feedback(kind, KEEP as i64).await? {
                let Ok(plain) = cipher.decrypt(&tok) else {
                    tracing::warn!("skipping feedback that does not decrypt with SECRET_KEY");
                    continue;
                };
                match serde_json::from_slice::<Example>(&plain) {
                    Ok(Example::Entity(e)) => inner.entity.push(e),
                    Ok(Example::Schema(s)) => inner.schema.push(s),
                    Err(e) => tracing::warn!(error = %e, "skipping unreadable feedback"),
                }
            }
        }
        Ok(Self {
            store,
            cipher,
            inner: Arc::new(RwLock::new(inner)),
            generation: Arc::new(AtomicU64::new(0)),
        })
    }

    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Relaxed)
    }

    /// Stores an example (encrypted) and makes it available at once.
    pub async fn add(&self, key_id: Option<&str>, ex: Example) -> Result<String, StoreError> {
        let plain = serde_json::to_vec(&ex).map_err(|e| StoreError::Encode(e.to_string()))?;
        let kind = match ex {
            Example::Entity(_) => "entity",
            Example::Schema(_) => "schema",
        };
        let id = self
            .store
            .insert_feedback(key_id, kind, &self.cipher.encrypt(&plain))
            .await?;
        let mut g = self.inner.write().await;
        match ex {
            Example::Entity(e) => {
                g.entity.insert(0, e);
                g.entity.truncate(KEEP);
            }
            Example::Schema(s) => {
                g.schema.insert(0, s);
                g.schema.truncate(KEEP);
            }
        }
        self.generation.fetch_add(1, Ordering::Relaxed);
        Ok(id)
    }

    pub async fn entity_examples(&self) -> Vec<EntityExample> {
        self.inner.read().await.entity.clone()
    }

    pub async fn schema_examples(&self) -> Vec<SchemaExample> {
        self.inner.read().await.schema.clone()
    }
}
