//! The OpenAPI document against the running server (issue 16, item 6): what it says a body
//! may hold is what the server accepts, and every status the server answers an operation
//! with is listed for that operation. (tests/schemathesis.sh checks the same at large.)

mod common;

use common::Matcher;
use serde_json::{Value, json};

async fn spec(m: &Matcher) -> Value {
    let (st, body) = m.get("/api/v1/openapi.json").await;
    assert_eq!(st, 200, "{body}");
    serde_json::from_str(&body).expect("openapi json")
}

/// Follows a local `$ref` (`#/components/schemas/X`).
fn resolve<'a>(spec: &'a Value, v: &'a Value) -> &'a Value {
    match v["$ref"].as_str() {
        Some(r) => {
            let name = r.rsplit('/').next().unwrap_or_default();
            &spec["components"]["schemas"][name]
        }
        None => v,
    }
}

/// The JSON types a schema allows (`type` as a string or a list).
fn types(schema: &Value) -> Vec<String> {
    match &schema["type"] {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a
            .iter()
            .filter_map(|t| t.as_str().map(String::from))
            .collect(),
        _ => Vec::new(),
    }
}

/// The JSON types a schema allows, through `$ref` and every branch of a `oneOf`.
fn object_types(spec: &Value, schema: &Value) -> Vec<String> {
    let schema = resolve(spec, schema);
    match schema["oneOf"].as_array() {
        Some(branches) => {
            let mut all: Vec<String> = branches
                .iter()
                .flat_map(|b| object_types(spec, b))
                .collect();
            all.sort();
            all.dedup();
            all
        }
        None => types(schema),
    }
}

/// The statuses documented for `method path`.
fn documented(spec: &Value, method: &str, path: &str) -> Vec<String> {
    spec["paths"][path][method]["responses"]
        .as_object()
        .unwrap_or_else(|| panic!("{method} {path} is not documented"))
        .keys()
        .cloned()
        .collect()
}

fn table(samples: Value) -> Value {
    json!({"name": "t", "columns": [{"name": "c", "samples": samples}]})
}

#[tokio::test]
async fn column_samples_are_documented_as_the_server_reads_them() {
    let m = Matcher::start(&[]).await;
    let key = m.key();
    let spec = spec(&m).await;
    let samples = &spec["components"]["schemas"]["Column"]["properties"]["samples"];
    let item = resolve(&spec, &samples["items"]);
    let allowed = types(item);
    for t in ["string", "number", "boolean", "null"] {
        assert!(allowed.contains(&t.to_string()), "samples items: {item}");
    }
    for t in ["object", "array"] {
        assert!(!allowed.contains(&t.to_string()), "samples items: {item}");
    }

    // what the document allows, the server takes
    let ok = json!({"source": table(json!(["Ann", 3, 2.5, true, null])), "target": table(json!(["Bo"]))});
    let (st, r) = m.post("/api/v1/match/schema", Some(&key), &ok).await;
    assert_eq!(st, 200, "{r}");
    // what it does not, the server refuses, naming the sample
    let bad = json!({"source": table(json!(["Ann", {"x": 1}])), "target": table(json!(["Bo"]))});
    let (st, r) = m.post("/api/v1/match/schema", Some(&key), &bad).await;
    assert_eq!(st, 422, "{r}");
    assert_eq!(r["error"]["field"], "source.columns[0].samples[1]", "{r}");

    // records: non-empty flat objects of the same scalars
    let record = resolve(
        &spec,
        &spec["components"]["schemas"]["EntityPair"]["properties"]["left"],
    );
    assert_eq!(record["minProperties"], 1, "{record}");
    let values = resolve(&spec, &record["additionalProperties"]);
    assert_eq!(types(values), types(item), "{record}");
}

#[tokio::test]
async fn a_body_that_is_not_an_object_is_a_422_naming_the_body() {
    let m = Matcher::start(&[]).await;
    let key = m.key();
    let spec = spec(&m).await;
    // serde alone reads a struct from an array of its fields in order: each of these
    // was accepted (a key created, a dedup answered) though the document says object
    let bodies = [
        ("/api/v1/keys", json!(["someone", "user"])),
        (
            "/api/v1/match/dedup",
            json!([[{"name": "a"}, {"name": "b"}]]),
        ),
        ("/api/v1/match/entity", json!([{"a": 1}, {"a": 1}])),
        (
            "/api/v1/feedback",
            json!(["schema", null, null, "a", "b", true]),
        ),
        ("/api/v1/jobs", json!(["dedup", {"entities": [{"a": 1}]}])),
        ("/api/v1/match/schema", json!("a string")),
        ("/api/v1/match/entity", json!(null)),
    ];
    for (path, body) in bodies {
        let doc =
            &spec["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"];
        assert_eq!(object_types(&spec, doc), ["object"], "{path}: {doc}");
        let (st, r) = m.post(path, Some(&key), &body).await;
        assert_eq!(st, 422, "{path} {body}: {r}");
        assert_eq!(r["error"]["code"], "invalid_request", "{path}: {r}");
        assert_eq!(r["error"]["field"], "<body>", "{path}: {r}");
        assert!(
            r["error"]["message"]
                .as_str()
                .is_some_and(|s| s.contains("JSON object")),
            "{path}: {r}"
        );
    }
    let (st, keys) = m.get_with_key("/api/v1/keys", &key).await;
    assert_eq!(st, 200);
    let keys: Value = serde_json::from_str(&keys).expect("json");
    assert_eq!(
        keys.as_array().map(Vec::len),
        Some(1),
        "no key was created: {keys}"
    );
}

/// Every status the server answers is documented for the operation that answered it.
#[tokio::test]
async fn every_status_the_server_answers_is_documented() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = dir.path().join("config.yaml");
    std::fs::write(
        &cfg,
        "app:\n  max_body_bytes: 4096\nmatching:\n  max_upload_bytes: 4096\n",
    )
    .expect("config");
    let m = Matcher::start(&[("KCMF_CONFIG", cfg.display().to_string())]).await;
    let key = m.key();
    let spec = spec(&m).await;

    // unique operation ids; every error response is the JSON error body
    let mut ids = std::collections::HashSet::new();
    for (path, item) in spec["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            let id = op["operationId"].as_str().expect("operationId");
            assert!(ids.insert(id.to_string()), "duplicate operationId {id}");
            for (status, resp) in op["responses"].as_object().expect("responses") {
                if status.starts_with('4') || (status.starts_with('5') && path.starts_with("/api"))
                {
                    let schema = &resp["content"]["application/json"]["schema"]["$ref"];
                    assert_eq!(
                        schema, "#/components/schemas/ErrorBody",
                        "{method} {path} {status}"
                    );
                }
            }
            if path.starts_with("/api/v1/") {
                let docs = documented(&spec, method, path);
                for s in ["401", "408", "429", "500", "503"] {
                    assert!(
                        docs.contains(&s.to_string()),
                        "{method} {path}: {s} in {docs:?}"
                    );
                }
            }
        }
    }
    let retry = &spec["paths"]["/api/v1/match/entity"]["post"]["responses"]["429"]["headers"];
    assert!(retry["Retry-After"].is_object(), "{retry}");

    let client = reqwest::Client::new();
    let bodies = [
        "/api/v1/match/entity",
        "/api/v1/match/schema",
        "/api/v1/match/dedup",
        "/api/v1/feedback",
        "/api/v1/keys",
        "/api/v1/jobs",
    ];
    for path in bodies {
        let docs = documented(&spec, "post", path);
        let mut seen = Vec::new();
        // 401: no key
        let (st, _) = m.post(path, None, &json!({})).await;
        seen.push(st);
        // 415: not JSON (jobs: an upload in a format that is not read)
        let upload = if path == "/api/v1/jobs" {
            format!("{path}?type=dedup")
        } else {
            path.to_string()
        };
        let (st, _) = m
            .post_raw(&upload, &key, "application/xml", b"<a/>".to_vec())
            .await;
        seen.push(st);
        // 400: malformed JSON
        let (st, _) = m
            .post_raw(path, &key, "application/json", b"{,".to_vec())
            .await;
        seen.push(st);
        // 413: larger than the body limit
        let big = json!({"pad": "x".repeat(8192)}).to_string().into_bytes();
        let (st, _) = m.post_raw(path, &key, "application/json", big).await;
        seen.push(st);
        // 422: valid JSON, not a valid request
        let (st, _) = m.post(path, Some(&key), &json!({"no such field": 1})).await;
        seen.push(st);
        assert_eq!(seen, [401, 415, 400, 413, 422], "POST {path}");
        for st in seen {
            assert!(
                docs.contains(&st.to_string()),
                "POST {path} answered {st}, documented {docs:?}"
            );
        }
    }
    // by id: 404 for no such object, 400 for a path that is not UTF-8
    for (method, path, url) in [
        ("get", "/api/v1/jobs/{id}", "/api/v1/jobs/nope"),
        ("delete", "/api/v1/jobs/{id}", "/api/v1/jobs/nope"),
        (
            "get",
            "/api/v1/jobs/{id}/results",
            "/api/v1/jobs/nope/results",
        ),
        ("delete", "/api/v1/keys/{id}", "/api/v1/keys/nope"),
        ("get", "/api/v1/jobs/{id}", "/api/v1/jobs/%FF"),
    ] {
        let req = match method {
            "get" => client.get(m.url(url)),
            _ => client.delete(m.url(url)),
        };
        let resp = req.header("X-API-Key", &key).send().await.expect("request");
        let st = resp.status().as_u16();
        assert!(st == 404 || st == 400, "{method} {url}: {st}");
        let docs = documented(&spec, method, path);
        assert!(
            docs.contains(&st.to_string()),
            "{method} {url} answered {st}, documented {docs:?}"
        );
        let body: Value = resp.json().await.expect("JSON error body");
        assert!(body["error"]["code"].is_string(), "{body}");
    }
    // 422 for a bad query parameter
    let (st, _) = m.get_with_key("/api/v1/jobs?limit=0", &key).await;
    assert_eq!(st, 422);
    assert!(documented(&spec, "get", "/api/v1/jobs").contains(&"422".to_string()));
}

/// 429 with Retry-After, as documented, once a key's requests per minute are spent.
#[tokio::test]
async fn the_rate_limit_answer_is_documented() {
    let m = Matcher::start(&[("RATE_LIMIT", "1".to_string())]).await;
    let key = m.key();
    let spec = spec(&m).await;
    let mut last = None;
    for _ in 0..3 {
        let resp = reqwest::Client::new()
            .get(m.url("/api/v1/jobs"))
            .header("X-API-Key", &key)
            .send()
            .await
            .expect("request");
        last = Some(resp);
    }
    let resp = last.expect("a response");
    assert_eq!(resp.status().as_u16(), 429);
    assert!(resp.headers().contains_key("retry-after"));
    let docs = &spec["paths"]["/api/v1/jobs"]["get"]["responses"]["429"];
    assert!(docs["headers"]["Retry-After"].is_object(), "{docs}");
}

/// Projects: `PUT /api/v1/keys/{id}/project` documents every status it answers (200 with
/// the key, 400, 401, 403, 404, 415, 422), its body and the keys' `project` are documented
/// with the name rule the server applies, and `project` is required in the move.
#[tokio::test]
async fn the_key_project_operations_are_documented() {
    let m = Matcher::start(&[]).await;
    let admin = m.key();
    let spec = spec(&m).await;
    let path = "/api/v1/keys/{id}/project";
    let docs = documented(&spec, "put", path);
    let body_doc = resolve(
        &spec,
        &spec["paths"][path]["put"]["requestBody"]["content"]["application/json"]["schema"],
    );
    assert_eq!(body_doc["required"], json!(["project"]), "{body_doc}");
    let documented_name = |schema: &Value| {
        let p = &resolve(&spec, schema)["properties"]["project"];
        (
            p["pattern"].as_str().map(String::from),
            p["maxLength"].as_u64(),
            types(p),
        )
    };
    let want = (
        Some(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$".to_string()),
        Some(64),
        vec!["string".to_string(), "null".to_string()],
    );
    for schema in ["SetProject", "CreateKey"] {
        assert_eq!(
            documented_name(&spec["components"]["schemas"][schema]),
            want,
            "{schema}"
        );
    }
    let row = &spec["components"]["schemas"]["KeyRow"]["properties"]["project"];
    assert_eq!(types(row), ["string", "null"], "{row}");

    let (st, user) = m
        .post("/api/v1/keys", Some(&admin), &json!({"name": "u"}))
        .await;
    assert_eq!(st, 201, "{user}");
    let id = user["id"].as_str().expect("id");
    let user_key = user["key"].as_str().expect("key");
    let client = reqwest::Client::new();
    let url = m.url(&format!("/api/v1/keys/{id}/project"));
    let send = |url: String, key: Option<&str>, ct: &str, body: Vec<u8>| {
        let mut r = client
            .put(url)
            .header("Content-Type", ct.to_string())
            .body(body);
        if let Some(k) = key {
            r = r.header("X-API-Key", k.to_string());
        }
        r.send()
    };
    let js = |v: Value| v.to_string().into_bytes();
    /// (expected status, key, URL, content type, body)
    type Case<'a> = (u16, Option<&'a str>, String, &'a str, Vec<u8>);
    let cases: Vec<Case> = vec![
        (
            200,
            Some(&admin),
            url.clone(),
            "application/json",
            js(json!({"project": "p-1"})),
        ),
        (
            200,
            Some(&admin),
            url.clone(),
            "application/json",
            js(json!({"project": null})),
        ),
        (
            401,
            None,
            url.clone(),
            "application/json",
            js(json!({"project": "p"})),
        ),
        (
            403,
            Some(user_key),
            url.clone(),
            "application/json",
            js(json!({"project": "p"})),
        ),
        (
            404,
            Some(&admin),
            m.url("/api/v1/keys/nope/project"),
            "application/json",
            js(json!({"project": "p"})),
        ),
        (
            415,
            Some(&admin),
            url.clone(),
            "application/xml",
            b"<a/>".to_vec(),
        ),
        (
            400,
            Some(&admin),
            url.clone(),
            "application/json",
            b"{,".to_vec(),
        ),
        (
            422,
            Some(&admin),
            url.clone(),
            "application/json",
            js(json!({"project": "no spaces"})),
        ),
        (
            422,
            Some(&admin),
            url.clone(),
            "application/json",
            js(json!(["p"])),
        ),
    ];
    for (want, key, url, ct, body) in cases {
        let shown = String::from_utf8_lossy(&body).into_owned();
        let resp = send(url, key, ct, body).await.expect("request");
        let st = resp.status().as_u16();
        let answer: Value = resp.json().await.expect("a JSON body");
        assert_eq!(st, want, "{shown}: {answer}");
        assert!(
            docs.contains(&st.to_string()),
            "PUT {path} answered {st}, documented {docs:?}"
        );
        if st == 200 {
            assert_eq!(answer["id"], id, "{answer}");
            assert!(answer.get("project").is_some(), "{answer}");
        } else {
            assert!(answer["error"]["code"].is_string(), "{answer}");
        }
    }
}
