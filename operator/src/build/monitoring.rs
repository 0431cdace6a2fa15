//! The Prometheus Operator ServiceMonitor (built only where its CRD is served).

use kube::api::{ApiResource, DynamicObject, GroupVersionKind};
use serde_json::json;

use super::meta::{meta, selector_labels};
use super::names;
use crate::validate::Validated;

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
}
