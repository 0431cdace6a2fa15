//! The review web UI in a real browser (issue 14, item 1): headless Chromium driven over
//! WebDriver (chromedriver, both from Debian packages; `tests/run-all.sh` installs them)
//! against the real `kcmf-matcher` binary. Sign in, open a finished dedup job, label five
//! pairs with the keyboard, then check the store's feedback rows and that matching the
//! labelled pair now uses the examples; a wrong key is refused; the review page fits a
//! phone; every field has a label, Tab reaches the label buttons in order, and text
//! contrast is at least 4.5:1. Screenshots go to `target/ui-screenshots/`.
//!
//! Without chromedriver the tests fail (never skip), naming the fix.

mod common;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{Matcher, free_port};
use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use sqlx::Connection;

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

/// chromedriver on a free port; killed on drop.
struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn driver() -> Driver {
    for bin in [CHROMEDRIVER, CHROMIUM] {
        assert!(
            std::path::Path::new(bin).exists(),
            "{bin} is missing: the UI tests need Debian's chromium and chromium-driver. Run the \
             test command tests/run-all.sh (it installs them), or `apt-get install -y chromium \
             chromium-driver`"
        );
    }
    let port = free_port();
    let child = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    let url = format!("http://127.0.0.1:{port}");
    let d = Driver { child, url };
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(r) = reqwest::get(format!("{}/status", d.url)).await
            && let Ok(v) = r.json::<Value>().await
            && v["value"]["ready"] == true
        {
            return d;
        }
        assert!(Instant::now() < deadline, "chromedriver did not get ready");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn browser(d: &Driver) -> Client {
    let caps = json!({
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": CHROMIUM,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1280,900", "--force-device-scale-factor=1"]
        }
    });
    let Value::Object(caps) = caps else {
        unreachable!()
    };
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    ClientBuilder::new(connector)
        .capabilities(caps)
        .connect(&d.url)
        .await
        .expect("a chromium session")
}

fn shots_dir() -> PathBuf {
    let d = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/ui-screenshots");
    std::fs::create_dir_all(&d).expect("screenshot dir");
    d
}

async fn shot(c: &Client, name: &str) {
    let png = c.screenshot().await.expect("screenshot");
    assert!(png.starts_with(b"\x89PNG"), "{name}: not a PNG");
    std::fs::write(shots_dir().join(name), png).expect("write screenshot");
}

/// Runs `script` (a function body returning a value) until it returns something truthy.
async fn wait_for(c: &Client, what: &str, script: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let v = c.execute(script, vec![]).await.expect(what);
        let truthy = match &v {
            Value::Null | Value::Bool(false) => false,
            Value::String(s) => !s.is_empty(),
            Value::Number(n) => n.as_f64() != Some(0.0),
            _ => true,
        };
        if truthy {
            return v;
        }
        if Instant::now() >= deadline {
            let page = c
                .execute(
                    "return location.href + '\\n' + document.body.innerText;",
                    vec![],
                )
                .await
                .unwrap_or_default();
            panic!("timed out waiting for {what}; the page: {page}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn text(c: &Client, css: &str) -> String {
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .text()
        .await
        .expect("text")
}

async fn press(c: &Client, key: char) {
    let keys = KeyActions::new("keyboard".into())
        .then(KeyAction::Down { value: key })
        .then(KeyAction::Up { value: key });
    c.perform_actions(keys).await.expect("key press");
}

async fn sign_in(c: &Client, m: &Matcher, key: &str) {
    c.goto(&m.url("/ui/")).await.expect("open /ui/");
    let input = c
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Id("key"))
        .await
        .expect("the sign-in form");
    wait_for(
        c,
        "the page script",
        "return document.body.classList.contains('ready');",
    )
    .await;
    input.send_keys(key).await.expect("type the key");
    c.find(Locator::Css("#signin-form button[type=submit]"))
        .await
        .expect("sign-in button")
        .click()
        .await
        .expect("submit");
}

/// 30 people and 20 second records of some of them (typos, nicknames, a moved address, a
/// relative with the same surname and address): the uncertain pairs a person labels.
fn people() -> Vec<Value> {
    let first = [
        "james",
        "mary",
        "robert",
        "patricia",
        "john",
        "jennifer",
        "michael",
        "linda",
        "william",
        "elizabeth",
        "david",
        "barbara",
        "richard",
        "susan",
        "joseph",
        "jessica",
        "thomas",
        "sarah",
        "charles",
        "karen",
        "daniel",
        "nancy",
        "matthew",
        "lisa",
        "anthony",
        "betty",
        "mark",
        "helen",
        "donald",
        "sandra",
    ];
    let last = [
        "smith",
        "johnson",
        "williams",
        "brown",
        "jones",
        "garcia",
        "miller",
        "davis",
        "rodriguez",
        "martinez",
        "hernandez",
        "lopez",
        "gonzalez",
        "wilson",
        "anderson",
        "thomas",
        "taylor",
        "moore",
        "jackson",
        "martin",
        "lee",
        "perez",
        "thompson",
        "white",
        "harris",
        "sanchez",
        "clark",
        "ramirez",
        "lewis",
        "robinson",
    ];
    let cities = [
        "boston", "denver", "austin", "seattle", "portland", "chicago",
    ];
    let mut out = Vec::new();
    for i in 0..30 {
        out.push(json!({
            "id": format!("p{i:02}"), "first_name": first[i], "surname": last[i],
            "dob": format!("19{}-{:02}-{:02}", 50 + i, 1 + i % 12, 1 + (i * 7) % 28),
            "city": cities[i % cities.len()], "street": format!("{} main st", 10 + i)
        }));
    }
    for k in 0..20 {
        let i = k;
        let mut r = out[i].clone();
        r["id"] = json!(format!("v{k:02}"));
        match k % 4 {
            0 => {
                let s = last[i];
                r["surname"] = json!(format!("{}{}", &s[..s.len() - 1], "e"));
            }
            1 => r["city"] = json!(cities[(i + 1) % cities.len()]),
            2 => {
                r["first_name"] = json!(first[(i + 3) % first.len()]);
                r["dob"] = json!(format!("19{}-03-03", 80 + k));
            }
            _ => r["street"] = json!(format!("{} oak ave", 200 + i)),
        }
        out.push(r);
    }
    out
}

fn csv_of(rows: &[Value]) -> String {
    let cols = ["id", "first_name", "surname", "dob", "city", "street"];
    let mut s = cols.join(",") + "\n";
    for r in rows {
        let line: Vec<String> = cols
            .iter()
            .map(|c| r[*c].as_str().unwrap_or_default().to_string())
            .collect();
        s.push_str(&line.join(","));
        s.push('\n');
    }
    s
}

async fn finished_dedup_job(m: &Matcher, key: &str, rows: &[Value]) -> String {
    let (st, sub) = m
        .post_raw(
            "/api/v1/jobs?type=dedup",
            key,
            "text/csv",
            csv_of(rows).into_bytes(),
        )
        .await;
    assert_eq!(st, 202, "{sub}");
    let id = sub["id"].as_str().expect("job id").to_string();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (_, body) = m.get_with_key(&format!("/api/v1/jobs/{id}"), key).await;
        let v: Value = serde_json::from_str(&body).expect("job json");
        match v["state"].as_str() {
            Some("succeeded") => return id,
            Some("failed" | "cancelled") => panic!("dedup job ended: {v}"),
            _ => {}
        }
        assert!(
            Instant::now() < deadline,
            "the dedup job did not finish: {v}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Relative luminance of an `rgb(...)`/`rgba(...)` colour (WCAG 2).
fn luminance(css: &str) -> f64 {
    let inner = css
        .trim()
        .trim_start_matches("rgba(")
        .trim_start_matches("rgb(")
        .trim_end_matches(')');
    let ch: Vec<f64> = inner
        .split(',')
        .take(3)
        .map(|x| {
            x.trim()
                .parse::<f64>()
                .unwrap_or_else(|_| panic!("colour {css}"))
        })
        .collect();
    let lin = |c: f64| {
        let c = c / 255.0;
        if c <= 0.03928 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * lin(ch[0]) + 0.7152 * lin(ch[1]) + 0.0722 * lin(ch[2])
}

fn contrast(fg: &str, bg: &str) -> f64 {
    let (a, b) = (luminance(fg), luminance(bg));
    (a.max(b) + 0.05) / (a.min(b) + 0.05)
}

/// Every visible element with its own text: its colour and the first opaque background
/// behind it (computed styles).
const COLOURS_JS: &str = r#"
const out = [];
for (const e of document.querySelectorAll('body *')) {
  const own = [...e.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
  if (!own || e.closest('[hidden]') || e.getClientRects().length === 0) continue;
  const cs = getComputedStyle(e);
  if (cs.visibility === 'hidden') continue;
  let bg = 'rgb(255, 255, 255)';
  for (let a = e; a; a = a.parentElement) {
    const b = getComputedStyle(a).backgroundColor;
    if (b && b !== 'transparent' && !b.startsWith('rgba(0, 0, 0, 0)')) { bg = b; break; }
  }
  out.push([e.tagName + (e.id ? '#' + e.id : '') + ' ' + e.textContent.trim().slice(0, 30), cs.color, bg]);
}
return out;"#;

/// Inputs, selects and textareas without a label (or aria-label).
const UNLABELLED_JS: &str = r#"
return [...document.querySelectorAll('input, select, textarea')]
  .filter((e) => e.type !== 'hidden' && !e.closest('[hidden]'))
  .filter((e) => !(e.labels && e.labels.length) && !e.getAttribute('aria-label'))
  .map((e) => e.id || e.name || e.outerHTML.slice(0, 60));"#;

async fn check_accessibility(c: &Client, page: &str) {
    let unlabelled = c.execute(UNLABELLED_JS, vec![]).await.expect("labels");
    assert_eq!(unlabelled, json!([]), "{page}: fields without a label");
    let colours = c.execute(COLOURS_JS, vec![]).await.expect("colours");
    let colours = colours.as_array().expect("colour list");
    assert!(!colours.is_empty(), "{page}: no text found");
    for item in colours {
        let (what, fg, bg) = (
            item[0].as_str().unwrap_or_default(),
            item[1].as_str().unwrap_or_default(),
            item[2].as_str().unwrap_or_default(),
        );
        let ratio = contrast(fg, bg);
        assert!(
            ratio >= 4.5,
            "{page}: {what:?} has contrast {ratio:.2} ({fg} on {bg})"
        );
    }
}

/// The review page's pair title (`left ↔ right`).
async fn current_pair(c: &Client) -> String {
    wait_for(
        c,
        "a pair to review",
        "const h = document.querySelector('#pair h2'); return h ? h.textContent : '';",
    )
    .await
    .as_str()
    .unwrap_or_default()
    .to_string()
}

#[tokio::test]
async fn ui_signs_in_reviews_a_dedup_job_and_labels_with_the_keyboard() {
    let m = Matcher::start(&[]).await;
    let key = m.key();
    let rows = people();
    let job = finished_dedup_job(&m, &key, &rows).await;
    // before any label: KcMF's decisions of the offered pairs use no example
    let (st, before) = m
        .get_with_key(&format!("/api/v1/jobs/{job}/review?limit=50"), &key)
        .await;
    assert_eq!(st, 200, "{before}");
    let before: Value = serde_json::from_str(&before).expect("review json");
    assert_eq!(before["labels"]["entity"], 0);
    let offered = before["pairs"].as_array().expect("pairs").len();
    assert!(offered >= 8, "too few uncertain pairs to label: {offered}");
    for p in before["pairs"].as_array().into_iter().flatten() {
        let lines = p["decision"]["reasoning"].as_array().expect("reasoning");
        assert!(
            !lines
                .iter()
                .any(|l| l.as_str().unwrap_or("").starts_with("[examples]")),
            "{p}"
        );
        assert!(p["fields"].as_array().is_some_and(|f| !f.is_empty()));
    }

    let d = driver().await;
    let c = browser(&d).await;
    check_accessibility_signin(&c, &m).await;
    sign_in(&c, &m, &key).await;

    // Jobs: the finished job is listed; open it
    let link = format!("#jobs a[href='#/jobs/{job}']");
    wait_for(
        &c,
        "the job in the list",
        &format!("return !!document.querySelector(\"{link}\");"),
    )
    .await;
    assert_eq!(
        text(&c, &format!("#jobs tr[data-job='{job}'] .state")).await,
        "succeeded"
    );
    check_accessibility(&c, "jobs").await;
    shot(&c, "jobs.png").await;
    c.find(Locator::Css(&link))
        .await
        .expect("job link")
        .click()
        .await
        .expect("open job");
    wait_for(
        &c,
        "the clusters",
        "return document.querySelectorAll('#clusters table.cluster').length;",
    )
    .await;
    wait_for(
        &c,
        "the scored pairs",
        "return document.querySelectorAll('#pairs tbody tr').length;",
    )
    .await;
    // the cluster-size histogram is the server's plotters SVG, loaded as an image (the CSP
    // lets the blob: URL through)
    wait_for(
        &c,
        "the cluster-size chart",
        "const i = document.querySelector('#sizes-chart img.chart'); return i && i.complete && i.naturalWidth > 0 && i.alt ? i.naturalWidth : 0;",
    )
    .await;
    // clusters are searchable by value: a surname of the first person
    let search = c.find(Locator::Id("cluster-q")).await.expect("search box");
    search.send_keys("johnson").await.expect("type");
    c.find(Locator::Css("#clusters form button"))
        .await
        .expect("search button")
        .click()
        .await
        .expect("search");
    let status = wait_for(
        &c,
        "the search",
        "const p = document.querySelector('#clusters p[role=status]'); return p && p.textContent.startsWith('1 of') ? p.textContent : '';",
    )
    .await;
    let shown = text(&c, "#clusters table.cluster").await.to_lowercase();
    assert!(shown.contains("johnson"), "{status}: {shown}");
    check_accessibility(&c, "job").await;
    shot(&c, "job.png").await;

    // Review: five labels with the keyboard
    c.goto(&m.url(&format!("/ui/#/review/{job}")))
        .await
        .expect("open review");
    let mut labelled = Vec::new();
    for i in 0..5 {
        let pair = current_pair(&c).await;
        assert!(
            !labelled.iter().any(|(p, _)| p == &pair),
            "{pair} offered again"
        );
        // the truth: `pNN` and `vNN` are one person
        let is_match = pair
            .split_once(" ↔ ")
            .is_some_and(|(l, r)| l.get(1..) == r.get(1..) && l != r);
        press(&c, if is_match { 'm' } else { 'n' }).await;
        wait_for(
            &c,
            "the label to be counted",
            &format!(
                "const e = document.getElementById('label-count'); return e && e.textContent === '{}';",
                i + 1
            ),
        )
        .await;
        labelled.push((pair, is_match));
    }
    // skip moves on without a label
    let before_skip = current_pair(&c).await;
    press(&c, 's').await;
    let after_skip = current_pair(&c).await;
    assert_ne!(before_skip, after_skip);
    assert_eq!(text(&c, "#label-count").await, "5");
    // every field row is coloured by its agreement level
    let levels = c
        .execute(
            "return [...document.querySelectorAll('#pair tbody tr')].map((r) => r.className);",
            vec![],
        )
        .await
        .expect("rows");
    let levels = levels.as_array().expect("row classes");
    assert!(!levels.is_empty());
    assert!(
        levels
            .iter()
            .all(|c| c.as_str().is_some_and(|s| s.starts_with("lvl lvl-"))),
        "{levels:?}"
    );
    check_accessibility(&c, "review").await;
    shot(&c, "review.png").await;

    // Tab reaches the label buttons, in order
    c.execute(
        "document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0);",
        vec![],
    )
    .await
    .expect("blur");
    let mut order = Vec::new();
    for _ in 0..60 {
        press(&c, '\u{e004}').await;
        let id = c
            .execute(
                "return document.activeElement ? document.activeElement.id : '';",
                vec![],
            )
            .await
            .expect("active element");
        let id = id.as_str().unwrap_or_default().to_string();
        if id.starts_with("btn-") && !order.contains(&id) {
            order.push(id);
        }
        if order.len() == 3 {
            break;
        }
    }
    assert_eq!(order, ["btn-match", "btn-nomatch", "btn-skip"]);

    // the store holds five entity feedback rows of this key
    let key_id = key.split('_').nth(1).expect("key id").to_string();
    let url = format!("sqlite://{}", m.data_dir.join("kcmf.db").display());
    let mut db = sqlx::SqliteConnection::connect(&url).await.expect("sqlite");
    let rows_of_key: Vec<(String, String)> =
        sqlx::query_as("SELECT key_id, kind FROM feedback ORDER BY created_at")
            .fetch_all(&mut db)
            .await
            .expect("feedback rows");
    assert_eq!(rows_of_key.len(), 5, "{rows_of_key:?}");
    assert!(
        rows_of_key
            .iter()
            .all(|(k, kind)| k == &key_id && kind == "entity"),
        "{rows_of_key:?}"
    );

    // the next matching of a labelled pair uses the labels: the examples vote
    let (lid, rid) = labelled[0].0.split_once(" ↔ ").expect("pair title");
    let rec = |id: &str| {
        rows.iter()
            .find(|r| r["id"] == id)
            .cloned()
            .unwrap_or_else(|| panic!("no record {id}"))
    };
    let (st, r) = m
        .post(
            "/api/v1/match/entity",
            Some(&key),
            &json!({"left": rec(lid), "right": rec(rid)}),
        )
        .await;
    assert_eq!(st, 200, "{r}");
    let lines = r["results"][0]["reasoning"].as_array().expect("reasoning");
    let vote = lines
        .iter()
        .filter_map(|l| l.as_str())
        .find(|l| l.starts_with("[examples]"))
        .unwrap_or_else(|| panic!("no examples vote after labelling: {r}"));
    assert!(!vote.is_empty());
    // and the review no longer offers the labelled pairs, and counts the labels
    let (_, after) = m
        .get_with_key(&format!("/api/v1/jobs/{job}/review?limit=50"), &key)
        .await;
    let after: Value = serde_json::from_str(&after).expect("review json");
    assert_eq!(after["labels"]["entity"], 5);
    assert_eq!(after["labelled"].as_array().map(Vec::len), Some(5));
    for (pair, _) in &labelled {
        let (l, r) = pair.split_once(" ↔ ").expect("pair title");
        assert!(
            !after["pairs"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|p| p["left_id"] == l && p["right_id"] == r),
            "{pair} still offered"
        );
    }

    // Model: m/u table, precision/recall of the labels, a waterfall
    c.goto(&m.url(&format!("/ui/#/model/{job}")))
        .await
        .expect("open model");
    wait_for(
        &c,
        "the model tables",
        "return document.querySelector('#mu tbody tr') && document.querySelector('#waterfall tbody tr') && document.querySelector('#pr tbody tr');",
    )
    .await;
    wait_for(
        &c,
        "the labels' precision/recall chart",
        "const i = document.querySelector('#pr-chart img.chart'); return i && i.complete && i.naturalWidth > 0 && i.alt ? i.naturalWidth : 0;",
    )
    .await;
    check_accessibility(&c, "model").await;
    shot(&c, "model.png").await;

    // Schema: the matrix, accept a pair → schema feedback
    c.goto(&m.url("/ui/#/schema")).await.expect("open schema");
    c.wait()
        .for_element(Locator::Css("#view form button[type=submit]"))
        .await
        .expect("schema form")
        .click()
        .await
        .expect("match columns");
    wait_for(
        &c,
        "the matrix",
        "return document.querySelectorAll('table.matrix td.hit').length;",
    )
    .await;
    c.find(Locator::Css("table.matrix td.hit button.good"))
        .await
        .expect("accept button")
        .click()
        .await
        .expect("accept");
    wait_for(
        &c,
        "the schema label",
        "const p = document.querySelector('#view p[role=status]'); return p && p.textContent.startsWith('Accepted');",
    )
    .await;
    let schema_rows: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM feedback WHERE kind = 'schema'")
            .fetch_one(&mut db)
            .await
            .expect("schema feedback");
    assert_eq!(schema_rows, 1);
    check_accessibility(&c, "schema").await;
    shot(&c, "schema.png").await;

    // a phone: the review page has no horizontal overflow
    c.set_window_size(390, 844).await.expect("phone size");
    c.goto(&m.url(&format!("/ui/#/review/{job}")))
        .await
        .expect("open review");
    c.refresh().await.expect("reload");
    current_pair(&c).await;
    let width = c
        .execute(
            "return [window.innerWidth, document.documentElement.scrollWidth, document.documentElement.clientWidth];",
            vec![],
        )
        .await
        .expect("widths");
    let w: Vec<i64> = width
        .as_array()
        .expect("widths")
        .iter()
        .filter_map(Value::as_i64)
        .collect();
    assert!(w[0] <= 420, "the window is not phone-sized: {w:?}");
    assert!(w[1] <= w[2], "horizontal overflow at phone width: {w:?}");
    check_accessibility(&c, "review (phone)").await;
    shot(&c, "review-phone.png").await;
    c.close().await.expect("close browser");
}

async fn check_accessibility_signin(c: &Client, m: &Matcher) {
    c.goto(&m.url("/ui/")).await.expect("open /ui/");
    wait_for(
        c,
        "the page script",
        "return document.body.classList.contains('ready');",
    )
    .await;
    check_accessibility(c, "sign-in").await;
    shot(c, "signin.png").await;
}

#[tokio::test]
async fn ui_refuses_a_wrong_key_and_sends_a_strict_csp() {
    let m = Matcher::start(&[]).await;
    // the page and its modules: typed, and under a CSP without inline code
    for (path, ct) in [
        ("/ui/", "text/html"),
        ("/ui/app.js", "text/javascript"),
        ("/ui/app.css", "text/css"),
    ] {
        let r = reqwest::get(m.url(path)).await.expect("get");
        assert_eq!(r.status(), 200, "{path}");
        let h = r.headers();
        assert!(
            h["content-type"].to_str().unwrap_or("").starts_with(ct),
            "{path}"
        );
        let csp = h["content-security-policy"].to_str().unwrap_or("");
        assert!(csp.contains("default-src 'self'"), "{path}: {csp}");
        assert!(
            !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"),
            "{csp}"
        );
        assert_eq!(h["x-content-type-options"], "nosniff");
    }
    let d = driver().await;
    let c = browser(&d).await;
    sign_in(&c, &m, "kcmf_nope_wrongsecret").await;
    let msg = wait_for(
        &c,
        "the refusal",
        "return document.getElementById('signin-error').textContent;",
    )
    .await;
    assert!(msg.as_str().unwrap_or("").contains("refused"), "{msg}");
    let state = c
        .execute(
            "return [sessionStorage.getItem('kcmf.key'), document.getElementById('view').hidden, document.getElementById('nav').hidden];",
            vec![],
        )
        .await
        .expect("state");
    assert_eq!(state, json!([null, true, true]));
    // the right key then works
    let key = m.key();
    c.find(Locator::Id("key"))
        .await
        .expect("key field")
        .clear()
        .await
        .expect("clear");
    c.find(Locator::Id("key"))
        .await
        .expect("key field")
        .send_keys(&key)
        .await
        .expect("type");
    c.find(Locator::Css("#signin-form button[type=submit]"))
        .await
        .expect("button")
        .click()
        .await
        .expect("submit");
    wait_for(
        &c,
        "the jobs page",
        "return !document.getElementById('view').hidden && !!document.getElementById('jobs');",
    )
    .await;
    // no violation of the CSP was reported by the page (inline code would be)
    let logs = c
        .execute(
            "return performance.getEntriesByType('resource').map((e) => e.name);",
            vec![],
        )
        .await
        .expect("resources");
    let origin = m.url("");
    for r in logs.as_array().into_iter().flatten() {
        let r = r.as_str().unwrap_or_default();
        assert!(r.starts_with(&origin), "a resource from elsewhere: {r}");
    }
    c.close().await.expect("close browser");
}
