//! The Prometheus Operator's ServiceMonitor and PrometheusRule of the matcher, each built only
//! where its CRD is served (the controller's discovery, [`super::BuildInputs`]).
//!
//! The PrometheusRule's alerts live in `prometheus-rules.json` next to this file rather than in
//! code, so `matcher/tests/observability.rs` can check every metric they query against a
//! real `/metrics` scrape of the matcher; here its placeholders are filled per object.

use kube::api::{ApiResource, DynamicObject, GroupVersionKind};
use serde_json::{Value, json};

use super::meta::{meta, selector_labels};
use super::names;
use crate::validate::Validated;
use crate::{Error, Result};

/// The matcher's alert rules (`spec.groups` of the PrometheusRule) with the placeholders
/// `$NAMESPACE`, `$NAME` and `$JOB`.
pub const MATCHER_RULES: &str = include_str!("prometheus-rules.json");

/// The ServiceMonitor API resource.
pub fn service_monitor_resource() -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("monitoring.coreos.com", "v1", "ServiceMonitor"),
        "servicemonitors",
    )
}

/// ServiceMonitor scraping the matcher's metrics port.
pub fn service_monitor(v: &Validated) -> DynamicObject {
    let mut o = DynamicObject::new(
        &names::service_monitor(&v.name),
        &service_monitor_resource(),
    );
    o.metadata = meta(v, names::service_monitor(&v.name), "matcher");
    o.data = json!({
        "spec": {
            "selector": { "matchLabels": selector_labels(v, "matcher") },
            "endpoints": [ { "port": "metrics", "path": "/metrics", "interval": "30s" } ],
        }
    });
    o
}

/// The PrometheusRule API resource.
pub fn prometheus_rule_resource() -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("monitoring.coreos.com", "v1", "PrometheusRule"),
        "prometheusrules",
    )
}

/// Replace the placeholders in every string of `v`. `$NAMESPACE` goes before `$NAME`, its
/// prefix; Prometheus' own `$value` and `$labels` are left alone.
fn fill(v: &mut Value, namespace: &str, name: &str, job: &str) {
    match v {
        Value::String(s) => {
            *s = s
                .replace("$NAMESPACE", namespace)
                .replace("$NAME", name)
                .replace("$JOB", job);
        }
        Value::Array(a) => a.iter_mut().for_each(|v| fill(v, namespace, name, job)),
        Value::Object(m) => m.values_mut().for_each(|v| fill(v, namespace, name, job)),
        _ => {}
    }
}

/// PrometheusRule with the matcher's alerts (error rate, down, maintenance left on, slow,
/// job queue growing, LLM errors), selecting this object's scrape targets: the namespace and
/// `job` = the matcher Service, the label a ServiceMonitor gives them.
pub fn prometheus_rule(v: &Validated) -> Result<DynamicObject> {
    let rules: Value = serde_json::from_str(MATCHER_RULES).map_err(|source| Error::Serialize {
        what: "prometheus-rules.json",
        source,
    })?;
    let mut groups = rules.get("groups").cloned().unwrap_or(Value::Null);
    if !groups.is_array() {
        return Err(Error::Serialize {
            what: "prometheus-rules.json",
            source: serde::de::Error::custom("no `groups` array"),
        });
    }
    fill(&mut groups, &v.namespace, &v.name, &names::matcher(&v.name));
    let mut o = DynamicObject::new(
        &names::prometheus_rule(&v.name),
        &prometheus_rule_resource(),
    );
    o.metadata = meta(v, names::prometheus_rule(&v.name), "matcher");
    o.data = json!({ "spec": { "groups": groups } });
    Ok(o)
}

#[cfg(test)]
mod tests {

    use crate::build::testing::*;
    use crate::build::*;

    use serde_json::json;

    #[test]
    fn service_monitor_only_where_available() {
        let v = v(json!({"monitoring": {"serviceMonitor": true}}));
        let mut i = inputs(&v);
        let d = build(&v, &i).unwrap();
        assert!(
            d.apply
                .iter()
                .all(|c| c.kind() != ChildKind::ServiceMonitor)
        );
        i.service_monitor_available = true;
        let d = build(&v, &i).unwrap();
        let sm = match find(&d, ChildKind::ServiceMonitor, "demo") {
            Some(Child::ServiceMonitor(s)) => s,
            _ => panic!(),
        };
        assert_eq!(sm.types.as_ref().unwrap().kind, "ServiceMonitor");
        assert_eq!(sm.data["spec"]["endpoints"][0]["port"], "metrics");
    }

    #[test]
    fn prometheus_rule_only_where_available_and_wanted() {
        let v = v(json!({"monitoring": {"prometheusRule": true}}));
        let mut i = inputs(&v);
        let d = build(&v, &i).unwrap();
        assert!(
            d.apply
                .iter()
                .all(|c| c.kind() != ChildKind::PrometheusRule)
        );
        assert!(
            d.unwanted
                .iter()
                .all(|u| u.kind != ChildKind::PrometheusRule)
        );
        i.prometheus_rule_available = true;
        let d = build(&v, &i).unwrap();
        let pr = match find(&d, ChildKind::PrometheusRule, "demo") {
            Some(Child::PrometheusRule(p)) => p,
            _ => panic!("no PrometheusRule"),
        };
        assert_eq!(pr.types.as_ref().unwrap().kind, "PrometheusRule");
        assert_eq!(
            pr.types.as_ref().unwrap().api_version,
            "monitoring.coreos.com/v1"
        );
        let owners = pr.metadata.owner_references.as_ref().unwrap();
        assert_eq!(owners[0].uid, "uid-1");
        let rules = pr.data["spec"]["groups"][0]["rules"].as_array().unwrap();
        let alerts: Vec<&str> = rules.iter().filter_map(|r| r["alert"].as_str()).collect();
        for want in [
            "KcmfMatcherHighErrorRate",
            "KcmfMatcherDown",
            "KcmfJobQueueGrowing",
        ] {
            assert!(alerts.contains(&want), "{want} missing from {alerts:?}");
        }
        // The placeholders are filled with this object's names, Prometheus' own kept.
        let text = pr.data.to_string();
        assert!(!text.contains("$NAMESPACE") && !text.contains("$JOB") && !text.contains("$NAME"));
        assert!(
            text.contains(r#"namespace=\"ns\",job=\"demo-matcher\""#),
            "{text}"
        );
        assert!(text.contains("ns/demo"), "{text}");
        assert!(text.contains("$value"), "{text}");

        // Not wanted (any more) where the API is served: pruned.
        let off = super::super::testing::v(json!({}));
        let mut i = inputs(&off);
        i.prometheus_rule_available = true;
        let d = build(&off, &i).unwrap();
        assert!(
            d.apply
                .iter()
                .all(|c| c.kind() != ChildKind::PrometheusRule)
        );
        assert!(
            d.unwanted
                .iter()
                .any(|u| u.kind == ChildKind::PrometheusRule && u.name == "demo")
        );
    }
}
