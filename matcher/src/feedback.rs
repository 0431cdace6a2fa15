//! Stored feedback (Example as Knowledge): users confirm or reject matches through
//! `POST /api/v1/feedback`, and the newest examples become demonstrations of later requests.
//!
//! Examples belong to a tenant, so that nothing one tenant sends changes another's answers
//! or slows them down. A tenant is a named project (its keys share their examples: what one
//! member confirms is used for every member's requests; an admin puts keys into projects) or
//! a key outside any project. Rows keep the key that gave them and the tenant is resolved
//! when they are loaded ([`crate::store::Store::list_feedback`]), so a key that moves into
//! or out of a project takes its examples with it: [`FeedbackStore::reload`] rebuilds the
//! two tenants concerned.
//!
//! Per tenant and kind the newest [`KEEP`] examples are held, as shared snapshots (a
//! request takes a reference-counted handle, not a copy); one example is at most
//! [`MAX_EXAMPLE_BYTES`]. A snapshot also holds the trigrams the engine ranks examples by
//! to pick each pair's nearest ([`StoredExamples`]), built by the first request that needs
//! them and carried into the next snapshot: a request compares, it does not re-read 200
//! examples (at most 8 bytes per distinct trigram, so at most 8x the examples' text). Each snapshot has a generation, unique to this process's life
//! (seeded from the clock at start), that enters the result-cache key: new feedback or a
//! move is never hidden by a cached answer, never invalidates another tenant's, and an
//! answer cached before a restart is not served against the examples loaded after it.

use std::collections::HashMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::sync::{Mutex, RwLock};

use crate::auth::Caller;
use crate::crypto::Cipher;
use crate::engine::knowledge::StoredExamples;
use crate::engine::{EntityExample, SchemaExample};
use crate::store::{Store, StoreError};

/// How many of a tenant's newest examples of each kind are used.
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

/// One tenant's examples: immutable snapshots, replaced (not mutated) when feedback arrives.
#[derive(Clone, Default)]
pub struct KeyExamples {
    /// Entity examples, newest first, with their trigram index (built on first use).
    pub entity: Arc<StoredExamples<EntityExample>>,
    /// Schema examples, newest first, with their trigram index.
    pub schema: Arc<StoredExamples<SchemaExample>>,
    /// Changes whenever this tenant's examples change (part of its members' cache keys):
    /// see [`generation_of`]; 0 for a tenant with no example.
    pub generation: u64,
    /// The ids of the entity, then schema examples, in their order (what the generation
    /// is computed from).
    ids: Arc<(Vec<String>, Vec<String>)>,
}

/// The generation of a snapshot: a digest of its examples' ids (unique row ids), entity
/// then schema, in order; 0 for none.
fn generation_of(entity_ids: &[String], schema_ids: &[String]) -> u64 {
    if entity_ids.is_empty() && schema_ids.is_empty() {
        return 0;
    }
    let mut h = Sha256::new();
    for (kind, ids) in [("entity", entity_ids), ("schema", schema_ids)] {
        h.update(kind.as_bytes());
        for id in ids {
            h.update([0]);
            h.update(id.as_bytes());
        }
        h.update([1]);
    }
    let d = h.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&d[..8]);
    u64::from_be_bytes(first).max(1)
}

impl KeyExamples {
    fn push(&mut self, id: String, ex: Example) {
        let (mut entity_ids, mut schema_ids) = (*self.ids).clone();
        let front = |ids: &mut Vec<String>| {
            ids.insert(0, id);
            ids.truncate(KEEP);
        };
        match ex {
            Example::Entity(e) => {
                self.entity = Arc::new(self.entity.pushed_front(e, KEEP));
                front(&mut entity_ids);
            }
            Example::Schema(s) => {
                self.schema = Arc::new(self.schema.pushed_front(s, KEEP));
                front(&mut schema_ids);
            }
        }
        self.generation = generation_of(&entity_ids, &schema_ids);
        self.ids = Arc::new((entity_ids, schema_ids));
    }
}

#[derive(Clone)]
pub struct FeedbackStore {
    store: Store,
    cipher: Cipher,
    by_tenant: Arc<RwLock<HashMap<String, KeyExamples>>>,
    /// The tenant each key that gave feedback was counted under when its tenant was last
    /// built: a caller whose project differs (moved by the CLI or another process) has the
    /// two tenants rebuilt before its request.
    counted_under: Arc<RwLock<HashMap<String, String>>>,
    /// Serializes writers (feedback added, tenants rebuilt): a rebuild reads the store, and
    /// an example added meanwhile must not be dropped by the rebuilt snapshot.
    writers: Arc<Mutex<()>>,
}

/// One tenant's examples as read from the store: `(id, example)`, newest first.
#[derive(Default)]
struct Read {
    entity: Vec<(String, EntityExample)>,
    schema: Vec<(String, SchemaExample)>,
}

/// Examples read from the store, grouped by tenant.
type Loaded = HashMap<String, Read>;

impl FeedbackStore {
    /// Loads each tenant's newest stored examples.
    pub async fn load(store: Store, cipher: Cipher) -> Result<Self, StoreError> {
        let fb = Self {
            store,
            cipher,
            by_tenant: Arc::default(),
            counted_under: Arc::default(),
            writers: Arc::default(),
        };
        let loaded = fb.read(None).await?;
        let mut map = HashMap::new();
        for (tenant, read) in loaded {
            map.insert(tenant, snapshot(read));
        }
        *fb.by_tenant.write().await = map;
        *fb.counted_under.write().await = fb.store.feedback_keys().await?;
        Ok(fb)
    }

    /// Reads the newest examples of every tenant, or of one.
    async fn read(&self, tenant: Option<&str>) -> Result<Loaded, StoreError> {
        let mut out: Loaded = HashMap::new();
        if let Some(t) = tenant {
            out.insert(t.to_string(), Default::default());
        }
        for kind in ["entity", "schema"] {
            for row in self.store.list_feedback(kind, KEEP as i64, tenant).await? {
                let Ok(plain) = self.cipher.decrypt(&row.payload_enc) else {
                    tracing::warn!("skipping feedback that does not decrypt with SECRET_KEY");
                    continue;
                };
                let slot = out.entry(row.tenant).or_default();
                match serde_json::from_slice::<Example>(&plain) {
                    Ok(Example::Entity(e)) => slot.entity.push((row.id, e)),
                    Ok(Example::Schema(s)) => slot.schema.push((row.id, s)),
                    Err(e) => tracing::warn!(error = %e, "skipping unreadable feedback"),
                }
            }
        }
        Ok(out)
    }

    /// Rebuilds the given tenants from the store (after a key moved between them).
    pub async fn reload(&self, tenants: &[String]) -> Result<(), StoreError> {
        let _w = self.writers.lock().await;
        self.reload_locked(tenants).await
    }

    async fn reload_locked(&self, tenants: &[String]) -> Result<(), StoreError> {
        let mut fresh = Vec::new();
        for t in tenants {
            let read = self.read(Some(t)).await?.remove(t).unwrap_or_default();
            fresh.push((t.clone(), snapshot(read)));
        }
        // only the keys counted in the rebuilt tenants: another tenant, not rebuilt, still
        // holds the examples of a key that left it, and that key's next call must see so
        let members = self.store.feedback_keys().await?;
        let mut map = self.by_tenant.write().await;
        for (t, ex) in fresh {
            map.insert(t, ex);
        }
        drop(map);
        let mut counted = self.counted_under.write().await;
        for (key, t) in members {
            if tenants.contains(&t) {
                counted.insert(key, t);
            }
        }
        Ok(())
    }

    /// Rebuilds the caller's old and new tenants when its project changed since its
    /// examples were counted (a move made by the CLI or by another process).
    async fn follow_move(&self, caller: &Caller, tenant: &str) -> Result<(), StoreError> {
        let before = self.counted_under.read().await.get(&caller.key_id).cloned();
        if let Some(before) = before
            && before != tenant
        {
            tracing::info!(key_id = %caller.key_id, from = %before, to = %tenant,
                "key moved between tenants elsewhere; rebuilding their examples");
            self.reload(&[before, tenant.to_string()]).await?;
        }
        Ok(())
    }

    /// The examples this caller sees: its project's, or its own outside any (cheap: shared
    /// snapshots).
    pub async fn for_caller(&self, caller: &Caller) -> Result<KeyExamples, StoreError> {
        let tenant = caller.tenant();
        self.follow_move(caller, &tenant).await?;
        Ok(self.for_tenant(&tenant).await)
    }

    /// One tenant's examples (see [`crate::store::tenant_of`]).
    pub async fn for_tenant(&self, tenant: &str) -> KeyExamples {
        self.by_tenant
            .read()
            .await
            .get(tenant)
            .cloned()
            .unwrap_or_default()
    }

    /// Stores an example given by this caller (encrypted, with its key id) and makes it
    /// one of its tenant's examples at once. The caller checks [`MAX_EXAMPLE_BYTES`] (it
    /// names the request's fields).
    pub async fn add(&self, caller: &Caller, ex: Example) -> Result<String, StoreError> {
        let tenant = caller.tenant();
        self.follow_move(caller, &tenant).await?;
        let plain = serde_json::to_vec(&ex).map_err(|e| StoreError::Encode(e.to_string()))?;
        let _w = self.writers.lock().await;
        let id = self
            .store
            .insert_feedback(
                Some(&caller.key_id),
                ex.kind(),
                &self.cipher.encrypt(&plain),
            )
            .await?;
        self.by_tenant
            .write()
            .await
            .entry(tenant.clone())
            .or_default()
            .push(id.clone(), ex);
        self.counted_under
            .write()
            .await
            .insert(caller.key_id.clone(), tenant);
        Ok(id)
    }
}

/// The entity examples of the tenant `key_id` belongs to now, newest first (at most
/// [`KEEP`]), read from the store: what a job's dedup and link chunks use. A worker may run
/// in another process than the API that took the feedback, so it reads the store rather
/// than a [`FeedbackStore`] snapshot; one query per chunk.
pub async fn entity_examples_of_key(
    store: &Store,
    cipher: &Cipher,
    key_id: &str,
) -> Result<Vec<EntityExample>, StoreError> {
    let tenant = store.key_tenant(key_id).await?;
    let mut out = Vec::new();
    for row in store
        .list_feedback("entity", KEEP as i64, Some(&tenant))
        .await?
    {
        let Ok(plain) = cipher.decrypt(&row.payload_enc) else {
            tracing::warn!("skipping feedback that does not decrypt with SECRET_KEY");
            continue;
        };
        match serde_json::from_slice::<Example>(&plain) {
            Ok(Example::Entity(e)) => out.push(e),
            Ok(Example::Schema(_)) => {}
            Err(e) => tracing::warn!(error = %e, "skipping unreadable feedback"),
        }
    }
    Ok(out)
}

/// A tenant's snapshot of the examples read from the store.
fn snapshot(read: Read) -> KeyExamples {
    let (entity_ids, entity): (Vec<String>, Vec<EntityExample>) = read.entity.into_iter().unzip();
    let (schema_ids, schema): (Vec<String>, Vec<SchemaExample>) = read.schema.into_iter().unzip();
    KeyExamples {
        entity: Arc::new(StoredExamples::new(entity)),
        schema: Arc::new(StoredExamples::new(schema)),
        generation: generation_of(&entity_ids, &schema_ids),
        ids: Arc::new((entity_ids, schema_ids)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Role;
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

    fn caller(id: &str, project: Option<&str>) -> Caller {
        Caller {
            key_id: id.into(),
            role: Role::User,
            project: project.map(str::to_string),
        }
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
        let (ka, kb) = (caller("key-a", None), caller("key-b", None));
        fb.add(&ka, entity("alpha")).await.unwrap();
        let a = fb.for_caller(&ka).await.unwrap();
        let b = fb.for_caller(&kb).await.unwrap();
        assert_eq!(a.entity.len(), 1);
        assert_ne!(a.generation, 0);
        assert_eq!((b.entity.len(), b.generation), (0, 0));
        fb.add(&kb, entity("beta")).await.unwrap();
        assert_eq!(fb.for_caller(&ka).await.unwrap().generation, a.generation);

        let cipher = Cipher::from_secret("test-secret").unwrap();
        let reloaded = FeedbackStore::load(store, cipher).await.unwrap();
        let a2 = reloaded.for_caller(&ka).await.unwrap();
        assert_eq!(a2.entity.len(), 1);
        assert_eq!(a2.entity[0].left, record("alpha"));
        assert_eq!(
            a2.generation, a.generation,
            "the same examples after a restart: the same generation (cached answers hold)"
        );
        assert_eq!(
            reloaded.for_caller(&kb).await.unwrap().entity[0].left,
            record("beta")
        );
        assert!(
            reloaded
                .for_caller(&caller("key-c", None))
                .await
                .unwrap()
                .entity
                .is_empty()
        );
    }

    /// A tenant holds its newest KEEP examples, newest first, in memory and after a reload;
    /// a snapshot taken before new feedback does not change under the request holding it.
    #[tokio::test]
    async fn a_key_keeps_its_newest_examples_only() {
        let dir = tempfile::tempdir().unwrap();
        let (store, fb) = feedback_store(dir.path()).await;
        let k = caller("k", None);
        let before = fb.for_caller(&k).await.unwrap();
        for i in 0..KEEP + 5 {
            fb.add(&k, entity(&format!("n{i}"))).await.unwrap();
        }
        assert!(before.entity.is_empty());
        let now = fb.for_caller(&k).await.unwrap();
        assert_eq!(now.entity.len(), KEEP);
        assert_eq!(now.entity[0].left, record(&format!("n{}", KEEP + 4)));
        let cipher = Cipher::from_secret("test-secret").unwrap();
        let reloaded = FeedbackStore::load(store, cipher).await.unwrap();
        let again = reloaded.for_caller(&k).await.unwrap();
        assert_eq!(again.entity.len(), KEEP);
        assert_eq!(
            again.generation, now.generation,
            "in memory and reloaded: the same newest KEEP, in the same order"
        );
    }

    /// Keys of one project share their examples (also after a restart), up to KEEP for
    /// the whole project; a key moved out by another process (here: the store directly)
    /// takes its examples along on its next call, and the project's generation moves.
    #[tokio::test]
    async fn a_project_shares_examples_and_a_moved_key_takes_its_own() {
        let dir = tempfile::tempdir().unwrap();
        let (store, fb) = feedback_store(dir.path()).await;
        for id in ["a", "b", "c"] {
            store
                .insert_key_in(id, id, "h", "user", Some("p"))
                .await
                .unwrap();
        }
        let (a, b, c) = (
            caller("a", Some("p")),
            caller("b", Some("p")),
            caller("c", Some("p")),
        );
        fb.add(&a, entity("from-a")).await.unwrap();
        fb.add(&c, entity("from-c")).await.unwrap();
        let seen = fb.for_caller(&b).await.unwrap();
        assert_eq!(seen.entity.len(), 2);
        assert!(
            fb.for_caller(&caller("x", None))
                .await
                .unwrap()
                .entity
                .is_empty()
        );

        let cipher = Cipher::from_secret("test-secret").unwrap();
        let reloaded = FeedbackStore::load(store.clone(), cipher).await.unwrap();
        assert_eq!(reloaded.for_caller(&b).await.unwrap().entity.len(), 2);

        // `c` leaves the project behind the feedback store's back
        assert_eq!(
            store.set_key_project("c", None).await.unwrap(),
            Some(Some("p".into()))
        );
        let c_out = caller("c", None);
        let own = fb.for_caller(&c_out).await.unwrap();
        assert_eq!(own.entity.len(), 1);
        assert_eq!(own.entity[0].left, record("from-c"));
        let left = fb.for_caller(&b).await.unwrap();
        assert_eq!(left.entity.len(), 1);
        assert_eq!(left.entity[0].left, record("from-a"));
        assert_ne!(left.generation, seen.generation);
    }

    /// What a job worker reads for a job's key: its tenant's entity examples, newest first,
    /// from the store (a project's members share them; a key outside, or one known only
    /// from `VALID_API_KEYS`, has its own; schema examples are not among them), resolved
    /// when asked: a key moved since gets its new tenant's.
    #[tokio::test]
    async fn a_jobs_examples_are_its_keys_tenants() {
        let dir = tempfile::tempdir().unwrap();
        let (store, fb) = feedback_store(dir.path()).await;
        for (id, project) in [("a", Some("p")), ("b", Some("p")), ("c", None)] {
            store
                .insert_key_in(id, id, "h", "user", project)
                .await
                .unwrap();
        }
        fb.add(&caller("a", Some("p")), entity("from-a"))
            .await
            .unwrap();
        fb.add(&caller("b", Some("p")), entity("from-b"))
            .await
            .unwrap();
        fb.add(&caller("c", None), entity("from-c")).await.unwrap();
        fb.add(&caller("env", None), entity("from-env"))
            .await
            .unwrap();
        fb.add(
            &caller("b", Some("p")),
            Example::Schema(SchemaExample {
                source: "x".into(),
                target: "y".into(),
                is_match: true,
            }),
        )
        .await
        .unwrap();
        let cipher = Cipher::from_secret("test-secret").unwrap();
        let names =
            |v: Vec<EntityExample>| -> Vec<Record> { v.into_iter().map(|e| e.left).collect() };
        let of = |k: &'static str| {
            let (store, cipher) = (store.clone(), cipher.clone());
            async move { entity_examples_of_key(&store, &cipher, k).await.unwrap() }
        };
        assert_eq!(
            names(of("a").await),
            vec![record("from-b"), record("from-a")]
        );
        assert_eq!(
            names(of("b").await),
            vec![record("from-b"), record("from-a")]
        );
        assert_eq!(names(of("c").await), vec![record("from-c")]);
        assert_eq!(names(of("env").await), vec![record("from-env")]);
        assert!(of("nobody").await.is_empty());
        store.set_key_project("c", Some("p")).await.unwrap();
        assert_eq!(
            of("c").await.len(),
            3,
            "c joined p: p's examples and its own"
        );
    }

    /// A key moved behind the store's back is followed on its next call even when other
    /// tenants were rebuilt in between (they must not mark it as counted where it is now).
    #[tokio::test]
    async fn a_move_elsewhere_is_followed_after_unrelated_rebuilds() {
        let dir = tempfile::tempdir().unwrap();
        let (store, fb) = feedback_store(dir.path()).await;
        store
            .insert_key_in("y", "y", "h", "user", Some("q"))
            .await
            .unwrap();
        store
            .insert_key_in("z", "z", "h", "user", Some("r"))
            .await
            .unwrap();
        fb.add(&caller("y", Some("q")), entity("from-y"))
            .await
            .unwrap();
        fb.add(&caller("z", Some("r")), entity("from-z"))
            .await
            .unwrap();
        store.set_key_project("y", Some("r")).await.unwrap();
        fb.reload(&["project:other".to_string(), "key:w".to_string()])
            .await
            .unwrap();
        let r = fb.for_caller(&caller("y", Some("r"))).await.unwrap();
        assert_eq!(r.entity.len(), 2, "y's example moved into r with it");
        assert!(
            fb.for_tenant("project:q").await.entity.is_empty(),
            "q lost y's example"
        );
    }
}
