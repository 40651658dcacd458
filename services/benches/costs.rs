//! Cost analytics and recording benchmark (DESIGN.md §9). Prints numbers; asserts nothing.
//!
//!   cargo bench -p services --bench costs -- [--stage-rows N] [--backend sqlite|postgres]
//!
//! PostgreSQL needs TABLETALK_TEST_POSTGRES_URL (a fresh database is created and dropped).

use models::costs::{Channel, ConversationStatus, Stage, Usage};
use models::org::Caller;
use models::{Day, DayRange, Role};
use services::costs::analytics::{self, Grouping};
use services::costs::answers::Answers;
use services::costs::ledger::{self, NewConversation, NewStage};
use services::costs::{synthetic, PriceTable};
use services::AppState;
use std::time::{Duration, Instant};
use testkit::db::TestDb;
use testkit::raw;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let stage_rows: u64 = arg("--stage-rows").map_or(Ok(10_000_000), |v| v.parse())?;
    let backend = arg("--backend").unwrap_or_else(|| "sqlite".into());
    let db = match backend.as_str() {
        "postgres" => TestDb::postgres()
            .await
            .ok_or_else(|| anyhow::anyhow!("set TABLETALK_TEST_POSTGRES_URL"))?,
        _ => TestDb::sqlite(),
    };
    // Two states on one store: one remembers answers (as the server does),
    // the other remembers nothing, so its reads time the rollup query itself.
    let kept = testkit::app::state(&db, &[]).await;
    let fresh = AppState {
        answers: Answers::none(),
        ..kept.clone()
    };
    let store = kept.store.clone();
    let prices = PriceTable::defaults();
    let today = Day::parse("2026-11-25").map_err(|e| anyhow::anyhow!(e.message().to_owned()))?;

    println!("## {backend}: {stage_rows} stage rows\n");
    let conversations = synthetic::conversations_for_stages(stage_rows);
    let mut options = synthetic::Options::new(conversations, today);
    options.orgs = 5;
    options.users_per_org = 20;
    let started = Instant::now();
    let summary = synthetic::generate(&store, &prices, &options).await?;
    println!(
        "generated {} conversations, {} stage rows, {} rollup rows in {:.1?} ({:.0} stage rows/s)\n",
        summary.conversations,
        summary.stages,
        summary.rollup_rows,
        started.elapsed(),
        summary.stages as f64 / started.elapsed().as_secs_f64()
    );
    if backend == "postgres" {
        sqlx::query("ANALYZE").execute(store.pool()).await?;
    }

    let org = summary.org_ids[0].clone();
    let owner = Caller {
        user_id: Some(options.first_user_id),
        role: Role::Owner,
        org_id: Some(org.clone()),
    };
    let year = DayRange::between(models::Day(today.0 - 364), today);
    let month = DayRange::between(models::Day(today.0 - 29), today);

    println!(
        "| query (one org, ~{} stage rows) | range | rollup query p50 | rollup query p99 | remembered p50 | remembered p99 | raw GROUP BY p50 | raw p99 | p99 ratio raw/rollup query |",
        summary.stages / 5
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    let err = |e: models::AppError| anyhow::anyhow!(e.message().to_owned());
    for (range_name, range) in [("365 days", year), ("30 days", month)] {
        let (from, to) = range.bounds();
        let overview = |state: &AppState| {
            let state = state.clone();
            let owner = owner.clone();
            move || {
                let (state, owner) = (state.clone(), owner.clone());
                async move {
                    analytics::overview(&state, &owner, &range)
                        .await
                        .map(drop)
                        .map_err(err)
                }
            }
        };
        let queried = measure(300, overview(&fresh)).await?;
        let remembered = measure(300, overview(&kept)).await?;
        let counted = measure(3, || async {
            raw::overview(&store, org.as_str(), from, to)
                .await
                .map(drop)
                .map_err(anyhow::Error::from)
        })
        .await?;
        row("overview", range_name, queried, remembered, Some(counted));
        for grouping in Grouping::ALL {
            let grouped = |state: &AppState| {
                let state = state.clone();
                let owner = owner.clone();
                move || {
                    let (state, owner) = (state.clone(), owner.clone());
                    async move {
                        analytics::grouped(&state, &owner, &range, grouping)
                            .await
                            .map(drop)
                            .map_err(err)
                    }
                }
            };
            let queried = measure(300, grouped(&fresh)).await?;
            let remembered = measure(300, grouped(&kept)).await?;
            let counted = measure(3, || async {
                raw::grouped(&store, org.as_str(), from, to, grouping)
                    .await
                    .map(drop)
                    .map_err(anyhow::Error::from)
            })
            .await?;
            row(
                &format!("by {grouping:?}").to_lowercase(),
                range_name,
                queried,
                remembered,
                Some(counted),
            );
        }
        let per_user = |state: &AppState| {
            let state = state.clone();
            let owner = owner.clone();
            move || {
                let (state, owner) = (state.clone(), owner.clone());
                async move {
                    analytics::per_user(&state, &owner, &range)
                        .await
                        .map(drop)
                        .map_err(err)
                }
            }
        };
        let queried = measure(300, per_user(&fresh)).await?;
        let remembered = measure(300, per_user(&kept)).await?;
        row(
            "per_user (with names, members)",
            range_name,
            queried,
            remembered,
            None,
        );
    }

    println!();
    let n = 5_000;
    let sample = |i: i64| NewConversation {
        chat_id: options.first_user_id,
        user_id: options.first_user_id + i % 20,
        username: None,
        question: "How many orders shipped yesterday?".into(),
        org_id: Some(org.clone()),
        database_id: None,
        channel: Channel::Telegram,
        status: ConversationStatus::Answered,
        error: None,
        row_count: Some(3),
        answer: Some("Three orders shipped yesterday.".into()),
        at: today.start_unix() + i % 86_400,
        stages: vec![
            call(Stage::Analysis, "gemini-2.5-flash", i),
            call(Stage::SqlRepair, "gemini-2.5-flash", i),
            call(Stage::SqlResponse, "gemini-2.5-flash-lite", i),
        ],
    };
    let sequential = 2_000;
    let started = Instant::now();
    for i in 0..sequential {
        ledger::record(&store, &prices, &sample(i))
            .await
            .map_err(err)?;
    }
    let one_by_one = sequential as f64 / started.elapsed().as_secs_f64();

    // Many askers at once, through the group-commit recorder (how the bot and server record).
    let recorder =
        services::costs::Recorder::start(store.clone(), std::sync::Arc::new(prices.clone()));
    let producers: i64 = 50;
    let started = Instant::now();
    let handles: Vec<_> = (0..producers)
        .map(|p| {
            let recorder = recorder.clone();
            let mine: Vec<NewConversation> = (0..n / producers)
                .map(|i| sample(p * 1_000_000 + i))
                .collect();
            tokio::spawn(async move {
                for c in mine {
                    recorder
                        .record(c)
                        .await
                        .map_err(|e| anyhow::anyhow!(e.message().to_owned()))?;
                }
                anyhow::Ok(())
            })
        })
        .collect();
    for h in handles {
        h.await??;
    }
    let with = n as f64 / started.elapsed().as_secs_f64();

    // The same rows in full batches, with and without the rollup.
    let max = services::costs::recorder::MAX_BATCH;
    let all: Vec<NewConversation> = (0..n).map(|i| sample(2_000_000 + i)).collect();
    let started = Instant::now();
    for chunk in all.chunks(max) {
        // The ledger's own insert, committed without the rollup step.
        let mut tx = store.begin_write().await?;
        ledger::insert_rows(&mut tx, store.backend(), &prices, chunk)
            .await
            .map_err(err)?;
        tx.commit().await?;
    }
    let without = n as f64 / started.elapsed().as_secs_f64();
    let started = Instant::now();
    for chunk in all.chunks(max) {
        ledger::write_batch(&store, &prices, chunk)
            .await
            .map_err(err)?;
    }
    let with_batched = n as f64 / started.elapsed().as_secs_f64();

    println!("| recording 3-stage conversations | conversations/s |\n|---|---|");
    println!("| one at a time, one task, one transaction each (with rollup) | {one_by_one:.0} |");
    println!("| {producers} concurrent askers through the group-commit recorder (with rollup) | {with:.0} |");
    println!("| batches of {max}, with the rollup | {with_batched:.0} |");
    println!("| the same batches without the rollup | {without:.0} |");
    println!(
        "| ratio with / without the rollup (batched) | {:.2} |",
        with_batched / without
    );
    store.close().await;
    Ok(())
}

fn call(stage: Stage, model: &str, i: i64) -> NewStage {
    NewStage {
        stage,
        model: model.into(),
        usage: Usage {
            prompt_tokens: 2_000 + i % 500,
            cached_tokens: 0,
            candidates_tokens: 200,
            thoughts_tokens: 300,
        },
        latency_ms: 800,
        generated_sql: None,
        error: None,
    }
}

/// Runs `f` a few times to warm caches, then `iterations` times; returns (p50, p99).
/// With few iterations the p99 is the slowest run.
async fn measure<F, Fut>(iterations: usize, mut f: F) -> anyhow::Result<(Duration, Duration)>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    for _ in 0..iterations.min(10) / 3 {
        f().await?;
    }
    let mut times = Vec::with_capacity(iterations);
    for _ in 0..iterations {
        let t = Instant::now();
        f().await?;
        times.push(t.elapsed());
    }
    times.sort();
    let pick = |q: f64| {
        times[((times.len() as f64 * q).ceil() as usize)
            .saturating_sub(1)
            .min(times.len() - 1)]
    };
    Ok((pick(0.50), pick(0.99)))
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn row(
    name: &str,
    range: &str,
    queried: (Duration, Duration),
    remembered: (Duration, Duration),
    counted: Option<(Duration, Duration)>,
) {
    let (raw50, raw99, ratio) = match counted {
        Some(c) => (
            ms(c.0),
            ms(c.1),
            format!("{:.0}x", c.1.as_secs_f64() / queried.1.as_secs_f64()),
        ),
        None => (String::new(), String::new(), String::new()),
    };
    println!(
        "| {name} | {range} | {} | {} | {} | {} | {raw50} | {raw99} | {ratio} |",
        ms(queried.0),
        ms(queried.1),
        ms(remembered.0),
        ms(remembered.1),
    );
}
