//! Middleware of the protected routes: [`require_key`] authenticates the API key with
//! [`crate::auth::Authenticator`], attaches the [`Caller`](crate::auth::Caller) and
//! applies the per-key rate limit. It lives with the HTTP layer (not in `auth`) so that
//! `auth` does not depend on the application state that holds it.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;

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
        .filter(|s| !s.is_empty())
        .ok_or(ApiError::Unauthorized)?;
    let caller = auth
        .authenticate(presented)
        .await?
        .ok_or(ApiError::Unauthorized)?;
    state.limiter.check(&caller.key_id)?;
    req.extensions_mut().insert(caller.clone());
    let mut resp = next.run(req).await;
    // The tracking middleware reads the caller from the response for the request log.
    resp.extensions_mut().insert(caller);
    Ok(resp)
}
