//! Metadata every child carries: labels, the owner reference to the KcmfDeployment, and the
//! selectors the watches and `/scale` use.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};

use super::names;
use super::{HTTP_PORT, MANAGED_BY};
use crate::validate::Validated;

/// Labels every child of `v` carries.
pub fn labels(v: &Validated, component: &str) -> BTreeMap<String, String> {
    let mut l = selector_labels(v, component);
    l.insert("app.kubernetes.io/part-of".into(), "kcmf".into());
    l.insert(MANAGED_BY.0.into(), MANAGED_BY.1.into());
    l
}

/// Labels selecting the pods of one component.
pub fn selector_labels(v: &Validated, component: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("app.kubernetes.io/name".to_string(), "kcmf".to_string()),
        ("app.kubernetes.io/instance".to_string(), v.name.clone()),
        (
            "app.kubernetes.io/component".to_string(),
            component.to_string(),
        ),
    ])
}

/// The matcher pods' selector as a string (status `selector`, used by `/scale`).
pub fn matcher_selector_string(v: &Validated) -> String {
    selector_labels(v, "matcher")
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// In-cluster URL of the matcher Service.
pub fn matcher_url(v: &Validated) -> String {
    format!(
        "http://{}.{}.svc:{HTTP_PORT}",
        names::matcher(&v.name),
        v.namespace
    )
}

fn owner_reference(v: &Validated) -> OwnerReference {
    OwnerReference {
        api_version: "kcmf.io/v1alpha1".into(),
        kind: "KcmfDeployment".into(),
        name: v.name.clone(),
        uid: v.uid.clone(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    }
}

pub(super) fn meta(v: &Validated, name: String, component: &str) -> ObjectMeta {
    ObjectMeta {
        name: Some(name),
        namespace: Some(v.namespace.clone()),
        labels: Some(labels(v, component)),
        owner_references: Some(vec![owner_reference(v)]),
        ..Default::default()
    }
}
