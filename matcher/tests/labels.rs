//! Labels feed the jobs, end to end on the real binary (SQLite, and PostgreSQL): a key
//! runs a dedup job on a CSV upload, labels one matched pair "not a match" and one
//! unmatched pair "match" through `POST /api/v1/feedback`, and the same job run again puts
//! the first pair in two clusters and the second in one, with `labels_used` saying so; the
//! synchronous `/match/dedup` and a link job follow the same labels. Another key (another
//! tenant) running the identical jobs gets the unlabelled answers. The review of a job is
//! fitted once per label generation: paging does not refit, a new label does. Its charts
//! are plotters SVGs served to the key that owns the job.

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use common::{Matcher, fresh_pg_db};
use serde_json::{Value, json};

const GIVEN: [&str; 12] = [
    "michaela", "courtney", "jack", "olivia", "liam", "noah", "emma", "ava", "lucas", "mia",
    "ethan", "zoe",
];
const SURNAME: [&str; 12] = [
    "neumann", "painter", "smith", "brown", "wilson", "taylor", "white", "martin", "clarke",
    "young", "king", "wright",
];

/// 24 people `p0..p23` and a duplicate `d<i>` of each (every third with a typo'd given
/// name), as records by id.
fn people() -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    for i in 0..24usize {
        let (f, s) = (GIVEN[i % 12], SURNAME[(i * 5 + i / 12) % 12]);
        let dob = format!("19{:02}-{:02}-{:02}", 40 + i, 1 + i % 12, 1 + i % 28);
        let pc = format!("{}", 2000 + i * 37);
        out.insert(
            format!("p{i}"),
            json!({"id": format!("p{i}"), "given_name": f, "surname": s, "dob": dob, "postcode": pc}),
        );
        let f2 = if i % 3 == 0 {
            format!("{f}x")
        } else {
            f.to_string()
        };
        out.insert(
            format!("d{i}"),
            json!({"id": format!("d{i}"), "given_name": f2, "surname": s, "dob": dob, "postcode": pc}),
        );
    }
    out
}

fn csv(records: &BTreeMap<String, Value>) -> String {
    let cols = ["id", "given_name", "surname", "dob", "postcode"];
    let mut s = cols.join(",") + "\n";
    for r in records.values() {
        let row: Vec<&str> = cols.iter().map(|c| r[*c].as_str().unwrap_or("")).collect();
        s += &(row.join(",") + "\n");
    }
    s
}

async fn create_key(m: &Matcher, name: &str) -> String {
    let (st, r) = m
        .post("/api/v1/keys", Some(&m.key()), &json!({ "name": name }))
        .await;
    assert_eq!(st, 201, "{r}");
    r["key"].as_str().expect("key").to_string()
}

async fn job(m: &Matcher, key: &str, id: &str) -> Value {
    let (st, body) = m.get_with_key(&format!("/api/v1/jobs/{id}"), key).await;
    assert_eq!(st, 200, "{body}");
    serde_json::from_str(&body).expect("job json")
}

/// Waits for the job to succeed; returns its view.
async fn finished(m: &Matcher, key: &str, id: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let j = job(m, key, id).await;
        match j["state"].as_str() {
            Some("succeeded") => return j,
            Some("failed" | "cancelled") => panic!("job ended {}: {j}", j["state"]),
            _ => {}
        }
        assert!(Instant::now() < deadline, "job not done in 120 s: {j}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn results(m: &Matcher, key: &str, id: &str) -> Vec<Value> {
    let (st, body) = m
        .get_with_key(&format!("/api/v1/jobs/{id}/results?format=ndjson"), key)
        .await;
    assert_eq!(st, 200, "{body}");
    body.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("ndjson row"))
        .collect()
}

/// Runs the CSV as a dedup job for `key`: its clusters (ids) and `labels_used`.
async fn dedup_job(m: &Matcher, key: &str, csv: &str) -> (Vec<Vec<String>>, i64) {
    let (st, r) = m
        .post_raw(
            "/api/v1/jobs?type=dedup",
            key,
            "text/csv",
            csv.as_bytes().to_vec(),
        )
        .await;
    assert_eq!(st, 202, "{r}");
    let id = r["id"].as_str().expect("job id").to_string();
    let j = finished(m, key, &id).await;
    let clusters = results(m, key, &id)
        .await
        .iter()
        .map(|row| {
            row["ids"]
                .as_array()
                .expect("cluster ids")
                .iter()
                .map(|v| v.as_str().expect("id").to_string())
                .collect()
        })
        .collect();
    (clusters, j["labels_used"].as_i64().expect("labels_used"))
}

/// Runs originals × duplicates as a link job: the matched (left, right, rule) and
/// `labels_used`.
async fn link_job(
    m: &Matcher,
    key: &str,
    records: &BTreeMap<String, Value>,
) -> (Vec<(String, String, String)>, i64) {
    let side = |p: &str| -> Vec<Value> {
        records
            .iter()
            .filter(|(k, _)| k.starts_with(p))
            .map(|(_, v)| v.clone())
            .collect()
    };
    let (st, r) = m
        .post(
            "/api/v1/jobs",
            Some(key),
            &json!({"type": "link", "input": {"left": side("p"), "right": side("d")}}),
        )
        .await;
    assert_eq!(st, 202, "{r}");
    let id = r["id"].as_str().expect("job id").to_string();
    let j = finished(m, key, &id).await;
    let pairs = results(m, key, &id)
        .await
        .iter()
        .map(|row| {
            let s = |f: &str| row[f].as_str().unwrap_or_default().to_string();
            (s("left"), s("right"), s("rule"))
        })
        .collect();
    (pairs, j["labels_used"].as_i64().expect("labels_used"))
}

fn together(clusters: &[Vec<String>], a: &str, b: &str) -> bool {
    clusters
        .iter()
        .any(|c| c.iter().any(|x| x == a) && c.iter().any(|x| x == b))
}

fn linked(pairs: &[(String, String, String)], l: &str, r: &str) -> Option<String> {
    pairs
        .iter()
        .find(|p| p.0 == l && p.1 == r)
        .map(|p| p.2.clone())
}

async fn label(m: &Matcher, key: &str, left: &Value, right: &Value, is_match: bool) {
    let (st, r) = m
        .post(
            "/api/v1/feedback",
            Some(key),
            &json!({"kind": "entity", "left": left, "right": right, "match": is_match}),
        )
        .await;
    assert_eq!(st, 201, "{r}");
}

async fn labels_feed_the_jobs(m: &Matcher) {
    let records = people();
    let csv = csv(&records);
    let (a, b) = (create_key(m, "a").await, create_key(m, "b").await);

    // before any label: p1 and its duplicate in one cluster, p4 and p5 apart
    let (before, used) = dedup_job(m, &a, &csv).await;
    assert!(together(&before, "p1", "d1"), "{before:?}");
    assert!(!together(&before, "p4", "p5"), "{before:?}");
    assert!(together(&before, "p2", "d2"), "{before:?}");
    assert_eq!(used, 0);
    let (pairs, used) = link_job(m, &a, &records).await;
    assert!(linked(&pairs, "p1", "d1").is_some(), "{pairs:?}");
    assert!(linked(&pairs, "p4", "d5").is_none(), "{pairs:?}");
    assert_eq!(used, 0);

    // a labels the matched pair apart and the unmatched pair together; the records as the
    // review page sends them (values only; case and spacing do not matter)
    let strip = |id: &str| {
        let mut r = records[id].clone();
        r.as_object_mut().expect("record").remove("id");
        r
    };
    let mut shouting = strip("d1");
    shouting["given_name"] = json!(" COURTNEY ");
    label(m, &a, &strip("p1"), &shouting, false).await;
    label(m, &a, &records["p4"], &records["p5"], true).await;
    label(m, &a, &records["p4"], &records["d5"], true).await;

    let (after, used) = dedup_job(m, &a, &csv).await;
    assert!(!together(&after, "p1", "d1"), "{after:?}");
    assert!(together(&after, "p4", "p5"), "{after:?}");
    assert!(
        together(&after, "p2", "d2"),
        "unlabelled pairs unchanged: {after:?}"
    );
    assert_eq!(used, 3, "three labels named pairs of the input");

    // the synchronous dedup follows the same labels
    let entities: Vec<Value> = records.values().cloned().collect();
    let (st, r) = m
        .post(
            "/api/v1/match/dedup",
            Some(&a),
            &json!({ "entities": entities }),
        )
        .await;
    assert_eq!(st, 200, "{r}");
    let sync: Vec<Vec<String>> = serde_json::from_value(r["clusters"].clone()).expect("clusters");
    assert!(
        !together(&sync, "p1", "d1") && together(&sync, "p4", "p5"),
        "{r}"
    );
    assert_eq!(r["labels_used"], 3, "{r}");

    // a link job: the non-match is no link, the labelled (p4, d5) is one, by rule `label`
    let (pairs, used) = link_job(m, &a, &records).await;
    assert!(linked(&pairs, "p1", "d1").is_none(), "{pairs:?}");
    assert_eq!(linked(&pairs, "p4", "d5").as_deref(), Some("label"));
    assert_eq!(
        used, 3,
        "each names a left × right pair ((p4, p5) names (p4, d5): d5 is p5's exact copy)"
    );

    // another tenant's identical jobs are unchanged
    let (other, used) = dedup_job(m, &b, &csv).await;
    assert_eq!(other, before, "b's clusters are a's from before the labels");
    assert_eq!(used, 0);
    let (pairs, used) = link_job(m, &b, &records).await;
    assert!(linked(&pairs, "p1", "d1").is_some() && linked(&pairs, "p4", "d5").is_none());
    assert_eq!(used, 0);
}

#[tokio::test]
async fn labels_feed_dedup_and_link_jobs() {
    let m = Matcher::start(&[]).await;
    labels_feed_the_jobs(&m).await;
}

#[tokio::test]
async fn labels_feed_dedup_and_link_jobs_on_postgres() {
    let db = fresh_pg_db().await;
    let m = Matcher::start(&[
        ("DATABASE_URL", db),
        ("SECRET_KEY", "labels-secret".to_string()),
    ])
    .await;
    labels_feed_the_jobs(&m).await;
}

async fn review(m: &Matcher, key: &str, id: &str, limit: usize) -> Value {
    let (st, body) = m
        .get_with_key(&format!("/api/v1/jobs/{id}/review?limit={limit}"), key)
        .await;
    assert_eq!(st, 200, "{body}");
    serde_json::from_str(&body).expect("review json")
}

/// `kcmf_review_fits_total` from `/metrics` (0 before the first fit).
async fn fits(m: &Matcher) -> f64 {
    let (st, page) = m.get("/metrics").await;
    assert_eq!(st, 200, "{page}");
    page.lines()
        .find_map(|l| l.strip_prefix("kcmf_review_fits_total "))
        .map_or(0.0, |v| v.trim().parse().expect("counter value"))
}

fn pair_ids(r: &Value) -> Vec<(String, String)> {
    r["pairs"]
        .as_array()
        .expect("pairs")
        .iter()
        .map(|p| {
            let s = |f: &str| p[f].as_str().expect("id").to_string();
            (s("left_id"), s("right_id"))
        })
        .collect()
}

#[tokio::test]
async fn a_review_is_fitted_once_per_label_generation() {
    let m = Matcher::start(&[]).await;
    let key = create_key(&m, "reviewer").await;
    let records = people();
    let (st, r) = m
        .post_raw(
            "/api/v1/jobs?type=dedup",
            &key,
            "text/csv",
            csv(&records).into_bytes(),
        )
        .await;
    assert_eq!(st, 202, "{r}");
    let id = r["id"].as_str().expect("job id").to_string();
    finished(&m, &key, &id).await;

    assert_eq!(fits(&m).await, 0.0);
    let first = review(&m, &key, &id, 6).await;
    assert_eq!(first["cached"], false, "{first}");
    assert_eq!(fits(&m).await, 1.0);
    // the next page (a smaller one here) comes from the same fit: its prefix
    let again = review(&m, &key, &id, 3).await;
    assert_eq!(again["cached"], true);
    assert_eq!(fits(&m).await, 1.0, "no refit while paging");
    let (p1, p3) = (pair_ids(&first), pair_ids(&again));
    assert_eq!(p3.len(), 3);
    assert_eq!(p3[..], p1[..3]);
    assert_eq!(again["model"], first["model"]);
    // the fit's notes (EM's end, the prior, columns left out) come with the model
    assert!(first["model"]["notes"].is_array(), "{first}");

    // a label is a new generation: refitted, and the labelled pair is no longer offered
    let top = &first["pairs"][0];
    label(&m, &key, &top["left"], &top["right"], true).await;
    let after = review(&m, &key, &id, 6).await;
    assert_eq!(after["cached"], false);
    assert_eq!(fits(&m).await, 2.0);
    assert_eq!(after["labels"]["entity"], 1);
    assert!(!pair_ids(&after).contains(&p1[0]), "{after}");
    assert_eq!(review(&m, &key, &id, 6).await["cached"], true);
    assert_eq!(fits(&m).await, 2.0);

    // the charts: SVG drawn by plotters, for the job's key only, dedup jobs only
    for (chart, caption) in [
        ("sizes", "Clusters by size"),
        (
            "labels",
            "Precision, recall and F1 of 1 labels by threshold",
        ),
    ] {
        let path = format!("/api/v1/jobs/{id}/charts/{chart}.svg");
        let r = reqwest::Client::new()
            .get(m.url(&path))
            .header("X-API-Key", &key)
            .send()
            .await
            .expect("chart");
        assert_eq!(r.status(), 200, "{path}");
        assert_eq!(r.headers()["content-type"], "image/svg+xml");
        let body = r.text().await.expect("svg");
        assert!(
            body.starts_with(r#"<svg xmlns="http://www.w3.org/2000/svg""#),
            "{chart}: a standalone SVG document: {}",
            &body[..body.len().min(200)]
        );
        assert!(body.contains(caption), "{chart}: no {caption:?}");
        let other = create_key(&m, &format!("other-{chart}")).await;
        assert_eq!(m.get_with_key(&path, &other).await.0, 404);
        assert_eq!(m.get(&path).await.0, 401);
    }
    assert_eq!(fits(&m).await, 2.0, "the labels' chart reuses the fit");
    // each bar is labelled with its count: the clusters of two the job wrote
    let pairs_of_two = results(&m, &key, &id)
        .await
        .iter()
        .filter(|r| r["ids"].as_array().is_some_and(|a| a.len() == 2))
        .count();
    assert!(pairs_of_two >= 20, "{pairs_of_two}");
    let (_, sizes) = m
        .get_with_key(&format!("/api/v1/jobs/{id}/charts/sizes.svg"), &key)
        .await;
    assert!(
        sizes.contains(&format!("\n{pairs_of_two}\n</text>")),
        "{sizes}"
    );
    // a link job has no such chart: 409
    let (st, r) = m
        .post(
            "/api/v1/jobs",
            Some(&key),
            &json!({"type": "link", "input": {"left": [records["p1"]], "right": [records["d1"]]}}),
        )
        .await;
    assert_eq!(st, 202, "{r}");
    let link = r["id"].as_str().expect("job id").to_string();
    finished(&m, &key, &link).await;
    let (st, body) = m
        .get_with_key(&format!("/api/v1/jobs/{link}/charts/sizes.svg"), &key)
        .await;
    assert_eq!(st, 409, "{body}");
}
