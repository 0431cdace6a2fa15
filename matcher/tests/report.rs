//! `kcmf-matcher eval dedup --report out.html` run as a process on a small seeded set
//! written here: the page exists, is self-contained, agrees with the printed figures,
//! and shows a hostile record value escaped.

mod common;

use std::fmt::Write as _;
use std::path::Path;

use common::run_cli;

/// A seeded person file with duplicates (typos, a changed city) and its truth, plus one
/// true pair no matcher can find whose record holds markup.
fn write_people(dir: &Path) {
    const GIVEN: [&str; 12] = [
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
    ];
    const FAMILY: [&str; 10] = [
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
    ];
    const CITY: [&str; 6] = ["sydney", "perth", "hobart", "darwin", "cairns", "geelong"];
    let mut seed: u64 = 7;
    let mut next = |n: usize| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((seed >> 33) as usize) % n
    };
    let mut input = String::from("rec_id,given_name,surname,date_of_birth,city\n");
    let mut truth = String::from("a,b\n");
    let mut id = 0;
    for e in 0..80 {
        let given = GIVEN[next(GIVEN.len())];
        let family = FAMILY[next(FAMILY.len())];
        let dob = format!(
            "19{:02}-{:02}-{:02}",
            40 + next(60),
            1 + next(12),
            1 + next(28)
        );
        let city = CITY[next(CITY.len())];
        let mentions = 1 + next(3);
        let first = id;
        for k in 0..mentions {
            let mut g = given.to_string();
            if k > 0 && next(2) == 0 {
                // a typo: two letters swapped
                let mut c: Vec<char> = g.chars().collect();
                let i = 1 + next(c.len() - 2);
                c.swap(i, i + 1);
                g = c.into_iter().collect();
            }
            let city = if k > 0 && next(4) == 0 {
                CITY[next(CITY.len())]
            } else {
                city
            };
            let _ = writeln!(input, "p{id},{g},{family},{dob},{city}");
            for earlier in first..id {
                let _ = writeln!(truth, "p{earlier},p{id}");
            }
            id += 1;
        }
        let _ = e;
    }
    input.push_str(
        "x1,<script>alert(1)</script>,o'neil & sons,1970-01-01,\"<b>ad\"\"elaide</b>\"\n",
    );
    input.push_str("x2,zelda,quinn,2001-12-31,broome\n");
    truth.push_str("x1,x2\n");
    std::fs::write(dir.join("people.csv"), input).unwrap();
    std::fs::write(dir.join("truth.csv"), truth).unwrap();
}

/// The value printed as `name=value` on stdout.
fn printed<'a>(stdout: &'a str, name: &str) -> &'a str {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name}= in {stdout}"))
}

#[test]
fn eval_dedup_writes_a_self_contained_report() {
    let dir = tempfile::tempdir().unwrap();
    write_people(dir.path());
    let out = dir.path().join("out.html");
    let p = |n: &str| dir.path().join(n).display().to_string();
    let (code, stdout, stderr) = run_cli(
        dir.path(),
        &[],
        &[
            "eval",
            "dedup",
            "--input",
            &p("people.csv"),
            "--truth",
            &p("truth.csv"),
            "--id-column",
            "rec_id",
            "--report",
            &out.display().to_string(),
        ],
    );
    assert_eq!(code, 0, "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(
        stdout.lines().last().unwrap().starts_with("f1="),
        "{stdout}"
    );
    let page = std::fs::read_to_string(&out).expect("the report is written");
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(page.trim_end().ends_with("</body></html>"));
    // self-contained: nothing to fetch, nothing to run
    for bad in ["http://", "https://", "src=", "href=", "url(", "<script"] {
        assert!(!page.contains(bad), "{bad} in the report");
    }
    // the figures are the printed ones
    for name in ["precision", "recall"] {
        let row = format!(
            "<tr><th>{name}</th><td>{}</td></tr>",
            printed(&stdout, name)
        );
        assert!(page.contains(&row), "no {row}");
    }
    let f1 = printed(&stdout, "f1");
    assert!(page.contains(&format!("<tr><th>F1</th><td>{f1}</td></tr>")));
    // the curve with the threshold marked, the histogram, one chart per model field
    let text = page.replace('\n', "");
    assert!(
        text.contains(">threshold 0.85</text>"),
        "no threshold marker"
    );
    assert!(page.contains("Clusters by size"));
    let fields = ["given_name", "surname", "date_of_birth", "city"];
    for f in fields {
        assert!(
            page.contains(&format!("<td>{f}</td>")),
            "no model row for {f}"
        );
    }
    assert!(page.matches("<svg").count() >= 2 + fields.len());
    // the pair nobody can find is a false negative, its markup escaped
    assert!(page.contains("<div class=\"l\">x1</div><div class=\"r\">x2</div>"));
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(page.contains("o&#39;neil &amp; sons"));
    assert!(page.contains("&lt;b&gt;ad&quot;elaide&lt;/b&gt;"));

    // an unwritable path is an error naming it
    let bad = dir.path().join("missing-dir/out.html");
    let (code, stdout, stderr) = run_cli(
        dir.path(),
        &[],
        &[
            "eval",
            "dedup",
            "--input",
            &p("people.csv"),
            "--truth",
            &p("truth.csv"),
            "--id-column",
            "rec_id",
            "--report",
            &bad.display().to_string(),
        ],
    );
    assert_ne!(code, 0);
    assert!(
        stderr.contains("cannot write the report") && stderr.contains("missing-dir/out.html"),
        "{stderr}"
    );
    // checked before the run: nothing was measured
    assert!(!stdout.contains("f1="), "{stdout}");
}
