//! Secrets masked for display, one way everywhere: `kcmf-matcher config` prints the
//! configuration, `backup run` keeps copies of it (`config/effective.yaml`, the given
//! `config.yaml`) and its manifest names the store and cache. Keys and tokens become `***`;
//! a URL keeps everything but its password (in the user info, or a query parameter such as
//! `password` or `sslpassword`), so a reader still sees which server is used.

use crate::config::Config;

/// What a secret is replaced with.
pub const MASK: &str = "***";

/// Configuration keys whose values are secrets, masked whole (in a raw YAML file too).
const SECRET_KEYS: &[&str] = &["secret_key", "api_key", "valid_api_keys", "password"];

/// Configuration keys whose values are URLs that may carry a password.
const URL_KEYS: &[&str] = &["url", "redis_url", "base_url"];

/// `url` with its password replaced by [`MASK`]: the user info's password and every query
/// parameter whose name contains `password`. A URL without either comes back unchanged.
pub fn url(url: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let mut out = match base.split_once("://") {
        Some((scheme, rest)) => {
            let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
            match authority
                .rsplit_once('@')
                .and_then(|(userinfo, host)| Some((userinfo.split_once(':')?.0, host)))
            {
                Some((user, host)) => format!("{scheme}://{user}:{MASK}@{host}{path}"),
                None => base.to_string(),
            }
        }
        None => base.to_string(),
    };
    if let Some(q) = query {
        let params: Vec<String> = q
            .split('&')
            .map(|p| match p.split_once('=') {
                Some((k, _)) if k.to_ascii_lowercase().contains("password") => {
                    format!("{k}={MASK}")
                }
                _ => p.to_string(),
            })
            .collect();
        out.push('?');
        out.push_str(&params.join("&"));
    }
    out
}

/// The configuration with every secret masked.
pub fn config(cfg: &Config) -> Config {
    let mut c = cfg.clone();
    let mask = |s: &Option<String>| s.as_ref().map(|_| MASK.to_string());
    c.app.secret_key = mask(&c.app.secret_key);
    c.llm.api_key = mask(&c.llm.api_key);
    c.app.valid_api_keys = c.app.valid_api_keys.iter().map(|_| MASK.into()).collect();
    c.llm.base_url = url(&c.llm.base_url);
    c.database.url = c.database.url.as_deref().map(url);
    c.cache.redis_url = c.cache.redis_url.as_deref().map(url);
    c
}

/// A configuration file as YAML, every secret masked in place (by key, at any depth).
pub fn yaml(v: &mut serde_yaml_ng::Value) {
    use serde_yaml_ng::Value;
    match v {
        Value::Mapping(m) => {
            for (k, val) in m.iter_mut() {
                let key = k.as_str().unwrap_or_default();
                if SECRET_KEYS.contains(&key) {
                    *val = match val {
                        Value::Sequence(s) => {
                            Value::Sequence(s.iter().map(|_| Value::from(MASK)).collect())
                        }
                        Value::Null => Value::Null,
                        _ => Value::from(MASK),
                    };
                } else if URL_KEYS.contains(&key) {
                    if let Value::String(s) = val {
                        *s = url(s);
                    }
                } else {
                    yaml(val);
                }
            }
        }
        Value::Sequence(s) => s.iter_mut().for_each(yaml),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_keep_all_but_the_password() {
        for (plain, shown) in [
            (
                "postgres://kcmf:pw@db:5432/kcmf",
                "postgres://kcmf:***@db:5432/kcmf",
            ),
            // an unencoded `@` in the password: the host follows the last one
            ("postgres://kcmf:p@w@db/kcmf", "postgres://kcmf:***@db/kcmf"),
            ("redis://:rpw@r:6379/0", "redis://:***@r:6379/0"),
            ("rediss://u:rpw@r", "rediss://u:***@r"),
            (
                "postgres://db/kcmf?user=kcmf&password=pw&sslmode=require",
                "postgres://db/kcmf?user=kcmf&password=***&sslmode=require",
            ),
            (
                "postgres://u:pw@db/kcmf?sslpassword=kpw",
                "postgres://u:***@db/kcmf?sslpassword=***",
            ),
            (
                "https://u:llm-tok@llm.example/v1",
                "https://u:***@llm.example/v1",
            ),
            // nothing to hide
            ("postgres://u@h/d", "postgres://u@h/d"),
            ("redis://r:6379/0", "redis://r:6379/0"),
            (
                "sqlite:/data/kcmf.db?mode=rwc",
                "sqlite:/data/kcmf.db?mode=rwc",
            ),
            ("https://api.openai.com/v1", "https://api.openai.com/v1"),
        ] {
            assert_eq!(url(plain), shown, "{plain}");
        }
    }

    fn with_secrets() -> Config {
        let mut c = Config::default();
        c.app.secret_key = Some("s3cr3t".into());
        c.app.valid_api_keys = vec!["k1".into(), "k2".into()];
        c.llm.api_key = Some("sk-x".into());
        c.llm.base_url = "https://u:llm-tok@llm.example/v1".into();
        c.database.url = Some("postgres://kcmf:pw@db/kcmf?password=qpw".into());
        c.cache.redis_url = Some("redis://:rpw@r:6379/0".into());
        c
    }

    const SECRETS: &[&str] = &[
        "s3cr3t", "k1", "k2", "sk-x", "llm-tok", ":pw@", "qpw", "rpw",
    ];

    #[test]
    fn config_copies_never_hold_secrets() {
        let text = serde_yaml_ng::to_string(&config(&with_secrets())).expect("yaml");
        for secret in SECRETS {
            assert!(!text.contains(secret), "{secret} leaked: {text}");
        }
        assert!(
            text.contains("postgres://kcmf:***@db/kcmf?password=***"),
            "{text}"
        );
        assert!(text.contains("https://u:***@llm.example/v1"), "{text}");

        let mut v: serde_yaml_ng::Value = serde_yaml_ng::from_str(
            "app:\n  secret_key: s3cr3t\n  valid_api_keys: [k1, k2]\nllm:\n  api_key: sk-x\n  base_url: https://u:llm-tok@llm.example/v1\ndatabase:\n  url: postgres://kcmf:pw@db/kcmf?password=qpw\ncache:\n  redis_url: redis://:rpw@r:6379/0\n",
        )
        .expect("yaml");
        yaml(&mut v);
        let text = serde_yaml_ng::to_string(&v).expect("yaml");
        for secret in SECRETS {
            assert!(!text.contains(secret), "{secret} leaked: {text}");
        }
    }

    /// The file masked as YAML and the configuration masked as a value agree: one masking.
    #[test]
    fn yaml_and_config_masking_agree() {
        let cfg = with_secrets();
        let mut v = serde_yaml_ng::to_value(&cfg).expect("yaml");
        yaml(&mut v);
        assert_eq!(v, serde_yaml_ng::to_value(config(&cfg)).expect("yaml"));
    }
}
