//! The error responses of the OpenAPI document, in sets shared by the operations that can
//! answer them (`responses((status = 200, …), Protected, JsonBody)`), so each status the
//! server can return is listed once per cause and not repeated by hand per handler. Every
//! error has the [`ErrorBody`](crate::error::ErrorBody) JSON shape (see
//! [`crate::api::json_errors`]).

use std::collections::BTreeMap;

use utoipa::IntoResponses;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{Content, Ref, RefOr, Response, ResponseBuilder};

/// A JSON error response with `description`.
fn error(description: &str) -> ResponseBuilder {
    ResponseBuilder::new().description(description).content(
        "application/json",
        Content::new(Some(Ref::from_schema_name("ErrorBody"))),
    )
}

/// The same with a `Retry-After` header (seconds).
fn retry_after(b: ResponseBuilder, when: &str) -> ResponseBuilder {
    b.header(
        "Retry-After",
        HeaderBuilder::new()
            .schema(Some(
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .minimum(Some(1)),
            ))
            .description(Some(format!("Seconds to wait before retrying ({when}).")))
            .build(),
    )
}

fn set(items: Vec<(&str, ResponseBuilder)>) -> BTreeMap<String, RefOr<Response>> {
    items
        .into_iter()
        .map(|(status, b)| (status.to_string(), RefOr::T(b.build())))
        .collect()
}

/// Every operation behind an API key (`/api/v1/*`): the key check, the rate limits, the
/// request timeout, the store and maintenance mode.
pub struct Protected;

impl IntoResponses for Protected {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        set(vec![
            ("401", error("Missing or invalid API key.")),
            (
                "408",
                error("The request took longer than `app.timeout` seconds."),
            ),
            (
                "429",
                retry_after(
                    error(
                        "Rate limited: this key's requests per minute (`app.rate_limit`), or \
                         failed authentications from this address or key id \
                         (`app.auth_failure_limit`).",
                    ),
                    "always sent",
                ),
            ),
            ("500", error("Internal error (details in the server log).")),
            (
                "503",
                retry_after(
                    error("The store is unavailable, or a restore is in progress."),
                    "sent during a restore",
                ),
            ),
        ])
    }
}

/// Operations that read a JSON body (`Content-Type: application/json` or `+json`).
pub struct JsonBody;

impl IntoResponses for JsonBody {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        set(vec![
            ("400", error("The body is not valid JSON.")),
            (
                "413",
                error(
                    "The body is larger than allowed (`app.max_body_bytes`), or holds more \
                       items than are answered synchronously.",
                ),
            ),
            ("415", error("The body is not JSON (`Content-Type`).")),
            (
                "422",
                error(
                    "The request does not fit the schema or its limits; `error.field` names \
                       the field at fault (`<body>` for the body as a whole).",
                ),
            ),
        ])
    }
}

/// Operations with query parameters only (no body).
pub struct QueryParams;

impl IntoResponses for QueryParams {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        set(vec![(
            "422",
            error("A query parameter is invalid; `error.field` names it."),
        )])
    }
}

/// Operations on `/{id}`: an id that is not valid UTF-8 once decoded, or no such object
/// (of this key).
pub struct ById;

impl IntoResponses for ById {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        set(vec![
            ("400", error("The path is not valid (percent-encoding).")),
            ("404", error("No such object (of this key).")),
        ])
    }
}

/// Key management: admin keys only.
pub struct AdminOnly;

impl IntoResponses for AdminOnly {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        set(vec![("403", error("The API key is not an admin key."))])
    }
}

/// The matching endpoints: the configured backbone (an OpenAI-compatible API) failed.
pub struct Backbone;

impl IntoResponses for Backbone {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        set(vec![("502", error("The matching backbone failed."))])
    }
}
