//! Asking a question (DESIGN.md §6): what goes in, the progress on the way,
//! and the answer with the SQL, the rows and what each stage cost.

use crate::costs::{ConversationStatus, Stage, Usage};
use crate::targets::QueryResult;
use crate::{AppError, ConnectionId, Usd};
use serde::{Deserialize, Serialize};

/// Longest question accepted, in characters.
pub const MAX_QUESTION_CHARS: usize = 2_000;

/// A question for one of the caller's databases (their active one when
/// `database_id` is `None`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AskRequest {
    pub question: String,
    #[serde(default)]
    pub database_id: Option<ConnectionId>,
}

impl AskRequest {
    /// The question trimmed, or why it cannot be asked.
    pub fn validated_question(&self) -> Result<&str, AppError> {
        let question = self.question.trim();
        if question.is_empty() {
            return Err(AppError::bad_request("Type a question first."));
        }
        let chars = question.chars().count();
        if chars > MAX_QUESTION_CHARS {
            return Err(AppError::bad_request(format!(
                "A question is at most {MAX_QUESTION_CHARS} characters; this one has {chars}."
            )));
        }
        Ok(question)
    }
}

/// What the pipeline reports while it works, so the bot and the page can
/// show progress without polling.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Progress {
    /// A stage's call to the language model started.
    Started { stage: Stage },
    /// The SQL about to run (after the guard accepted it).
    SqlReady { sql: String },
    /// The query returned this many rows.
    RowsReady { rows: usize, truncated: bool },
}

/// One call to the language model, as recorded in the ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageCost {
    pub stage: Stage,
    pub model: String,
    pub usage: Usage,
    pub cost: Usd,
    pub latency_ms: i64,
    /// Why this call gave no usable answer, if it did not.
    pub error: Option<String>,
}

/// The outcome of a question: answered, failed (the reason is the text) or
/// refused (the guard's reason). Recorded in the ledger either way.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Answer {
    pub conversation_id: i64,
    pub status: ConversationStatus,
    /// The answer in words, or why there is none.
    pub text: String,
    /// The SQL that produced the rows (the last one tried, when it failed).
    pub sql: Option<String>,
    pub result: Option<QueryResult>,
    pub stages: Vec<StageCost>,
    pub total_cost: Usd,
}

/// The Analysis prompt a question would get, without asking (`server ask
/// --dry-run --json` prints exactly this object).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnalysisPreview {
    /// Qualified names of the tables kept.
    pub tables: Vec<String>,
    /// (table, column) of every column kept.
    pub columns: Vec<(String, String)>,
    /// The whole prompt (instructions and input), in tokens.
    pub prompt_tokens: usize,
    /// The pruned schema in tokens, and the whole schema's.
    pub schema_tokens: usize,
    pub whole_schema_tokens: usize,
    pub prompt: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn questions_are_trimmed_and_bounded() {
        let ask = |q: &str| AskRequest {
            question: q.to_owned(),
            database_id: None,
        };
        assert_eq!(ask("  How many?  ").validated_question(), Ok("How many?"));
        assert!(ask("   ").validated_question().is_err());
        let long = "é".repeat(MAX_QUESTION_CHARS + 1);
        let err = ask(&long).validated_question().expect_err("too long");
        assert!(err.message().contains("2001"), "{}", err.message());
        assert!(ask(&"é".repeat(MAX_QUESTION_CHARS))
            .validated_question()
            .is_ok());
    }
}
