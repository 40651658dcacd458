//! What the Analysis stage is given: the database, the schema pruned to the
//! question within the token budget, the remembered turns; and the dry-run
//! preview of that prompt (`server ask --dry-run`).

use super::{memory, prompts, prune, ANALYSIS_TOKEN_BUDGET, MIN_SCHEMA_TOKENS};
use crate::access;
use crate::databases;
use crate::AppState;
use models::ask::{AnalysisPreview, AskRequest};
use models::org::Caller;
use models::{Action, AppError, Day};

/// What every stage of one question is told besides the question.
pub(super) struct Context {
    pub(super) database: models::ConnectionId,
    pub(super) kind: models::targets::TargetKind,
    /// A person's own database: the question is theirs, not their
    /// organization's (its owner must not see it; issue 29).
    pub(super) personal: bool,
    pub(super) today: String,
    pub(super) schema: String,
    /// The person's remembered turns with this database, oldest first.
    pub(super) turns: Vec<memory::Turn>,
}

/// The database, the context every stage gets (the pruned schema, the
/// remembered turns) and the pruning's figures.
pub(super) async fn prepare(
    state: &AppState,
    caller: &Caller,
    request: &AskRequest,
    user_id: models::UserId,
    question: &str,
    today: Day,
) -> Result<(Context, prune::Pruned), AppError> {
    let (database, (kind, scope)) = match &request.database_id {
        Some(id) => (id.clone(), databases::kind_of(state, caller, id).await?),
        None => {
            let active = databases::active(state, caller).await?.ok_or_else(|| {
                AppError::conflict(
                    "Choose a database first: /selectdb in Telegram, or Select on the Databases page.",
                )
            })?;
            (active.connection_id, (active.summary.kind, active.scope))
        }
    };
    let schema = databases::schema(state, caller, &database, false).await?;
    let turns = memory::recent(&state.store, user_id, &database).await?;
    let today = today.to_string();
    // What the prompt holds besides the schema, counted, leaves the schema's budget.
    let rest = system_tokens()
        + prune::tokens(&prompts::analysis_input(kind, &today, "", &turns, question));
    let budget = ANALYSIS_TOKEN_BUDGET
        .saturating_sub(rest)
        .max(MIN_SCHEMA_TOKENS);
    let earlier: Vec<&str> = turns.iter().map(|t| t.question.as_str()).collect();
    let pruned = prune::prune(&schema, question, &earlier, budget);
    let context = Context {
        personal: scope == models::targets::DatabaseScope::Personal,
        database,
        kind,
        today,
        schema: pruned.text.clone(),
        turns,
    };
    Ok((context, pruned))
}

/// Tokens of the Analysis instructions (counted once).
pub(super) fn system_tokens() -> usize {
    static TOKENS: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *TOKENS.get_or_init(|| prune::tokens(prompts::ANALYSIS_SYSTEM))
}

/// What the Analysis prompt of `request` would be, without asking anything
/// (`server ask --dry-run`): the tables and columns pruning kept, the
/// prompt's size and the schema's with and without pruning.
pub async fn preview(
    state: &AppState,
    caller: &Caller,
    request: &AskRequest,
) -> Result<AnalysisPreview, AppError> {
    access::allow(caller, Action::AskQuestions)?;
    let user_id = access::user(caller)?;
    let question = request.validated_question()?;
    let today = Day::of_unix(crate::clock::now());
    let (context, pruned) = prepare(state, caller, request, user_id, question, today).await?;
    let input = prompts::analysis_input(
        context.kind,
        &context.today,
        &context.schema,
        &context.turns,
        question,
    );
    let prompt = format!("{}\n\n{input}", prompts::ANALYSIS_SYSTEM);
    Ok(AnalysisPreview {
        tables: pruned.tables,
        columns: pruned.columns,
        prompt_tokens: system_tokens() + prune::tokens(&input),
        schema_tokens: pruned.schema_tokens,
        whole_schema_tokens: pruned.whole_schema_tokens,
        prompt,
    })
}
