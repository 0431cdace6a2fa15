//! The in-process GGUF backbone (`llm.provider: gguf`), available with the cargo
//! feature `local-llm`. Without it, choosing `gguf` is a configuration error.

use std::sync::Arc;

use super::EngineError;
use super::llm::ChatModel;
use crate::config::LlmConfig;

/// Loads the GGUF model named by `llm.model_path`.
pub fn load(llm: &LlmConfig) -> Result<Arc<dyn ChatModel>, EngineError> {
    let _ = llm;
    Err(EngineError::Config(
        "llm.provider gguf needs a build with the `local-llm` cargo feature".into(),
    ))
}
