//! `ApiJson<T>`: the JSON body extractor of every endpoint. Unlike axum's `Json`, every
//! rejection is a JSON error that names the field at fault (`pairs[2].left`,
//! `options.threshold`), and oversized bodies answer 413.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::requests::field_of;

pub struct ApiJson<T>(pub T);

/// `ApiQuery<T>`: the query-string extractor. Unlike axum's `Query` (a `text/plain` 400),
/// a bad parameter is a JSON 422 naming it (`limit`).
pub struct ApiQuery<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parse_query(parts.uri.query().unwrap_or_default()).map(ApiQuery)
    }
}

/// Parses a query string, naming the parameter at fault.
pub fn parse_query<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let msg = e.into_inner().to_string();
        let field = field_of(&path, &msg);
        ApiError::Invalid {
            field: if field == "<body>" {
                "<query>".into()
            } else {
                field
            },
            message: msg,
        }
    })
}

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let ct = req
            .headers()
            .get(CONTENT_TYPE)
            .map(|v| v.as_bytes())
            .unwrap_or_default();
        if !is_json_media_type(ct) {
            return Err(ApiError::UnsupportedMediaType(
                "expected `Content-Type: application/json`".into(),
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::TooLarge(format!("request body is larger than allowed: {e}"))
            } else {
                ApiError::MalformedJson(e.to_string())
            }
        })?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// `application/json` or any `+json` type (case-insensitive, parameters allowed).
fn is_json_media_type(ct: &[u8]) -> bool {
    const JSON: &[u8] = b"application/json";
    let starts = ct.len() >= JSON.len() && ct[..JSON.len()].eq_ignore_ascii_case(JSON);
    starts || ct.windows(5).any(|w| w.eq_ignore_ascii_case(b"+json"))
}

/// Parses a request body that must be a JSON object (every body of the API is one), mapping
/// errors to [`ApiError`] with the JSON path of the offending field. Valid bodies take
/// serde_json's plain path; only a body that fails is parsed again with path tracking, to
/// name the field. Any other JSON value is refused (422 naming `<body>`) before serde sees
/// it: serde reads a struct from an array too (`["name", "user"]` for `{name, role}`), which
/// the document does not allow.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if first != Some(&b'{') {
        return Err(match serde_json::from_slice::<serde_json::Value>(bytes) {
            Ok(v) => ApiError::invalid(
                "<body>",
                format!("the body must be a JSON object, not {}", json_kind(&v)),
            ),
            Err(e) => ApiError::MalformedJson(e.to_string()),
        });
    }
    if let Ok(value) = serde_json::from_slice(bytes) {
        return Ok(value);
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        match inner.classify() {
            serde_json::error::Category::Data => {
                let msg = inner.to_string();
                ApiError::Invalid {
                    field: field_of(&path, &msg),
                    message: strip_position(&msg),
                }
            }
            // serde_json reports a value an enum cannot take (`"kind": 5`) as a syntax
            // error; when the body is valid JSON it is the field's value that is wrong
            _ if serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_ok() => {
                let msg = inner.to_string();
                ApiError::Invalid {
                    field: field_of(&path, &msg),
                    message: format!("invalid value ({})", strip_position(&msg)),
                }
            }
            _ => ApiError::MalformedJson(inner.to_string()),
        }
    })?;
    de.end()
        .map_err(|e| ApiError::MalformedJson(format!("trailing characters: {e}")))?;
    Ok(value)
}

fn json_kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

fn strip_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        x: f64,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Outer {
        items: Vec<Inner>,
        #[serde(default)]
        opt: Option<Inner>,
    }

    #[test]
    fn json_media_types() {
        for ct in [
            "application/json",
            "Application/JSON; charset=utf-8",
            "application/vnd.api+json",
        ] {
            assert!(is_json_media_type(ct.as_bytes()), "{ct}");
        }
        for ct in [
            "",
            "text/plain",
            "application/x-www-form-urlencoded",
            "application/js",
        ] {
            assert!(!is_json_media_type(ct.as_bytes()), "{ct}");
        }
    }

    fn field(body: &str) -> String {
        match parse_json::<Outer>(body.as_bytes()) {
            Err(ApiError::Invalid { field, .. }) => field,
            other => panic!("expected Invalid, got {other:?}"),
        }
    }

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "lowercase")]
    #[allow(dead_code)]
    enum Kind {
        Entity,
        Schema,
    }

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct WithKind {
        kind: Kind,
    }

    #[test]
    fn names_an_enum_field_of_the_wrong_type() {
        for body in [
            r#"{"kind": 5}"#,
            r#"{"kind": "other"}"#,
            r#"{"kind": null}"#,
        ] {
            match parse_json::<WithKind>(body.as_bytes()) {
                Err(ApiError::Invalid { field, .. }) => assert_eq!(field, "kind", "{body}"),
                other => panic!("{body}: expected Invalid naming kind, got {other:?}"),
            }
        }
    }

    #[test]
    fn names_wrong_type_field() {
        assert_eq!(field(r#"{"items":[{"x":1},{"x":"a"}]}"#), "items[1].x");
    }

    #[test]
    fn names_missing_field() {
        assert_eq!(field(r#"{"opt":{"x":1}}"#), "items");
        assert_eq!(field(r#"{"items":[{}]}"#), "items[0].x");
    }

    #[test]
    fn names_unknown_field() {
        assert_eq!(field(r#"{"items":[],"opt":{"x":1,"y":2}}"#), "opt.y");
    }

    #[test]
    fn only_an_object_is_a_body() {
        // serde alone reads this array as `Outer { items: [] }`
        assert!(serde_json::from_slice::<Outer>(b"[[]]").is_ok());
        for (body, kind) in [
            ("[[]]", "an array"),
            (" [] ", "an array"),
            ("null", "null"),
            ("\"x\"", "a string"),
            ("3", "a number"),
            ("true", "a boolean"),
        ] {
            match parse_json::<Outer>(body.as_bytes()) {
                Err(ApiError::Invalid { field, message }) => {
                    assert_eq!(field, "<body>", "{body}");
                    assert!(message.contains(kind), "{body}: {message}");
                }
                other => panic!("{body}: expected Invalid, got {other:?}"),
            }
        }
        for body in ["", "  ", "[", "\u{0}"] {
            assert!(
                matches!(
                    parse_json::<Outer>(body.as_bytes()),
                    Err(ApiError::MalformedJson(_))
                ),
                "{body:?}"
            );
        }
        assert!(parse_json::<Outer>(b" \n{\"items\": []}").is_ok());
    }

    #[test]
    fn malformed_is_not_invalid() {
        assert!(matches!(
            parse_json::<Outer>(b"{\"items\": ["),
            Err(ApiError::MalformedJson(_))
        ));
        assert!(matches!(
            parse_json::<Outer>(b"{\"items\": []} x"),
            Err(ApiError::MalformedJson(_))
        ));
    }
}
