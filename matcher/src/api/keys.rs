//! API-key management over HTTP (admin keys only): `GET /api/v1/keys`,
//! `POST /api/v1/keys`, `DELETE /api/v1/keys/{id}`, `PUT /api/v1/keys/{id}/project`. The
//! same operations exist as CLI subcommands (`kcmf-matcher keys …`).
//!
//! Projects: keys of one named project share their feedback examples (see
//! [`crate::feedback`]); only an admin puts a key into a project or takes it out, since
//! that decides whose labels change whose answers.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::extract::ApiJson;
use crate::api::responses::{AdminOnly, ById, JsonBody, Protected};
use crate::auth::{Caller, Role, check_project};
use crate::crypto::generate_key;
use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;
use crate::store::{KeyRow, Revoke, tenant_of};

fn admin(c: &Caller) -> Result<(), ApiError> {
    if c.role == Role::Admin {
        Ok(())
    } else {
        Err(ApiError::Forbidden)
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateKey {
    /// 1 to 200 bytes once trimmed.
    #[schema(pattern = r"\S")]
    pub name: String,
    /// `user` (default) or `admin`.
    #[serde(default)]
    #[schema(value_type = Option<KeyRole>)]
    pub role: Option<String>,
    /// The project the key joins (its keys share their feedback examples); none when
    /// absent or null.
    #[serde(default)]
    #[schema(pattern = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$", max_length = 64)]
    pub project: Option<String>,
}

/// Body of `PUT /api/v1/keys/{id}/project`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetProject {
    /// The project the key moves into; `null` takes it out of any (it becomes a tenant
    /// of its own again). Required, so that a forgotten field does not move a key out.
    #[serde(deserialize_with = "present")]
    #[schema(
        required = true,
        pattern = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$",
        max_length = 64
    )]
    pub project: Option<String>,
}

/// `Option` read without serde's default for a missing field: `project` must be given,
/// `null` or a name.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Option::<String>::deserialize(d)
}

/// A project name from a request, checked (a 422 naming `project`).
fn project_field(p: Option<&str>) -> Result<Option<&str>, ApiError> {
    match p {
        None => Ok(None),
        Some(name) => {
            check_project(name).map_err(|m| ApiError::invalid("project", m))?;
            Ok(Some(name))
        }
    }
}

/// The role of a key.
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)] // documents `role`
pub enum KeyRole {
    User,
    Admin,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedKey {
    pub id: String,
    pub name: String,
    #[schema(value_type = KeyRole)]
    pub role: String,
    /// The key's project, or null.
    pub project: Option<String>,
    /// The key itself: shown once, stored only as a hash.
    pub key: String,
}

/// List API keys (never the keys themselves).
#[utoipa::path(get, path = "/api/v1/keys", operation_id = "list_keys", tag = "keys",
    responses((status = 200, body = Vec<KeyRow>), Protected, AdminOnly),
    security(("api_key" = [])))]
pub async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<Vec<KeyRow>>, ApiError> {
    admin(&caller)?;
    Ok(Json(state.store.list_keys().await?))
}

/// Create an API key.
#[utoipa::path(post, path = "/api/v1/keys", operation_id = "create_key", tag = "keys", request_body = CreateKey,
    responses((status = 201, body = CreatedKey), Protected, AdminOnly, JsonBody),
    security(("api_key" = [])))]
pub async fn create(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(req): ApiJson<CreateKey>,
) -> Result<(StatusCode, Json<CreatedKey>), ApiError> {
    admin(&caller)?;
    let name = req.name.trim();
    if name.is_empty() || name.len() > 200 {
        return Err(ApiError::invalid("name", "must be 1 to 200 characters"));
    }
    let role = match req.role.as_deref().unwrap_or("user") {
        "user" => Role::User,
        "admin" => Role::Admin,
        _ => return Err(ApiError::invalid("role", "expected `user` or `admin`")),
    };
    let project = project_field(req.project.as_deref())?;
    let k = generate_key();
    state
        .store
        .insert_key_in(&k.id, name, &k.hash, role.as_str(), project)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedKey {
            id: k.id,
            name: name.to_string(),
            role: role.as_str().to_string(),
            project: project.map(str::to_string),
            key: k.plain,
        }),
    ))
}

/// Move a key into a project, or out of any.
#[utoipa::path(put, path = "/api/v1/keys/{id}/project", operation_id = "set_key_project", tag = "keys",
    request_body = SetProject,
    params(("id" = String, Path, description = "key id")),
    responses((status = 200, body = KeyRow, description = "The key, in its new project"),
        Protected, AdminOnly, JsonBody, ById),
    description = "The key's feedback examples go with it: from now on they are used for \
        the requests of its new project's keys (or its own alone, with `null`), and no longer \
        for those of the project it left.",
    security(("api_key" = [])))]
pub async fn set_project(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<SetProject>,
) -> Result<Json<KeyRow>, ApiError> {
    admin(&caller)?;
    let project = project_field(req.project.as_deref())?;
    let Some(before) = state.store.set_key_project(&id, project).await? else {
        return Err(ApiError::NotFound(format!("no active key with id {id:?}")));
    };
    state.auth.invalidate_all();
    let (from, to) = (tenant_of(&id, before.as_deref()), tenant_of(&id, project));
    if from != to {
        state.feedback.reload(&[from, to]).await?;
    }
    let row = state
        .store
        .find_key(&id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no active key with id {id:?}")))?;
    Ok(Json(row))
}

/// Revoke an API key.
#[utoipa::path(delete, path = "/api/v1/keys/{id}", operation_id = "revoke_key", tag = "keys",
    params(("id" = String, Path, description = "key id")),
    responses((status = 204, description = "Revoked"), Protected, AdminOnly, ById,
        (status = 409, description = "The last active admin key of the store", body = ErrorBody)),
    security(("api_key" = [])))]
pub async fn revoke(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    admin(&caller)?;
    match state.store.revoke_key(&id).await? {
        Revoke::Revoked => {
            state.auth.invalidate_all();
            Ok(StatusCode::NO_CONTENT)
        }
        Revoke::NotFound => Err(ApiError::NotFound(format!("no active key with id {id:?}"))),
        Revoke::LastAdmin => Err(ApiError::Conflict(format!(
            "key {id:?} is the last active admin key: create another admin key first \
             (or recover with `kcmf-matcher keys create --admin --name NAME`)"
        ))),
    }
}
