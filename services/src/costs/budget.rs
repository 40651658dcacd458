//! Monthly budgets per organization.
//!
//! The rule: `check` runs before a question and reads the month's spend as
//! committed in the rollup. At or above 80% of the budget it warns, at or
//! above 100% it refuses. A question admitted before the budget was reached may
//! still finish and be recorded, so the month can end above the budget by at
//! most the cost of the questions that were in flight when it was reached; no
//! question admitted afterwards can add to it. (Months are UTC calendar months.)

use crate::access::{require, require_in_tx};
use crate::error::internal;
use crate::Store;
use models::costs::BudgetVerdict;
use models::org::Caller;
use models::{Action, AppError, Day, OrgId, Usd};

/// Largest monthly budget accepted.
pub const MAX_BUDGET: Usd = Usd::dollars(10_000_000);

/// Sets (or with `None` clears) the caller's organization's monthly budget (owner).
#[tracing::instrument(level = "debug", skip_all, fields(org = ?caller.org_id, user = ?caller.user_id))]
pub async fn set(store: &Store, caller: &Caller, budget: Option<Usd>) -> Result<(), AppError> {
    require(caller, Action::ManageBudget)?;
    if let Some(b) = budget {
        if b <= Usd::ZERO || b > MAX_BUDGET {
            return Err(AppError::bad_request(format!(
                "A monthly budget is more than $0 and at most {MAX_BUDGET}; {b} is not possible."
            )));
        }
    }
    let mut tx = store
        .begin_write()
        .await
        .map_err(internal("starting a transaction"))?;
    let (org_id, _) = require_in_tx(&mut tx, caller, Action::ManageBudget).await?;
    match budget {
        Some(b) => sqlx::query(
            "INSERT INTO org_budgets (org_id, monthly_budget, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (org_id) DO UPDATE SET monthly_budget = excluded.monthly_budget, updated_at = excluded.updated_at",
        )
        .bind(org_id.as_str())
        .bind(b.units())
        .bind(crate::clock::now()),
        None => sqlx::query("DELETE FROM org_budgets WHERE org_id = $1").bind(org_id.as_str()),
    }
    .execute(&mut *tx)
    .await
    .map_err(internal("storing a budget"))?;
    tx.commit().await.map_err(internal("committing a budget"))
}

/// The caller's organization's budget, if any (owners).
#[tracing::instrument(level = "debug", skip_all, fields(org = ?caller.org_id, user = ?caller.user_id))]
pub async fn get(store: &Store, caller: &Caller) -> Result<Option<Usd>, AppError> {
    let org = require(caller, Action::ViewCosts)?;
    budget_of(store, org).await
}

async fn budget_of(store: &Store, org: &OrgId) -> Result<Option<Usd>, AppError> {
    let units: Option<i64> =
        sqlx::query_scalar("SELECT monthly_budget FROM org_budgets WHERE org_id = $1")
            .bind(org.as_str())
            .fetch_optional(store.pool())
            .await
            .map_err(internal("reading a budget"))?;
    Ok(units.map(Usd))
}

/// What the month's spend so far (UTC month of `today`) allows.
pub async fn check(
    store: &Store,
    org: Option<&OrgId>,
    today: Day,
) -> Result<BudgetVerdict, AppError> {
    let Some(org) = org else {
        return Ok(BudgetVerdict::Ok);
    };
    let Some(budget) = budget_of(store, org).await? else {
        return Ok(BudgetVerdict::Ok);
    };
    let spent = month_spend(store, org, today).await?;
    Ok(verdict(spent, budget))
}

/// The organization's recorded spend in the UTC month of `today`.
pub async fn month_spend(store: &Store, org: &OrgId, today: Day) -> Result<Usd, AppError> {
    let units: i64 = sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(total_cost), 0) AS BIGINT) FROM usage_daily_org \
         WHERE org_id = $1 AND day BETWEEN $2 AND $3",
    )
    .bind(org.as_str())
    .bind(today.month_start().0)
    .bind(today.next_month_start().0 - 1)
    .fetch_one(store.pool())
    .await
    .map_err(internal("reading the month's spend"))?;
    Ok(Usd(units))
}

/// >= 100%: refuse; >= 80%: warn; otherwise ok. Exact integer comparisons.
pub fn verdict(spent: Usd, budget: Usd) -> BudgetVerdict {
    BudgetVerdict::of(spent, budget)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_are_exact() {
        let b = Usd(1_000);
        assert_eq!(verdict(Usd(799), b), BudgetVerdict::Ok);
        assert_eq!(
            verdict(Usd(800), b),
            BudgetVerdict::Warn {
                spent: Usd(800),
                budget: b
            }
        );
        assert_eq!(
            verdict(Usd(999), b),
            BudgetVerdict::Warn {
                spent: Usd(999),
                budget: b
            }
        );
        assert_eq!(
            verdict(Usd(1_000), b),
            BudgetVerdict::Refuse {
                spent: Usd(1_000),
                budget: b
            }
        );
    }
}
