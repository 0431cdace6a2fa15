//! The KcMF pipeline: pairs → knowledge per source (DaK, EaK, user, external) →
//! one evaluation of the rules per source (embedded backbone or LLM) → the
//! inconsistency-tolerant generation ensemble (IntGE): majority vote, badly formatted
//! answers dropped as "no" and counted.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;

use super::embed::{Embedder, calibrate, calibrate_values, cosine};
use super::fs::{FieldSpec, FsModel, Prepared, compare, infer_fields, prepare};
use super::knowledge::{Facts, Knowledge, KnowledgeProvider, Source, top_k};
use super::linkage::{self, LinkOptions};
use super::llm::{CachedChat, ChatModel, LlmCache, OpenAiClient};
use super::local::{
    DataType, Decision, EmEvidence, NameFields, Semantic, SmColumn, evaluate_rules,
    learn_expansions, sm_evidence,
};
use super::prompt::{
    Demonstration, build_messages, parse_answer, self_indicator_messages, serialize_column,
    serialize_record,
};
use super::rules::{Check, RuleSet, Rules};
use super::text::{Idf, split_identifier, trigram_sim};
use super::{
    DedupOptions, DedupResult, EngineError, EntityExample, EntityOptions, EntityPair, MatchResult,
    Record, SchemaMatch, SchemaOptions, Table, value_text,
};
use crate::config::{BackboneKind, LlmConfig, MatchingConfig};

/// One source's answer.
#[derive(Debug, Clone)]
pub struct Vote {
    pub source: Source,
    /// `None`: the answer was not a clean yes/no.
    pub answer: Option<bool>,
    pub score: f64,
    pub rule: String,
    pub condition: String,
    pub trace: Vec<String>,
}

/// The ensemble's verdict.
#[derive(Debug, Clone)]
pub struct Verdict {
    pub is_match: bool,
    pub score: f64,
    pub rule: String,
    pub reasoning: Vec<String>,
    pub badly_formatted: u32,
}

/// Majority vote; a tie is broken by the mean score against the threshold.
pub fn combine(self_indicator: &str, votes: &[Vote], threshold: f64) -> Verdict {
    let n = votes.len();
    let yes = votes.iter().filter(|v| v.answer == Some(true)).count();
    let bad = votes.iter().filter(|v| v.answer.is_none()).count();
    let score = if n == 0 {
        0.0
    } else {
        votes.iter().map(|v| v.score).sum::<f64>() / n as f64
    };
    let is_match = n > 0 && (yes * 2 > n || (yes * 2 == n && score >= threshold));
    let deciding = votes
        .iter()
        .find(|v| v.answer.unwrap_or(false) == is_match)
        .map(|v| format!("{}: {}", v.rule, v.condition))
        .unwrap_or_else(|| "none".to_string());
    let mut reasoning = vec![format!("1. {}", self_indicator.trim())];
    for v in votes {
        let ans = match v.answer {
            Some(true) => "yes",
            Some(false) => "no",
            None => "badly formatted (counted as no)",
        };
        reasoning.push(format!(
            "[{}] answer {ans}, rule {}",
            v.source.as_str(),
            v.rule
        ));
        for t in &v.trace {
            reasoning.push(format!("[{}]   {t}", v.source.as_str()));
        }
    }
    reasoning.push(format!(
        "IntGE vote: {yes} yes / {} no of {n} sources ({bad} badly formatted) → {}",
        n - yes,
        if is_match { "yes" } else { "no" }
    ));
    if bad > 0 {
        metrics::counter!("kcmf_badly_formatted_answers_total").increment(bad as u64);
    }
    Verdict {
        is_match,
        score: score.clamp(0.0, 1.0),
        rule: deciding,
        reasoning,
        badly_formatted: bad as u32,
    }
}

/// The engine's state (behind `Arc` in [`super::Engine`]).
#[derive(Clone)]
pub struct Pipeline {
    pub cfg: MatchingConfig,
    pub llm_cfg: LlmConfig,
    pub rules: Rules,
    pub backbone: BackboneKind,
    pub ensemble: Vec<Source>,
    pub chat: Option<CachedChat>,
    pub cache: Option<Arc<dyn LlmCache>>,
    pub external: Option<Arc<dyn KnowledgeProvider>>,
    /// Sentence embeddings for column names (`matching.embedding_model`).
    pub embedder: Option<Arc<dyn Embedder>>,
}

fn check_threshold(t: f64, field: &str) -> Result<f64, EngineError> {
    if (0.0..=1.0).contains(&t) {
        Ok(t)
    } else {
        Err(EngineError::InvalidInput {
            field: field.into(),
            message: format!("{t} is not in [0, 1]"),
        })
    }
}

impl Pipeline {
    pub fn new(llm: &LlmConfig, cfg: &MatchingConfig) -> Result<Self, EngineError> {
        let rules = Rules::load(cfg.rules_dir.as_deref())?;
        let mut ensemble = Vec::new();
        for s in &cfg.ensemble {
            let src = Source::parse(s).ok_or_else(|| {
                EngineError::Config(format!(
                    "unknown knowledge source {s:?} in matching.ensemble"
                ))
            })?;
            if !ensemble.contains(&src) {
                ensemble.push(src);
            }
        }
        if ensemble.is_empty() {
            ensemble.push(Source::Dataset);
        }
        let chat: Option<Arc<dyn ChatModel>> = match llm.provider {
            BackboneKind::Local => None,
            BackboneKind::Openai => {
                Some(Arc::new(OpenAiClient::new(llm).map_err(|e| {
                    EngineError::Config(format!("llm client: {e}"))
                })?))
            }
            BackboneKind::Gguf => Some(super::gguf::load(llm)?),
        };
        Ok(Self {
            cfg: cfg.clone(),
            llm_cfg: llm.clone(),
            rules,
            backbone: llm.provider,
            ensemble,
            chat: chat.map(|model| CachedChat {
                model,
                cache: None,
                ttl: Duration::from_secs(llm.cache_ttl),
            }),
            cache: None,
            external: None,
            embedder: match &cfg.embedding_model {
                Some(dir) => Some(super::embed::load(dir)?),
                None => None,
            },
        })
    }

    pub fn set_cache(&mut self, cache: Arc<dyn LlmCache>) {
        if let Some(c) = &mut self.chat {
            c.cache = Some(cache.clone());
        }
        self.cache = Some(cache);
    }

    pub fn set_chat_model(&mut self, model: Arc<dyn ChatModel>) {
        self.chat = Some(CachedChat {
            model,
            cache: self.cache.clone(),
            ttl: Duration::from_secs(86_400),
        });
        if self.backbone == BackboneKind::Local {
            self.backbone = BackboneKind::Openai;
        }
    }

    pub fn backbone_name(&self) -> String {
        match &self.chat {
            Some(c) => c.model.name(),
            None => "local".to_string(),
        }
    }

    async fn external_knowledge(&self, objects: &[String]) -> Option<Knowledge> {
        if !self.ensemble.contains(&Source::External) {
            return None;
        }
        let p = self.external.as_ref()?;
        let items = p.lookup(objects).await;
        (!items.is_empty()).then(|| Knowledge::from_items(items))
    }

    /// Asks the LLM one question; returns the vote.
    #[allow(clippy::too_many_arguments)]
    async fn llm_vote(
        &self,
        chat: &CachedChat,
        rules: &RuleSet,
        source: Source,
        demos: &[Demonstration],
        pair: &str,
        knowledge: &Knowledge,
        self_indicator: &str,
    ) -> Result<Vote, EngineError> {
        let msgs = build_messages(rules, demos, pair, knowledge, self_indicator);
        let (text, hit) = chat.chat(&msgs).await.map_err(|e| EngineError::Backbone {
            backbone: chat.model.name(),
            message: e.to_string(),
        })?;
        let answer = parse_answer(&text);
        let last = text
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("")
            .trim()
            .to_string();
        let rule = match answer {
            Some(a) => rules
                .rules
                .iter()
                .find(|r| text.contains(&format!("{}.", r.id)) && r.answer.is_yes() == a)
                .or_else(|| rules.rules.iter().find(|r| r.answer.is_yes() == a))
                .unwrap_or(rules.catch_all()),
            None => rules.catch_all(),
        };
        Ok(Vote {
            source,
            answer,
            score: if answer == Some(true) { 1.0 } else { 0.0 },
            rule: rule.id.clone(),
            condition: rule.condition.clone(),
            trace: vec![format!(
                "LLM{}: {:?}",
                if hit { " (cached)" } else { "" },
                truncate(&last, 200)
            )],
        })
    }

    /// The self-indicator from the LLM (its own cached call); the local one on failure.
    async fn llm_self_indicator(&self, chat: &CachedChat, pair: &str, fallback: &str) -> String {
        self.llm_summary(chat, pair, "self-indicator")
            .await
            .unwrap_or_else(|| fallback.to_string())
    }

    /// The model's one-line summary of a serialized pair (the self-indicator call): its
    /// first non-empty line, at most 300 characters; none on an empty answer or a failed
    /// call (logged with `what`).
    async fn llm_summary(&self, chat: &CachedChat, pair: &str, what: &str) -> Option<String> {
        match chat.chat(&self_indicator_messages(pair)).await {
            Ok((t, _)) => t
                .lines()
                .map(str::trim)
                .find(|l| !l.is_empty())
                .map(|l| truncate(l, 300)),
            Err(e) => {
                tracing::warn!(error = %e, call = what, "summary call failed; going on without it");
                None
            }
        }
    }

    /// Embedding similarities of every (source, target) column pair, when an embedding
    /// model is configured: of the names (as words), and of the sample values (each
    /// column's first [`VALUE_LIST_LEN`] distinct samples embedded as one comma-separated
    /// list; a list of place names lies near another list of place names whatever the
    /// columns are called).
    async fn semantic(
        &self,
        source: &Table,
        target: &Table,
    ) -> Result<Option<Vec<Vec<Semantic>>>, EngineError> {
        let Some(e) = self.embedder.clone() else {
            return Ok(None);
        };
        let cols: Vec<&super::Column> = source.columns.iter().chain(&target.columns).collect();
        let n = source.columns.len();
        let names: Vec<String> = cols.iter().map(|c| ident(&c.name)).collect();
        let lists: Vec<Option<String>> = cols.iter().map(|c| value_list(c)).collect();
        let list_texts: Vec<String> = lists.iter().flatten().cloned().collect();
        // two batches: a batch is padded to its longest text, and value lists are long
        let (name_v, list_flat) = tokio::task::spawn_blocking(move || {
            let name_v = e.embed(&names)?;
            let list_flat = e.embed(&list_texts)?;
            if name_v.len() != names.len() || list_flat.len() != list_texts.len() {
                return Err(EngineError::Backbone {
                    backbone: "embeddings".into(),
                    message: "the embedder returned a different number of vectors".into(),
                });
            }
            Ok((name_v, list_flat))
        })
        .await
        .map_err(|e| EngineError::Backbone {
            backbone: "embeddings".into(),
            message: e.to_string(),
        })??;
        let mut rest = list_flat.as_slice();
        let list_v: Vec<Option<&[f32]>> = lists
            .iter()
            .map(|l| {
                l.as_ref().and_then(|_| {
                    let (first, tail) = rest.split_first()?;
                    rest = tail;
                    Some(first.as_slice())
                })
            })
            .collect();
        let m: Vec<Vec<Semantic>> = (0..n)
            .map(|i| {
                (n..cols.len())
                    .map(|j| {
                        let name = cosine(&name_v[i], &name_v[j]);
                        let values = list_v[i].zip(list_v[j]).map(|(x, y)| cosine(x, y));
                        tracing::debug!(a = %cols[i].name, b = %cols[j].name, name, values, "column embeddings cosine");
                        Semantic {
                            name: Some(calibrate(name)),
                            values: values.map(calibrate_values),
                        }
                    })
                    .collect()
            })
            .collect();
        Ok(Some(m))
    }

    /// Demonstration summarization (LLM path): each demonstration's reasoning starts with
    /// the model's own one-sentence summary of the example pair, as the query's reasoning
    /// starts with its self-indicator. Its own call, cached like every LLM call; a failed
    /// call leaves the demonstration as it was.
    async fn summarize_demonstrations(
        &self,
        chat: &CachedChat,
        demos: Vec<Demonstration>,
    ) -> Vec<Demonstration> {
        let mut out = Vec::with_capacity(demos.len());
        for mut d in demos {
            if let Some(l) = self
                .llm_summary(chat, &d.pair, "demonstration summary")
                .await
            {
                d.reasoning.insert(0, l);
            }
            out.push(d);
        }
        out
    }

    // -----------------------------------------------------------------------------
    // Entity matching
    // -----------------------------------------------------------------------------

    pub async fn match_entities(
        &self,
        pairs: &[EntityPair],
        opts: &EntityOptions,
    ) -> Result<Vec<MatchResult>, EngineError> {
        let threshold = check_threshold(
            opts.threshold.unwrap_or(self.cfg.entity_threshold),
            "threshold",
        )?;
        if pairs.is_empty() {
            return Ok(Vec::new());
        }
        let em = EmContext::new(
            pairs,
            &opts.examples,
            &opts.knowledge,
            self.cfg.demonstrations,
        );
        let rules = &self.rules.em;
        let mut plans = Vec::with_capacity(pairs.len());
        for i in 0..pairs.len() {
            plans.push(em.plan(self, i).await);
        }
        match &self.chat {
            None => Ok(plans
                .iter()
                .enumerate()
                .map(|(i, plan)| {
                    let votes: Vec<Vote> = plan
                        .iter()
                        .map(|(src, k)| {
                            let d = em.local_decision(i, *src, k, rules, threshold);
                            Vote {
                                source: *src,
                                answer: Some(d.is_match),
                                score: d.score,
                                rule: d.rule,
                                condition: d.condition,
                                trace: d.trace,
                            }
                        })
                        .collect();
                    verdict_to_result(combine(&em.self_indicator(i), &votes, threshold))
                })
                .collect()),
            Some(chat) => {
                let par = self.cfg.max_parallel.max(1);
                let futs = plans.into_iter().enumerate().map(|(i, plan)| {
                    let em = &em;
                    async move {
                        let pair_text = em.pair_text(i);
                        let si = self
                            .llm_self_indicator(chat, &pair_text, &em.self_indicator(i))
                            .await;
                        let demos = self
                            .summarize_demonstrations(chat, em.demonstrations(i, rules, threshold))
                            .await;
                        let mut votes = Vec::new();
                        let mut errors = Vec::new();
                        for (src, k) in &plan {
                            match self
                                .llm_vote(chat, rules, *src, &demos, &pair_text, k, &si)
                                .await
                            {
                                Ok(v) => votes.push(v),
                                Err(e) => errors.push(e),
                            }
                        }
                        if votes.is_empty()
                            && let Some(e) = errors.into_iter().next()
                        {
                            return Err(e);
                        }
                        Ok(verdict_to_result(combine(&si, &votes, threshold)))
                    }
                });
                let out: Vec<Result<MatchResult, EngineError>> =
                    futures::stream::iter(futs).buffered(par).collect().await;
                out.into_iter().collect()
            }
        }
    }

    // -----------------------------------------------------------------------------
    // Schema matching
    // -----------------------------------------------------------------------------

    pub async fn match_schema(
        &self,
        source: &Table,
        target: &Table,
        opts: &SchemaOptions,
    ) -> Result<Vec<SchemaMatch>, EngineError> {
        let threshold = check_threshold(
            opts.threshold.unwrap_or(self.cfg.schema_threshold),
            "threshold",
        )?;
        if source.columns.is_empty() || target.columns.is_empty() {
            return Ok(Vec::new());
        }
        let semantic = self.semantic(source, target).await?;
        let sm = SmContext::new(source, target, opts, semantic);
        let rules = &self.rules.sm;
        let mut sources: Vec<(Source, Knowledge)> = Vec::new();
        for s in &self.ensemble {
            match s {
                Source::Dataset => {
                    sources.push((Source::Dataset, Knowledge::from_items(sm.dak_items())))
                }
                Source::Examples if !opts.examples.is_empty() => {
                    let items = opts
                        .examples
                        .iter()
                        .map(|e| {
                            format!(
                                "{} and {} {} the same attribute",
                                e.source,
                                e.target,
                                if e.is_match { "are" } else { "are not" }
                            )
                        })
                        .collect();
                    let mut k = Knowledge::from_items(items);
                    k.facts = sm.example_facts.clone();
                    sources.push((Source::Examples, k));
                }
                Source::User if !opts.knowledge.is_empty() => {
                    sources.push((Source::User, Knowledge::from_items(opts.knowledge.clone())))
                }
                Source::External => {
                    let objects: Vec<String> = source
                        .columns
                        .iter()
                        .chain(&target.columns)
                        .map(|c| c.name.clone())
                        .collect();
                    if let Some(k) = self.external_knowledge(&objects).await {
                        sources.push((Source::External, k));
                    }
                }
                _ => {}
            }
        }
        if sources.is_empty() {
            sources.push((Source::Dataset, Knowledge::from_items(sm.dak_items())));
        }
        // local evidence per source: score matrices
        let mats: Vec<Vec<Vec<f64>>> = sources
            .iter()
            .map(|(_, k)| sm.matrix(&[&k.facts]))
            .collect();
        let floor = threshold * SM_MUTUAL_FLOOR;
        let assigns: Vec<Vec<Option<usize>>> = mats.iter().map(|m| one_to_one(m, floor)).collect();
        let mut out = Vec::new();
        let (ns, nt) = (source.columns.len(), target.columns.len());
        let mut llm_jobs = Vec::new();
        for i in 0..ns {
            for j in 0..nt {
                let si = sm.self_indicator(i, j, &mats[0]);
                match &self.chat {
                    None => {
                        let votes: Vec<Vote> = sources
                            .iter()
                            .zip(mats.iter().zip(&assigns))
                            .map(|((src, _), (m, a))| {
                                let d = sm.local_decision(i, j, m, a, rules, threshold);
                                Vote {
                                    source: *src,
                                    answer: Some(d.is_match),
                                    score: d.score,
                                    rule: d.rule,
                                    condition: d.condition,
                                    trace: d.trace,
                                }
                            })
                            .collect();
                        let v = combine(&si, &votes, threshold);
                        if v.is_match {
                            out.push(SchemaMatch {
                                source: source.columns[i].name.clone(),
                                target: target.columns[j].name.clone(),
                                score: v.score,
                                rule: v.rule,
                                reasoning: v.reasoning,
                            });
                        }
                    }
                    Some(_) => llm_jobs.push((i, j, si)),
                }
            }
        }
        if let Some(chat) = &self.chat {
            let par = self.cfg.max_parallel.max(1);
            let sources = &sources;
            let sm = &sm;
            let futs = llm_jobs.into_iter().map(|(i, j, local_si)| async move {
                let pair = format!(
                    "Column A: {}\nColumn B: {}",
                    serialize_column(source, &source.columns[i]),
                    serialize_column(target, &target.columns[j])
                );
                let si = self.llm_self_indicator(chat, &pair, &local_si).await;
                let demos = self
                    .summarize_demonstrations(
                        chat,
                        sm.demonstrations(i, j, rules, self.cfg.demonstrations),
                    )
                    .await;
                let mut votes = Vec::new();
                let mut errors = Vec::new();
                for (src, k) in sources {
                    match self
                        .llm_vote(chat, rules, *src, &demos, &pair, k, &si)
                        .await
                    {
                        Ok(v) => votes.push(v),
                        Err(e) => errors.push(e),
                    }
                }
                if votes.is_empty()
                    && let Some(e) = errors.into_iter().next()
                {
                    return Err(e);
                }
                Ok((i, j, combine(&si, &votes, threshold)))
            });
            let res: Vec<Result<(usize, usize, Verdict), EngineError>> =
                futures::stream::iter(futs).buffered(par).collect().await;
            for r in res {
                let (i, j, v) = r?;
                if v.is_match {
                    out.push(SchemaMatch {
                        source: source.columns[i].name.clone(),
                        target: target.columns[j].name.clone(),
                        score: v.score,
                        rule: v.rule,
                        reasoning: v.reasoning,
                    });
                }
            }
        }
        out.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.source.cmp(&b.source)));
        Ok(out)
    }

    // -----------------------------------------------------------------------------
    // Dedup
    // -----------------------------------------------------------------------------

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
        let out = tokio::task::spawn_blocking(move || linkage::dedup(&recs, &[], &opts))
            .await
            .map_err(|e| EngineError::Backbone {
                backbone: "local".into(),
                message: format!("dedup task: {e}"),
            })?;
        let (clusters, matched) = if self.chat.is_some() {
            // the LLM decides the plausible candidates, best first, at most max_pairs
            let mut cand: Vec<&linkage::ScoredPair> = out
                .link
                .pairs
                .iter()
                .filter(|p| p.probability >= 0.1)
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
            let matched: Vec<linkage::ScoredPair> = cand
                .iter()
                .zip(&res)
                .filter(|(_, r)| r.is_match)
                .map(|(p, _)| (*p).clone())
                .collect();
            let n = matched.len() as u64;
            (
                linkage::capped_clusters(records.len(), &matched, cap, split),
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
        })
    }
}

fn truncate(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

fn verdict_to_result(v: Verdict) -> MatchResult {
    MatchResult {
        is_match: v.is_match,
        score: v.score,
        rule: v.rule,
        reasoning: v.reasoning,
        badly_formatted: v.badly_formatted,
    }
}

/// Generic demonstration reasoning for a label: the rules before the first rule giving
/// that answer do not hold, that one holds.
fn generic_reasoning(rules: &RuleSet, answer: bool) -> Vec<String> {
    let mut steps = Vec::new();
    for r in rules.conditions() {
        if r.answer.is_yes() == answer {
            steps.push(format!(
                "Rule {}: {} — holds, so the answer is {}.",
                r.id,
                r.condition,
                r.answer.as_str()
            ));
            return steps;
        }
        steps.push(format!("Rule {}: {} — does not hold.", r.id, r.condition));
    }
    let c = rules.catch_all();
    steps.push(format!(
        "Rule {}: otherwise, the answer is {}.",
        c.id,
        c.answer.as_str()
    ));
    steps
}

/// Per-request state of entity matching.
struct EmContext<'a> {
    pairs: &'a [EntityPair],
    examples: &'a [EntityExample],
    fields: Vec<FieldSpec>,
    names: NameFields,
    a: Vec<Prepared>,
    b: Vec<Prepared>,
    v: Vec<Vec<u8>>,
    base: FsModel,
    dataset: FsModel,
    user: Knowledge,
    k: usize,
    by_name: HashMap<String, Vec<(usize, bool)>>,
}

impl<'a> EmContext<'a> {
    fn new(
        pairs: &'a [EntityPair],
        examples: &'a [EntityExample],
        knowledge: &[String],
        k: usize,
    ) -> Self {
        let fields = infer_fields(pairs.iter().flat_map(|p| [&p.left, &p.right]));
        let names = NameFields::detect(&fields);
        let a: Vec<Prepared> = pairs.iter().map(|p| prepare(&fields, &p.left)).collect();
        let b: Vec<Prepared> = pairs.iter().map(|p| prepare(&fields, &p.right)).collect();
        let v: Vec<Vec<u8>> = a
            .iter()
            .zip(&b)
            .map(|(x, y)| compare(&fields, x, y))
            .collect();
        let mut base = FsModel::prior(fields.clone());
        base.individual = names.individual.clone();
        let field_names: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
        base.groups = super::lexicon::dependency_groups(&field_names);
        let n = pairs.len();
        if n >= 3 {
            base.estimate_u(&a, &b, 5000, 7, true);
        }
        let mut dataset = base.clone();
        if n >= linkage::MIN_EM_PAIRS {
            dataset.estimate_m(v.iter().map(Vec::as_slice), 30, 0.9);
        }
        let mut by_name: HashMap<String, Vec<(usize, bool)>> = HashMap::new();
        for i in 0..n {
            by_name
                .entry(names.name(&a[i]).join(" "))
                .or_default()
                .push((i, false));
            by_name
                .entry(names.name(&b[i]).join(" "))
                .or_default()
                .push((i, true));
        }
        Self {
            pairs,
            examples,
            fields,
            names,
            a,
            b,
            v,
            base,
            dataset,
            user: Knowledge::from_items(knowledge.to_vec()),
            k,
            by_name,
        }
    }

    fn pair_text(&self, i: usize) -> String {
        format!(
            "Entity A: {}\nEntity B: {}",
            serialize_record(&self.pairs[i].left),
            serialize_record(&self.pairs[i].right)
        )
    }

    fn evidence(&self, i: usize, model: &FsModel, facts: &[&Facts]) -> EmEvidence {
        EmEvidence::compute(
            model,
            &self.names,
            &self.a[i],
            &self.b[i],
            &self.v[i],
            facts,
        )
    }

    fn self_indicator(&self, i: usize) -> String {
        self.evidence(i, &self.dataset, &[]).self_indicator()
    }

    /// DaK: what the other pairs of the request say about this pair's objects.
    fn dak_items(&self, i: usize) -> Vec<String> {
        let mut items = Vec::new();
        for (side, rec) in [(false, &self.a[i]), (true, &self.b[i])] {
            let name = self.names.name(rec).join(" ");
            if name.is_empty() {
                continue;
            }
            for &(j, s) in self.by_name.get(&name).into_iter().flatten() {
                if j == i || items.len() >= 6 {
                    continue;
                }
                let r = if s {
                    &self.pairs[j].right
                } else {
                    &self.pairs[j].left
                };
                let _ = side;
                items.push(format!("{name}: {}", serialize_record(r)));
            }
        }
        if self.dataset.iterations > 0 {
            let mut w: Vec<(f64, &str)> = self
                .fields
                .iter()
                .enumerate()
                .map(|(f, s)| {
                    (
                        (self.dataset.m[f][0] / self.dataset.u[f][0]).log2(),
                        s.name.as_str(),
                    )
                })
                .collect();
            w.sort_by(|x, y| y.0.total_cmp(&x.0));
            let strong: Vec<&str> = w.iter().take(3).map(|x| x.1).collect();
            items.push(format!(
                "agreement weights learned from the {} pairs of this request: strongest fields {}",
                self.pairs.len(),
                strong.join(", ")
            ));
        }
        items
    }

    /// EaK: the k most similar examples.
    fn top_examples(&self, i: usize) -> Vec<&'a EntityExample> {
        if self.examples.is_empty() {
            return Vec::new();
        }
        let q = format!(
            "{} {}",
            serialize_record(&self.pairs[i].left),
            serialize_record(&self.pairs[i].right)
        );
        top_k(self.examples, &q, self.k.max(1), |e| {
            format!(
                "{} {}",
                serialize_record(&e.left),
                serialize_record(&e.right)
            )
        })
        .into_iter()
        .map(|x| &self.examples[x])
        .collect()
    }

    fn example_facts(&self, ex: &[&EntityExample]) -> Facts {
        let mut f = Facts::default();
        for e in ex {
            let na = self.names.name(&prepare(&self.fields, &e.left)).join(" ");
            let nb = self.names.name(&prepare(&self.fields, &e.right)).join(" ");
            if na.is_empty() || nb.is_empty() || na == nb {
                continue;
            }
            if e.is_match {
                f.aliases.push((na, nb));
            } else {
                f.distinct.push((na, nb));
            }
        }
        f
    }

    /// The knowledge sources that have something to say about pair `i`.
    async fn plan(&self, p: &Pipeline, i: usize) -> Vec<(Source, Knowledge)> {
        let mut out = Vec::new();
        for s in &p.ensemble {
            match s {
                Source::Dataset => {
                    out.push((Source::Dataset, Knowledge::from_items(self.dak_items(i))))
                }
                Source::Examples => {
                    let ex = self.top_examples(i);
                    if !ex.is_empty() {
                        let items = ex
                            .iter()
                            .map(|e| {
                                format!(
                                    "{} and {} {} the same entity",
                                    serialize_record(&e.left),
                                    serialize_record(&e.right),
                                    if e.is_match { "are" } else { "are not" }
                                )
                            })
                            .collect();
                        let mut k = Knowledge::from_items(items);
                        k.facts = self.example_facts(&ex);
                        out.push((Source::Examples, k));
                    }
                }
                Source::User => {
                    if !self.user.is_empty() {
                        out.push((Source::User, self.user.clone()));
                    }
                }
                Source::External => {
                    let objects = vec![
                        self.names.name(&self.a[i]).join(" "),
                        self.names.name(&self.b[i]).join(" "),
                    ];
                    if let Some(k) = p.external_knowledge(&objects).await {
                        out.push((Source::External, k));
                    }
                }
            }
        }
        if out.is_empty() {
            out.push((Source::Dataset, Knowledge::from_items(self.dak_items(i))));
        }
        out
    }

    fn local_decision(
        &self,
        i: usize,
        src: Source,
        k: &Knowledge,
        rules: &RuleSet,
        threshold: f64,
    ) -> Decision {
        let model = match src {
            Source::Examples => {
                let ex = self.top_examples(i);
                let labelled: Vec<(Vec<u8>, bool)> = ex
                    .iter()
                    .map(|e| {
                        (
                            compare(
                                &self.fields,
                                &prepare(&self.fields, &e.left),
                                &prepare(&self.fields, &e.right),
                            ),
                            e.is_match,
                        )
                    })
                    .collect();
                let mut m = self.dataset.clone();
                m.refine(&labelled, 5.0);
                m
            }
            _ => self.dataset.clone(),
        };
        let _ = &self.base;
        self.evidence(i, &model, &[&k.facts])
            .decide_with(rules, threshold)
    }

    fn demonstrations(&self, i: usize, rules: &RuleSet, threshold: f64) -> Vec<Demonstration> {
        self.top_examples(i)
            .into_iter()
            .map(|e| {
                let pa = prepare(&self.fields, &e.left);
                let pb = prepare(&self.fields, &e.right);
                let v = compare(&self.fields, &pa, &pb);
                let d = EmEvidence::compute(&self.dataset, &self.names, &pa, &pb, &v, &[])
                    .decide_with(rules, threshold);
                let reasoning = if d.is_match == e.is_match {
                    d.trace.iter().map(|t| format!("Rule {t}")).collect()
                } else {
                    generic_reasoning(rules, e.is_match)
                };
                Demonstration {
                    pair: format!(
                        "Entity A: {}\nEntity B: {}",
                        serialize_record(&e.left),
                        serialize_record(&e.right)
                    ),
                    reasoning,
                    answer: e.is_match,
                }
            })
            .collect()
    }
}

/// Share of the threshold a one-to-one column pair must reach.
pub const SM_MUTUAL_FLOOR: f64 = 0.35;

/// Greedy one-to-one assignment over a score matrix: pairs at or above `floor`, strongest
/// first, each row and column used once. Returns the column assigned to each row.
pub fn one_to_one(m: &[Vec<f64>], floor: f64) -> Vec<Option<usize>> {
    let mut pairs: Vec<(f64, usize, usize)> = m
        .iter()
        .enumerate()
        .flat_map(|(i, row)| row.iter().enumerate().map(move |(j, &s)| (s, i, j)))
        .filter(|p| p.0 >= floor)
        .collect();
    pairs.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    let mut row: Vec<Option<usize>> = vec![None; m.len()];
    let mut col_used = vec![false; m.first().map_or(0, Vec::len)];
    for (_, i, j) in pairs {
        if row[i].is_none() && !col_used[j] {
            row[i] = Some(j);
            col_used[j] = true;
        }
    }
    row
}

fn sm_name_sim(
    a: &SmColumn,
    b: &SmColumn,
    exp: &HashMap<String, String>,
    semantic: Semantic,
) -> f64 {
    sm_evidence(a, b, &Idf::default(), exp, &[], semantic).name_sim
}

/// Per-request state of schema matching.
struct SmContext<'a> {
    source: &'a Table,
    target: &'a Table,
    cols_s: Vec<SmColumn>,
    cols_t: Vec<SmColumn>,
    idf: Idf,
    exp: HashMap<String, String>,
    example_facts: Facts,
    examples: &'a [super::SchemaExample],
    table_name_sim: f64,
    table_desc_sim: f64,
    /// Embedding similarities of the column pairs (source × target), if configured.
    semantic: Option<Vec<Vec<Semantic>>>,
}

fn ident(s: &str) -> String {
    split_identifier(s).join(" ")
}

/// Most sample values of a column embedded as its value list.
const VALUE_LIST_LEN: usize = 12;

/// A text column's first [`VALUE_LIST_LEN`] distinct non-empty samples joined by `, `
/// (`None` without samples, or when they are numbers, dates or booleans: a sentence
/// encoder puts any two lists of numbers close together, and their distributions are
/// compared directly).
fn value_list(c: &super::Column) -> Option<String> {
    let samples: Vec<String> = c.samples.iter().map(value_text).collect();
    if DataType::infer(&samples) != DataType::Text {
        return None;
    }
    let mut seen = HashSet::new();
    let vals: Vec<&String> = samples
        .iter()
        .filter(|v| !v.trim().is_empty() && seen.insert(v.as_str()))
        .take(VALUE_LIST_LEN)
        .collect();
    (!vals.is_empty()).then(|| {
        vals.iter()
            .map(|v| v.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    })
}

impl<'a> SmContext<'a> {
    fn new(
        source: &'a Table,
        target: &'a Table,
        opts: &'a SchemaOptions,
        semantic: Option<Vec<Vec<Semantic>>>,
    ) -> Self {
        // DaK: descriptions of same-named columns elsewhere in the request fill gaps
        let mut desc: HashMap<String, String> = HashMap::new();
        for c in source.columns.iter().chain(&target.columns) {
            if let Some(d) = &c.description {
                desc.entry(ident(&c.name)).or_insert_with(|| d.clone());
            }
        }
        let mk = |t: &Table, c: &super::Column| {
            let extra = if c.description.is_none() {
                desc.get(&ident(&c.name)).map(String::as_str)
            } else {
                None
            };
            SmColumn::new(t, c, extra)
        };
        let cols_s: Vec<SmColumn> = source.columns.iter().map(|c| mk(source, c)).collect();
        let cols_t: Vec<SmColumn> = target.columns.iter().map(|c| mk(target, c)).collect();
        let mut docs: Vec<Vec<String>> = cols_s
            .iter()
            .chain(&cols_t)
            .map(|c| c.desc_tokens.clone())
            .collect();
        let td = |t: &Table| super::text::tokens(t.description.as_deref().unwrap_or(""));
        docs.push(td(source));
        docs.push(td(target));
        let idf = Idf::fit(docs.iter().map(Vec::as_slice));
        let exp = learn_expansions(&cols_s, &cols_t);
        let mut example_facts = Facts::default();
        for e in &opts.examples {
            let (a, b) = (ident(&e.source), ident(&e.target));
            if e.is_match {
                example_facts.aliases.push((a, b));
            } else {
                example_facts.distinct.push((a, b));
            }
        }
        let table_name_sim = trigram_sim(&ident(&source.name), &ident(&target.name));
        let table_desc_sim = idf.cosine(&td(source), &td(target));
        Self {
            source,
            target,
            cols_s,
            cols_t,
            idf,
            exp,
            example_facts,
            examples: &opts.examples,
            table_name_sim,
            table_desc_sim,
            semantic,
        }
    }

    fn semantic_of(&self, i: usize, j: usize) -> Semantic {
        self.semantic
            .as_ref()
            .and_then(|m| m.get(i)?.get(j).copied())
            .unwrap_or_default()
    }

    fn matrix(&self, facts: &[&Facts]) -> Vec<Vec<f64>> {
        self.cols_s
            .iter()
            .enumerate()
            .map(|(i, a)| {
                self.cols_t
                    .iter()
                    .enumerate()
                    .map(|(j, b)| {
                        // rule II: columns that cannot hold the same data never compete
                        // for a counterpart
                        if super::local::types_incompatible(a, b) {
                            return 0.0;
                        }
                        let sem = self.semantic_of(i, j);
                        let ev = sm_evidence(a, b, &self.idf, &self.exp, facts, sem);
                        tracing::trace!(
                            source_column = %a.name, target_column = %b.name, score = ev.score,
                            name = ev.name_sim, desc = ev.desc_sim, values = ?ev.value_sim,
                            "column pair evidence"
                        );
                        ev.score
                    })
                    .collect()
            })
            .collect()
    }

    fn dak_items(&self) -> Vec<String> {
        let mut items = Vec::new();
        for t in [self.source, self.target] {
            if let Some(d) = &t.description {
                items.push(format!("{}: {d}", t.name));
            }
            for c in &t.columns {
                if let Some(d) = &c.description {
                    items.push(format!("{}-{}: {d}", t.name, c.name));
                }
            }
        }
        for (s, l) in &self.exp {
            items.push(format!("{s} is an abbreviation of {l}"));
        }
        items.sort();
        items.truncate(40);
        items
    }

    fn self_indicator(&self, i: usize, j: usize, m: &[Vec<f64>]) -> String {
        let (a, b) = (&self.cols_s[i], &self.cols_t[j]);
        format!(
            "A is column {} of table {} ({}), B is column {} of table {} ({}); concept similarity {:.3}.",
            a.name,
            a.table,
            a.data_type().as_str(),
            b.name,
            b.table,
            b.data_type().as_str(),
            m[i][j]
        )
    }

    /// How related the tables are: names, descriptions, share of columns with a strong match.
    fn table_relatedness(&self, m: &[Vec<f64>], threshold: f64) -> f64 {
        let strong = m
            .iter()
            .filter(|row| row.iter().any(|&s| s >= threshold * SM_MUTUAL_FLOOR))
            .count() as f64;
        let share = strong / m.len().max(1) as f64;
        self.table_name_sim.max(self.table_desc_sim).max(share)
    }

    fn local_decision(
        &self,
        i: usize,
        j: usize,
        m: &[Vec<f64>],
        assign: &[Option<usize>],
        rules: &RuleSet,
        threshold: f64,
    ) -> Decision {
        let (a, b) = (&self.cols_s[i], &self.cols_t[j]);
        let s = m[i][j];
        let rel = self.table_relatedness(m, threshold);
        evaluate_rules(rules, s, |c| match c {
            Check::TypeIncompatible => {
                let (ta, tb) = (a.data_type(), b.data_type());
                Some((
                    super::local::types_incompatible(a, b),
                    format!(
                        "{} is {}, {} is {}",
                        a.name,
                        ta.as_str(),
                        b.name,
                        tb.as_str()
                    ),
                ))
            }
            Check::TablesUnrelated => Some((
                rel < 0.2,
                format!(
                    "table relatedness {rel:.2} (names {:.2}, descriptions {:.2}, share of strongly matching columns)",
                    self.table_name_sim, self.table_desc_sim
                ),
            )),
            Check::DifferentConcept | Check::SameConcept => {
                // same concept: the pair is in the one-to-one assignment of the request's
                // columns (strongest pairs first, each column used once) and reaches the
                // floor (DaK: no other pair of the request claims either column more
                // strongly)
                let floor = threshold * SM_MUTUAL_FLOOR;
                let row_taken = assign[i].filter(|&x| x != j);
                let col_taken = (0..assign.len()).find(|&y| y != i && assign[y] == Some(j));
                let mut why = format!(
                    "concept similarity {s:.3} (names {:.2}, values {}) vs floor {floor:.2} for a one-to-one match",
                    sm_name_sim(a, b, &self.exp, self.semantic_of(i, j)),
                    a.values.len().min(b.values.len())
                );
                let different = s < floor || assign[i] != Some(j);
                if let Some(x) = row_taken {
                    why.push_str(&format!(
                        "; {} matches {} better ({:.3})",
                        a.name, self.cols_t[x].name, m[i][x]
                    ));
                }
                if let Some(y) = col_taken {
                    why.push_str(&format!(
                        "; {} matches {} better ({:.3})",
                        b.name, self.cols_s[y].name, m[y][j]
                    ));
                }
                Some((
                    if c == Check::DifferentConcept {
                        different
                    } else {
                        !different
                    },
                    why,
                ))
            }
            _ => None,
        })
    }

    fn demonstrations(&self, i: usize, j: usize, rules: &RuleSet, k: usize) -> Vec<Demonstration> {
        if self.examples.is_empty() {
            return Vec::new();
        }
        let q = format!("{} {}", self.cols_s[i].name, self.cols_t[j].name);
        top_k(self.examples, &q, k.max(1), |e| {
            format!("{} {}", e.source, e.target)
        })
        .into_iter()
        .map(|x| {
            let e = &self.examples[x];
            Demonstration {
                pair: format!("Column A: {}\nColumn B: {}", e.source, e.target),
                reasoning: generic_reasoning(rules, e.is_match),
                answer: e.is_match,
            }
        })
        .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rec(v: serde_json::Value) -> Record {
        v.as_object().cloned().unwrap()
    }

    fn engine() -> super::super::Engine {
        super::super::Engine::new(&LlmConfig::default(), &MatchingConfig::default()).unwrap()
    }

    #[tokio::test]
    async fn em_rules_and_trace() {
        let e = engine();
        let pairs = vec![
            EntityPair {
                left: rec(
                    json!({"name": "International Business Machines", "city": "Armonk", "phone": "914-499-1900"}),
                ),
                right: rec(json!({"name": "IBM", "city": "Armonk", "phone": "(914) 499 1900"})),
            },
            EntityPair {
                left: rec(json!({"name": "Apple Pan", "city": "West LA", "phone": "310-475-3585"})),
                right: rec(
                    json!({"name": "apple pan the", "city": "west la", "phone": "310/475-3585"}),
                ),
            },
            EntityPair {
                left: rec(
                    json!({"name": "Asahi Ramen", "city": "West LA", "phone": "310-479-2231"}),
                ),
                right: rec(
                    json!({"name": "Spago", "city": "Beverly Hills", "phone": "310-385-0880"}),
                ),
            },
            EntityPair {
                left: rec(
                    json!({"name": "Big Apple Deli", "city": "New York", "phone": "212-555-0100"}),
                ),
                right: rec(
                    json!({"name": "Manhattan Sandwiches", "city": "New York", "phone": "212-555-0100"}),
                ),
            },
        ];
        let opts = EntityOptions {
            knowledge: vec!["Big Apple Deli is an alias of Manhattan Sandwiches".into()],
            ..Default::default()
        };
        let r = e.match_entities(&pairs, &opts).await.unwrap();
        assert!(r[0].is_match, "{:#?}", r[0]);
        assert!(r[0].rule.starts_with("II"), "{}", r[0].rule);
        assert!(r[1].is_match, "{:#?}", r[1]);
        assert!(!r[2].is_match, "{:#?}", r[2]);
        assert!(r[3].is_match, "{:#?}", r[3]);
        assert!(
            r[3].reasoning
                .iter()
                .any(|l| l.contains("[user]") && l.contains("III")),
            "{:#?}",
            r[3].reasoning
        );
        assert!(
            r.iter()
                .all(|x| x.badly_formatted == 0 && !x.reasoning.is_empty())
        );
        assert!(r[2].reasoning.last().unwrap().contains("IntGE vote"));
    }

    #[tokio::test]
    async fn em_examples_vote() {
        let e = engine();
        let pairs = vec![EntityPair {
            left: rec(json!({"name": "Big Apple", "city": "x"})),
            right: rec(json!({"name": "New York City", "city": "x"})),
        }];
        let opts = EntityOptions {
            examples: vec![EntityExample {
                left: rec(json!({"name": "Big Apple", "city": "y"})),
                right: rec(json!({"name": "New York City", "city": "y"})),
                is_match: true,
            }],
            ..Default::default()
        };
        let r = e.match_entities(&pairs, &opts).await.unwrap();
        assert!(
            r[0].reasoning.iter().any(|l| l.starts_with("[examples]")),
            "{:#?}",
            r[0]
        );
        assert!(
            e.match_entities(
                &pairs,
                &EntityOptions {
                    threshold: Some(2.0),
                    ..Default::default()
                }
            )
            .await
            .is_err()
        );
    }

    #[test]
    fn value_lists_are_distinct_text_samples_only() {
        let col = |samples: serde_json::Value| super::super::Column {
            name: "c".into(),
            data_type: None,
            description: None,
            samples: serde_json::from_value(samples).unwrap(),
        };
        assert_eq!(
            value_list(&col(json!([
                "Burwood", "", "Albury", "Burwood", "hill end"
            ])))
            .as_deref(),
            Some("Burwood, Albury, hill end")
        );
        let many: Vec<String> = (0..40).map(|i| format!("town{i}x")).collect();
        let l = value_list(&col(json!(many))).unwrap();
        assert_eq!(l.split(", ").count(), VALUE_LIST_LEN);
        // numbers, dates and empty columns are compared by their distributions instead
        assert_eq!(value_list(&col(json!(["2795", "4311", 4670]))), None);
        assert_eq!(value_list(&col(json!(["1999-01-02", "2001-03-04"]))), None);
        assert_eq!(value_list(&col(json!([]))), None);
    }

    #[test]
    fn one_to_one_takes_strongest_pairs_first() {
        let m = vec![
            vec![0.9, 0.8, 0.0],
            vec![0.85, 0.5, 0.0],
            vec![0.0, 0.0, 0.1],
        ];
        // row 0 takes column 0; row 1 gets column 1, not its best; row 2 is below the floor
        assert_eq!(one_to_one(&m, 0.3), vec![Some(0), Some(1), None]);
        assert_eq!(one_to_one(&m, 0.86), vec![Some(0), None, None]);
    }

    fn table(name: &str, cols: &[(&str, Option<&str>, serde_json::Value)]) -> Table {
        Table {
            name: name.into(),
            description: None,
            columns: cols
                .iter()
                .map(|(n, t, s)| super::super::Column {
                    name: n.to_string(),
                    data_type: t.map(str::to_string),
                    description: None,
                    samples: s.as_array().cloned().unwrap_or_default(),
                })
                .collect(),
        }
    }

    #[tokio::test]
    async fn sm_matches_renamed_columns() {
        let e = engine();
        let s = table(
            "customers",
            &[
                (
                    "given_name",
                    Some("varchar"),
                    json!(["john", "mary", "kate", "liam"]),
                ),
                (
                    "date_of_birth",
                    Some("date"),
                    json!(["1980-01-02", "1975-03-04", "1990-05-06"]),
                ),
                ("postcode", Some("int"), json!([2000, 2600, 4000, 3000])),
                ("is_active", Some("bool"), json!([true, false])),
            ],
        );
        let t = table(
            "tgt_customer",
            &[
                ("gvnNm", None, json!(["john", "kate", "noah", "mary"])),
                (
                    "dob",
                    None,
                    json!(["1980-01-02", "1991-07-08", "1975-03-04"]),
                ),
                ("zip", None, json!([2000, 2600, 5000, 4000])),
                ("flag", None, json!([true, true, false])),
            ],
        );
        let m = e
            .match_schema(&s, &t, &SchemaOptions::default())
            .await
            .unwrap();
        let got: Vec<(String, String)> = m
            .iter()
            .map(|x| (x.source.clone(), x.target.clone()))
            .collect();
        for want in [
            ("given_name", "gvnNm"),
            ("date_of_birth", "dob"),
            ("postcode", "zip"),
        ] {
            assert!(
                got.contains(&(want.0.into(), want.1.into())),
                "{want:?} missing in {got:?}: {m:#?}"
            );
        }
        assert!(!got.contains(&("postcode".into(), "gvnNm".into())));
        assert!(
            m.iter()
                .all(|x| x.rule.starts_with('V') && !x.reasoning.is_empty())
        );
        let opts = SchemaOptions {
            examples: vec![super::super::SchemaExample {
                source: "is_active".into(),
                target: "flag".into(),
                is_match: false,
            }],
            ..Default::default()
        };
        let m2 = e.match_schema(&s, &t, &opts).await.unwrap();
        assert!(!m2.iter().any(|x| {
            x.source == "is_active"
                && x.target == "flag"
                && x.reasoning
                    .iter()
                    .any(|l| l.starts_with("[examples] answer yes"))
        }));
    }

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
                },
            )
            .await
            .unwrap_err();
        assert!(err.to_string().contains("split_threshold"), "{err}");
    }
}
