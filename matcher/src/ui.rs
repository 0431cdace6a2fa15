//! The review web UI at `/ui/` (issue 14): plain HTML, CSS and JavaScript modules from
//! `matcher/ui/`, embedded in the binary with `include_str!` — no build step, no CDN,
//! nothing fetched from elsewhere, so it works offline and is the same in every pod.
//!
//! The pages call the JSON API with the API key the user signs in with; the key is kept
//! in the tab's `sessionStorage` (gone when the tab closes) and sent in the same header as
//! every API client ([`crate::auth`]). The assets themselves need no key (they hold no
//! data). Every response here carries a strict Content-Security-Policy — scripts, styles,
//! connections and images from this origin only, no inline script or style attribute, no
//! framing — so injected markup could not run even if a value escaped the DOM text nodes
//! the pages write into.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;

use crate::state::AppState;

/// The Content-Security-Policy of every `/ui/` response.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob:; \
    connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; \
    form-action 'self'; frame-ancestors 'none'";

/// (file name, content type, content).
const ASSETS: &[(&str, &str, &str)] = &[
    (
        "index.html",
        "text/html; charset=utf-8",
        include_str!("../ui/index.html"),
    ),
    (
        "app.css",
        "text/css; charset=utf-8",
        include_str!("../ui/app.css"),
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_str!("../ui/app.js"),
    ),
    (
        "dom.js",
        "text/javascript; charset=utf-8",
        include_str!("../ui/dom.js"),
    ),
    (
        "jobs.js",
        "text/javascript; charset=utf-8",
        include_str!("../ui/jobs.js"),
    ),
    (
        "review.js",
        "text/javascript; charset=utf-8",
        include_str!("../ui/review.js"),
    ),
    (
        "model.js",
        "text/javascript; charset=utf-8",
        include_str!("../ui/model.js"),
    ),
    (
        "schema.js",
        "text/javascript; charset=utf-8",
        include_str!("../ui/schema.js"),
    ),
];

fn asset(name: &str) -> Response {
    match ASSETS.iter().find(|(n, _, _)| *n == name) {
        Some((_, ct, body)) => ([(header::CONTENT_TYPE, *ct)], *body).into_response(),
        None => (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "no such file",
        )
            .into_response(),
    }
}

/// What the pages need to know of the server: the API-key header's name.
async fn config(State(state): State<AppState>) -> Response {
    axum::Json(serde_json::json!({ "header": state.cfg.app.api_key_header })).into_response()
}

async fn file(Path(name): Path<String>) -> Response {
    asset(&name)
}

/// The security headers of every `/ui/` response.
async fn secure(mut res: Response) -> Response {
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    res
}

/// `/ui`, `/ui/` (the single page) and its assets.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/ui", get(|| async { Redirect::permanent("/ui/") }))
        .route("/ui/", get(|| async { asset("index.html") }))
        .route("/ui/config.json", get(config))
        .route("/ui/{file}", get(file))
        .layer(axum::middleware::map_response(secure))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every embedded page and module is served with its type; no HTML file holds an
    /// inline script, style element or attribute, or event handler that the CSP would block.
    #[test]
    fn assets_are_typed_and_free_of_inline_code() {
        for (name, ct, body) in ASSETS {
            let r = asset(name);
            assert_eq!(r.status(), StatusCode::OK, "{name}");
            assert_eq!(r.headers()[header::CONTENT_TYPE], *ct);
            if name.ends_with(".html") {
                let lower = body.to_ascii_lowercase();
                for bad in [
                    " style=",
                    "<style",
                    " onclick=",
                    " onload=",
                    " onsubmit=",
                    "javascript:",
                ] {
                    assert!(!lower.contains(bad), "{name} has {bad}");
                }
                for script in lower.split("<script").skip(1) {
                    assert!(script.contains(" src="), "{name}: an inline script");
                }
            }
            if name.ends_with(".js") {
                assert!(!body.contains(".innerHTML"), "{name} writes HTML");
                assert!(
                    !body.contains("setAttribute('style'"),
                    "{name} sets a style attribute"
                );
            }
        }
        assert_eq!(asset("nope.js").status(), StatusCode::NOT_FOUND);
        assert!(CSP.contains("default-src 'self'") && !CSP.contains("unsafe"));
    }
}
