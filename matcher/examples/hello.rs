//! A bare axum "hello" server: the HTTP ceiling for bench/http.sh.
//! Same runtime (tokio multi-thread) and framework (axum 0.8) as the matcher,
//! no middleware, no auth, no body parsing.
//!
//!     PORT=18081 cargo run --release -p kcmf-matcher --example hello

use axum::{Router, routing::get};

#[tokio::main]
async fn main() {
    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(18081);
    let app = Router::new().route("/", get(|| async { "hello" }));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .expect("bind");
    eprintln!("hello listening on 127.0.0.1:{port}");
    axum::serve(listener, app).await.expect("serve");
}
