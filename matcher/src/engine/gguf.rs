//! The in-process GGUF backbone (`llm.provider: gguf`), available with the cargo
//! feature `local-llm`. Without it, choosing `gguf` is a configuration error.
//!
//! llama.cpp (through `llama-cpp-2`) runs on one dedicated thread that owns the backend,
//! the model and one context; [`GgufModel::chat`] sends it a prompt over a channel and
//! awaits the reply, so the async runtime never blocks. Loaded models are shared per
//! file path within a process (llama.cpp's backend can only start once).
//!
//! Models served this way are often base models without a chat template (e.g. Gemma 3
//! 270M), so the messages are laid out as plain text that a base model continues: the
//! system text, a blank line, the user text; earlier assistant turns as `Answer: …`.
//! Generation stops at an end-of-generation token, at a blank line after some output, or
//! after `llm.max_tokens`. Calls queue for the model thread one at a time; `llm.timeout`
//! bounds each generation from its start, not the wait in the queue, and a call whose
//! caller has gone away is skipped or stopped.

use super::prompt::ChatMessage;

/// Lays out chat messages as plain text for a base model (see the module docs).
pub fn render_prompt(messages: &[ChatMessage]) -> String {
    let mut out = String::new();
    for m in messages {
        match m.role.as_str() {
            "assistant" => {
                out.push_str("Answer: ");
                out.push_str(m.content.trim());
                out.push_str("\n\n");
            }
            _ => {
                out.push_str(m.content.trim());
                out.push_str("\n\n");
            }
        }
    }
    // The model continues right after the last message, on its own line.
    if out.ends_with("\n\n") {
        out.pop();
    }
    out
}

/// Where generated text ends: the first blank line after some output, trimmed.
/// Returns `Some(text)` once the output is complete.
pub fn stop_at_blank_line(generated: &str) -> Option<&str> {
    let start = generated.len() - generated.trim_start().len();
    generated[start..]
        .find("\n\n")
        .map(|i| generated[start..start + i].trim_end())
}

#[cfg(not(feature = "local-llm"))]
/// Loads the GGUF model named by `llm.model_path`.
pub fn load(
    llm: &crate::config::LlmConfig,
) -> Result<std::sync::Arc<dyn super::llm::ChatModel>, super::EngineError> {
    let _ = llm;
    Err(super::EngineError::Config(
        "llm.provider gguf needs a build with the `local-llm` cargo feature".into(),
    ))
}

#[cfg(feature = "local-llm")]
pub use imp::load;

#[cfg(feature = "local-llm")]
mod imp {
    use std::collections::HashMap;
    use std::num::NonZeroU32;
    use std::path::{Path, PathBuf};
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex, OnceLock, mpsc};
    use std::time::Duration;

    use async_trait::async_trait;
    use llama_cpp_2::context::LlamaContext;
    use llama_cpp_2::context::params::LlamaContextParams;
    use llama_cpp_2::llama_backend::LlamaBackend;
    use llama_cpp_2::llama_batch::LlamaBatch;
    use llama_cpp_2::model::LlamaModel;
    use llama_cpp_2::model::params::LlamaModelParams;
    use llama_cpp_2::sampling::LlamaSampler;

    use super::{render_prompt, stop_at_blank_line};
    use crate::config::LlmConfig;
    use crate::engine::EngineError;
    use crate::engine::llm::{ChatModel, ChatReply, LlmError};
    use crate::engine::prompt::ChatMessage;

    /// Context window (tokens) unless the model was trained on less.
    const MAX_CTX: u32 = 8192;
    /// Tokens decoded per batch while reading the prompt.
    const N_BATCH: usize = 512;

    /// Sampling settings of one model handle (from `llm.*`).
    #[derive(Debug, Clone, Copy, PartialEq)]
    struct Sampling {
        temperature: f32,
        top_p: f32,
        max_tokens: u32,
    }

    struct Job {
        prompt: String,
        sampling: Sampling,
        /// Longest a generation may run once it has started (`llm.timeout`); time spent
        /// waiting behind other calls does not count.
        timeout: Duration,
        cancel: Arc<AtomicBool>,
        reply: tokio::sync::oneshot::Sender<Result<ChatReply, LlmError>>,
    }

    /// A loaded model: a channel to its thread.
    struct Worker {
        tx: Mutex<mpsc::Sender<Job>>,
        description: String,
    }

    /// One GGUF model as a [`ChatModel`].
    pub struct GgufModel {
        worker: Arc<Worker>,
        file: String,
        sampling: Sampling,
        timeout: Duration,
    }

    fn workers() -> &'static Mutex<HashMap<PathBuf, Arc<Worker>>> {
        static W: OnceLock<Mutex<HashMap<PathBuf, Arc<Worker>>>> = OnceLock::new();
        W.get_or_init(|| Mutex::new(HashMap::new()))
    }

    fn backend() -> Result<&'static LlamaBackend, String> {
        static B: OnceLock<Result<LlamaBackend, String>> = OnceLock::new();
        B.get_or_init(|| {
            let mut b = LlamaBackend::init().map_err(|e| format!("starting llama.cpp: {e}"))?;
            b.void_logs();
            Ok(b)
        })
        .as_ref()
        .map_err(Clone::clone)
    }

    /// Loads the GGUF model named by `llm.model_path` (once per path and process).
    pub fn load(llm: &LlmConfig) -> Result<Arc<dyn ChatModel>, EngineError> {
        let path = llm.model_path.clone().ok_or_else(|| {
            EngineError::Config("llm.model_path is required when llm.provider is gguf".into())
        })?;
        if !path.is_file() {
            return Err(EngineError::Config(format!(
                "llm.model_path {}: no such file",
                path.display()
            )));
        }
        let worker = {
            let mut map = workers()
                .lock()
                .map_err(|_| EngineError::Config("gguf model registry poisoned".into()))?;
            match map.get(&path) {
                Some(w) => w.clone(),
                None => {
                    let w = Arc::new(start(&path)?);
                    map.insert(path.clone(), w.clone());
                    w
                }
            }
        };
        let file = path
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.display().to_string());
        tracing::info!(model = %file, details = %worker.description, "gguf model loaded");
        Ok(Arc::new(GgufModel {
            worker,
            file,
            sampling: Sampling {
                temperature: llm.temperature,
                top_p: llm.top_p,
                max_tokens: llm.max_tokens.max(1),
            },
            timeout: Duration::from_secs(llm.timeout.max(1)),
        }))
    }

    /// Starts the model's thread and waits until the model is loaded.
    fn start(path: &Path) -> Result<Worker, EngineError> {
        let backend = backend().map_err(EngineError::Config)?;
        let (tx, rx) = mpsc::channel::<Job>();
        let (ready_tx, ready_rx) = mpsc::channel::<Result<String, String>>();
        let owned = path.to_path_buf();
        std::thread::Builder::new()
            .name("kcmf-gguf".into())
            .spawn(move || run(backend, &owned, rx, ready_tx))
            .map_err(|e| EngineError::Config(format!("starting the gguf thread: {e}")))?;
        let description = ready_rx
            .recv()
            .map_err(|_| EngineError::Config("the gguf thread exited while loading".into()))?
            .map_err(|e| EngineError::Config(format!("llm.model_path {}: {e}", path.display())))?;
        Ok(Worker {
            tx: Mutex::new(tx),
            description,
        })
    }

    /// The model thread: loads, then answers jobs until every sender is gone.
    fn run(
        backend: &'static LlamaBackend,
        path: &Path,
        rx: mpsc::Receiver<Job>,
        ready: mpsc::Sender<Result<String, String>>,
    ) {
        let model = match LlamaModel::load_from_file(backend, path, &LlamaModelParams::default()) {
            Ok(m) => m,
            Err(e) => {
                let _ = ready.send(Err(format!("loading the model: {e}")));
                return;
            }
        };
        let n_ctx = model.n_ctx_train().clamp(512, MAX_CTX);
        let threads = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
            .min(8) as i32;
        let params = LlamaContextParams::default()
            .with_n_ctx(NonZeroU32::new(n_ctx))
            .with_n_batch(N_BATCH as u32)
            .with_n_threads(threads)
            .with_n_threads_batch(threads);
        let mut ctx = match model.new_context(backend, params) {
            Ok(c) => c,
            Err(e) => {
                let _ = ready.send(Err(format!("creating a context: {e}")));
                return;
            }
        };
        let description = format!(
            "{} parameters, context {n_ctx} tokens, {threads} threads",
            model.n_params()
        );
        if ready.send(Ok(description)).is_err() {
            return;
        }
        while let Ok(job) = rx.recv() {
            if job.cancel.load(Ordering::Relaxed) {
                continue;
            }
            let r = generate(&model, &mut ctx, n_ctx, &job);
            let _ = job.reply.send(r);
        }
    }

    fn model_err(what: &str, e: impl std::fmt::Display) -> LlmError {
        LlmError::Model(format!("{what}: {e}"))
    }

    /// One completion: reads the prompt, then samples until a stop condition.
    fn generate(
        model: &LlamaModel,
        ctx: &mut LlamaContext<'_>,
        n_ctx: u32,
        job: &Job,
    ) -> Result<ChatReply, LlmError> {
        let started = std::time::Instant::now();
        let vocab = model.vocab();
        ctx.clear_kv_cache();
        let tokens = vocab.tokenize(job.prompt.as_bytes(), true, true);
        let budget = job.sampling.max_tokens as usize;
        if tokens.is_empty() {
            return Err(LlmError::Model("empty prompt".into()));
        }
        if tokens.len() + budget > n_ctx as usize {
            return Err(LlmError::Model(format!(
                "prompt of {} tokens plus max_tokens {budget} exceeds the context of {n_ctx}",
                tokens.len()
            )));
        }
        let mut batch = LlamaBatch::new(N_BATCH, 1);
        let last = tokens.len() - 1;
        for (c, chunk) in tokens.chunks(N_BATCH).enumerate() {
            batch.clear();
            for (j, t) in chunk.iter().enumerate() {
                let pos = c * N_BATCH + j;
                batch
                    .add(*t, pos as i32, &[0], pos == last)
                    .map_err(|e| model_err("batch", e))?;
            }
            ctx.decode(&mut batch)
                .map_err(|e| model_err("reading the prompt", e))?;
        }
        let mut sampler = if job.sampling.temperature <= 0.0 {
            LlamaSampler::greedy()
        } else {
            LlamaSampler::chain_simple([
                LlamaSampler::top_p(job.sampling.top_p.clamp(0.01, 1.0), 1),
                LlamaSampler::temp(job.sampling.temperature),
                LlamaSampler::dist(rand::random()),
            ])
        };
        let mut bytes: Vec<u8> = Vec::new();
        let mut generated = 0u64;
        let mut text = String::new();
        for pos in tokens.len()..tokens.len() + budget {
            if job.cancel.load(Ordering::Relaxed) {
                return Err(LlmError::Model("cancelled".into()));
            }
            if started.elapsed() > job.timeout {
                return Err(LlmError::Timeout(job.timeout));
            }
            let tok = sampler.sample(ctx, batch.n_tokens() - 1);
            sampler.accept(tok);
            if vocab.is_eog(tok) {
                break;
            }
            generated += 1;
            bytes.extend(vocab.token_to_piece(tok, false, None));
            text = String::from_utf8_lossy(&bytes).into_owned();
            if let Some(done) = stop_at_blank_line(&text) {
                text = done.to_string();
                break;
            }
            batch.clear();
            batch
                .add(tok, pos as i32, &[0], true)
                .map_err(|e| model_err("batch", e))?;
            ctx.decode(&mut batch)
                .map_err(|e| model_err("generating", e))?;
        }
        tracing::debug!(
            prompt_tokens = tokens.len(),
            completion_tokens = generated,
            ms = started.elapsed().as_millis() as u64,
            "gguf generation"
        );
        Ok(ChatReply {
            content: text.trim().to_string(),
            prompt_tokens: tokens.len() as u64,
            completion_tokens: generated,
        })
    }

    #[async_trait]
    impl ChatModel for GgufModel {
        fn name(&self) -> String {
            format!("gguf:{}", self.file)
        }
        fn params(&self) -> String {
            format!(
                "t={} p={} max={}",
                self.sampling.temperature, self.sampling.top_p, self.sampling.max_tokens
            )
        }
        async fn chat(&self, messages: &[ChatMessage]) -> Result<ChatReply, LlmError> {
            let (reply, rx) = tokio::sync::oneshot::channel();
            let cancel = Arc::new(AtomicBool::new(false));
            // A caller that goes away (request timeout, client gone) cancels its call,
            // queued or running.
            let _guard = CancelOnDrop(cancel.clone());
            let job = Job {
                prompt: render_prompt(messages),
                sampling: self.sampling,
                timeout: self.timeout,
                cancel,
                reply,
            };
            self.worker
                .tx
                .lock()
                .map_err(|_| LlmError::Model("gguf channel poisoned".into()))?
                .send(job)
                .map_err(|_| LlmError::Model("the gguf thread has stopped".into()))?;
            rx.await
                .map_err(|_| LlmError::Model("the gguf thread dropped the call".into()))?
        }
    }

    /// Sets the flag when dropped: a call whose caller is gone is skipped or stopped.
    struct CancelOnDrop(Arc<AtomicBool>);

    impl Drop for CancelOnDrop {
        fn drop(&mut self) {
            self.0.store(true, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompt_is_plain_text_ending_on_its_own_line() {
        let p = render_prompt(&[
            ChatMessage::system("You match data."),
            ChatMessage::user("Is A the same as B?\nReasoning: 1. both are cities\n"),
        ]);
        assert_eq!(
            p,
            "You match data.\n\nIs A the same as B?\nReasoning: 1. both are cities\n"
        );
    }

    #[test]
    fn generation_stops_at_the_first_blank_line_after_output() {
        assert_eq!(stop_at_blank_line("\n\n yes\n"), None);
        assert_eq!(
            stop_at_blank_line("\n 2. same\n3. yes\n\nQ: next"),
            Some("2. same\n3. yes")
        );
        assert_eq!(stop_at_blank_line("no"), None);
    }
}
