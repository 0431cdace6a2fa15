//! Deduplication of a set of records: blocking, scoring and clustering by the embedded
//! linkage; with an LLM backbone, entity matching decides the plausible candidate pairs
//! and the clusters are built from its matches.

use super::{Pipeline, check_threshold};
use crate::engine::linkage::{self, LinkOptions};
use crate::engine::{DedupOptions, DedupResult, EngineError, EntityOptions, EntityPair, Record};

impl Pipeline {
    pub async fn dedup(
        &self,
        ids: &[String],
        records: &[Record],
        dopts: DedupOptions,
    ) -> Result<DedupResult, EngineError> {
        if ids.len() != records.len() {
            return Err(EngineError::InvalidInput {
                field: "ids".into(),
                message: format!("{} ids for {} records", ids.len(), records.len()),
            });
        }
        let threshold = check_threshold(
            dopts.threshold.unwrap_or(self.cfg.entity_threshold),
            "threshold",
        )?;
        let split_threshold = match dopts.split_threshold {
            Some(s) if check_threshold(s, "split_threshold")? < threshold => {
                return Err(EngineError::InvalidInput {
                    field: "split_threshold".into(),
                    message: format!("{s} is below the threshold {threshold}"),
                });
            }
            s => s,
        };
        let opts = LinkOptions {
            threshold,
            split_threshold,
            ..LinkOptions::default()
        };
        let (cap, split) = (opts.max_cluster_size, opts.split_threshold);
        let recs = records.to_vec();
        let examples = dopts.examples;
        let out = tokio::task::spawn_blocking(move || linkage::dedup(&recs, &examples, &opts))
            .await
            .map_err(|e| EngineError::Backbone {
                backbone: "local".into(),
                message: format!("dedup task: {e}"),
            })?;
        let (clusters, matched) = if self.chat.is_some() {
            // the LLM decides the plausible candidates, best first, at most max_pairs
            // the labelled pairs are decided already: the LLM is not asked about them
            let decided = out.labels.decided();
            let key =
                |p: &linkage::ScoredPair| (p.left.min(p.right) as u32, p.left.max(p.right) as u32);
            let mut cand: Vec<&linkage::ScoredPair> = out
                .link
                .pairs
                .iter()
                .filter(|p| p.probability >= 0.1 && !decided.contains_key(&key(p)))
                .collect();
            cand.sort_by(|a, b| b.probability.total_cmp(&a.probability));
            cand.truncate(self.cfg.max_pairs.max(1));
            let pairs: Vec<EntityPair> = cand
                .iter()
                .map(|p| EntityPair {
                    left: records[p.left].clone(),
                    right: records[p.right].clone(),
                })
                .collect();
            let res = self
                .match_entities(
                    &pairs,
                    &EntityOptions {
                        threshold: Some(threshold),
                        ..Default::default()
                    },
                )
                .await?;
            let mut matched: Vec<linkage::ScoredPair> = cand
                .iter()
                .zip(&res)
                .filter(|(_, r)| r.is_match)
                .map(|(p, _)| (*p).clone())
                .collect();
            // the labelled matches (linkage added them to its matched pairs)
            matched.extend(
                out.link
                    .pairs
                    .iter()
                    .filter(|p| p.is_match && p.rule == crate::engine::labels::LABEL_RULE)
                    .cloned(),
            );
            let n = matched.len() as u64;
            let constraints = linkage::Constraints {
                must: &out.labels.must,
                cannot: &out.labels.cannot,
            };
            (
                linkage::capped_clusters_with(records.len(), &matched, cap, split, constraints),
                n,
            )
        } else {
            (out.clusters.clone(), out.link.matches().count() as u64)
        };
        let mut clusters: Vec<Vec<String>> = clusters
            .into_iter()
            .map(|c| {
                let mut v: Vec<String> = c.into_iter().map(|i| ids[i].clone()).collect();
                v.sort();
                v
            })
            .collect();
        clusters.sort();
        Ok(DedupResult {
            clusters,
            candidate_pairs: out.link.candidate_pairs as u64,
            matched_pairs: matched,
            labels_used: out.link.labels_used as u64,
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::engine::DedupOptions;
    use crate::engine::pipeline::testing::{engine, rec};
    use serde_json::json;

    #[tokio::test]
    async fn dedup_clusters_ids() {
        let e = engine();
        let mut recs = Vec::new();
        let mut ids = Vec::new();
        for (i, (n, c)) in [
            ("john smith", "sydney"),
            ("jon smith", "sydney"),
            ("mary jones", "perth"),
            ("alice brown", "hobart"),
        ]
        .iter()
        .enumerate()
        {
            recs.push(rec(json!({"name": n, "city": c, "dob": if i < 2 { "19800102".to_string() } else { format!("1990010{i}") }})));
            ids.push(format!("r{i}"));
        }
        let d = e.dedup(&ids, &recs, DedupOptions::default()).await.unwrap();
        assert_eq!(d.clusters, vec![vec!["r0".to_string(), "r1".to_string()]]);
        assert!(d.candidate_pairs >= 1);
        assert!(
            e.dedup(&ids[..1], &recs, DedupOptions::default())
                .await
                .is_err()
        );
        // a split threshold below the threshold names its field
        let err = e
            .dedup(
                &ids,
                &recs,
                DedupOptions {
                    threshold: Some(0.9),
                    split_threshold: Some(0.5),
                    ..Default::default()
                },
            )
            .await
            .unwrap_err();
        assert!(err.to_string().contains("split_threshold"), "{err}");
    }

    /// Says "Yes" to every pair.
    struct Yes;

    #[async_trait::async_trait]
    impl crate::engine::llm::ChatModel for Yes {
        fn name(&self) -> String {
            "yes".into()
        }
        fn params(&self) -> String {
            String::new()
        }
        async fn chat(
            &self,
            _: &[crate::engine::prompt::ChatMessage],
        ) -> Result<crate::engine::llm::ChatReply, crate::engine::llm::LlmError> {
            Ok(crate::engine::llm::ChatReply {
                content: "Yes".into(),
                prompt_tokens: 0,
                completion_tokens: 0,
            })
        }
    }

    /// With an LLM backbone the labels decide their pairs too: a "non-match" pair the LLM
    /// would join stays apart, a "match" pair nothing proposed is joined.
    #[tokio::test]
    async fn llm_dedup_follows_the_labels() {
        let e = engine().with_chat_model(std::sync::Arc::new(Yes));
        let recs: Vec<_> = [
            ("john smith", "sydney", "19800102"),
            ("jon smith", "sydney", "19800102"),
            ("mary jones", "perth", "19900103"),
            ("alice brown", "hobart", "19700304"),
        ]
        .iter()
        .map(|(n, c, d)| rec(json!({"name": n, "city": c, "dob": d})))
        .collect();
        let ids: Vec<String> = (0..recs.len()).map(|i| format!("r{i}")).collect();
        let plain = e.dedup(&ids, &recs, DedupOptions::default()).await.unwrap();
        let together = |c: &[Vec<String>], a: &str, b: &str| {
            c.iter()
                .any(|x| x.iter().any(|i| i == a) && x.iter().any(|i| i == b))
        };
        assert!(together(&plain.clusters, "r0", "r1"), "{plain:?}");
        assert!(!together(&plain.clusters, "r2", "r3"), "{plain:?}");
        let example = |a: usize, b: usize, is_match| crate::engine::EntityExample {
            left: recs[a].clone(),
            right: recs[b].clone(),
            is_match,
        };
        let opts = DedupOptions {
            examples: vec![example(0, 1, false), example(2, 3, true)],
            ..Default::default()
        };
        let d = e.dedup(&ids, &recs, opts).await.unwrap();
        assert!(!together(&d.clusters, "r0", "r1"), "{d:?}");
        assert!(together(&d.clusters, "r2", "r3"), "{d:?}");
        assert_eq!(d.labels_used, 2);
    }
}
