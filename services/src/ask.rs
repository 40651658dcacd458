//! The question pipeline (DESIGN.md §6): one function for the bot, the web
//! page and the CLI.
//!
//! Budget first; then `Analysis` (question + schema -> intent and SQL), the
//! guard and the read-only run, up to two `SQL Repair` calls when the engine
//! rejects the SQL (never when the guard refused it: that SQL never runs and
//! the person gets the reason), and `SQL Response` (a bounded sample of the
//! rows -> the answer in words). Every call to the model is a stage row; the
//! conversation and its stages are recorded in one transaction whatever the
//! outcome — failed and refused ones included, since their calls cost money.
//!
//! Per person: one question a second with a burst of three, and one in
//! flight ([`limits`]), after the budget.
//!
//! The schema in the prompt is pruned to the question ([`prune`]: names,
//! column comments and the value index of small text columns) within
//! [`ANALYSIS_TOKEN_BUDGET`]; the person's last turns come with it ([`memory`]).
//!
//! A question asking for its result by email gets a draft instead of the
//! `SQL Response` stage ([`crate::email`]): `Email Generation` writes it, the
//! person confirms before anything is sent.
//!
//! Two writes per question: the admission (rate and in-flight row) and, at
//! the end, the ledger, the memory turn and the release in one transaction.

mod context;
pub mod limits;
pub mod memory;
pub mod prompts;
pub mod prune;
mod run;
pub mod tickets;

use crate::access;
use crate::costs::budget;
use crate::costs::ledger::{self, NewConversation};
use crate::databases::{self, QueryError};
use crate::AppState;
pub use context::preview;
use context::{prepare, Context};
use models::ask::{Answer, AskRequest, Progress, StageCost};
use models::costs::{BudgetVerdict, Channel, ConversationStatus, Stage};
use models::org::Caller;
use models::targets::QueryResult;
use models::{Action, AppError, Day};
use run::{Outcome, Run};
use targets::TargetErrorKind;
use tokio::sync::mpsc::UnboundedSender;

/// Tokens the Analysis prompt may take (instructions, turns, schema, question).
pub const ANALYSIS_TOKEN_BUDGET: usize = 6_000;
/// Tokens of schema kept however long the rest of the prompt is.
const MIN_SCHEMA_TOKENS: usize = 1_000;

/// SQL Repair calls after the engine rejects the SQL.
pub const MAX_REPAIRS: usize = 2;
/// Most output tokens per stage.
const ANALYSIS_TOKENS: u32 = 2_048;
const REPAIR_TOKENS: u32 = 2_048;
const RESPONSE_TOKENS: u32 = 1_024;
const EMAIL_TOKENS: u32 = 1_024;

/// Asks `request` of one of the caller's databases. `Err` only when nothing
/// was asked of the model (no access, budget reached, no database, no
/// provider); every outcome after that is an [`Answer`], recorded.
#[tracing::instrument(level = "debug", skip_all, fields(org = ?caller.org_id, user = ?caller.user_id))]
pub async fn ask(
    state: &AppState,
    caller: &Caller,
    request: &AskRequest,
    channel: Channel,
    progress: Option<&UnboundedSender<Progress>>,
) -> Result<Answer, AppError> {
    access::allow(caller, Action::AskQuestions)?;
    let user_id = access::user(caller)?;
    let question = request.validated_question()?;
    let today = Day::of_unix(crate::clock::now());
    if let BudgetVerdict::Refuse { spent, budget } =
        budget::check(&state.store, caller.org_id.as_ref(), today).await?
    {
        return Err(AppError::conflict(format!(
            "Your organization has used its monthly budget ({spent} of {budget}). Questions are \
             refused until next month, or until an owner raises the budget."
        )));
    }
    if !state.llm.is_configured() {
        return Err(AppError::Unavailable {
            message: crate::llm::settings::NOT_CONFIGURED.to_owned(),
        });
    }
    let in_flight = limits::admit(
        &state.store,
        state.shutdown.process_id(),
        user_id,
        state.config.question_rate,
    )
    .await?;
    // One id per question on every log line it causes (the model's calls,
    // the query), inside the caller's span (the HTTP request's id, the
    // Telegram message's).
    let question_id = hex::encode(
        crate::random::bytes::<8>().map_err(crate::error::internal("generating an id"))?,
    );
    let span =
        tracing::info_span!("question", question_id = %question_id, channel = channel.as_str());
    tracing::Instrument::instrument(
        answer(
            state, caller, request, channel, progress, user_id, question, today, in_flight,
        ),
        span,
    )
    .await
}

/// The question once admitted: the database, the stages, the record.
#[allow(clippy::too_many_arguments)]
async fn answer(
    state: &AppState,
    caller: &Caller,
    request: &AskRequest,
    channel: Channel,
    progress: Option<&UnboundedSender<Progress>>,
    user_id: models::UserId,
    question: &str,
    today: Day,
    in_flight: limits::InFlight,
) -> Result<Answer, AppError> {
    let context = match prepare(state, caller, request, user_id, question, today).await {
        Ok((context, _)) => context,
        Err(error) => {
            in_flight.finish().await;
            return Err(error);
        }
    };
    let database = context.database.clone();
    let personal = context.personal;
    let mut run = Run {
        state,
        progress,
        stages: Vec::new(),
        calling: None,
    };
    // Counted while it runs, so a stopping process waits for it; interrupted
    // (and recorded as such) when the stop's grace period ends first.
    let _running = state.shutdown.question();
    let outcome = tokio::select! {
        outcome = pipeline(&mut run, caller, &context, question) => outcome,
        () = state.shutdown.interrupted() => run.interrupted(),
    };

    let conversation = NewConversation {
        chat_id: user_id,
        user_id,
        username: None,
        question: question.to_owned(),
        // A question to a person's own database is theirs alone (issue 29).
        org_id: if personal {
            None
        } else {
            caller.org_id.clone()
        },
        database_id: Some(database.as_str().to_owned()),
        channel,
        status: outcome.status,
        error: (outcome.status != ConversationStatus::Answered).then(|| outcome.text.clone()),
        answer: (outcome.status == ConversationStatus::Answered).then(|| outcome.text.clone()),
        row_count: outcome
            .result
            .as_ref()
            .map(|r| i64::try_from(r.rows.len()).unwrap_or(i64::MAX)),
        at: crate::clock::now(),
        stages: run.stages.iter().map(|(stage, _)| stage.clone()).collect(),
    };
    let stages: Vec<StageCost> = run.stages.into_iter().map(|(_, cost)| cost).collect();
    // One write for the end of the question: the ledger, the memory, and the
    // person free to ask again.
    let mut tx = state
        .store
        .begin_write()
        .await
        .map_err(crate::error::internal("starting a transaction"))?;
    let conversation_id = if conversation.stages.is_empty() {
        0
    } else {
        ledger::record_in(&mut tx, state.store.backend(), &state.prices, &conversation).await?
    };
    if outcome.status == ConversationStatus::Answered {
        let turn = memory::Turn {
            question: question.to_owned(),
            sql: outcome.sql.clone(),
            answer: outcome.text.clone(),
        };
        memory::remember_in(&mut tx, user_id, &database, &turn).await?;
    }
    in_flight
        .finish_in(&mut tx)
        .await
        .map_err(crate::error::internal("ending the question"))?;
    tx.commit()
        .await
        .map_err(crate::error::internal("recording the question"))?;
    in_flight.committed();
    crate::metrics::question(channel, outcome.status);
    tracing::info!(
        conversation_id,
        status = outcome.status.as_str(),
        calls = stages.len(),
        cost = %stages.iter().map(|s| s.cost).sum::<models::Usd>(),
        "question recorded"
    );
    let email = match outcome.email {
        Some((recipients, text)) => Some(
            crate::email::draft(
                &state.store,
                crate::email::NewEmail {
                    user_id,
                    org_id: caller.org_id.as_ref(),
                    conversation_id: Some(conversation_id),
                    question,
                    recipients,
                    subject: &text.subject,
                    body: &text.body,
                    attachment: outcome
                        .result
                        .as_ref()
                        .and_then(|r| crate::csv::result_csv(r).map(|csv| (csv, r.rows.len()))),
                },
            )
            .await?,
        ),
        None => None,
    };
    Ok(Answer {
        email,
        conversation_id,
        status: outcome.status,
        text: outcome.text,
        sql: outcome.sql,
        result: outcome.result,
        total_cost: stages.iter().map(|s| s.cost).sum(),
        stages,
    })
}

async fn pipeline(
    run: &mut Run<'_>,
    caller: &Caller,
    context: &Context,
    question: &str,
) -> Outcome {
    let Context {
        ref database,
        kind,
        ref today,
        ref schema,
        ref turns,
        personal: _,
    } = *context;
    let analysis_schema = prompts::analysis_schema();
    let analysis: prompts::Analysis = match run
        .call(
            Stage::Analysis,
            prompts::ANALYSIS_SYSTEM,
            &prompts::analysis_input(kind, today, schema, turns, question),
            Some(&analysis_schema),
            ANALYSIS_TOKENS,
        )
        .await
    {
        Ok(analysis) => analysis,
        Err(message) => return Outcome::failed(message, None),
    };
    let wants_email = analysis.intent == "email";
    let sql = match (analysis.intent.as_str(), analysis.sql) {
        ("data" | "email", Some(sql)) if !sql.trim().is_empty() => sql,
        (_, _) => {
            return match analysis.answer.filter(|a| !a.trim().is_empty()) {
                Some(answer) => Outcome {
                    status: ConversationStatus::Answered,
                    text: answer,
                    sql: None,
                    result: None,
                    email: None,
                },
                None => Outcome::failed(
                    "The language model gave neither SQL nor an answer. Try rephrasing the question.",
                    None,
                ),
            };
        }
    };
    run.note_sql(&sql);

    let repair_schema = prompts::repair_schema();
    let mut sql = sql;
    let mut repairs = 0;
    let result = loop {
        run.emit(Progress::SqlReady { sql: sql.clone() });
        // The span times the query from here (the overhead bench subtracts it).
        let span = tracing::debug_span!("target_query", kind = %kind);
        let started = std::time::Instant::now();
        let executed = tracing::Instrument::instrument(
            databases::execute(run.state, caller, database, &sql),
            span,
        )
        .await;
        tracing::info!(
            kind = %kind,
            ok = executed.is_ok(),
            rows = executed.as_ref().map_or(0, |r| r.rows.len()),
            elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            "target query"
        );
        match executed {
            Ok(result) => break result,
            Err(QueryError::Refused(reason)) => {
                return Outcome {
                    status: ConversationStatus::Refused,
                    text: format!(
                        "Tabletalk only runs one read-only query, and refused the one the model \
                         wrote: {reason}."
                    ),
                    sql: Some(sql),
                    result: None,
                    email: None,
                }
            }
            Err(QueryError::Target(e))
                if e.kind == TargetErrorKind::Query && repairs < MAX_REPAIRS =>
            {
                repairs += 1;
                let repaired: Result<prompts::Repair, String> = run
                    .call(
                        Stage::SqlRepair,
                        prompts::REPAIR_SYSTEM,
                        &prompts::repair_input(kind, schema, question, &sql, &e.message),
                        Some(&repair_schema),
                        REPAIR_TOKENS,
                    )
                    .await;
                match repaired {
                    Ok(repair) => {
                        run.note_sql(&repair.sql);
                        sql = repair.sql;
                    }
                    Err(message) => return Outcome::failed(message, Some(sql)),
                }
            }
            Err(QueryError::Target(e)) => {
                let text = if e.kind == TargetErrorKind::Query {
                    format!(
                        "The database rejected the SQL even after {MAX_REPAIRS} repairs: {}",
                        e.message
                    )
                } else {
                    e.message
                };
                return Outcome::failed(text, Some(sql));
            }
            Err(QueryError::Other(e)) => return Outcome::failed(e.message(), Some(sql)),
        }
    };
    run.emit(Progress::RowsReady {
        rows: result.rows.len(),
        truncated: result.truncated,
    });
    if wants_email {
        let proposed = analysis.recipients.unwrap_or_default();
        return email_stage(run, caller, question, sql, result, &proposed).await;
    }

    let text: Result<String, String> = run
        .call(
            Stage::SqlResponse,
            prompts::RESPONSE_SYSTEM,
            &prompts::response_input(question, &sql, &result),
            None,
            RESPONSE_TOKENS,
        )
        .await;
    match text {
        Ok(text) => Outcome {
            status: ConversationStatus::Answered,
            text: text.trim().to_owned(),
            sql: Some(sql),
            result: Some(result),
            email: None,
        },
        // The rows are there even when the words are not.
        Err(message) => Outcome {
            status: ConversationStatus::Failed,
            text: message,
            sql: Some(sql),
            result: Some(result),
            email: None,
        },
    }
}

/// The email a question asked for: recipients checked against the
/// question, then `Email Generation` writes it. Drafted, not sent.
async fn email_stage(
    run: &mut Run<'_>,
    caller: &Caller,
    question: &str,
    sql: String,
    result: QueryResult,
    proposed: &[String],
) -> Outcome {
    let failed = |text: String, sql: String, result: QueryResult| Outcome {
        status: ConversationStatus::Failed,
        text,
        sql: Some(sql),
        result: Some(result),
        email: None,
    };
    if !run.state.mailer.is_configured() {
        return failed(
            crate::email::settings::NOT_CONFIGURED.to_owned(),
            sql,
            result,
        );
    }
    let own = match caller.user_id {
        Some(user) => crate::email::own_address(&run.state.store, user)
            .await
            .unwrap_or(None),
        None => None,
    };
    let recipients = match crate::email::recipients(question, proposed, own.as_deref()) {
        Ok(recipients) => recipients,
        Err(why) => return failed(why, sql, result),
    };
    let written: Result<prompts::EmailText, String> = run
        .call(
            Stage::EmailGeneration,
            prompts::EMAIL_SYSTEM,
            &prompts::response_input(question, &sql, &result),
            Some(&prompts::email_schema()),
            EMAIL_TOKENS,
        )
        .await;
    match written {
        Ok(text) => Outcome {
            status: ConversationStatus::Answered,
            text: format!(
                "The email to {} is ready: check it, then send or cancel it.",
                recipients.join(", ")
            ),
            sql: Some(sql),
            result: Some(result),
            email: Some((recipients, text)),
        },
        Err(message) => failed(message, sql, result),
    }
}
