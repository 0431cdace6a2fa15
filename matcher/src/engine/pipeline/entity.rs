//! Entity matching: whether each pair of records describes the same thing. Per request,
//! [`EmContext`] prepares the records, estimates the comparison model from the request's
//! own pairs (DaK) and finds the closest labelled examples (EaK); each knowledge source
//! then decides through the embedded rules, or is asked of the LLM, and the votes combine.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::OnceLock;

use futures::StreamExt;

use super::{Pipeline, Verdict, Vote, check_threshold, combine, generic_reasoning};
use crate::engine::fs::{FieldSpec, FsModel, Prepared, compare, infer_fields, prepare};
use crate::engine::knowledge::{
    ExampleText, Facts, Knowledge, Source, StoredExamples, joined_grams, top_k_grams,
};
use crate::engine::linkage;
use crate::engine::local::{Decision, EmEvidence, NameFields};
use crate::engine::prompt::{Demonstration, serialize_record};
use crate::engine::rules::RuleSet;
use crate::engine::{EngineError, EntityExample, EntityOptions, EntityPair, MatchResult};

impl Pipeline {
    pub async fn match_entities(
        &self,
        pairs: &[EntityPair],
        opts: &EntityOptions,
    ) -> Result<Vec<MatchResult>, EngineError> {
        self.match_entities_with(pairs, opts, &StoredExamples::default())
            .await
    }

    /// [`Self::match_entities`] with stored examples (a tenant's feedback) besides the
    /// request's own `opts.examples`: both are borrowed, never copied, and the stored ones'
    /// trigrams come with their snapshot.
    pub async fn match_entities_with(
        &self,
        pairs: &[EntityPair],
        opts: &EntityOptions,
        stored: &StoredExamples<EntityExample>,
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
            (&opts.examples, stored),
            &opts.knowledge,
            self.cfg.demonstrations,
        );
        let rules = &self.rules.em;
        let mut plans = Vec::with_capacity(pairs.len());
        for i in 0..pairs.len() {
            plans.push(em.plan(self, i));
        }
        match &self.chat {
            None => Ok(plans
                .iter()
                .enumerate()
                .map(|(i, plan)| {
                    let votes: Vec<Vote> = plan
                        .iter()
                        .map(|(src, k)| {
                            Vote::local(*src, em.local_decision(i, *src, k, rules, threshold))
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
                        let votes = self
                            .llm_votes(chat, rules, &plan, &demos, &pair_text, &si)
                            .await?;
                        Ok(verdict_to_result(combine(&si, &votes, threshold)))
                    }
                });
                let out: Vec<Result<MatchResult, EngineError>> =
                    futures::stream::iter(futs).buffered(par).collect().await;
                out.into_iter().collect()
            }
        }
    }
}

impl ExampleText for EntityExample {
    fn text(&self) -> String {
        format!(
            "{} {}",
            serialize_record(&self.left),
            serialize_record(&self.right)
        )
    }
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

/// Per-request state of entity matching.
struct EmContext<'a> {
    pairs: &'a [EntityPair],
    /// The request's examples, then the stored ones (references: a tenant's stored
    /// examples can be megabytes).
    examples: Vec<&'a EntityExample>,
    own: &'a [EntityExample],
    stored: &'a StoredExamples<EntityExample>,
    /// Each example's trigrams, on first use: the request's computed, the stored borrowed.
    example_grams: OnceLock<Vec<Cow<'a, [u64]>>>,
    /// Per pair, the indices of its k nearest examples, chosen on first use.
    nearest: Vec<OnceLock<Vec<usize>>>,
    fields: Vec<FieldSpec>,
    names: NameFields,
    a: Vec<Prepared>,
    b: Vec<Prepared>,
    v: Vec<Vec<u8>>,
    /// The comparison model: u from the request's records, m from its pairs when there
    /// are enough of them.
    dataset: FsModel,
    user: Knowledge,
    k: usize,
    by_name: HashMap<String, Vec<(usize, bool)>>,
}

impl<'a> EmContext<'a> {
    fn new(
        pairs: &'a [EntityPair],
        (own, stored): (&'a [EntityExample], &'a StoredExamples<EntityExample>),
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
        base.names = names.names.clone();
        let field_names: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
        base.groups = crate::engine::lexicon::dependency_groups(&field_names);
        let n = pairs.len();
        if n >= 3 {
            base.estimate_u(&a, &b, 5000, 7, true);
        }
        let mut dataset = base.clone();
        if n >= linkage::MIN_EM_PAIRS {
            dataset.estimate_m(v.iter().map(Vec::as_slice), 30, 0.9);
        }
        // what agrees beyond the name is read from the fitted weights, as the batch
        // paths read it (a sex, agreeing between half of all pairs, is not such a field)
        let names = names.with_close_levels(&dataset);
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
            examples: own.iter().chain(stored.items()).collect(),
            own,
            stored,
            example_grams: OnceLock::new(),
            nearest: (0..n).map(|_| OnceLock::new()).collect(),
            fields,
            names,
            a,
            b,
            v,
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
        for rec in [&self.a[i], &self.b[i]] {
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

    /// EaK: the k most similar examples (borrowed; chosen once per pair).
    fn top_examples(&self, i: usize) -> Vec<&'a EntityExample> {
        if self.examples.is_empty() {
            return Vec::new();
        }
        let grams = self
            .example_grams
            .get_or_init(|| joined_grams(self.own, self.stored));
        self.nearest[i]
            .get_or_init(|| {
                let q = format!(
                    "{} {}",
                    serialize_record(&self.pairs[i].left),
                    serialize_record(&self.pairs[i].right)
                );
                top_k_grams(grams, &q, self.k.max(1))
            })
            .iter()
            .map(|&x| self.examples[x])
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
    fn plan(&self, p: &Pipeline, i: usize) -> Vec<(Source, Knowledge)> {
        p.gather_knowledge(
            || Knowledge::from_items(self.dak_items(i)),
            || {
                let ex = self.top_examples(i);
                if ex.is_empty() {
                    return None;
                }
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
                Some(k)
            },
            &self.user,
        )
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

#[cfg(test)]
mod tests {
    use crate::engine::knowledge::StoredExamples;
    use crate::engine::pipeline::testing::{engine, rec};
    use crate::engine::{EntityExample, EntityOptions, EntityPair};
    use serde_json::json;

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

    /// Stored examples (a tenant's, borrowed) are the same knowledge as the request's own:
    /// the same answers, the `[examples]` vote included; none, no such vote.
    #[tokio::test]
    async fn stored_examples_count_like_the_request_s_own() {
        let e = engine();
        let pairs = vec![EntityPair {
            left: rec(json!({"name": "Big Apple", "city": "x"})),
            right: rec(json!({"name": "New York City", "city": "x"})),
        }];
        let stored: Vec<EntityExample> = (0..30)
            .map(|i| EntityExample {
                left: rec(json!({"name": format!("Big Apple {i}"), "city": "y"})),
                right: rec(json!({"name": "New York City", "city": "y"})),
                is_match: i % 3 != 0,
            })
            .collect();
        let own = EntityOptions {
            examples: stored.clone(),
            ..Default::default()
        };
        let a = e.match_entities(&pairs, &own).await.unwrap();
        let snapshot = StoredExamples::new(stored);
        let b = e
            .match_entities_with(&pairs, &EntityOptions::default(), &snapshot)
            .await
            .unwrap();
        assert_eq!(a, b);
        assert!(b[0].reasoning.iter().any(|l| l.starts_with("[examples]")));
        let none = e
            .match_entities_with(
                &pairs,
                &EntityOptions::default(),
                &StoredExamples::default(),
            )
            .await
            .unwrap();
        assert!(
            !none[0]
                .reasoning
                .iter()
                .any(|l| l.starts_with("[examples]"))
        );
    }
}
