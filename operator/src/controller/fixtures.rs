//! A fake API server for the reconcile decision tests (the way kube-rs/controller-rs tests
//! its reconciler): a [`kube::Client`] over an in-process tower service that stores objects
//! by path, answers GET/LIST, server-side apply (PATCH), create (POST) and DELETE, and logs
//! every request, so a test asserts what a reconcile asked of the API server. Enough of the
//! API for the reconcile; the cluster tests (`tests/cluster.rs`) keep what needs a real
//! control plane (admission, CEL, garbage collection, watches).

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use http::{Method, Request, Response, StatusCode};
use kube::Client;
use kube::client::Body;
use serde_json::{Value, json};

use crate::crd::KcmfDeployment;

/// One request as the fake saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Call {
    pub method: Method,
    /// Path without the query.
    pub path: String,
}

#[derive(Default)]
struct State {
    objects: BTreeMap<String, Value>,
    calls: Vec<Call>,
    next: u64,
}

/// The fake API server; clone it freely (shared state).
#[derive(Clone, Default)]
pub(crate) struct FakeApi {
    state: Arc<Mutex<State>>,
}

/// Path of a namespaced object: `/apis/<group>/<version>/namespaces/<ns>/<plural>/<name>`
/// (`/api/v1/...` for the core group).
pub(crate) fn path(api_version: &str, ns: &str, plural: &str, name: &str) -> String {
    let prefix = if api_version.contains('/') {
        format!("/apis/{api_version}")
    } else {
        format!("/api/{api_version}")
    };
    format!("{prefix}/namespaces/{ns}/{plural}/{name}")
}

fn status(code: StatusCode, reason: &str) -> Response<Body> {
    let body = json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": reason, "reason": reason, "code": code.as_u16()});
    respond(code, &body)
}

fn respond(code: StatusCode, v: &Value) -> Response<Body> {
    let mut r = Response::new(Body::from(v.to_string().into_bytes()));
    *r.status_mut() = code;
    r.headers_mut().insert(
        "content-type",
        http::HeaderValue::from_static("application/json"),
    );
    r
}

impl FakeApi {
    /// A client talking to this fake.
    pub(crate) fn client(&self) -> Client {
        let api = self.clone();
        let svc = tower::service_fn(move |req: Request<Body>| {
            let api = api.clone();
            async move { Ok::<_, Infallible>(api.handle(req).await) }
        });
        Client::new(svc, "default")
    }

    /// Store `obj` at `path` as if it existed before the test.
    pub(crate) fn put(&self, path: &str, obj: Value) {
        if let Ok(mut s) = self.state.lock() {
            s.objects.insert(path.to_string(), obj);
        }
    }

    /// The stored object at `path`.
    pub(crate) fn get(&self, path: &str) -> Option<Value> {
        self.state.lock().ok()?.objects.get(path).cloned()
    }

    /// Change a stored object in place (e.g. set a workload's status).
    pub(crate) fn edit(&self, path: &str, f: impl FnOnce(&mut Value)) {
        if let Ok(mut s) = self.state.lock()
            && let Some(o) = s.objects.get_mut(path)
        {
            f(o);
        }
    }

    /// The requests since the last call (the log is emptied).
    pub(crate) fn take_calls(&self) -> Vec<Call> {
        self.state
            .lock()
            .map(|mut s| std::mem::take(&mut s.calls))
            .unwrap_or_default()
    }

    /// The stored KcmfDeployment `name` in `ns`, as a reconcile would receive it.
    pub(crate) fn kcmf(&self, ns: &str, name: &str) -> KcmfDeployment {
        let v = self
            .get(&path("kcmf.io/v1alpha1", ns, "kcmfdeployments", name))
            .unwrap_or(Value::Null);
        serde_json::from_value(v).unwrap_or_else(|e| panic!("stored KcmfDeployment: {e}"))
    }

    async fn handle(&self, req: Request<Body>) -> Response<Body> {
        let method = req.method().clone();
        let path = req.uri().path().to_string();
        let body = req.into_body().collect_bytes().await.unwrap_or_default();
        let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let Ok(mut s) = self.state.lock() else {
            return status(StatusCode::INTERNAL_SERVER_ERROR, "poisoned");
        };
        s.calls.push(Call {
            method: method.clone(),
            path: path.clone(),
        });
        s.next += 1;
        let rv = s.next.to_string();
        match method {
            Method::GET => match s.objects.get(&path) {
                Some(o) => respond(StatusCode::OK, o),
                None => {
                    let prefix = format!("{path}/");
                    let items: Vec<Value> = s
                        .objects
                        .iter()
                        .filter(|(k, _)| k.starts_with(&prefix) && !k[prefix.len()..].contains('/'))
                        .map(|(_, o)| o.clone())
                        .collect();
                    // A collection: `.../namespaces/<ns>/<plural>`, no name after it.
                    let segments: Vec<&str> = path.split('/').collect();
                    let collection = segments
                        .iter()
                        .position(|s| *s == "namespaces")
                        .is_some_and(|i| segments.len() == i + 3);
                    if collection {
                        respond(
                            StatusCode::OK,
                            &json!({"kind": "List", "apiVersion": "v1",
                                "metadata": {"resourceVersion": rv}, "items": items}),
                        )
                    } else {
                        status(StatusCode::NOT_FOUND, "NotFound")
                    }
                }
            },
            Method::PATCH => {
                // Server-side apply. A `/status` patch sets the status of the parent object.
                if let Some(parent) = path.strip_suffix("/status") {
                    let Some(o) = s.objects.get_mut(parent) else {
                        return status(StatusCode::NOT_FOUND, "NotFound");
                    };
                    o["status"] = body["status"].clone();
                    let o = o.clone();
                    return respond(StatusCode::OK, &o);
                }
                let prev = s.objects.get(&path).cloned();
                let mut o = body;
                let spec_of = |v: &Value| {
                    let mut v = v.clone();
                    if let Some(m) = v.as_object_mut() {
                        m.remove("status");
                        m.remove("metadata");
                    }
                    v
                };
                let generation = match &prev {
                    Some(p) if spec_of(p) == spec_of(&o) => p["metadata"]["generation"].clone(),
                    Some(p) => json!(p["metadata"]["generation"].as_i64().unwrap_or(0) + 1),
                    None => json!(1),
                };
                o["metadata"]["generation"] = generation;
                o["metadata"]["resourceVersion"] = json!(rv);
                o["metadata"]["uid"] = prev
                    .as_ref()
                    .map(|p| p["metadata"]["uid"].clone())
                    .unwrap_or_else(|| json!(format!("uid-{rv}")));
                if let Some(st) = prev.as_ref().and_then(|p| p.get("status")) {
                    o["status"] = st.clone();
                }
                s.objects.insert(path, o.clone());
                respond(StatusCode::OK, &o)
            }
            Method::POST => {
                let name = body["metadata"]["name"]
                    .as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| format!("generated-{rv}"));
                let key = format!("{path}/{name}");
                if s.objects.contains_key(&key) {
                    return status(StatusCode::CONFLICT, "AlreadyExists");
                }
                let mut o = body;
                o["metadata"]["name"] = json!(name);
                o["metadata"]["uid"] = json!(format!("uid-{rv}"));
                o["metadata"]["resourceVersion"] = json!(rv);
                s.objects.insert(key, o.clone());
                respond(StatusCode::CREATED, &o)
            }
            Method::DELETE => match s.objects.remove(&path) {
                Some(_) => respond(
                    StatusCode::OK,
                    &json!({"kind": "Status", "apiVersion": "v1", "status": "Success"}),
                ),
                None => status(StatusCode::NOT_FOUND, "NotFound"),
            },
            _ => status(StatusCode::METHOD_NOT_ALLOWED, "MethodNotAllowed"),
        }
    }
}
