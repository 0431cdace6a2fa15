//! The KcMF pipeline: pairs → knowledge per source (DaK, EaK, user) →
//! one evaluation of the rules per source (embedded backbone or LLM) → the
//! inconsistency-tolerant generation ensemble (IntGE): majority vote, badly formatted
//! answers dropped as "no" and counted.
//!
//! This module holds what the tasks share: the [`Pipeline`] state and its backbone, the
//! vote ([`combine`]), the knowledge each source of the ensemble contributes, and the LLM
//! questions (one per source, a failed source left out of the vote). The tasks are
//! `entity` (entity matching: [`Pipeline::match_entities`]), `schema` (schema matching:
//! [`Pipeline::match_schema`], and the greedy [`one_to_one`] assignment) and `dedup`
//! ([`Pipeline::dedup`]: blocking and scoring, the LLM asked about plausible pairs).

mod dedup;
mod entity;
mod schema;

use std::sync::Arc;
use std::time::Duration;

use super::EngineError;
use super::embed::Embedder;
use super::knowledge::{Knowledge, Source};
use super::llm::{CachedChat, ChatModel, LlmCache, OpenAiClient};
use super::local::Decision;
use super::prompt::{Demonstration, build_messages, parse_answer, self_indicator_messages};
use super::rules::{RuleSet, Rules};
use crate::config::{BackboneKind, LlmConfig, MatchingConfig};

pub use schema::{SM_MUTUAL_FLOOR, one_to_one};

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

impl Vote {
    /// The embedded backbone's decision as `source`'s vote (always a clean yes or no).
    fn local(source: Source, d: Decision) -> Self {
        Vote {
            source,
            answer: Some(d.is_match),
            score: d.score,
            rule: d.rule,
            condition: d.condition,
            trace: d.trace,
        }
    }
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
                    "unknown knowledge source {s:?} in matching.ensemble (dataset, examples, user)"
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
            ttl: Duration::from_secs(self.llm_cfg.cache_ttl),
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

    /// What each knowledge source of the ensemble knows about one question, in ensemble
    /// order. A source with nothing to say is left out; when none has anything, the
    /// dataset speaks alone.
    fn gather_knowledge(
        &self,
        dataset: impl Fn() -> Knowledge,
        examples: impl Fn() -> Option<Knowledge>,
        user: &Knowledge,
    ) -> Vec<(Source, Knowledge)> {
        let mut out = Vec::new();
        for s in &self.ensemble {
            match s {
                Source::Dataset => out.push((Source::Dataset, dataset())),
                Source::Examples => {
                    if let Some(k) = examples() {
                        out.push((Source::Examples, k));
                    }
                }
                Source::User => {
                    if !user.is_empty() {
                        out.push((Source::User, user.clone()));
                    }
                }
            }
        }
        if out.is_empty() {
            out.push((Source::Dataset, dataset()));
        }
        out
    }

    /// Asks the LLM once per knowledge source about the serialized `pair`. A source whose
    /// call fails is left out of the vote; only when no source voted is the (first) error
    /// returned.
    async fn llm_votes(
        &self,
        chat: &CachedChat,
        rules: &RuleSet,
        sources: &[(Source, Knowledge)],
        demos: &[Demonstration],
        pair: &str,
        self_indicator: &str,
    ) -> Result<Vec<Vote>, EngineError> {
        let mut votes = Vec::with_capacity(sources.len());
        let mut first_error = None;
        for (src, k) in sources {
            match self
                .llm_vote(chat, rules, *src, demos, pair, k, self_indicator)
                .await
            {
                Ok(v) => votes.push(v),
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        match first_error {
            Some(e) if votes.is_empty() => Err(e),
            _ => Ok(votes),
        }
    }
}

fn truncate(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
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

/// Helpers of the tasks' tests.
#[cfg(test)]
mod testing {
    use crate::config::{LlmConfig, MatchingConfig};
    use crate::engine::{Engine, Record};

    pub fn rec(v: serde_json::Value) -> Record {
        v.as_object().cloned().unwrap()
    }

    pub fn engine() -> Engine {
        Engine::new(&LlmConfig::default(), &MatchingConfig::default()).unwrap()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use async_trait::async_trait;
    use serde_json::json;

    use super::testing::rec;
    use crate::config::{LlmConfig, MatchingConfig};
    use crate::engine::llm::{ChatModel, ChatReply, LlmError};
    use crate::engine::prompt::ChatMessage;
    use crate::engine::{Column, Engine, EngineError, EntityOptions, EntityPair, SchemaOptions};
    use crate::engine::{SchemaMatch, Table};

    /// Answers "Yes", but fails on every prompt that mentions `fail_on`.
    struct Flaky {
        fail_on: &'static str,
    }

    #[async_trait]
    impl ChatModel for Flaky {
        fn name(&self) -> String {
            "flaky".into()
        }
        fn params(&self) -> String {
            String::new()
        }
        async fn chat(&self, messages: &[ChatMessage]) -> Result<ChatReply, LlmError> {
            if messages.iter().any(|m| m.content.contains(self.fail_on)) {
                return Err(LlmError::Model("refused".into()));
            }
            Ok(ChatReply {
                content: "Yes".into(),
                prompt_tokens: 0,
                completion_tokens: 0,
            })
        }
    }

    fn llm_engine(fail_on: &'static str) -> Engine {
        Engine::new(&LlmConfig::default(), &MatchingConfig::default())
            .unwrap()
            .with_chat_model(Arc::new(Flaky { fail_on }))
    }

    fn sources_voted(reasoning: &[String]) -> Vec<&str> {
        ["[dataset] answer", "[examples] answer", "[user] answer"]
            .into_iter()
            .filter(|s| reasoning.iter().any(|l| l.starts_with(s)))
            .collect()
    }

    /// A chat model installed after start-up (`Engine::with_chat_model`) caches its
    /// answers for `llm.cache_ttl`, as the configured backbone does.
    #[test]
    fn a_chat_model_set_later_keeps_the_configured_cache_ttl() {
        let llm = LlmConfig {
            cache_ttl: 120,
            ..LlmConfig::default()
        };
        let mut p = super::Pipeline::new(&llm, &MatchingConfig::default()).unwrap();
        p.set_chat_model(Arc::new(Flaky { fail_on: "never" }));
        assert_eq!(
            p.chat.as_ref().map(|c| c.ttl),
            Some(std::time::Duration::from_secs(120))
        );
    }

    /// No external knowledge provider exists: the engine refuses the source too (callers
    /// that build it without validating the configuration).
    #[test]
    fn external_knowledge_is_refused() {
        let cfg = MatchingConfig {
            ensemble: vec!["dataset".into(), "external".into()],
            ..MatchingConfig::default()
        };
        let e = match super::Pipeline::new(&LlmConfig::default(), &cfg) {
            Err(e) => e.to_string(),
            Ok(_) => panic!("`external` accepted"),
        };
        assert!(
            e.contains("matching.ensemble") && e.contains("external"),
            "{e}"
        );
    }

    #[tokio::test]
    async fn entity_votes_leave_out_a_failed_source_and_fail_when_none_voted() {
        let pairs = vec![EntityPair {
            left: rec(json!({"name": "Ann Lee", "city": "Perth"})),
            right: rec(json!({"name": "Ann Lee", "city": "Perth"})),
        }];
        let opts = EntityOptions {
            knowledge: vec!["Ann Lee: BROKEN-SOURCE".into()],
            ..Default::default()
        };
        // the user source's question fails; the dataset's vote decides alone
        let r = llm_engine("BROKEN-SOURCE")
            .match_entities(&pairs, &opts)
            .await
            .unwrap();
        assert!(r[0].is_match, "{:#?}", r[0]);
        assert_eq!(
            sources_voted(&r[0].reasoning),
            ["[dataset] answer"],
            "{:#?}",
            r[0]
        );
        assert!(
            r[0].reasoning
                .iter()
                .any(|l| l.contains("1 yes / 0 no of 1 sources"))
        );
        // every question fails: the error, not an empty vote
        let e = llm_engine("Entity A")
            .match_entities(&pairs, &opts)
            .await
            .unwrap_err();
        assert!(matches!(e, EngineError::Backbone { .. }), "{e:?}");
    }

    #[tokio::test]
    async fn schema_votes_leave_out_a_failed_source_and_fail_when_none_voted() {
        let table = |name: &str, col: &str| Table {
            name: name.into(),
            description: None,
            columns: vec![Column {
                name: col.into(),
                data_type: Some("varchar".into()),
                description: None,
                samples: vec![json!("2000"), json!("2600")],
            }],
        };
        let (s, t) = (table("people", "postcode"), table("persons", "zip"));
        let opts = SchemaOptions {
            knowledge: vec!["zip: BROKEN-SOURCE".into()],
            ..Default::default()
        };
        let m: Vec<SchemaMatch> = llm_engine("BROKEN-SOURCE")
            .match_schema(&s, &t, &opts)
            .await
            .unwrap();
        assert_eq!(m.len(), 1, "{m:#?}");
        assert_eq!(sources_voted(&m[0].reasoning), ["[dataset] answer"]);
        let e = llm_engine("Column A")
            .match_schema(&s, &t, &opts)
            .await
            .unwrap_err();
        assert!(matches!(e, EngineError::Backbone { .. }), "{e:?}");
    }
}
