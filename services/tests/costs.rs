//! The cost ledger on every store backend: exact recording, rollup equal to the
//! raw rows, analytics scoping, budgets, CSV.

use models::costs::{BudgetVerdict, Channel, ConversationStatus, CostTotals, Stage, Usage};
use models::{Day, DayRange, OrgId, Usd};
use services::costs::analytics::{self, Grouping};
use services::costs::answers::Answers;
use services::costs::ledger::{self, NewConversation, NewStage};
use services::costs::{budget, export, synthetic, PriceTable};
use services::{access, orgs, AppState};
use testkit::app::{org, person, store as open};
use testkit::db::TestDb;
use testkit::raw;
use testkit::status::{expect_bad_request, expect_forbidden};

fn stage(stage: Stage, model: &str, prompt: i64, cached: i64, out: i64, thoughts: i64) -> NewStage {
    NewStage {
        stage,
        model: model.into(),
        usage: Usage {
            prompt_tokens: prompt,
            cached_tokens: cached,
            candidates_tokens: out,
            thoughts_tokens: thoughts,
        },
        latency_ms: 900,
        generated_sql: Some("SELECT 1".into()),
        error: None,
    }
}

fn conversation(user_id: i64, org_id: Option<&OrgId>, at: i64, i: i64) -> NewConversation {
    NewConversation {
        chat_id: user_id,
        user_id,
        username: Some(format!("u{user_id}")),
        question: format!("question {i}, with a comma and \"quotes\""),
        org_id: org_id.cloned(),
        database_id: None,
        channel: Channel::Telegram,
        status: ConversationStatus::Answered,
        error: None,
        row_count: Some(3),
        answer: Some(format!("answer {i}")),
        at,
        stages: vec![
            stage(
                Stage::Analysis,
                "gemini-2.5-flash",
                1_000 + i % 97,
                (i % 3) * 100,
                50 + i % 13,
                i % 200,
            ),
            stage(
                Stage::SqlResponse,
                "gemini-2.5-flash-lite",
                700 + i % 31,
                0,
                80 + i % 7,
                0,
            ),
        ],
    }
}

#[tokio::test]
async fn recording_prices_every_call_and_the_rollup_equals_the_rows() {
    let prices = PriceTable::defaults();
    for db in TestDb::all().await {
        let state = testkit::app::state(&db, &[]).await;
        let store = state.store.clone();
        let (owner, org_id) = org(&store, 1, "Acme").await;
        person(&store, 2, "Bea").await;
        orgs::members::add(&store, &owner, 2).await.expect("added");
        let day0 = Day::parse("2026-03-01").expect("date");
        for i in 0..60 {
            let user = if i % 3 == 0 { 2 } else { 1 };
            let at = day0.start_unix() + (i % 10) * 86_400 + 3_600;
            ledger::record(&store, &prices, &conversation(user, Some(&org_id), at, i))
                .await
                .expect("recorded");
        }
        // A third stage on one conversation, with a model nobody priced: kept at zero cost.
        let mut odd = conversation(1, Some(&org_id), day0.start_unix(), 1000);
        odd.stages
            .push(stage(Stage::EmailGeneration, "mystery-model", 10, 0, 10, 0));
        ledger::record(&store, &prices, &odd)
            .await
            .expect("recorded");

        let all = DayRange::all();
        let totals = analytics::overview(&state, &owner, &all)
            .await
            .expect("overview");
        assert_eq!(totals.conversations, 61, "{}", db.kind);
        assert_eq!(totals.calls, 123);
        let by_model = analytics::by_model(&state, &owner, &all)
            .await
            .expect("by model");
        let mystery = by_model
            .iter()
            .find(|r| r.key == "mystery-model")
            .expect("recorded, not dropped");
        assert_eq!(
            (mystery.totals.calls, mystery.totals.total_cost),
            (1, Usd::ZERO)
        );
        let by_stage = analytics::by_stage(&state, &owner, &all)
            .await
            .expect("by stage");
        let names: Vec<&str> = by_stage.iter().map(|r| r.key.as_str()).collect();
        assert_eq!(
            names,
            ["Analysis", "SQL Response", "Email Generation"],
            "pipeline order"
        );
        let daily = analytics::daily(&state, &owner, &all).await.expect("daily");
        assert_eq!(daily.len(), 10);
        assert_eq!(daily[0].key, "2026-03-01");
        let per_user = analytics::per_user(&state, &owner, &all)
            .await
            .expect("per user");
        assert_eq!(per_user.members, 2);
        assert_eq!(
            per_user
                .users
                .iter()
                .map(|u| u.totals.total_cost)
                .sum::<Usd>(),
            totals.total_cost
        );
        assert!(per_user.users.iter().any(|u| u.label == "Bea"));
        assert_eq!(
            per_user.average_per_member,
            Usd((totals.total_cost.units() + 1) / 2)
        );

        testkit::raw::assert_rollups_match(
            &state,
            &owner,
            &org_id,
            all,
            db.kind.to_string().as_str(),
        )
        .await;
        let week = DayRange::between(Day(day0.0 + 2), Day(day0.0 + 8));
        testkit::raw::assert_rollups_match(&state, &owner, &org_id, week, "a week").await;
        let in_week = analytics::overview(&state, &owner, &week)
            .await
            .expect("overview");
        assert!(in_week.conversations > 0 && in_week.conversations < totals.conversations);

        // Every stage's total is input + output, and the sums match the stage table to the unit.
        let (input, output, sum): (i64, i64, i64) = sqlx::query_as(
            "SELECT CAST(SUM(input_cost) AS BIGINT), CAST(SUM(output_cost) AS BIGINT), CAST(SUM(total_cost) AS BIGINT) FROM conversation_stages",
        )
        .fetch_one(store.pool())
        .await
        .expect("sums");
        assert_eq!(input + output, sum);
        assert_eq!(Usd(sum), totals.total_cost);
    }
}

#[tokio::test]
async fn a_bad_conversation_writes_nothing() {
    let prices = PriceTable::defaults();
    for db in TestDb::all().await {
        let state = testkit::app::state(&db, &[]).await;
        let store = state.store.clone();
        let (_, org_id) = org(&store, 1, "Acme").await;
        let mut bad = conversation(1, Some(&org_id), 0, 1);
        bad.stages[1].usage.prompt_tokens = -5;
        expect_bad_request(ledger::record(&store, &prices, &bad).await);
        let mut cached = conversation(1, Some(&org_id), 0, 1);
        cached.stages[0].usage.cached_tokens = cached.stages[0].usage.prompt_tokens + 1;
        expect_bad_request(ledger::record(&store, &prices, &cached).await);
        let mut empty = conversation(1, Some(&org_id), 0, 1);
        empty.stages.clear();
        expect_bad_request(ledger::record(&store, &prices, &empty).await);
        for table in ["conversations", "conversation_stages", "usage_daily"] {
            let n: i64 =
                sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
                    .fetch_one(store.pool())
                    .await
                    .expect("count");
            assert_eq!(n, 0, "{}: {table}", db.kind);
        }
    }
}

#[tokio::test]
async fn fifty_tasks_recording_concurrently_keep_the_rollup_exact() {
    let prices = std::sync::Arc::new(PriceTable::defaults());
    for db in TestDb::all().await {
        let state = testkit::app::state(&db, &[]).await;
        let store = state.store.clone();
        let (owner, org_id) = org(&store, 1, "Acme").await;
        for u in 2..=5 {
            person(&store, u, "M").await;
            orgs::members::add(&store, &owner, u).await.expect("added");
        }
        let start = std::time::Instant::now();
        let day0 = Day::parse("2026-05-01").expect("date").start_unix();
        // Half the tasks go through the group-commit recorder, half write directly.
        let recorder = services::costs::Recorder::start(store.clone(), prices.clone());
        let tasks: Vec<_> = (0..50)
            .map(|t| {
                let (store, prices, org_id) = (store.clone(), prices.clone(), org_id.clone());
                let recorder = recorder.clone();
                tokio::spawn(async move {
                    for i in 0..200 {
                        let user = 1 + (t + i) % 5;
                        let at = day0 + (i % 3) * 86_400;
                        let c = conversation(user, Some(&org_id), at, t * 1000 + i);
                        if t % 2 == 0 {
                            recorder.record(c).await.expect("recorded");
                        } else {
                            ledger::record(&store, &prices, &c).await.expect("recorded");
                        }
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.expect("task finishes");
        }
        let elapsed = start.elapsed();
        eprintln!(
            "{}: 10,000 conversations from 50 concurrent tasks in {elapsed:?} ({:.0}/s)",
            db.kind,
            10_000.0 / elapsed.as_secs_f64()
        );
        let totals = analytics::overview(&state, &owner, &DayRange::all())
            .await
            .expect("overview");
        assert_eq!(totals.conversations, 10_000, "{}", db.kind);
        assert_eq!(totals.calls, 20_000);
        testkit::raw::assert_rollups_match(&state, &owner, &org_id, DayRange::all(), "concurrent")
            .await;
    }
}

#[tokio::test]
async fn analytics_are_for_owners_of_their_own_organization_only() {
    let prices = PriceTable::defaults();
    for db in TestDb::all().await {
        let state = testkit::app::state(&db, &[]).await;
        let store = state.store.clone();
        let (owner_a, org_a) = org(&store, 1, "A").await;
        let (owner_b, org_b) = org(&store, 2, "B").await;
        person(&store, 3, "Member").await;
        orgs::members::add(&store, &owner_a, 3)
            .await
            .expect("added");
        let member = access::caller(&store, 3).await.expect("resolves");
        let loner = person(&store, 4, "Loner").await;
        ledger::record(&store, &prices, &conversation(1, Some(&org_a), 0, 1))
            .await
            .expect("recorded");
        ledger::record(&store, &prices, &conversation(2, Some(&org_b), 0, 2))
            .await
            .expect("recorded");
        ledger::record(&store, &prices, &conversation(2, Some(&org_b), 0, 3))
            .await
            .expect("recorded");

        let all = DayRange::all();
        assert_eq!(
            analytics::overview(&state, &owner_a, &all)
                .await
                .expect("a")
                .conversations,
            1,
            "{}",
            db.kind
        );
        assert_eq!(
            analytics::overview(&state, &owner_b, &all)
                .await
                .expect("b")
                .conversations,
            2
        );
        expect_forbidden(analytics::overview(&state, &member, &all).await);
        expect_forbidden(analytics::per_user(&state, &loner, &all).await);
        expect_forbidden(export::ledger_csv(&store, &member, &all).await);
        let a_users = analytics::per_user(&state, &owner_a, &all)
            .await
            .expect("a");
        assert!(a_users.users.iter().all(|u| u.key == "1"), "{a_users:?}");
        let backwards = DayRange {
            from: Some(Day(10)),
            to: Some(Day(9)),
        };
        expect_bad_request(analytics::by_model(&state, &owner_a, &backwards).await);
    }
}

#[tokio::test]
async fn budgets_warn_at_80_and_refuse_at_100_percent() {
    let prices = PriceTable::defaults();
    for db in TestDb::all().await {
        let state = testkit::app::state(&db, &[]).await;
        let store = state.store.clone();
        let (owner, org_id) = org(&store, 1, "Acme").await;
        person(&store, 2, "M").await;
        orgs::members::add(&store, &owner, 2).await.expect("added");
        let member = access::caller(&store, 2).await.expect("resolves");
        let today = Day::parse("2026-11-25").expect("date");
        assert_eq!(
            budget::check(&store, Some(&org_id), today)
                .await
                .expect("check"),
            BudgetVerdict::Ok
        );
        expect_bad_request(budget::set(&store, &owner, Some(Usd::ZERO)).await);
        expect_forbidden(budget::set(&store, &member, Some(Usd::dollars(1))).await);

        let one = conversation(1, Some(&org_id), today.start_unix(), 1);
        let id = ledger::record(&store, &prices, &one)
            .await
            .expect("recorded");
        let cost: i64 = sqlx::query_scalar("SELECT CAST(SUM(total_cost) AS BIGINT) FROM conversation_stages WHERE conversation_id = $1")
            .bind(id)
            .fetch_one(store.pool())
            .await
            .expect("cost");
        // A budget of exactly 4 such conversations: 3 recorded = 75% (ok), 4 = 100% (refuse).
        budget::set(&store, &owner, Some(Usd(cost * 4)))
            .await
            .expect("set");
        assert_eq!(
            budget::get(&store, &owner).await.expect("get"),
            Some(Usd(cost * 4))
        );
        for _ in 0..2 {
            ledger::record(&store, &prices, &one)
                .await
                .expect("recorded");
        }
        assert_eq!(
            budget::check(&store, Some(&org_id), today)
                .await
                .expect("check"),
            BudgetVerdict::Ok,
            "{}",
            db.kind
        );
        budget::set(&store, &owner, Some(Usd(cost * 375 / 100)))
            .await
            .expect("set");
        assert!(matches!(
            budget::check(&store, Some(&org_id), today)
                .await
                .expect("check"),
            BudgetVerdict::Warn { .. }
        ));
        ledger::record(&store, &prices, &one)
            .await
            .expect("recorded");
        assert!(matches!(
            budget::check(&store, Some(&org_id), today)
                .await
                .expect("check"),
            BudgetVerdict::Refuse { .. }
        ));
        // Next month starts afresh; other organizations and individuals are unaffected.
        assert_eq!(
            budget::check(&store, Some(&org_id), today.next_month_start())
                .await
                .expect("check"),
            BudgetVerdict::Ok
        );
        assert_eq!(
            budget::check(&store, None, today).await.expect("check"),
            BudgetVerdict::Ok
        );
        budget::set(&store, &owner, None).await.expect("cleared");
        assert_eq!(
            budget::check(&store, Some(&org_id), today)
                .await
                .expect("check"),
            BudgetVerdict::Ok
        );
    }
}

#[tokio::test]
async fn concurrent_questions_overshoot_the_budget_by_at_most_those_in_flight() {
    let prices = std::sync::Arc::new(PriceTable::defaults());
    for db in TestDb::all().await {
        let state = testkit::app::state(&db, &[]).await;
        let store = state.store.clone();
        let (owner, org_id) = org(&store, 1, "Acme").await;
        let today = Day::parse("2026-11-25").expect("date");
        let probe = conversation(1, Some(&org_id), today.start_unix(), 7);
        let cost = prices
            .cost("gemini-2.5-flash", &probe.stages[0].usage)
            .total()
            + prices
                .cost("gemini-2.5-flash-lite", &probe.stages[1].usage)
                .total();
        let budget_units = cost.units() * 25;
        budget::set(&store, &owner, Some(Usd(budget_units)))
            .await
            .expect("set");
        const TASKS: i64 = 10;
        let handles: Vec<_> = (0..TASKS)
            .map(|_| {
                let (store, prices, org_id, probe) =
                    (store.clone(), prices.clone(), org_id.clone(), probe.clone());
                tokio::spawn(async move {
                    let mut admitted = 0;
                    loop {
                        match budget::check(&store, Some(&org_id), today)
                            .await
                            .expect("check")
                        {
                            BudgetVerdict::Refuse { .. } => return admitted,
                            _ => {
                                ledger::record(&store, &prices, &probe)
                                    .await
                                    .expect("recorded");
                                admitted += 1;
                            }
                        }
                    }
                })
            })
            .collect();
        let mut admitted = 0;
        for h in handles {
            admitted += h.await.expect("task");
        }
        let spent = budget::month_spend(&store, &org_id, today)
            .await
            .expect("spend");
        eprintln!(
            "{}: budget {} reached with {admitted} questions; spent {spent}",
            db.kind,
            Usd(budget_units)
        );
        assert!(spent.units() >= budget_units, "the budget was reached");
        assert!(
            spent.units() < budget_units + TASKS * cost.units(),
            "{}: overshoot {} is more than {TASKS} questions in flight",
            db.kind,
            spent.units() - budget_units
        );
    }
}

#[tokio::test]
async fn csv_export_lists_each_conversation_once() {
    let prices = PriceTable::defaults();
    for db in TestDb::all().await {
        let state = testkit::app::state(&db, &[]).await;
        let store = state.store.clone();
        let (owner, org_id) = org(&store, 1, "Acme").await;
        let day = Day::parse("2026-02-10").expect("date");
        for i in 0..3 {
            let mut c = conversation(1, Some(&org_id), day.start_unix() + 60 * i, i);
            if i == 2 {
                c.question = "=HYPERLINK(\"x\")".into();
            }
            ledger::record(&store, &prices, &c).await.expect("recorded");
        }
        ledger::record(
            &store,
            &prices,
            &conversation(1, Some(&org_id), day.start_unix() + 5 * 86_400, 9),
        )
        .await
        .expect("recorded");
        let csv = export::ledger_csv(&store, &owner, &DayRange::between(day, day))
            .await
            .expect("csv");
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines.len(), 4, "{}: {csv}", db.kind);
        assert!(lines[0].starts_with("conversation_id,date,time_utc,user_id"));
        assert!(lines[1].contains(",2026-02-10,00:00:00,1,u1,\"question 0, with a comma and \"\"quotes\"\"\",answered,2,"), "{}", lines[1]);
        assert!(
            lines[1].ends_with(",3,SELECT 1"),
            "rows and the final SQL come last: {}",
            lines[1]
        );
        assert!(
            lines[3].contains("\"'=HYPERLINK(\"\"x\"\")\""),
            "{}",
            lines[3]
        );
        let total: Usd = lines[1..]
            .iter()
            .map(|l| Usd::parse(l.rsplit(',').nth(2).unwrap_or_default()).expect("an amount"))
            .sum();
        let rolled = analytics::overview(&state, &owner, &DayRange::between(day, day))
            .await
            .expect("overview");
        assert_eq!(total, rolled.total_cost);
    }
}

#[tokio::test]
async fn own_totals_cover_today_and_this_week() {
    let prices = PriceTable::defaults();
    for db in TestDb::all().await {
        let state = testkit::app::state(&db, &[]).await;
        let store = state.store.clone();
        person(&store, 5, "Solo").await;
        let today = Day::parse("2026-11-25").expect("a Wednesday");
        for (offset, i) in [(0, 1), (-1, 2), (-2, 3), (-3, 4)] {
            let at = Day(today.0 + offset).start_unix() + 10;
            ledger::record(&store, &prices, &conversation(5, None, at, i))
                .await
                .expect("recorded");
        }
        let own = analytics::own_totals(&store, 5, today).await.expect("own");
        assert_eq!(own.today.conversations, 1, "{}", db.kind);
        assert_eq!(own.this_week.conversations, 3, "Monday to today");
        assert_eq!(
            analytics::own_totals(&store, 6, today)
                .await
                .expect("own")
                .today,
            CostTotals::default()
        );
    }
}

#[tokio::test]
async fn synthetic_usage_is_consistent() {
    let prices = PriceTable::defaults();
    for db in TestDb::all().await {
        let state = testkit::app::state(&db, &[]).await;
        let store = state.store.clone();
        let mut options = synthetic::Options::new(3_000, Day::parse("2026-11-25").expect("date"));
        options.orgs = 2;
        options.users_per_org = 4;
        options.days = 30;
        let summary = synthetic::generate(&store, &prices, &options)
            .await
            .expect("generated");
        assert!(summary.stages >= 6_000, "{summary:?}");
        let owner = access::caller(&store, options.first_user_id)
            .await
            .expect("owner");
        testkit::raw::assert_rollups_match(
            &state,
            &owner,
            &summary.org_ids[0],
            DayRange::all(),
            "synthetic",
        )
        .await;
        let totals = analytics::overview(&state, &owner, &DayRange::all())
            .await
            .expect("overview");
        assert!(
            totals.conversations > 1_000 && totals.total_cost > Usd::ZERO,
            "{}: {totals:?}",
            db.kind
        );
        // Recording still works after a generation (identity sequences moved on).
        ledger::record(
            &store,
            &prices,
            &conversation(options.first_user_id, Some(&summary.org_ids[0]), 0, 1),
        )
        .await
        .expect("recorded after generation");
    }
}

/// Answers are remembered per organization and range, and never outlive the
/// usage they were computed from, even when another process (here: a second
/// store handle, as the bot holds) records the usage.
#[tokio::test]
async fn remembered_answers_follow_every_write_from_any_process() {
    let prices = PriceTable::defaults();
    for db in TestDb::all().await {
        let server = testkit::app::state(&db, &[]).await;
        let bot = open(&db).await;
        let (owner, org_id) = org(&server.store, 1, "Acme").await;
        let (other_owner, other_org) = org(&server.store, 2, "Globex").await;
        let day = Day::parse("2026-03-02").expect("date");
        let all = DayRange::all();
        let week = DayRange::between(day, Day(day.0 + 6));

        let empty = analytics::overview(&server, &owner, &all)
            .await
            .expect("overview");
        assert_eq!(empty.conversations, 0, "{}", db.kind);

        ledger::record(
            &bot,
            &prices,
            &conversation(1, Some(&org_id), day.start_unix(), 1),
        )
        .await
        .expect("recorded");
        let one = analytics::overview(&server, &owner, &all)
            .await
            .expect("overview");
        assert_eq!(one.conversations, 1, "{}: the bot's write is seen", db.kind);
        let models_one = analytics::by_model(&server, &owner, &week)
            .await
            .expect("by model");
        // Asked again: the same answer (now remembered).
        assert_eq!(
            analytics::by_model(&server, &owner, &week)
                .await
                .expect("by model"),
            models_one
        );
        assert!(
            server.answers.remembered().await > 0,
            "{}: answers kept",
            db.kind
        );

        // Another organization's usage leaves Acme's answers as they are.
        ledger::record(
            &bot,
            &prices,
            &conversation(2, Some(&other_org), day.start_unix(), 2),
        )
        .await
        .expect("recorded");
        assert_eq!(
            analytics::overview(&server, &other_owner, &all)
                .await
                .expect("overview")
                .conversations,
            1
        );
        assert_eq!(
            analytics::overview(&server, &owner, &all)
                .await
                .expect("overview"),
            one
        );

        // More usage for Acme: every remembered range is recomputed.
        ledger::record(
            &bot,
            &prices,
            &conversation(1, Some(&org_id), day.start_unix() + 60, 3),
        )
        .await
        .expect("recorded");
        let two = analytics::overview(&server, &owner, &all)
            .await
            .expect("overview");
        assert_eq!(two.conversations, 2, "{}", db.kind);
        let models_two = analytics::by_model(&server, &owner, &week)
            .await
            .expect("by model");
        let calls =
            |rows: &[models::costs::CostRow]| -> i64 { rows.iter().map(|r| r.totals.calls).sum() };
        assert!(calls(&models_two) > calls(&models_one), "{}", db.kind);
        // And the remembered answer equals the rollup read straight.
        let nothing_kept = AppState {
            answers: Answers::none(),
            ..server.clone()
        };
        for grouping in Grouping::ALL {
            let remembered = analytics::grouped(&server, &owner, &all, grouping)
                .await
                .expect("grouped");
            let straight = analytics::grouped(&nothing_kept, &owner, &all, grouping)
                .await
                .expect("grouped");
            let sorted = |mut v: Vec<(String, CostTotals)>| {
                v.sort_by(|a, b| a.0.cmp(&b.0));
                v
            };
            assert_eq!(
                sorted(remembered),
                sorted(straight),
                "{}: {grouping:?}",
                db.kind
            );
        }
    }
}

/// The conversations list pages through everything once, newest first, even
/// when many conversations share a second.
#[tokio::test]
async fn conversation_pages_cover_every_conversation_once() {
    let prices = PriceTable::defaults();
    for db in TestDb::all().await {
        let state = testkit::app::state(&db, &[]).await;
        let store = state.store.clone();
        let (owner, org_id) = org(&store, 1, "Acme").await;
        let day = Day::parse("2026-02-10").expect("date");
        // 230 conversations over 23 distinct seconds: ten share each second.
        let batch: Vec<NewConversation> = (0..230)
            .map(|i| conversation(1, Some(&org_id), day.start_unix() + i / 10, i))
            .collect();
        ledger::write_batch(&store, &prices, &batch)
            .await
            .expect("recorded");
        let all = DayRange::all();
        let mut seen = Vec::new();
        let mut before = None;
        let mut sizes = Vec::new();
        loop {
            let page = export::page(&store, &owner, &all, export::Filter::default(), before)
                .await
                .expect("a page");
            sizes.push(page.entries.len());
            seen.extend(
                page.entries
                    .iter()
                    .map(|e| (e.timestamp, e.conversation_id)),
            );
            if !page.more {
                break;
            }
            let last = page.entries.last().expect("a full page");
            before = Some((last.timestamp, last.conversation_id));
        }
        assert_eq!(sizes, vec![100, 100, 30], "{}", db.kind);
        let mut sorted = seen.clone();
        sorted.sort_by(|a, b| b.cmp(a));
        sorted.dedup();
        assert_eq!(seen, sorted, "{}: newest first, none twice", db.kind);
        assert_eq!(seen.len(), 230, "{}", db.kind);
        let first = export::page(&store, &owner, &all, export::Filter::default(), None)
            .await
            .expect("a page");
        assert!(first
            .entries
            .iter()
            .all(|e| e.rows == Some(3) && e.sql.as_deref() == Some("SELECT 1")));
    }
}

/// The list keeps each answer with its question, and filters by status and
/// person together.
#[tokio::test]
async fn conversations_keep_their_answers_and_filter_by_status() {
    let prices = PriceTable::defaults();
    for db in TestDb::all().await {
        let state = testkit::app::state(&db, &[]).await;
        let store = state.store.clone();
        let (owner, org_id) = org(&store, 1, "Acme").await;
        let at = Day::parse("2026-02-10").expect("date").start_unix();
        let mut batch: Vec<NewConversation> = (0..6)
            .map(|i| conversation(1 + i % 2, Some(&org_id), at + i, i))
            .collect();
        batch[4].status = ConversationStatus::Failed;
        batch[4].answer = None;
        batch[4].error = Some("The query ran longer than 30 s and was stopped.".into());
        batch[5].answer = Some("x".repeat(9_000));
        ledger::write_batch(&store, &prices, &batch)
            .await
            .expect("recorded");
        let all = DayRange::all();
        let list = |filter: export::Filter| {
            let (store, owner) = (store.clone(), owner.clone());
            async move {
                export::page(&store, &owner, &all, filter, None)
                    .await
                    .expect("a page")
                    .entries
            }
        };
        let everything = list(export::Filter::default()).await;
        assert_eq!(everything.len(), 6, "{}", db.kind);
        let newest = &everything[0];
        let kept = newest.answer.as_deref().expect("an answer");
        assert_eq!(
            kept.chars().count(),
            ledger::MAX_ANSWER_CHARS + 4,
            "{}: cut, marked",
            db.kind
        );
        assert!(kept.ends_with(" […]"));
        assert_eq!(
            everything[3].answer.as_deref(),
            Some("answer 2"),
            "{}",
            db.kind
        );
        let failed = list(export::Filter {
            status: Some(ConversationStatus::Failed),
            ..Default::default()
        })
        .await;
        assert_eq!(failed.len(), 1, "{}", db.kind);
        assert_eq!(failed[0].status, "failed");
        assert_eq!(failed[0].answer, None);
        assert_eq!(
            failed[0].error.as_deref(),
            Some("The query ran longer than 30 s and was stopped.")
        );
        let answered_by_two = list(export::Filter {
            user: Some(2),
            status: Some(ConversationStatus::Answered),
        })
        .await;
        assert_eq!(answered_by_two.len(), 3, "{}: 1, 3 and 5", db.kind);
        assert!(answered_by_two.iter().all(|e| e.user_id == 2));
        assert!(list(export::Filter {
            status: Some(ConversationStatus::Refused),
            ..Default::default()
        })
        .await
        .is_empty());
    }
}

/// /history: one's own questions, newest first, wherever they were asked,
/// never anyone else's.
#[tokio::test]
async fn own_history_is_ones_own_newest_first() {
    let prices = PriceTable::defaults();
    for db in TestDb::all().await {
        let state = testkit::app::state(&db, &[]).await;
        let store = state.store.clone();
        let (owner, org_id) = org(&store, 1, "Acme").await;
        let at = Day::parse("2026-02-10").expect("date").start_unix();
        let mut batch: Vec<NewConversation> = (0..14)
            .map(|i| conversation(1 + i % 2, Some(&org_id), at + i, i))
            .collect();
        // One asked without an organization (a personal database).
        batch.push(conversation(1, None, at + 100, 100));
        ledger::write_batch(&store, &prices, &batch)
            .await
            .expect("recorded");
        let mine = export::own_history(&store, &owner, 10)
            .await
            .expect("history");
        assert_eq!(mine.len(), 8, "{}: 7 in Acme and 1 personal", db.kind);
        assert!(mine.iter().all(|e| e.user_id == 1));
        assert_eq!(mine[0].timestamp, at + 100, "{}: newest first", db.kind);
        assert!(mine.windows(2).all(|w| w[0].timestamp >= w[1].timestamp));
        assert!(mine
            .iter()
            .all(|e| e.total_cost > Usd::ZERO && e.answer.is_some()));
        let two = export::own_history(&store, &owner, 2)
            .await
            .expect("history");
        assert_eq!(two.len(), 2);
    }
}

/// Retention removes the text of old questions (question, SQL, answer,
/// error) and keeps every number: the raw rows still sum to the same
/// analytics, the rollups agree with them, newer questions keep their text.
#[tokio::test]
async fn retention_removes_old_text_and_keeps_every_number() {
    let prices = PriceTable::defaults();
    for db in TestDb::all().await {
        let state = testkit::app::state(&db, &[]).await;
        let store = state.store.clone();
        let now = services::clock::now();
        let mut options = synthetic::Options::new(1_500, Day::of_unix(now));
        options.orgs = 1;
        options.users_per_org = 3;
        options.days = 30;
        let summary = synthetic::generate(&store, &prices, &options)
            .await
            .expect("generated");
        let org = summary.org_ids[0].as_str();
        let (from, to) = DayRange::all().bounds();
        let before = raw::overview(&store, org, from, to).await.expect("raw");
        let mut grouped_before = Vec::new();
        for grouping in Grouping::ALL {
            grouped_before.push(
                raw::grouped(&store, org, from, to, grouping)
                    .await
                    .expect("raw"),
            );
        }
        let cutoff = now - 10 * 86_400;
        let old_with_sql: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM conversation_stages s JOIN conversations c \
             ON c.conversation_id = s.conversation_id WHERE c.timestamp < $1 AND s.generated_sql IS NOT NULL",
        )
        .bind(cutoff)
        .fetch_one(store.pool())
        .await
        .expect("count");
        assert!(old_with_sql > 0, "{}: the generator writes SQL", db.kind);

        let removed = services::retention::remove_old_text(&store, 10, now)
            .await
            .expect("retention");
        assert!(
            removed.conversations > 0 && removed.stages > 0,
            "{removed:?}"
        );
        let again = services::retention::remove_old_text(&store, 10, now)
            .await
            .expect("retention again");
        assert_eq!(
            again,
            services::retention::Removed::default(),
            "nothing twice"
        );

        let texts: Vec<(i64, String, Option<String>)> =
            sqlx::query_as("SELECT timestamp, user_question, answer FROM conversations")
                .fetch_all(store.pool())
                .await
                .expect("texts");
        for (at, question, answer) in &texts {
            if *at < cutoff {
                assert_eq!(question, services::retention::REMOVED);
                assert!(answer.is_none());
            } else {
                assert_ne!(question, services::retention::REMOVED);
            }
        }
        assert!(
            texts.iter().any(|(at, ..)| *at >= cutoff),
            "newer ones exist"
        );
        let sql_left: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM conversation_stages s JOIN conversations c \
             ON c.conversation_id = s.conversation_id WHERE c.timestamp < $1 AND s.generated_sql IS NOT NULL",
        )
        .bind(cutoff)
        .fetch_one(store.pool())
        .await
        .expect("count");
        assert_eq!(sql_left, 0, "{}", db.kind);

        assert_eq!(
            raw::overview(&store, org, from, to).await.expect("raw"),
            before
        );
        for (grouping, was) in Grouping::ALL.into_iter().zip(grouped_before) {
            let now_grouped = raw::grouped(&store, org, from, to, grouping)
                .await
                .expect("raw");
            assert_eq!(now_grouped, was, "{}: {grouping:?}", db.kind);
        }
        let owner = access::caller(&store, options.first_user_id)
            .await
            .expect("owner");
        testkit::raw::assert_rollups_match(
            &state,
            &owner,
            &summary.org_ids[0],
            DayRange::all(),
            "retention",
        )
        .await;
    }
}

/// `/forgetme` (services::privacy::forget): the person's questions lose their
/// text and their name, their memory, emails and personal databases go;
/// the organization's totals and every breakdown stay the same, their share
/// now under "Forgotten people"; the rollups still equal the raw rows (and
/// remembered answers are not stale); the others' questions are untouched.
#[tokio::test]
async fn forgetting_a_person_keeps_the_totals_and_removes_their_text_and_databases() {
    use services::privacy::{forget, Forgotten, FORGOTTEN};
    let prices = PriceTable::defaults();
    for db in TestDb::all().await {
        let targets = tempfile::tempdir().expect("tempdir");
        let dir = targets.path().display().to_string();
        let state = testkit::app::state(&db, &[("TABLETALK_SQLITE_DIR", dir)]).await;
        let store = state.store.clone();
        let (owner, org_id) = org(&store, 1, "Acme").await;
        let alone = person(&store, 2, "Bea").await;
        let mine = testkit::app::sqlite_database(
            &state,
            &alone,
            targets.path(),
            "mine.db",
            "CREATE TABLE t (x INTEGER);",
        )
        .await;
        orgs::members::add(&store, &owner, 2).await.expect("added");
        let bea = access::caller(&store, 2).await.expect("Bea");
        let now = services::clock::now();
        for i in 0..6 {
            let who = if i % 2 == 0 { 1 } else { 2 };
            ledger::record(
                &store,
                &prices,
                &conversation(who, Some(&org_id), now - i * 86_400, i),
            )
            .await
            .expect("recorded");
        }
        let mut tx = store.begin_write().await.expect("tx");
        let turn = services::ask::memory::Turn {
            question: "what is in t?".into(),
            sql: Some("SELECT x FROM t".into()),
            answer: "nothing".into(),
        };
        services::ask::memory::remember_in(&mut tx, 2, &mine, &turn)
            .await
            .expect("remembered");
        tx.commit().await.expect("commit");
        services::email::draft(
            &store,
            services::email::NewEmail {
                user_id: 2,
                org_id: Some(&org_id),
                conversation_id: None,
                question: "what is in t?",
                recipients: vec!["bea@example.com".into()],
                subject: "t",
                body: "a private body",
                attachment: None,
            },
        )
        .await
        .expect("a draft");
        let all = DayRange::all();
        let overview = analytics::overview(&state, &owner, &all)
            .await
            .expect("overview");
        let by_model = analytics::grouped(&state, &owner, &all, Grouping::Model)
            .await
            .expect("by model");
        let users = analytics::per_user(&state, &owner, &all)
            .await
            .expect("per user");
        let bea_totals = users
            .users
            .iter()
            .find(|u| u.label == "Bea")
            .expect("Bea has costs")
            .totals;

        let forgotten = forget(&state, &bea).await.expect("forgotten");
        assert_eq!(
            forgotten,
            Forgotten {
                questions: 3,
                emails: 1,
                databases: 1
            },
            "{}",
            db.kind
        );
        assert_eq!(
            analytics::overview(&state, &owner, &all)
                .await
                .expect("overview"),
            overview
        );
        assert_eq!(
            analytics::grouped(&state, &owner, &all, Grouping::Model)
                .await
                .expect("by model"),
            by_model
        );
        let users = analytics::per_user(&state, &owner, &all)
            .await
            .expect("per user");
        assert!(!users.users.iter().any(|u| u.label == "Bea"));
        let nobody = users
            .users
            .iter()
            .find(|u| u.label == models::FORGOTTEN_USER_LABEL)
            .expect("a row for forgotten people");
        assert_eq!(nobody.totals, bea_totals);
        testkit::raw::assert_rollups_match(&state, &owner, &org_id, all, "after forgetting").await;

        let theirs: Vec<(String, Option<String>, Option<String>)> = sqlx::query_as(
            "SELECT user_question, answer, username FROM conversations WHERE user_id = $1",
        )
        .bind(models::FORGOTTEN_USER)
        .fetch_all(store.pool())
        .await
        .expect("theirs");
        assert_eq!(theirs.len(), 3);
        assert!(theirs
            .iter()
            .all(|(q, a, u)| q == FORGOTTEN && a.is_none() && u.is_none()));
        let count = |sql: &'static str| {
            let store = store.clone();
            async move {
                sqlx::query_scalar::<_, i64>(sql)
                    .fetch_one(store.pool())
                    .await
                    .expect("count")
            }
        };
        for (sql, expected) in [
            ("SELECT COUNT(*) FROM conversations WHERE user_id = 2 OR chat_id = 2", 0),
            (
                "SELECT COUNT(*) FROM conversation_stages s JOIN conversations c \
                 ON c.conversation_id = s.conversation_id WHERE c.user_id = 0 AND s.generated_sql IS NOT NULL",
                0,
            ),
            ("SELECT COUNT(*) FROM conversations WHERE user_id = 1 AND answer IS NOT NULL", 3),
            ("SELECT COUNT(*) FROM memory_turns WHERE user_id = 2", 0),
            ("SELECT COUNT(*) FROM emails WHERE user_id = 2", 0),
            ("SELECT COUNT(*) FROM database_connections WHERE owner_type = 'user'", 0),
            ("SELECT COUNT(*) FROM usage_daily WHERE user_id = 2", 0),
            ("SELECT COUNT(*) FROM usage_daily_user WHERE user_id = 2", 0),
            ("SELECT COUNT(*) FROM audit_log WHERE action = 'person_forgotten'", 1),
        ] {
            assert_eq!(count(sql).await, expected, "{}: {sql}", db.kind);
        }
        // Still a member; a second request finds nothing more.
        assert_eq!(
            access::caller(&store, 2).await.expect("Bea").org_id,
            Some(org_id.clone())
        );
        assert_eq!(
            forget(&state, &bea).await.expect("again"),
            Forgotten::default()
        );
    }
}
