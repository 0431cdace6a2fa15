//! Schema matching: which columns of two tables hold the same attribute. Per request,
//! [`SmContext`] describes every column (name, type, description, sample values, and
//! embeddings when configured), scores every column pair per knowledge source and assigns
//! them one to one; each pair is then decided through the embedded rules, or asked of
//! the LLM, and the votes combine.

use std::collections::{HashMap, HashSet};

use futures::StreamExt;

use super::{Pipeline, Verdict, Vote, check_threshold, combine, generic_reasoning};
use crate::engine::embed::{calibrate, calibrate_values, cosine};
use crate::engine::knowledge::{
    ExampleText, Facts, Knowledge, StoredExamples, joined_grams, top_k_grams,
};
use crate::engine::local::{
    DataType, Decision, Semantic, SmColumn, evaluate_rules, learn_expansions, sm_evidence,
};
use crate::engine::prompt::{Demonstration, serialize_column};
use crate::engine::rules::{Check, RuleSet};
use crate::engine::text::{Idf, split_identifier, trigram_sim};
use crate::engine::{
    Column, EngineError, SchemaExample, SchemaMatch, SchemaOptions, Table, value_text,
};

impl Pipeline {
    pub async fn match_schema(
        &self,
        source: &Table,
        target: &Table,
        opts: &SchemaOptions,
    ) -> Result<Vec<SchemaMatch>, EngineError> {
        self.match_schema_with(source, target, opts, &StoredExamples::default())
            .await
    }

    /// [`Self::match_schema`] with stored examples (a tenant's feedback) besides the
    /// request's own `opts.examples`: both are borrowed, never copied.
    pub async fn match_schema_with(
        &self,
        source: &Table,
        target: &Table,
        opts: &SchemaOptions,
        stored: &StoredExamples<SchemaExample>,
    ) -> Result<Vec<SchemaMatch>, EngineError> {
        let threshold = check_threshold(
            opts.threshold.unwrap_or(self.cfg.schema_threshold),
            "threshold",
        )?;
        if source.columns.is_empty() || target.columns.is_empty() {
            return Ok(Vec::new());
        }
        let semantic = self.semantic(source, target).await?;
        let examples: Vec<&SchemaExample> = opts.examples.iter().chain(stored.items()).collect();
        let sm = SmContext::new(source, target, &examples, semantic);
        let grams = std::sync::OnceLock::new();
        let grams = || grams.get_or_init(|| joined_grams(&opts.examples, stored));
        let rules = &self.rules.sm;
        let sources = self.gather_knowledge(
            || Knowledge::from_items(sm.dak_items()),
            || {
                if sm.examples.is_empty() {
                    return None;
                }
                let items = sm
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
                Some(k)
            },
            &Knowledge::from_items(opts.knowledge.clone()),
        );
        // local evidence per source: score matrices
        let mats: Vec<Vec<Vec<f64>>> = sources
            .iter()
            .map(|(_, k)| sm.matrix(&[&k.facts]))
            .collect();
        // a matrix computed for nobody (its rows left empty) ends here
        crate::engine::cancel::check()?;
        let floor = threshold * SM_MUTUAL_FLOOR;
        let assigns: Vec<Vec<Option<usize>>> = mats.iter().map(|m| one_to_one(m, floor)).collect();
        let (ns, nt) = (source.columns.len(), target.columns.len());
        // once per matrix, not per pair (a whole-matrix scan per pair made it quartic)
        let views: Vec<MatrixView> = mats
            .iter()
            .zip(&assigns)
            .map(|(m, a)| MatrixView::new(m, a, sm.table_relatedness(m, threshold), nt))
            .collect();
        let mut out = Vec::new();
        let mut llm_jobs = Vec::new();
        for i in 0..ns {
            crate::engine::cancel::check()?;
            for j in 0..nt {
                match &self.chat {
                    // the votes' answers first, without their reasoning: of a wide
                    // request's million pairs only the few that match are written out
                    None if !sm.local_match(i, j, &views, rules, threshold) => {}
                    None => {
                        let si = sm.self_indicator(i, j, &mats[0]);
                        let votes: Vec<Vote> = sources
                            .iter()
                            .zip(&views)
                            .map(|((src, _), view)| {
                                Vote::local(*src, sm.local_decision(i, j, view, rules, threshold))
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
                    Some(_) => llm_jobs.push((i, j, sm.self_indicator(i, j, &mats[0]))),
                }
            }
        }
        if let Some(chat) = &self.chat {
            let par = self.cfg.max_parallel.max(1);
            let sources = &sources;
            let sm = &sm;
            let grams = &grams;
            let futs = llm_jobs.into_iter().map(|(i, j, local_si)| async move {
                // polled on the request's thread: a cancelled request asks no more
                crate::engine::cancel::check()?;
                let pair = format!(
                    "Column A: {}\nColumn B: {}",
                    serialize_column(source, &source.columns[i]),
                    serialize_column(target, &target.columns[j])
                );
                let si = self.llm_self_indicator(chat, &pair, &local_si).await;
                let demos = self
                    .summarize_demonstrations(
                        chat,
                        sm.demonstrations(i, j, rules, self.cfg.demonstrations, grams()),
                    )
                    .await;
                let votes = self
                    .llm_votes(chat, rules, sources, &demos, &pair, &si)
                    .await?;
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
        let cols: Vec<&Column> = source.columns.iter().chain(&target.columns).collect();
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
/// One knowledge source's score matrix with what every pair's decision reads of it,
/// computed once: the one-to-one assignment both ways and the table relatedness.
struct MatrixView<'m> {
    m: &'m [Vec<f64>],
    /// Source column → its assigned target column.
    assign: &'m [Option<usize>],
    /// Target column → the source column assigned to it.
    owner: Vec<Option<usize>>,
    relatedness: f64,
}

impl<'m> MatrixView<'m> {
    fn new(m: &'m [Vec<f64>], assign: &'m [Option<usize>], relatedness: f64, nt: usize) -> Self {
        let mut owner = vec![None; nt];
        for (i, a) in assign.iter().enumerate() {
            if let Some(j) = *a
                && j < nt
                && owner[j].is_none()
            {
                owner[j] = Some(i);
            }
        }
        Self {
            m,
            assign,
            owner,
            relatedness,
        }
    }
}

impl ExampleText for SchemaExample {
    fn text(&self) -> String {
        format!("{} {}", self.source, self.target)
    }
}

struct SmContext<'a> {
    source: &'a Table,
    target: &'a Table,
    cols_s: Vec<SmColumn>,
    cols_t: Vec<SmColumn>,
    idf: Idf,
    exp: HashMap<String, String>,
    example_facts: Facts,
    /// The request's examples, then the stored ones (borrowed).
    examples: &'a [&'a SchemaExample],
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
fn value_list(c: &Column) -> Option<String> {
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
        examples: &'a [&'a SchemaExample],
        semantic: Option<Vec<Vec<Semantic>>>,
    ) -> Self {
        // DaK: descriptions of same-named columns elsewhere in the request fill gaps
        let mut desc: HashMap<String, String> = HashMap::new();
        for c in source.columns.iter().chain(&target.columns) {
            if let Some(d) = &c.description {
                desc.entry(ident(&c.name)).or_insert_with(|| d.clone());
            }
        }
        let mk = |t: &Table, c: &Column| {
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
        let td = |t: &Table| crate::engine::text::tokens(t.description.as_deref().unwrap_or(""));
        docs.push(td(source));
        docs.push(td(target));
        let idf = Idf::fit(docs.iter().map(Vec::as_slice));
        let exp = learn_expansions(&cols_s, &cols_t);
        let mut example_facts = Facts::default();
        for e in examples {
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
            examples,
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
        use rayon::prelude::*;
        // rows in parallel: a wide request (1,000 × 1,000 columns) is a million pairs; the
        // rows left once the request is cancelled are not computed
        let cancel = crate::engine::cancel::current();
        self.cols_s
            .par_iter()
            .enumerate()
            .map(|(i, a)| {
                if crate::engine::cancel::raised(cancel.as_ref()) {
                    return vec![0.0; self.cols_t.len()];
                }
                self.cols_t
                    .iter()
                    .enumerate()
                    .map(|(j, b)| {
                        // rule II: columns that cannot hold the same data never compete
                        // for a counterpart
                        if crate::engine::local::types_incompatible(a, b) {
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

    /// Whether a check holds for the pair `i`, `j` of one source's matrix (`None`: no
    /// local evidence for it), what [`Self::local_decision`] explains.
    fn local_check(
        &self,
        i: usize,
        j: usize,
        view: &MatrixView,
        threshold: f64,
        c: Check,
    ) -> Option<bool> {
        match c {
            Check::TypeIncompatible => Some(crate::engine::local::types_incompatible(
                &self.cols_s[i],
                &self.cols_t[j],
            )),
            Check::TablesUnrelated => Some(view.relatedness < 0.2),
            Check::DifferentConcept | Check::SameConcept => {
                let floor = threshold * SM_MUTUAL_FLOOR;
                let different = view.m[i][j] < floor || view.assign[i] != Some(j);
                Some(if c == Check::DifferentConcept {
                    different
                } else {
                    !different
                })
            }
            _ => None,
        }
    }

    /// Whether the local votes of every source's matrix make the pair a match: the
    /// verdict of [`combine`] over [`Self::local_decision`]s, without their reasoning.
    fn local_match(
        &self,
        i: usize,
        j: usize,
        views: &[MatrixView],
        rules: &RuleSet,
        threshold: f64,
    ) -> bool {
        let n = views.len();
        let yes = views
            .iter()
            .filter(|v| {
                crate::engine::local::rules_answer(rules, |c| {
                    self.local_check(i, j, v, threshold, c)
                })
            })
            .count();
        let score = views.iter().map(|v| v.m[i][j]).sum::<f64>() / n.max(1) as f64;
        n > 0 && (yes * 2 > n || (yes * 2 == n && score >= threshold))
    }

    fn local_decision(
        &self,
        i: usize,
        j: usize,
        view: &MatrixView,
        rules: &RuleSet,
        threshold: f64,
    ) -> Decision {
        let (m, assign, rel) = (view.m, view.assign, view.relatedness);
        let (a, b) = (&self.cols_s[i], &self.cols_t[j]);
        let s = m[i][j];
        evaluate_rules(rules, s, |c| match c {
            Check::TypeIncompatible => {
                let (ta, tb) = (a.data_type(), b.data_type());
                Some((
                    self.local_check(i, j, view, threshold, c)?,
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
                self.local_check(i, j, view, threshold, c)?,
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
                let col_taken = view.owner[j].filter(|&y| y != i);
                let mut why = format!(
                    "concept similarity {s:.3} (names {:.2}, values {}) vs floor {floor:.2} for a one-to-one match",
                    sm_name_sim(a, b, &self.exp, self.semantic_of(i, j)),
                    a.values.len().min(b.values.len())
                );
                let different = self.local_check(i, j, view, threshold, Check::DifferentConcept)?;
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

    /// The k stored or given examples nearest to column pair `(i, j)` (`grams`: theirs,
    /// in order, from [`joined_grams`]).
    fn demonstrations(
        &self,
        i: usize,
        j: usize,
        rules: &RuleSet,
        k: usize,
        grams: &[std::borrow::Cow<'_, [u64]>],
    ) -> Vec<Demonstration> {
        if self.examples.is_empty() {
            return Vec::new();
        }
        let q = format!("{} {}", self.cols_s[i].name, self.cols_t[j].name);
        top_k_grams(grams, &q, k.max(1))
            .into_iter()
            .map(|x| {
                let e = self.examples[x];
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
    use crate::engine::pipeline::testing::engine;
    use serde_json::json;

    #[test]
    fn value_lists_are_distinct_text_samples_only() {
        let col = |samples: serde_json::Value| Column {
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
                .map(|(n, t, s)| Column {
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
            examples: vec![SchemaExample {
                source: "is_active".into(),
                target: "flag".into(),
                is_match: false,
            }],
            ..Default::default()
        };
        let m2 = e.match_schema(&s, &t, &opts).await.unwrap();
        // the same example stored (a tenant's, borrowed) is the same knowledge
        let stored = StoredExamples::new(opts.examples.clone());
        let m3 = e
            .match_schema_with(&s, &t, &SchemaOptions::default(), &stored)
            .await
            .unwrap();
        assert_eq!(m2, m3);
        assert_ne!(m, m2, "the example changed the answer");
        assert!(!m2.iter().any(|x| {
            x.source == "is_active"
                && x.target == "flag"
                && x.reasoning
                    .iter()
                    .any(|l| l.starts_with("[examples] answer yes"))
        }));
    }
}
