//! Asking a question (DESIGN.md §6): what goes in, the progress on the way,
//! and the answer with the SQL, the rows and what each stage cost.

use crate::costs::{ConversationStatus, Stage, Usage};
use crate::targets::{QueryResult, Value};
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
    /// The email the question asked for, drafted and waiting for the
    /// person's Send or Cancel; nothing is sent before that.
    #[serde(default)]
    pub email: Option<EmailPreview>,
}

/// A question with its answer, ready for any chat: what the bot renders
/// the same way for a live question, a scheduled one or one from the outbox
/// (the question titles the chart).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Answered {
    pub question: String,
    pub answer: Answer,
}

/// Most recipients of one email.
pub const MAX_EMAIL_RECIPIENTS: usize = 5;

/// A drafted email, as the person sees it before sending.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailPreview {
    pub email_id: i64,
    pub recipients: Vec<String>,
    pub subject: String,
    /// The text, with the line naming who asked as it will be sent.
    pub body: String,
    /// Rows attached as `result.csv`, if any.
    pub attached_rows: Option<usize>,
}

/// What confirming (or retrying) an email did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum EmailOutcome {
    /// The mail server accepted it.
    Sent {
        recipients: Vec<String>,
    },
    /// Not sent yet (the mail server did not accept it): kept and retried
    /// in the background; `reason` says what went wrong.
    Queued {
        reason: String,
    },
    Cancelled,
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

/// Most points a chart of a result draws; longer results are shown as rows only.
pub const MAX_CHART_POINTS: usize = 500;
/// Most numeric series one chart draws.
pub const MAX_CHART_SERIES: usize = 4;

/// What the first column of a chartable result holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LabelKind {
    /// Names (products, countries, years): a bar per label, in the result's order.
    Category,
    /// Dates or timestamps, ascending: a time series.
    Date,
}

/// A result that reads as a chart: labels in the first column, one or more
/// number columns after it (the bot draws it as a PNG, the Ask page with ECharts).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChartSeries {
    pub label_column: String,
    pub kind: LabelKind,
    pub labels: Vec<String>,
    /// (column name, one value per label; `None` where the row held NULL).
    pub series: Vec<(String, Vec<Option<f64>>)>,
}

/// The chart a result makes, if it is a label/number or date/number series:
/// at least two rows (and at most [`MAX_CHART_POINTS`]), a first column of
/// labels (text, dates, timestamps or integers, none NULL) and every other
/// column numeric (NULLs allowed, not all of them). Text that reads as a date
/// (`2026-03-01`, `2026-03`) counts as a date, since SQLite returns dates as text.
pub fn chart_series(result: &QueryResult) -> Option<ChartSeries> {
    let (first, rest) = result.columns.split_first()?;
    if rest.is_empty() || rest.len() > MAX_CHART_SERIES {
        return None;
    }
    if result.rows.len() < 2 || result.rows.len() > MAX_CHART_POINTS {
        return None;
    }
    let mut labels = Vec::with_capacity(result.rows.len());
    let mut dates = true;
    for row in &result.rows {
        let label = match row.first()? {
            Value::Date(d) => d.clone(),
            Value::Timestamp(t) => t.clone(),
            Value::Text { text, .. } => {
                dates &= looks_like_date(text);
                text.clone()
            }
            Value::Int(i) => {
                dates = false;
                i.to_string()
            }
            _ => return None,
        };
        labels.push(label);
    }
    let mut series = Vec::with_capacity(rest.len());
    for (index, column) in rest.iter().enumerate() {
        let mut values = Vec::with_capacity(result.rows.len());
        for row in &result.rows {
            values.push(match row.get(index + 1)? {
                Value::Null => None,
                Value::Int(i) => Some(*i as f64),
                Value::Float(x) if x.is_finite() => Some(*x),
                Value::Decimal(s) | Value::BigInt(s) => Some(s.parse::<f64>().ok()?),
                _ => return None,
            });
        }
        if values.iter().all(Option::is_none) {
            return None;
        }
        series.push((column.name.clone(), values));
    }
    Some(ChartSeries {
        label_column: first.name.clone(),
        kind: if dates {
            LabelKind::Date
        } else {
            LabelKind::Category
        },
        labels,
        series,
    })
}

/// `YYYY-MM`, `YYYY-MM-DD` or those followed by a time.
fn looks_like_date(text: &str) -> bool {
    let b = text.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|s| s.iter().all(u8::is_ascii_digit));
    digits(0..4)
        && b.get(4) == Some(&b'-')
        && digits(5..7)
        && (b.len() == 7
            || (b.get(7) == Some(&b'-')
                && digits(8..10)
                && (b.len() == 10 || matches!(b.get(10), Some(b' ' | b'T')))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::targets::ResultColumn;

    fn result(columns: &[&str], rows: Vec<Vec<Value>>) -> QueryResult {
        QueryResult {
            columns: columns
                .iter()
                .map(|c| ResultColumn {
                    name: (*c).to_owned(),
                    type_name: String::new(),
                })
                .collect(),
            rows,
            truncated: false,
            row_limit: 1000,
            elapsed_ms: 1,
        }
    }

    #[test]
    fn label_and_number_columns_make_a_chart() {
        let r = result(
            &["product", "revenue", "units"],
            vec![
                vec![
                    Value::text("Tea"),
                    Value::Decimal("12.50".into()),
                    Value::Int(3),
                ],
                vec![Value::text("Cake"), Value::Float(4.25), Value::Null],
            ],
        );
        let chart = chart_series(&r).expect("a chart");
        assert_eq!(chart.kind, LabelKind::Category);
        assert_eq!(chart.labels, ["Tea", "Cake"]);
        assert_eq!(
            chart.series[0],
            ("revenue".into(), vec![Some(12.5), Some(4.25)])
        );
        assert_eq!(chart.series[1], ("units".into(), vec![Some(3.0), None]));
    }

    #[test]
    fn dates_as_text_or_values_make_a_time_series() {
        for (a, b) in [
            (Value::text("2026-03-01"), Value::text("2026-03-02")),
            (Value::text("2026-03"), Value::text("2026-04")),
            (
                Value::Date("2026-03-01".into()),
                Value::Date("2026-03-02".into()),
            ),
            (
                Value::Timestamp("2026-03-01 10:00:00".into()),
                Value::text("2026-03-01T11:00:00"),
            ),
        ] {
            let r = result(
                &["day", "n"],
                vec![vec![a, Value::Int(1)], vec![b, Value::Int(2)]],
            );
            assert_eq!(chart_series(&r).map(|c| c.kind), Some(LabelKind::Date));
        }
        let mixed = result(
            &["day", "n"],
            vec![
                vec![Value::text("2026-03-01"), Value::Int(1)],
                vec![Value::text("later"), Value::Int(2)],
            ],
        );
        assert_eq!(
            chart_series(&mixed).map(|c| c.kind),
            Some(LabelKind::Category)
        );
    }

    #[test]
    fn other_shapes_make_no_chart() {
        let one_row = result(&["a", "n"], vec![vec![Value::text("x"), Value::Int(1)]]);
        assert_eq!(chart_series(&one_row), None);
        let one_column = result(&["n"], vec![vec![Value::Int(1)], vec![Value::Int(2)]]);
        assert_eq!(chart_series(&one_column), None);
        let text_values = result(
            &["a", "b"],
            vec![
                vec![Value::text("x"), Value::text("y")],
                vec![Value::text("z"), Value::text("w")],
            ],
        );
        assert_eq!(chart_series(&text_values), None);
        let null_label = result(
            &["a", "n"],
            vec![
                vec![Value::Null, Value::Int(1)],
                vec![Value::text("z"), Value::Int(2)],
            ],
        );
        assert_eq!(chart_series(&null_label), None);
        let all_null = result(
            &["a", "n"],
            vec![
                vec![Value::text("x"), Value::Null],
                vec![Value::text("z"), Value::Null],
            ],
        );
        assert_eq!(chart_series(&all_null), None);
        let rows = (0..=MAX_CHART_POINTS as i64)
            .map(|i| vec![Value::Int(i), Value::Int(i)])
            .collect();
        assert_eq!(chart_series(&result(&["a", "n"], rows)), None);
    }

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
