//! OpenAPI schemas of the request bodies whose shape depends on what they hold, written by
//! hand because a derived schema would list every field as optional: the entity request
//! (`pairs`, or `left` and `right`), feedback (by `kind`) and a job (by `type`). Each is a
//! `oneOf` of the shapes the server accepts, and nothing else.

use std::borrow::Cow;

use utoipa::openapi::schema::{
    AdditionalProperties, ArrayBuilder, ObjectBuilder, OneOfBuilder, Schema, SchemaType, Type,
};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{PartialSchema, ToSchema};

use crate::api::feedback::FeedbackRequest;
use crate::engine::{EntityExample, EntityOptions, EntityPair, RecordSchema, SchemaExample, Table};
use crate::jobs::{JobRequest, JobType};
use crate::requests::EntityRequest;

type Schemas = Vec<(String, RefOr<Schema>)>;

fn named(name: &str) -> RefOr<Schema> {
    Ref::from_schema_name(name).into()
}

fn of(types: &[Type]) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(SchemaType::Array(types.to_vec()))
        .into()
}

fn null() -> RefOr<Schema> {
    of(&[Type::Null])
}

fn constant(v: &str) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some([v]))
        .into()
}

/// A non-blank string (`pattern: \S`).
fn name() -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(r"\S"))
        .into()
}

fn list(item: RefOr<Schema>, min: usize) -> RefOr<Schema> {
    ArrayBuilder::new().items(item).min_items(Some(min)).into()
}

fn probability() -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(SchemaType::Array(vec![Type::Number, Type::Null]))
        .minimum(Some(0.0))
        .maximum(Some(1.0))
        .into()
}

/// An object with these properties (the `required` ones first), and no others.
fn closed(
    title: &str,
    required: Vec<(&str, RefOr<Schema>)>,
    optional: Vec<(&str, RefOr<Schema>)>,
) -> RefOr<Schema> {
    let mut b = ObjectBuilder::new()
        .schema_type(Type::Object)
        .title(Some(title))
        .additional_properties(Some(AdditionalProperties::<Schema>::FreeForm(false)));
    for (k, v) in required {
        b = b.property(k, v).required(k);
    }
    for (k, v) in optional {
        b = b.property(k, v);
    }
    b.into()
}

fn one_of(description: &str, items: Vec<RefOr<Schema>>) -> RefOr<Schema> {
    let mut b = OneOfBuilder::new().description(Some(description));
    for i in items {
        b = b.item(i);
    }
    b.into()
}

/// Registers `T` and what it references.
fn add<T: ToSchema>(schemas: &mut Schemas) {
    schemas.push((T::name().into_owned(), T::schema()));
    T::schemas(schemas);
}

impl PartialSchema for EntityRequest {
    fn schema() -> RefOr<Schema> {
        one_of(
            "One pair (`left` and `right`) or a list of them (`pairs`, at most \
             `matching.max_pairs`: 413 past it).",
            vec![
                closed(
                    "pairs",
                    vec![("pairs", list(named("EntityPair"), 1))],
                    vec![
                        ("left", null()),
                        ("right", null()),
                        ("options", named("EntityOptions")),
                    ],
                ),
                closed(
                    "one pair",
                    vec![("left", named("Record")), ("right", named("Record"))],
                    vec![("pairs", null()), ("options", named("EntityOptions"))],
                ),
            ],
        )
    }
}

impl ToSchema for EntityRequest {
    fn name() -> Cow<'static, str> {
        "EntityRequest".into()
    }
    fn schemas(schemas: &mut Schemas) {
        add::<EntityPair>(schemas);
        add::<EntityOptions>(schemas);
        add::<RecordSchema>(schemas);
    }
}

impl PartialSchema for FeedbackRequest {
    fn schema() -> RefOr<Schema> {
        let text = || of(&[Type::String, Type::Null]);
        let any_record = || of(&[Type::Object, Type::Null]);
        one_of(
            "Entity feedback (`kind: entity`, the two records) or schema feedback (`kind: \
             schema`, the two column names); `match` says whether they match. One example is \
             at most 8 KiB as JSON (422 past it).",
            vec![
                closed(
                    "entity",
                    vec![
                        ("kind", constant("entity")),
                        ("left", named("Record")),
                        ("right", named("Record")),
                        ("match", of(&[Type::Boolean])),
                    ],
                    vec![("source", text()), ("target", text())],
                ),
                closed(
                    "schema",
                    vec![
                        ("kind", constant("schema")),
                        ("source", name()),
                        ("target", name()),
                        ("match", of(&[Type::Boolean])),
                    ],
                    vec![("left", any_record()), ("right", any_record())],
                ),
            ],
        )
    }
}

impl ToSchema for FeedbackRequest {
    fn name() -> Cow<'static, str> {
        "FeedbackRequest".into()
    }
    fn schemas(schemas: &mut Schemas) {
        add::<RecordSchema>(schemas);
    }
}

/// The options of a job of one type: what [`crate::jobs::prepare`] accepts for it.
fn job_options(t: JobType) -> RefOr<Schema> {
    let examples = match t {
        JobType::SchemaBatch => named("SchemaExample"),
        _ => named("EntityExample"),
    };
    let split = match t {
        JobType::Dedup => probability(),
        _ => null(),
    };
    let column_map = match t {
        JobType::Link => ObjectBuilder::new()
            .schema_type(SchemaType::Array(vec![Type::Object, Type::Null]))
            .description(Some("Left column → right column (default: aligned)."))
            .additional_properties(Some(AdditionalProperties::RefOr(
                ObjectBuilder::new().schema_type(Type::String).into(),
            )))
            .into(),
        _ => null(),
    };
    closed(
        "options",
        vec![],
        vec![
            ("threshold", probability()),
            ("split_threshold", split),
            ("knowledge", list(of(&[Type::String]), 0)),
            ("examples", list(examples, 0)),
            ("column_map", column_map),
        ],
    )
}

fn job(t: JobType, input: RefOr<Schema>) -> RefOr<Schema> {
    closed(
        t.as_str(),
        vec![("type", constant(t.as_str())), ("input", input)],
        vec![("options", job_options(t))],
    )
}

impl PartialSchema for JobRequest {
    fn schema() -> RefOr<Schema> {
        let records = || list(named("Record"), 1);
        let schema_pair = ObjectBuilder::new()
            .schema_type(Type::Object)
            .property("source", named("Table"))
            .required("source")
            .property("target", named("Table"))
            .required("target");
        one_of(
            "A job by `type`: its `input` and `options`.",
            vec![
                job(
                    JobType::EntityMatch,
                    closed(
                        "input",
                        vec![("pairs", list(named("EntityPair"), 1))],
                        vec![],
                    ),
                ),
                job(
                    JobType::SchemaBatch,
                    closed(
                        "input",
                        vec![("pairs", list(schema_pair.into(), 1))],
                        vec![],
                    ),
                ),
                job(
                    JobType::Dedup,
                    closed("input", vec![("entities", records())], vec![]),
                ),
                job(
                    JobType::Link,
                    closed(
                        "input",
                        vec![("left", records()), ("right", records())],
                        vec![],
                    ),
                ),
            ],
        )
    }
}

impl ToSchema for JobRequest {
    fn name() -> Cow<'static, str> {
        "JobRequest".into()
    }
    fn schemas(schemas: &mut Schemas) {
        add::<EntityPair>(schemas);
        add::<EntityExample>(schemas);
        add::<SchemaExample>(schemas);
        add::<Table>(schemas);
        add::<RecordSchema>(schemas);
    }
}
