//! One question's calls to the model: each recorded as a stage row whatever
//! it returns, its answer parsed into the shape asked for, progress sent to
//! whoever listens; and how the stages ended ([`Outcome`]).

use super::prompts;
use crate::costs::ledger::NewStage;
use crate::llm::{LlmError, Request};
use crate::AppState;
use models::ask::{Progress, StageCost};
use models::costs::{ConversationStatus, Stage, Usage};
use models::targets::QueryResult;
use serde::de::DeserializeOwned;
use tokio::sync::mpsc::UnboundedSender;

/// How the stages ended, before recording.
pub(super) struct Outcome {
    pub(super) status: ConversationStatus,
    pub(super) text: String,
    pub(super) sql: Option<String>,
    pub(super) result: Option<QueryResult>,
    /// The email asked for: its checked recipients and the model's text.
    pub(super) email: Option<(Vec<String>, prompts::EmailText)>,
}

impl Outcome {
    pub(super) fn failed(text: impl Into<String>, sql: Option<String>) -> Outcome {
        Outcome {
            status: ConversationStatus::Failed,
            text: text.into(),
            sql,
            result: None,
            email: None,
        }
    }
}

/// The calls made so far and where progress goes.
pub(super) struct Run<'a> {
    pub(super) state: &'a AppState,
    pub(super) progress: Option<&'a UnboundedSender<Progress>>,
    /// Each call as the ledger records it, and as the answer shows it.
    pub(super) stages: Vec<(NewStage, StageCost)>,
    /// The call waiting on the model now, and since when.
    pub(super) calling: Option<(Stage, std::time::Instant)>,
}

impl Run<'_> {
    pub(super) fn emit(&self, event: Progress) {
        if let Some(tx) = self.progress {
            // A listener that went away does not stop the question.
            let _ = tx.send(event);
        }
    }

    /// One call, recorded whatever it returns; the answer parsed as `T`
    /// (one more call when it is not valid JSON of that shape).
    pub(super) async fn call<T: DeserializeOwned>(
        &mut self,
        stage: Stage,
        system: &str,
        input: &str,
        schema: Option<&serde_json::Value>,
        max_output_tokens: u32,
    ) -> Result<T, String> {
        let mut tries = 0;
        loop {
            tries += 1;
            self.emit(Progress::Started { stage });
            self.calling = Some((stage, std::time::Instant::now()));
            let result = self
                .state
                .llm
                .call(&Request {
                    stage,
                    system,
                    prompt: input,
                    schema,
                    max_output_tokens,
                })
                .await;
            self.calling = None;
            let (text, usage, model, latency_ms) = match result {
                Ok(reply) => (reply.text, reply.usage, reply.model, reply.latency_ms),
                Err(LlmError {
                    message,
                    usage,
                    model,
                    latency_ms,
                    ..
                }) => {
                    self.record(stage, model, usage, latency_ms, Some(message.clone()));
                    return Err(message);
                }
            };
            let parsed = match schema {
                Some(_) => serde_json::from_str::<T>(&text).map_err(|e| e.to_string()),
                None => serde_json::from_value::<T>(serde_json::Value::String(text.clone()))
                    .map_err(|e| e.to_string()),
            };
            match parsed {
                Ok(value) => {
                    self.record(stage, model, usage, latency_ms, None);
                    return Ok(value);
                }
                Err(why) => {
                    let message = format!(
                        "The language model's answer was not in the expected form ({why})."
                    );
                    self.record(stage, model, usage, latency_ms, Some(message.clone()));
                    if tries >= 2 {
                        return Err(message);
                    }
                }
            }
        }
    }

    fn record(
        &mut self,
        stage: Stage,
        model: String,
        usage: Usage,
        latency_ms: i64,
        error: Option<String>,
    ) {
        let cost = self.state.prices.cost(&model, &usage);
        let stage_cost = StageCost {
            stage,
            model: model.clone(),
            usage,
            cost: cost.input_cost + cost.output_cost,
            latency_ms,
            error: error.clone(),
        };
        crate::metrics::llm_call(&stage_cost);
        tracing::info!(
            stage = stage.as_str(),
            model = %stage_cost.model,
            input_tokens = usage.prompt_tokens,
            output_tokens = usage.candidates_tokens + usage.thoughts_tokens,
            latency_ms,
            ok = stage_cost.error.is_none(),
            "language model call"
        );
        self.stages.push((
            NewStage {
                stage,
                model: model.clone(),
                usage,
                latency_ms,
                // Set by `note_sql` when the stage wrote SQL.
                generated_sql: None,
                error,
            },
            stage_cost,
        ));
    }

    /// The outcome of a question stopped by the shutdown's grace period:
    /// the call waiting on the model, if any, is recorded with the time it
    /// took so far and no usage (the provider's answer never came).
    pub(super) fn interrupted(&mut self) -> Outcome {
        if let Some((stage, since)) = self.calling.take() {
            let model = self.state.config.llm.stage(stage).model.clone();
            let latency_ms = i64::try_from(since.elapsed().as_millis()).unwrap_or(i64::MAX);
            self.record(
                stage,
                model,
                Usage::default(),
                latency_ms,
                Some("Interrupted: Tabletalk stopped before the model answered.".to_owned()),
            );
        }
        let sql = self
            .stages
            .iter()
            .rev()
            .find_map(|(s, _)| s.generated_sql.clone());
        Outcome {
            status: ConversationStatus::Interrupted,
            text: crate::shutdown::INTERRUPTED.to_owned(),
            sql,
            result: None,
            email: None,
        }
    }

    /// Notes the SQL a stage wrote on its (last) stage row.
    pub(super) fn note_sql(&mut self, sql: &str) {
        if let Some((stage, _)) = self.stages.last_mut() {
            stage.generated_sql = Some(sql.to_owned());
        }
    }
}
