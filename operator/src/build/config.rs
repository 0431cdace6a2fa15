//! The matcher's `config.yaml` (its ConfigMap) and the hash of config and secrets that rolls
//! the matcher pods when either changes.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::ConfigMap;
use serde_json::json;
use sha2::{Digest, Sha256};

use super::meta::meta;
use super::names;
use super::secrets::SecretInputs;
use super::{HTTP_PORT, METRICS_PORT};
use crate::Result;
use crate::validate::Validated;

/// The matcher's `config.yaml`. Emits only keys the matcher knows (its sections deny unknown
/// keys); everything not set in the spec keeps the matcher's defaults.
pub fn config_yaml(v: &Validated) -> Result<String> {
    let m = &v.matcher;
    let c = &m.config;
    let mut app = serde_json::Map::new();
    app.insert("name".into(), json!(v.name));
    app.insert("env".into(), json!(c.env.unwrap_or_default().as_str()));
    app.insert("host".into(), json!("0.0.0.0"));
    app.insert("port".into(), json!(HTTP_PORT));
    if let Some(w) = c.workers {
        app.insert("workers".into(), json!(w));
    }
    if let Some(t) = c.timeout_seconds {
        app.insert("timeout".into(), json!(t));
    }
    if let Some(r) = c.rate_limit {
        app.insert("rate_limit".into(), json!(r));
    }
    if let Some(h) = &c.api_key_header {
        app.insert("api_key_header".into(), json!(h));
    }
    if !c.cors_origins.is_empty() {
        app.insert("cors_origins".into(), json!(c.cors_origins));
    }
    let mut llm = serde_json::Map::new();
    llm.insert("provider".into(), json!(m.llm.provider.as_str()));
    if let Some(model) = &m.llm.model {
        llm.insert("model".into(), json!(model));
    }
    if let Some(url) = &m.llm.base_url {
        llm.insert("base_url".into(), json!(url));
    }
    let mut cache = serde_json::Map::new();
    if let Some(e) = c.cache_enabled {
        cache.insert("enabled".into(), json!(e));
    }
    if let Some(t) = c.schema_cache_ttl_seconds {
        cache.insert("schema_ttl".into(), json!(t));
    }
    if let Some(t) = c.entity_cache_ttl_seconds {
        cache.insert("entity_ttl".into(), json!(t));
    }
    let mut matching = serde_json::Map::new();
    if let Some(t) = c.schema_threshold {
        matching.insert("schema_threshold".into(), json!(t));
    }
    if let Some(t) = c.entity_threshold {
        matching.insert("entity_threshold".into(), json!(t));
    }
    let mut monitoring = serde_json::Map::new();
    monitoring.insert("metrics_port".into(), json!(METRICS_PORT));
    monitoring.insert(
        "log_level".into(),
        json!(c.log_level.map(|l| l.as_str()).unwrap_or("info")),
    );
    monitoring.insert("log_format".into(), json!("json"));
    let doc = json!({
        "app": app,
        "llm": llm,
        "cache": cache,
        "database": { "data_dir": "/data" },
        "matching": matching,
        "monitoring": monitoring,
    });
    Ok(serde_yaml_ng::to_string(&doc)?)
}

/// Hash of everything the matcher pods read at start: config and secret values.
pub fn config_hash(config_yaml: &str, secrets: &SecretInputs) -> String {
    let mut h = Sha256::new();
    h.update(b"config.yaml\0");
    h.update(config_yaml.as_bytes());
    for (k, val) in secrets.generated.iter().chain(secrets.referenced.iter()) {
        h.update(b"\0");
        h.update(k.as_bytes());
        h.update(b"=");
        h.update(val.as_bytes());
    }
    hex::encode(&h.finalize()[..16])
}

/// The matcher ConfigMap.
pub fn config_map(v: &Validated, config_yaml: String) -> ConfigMap {
    ConfigMap {
        metadata: meta(v, names::config(&v.name), "matcher"),
        data: Some(BTreeMap::from([("config.yaml".to_string(), config_yaml)])),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::build::testing::*;
    use crate::build::*;

    use std::collections::BTreeMap;

    use serde_json::json;

    #[test]
    fn config_hash_follows_config_and_secrets_not_replicas() {
        let (_, a) = desired(json!({"matcher": {"replicas": 1}}));
        let (_, b) = desired(json!({"matcher": {"replicas": 4}}));
        assert_eq!(a.config_hash, b.config_hash);
        let (_, c) = desired(json!({"matcher": {"config": {"rateLimit": 10}}}));
        assert_ne!(a.config_hash, c.config_hash);
        let v = v(json!({}));
        let mut i = inputs(&v);
        let h1 = build(&v, &i).unwrap().config_hash;
        i.secrets.referenced.insert("user/key".into(), "x".into());
        assert_ne!(h1, build(&v, &i).unwrap().config_hash);
    }

    #[test]
    fn config_yaml_emits_only_known_keys() {
        let v = v(json!({"matcher": {
            "llm": {"provider": "openai", "model": "gpt-4o-mini", "baseUrl": "http://llm:8080/v1"},
            "config": {"env": "staging", "rateLimit": 100, "workers": 2, "timeoutSeconds": 30,
                       "apiKeyHeader": "X-Key", "corsOrigins": ["*"], "schemaThreshold": 0.7,
                       "entityThreshold": 0.9, "cacheEnabled": true, "schemaCacheTtlSeconds": 60,
                       "entityCacheTtlSeconds": 30, "logLevel": "debug"}}}));
        let y = config_yaml(&v).unwrap();
        let doc: serde_json::Value = serde_yaml_ng::from_str(&y).unwrap();
        let allowed: BTreeMap<&str, &[&str]> = BTreeMap::from([
            (
                "app",
                &[
                    "name",
                    "env",
                    "host",
                    "port",
                    "workers",
                    "timeout",
                    "rate_limit",
                    "max_body_bytes",
                    "api_key_header",
                    "cors_origins",
                    "inprocess_workers",
                ][..],
            ),
            (
                "llm",
                &[
                    "provider",
                    "model",
                    "base_url",
                    "temperature",
                    "top_p",
                    "max_tokens",
                    "timeout",
                    "retry_attempts",
                    "model_path",
                ][..],
            ),
            (
                "cache",
                &["enabled", "schema_ttl", "entity_ttl", "max_size"][..],
            ),
            (
                "database",
                &["pool_size", "min_connections", "pool_timeout", "data_dir"][..],
            ),
            (
                "matching",
                &[
                    "schema_threshold",
                    "entity_threshold",
                    "batch_size",
                    "max_parallel",
                    "dedup_sync_limit",
                    "max_pairs",
                    "ensemble",
                    "demonstrations",
                ][..],
            ),
            (
                "monitoring",
                &["metrics_port", "log_level", "log_format"][..],
            ),
        ]);
        let top = doc.as_object().unwrap();
        for (section, body) in top {
            let keys = allowed
                .get(section.as_str())
                .unwrap_or_else(|| panic!("unknown section {section}"));
            for k in body.as_object().unwrap().keys() {
                assert!(keys.contains(&k.as_str()), "unknown key {section}.{k}");
            }
        }
        assert_eq!(doc["app"]["env"], "staging");
        assert_eq!(doc["app"]["port"], 8000);
        assert_eq!(doc["app"]["rate_limit"], 100);
        assert_eq!(doc["llm"]["provider"], "openai");
        assert_eq!(doc["llm"]["base_url"], "http://llm:8080/v1");
        assert_eq!(doc["matching"]["entity_threshold"], 0.9);
        assert_eq!(doc["cache"]["schema_ttl"], 60);
        assert_eq!(doc["monitoring"]["metrics_port"], 9090);
        assert_eq!(doc["monitoring"]["log_level"], "debug");
        assert_eq!(doc["database"]["data_dir"], "/data");
        // Deterministic: same spec, same bytes.
        assert_eq!(y, config_yaml(&v).unwrap());
    }
}
