//! Gather: what build reads from the cluster — the generated Secret's data, the values of the
//! user Secret keys the workloads read, and whether the ServiceMonitor and PrometheusRule APIs
//! are served — and the
//! pure completion of that into [`BuildInputs`] (missing generated keys filled from an
//! injected random source).

use std::collections::{BTreeMap, HashMap};

use k8s_openapi::api::core::v1::Secret;
use kube::api::Api;
use rand::Rng;

use super::{Context, kube_err};
use crate::build::{self, BuildInputs, SecretInputs};
use crate::crd::KcmfDeploymentStatus;
use crate::status;
use crate::validate::Validated;
use crate::{Error, Result};

/// What gather reads before building.
#[derive(Debug, Default)]
pub struct Gathered {
    /// Existing data of the generated Secret.
    pub generated: BTreeMap<String, String>,
    /// Values of referenced user secret keys (`secret/key` → value).
    pub referenced: BTreeMap<String, String>,
    /// Whether the ServiceMonitor CRD is served.
    pub service_monitor_available: bool,
    /// Whether the PrometheusRule CRD is served.
    pub prometheus_rule_available: bool,
}

fn secret_data(s: &Secret) -> BTreeMap<String, String> {
    let mut out: BTreeMap<String, String> = s
        .data
        .iter()
        .flatten()
        .map(|(k, v)| (k.clone(), String::from_utf8_lossy(&v.0).into_owned()))
        .collect();
    for (k, v) in s.string_data.iter().flatten() {
        out.insert(k.clone(), v.clone());
    }
    out
}

/// Gather: the generated Secret, referenced user secrets, ServiceMonitor and PrometheusRule
/// availability (asked only when one is wanted or the spec changed, which may prune one).
pub async fn gather(ctx: &Context, v: &Validated, spec_changed: bool) -> Result<Gathered> {
    let client = &ctx.client;
    let secrets: Api<Secret> = Api::namespaced(client.clone(), &v.namespace);
    let gen_name = build::names::secret(&v.name);
    let generated = secrets
        .get_opt(&gen_name)
        .await
        .map_err(kube_err("get", "Secret", &gen_name))?
        .map(|s| secret_data(&s))
        .unwrap_or_default();
    let mut referenced = BTreeMap::new();
    let mut cache: HashMap<String, BTreeMap<String, String>> = HashMap::new();
    for r in build::referenced_secret_keys(v) {
        if !cache.contains_key(&r.name) {
            let s = secrets
                .get_opt(&r.name)
                .await
                .map_err(kube_err("get", "Secret", &r.name))?
                .ok_or_else(|| Error::MissingSecret {
                    name: r.name.clone(),
                    message: "referenced by the spec but not found".into(),
                })?;
            cache.insert(r.name.clone(), secret_data(&s));
        }
        let value = cache
            .get(&r.name)
            .and_then(|d| d.get(&r.key))
            .ok_or_else(|| Error::MissingSecret {
                name: r.name.clone(),
                message: format!("has no key {:?}", r.key),
            })?;
        referenced.insert(format!("{}/{}", r.name, r.key), value.clone());
    }
    let apis = if v.service_monitor || v.prometheus_rule || spec_changed {
        ctx.monitoring_apis().await?
    } else {
        super::MonitoringApis::default()
    };
    Ok(Gathered {
        generated,
        referenced,
        service_monitor_available: apis.service_monitors,
        prometheus_rule_available: apis.prometheus_rules,
    })
}

/// Complete the gathered Secret data (keep every existing key, generate the missing required
/// ones from `rng`) into the inputs of build; also the names of the keys generated now.
pub(super) fn build_inputs(
    v: &Validated,
    gathered: Gathered,
    previous: Option<&KcmfDeploymentStatus>,
    rng: &mut impl Rng,
) -> (BuildInputs, Vec<String>) {
    let required = build::required_generated_keys(v);
    let filled = build::fill_generated(&gathered.generated, &required, rng);
    let new_keys = filled
        .keys()
        .filter(|k| !gathered.generated.contains_key(*k))
        .cloned()
        .collect();
    let inputs = BuildInputs {
        secrets: SecretInputs {
            generated: filled,
            referenced: gathered.referenced,
        },
        service_monitor_available: gathered.service_monitor_available,
        prometheus_rule_available: gathered.prometheus_rule_available,
        restored_by: status::restored_by(previous),
    };
    (inputs, new_keys)
}
