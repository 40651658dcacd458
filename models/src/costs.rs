//! The cost ledger's types (seed §5 "Costs Database Schema", DESIGN.md §6).

use crate::day::Day;
use crate::money::Usd;
use crate::{AppError, UserId};
use serde::{Deserialize, Serialize};

/// A stage of the question pipeline, named as the seed names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Stage {
    #[serde(rename = "Analysis")]
    Analysis,
    #[serde(rename = "SQL Repair")]
    SqlRepair,
    #[serde(rename = "SQL Response")]
    SqlResponse,
    #[serde(rename = "Email Generation")]
    EmailGeneration,
}

impl Stage {
    pub const ALL: [Stage; 4] = [
        Stage::Analysis,
        Stage::SqlRepair,
        Stage::SqlResponse,
        Stage::EmailGeneration,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Analysis => "Analysis",
            Stage::SqlRepair => "SQL Repair",
            Stage::SqlResponse => "SQL Response",
            Stage::EmailGeneration => "Email Generation",
        }
    }

    pub fn parse(s: &str) -> Option<Stage> {
        Stage::ALL.into_iter().find(|stage| stage.as_str() == s)
    }
}

/// Token counts of one LLM call as the provider reports them (Gemini's
/// `usageMetadata`; OpenAI-compatible providers map onto the same fields).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    /// `promptTokenCount`: every input token, cached ones included.
    pub prompt_tokens: i64,
    /// `cachedContentTokenCount`: the part of the prompt served from cache.
    pub cached_tokens: i64,
    /// `candidatesTokenCount`: the answer.
    pub candidates_tokens: i64,
    /// `thoughtsTokenCount`: thinking, billed as output.
    pub thoughts_tokens: i64,
}

/// Most tokens one call may report; more is a provider bug, refused.
pub const MAX_TOKENS_PER_CALL: i64 = 100_000_000;

impl Usage {
    /// Refuses negative or absurd counts, and a cache larger than the prompt.
    pub fn validate(&self) -> Result<(), AppError> {
        let fields = [
            ("prompt", self.prompt_tokens),
            ("cached", self.cached_tokens),
            ("candidates", self.candidates_tokens),
            ("thoughts", self.thoughts_tokens),
        ];
        for (name, value) in fields {
            if !(0..=MAX_TOKENS_PER_CALL).contains(&value) {
                return Err(AppError::bad_request(format!(
                    "The provider reported {value} {name} tokens for one call; expected 0 to {MAX_TOKENS_PER_CALL}."
                )));
            }
        }
        if self.cached_tokens > self.prompt_tokens {
            return Err(AppError::bad_request(format!(
                "The provider reported {} cached tokens out of a {}-token prompt.",
                self.cached_tokens, self.prompt_tokens
            )));
        }
        Ok(())
    }

    /// Input tokens billed at the fresh input price.
    pub fn fresh_input(&self) -> i64 {
        self.prompt_tokens - self.cached_tokens
    }

    /// Output tokens billed: the answer and the thinking.
    pub fn billable_output(&self) -> i64 {
        self.candidates_tokens + self.thoughts_tokens
    }
}

/// Prices of one model per 1M tokens; `above` applies to a whole call whose
/// prompt exceeds its threshold (e.g. gemini-2.5-pro above 200k tokens).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelPrice {
    pub input_per_million: Usd,
    pub output_per_million: Usd,
    pub cached_input_per_million: Usd,
    pub above: Option<PriceTier>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriceTier {
    /// The tier applies when the prompt has more than this many tokens.
    pub prompt_tokens_over: i64,
    pub input_per_million: Usd,
    pub output_per_million: Usd,
    pub cached_input_per_million: Usd,
}

/// The cost of one call, each part rounded once (see [`Usd::for_tokens`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallCost {
    pub input_cost: Usd,
    pub output_cost: Usd,
}

impl CallCost {
    pub fn total(&self) -> Usd {
        self.input_cost + self.output_cost
    }
}

impl ModelPrice {
    /// Prices a call as the provider bills it: fresh input at the input price,
    /// cached input at the cached price, candidates + thoughts at the output
    /// price; the tier (if any) chosen by the prompt size.
    pub fn cost(&self, usage: &Usage) -> CallCost {
        let (input, output, cached) = match &self.above {
            Some(tier) if usage.prompt_tokens > tier.prompt_tokens_over => (
                tier.input_per_million,
                tier.output_per_million,
                tier.cached_input_per_million,
            ),
            _ => (
                self.input_per_million,
                self.output_per_million,
                self.cached_input_per_million,
            ),
        };
        CallCost {
            input_cost: Usd::for_tokens(usage.fresh_input(), input)
                + Usd::for_tokens(usage.cached_tokens, cached),
            output_cost: Usd::for_tokens(usage.billable_output(), output),
        }
    }
}

/// Where a question came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Telegram,
    Web,
    /// `server ask` on the operator's terminal.
    Cli,
}

impl Channel {
    /// The name the ledger stores and metrics label.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Telegram => "telegram",
            Channel::Web => "web",
            Channel::Cli => "cli",
        }
    }
}

/// How a conversation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConversationStatus {
    Answered,
    Failed,
    Refused,
    /// The process stopped (SIGTERM) and its grace period ended first.
    Interrupted,
}

impl ConversationStatus {
    pub const ALL: [ConversationStatus; 4] = [
        ConversationStatus::Answered,
        ConversationStatus::Failed,
        ConversationStatus::Refused,
        ConversationStatus::Interrupted,
    ];

    /// The status named `text` (as [`ConversationStatus::as_str`] writes it).
    pub fn parse(text: &str) -> Option<ConversationStatus> {
        ConversationStatus::ALL
            .into_iter()
            .find(|s| s.as_str() == text)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ConversationStatus::Answered => "answered",
            ConversationStatus::Failed => "failed",
            ConversationStatus::Refused => "refused",
            ConversationStatus::Interrupted => "interrupted",
        }
    }
}

/// Totals over a period (the seed's /costs/overview).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CostTotals {
    pub conversations: i64,
    pub calls: i64,
    pub input_tokens: i64,
    pub cached_tokens: i64,
    pub output_tokens: i64,
    pub input_cost: Usd,
    pub output_cost: Usd,
    pub total_cost: Usd,
}

/// One row of a breakdown (by model, by stage, per user, per day).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CostRow {
    /// The model name, stage name, user id or ISO day.
    pub key: String,
    /// A person-readable label (the user's name; otherwise the key).
    pub label: String,
    pub totals: CostTotals,
}

/// Input versus output (the seed's /costs/input-output).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputOutputSplit {
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub input_cost: Usd,
    pub output_cost: Usd,
}

/// Cost per user with the average per current member (the seed's /costs/per-user).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PerUserCosts {
    pub users: Vec<CostRow>,
    pub members: i64,
    pub average_per_member: Usd,
}

/// A user's own spend for /stats and /myinfo.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct OwnTotals {
    pub today: CostTotals,
    pub this_week: CostTotals,
}

/// What `check_budget` says before a question.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum BudgetVerdict {
    /// No budget, or under 80% of it.
    Ok,
    /// At or above 80%: the owner should be warned.
    Warn { spent: Usd, budget: Usd },
    /// At or above 100%: new questions are refused until next month.
    Refuse { spent: Usd, budget: Usd },
}

impl BudgetVerdict {
    /// At 100% of the budget new questions are refused; from 80% the owner is warned.
    pub fn of(spent: Usd, budget: Usd) -> BudgetVerdict {
        let (s, b) = (i128::from(spent.units()), i128::from(budget.units()));
        if s >= b {
            BudgetVerdict::Refuse { spent, budget }
        } else if s * 5 >= b * 4 {
            BudgetVerdict::Warn { spent, budget }
        } else {
            BudgetVerdict::Ok
        }
    }
}

/// One conversation of the ledger (for the conversations list and CSV).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerEntry {
    pub conversation_id: i64,
    pub timestamp: i64,
    pub day: Day,
    pub user_id: UserId,
    pub username: Option<String>,
    pub question: String,
    pub status: String,
    /// The last SQL the pipeline wrote for it (after any repair), if any.
    pub sql: Option<String>,
    /// Rows the query returned, when one ran.
    pub rows: Option<i64>,
    /// The answer given, when it was answered (kept since issue 16; older
    /// conversations have none).
    #[serde(default)]
    pub answer: Option<String>,
    /// Why it failed or was refused.
    #[serde(default)]
    pub error: Option<String>,
    pub stages: i64,
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub total_cost: Usd,
}

/// The month's story on the overview, for owners (issue 16).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonthStory {
    /// This calendar month so far.
    pub this_month: CostTotals,
    /// The whole of last month.
    pub last_month: CostTotals,
    /// Last month up to the same day of the month (a fair comparison).
    pub last_month_to_date: Usd,
    /// The monthly budget, if one is set.
    pub budget: Option<Usd>,
    /// The last 30 days, oldest first, days without usage as zero.
    pub days: Vec<CostRow>,
    /// This month's three most expensive people and models.
    pub top_people: Vec<CostRow>,
    pub top_models: Vec<CostRow>,
    /// The last five questions.
    pub recent: Vec<LedgerEntry>,
    /// What needs the owner's attention, most urgent first.
    pub attention: Vec<Attention>,
}

/// One thing an owner should look at, and where to do it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attention {
    pub text: String,
    /// A dashboard path (`/invitations`, `/settings`).
    pub href: String,
}

/// Where a spend stands against its budget: the overview's bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum BudgetState {
    /// Under 80%.
    Fine,
    /// 80% or more: the owner is warned.
    Warning,
    /// 100% or more: questions are refused until next month.
    Exhausted,
}

impl BudgetState {
    /// The thresholds questions are warned and refused at ([`BudgetVerdict::of`]).
    pub fn of(spent: Usd, budget: Usd) -> BudgetState {
        match BudgetVerdict::of(spent, budget) {
            BudgetVerdict::Ok => BudgetState::Fine,
            BudgetVerdict::Warn { .. } => BudgetState::Warning,
            BudgetVerdict::Refuse { .. } => BudgetState::Exhausted,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            BudgetState::Fine => "fine",
            BudgetState::Warning => "warning",
            BudgetState::Exhausted => "exhausted",
        }
    }
}

/// What the operators see with the bot's `/admin stats`: counts only,
/// nothing of any organization's data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminStats {
    pub organizations: i64,
    pub users: i64,
    pub questions_today: i64,
    pub cost_today: Usd,
}

/// One page of the conversations list, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationPage {
    pub entries: Vec<LedgerEntry>,
    /// Whether older conversations follow (ask again with the last entry's
    /// `timestamp` and `conversation_id` as the `before` cursor).
    pub more: bool,
}

#[cfg(test)]
mod tests;
