//! LLM backbones: the [`ChatModel`] trait, the OpenAI-compatible chat-completions
//! client (OpenAI, vLLM, Ollama, llama.cpp server) with timeout, retries with backoff
//! on 429/5xx/transport errors, malformed-body handling and token accounting, and the
//! response cache ([`LlmCache`]) keyed by a hash of model + messages + parameters.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use backon::{ExponentialBuilder, Retryable};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::ENGINE_VERSION;
use super::prompt::ChatMessage;
use crate::config::LlmConfig;

/// A cache for LLM responses (Redis or in-process; implemented by the service).
#[async_trait]
pub trait LlmCache: Send + Sync {
    async fn get(&self, key: &str) -> Option<String>;
    async fn set(&self, key: &str, value: &str, ttl: Duration);
}

/// Errors of an LLM call; `kind` is the metric label.
#[derive(Debug, Clone, thiserror::Error)]
pub enum LlmError {
    #[error("timeout after {0:?}")]
    Timeout(Duration),
    #[error("transport: {0}")]
    Transport(String),
    #[error("HTTP {status}: {body}")]
    Status { status: u16, body: String },
    #[error("malformed response body: {0}")]
    Malformed(String),
    #[error("model: {0}")]
    Model(String),
}

impl LlmError {
    pub fn kind(&self) -> &'static str {
        match self {
            LlmError::Timeout(_) => "timeout",
            LlmError::Transport(_) => "transport",
            LlmError::Status { status: 429, .. } => "rate_limited",
            LlmError::Status { status, .. } if *status >= 500 => "server",
            LlmError::Status { .. } => "client",
            LlmError::Malformed(_) => "malformed",
            LlmError::Model(_) => "model",
        }
    }
    /// Worth retrying: timeouts, transport errors, 429 and 5xx.
    pub fn retryable(&self) -> bool {
        match self {
            LlmError::Timeout(_) | LlmError::Transport(_) => true,
            LlmError::Status { status, .. } => *status == 429 || *status >= 500,
            LlmError::Malformed(_) | LlmError::Model(_) => false,
        }
    }
}

/// A model's reply with its token counts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatReply {
    pub content: String,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
}

/// A chat model (one call, no caching or metrics: see [`CachedChat`]).
#[async_trait]
pub trait ChatModel: Send + Sync {
    /// Backbone label for metrics, e.g. `openai:gpt-4o-mini`.
    fn name(&self) -> String;
    /// Parameters that change the answer (part of the cache key).
    fn params(&self) -> String;
    async fn chat(&self, messages: &[ChatMessage]) -> Result<ChatReply, LlmError>;
}

/// The OpenAI-compatible chat-completions client.
pub struct OpenAiClient {
    http: reqwest::Client,
    url: String,
    api_key: Option<String>,
    model: String,
    temperature: f32,
    top_p: f32,
    max_tokens: u32,
    timeout: Duration,
    retries: usize,
    min_backoff: Duration,
}

#[derive(Deserialize)]
struct WireResponse {
    choices: Vec<WireChoice>,
    #[serde(default)]
    usage: Option<WireUsage>,
}
#[derive(Deserialize)]
struct WireChoice {
    message: WireMessage,
}
#[derive(Deserialize)]
struct WireMessage {
    #[serde(default)]
    content: Option<String>,
}
#[derive(Deserialize)]
struct WireUsage {
    #[serde(default)]
    prompt_tokens: u64,
    #[serde(default)]
    completion_tokens: u64,
}

impl OpenAiClient {
    pub fn new(cfg: &LlmConfig) -> Result<Self, LlmError> {
        let timeout = Duration::from_secs(cfg.timeout.max(1));
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .map_err(|e| LlmError::Transport(format!("building HTTP client: {e}")))?;
        Ok(Self {
            http,
            url: format!("{}/chat/completions", cfg.base_url.trim_end_matches('/')),
            api_key: cfg.api_key.clone().filter(|k| !k.is_empty()),
            model: cfg.model.clone(),
            temperature: cfg.temperature,
            top_p: cfg.top_p,
            max_tokens: cfg.max_tokens,
            timeout,
            retries: cfg.retry_attempts as usize,
            min_backoff: Duration::from_millis(500),
        })
    }

    /// Overrides the per-call timeout and the first backoff delay (tests).
    pub fn with_timing(
        mut self,
        timeout: Duration,
        min_backoff: Duration,
    ) -> Result<Self, LlmError> {
        self.timeout = timeout;
        self.min_backoff = min_backoff;
        self.http = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .map_err(|e| LlmError::Transport(format!("building HTTP client: {e}")))?;
        Ok(self)
    }

    async fn once(&self, messages: &[ChatMessage]) -> Result<ChatReply, LlmError> {
        let body = serde_json::json!({
            "model": self.model,
            "messages": messages,
            "temperature": self.temperature,
            "top_p": self.top_p,
            "max_tokens": self.max_tokens,
        });
        let mut req = self.http.post(&self.url).json(&body);
        if let Some(k) = &self.api_key {
            req = req.bearer_auth(k);
        }
        let resp = req.send().await.map_err(|e| {
            if e.is_timeout() {
                LlmError::Timeout(self.timeout)
            } else {
                LlmError::Transport(e.to_string())
            }
        })?;
        let status = resp.status().as_u16();
        let text = resp.text().await.map_err(|e| {
            if e.is_timeout() {
                LlmError::Timeout(self.timeout)
            } else {
                LlmError::Transport(e.to_string())
            }
        })?;
        if !(200..300).contains(&status) {
            let body: String = text.chars().take(300).collect();
            return Err(LlmError::Status { status, body });
        }
        let w: WireResponse = serde_json::from_str(&text).map_err(|e| {
            LlmError::Malformed(format!(
                "{e}; body starts {:?}",
                text.chars().take(120).collect::<String>()
            ))
        })?;
        let content = w
            .choices
            .into_iter()
            .next()
            .and_then(|c| c.message.content)
            .ok_or_else(|| LlmError::Malformed("no choices[0].message.content".into()))?;
        let (p, c) = w
            .usage
            .map(|u| (u.prompt_tokens, u.completion_tokens))
            .unwrap_or((0, 0));
        Ok(ChatReply {
            content,
            prompt_tokens: p,
            completion_tokens: c,
        })
    }
}

#[async_trait]
impl ChatModel for OpenAiClient {
    fn name(&self) -> String {
        format!("openai:{}", self.model)
    }
    fn params(&self) -> String {
        format!(
            "t={};p={};m={}",
            self.temperature, self.top_p, self.max_tokens
        )
    }
    async fn chat(&self, messages: &[ChatMessage]) -> Result<ChatReply, LlmError> {
        let backoff = ExponentialBuilder::default()
            .with_min_delay(self.min_backoff)
            .with_max_delay(self.min_backoff * 16)
            .with_max_times(self.retries)
            .with_jitter();
        let name = self.name();
        (|| self.once(messages))
            .retry(backoff)
            .when(LlmError::retryable)
            .notify(|e, d| {
                metrics::counter!("kcmf_llm_errors_total", "backbone" => name.clone(), "kind" => e.kind())
                    .increment(1);
                tracing::warn!(error = %e, retry_in = ?d, "LLM call failed, retrying");
            })
            .await
    }
}

/// Wraps a [`ChatModel`] with the response cache, call/token/error metrics.
#[derive(Clone)]
pub struct CachedChat {
    pub model: Arc<dyn ChatModel>,
    pub cache: Option<Arc<dyn LlmCache>>,
    pub ttl: Duration,
}

impl CachedChat {
    /// Cache key: hash of engine version + model + parameters + messages.
    pub fn key(&self, messages: &[ChatMessage]) -> String {
        let mut h = Sha256::new();
        h.update(ENGINE_VERSION.as_bytes());
        h.update(self.model.name().as_bytes());
        h.update(self.model.params().as_bytes());
        for m in messages {
            h.update(m.role.as_bytes());
            h.update([0]);
            h.update(m.content.as_bytes());
            h.update([0]);
        }
        format!("kcmf:llm:{}", hex::encode(h.finalize()))
    }

    /// One chat call through the cache; the second result is true on a cache hit.
    pub async fn chat(&self, messages: &[ChatMessage]) -> Result<(String, bool), LlmError> {
        let key = self.key(messages);
        let cache = self.cache.as_ref().filter(|_| !self.ttl.is_zero());
        if let Some(c) = cache
            && let Some(v) = c.get(&key).await
        {
            return Ok((v, true));
        }
        let name = self.model.name();
        metrics::counter!("kcmf_llm_calls_total", "backbone" => name.clone()).increment(1);
        match self.model.chat(messages).await {
            Ok(r) => {
                metrics::counter!("kcmf_llm_tokens_total", "kind" => "prompt")
                    .increment(r.prompt_tokens);
                metrics::counter!("kcmf_llm_tokens_total", "kind" => "completion")
                    .increment(r.completion_tokens);
                if let Some(c) = cache {
                    c.set(&key, &r.content, self.ttl).await;
                }
                Ok((r.content, false))
            }
            Err(e) => {
                metrics::counter!("kcmf_llm_errors_total", "backbone" => name, "kind" => e.kind())
                    .increment(1);
                Err(e)
            }
        }
    }
}

/// A simple in-process [`LlmCache`] (tests, CLI).
#[derive(Default)]
pub struct MemoryCache {
    map: std::sync::Mutex<std::collections::HashMap<String, String>>,
}

#[async_trait]
impl LlmCache for MemoryCache {
    async fn get(&self, key: &str) -> Option<String> {
        self.map.lock().ok()?.get(key).cloned()
    }
    async fn set(&self, key: &str, value: &str, _ttl: Duration) {
        if let Ok(mut m) = self.map.lock() {
            m.insert(key.to_string(), value.to_string());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::{
        Json, Router, extract::State, http::StatusCode, response::IntoResponse, routing::post,
    };
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[derive(Clone)]
    struct Script {
        calls: Arc<AtomicUsize>,
        mode: &'static str,
    }

    async fn handler(
        State(s): State<Script>,
        Json(body): Json<serde_json::Value>,
    ) -> axum::response::Response {
        let n = s.calls.fetch_add(1, Ordering::SeqCst);
        assert!(body["messages"].is_array());
        let ok = Json(serde_json::json!({
            "choices": [{"message": {"role": "assistant", "content": "Reasoning...\nFinal answer: yes"}}],
            "usage": {"prompt_tokens": 12, "completion_tokens": 5}
        }));
        match (s.mode, n) {
            ("ok", _) => ok.into_response(),
            ("429-then-ok", 0) => (StatusCode::TOO_MANY_REQUESTS, "slow down").into_response(),
            ("500-then-ok", 0 | 1) => (StatusCode::INTERNAL_SERVER_ERROR, "boom").into_response(),
            ("429-then-ok" | "500-then-ok", _) => ok.into_response(),
            ("400", _) => (StatusCode::BAD_REQUEST, "bad").into_response(),
            ("malformed", _) => (StatusCode::OK, "{\"choices\": 3").into_response(),
            ("no-choices", _) => Json(serde_json::json!({"choices": []})).into_response(),
            ("slow", _) => {
                tokio::time::sleep(Duration::from_millis(800)).await;
                ok.into_response()
            }
            _ => (StatusCode::IM_A_TEAPOT, "?").into_response(),
        }
    }

    async fn server(mode: &'static str) -> (String, Arc<AtomicUsize>) {
        let calls = Arc::new(AtomicUsize::new(0));
        let app = Router::new()
            .route("/v1/chat/completions", post(handler))
            .with_state(Script {
                calls: calls.clone(),
                mode,
            });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        (format!("http://{addr}/v1"), calls)
    }

    fn client(url: &str, retries: u32) -> OpenAiClient {
        let cfg = LlmConfig {
            base_url: url.into(),
            retry_attempts: retries,
            ..LlmConfig::default()
        };
        OpenAiClient::new(&cfg)
            .unwrap()
            .with_timing(Duration::from_millis(300), Duration::from_millis(5))
            .unwrap()
    }

    fn msgs() -> Vec<ChatMessage> {
        vec![ChatMessage::user(
            "Are A and B the same? answer ONLY yes or no",
        )]
    }

    #[tokio::test]
    async fn ok_reply_and_tokens() {
        let (url, calls) = server("ok").await;
        let r = client(&url, 2).chat(&msgs()).await.unwrap();
        assert!(r.content.ends_with("yes"));
        assert_eq!((r.prompt_tokens, r.completion_tokens), (12, 5));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn retries_429_and_5xx() {
        let (url, calls) = server("429-then-ok").await;
        client(&url, 3).chat(&msgs()).await.unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        let (url, calls) = server("500-then-ok").await;
        client(&url, 3).chat(&msgs()).await.unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 3);
        let (url, calls) = server("500-then-ok").await;
        let e = client(&url, 1).chat(&msgs()).await.unwrap_err();
        assert_eq!(e.kind(), "server");
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn no_retry_on_4xx_and_malformed() {
        let (url, calls) = server("400").await;
        let e = client(&url, 3).chat(&msgs()).await.unwrap_err();
        assert_eq!(e.kind(), "client");
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        let (url, _) = server("malformed").await;
        assert_eq!(
            client(&url, 3).chat(&msgs()).await.unwrap_err().kind(),
            "malformed"
        );
        let (url, _) = server("no-choices").await;
        assert_eq!(
            client(&url, 3).chat(&msgs()).await.unwrap_err().kind(),
            "malformed"
        );
    }

    #[tokio::test]
    async fn times_out_then_gives_up() {
        let (url, calls) = server("slow").await;
        let e = client(&url, 1).chat(&msgs()).await.unwrap_err();
        assert_eq!(e.kind(), "timeout");
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn cache_hits_skip_the_model() {
        let (url, calls) = server("ok").await;
        let cc = CachedChat {
            model: Arc::new(client(&url, 0)),
            cache: Some(Arc::new(MemoryCache::default())),
            ttl: Duration::from_secs(60),
        };
        let (a, hit1) = cc.chat(&msgs()).await.unwrap();
        let (b, hit2) = cc.chat(&msgs()).await.unwrap();
        assert_eq!(a, b);
        assert!(!hit1 && hit2);
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }
}
