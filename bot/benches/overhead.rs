//! The bot's overhead per message: from the moment a person's message is
//! available to the bot (the fake Bot API's getUpdates) to the moment the
//! last thing they should see has arrived at the fake Bot API (the command's
//! reply; for a question, the status message edited into the answer), minus
//! the time inside the model calls and the target query. Real HTTP on
//! loopback, a SQLite store, testkit's stub LLM answering at once. Prints
//! numbers; asserts nothing.
//!
//!   cargo bench -p bot --bench overhead
//!
//! Messages go one at a time, 40 ms apart (Telegram allows a bot 30
//! messages a second; teloxide's Throttle would otherwise queue them and the
//! queue is Telegram's limit, not overhead), each person at most every two
//! seconds (one message a second per chat).

use std::time::{Duration, Instant};
use testkit::db::TestDb;
use testkit::llm::{StubLlm, STUB_KEY};
use testkit::timing::{ms, quantile, take_outside, Outside};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

const ASKERS: i64 = 50;
const COMMANDS: [&str; 4] = ["/myinfo", "/stats", "/history", "/help"];

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::registry().with(Outside).init();
    let arg = |name: &str, default: u64| {
        std::env::args()
            .skip_while(|a| a != name)
            .nth(1)
            .and_then(|n| n.parse().ok())
            .unwrap_or(default)
    };
    let runs = arg("--messages", 600) as usize;
    let gap = Duration::from_millis(arg("--gap-ms", 40));
    let fake = testkit::telegram::FakeTelegram::start().await?;
    let stub = StubLlm::start().await?;
    let targets = tempfile::tempdir()?;
    let db = TestDb::sqlite();
    let state = fake
        .bot_state(
            &db,
            &[
                ("GEMINI_API_KEY", STUB_KEY.to_owned()),
                ("GEMINI_API_URL", stub.url.clone()),
                ("TABLETALK_SQLITE_DIR", targets.path().display().to_string()),
            ],
        )
        .await;
    stub.answer_with(
        "SELECT COUNT(*) AS orders, SUM(total) AS total FROM orders",
        "Three orders, 37.75 in all.",
    );
    for id in 0..ASKERS {
        let person = testkit::app::person(&state.store, 10_000 + id, "Ada").await;
        testkit::app::shop(&state, &person, targets.path()).await;
    }
    let running = bot::start(state).await?;

    let mut commands = Vec::new();
    let mut questions = Vec::new();
    let mut question_walls = Vec::new();
    let warm_up = 20;
    for i in 0..runs + warm_up {
        let question = i % 2 == 0;
        let chat = if question {
            10_000 + (i as i64 / 2) % ASKERS
        } else {
            20_000 + (i as i64 / 2) % 20
        };
        let skip = fake.sent_to(chat);
        take_outside();
        let started = Instant::now();
        if question {
            fake.send_text(
                chat,
                "Ada",
                &format!("How many orders, worth how much? ({i})"),
            );
            fake.wait_for(chat, skip, Duration::from_secs(30), |s| {
                s.text.contains("Cost:")
            })
            .await?;
        } else {
            fake.send_text(chat, "Bo", COMMANDS[(i / 2) % COMMANDS.len()]);
            fake.wait_for(chat, skip, Duration::from_secs(30), |_| true)
                .await?;
        }
        let wall = started.elapsed();
        let overhead = wall.saturating_sub(take_outside());
        if i >= warm_up {
            if question {
                questions.push(overhead);
                question_walls.push(wall);
            } else {
                commands.push(overhead);
            }
        }
        tokio::time::sleep(gap.saturating_sub(started.elapsed())).await;
    }
    running.stop().await;

    println!(
        "| per message ({runs} in all, one every {} ms) | count | p50 | p95 | p99 | max |",
        gap.as_millis()
    );
    println!("|---|---|---|---|---|---|");
    for (what, times) in [
        (
            "command (/myinfo, /stats, /history, /help): bot overhead",
            &mut commands,
        ),
        (
            "question: bot + pipeline overhead (wall - model calls - target query)",
            &mut questions,
        ),
        (
            "question: wall time, stub model answering at once",
            &mut question_walls,
        ),
    ] {
        println!(
            "| {what} | {} | {} | {} | {} | {} |",
            times.len(),
            ms(quantile(times, 0.50)),
            ms(quantile(times, 0.95)),
            ms(quantile(times, 0.99)),
            ms(quantile(times, 1.0)),
        );
    }
    Ok(())
}
