//! Middleware of the protected routes: [`require_key`] authenticates the API key with
//! [`crate::auth::Authenticator`], attaches the [`Caller`](crate::auth::Caller) and
//! applies the per-key rate limit; failed authentications are limited per client address
//! and per key id ([`crate::ratelimit::FailureLimiter`]). It lives with the HTTP layer (not in `auth`) so that
//! `auth` does not depend on the application state that holds it.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::Response;

use crate::crypto::key_id;
use crate::error::ApiError;
use crate::state::AppState;

/// Middleware: requires a valid key, attaches [`Caller`](crate::auth::Caller), then
/// applies the rate limit.
pub async fn require_key(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let auth = &state.auth;
    let presented = req
        .headers()
        .get(auth.header())
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|s| !s.is_empty());
    // who a failure counts against: the client address, and the key id it presents
    let mut who = Vec::with_capacity(2);
    if let Some(ConnectInfo(addr)) = req.extensions().get::<ConnectInfo<SocketAddr>>() {
        who.push(format!("ip:{}", addr.ip()));
    }
    if let Some(id) = presented.and_then(key_id) {
        who.push(format!("id:{id}"));
    }
    state.auth_failures.check(&who)?;
    let Some(presented) = presented else {
        return Err(state.auth_failures.failed(&who));
    };
    let Some(caller) = auth.authenticate(presented).await? else {
        return Err(state.auth_failures.failed(&who));
    };
    state.limiter.check(&caller.key_id)?;
    req.extensions_mut().insert(caller.clone());
    let mut resp = next.run(req).await;
    // The tracking middleware reads the caller from the response for the request log.
    resp.extensions_mut().insert(caller);
    Ok(resp)
}
