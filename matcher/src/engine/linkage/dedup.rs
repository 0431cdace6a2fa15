//! Deduplicating one file: blocking, the fit, scoring and clustering, and the extra
//! candidates an entity of many records needs ([`entity_blocks`]).

use super::score::{edge_evidence, score_all};
use super::*;

/// Deduplicates `records`: the matched pairs and their clusters (connected components).
pub fn dedup(records: &[Record], examples: &[EntityExample], opts: &LinkOptions) -> DedupOutput {
    let fields = infer_fields(records.iter());
    let a: Vec<Prepared> = records.par_iter().map(|r| prepare(&fields, r)).collect();
    dedup_prepared(fields, &a, examples, opts)
}

/// [`dedup`] on records already prepared against `fields` (large inputs are read straight
/// into this compact form). Only matched pairs are kept (`link.pairs`); a million records
/// give millions of candidates, and the rest only ever counted.
pub fn dedup_prepared(
    fields: Vec<FieldSpec>,
    a: &[Prepared],
    examples: &[EntityExample],
    opts: &LinkOptions,
) -> DedupOutput {
    let t0 = std::time::Instant::now();
    let (mut cand, big) = dedup_candidates_and_big(&fields, a, &opts.blocking);
    let blocked = cand.len();
    let t1 = t0.elapsed();
    let mut flat = vectors(&fields, a, a, &cand);
    let t2 = t0.elapsed();
    let labelled = examples_vectors(&fields, &fields, examples);
    let mut model = fit(&fields, a, a, &flat, &labelled, opts, true);
    let (mut fields, mut a) = (fields, a);
    let projected: Vec<Prepared>;
    if let Some(m) = Unrelated::find(&model, &flat, &fields) {
        let refit = m.refit_dedup(&fields, a, &flat, examples, opts);
        (fields, projected, flat, model) = refit;
        a = &projected;
    }
    let forced = labels::dedup_labels(&fields, a, examples);
    let extra = entity_blocks(&fields, &model, a, &big, &cand, opts.threshold);
    add_candidates(&fields, a, a, extra, &mut cand, &mut flat);
    let t3 = t0.elapsed();
    if tracing::enabled!(tracing::Level::TRACE) {
        for (f, spec) in fields.iter().enumerate() {
            tracing::trace!(field = %spec.name, m = ?model.m[f], u = ?model.u[f], "dedup model");
        }
        tracing::trace!(
            lambda = model.lambda,
            iterations = model.iterations,
            "dedup model"
        );
    }
    let tf = TermFrequencies::count(&fields, &[a]);
    let keep_scores = opts.keep_candidates && opts.keep_scores;
    let scoring = Scoring {
        fields: &fields,
        model: &model,
        a,
        cand: &cand,
        flat: &flat,
        blocked,
        forced: &forced,
        opts,
        keep_scores,
    };
    let mut round = scoring.round(&tf);
    // An entity of many records makes its own name look common: 425 mentions of one
    // inventor are 3% of the file, and agreeing on the name then costs bits it should
    // bring. With the first round's clusters known, a record's name is counted by the
    // records holding it outside its cluster, and the pairs are scored once more.
    if round.clusters.iter().map(Vec::len).max().unwrap_or(0) >= HEAVY_CLUSTER {
        let names = NameFields::detect(&fields).names;
        let tf = tf.with_clusters(a, &round.clusters, &names);
        round = scoring.round(&tf);
    }
    let Round {
        pairs,
        candidate_scores,
        clusters,
    } = round;
    let candidate_pairs = cand.len();
    let t4 = t0.elapsed();
    drop(flat);
    let candidates = if opts.keep_candidates {
        cand
    } else {
        Vec::new()
    };
    tracing::debug!(block = ?t1, vectors = ?t2, fit = ?t3, score_and_cluster = ?t4, candidates = candidate_pairs, "dedup timings (cumulative)");
    DedupOutput {
        link: LinkOutput {
            fields,
            model,
            candidate_pairs,
            pairs,
            alignment: Vec::new(),
            labels_used: forced.used,
            own_ids: Vec::new(),
            right_fields: Vec::new(),
        },
        clusters,
        candidates,
        candidate_scores,
        labels: forced,
    }
}

/// Records in the largest cluster of the first round from which the pairs are scored
/// again, with each name counted outside its holder's cluster
/// ([`TermFrequencies::with_clusters`]).
const HEAVY_CLUSTER: usize = 20;

/// What scoring and clustering a dedup's candidates read: the fitted model, the
/// candidates with their comparison vectors, the labels.
struct Scoring<'a> {
    fields: &'a [FieldSpec],
    model: &'a FsModel,
    a: &'a [Prepared],
    cand: &'a [(u32, u32)],
    flat: &'a [u8],
    blocked: usize,
    forced: &'a LabelledPairs,
    opts: &'a LinkOptions,
    keep_scores: bool,
}

/// One round of [`Scoring::round`]: the matched pairs, every candidate's probability
/// (when asked for) and the clusters.
struct Round {
    pairs: Vec<ScoredPair>,
    candidate_scores: Vec<f64>,
    clusters: Vec<Vec<usize>>,
}

impl Scoring<'_> {
    /// Scores every candidate with the term frequencies `tf`, applies the labels and
    /// clusters the matches.
    fn round(&self, tf: &TermFrequencies) -> Round {
        let (fields, model, a, opts) = (self.fields, self.model, self.a, self.opts);
        let (mut pairs, mut evidence) = score_all(
            fields,
            model,
            a,
            a,
            self.cand,
            self.flat,
            opts.threshold,
            self.keep_scores,
            true,
            tf,
        );
        // every pair is kept (in candidate order) only when the scores are asked for;
        // clustering takes the matched ones either way
        let candidate_scores: Vec<f64> = if self.keep_scores {
            pairs.iter().map(|p| p.probability).collect()
        } else {
            Vec::new()
        };
        self.forced.apply(&mut pairs, true, |i, j| {
            model.weight(&compare(fields, &a[i], &a[j]))
        });
        label_evidence(self.forced, self.cand, self.blocked, &mut evidence);
        pairs.retain(|p| p.is_match);
        let names = NameFields::detect(fields)
            .with_close_levels(model)
            .with_given_counts(a);
        let threshold = opts.threshold;
        let table = model.weights_table();
        let decided = self.forced.decided();
        let scorer = |i: usize, j: usize| -> f32 {
            if !decided.is_empty() {
                let k = (i.min(j) as u32, i.max(j) as u32);
                if let Some(&m) = decided.get(&k) {
                    return if m { LABEL_YES } else { LABEL_NO };
                }
            }
            let v = compare(fields, &a[i], &a[j]);
            let field_weights = model.field_weights_with(&table, &v);
            let (all, _) = tf.pair_adjustment_of(
                model,
                (&a[i], Some(i)),
                (&a[j], Some(j)),
                &v,
                &names.names,
                &field_weights,
            );
            let w = model.weight_from(&field_weights) + all;
            let p = 1.0 / (1.0 + (-w).exp2());
            let conflict = names.individual_conflict(&a[i], &a[j], &v);
            edge_evidence(p >= threshold && !conflict, p, conflict)
        };
        let clusters = evidence_clusters_with(
            a.len(),
            self.cand,
            &evidence,
            &pairs,
            opts.max_cluster_size,
            opts.split_threshold,
            Some(&scorer),
            Constraints {
                must: &self.forced.must,
                cannot: &self.forced.cannot,
            },
        );
        Round {
            pairs,
            candidate_scores,
            clusters,
        }
    }
}

/// Sets the clustering evidence of the labelled candidate pairs ([`LABEL_YES`],
/// [`LABEL_NO`]). `cand[..blocked]` and `cand[blocked..]` are each sorted (blocking's
/// pairs, then the entity blocks' extra pairs): two binary searches per label.
fn label_evidence(labelled: &LabelledPairs, cand: &[(u32, u32)], blocked: usize, ev: &mut [f32]) {
    if ev.len() != cand.len() {
        return;
    }
    let (head, tail) = cand.split_at(blocked.min(cand.len()));
    let at = |p: &(u32, u32)| {
        head.binary_search(p)
            .ok()
            .or_else(|| tail.binary_search(p).ok().map(|k| k + head.len()))
    };
    for (list, e) in [(&labelled.must, LABEL_YES), (&labelled.cannot, LABEL_NO)] {
        for p in list {
            if let Some(k) = at(p) {
                ev[k] = e;
            }
        }
    }
}

/// Fewest and most pairs per member of a big block too big for all its pairs
/// ([`entity_blocks`]): enough to hold it together, few enough to leave budget for the
/// next.
const RING_PAIRS: usize = 8;

const RING_MAX: usize = 32;

/// Pairs of a big block sampled to tell one entity from a shared value.
const BLOCK_SAMPLE: usize = 24;

/// The pairs of the blocks over the cap ([`BigBlocks`]) that the fitted model finds to
/// be mostly one entity: of [`BLOCK_SAMPLE`] pairs drawn from the block (seeded by the
/// block), at least a third match. A block of strangers sharing a common value has few
/// such pairs; the 300 mentions of one inventor have many. Blocks are taken smallest
/// first within a budget of `max(200k, 20 n)` pairs (a block whose pairs no longer fit
/// gives each member a few partners), and pairs already candidates are left out.
/// Sorted, unique.
pub fn entity_blocks(
    fields: &[FieldSpec],
    model: &FsModel,
    a: &[Prepared],
    big: &BigBlocks,
    cand: &[(u32, u32)],
    threshold: f64,
) -> Vec<(u32, u32)> {
    let blocks = big.blocks();
    if blocks.is_empty() || fields.is_empty() {
        return Vec::new();
    }
    let table = model.weights_table();
    let accepted: Vec<bool> = blocks
        .par_iter()
        .map(|b| {
            let n = b.len() as u64;
            let mut x = b.iter().fold(0x9e37_79b9_7f4a_7c15u64, |h, &i| {
                (h ^ u64::from(i)).wrapping_mul(0x1000_0000_01b3)
            });
            let mut next = || {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x
            };
            let mut v = vec![0u8; fields.len()];
            let mut hits = 0;
            for k in 0..BLOCK_SAMPLE {
                // a block of strangers shows itself early: no match in the first eight
                if k == 8 && hits == 0 {
                    return false;
                }
                let (i, j) = ((next() % n) as usize, (next() % n) as usize);
                if i == j {
                    continue;
                }
                compare_into(fields, &a[b[i] as usize], &a[b[j] as usize], &mut v);
                let w = model.weight_with(&table, &v);
                if 1.0 / (1.0 + (-w).exp2()) >= threshold {
                    hits += 1;
                }
            }
            hits * 3 >= BLOCK_SAMPLE
        })
        .collect();
    let budget = (20 * a.len()).max(200_000);
    let mut out: Vec<u64> = Vec::new();
    let pair = |x: u32, y: u32| crate::engine::blocking::pack(x.min(y), x.max(y));
    for (b, ok) in blocks.iter().zip(accepted) {
        let n = b.len();
        let left = budget.saturating_sub(out.len());
        if !ok || left < n * RING_PAIRS {
            continue;
        }
        if n <= 2 * RING_MAX + 1 && n * (n - 1) / 2 <= left {
            for x in 0..n {
                for y in (x + 1)..n {
                    out.push(pair(b[x], b[y]));
                }
            }
            continue;
        }
        // a big block: each member with the next `k` of a ring in a seeded order (64
        // partners, or fewer when the budget is short). Matches among them still join
        // the whole entity, and clustering scores samples between its parts. (With all
        // their pairs, the accepted blocks of towns and employers of a 13k-mention file,
        // 400-800 records each and taken smallest first, spent the budget before the
        // 425 mentions of one inventor came: he ended as two clusters of 200, one per
        // employer, F1 0.936.)
        let k = (left / n).min(RING_MAX).min(n - 1);
        let mut ring: Vec<u32> = b.to_vec();
        ring.sort_by_key(|&i| {
            (u64::from(i) ^ 0x9e37_79b9_7f4a_7c15).wrapping_mul(0xff51_afd7_ed55_8ccd)
        });
        for x in 0..n {
            for d in 1..=k {
                out.push(pair(ring[x], ring[(x + d) % n]));
            }
        }
    }
    out.par_sort_unstable();
    out.dedup();
    // `cand` is sorted and unique (blocking's order)
    let extra: Vec<(u32, u32)> = out
        .into_iter()
        .map(crate::engine::blocking::unpack)
        .filter(|p| cand.binary_search(p).is_err())
        .collect();
    tracing::debug!(
        big_blocks = blocks.len(),
        extra = extra.len(),
        "entity blocks"
    );
    extra
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::linkage::tests::people;

    #[test]
    fn dedup_scores_every_candidate_when_asked_and_clusters_alike() {
        let (l, r) = people();
        let all: Vec<Record> = l.iter().chain(&r).cloned().collect();
        let opts = LinkOptions {
            u_samples: 2000,
            keep_candidates: true,
            ..Default::default()
        };
        let plain = dedup(&all, &[], &opts);
        assert!(plain.candidate_scores.is_empty());
        let scored = dedup(
            &all,
            &[],
            &LinkOptions {
                keep_scores: true,
                ..opts.clone()
            },
        );
        assert_eq!(scored.candidates, plain.candidates);
        assert_eq!(scored.candidate_scores.len(), scored.candidates.len());
        assert!(
            scored.candidate_scores.iter().any(|&p| p < opts.threshold),
            "non-matches are scored too"
        );
        // the same matched pairs and clusters: keeping the scores changes nothing else
        assert_eq!(scored.link.pairs, plain.link.pairs);
        assert_eq!(scored.clusters, plain.clusters);
        // each matched pair's probability is its candidate's score
        for p in &scored.link.pairs {
            let k = scored
                .candidates
                .iter()
                .position(|&(i, j)| (i as usize, j as usize) == (p.left, p.right))
                .unwrap();
            assert_eq!(scored.candidate_scores[k], p.probability);
        }
    }

    #[test]
    fn one_entity_with_hundreds_of_records_is_found_and_kept_whole() {
        // 300 mentions of one person (typos in a few) among 3000 strangers from 40 towns
        // and 8 states; every single-field block of the entity is over the cap
        let mut recs: Vec<Record> = Vec::new();
        for i in 0..300 {
            let first = if i % 17 == 0 { "jonathon" } else { "jonathan" };
            recs.push(
                serde_json::json!({"name_first": first, "name_last": "quixotic",
                    "city": "springfield", "state": "il", "org": "acme corp"})
                .as_object()
                .cloned()
                .unwrap(),
            );
        }
        // letters only: a name is no number
        let word = |mut i: usize, salt: usize| -> String {
            let mut w = String::new();
            i = (i * 2_654_435_761 + salt * 97) % 11_881_376;
            for _ in 0..5 {
                w.push(char::from(b'a' + (i % 26) as u8));
                i /= 26;
            }
            w
        };
        for i in 0..3000 {
            recs.push(
                serde_json::json!({"name_first": word(i, 3), "name_last": word(i, 11),
                    "city": format!("town{}", i % 40), "state": format!("s{}", i % 8),
                    "org": format!("org{}", i % 300)})
                .as_object()
                .cloned()
                .unwrap(),
            );
        }
        let out = dedup(&recs, &[], &LinkOptions::default());
        let sizes: Vec<usize> = out.clusters.iter().map(Vec::len).collect();
        assert_eq!(
            out.clusters.len(),
            1,
            "{:?} {sizes:?}",
            out.link.model.unrelated
        );
        assert_eq!(out.clusters[0], (0..300).collect::<Vec<_>>());
    }
}
