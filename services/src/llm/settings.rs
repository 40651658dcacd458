//! The LLM settings, read with the rest of the configuration (DESIGN.md §6, §8).

use crate::config::{whole_number, ConfigError};
use models::costs::Stage;
use secrecy::SecretString;
use std::time::Duration;

/// Google's Generative Language API.
pub const DEFAULT_GEMINI_API_URL: &str = "https://generativelanguage.googleapis.com";

/// Which provider answers, and how to reach it.
#[derive(Debug)]
pub enum Provider {
    /// Gemini's REST API (`generateContent`), key sent as `x-goog-api-key`.
    Gemini {
        api_key: SecretString,
        base_url: String,
    },
    /// Any OpenAI-compatible chat-completions endpoint (OpenAI, Ollama,
    /// vLLM, LiteLLM): `{base_url}/chat/completions`, key as a bearer token.
    OpenAi {
        base_url: String,
        api_key: Option<SecretString>,
    },
}

impl Provider {
    pub fn name(&self) -> &'static str {
        match self {
            Provider::Gemini { .. } => "gemini",
            Provider::OpenAi { .. } => "openai",
        }
    }
}

/// Per-stage choices: the model and its thinking budget.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageSettings {
    pub model: String,
    /// Thinking tokens the model may spend (`None`: the provider's default;
    /// `Some(0)`: no thinking, where the model allows it).
    pub thinking_budget: Option<u32>,
}

/// Everything the LLM client needs.
#[derive(Debug)]
pub struct LlmSettings {
    /// `None`: no provider configured; asking says which variable to set.
    pub provider: Option<Provider>,
    analysis: StageSettings,
    sql_repair: StageSettings,
    sql_response: StageSettings,
    email: StageSettings,
    /// How long one call (one attempt) may take.
    pub timeout: Duration,
    /// Attempts after the first on 429, 5xx, timeouts and dropped connections.
    pub retries: u32,
    /// Longest wait between attempts, whatever the provider asks for.
    pub max_backoff: Duration,
}

/// What an unconfigured installation is told when someone asks.
pub const NOT_CONFIGURED: &str = "No language model is configured: set GEMINI_API_KEY (Google \
     Gemini) or OPENAI_BASE_URL (an OpenAI-compatible endpoint, with OPENAI_API_KEY if it needs \
     one) where Tabletalk runs, then restart it.";

impl LlmSettings {
    /// The settings of `stage`.
    pub fn stage(&self, stage: Stage) -> &StageSettings {
        match stage {
            Stage::Analysis => &self.analysis,
            Stage::SqlRepair => &self.sql_repair,
            Stage::SqlResponse => &self.sql_response,
            Stage::EmailGeneration => &self.email,
        }
    }

    /// Reads the LLM variables through `get` (trimmed, empty as unset).
    pub(crate) fn from_lookup(get: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let url = |name: &'static str, value: String| {
            if value.starts_with("http://") || value.starts_with("https://") {
                Ok(value.trim_end_matches('/').to_owned())
            } else {
                Err(ConfigError::new(name, "must be an http:// or https:// URL"))
            }
        };
        let gemini = || -> Result<Option<Provider>, ConfigError> {
            let Some(api_key) = get("GEMINI_API_KEY") else {
                return Ok(None);
            };
            Ok(Some(Provider::Gemini {
                api_key: SecretString::from(api_key),
                base_url: url(
                    "GEMINI_API_URL",
                    get("GEMINI_API_URL").unwrap_or_else(|| DEFAULT_GEMINI_API_URL.into()),
                )?,
            }))
        };
        let openai = || -> Result<Option<Provider>, ConfigError> {
            let Some(base_url) = get("OPENAI_BASE_URL") else {
                return Ok(None);
            };
            Ok(Some(Provider::OpenAi {
                base_url: url("OPENAI_BASE_URL", base_url)?,
                api_key: get("OPENAI_API_KEY").map(SecretString::from),
            }))
        };
        let provider = match get("TABLETALK_LLM_PROVIDER")
            .map(|v| v.to_ascii_lowercase())
            .as_deref()
        {
            None => match gemini()? {
                Some(found) => Some(found),
                None => openai()?,
            },
            Some("gemini") => Some(gemini()?.ok_or_else(|| {
                ConfigError::new(
                    "GEMINI_API_KEY",
                    "must be set when TABLETALK_LLM_PROVIDER is gemini",
                )
            })?),
            Some("openai") => Some(openai()?.ok_or_else(|| {
                ConfigError::new(
                    "OPENAI_BASE_URL",
                    "must be set when TABLETALK_LLM_PROVIDER is openai (for example \
                     https://api.openai.com/v1 or http://localhost:11434/v1 for Ollama)",
                )
            })?),
            Some(other) => {
                return Err(ConfigError::new(
                    "TABLETALK_LLM_PROVIDER",
                    format!("must be \"gemini\" or \"openai\", not {other:?}"),
                ))
            }
        };

        let stage = |model_var: &'static str,
                     thinking_var: &'static str,
                     default_model: &str|
         -> Result<StageSettings, ConfigError> {
            let model = get(model_var).unwrap_or_else(|| default_model.to_owned());
            if model.len() > 100
                || !model
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.:/@".contains(c))
            {
                return Err(ConfigError::new(
                    model_var,
                    "must be a model name: letters, digits and - _ . : / @, at most 100 characters",
                ));
            }
            let thinking_budget = get(thinking_var)
                .map(|text| {
                    text.parse::<u32>()
                        .ok()
                        .filter(|n| *n <= 32_768)
                        .ok_or_else(|| {
                            ConfigError::new(
                                thinking_var,
                                "must be a whole number of tokens from 0 to 32768",
                            )
                        })
                })
                .transpose()?;
            Ok(StageSettings {
                model,
                thinking_budget,
            })
        };
        let number = |name, min, max, default| whole_number(get, name, min, max, default);
        Ok(LlmSettings {
            provider,
            analysis: stage(
                "TABLETALK_MODEL_ANALYSIS",
                "TABLETALK_THINKING_ANALYSIS",
                "gemini-2.5-flash",
            )?,
            sql_repair: stage(
                "TABLETALK_MODEL_SQL_REPAIR",
                "TABLETALK_THINKING_SQL_REPAIR",
                "gemini-2.5-flash",
            )?,
            sql_response: stage(
                "TABLETALK_MODEL_SQL_RESPONSE",
                "TABLETALK_THINKING_SQL_RESPONSE",
                "gemini-2.5-flash-lite",
            )?,
            email: stage(
                "TABLETALK_MODEL_EMAIL",
                "TABLETALK_THINKING_EMAIL",
                "gemini-2.5-flash-lite",
            )?,
            timeout: Duration::from_secs(number("TABLETALK_LLM_TIMEOUT_SECS", 1, 600, 60)?),
            retries: u32::try_from(number("TABLETALK_LLM_RETRIES", 0, 10, 3)?).unwrap_or(3),
            max_backoff: Duration::from_secs(number("TABLETALK_LLM_MAX_BACKOFF_SECS", 1, 300, 30)?),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(pairs: &[(&str, &str)]) -> Result<LlmSettings, ConfigError> {
        LlmSettings::from_lookup(&|name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    #[test]
    fn the_provider_follows_the_keys_and_the_choice() {
        assert!(read(&[]).expect("valid").provider.is_none());
        let both = read(&[
            ("GEMINI_API_KEY", "k"),
            ("OPENAI_BASE_URL", "http://localhost:11434/v1/"),
        ])
        .expect("valid");
        assert_eq!(both.provider.as_ref().map(Provider::name), Some("gemini"));
        let chosen = read(&[
            ("GEMINI_API_KEY", "k"),
            ("OPENAI_BASE_URL", "http://localhost:11434/v1/"),
            ("TABLETALK_LLM_PROVIDER", "openai"),
        ])
        .expect("valid");
        match chosen.provider {
            Some(Provider::OpenAi { base_url, api_key }) => {
                assert_eq!(base_url, "http://localhost:11434/v1");
                assert!(api_key.is_none());
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            read(&[("TABLETALK_LLM_PROVIDER", "gemini")])
                .err()
                .map(|e| e.variable),
            Some("GEMINI_API_KEY")
        );
        assert_eq!(
            read(&[("TABLETALK_LLM_PROVIDER", "claude")])
                .err()
                .map(|e| e.variable),
            Some("TABLETALK_LLM_PROVIDER")
        );
        assert_eq!(
            read(&[("OPENAI_BASE_URL", "localhost:11434")])
                .err()
                .map(|e| e.variable),
            Some("OPENAI_BASE_URL")
        );
    }

    #[test]
    fn models_and_thinking_are_per_stage() {
        let s = read(&[
            ("TABLETALK_MODEL_SQL_RESPONSE", "gpt-4.1-mini"),
            ("TABLETALK_THINKING_ANALYSIS", "1024"),
        ])
        .expect("valid");
        assert_eq!(s.stage(Stage::Analysis).model, "gemini-2.5-flash");
        assert_eq!(s.stage(Stage::Analysis).thinking_budget, Some(1024));
        assert_eq!(s.stage(Stage::SqlRepair).model, "gemini-2.5-flash");
        assert_eq!(s.stage(Stage::SqlResponse).model, "gpt-4.1-mini");
        assert_eq!(
            s.stage(Stage::EmailGeneration).model,
            "gemini-2.5-flash-lite"
        );
        assert_eq!(s.stage(Stage::SqlResponse).thinking_budget, None);
        for (name, value) in [
            ("TABLETALK_THINKING_ANALYSIS", "-1"),
            ("TABLETALK_THINKING_ANALYSIS", "lots"),
            ("TABLETALK_MODEL_ANALYSIS", "gemini 2.5"),
            ("TABLETALK_LLM_TIMEOUT_SECS", "0"),
            ("TABLETALK_LLM_RETRIES", "11"),
        ] {
            assert_eq!(
                read(&[(name, value)]).err().map(|e| e.variable),
                Some(name),
                "{name}={value}"
            );
        }
    }
}
