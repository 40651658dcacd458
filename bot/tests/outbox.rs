//! Notifications are never lost: rows written while the bot is down are
//! delivered when it starts, in order per person, after Telegram's
//! retry_after (waited out, not dropped); a person who blocked the bot is marked unreachable (until
//! they write again) instead of being retried forever; a row older than a
//! day that still fails is given up and says why.

use std::time::Duration;
use testkit::db::TestDb;
use testkit::telegram::{Failure, FakeTelegram};

async fn outbox_row(
    store: &services::Store,
    user: i64,
) -> Vec<(Option<i64>, Option<i64>, Option<String>, i64)> {
    sqlx::query_as(
        "SELECT sent_at, failed_at, last_error, CAST(attempts AS BIGINT) FROM outbox \
         WHERE telegram_user_id = $1 ORDER BY id",
    )
    .bind(user)
    .fetch_all(store.pool())
    .await
    .expect("outbox")
}

async fn unreachable_at(store: &services::Store, user: i64) -> Option<i64> {
    sqlx::query_scalar("SELECT unreachable_at FROM telegram_users WHERE user_id = $1")
        .bind(user)
        .fetch_one(store.pool())
        .await
        .expect("user")
}

async fn until<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !check().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn notifications_written_while_the_bot_is_down_arrive_in_order_or_say_why_not() {
    services::telemetry::init_for_tests();
    for db in TestDb::all().await {
        let fake = FakeTelegram::start().await.expect("fake Bot API starts");
        let state = fake.bot_state(&db, &[]).await;
        let store = state.store.clone();
        let (mia, bo, old) = (8002, 8003, 8004);
        let (owner, _) = testkit::app::org(&store, 8001, "Acme").await;
        for (id, name) in [(mia, "Mia"), (bo, "Bo"), (old, "Old")] {
            testkit::app::person(&store, id, name).await;
        }
        // The bot is down: the dashboard adds Mia and Bo; Mia gets a second
        // message; a message for Old has waited two days already.
        services::orgs::members::add(&store, &owner, mia)
            .await
            .expect("added");
        services::orgs::members::add(&store, &owner, bo)
            .await
            .expect("added");
        let now = services::clock::now();
        let mut tx = store.begin_write().await.expect("tx");
        services::notify::enqueue(
            &mut tx,
            mia,
            services::notify::Kind::Email,
            "second for Mia",
            now,
        )
        .await
        .expect("queued");
        services::notify::enqueue(
            &mut tx,
            old,
            services::notify::Kind::Email,
            "too late",
            now - 2 * 86_400,
        )
        .await
        .expect("queued");
        tx.commit().await.expect("commit");
        assert_eq!(
            services::notify::backlog(&store).await.expect("backlog"),
            4,
            "{}",
            db.kind
        );
        // Telegram makes Mia's first wait a second (teloxide's Throttle waits
        // it out and sends again); Bo has blocked the bot; Old's fails once more.
        fake.fail_next(mia, Failure::RetryAfter(1));
        fake.fail_next(bo, Failure::Blocked);
        fake.fail_next(old, Failure::Internal);

        let outbox = bot::outbox::Outbox::new(
            bot::client(&state).expect("client"),
            bot::handlers::account::Senders::default(),
        );
        let sender = services::workers::start(state.clone(), vec![std::sync::Arc::new(outbox)]);
        let to_mia = fake
            .wait_for_sent(mia, 2, Duration::from_secs(30))
            .await
            .expect("both of Mia's");
        assert!(
            to_mia[0]
                .text
                .contains("You were added to the organization"),
            "{}: {}",
            db.kind,
            to_mia[0].text
        );
        assert_eq!(
            to_mia[1].text, "second for Mia",
            "{}: in order, after the wait",
            db.kind
        );
        until("Bo marked unreachable", || async {
            unreachable_at(&store, bo).await.is_some()
        })
        .await;
        until("Old's message given up", || async {
            outbox_row(&store, old).await[0].1.is_some()
        })
        .await;
        until("every row finished", || async {
            services::notify::backlog(&store).await.expect("backlog") == 0
        })
        .await;
        sender.stop(Duration::ZERO).await;

        let mia_rows = outbox_row(&store, mia).await;
        assert!(
            mia_rows.iter().all(|r| r.0.is_some() && r.1.is_none()),
            "{}: {mia_rows:?}",
            db.kind
        );
        let bo_rows = outbox_row(&store, bo).await;
        assert_eq!(bo_rows.len(), 1);
        assert!(bo_rows[0].0.is_none() && bo_rows[0].1.is_some());
        assert!(
            bo_rows[0]
                .2
                .as_deref()
                .is_some_and(|e| e.starts_with("unreachable:")),
            "{bo_rows:?}"
        );
        assert!(fake
            .sent()
            .iter()
            .all(|s| s.chat_id != bo && s.chat_id != old));
        let old_rows = outbox_row(&store, old).await;
        assert!(
            old_rows[0]
                .2
                .as_deref()
                .is_some_and(|e| e.starts_with("given up after a day")),
            "{old_rows:?}"
        );
        assert_eq!(
            services::notify::backlog(&store).await.expect("backlog"),
            0,
            "{}",
            db.kind
        );

        // Bo writes to the bot again: reachable again.
        testkit::app::person(&store, bo, "Bo").await;
        assert_eq!(unreachable_at(&store, bo).await, None, "{}", db.kind);
    }
}

/// An answer with `rows` rows of (region, orders).
fn answer_with_rows(words: &str, rows: i64) -> models::ask::Answered {
    use models::targets::{QueryResult, ResultColumn, Value};
    let column = |name: &str, type_name: &str| ResultColumn {
        name: name.to_owned(),
        type_name: type_name.to_owned(),
    };
    models::ask::Answered {
        question: "Orders by region?".to_owned(),
        answer: models::ask::Answer {
            conversation_id: 1,
            status: models::costs::ConversationStatus::Answered,
            text: words.to_owned(),
            sql: Some("SELECT region, orders FROM sales".to_owned()),
            result: Some(QueryResult {
                columns: vec![column("region", "TEXT"), column("orders", "INT8")],
                rows: (0..rows)
                    .map(|i| {
                        vec![
                            Value::Text {
                                text: format!("region {i}"),
                                truncated: false,
                            },
                            Value::Int(i * 7),
                        ]
                    })
                    .collect(),
                truncated: false,
                row_limit: 1_000,
                elapsed_ms: 3,
            }),
            stages: Vec::new(),
            total_cost: models::Usd::ZERO,
            email: None,
        },
    }
}

/// An answer nobody just asked for (a schedule's, say) is written to the
/// outbox for a group while the bot runs: the bot renders it exactly as a
/// live answer — the words with a table, or with the rows as a CSV
/// document — in the group, once, even with two bot processes draining.
#[tokio::test]
async fn an_answer_for_a_group_arrives_there_rendered_like_a_live_one_exactly_once() {
    services::telemetry::init_for_tests();
    for db in TestDb::all().await {
        let fake = FakeTelegram::start().await.expect("fake Bot API starts");
        let state = fake.bot_state(&db, &[]).await;
        let store = state.store.clone();
        let (ada, group) = (8101, -100_555_000_111);
        testkit::app::person(&store, ada, "Ada").await;
        // Two bot processes drain the same store.
        let drains: Vec<_> = (0..2)
            .map(|_| {
                let outbox = bot::outbox::Outbox::new(
                    bot::client(&state).expect("client"),
                    bot::handlers::account::Senders::default(),
                );
                services::workers::start(state.clone(), vec![std::sync::Arc::new(outbox)])
            })
            .collect();

        let small = answer_with_rows("Three regions sold.", 3);
        let large = answer_with_rows("Thirty regions sold.", 30);
        let mut tx = store.begin_write().await.expect("tx");
        for answer in [&small, &large] {
            services::notify::enqueue_answer(&mut tx, ada, group, answer, services::clock::now())
                .await
                .expect("queued");
        }
        tx.commit().await.expect("commit");

        let document = fake
            .wait_for(group, 0, Duration::from_secs(30), |s| {
                s.method == "sendDocument"
            })
            .await
            .expect("the large answer's rows as a file");
        until("every row sent", || async {
            services::notify::backlog(&store).await.expect("backlog") == 0
        })
        .await;
        // Two more polls: a second sender would have sent by now.
        tokio::time::sleep(bot::outbox::POLL * 3).await;
        for drain in drains {
            drain.stop(Duration::from_secs(5)).await;
        }

        let to_group: Vec<_> = fake
            .sent()
            .into_iter()
            .filter(|s| s.chat_id == group)
            .collect();
        let texts: Vec<_> = to_group
            .iter()
            .filter(|s| s.method == "sendMessage")
            .collect();
        assert_eq!(texts.len(), 2, "{}: {to_group:?}", db.kind);
        assert!(
            texts[0].text.starts_with("Three regions sold.")
                && texts[0].text.contains("<pre>")
                && texts[0].text.contains("region 2"),
            "{}: the small answer with its table first: {}",
            db.kind,
            texts[0].text
        );
        assert!(
            texts[1].text.starts_with("Thirty regions sold.")
                && texts[1].text.contains("30 rows — too many for a message"),
            "{}: {}",
            db.kind,
            texts[1].text
        );
        for text in &texts {
            assert_eq!(text.body["parse_mode"], "HTML", "{}", db.kind);
        }
        let documents = to_group
            .iter()
            .filter(|s| s.method == "sendDocument")
            .count();
        assert_eq!(documents, 1, "{}: the CSV once: {to_group:?}", db.kind);
        let csv = document.file.expect("the rows' file");
        assert_eq!(csv.file_name, "result.csv");
        let csv = String::from_utf8(csv.bytes).expect("UTF-8");
        assert_eq!(csv.lines().count(), 31, "{}: {csv}", db.kind);
        assert_eq!(csv.lines().next(), Some("region,orders"));
        assert_eq!(document.text, "All 30 rows.");
        assert_eq!(
            fake.sent_to(ada),
            0,
            "{}: nothing to Ada's own chat",
            db.kind
        );

        // Sent once each; the answers are not kept once sent.
        let rows: Vec<(String, Option<i64>, Option<String>, i64)> = sqlx::query_as(
            "SELECT kind, sent_at, answer, CAST(attempts AS BIGINT) FROM outbox \
             WHERE telegram_user_id = $1 ORDER BY id",
        )
        .bind(ada)
        .fetch_all(store.pool())
        .await
        .expect("outbox");
        assert_eq!(rows.len(), 2, "{}", db.kind);
        for (kind, sent_at, answer, attempts) in rows {
            assert_eq!(kind, "answer");
            assert!(sent_at.is_some() && answer.is_none(), "{}", db.kind);
            assert_eq!(attempts, 1, "{}", db.kind);
        }
    }
}
