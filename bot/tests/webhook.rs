//! Webhook mode against the fake Bot API, which posts updates to the bot's
//! address as Telegram does: the secret token is checked, a duplicate is
//! answered once, and updates that arrive while the bot is down are answered
//! after it starts again. And the bot's own `/metrics`.

use std::time::Duration;
use testkit::db::TestDb;
use testkit::telegram::FakeTelegram;

use testkit::free_port;

fn update(update_id: i64, user_id: i64, text: &str) -> serde_json::Value {
    serde_json::json!({
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "from": {"id": user_id, "is_bot": false, "first_name": "Mallory"},
            "chat": {"id": user_id, "type": "private", "first_name": "Mallory"},
            "date": 1_780_000_000,
            "text": text,
            "entities": [{"type": "bot_command", "offset": 0, "length": text.len()}]
        }
    })
}

#[tokio::test]
async fn webhook_mode_checks_the_secret_and_answers_each_update_once() {
    let fake = FakeTelegram::start().await.expect("fake Bot API starts");
    let db = TestDb::sqlite();
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}/telegram/hook");
    let state = fake
        .bot_state(
            &db,
            &[
                ("TELEGRAM_WEBHOOK_URL", url.clone()),
                ("TELEGRAM_WEBHOOK_LISTEN", format!("127.0.0.1:{port}")),
            ],
        )
        .await;
    let running = bot::start(state.clone()).await.expect("the bot starts");
    let hook = fake.webhook().expect("the webhook is registered");
    assert_eq!(hook.url, url);
    let secret = hook.secret_token.expect("with a secret token");
    assert_eq!(secret.len(), 64, "a fresh random secret");

    // Telegram (the fake) posts a message; the bot answers it.
    fake.send_text(1001, "Ada", "/start");
    let sent = fake
        .wait_for_sent(1001, 1, Duration::from_secs(20))
        .await
        .expect("an answer");
    assert!(sent[0].text.contains("Ada"), "{}", sent[0].text);

    // A post without the secret, or with a wrong one, is refused and not handled.
    let http = reqwest::Client::new();
    let post = |secret: Option<&str>, body: &serde_json::Value| {
        let mut request = http.post(&url).json(body);
        if let Some(secret) = secret {
            request = request.header(bot::webhook::SECRET_HEADER, secret);
        }
        request.send()
    };
    let forged = update(900_001, 2002, "/start");
    for wrong in [None, Some("not-the-secret"), Some(&secret[..63])] {
        let status = post(wrong, &forged)
            .await
            .expect("the bot answers")
            .status();
        assert_eq!(status, reqwest::StatusCode::UNAUTHORIZED, "{wrong:?}");
    }

    // The same update posted twice (Telegram retrying) is answered once.
    let twice = update(900_002, 3003, "/help");
    for _ in 0..2 {
        let status = post(Some(&secret), &twice).await.expect("posted").status();
        assert_eq!(status, reqwest::StatusCode::OK);
    }
    fake.wait_for_sent(3003, 1, Duration::from_secs(20))
        .await
        .expect("an answer to the update");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let to = |chat: i64| fake.sent().iter().filter(|s| s.chat_id == chat).count();
    assert_eq!(to(3003), 1, "one answer for one update");
    assert_eq!(to(2002), 0, "the forged posts were not handled");
    let seen: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM bot_updates WHERE update_id = 900002")
        .fetch_one(state.store.pool())
        .await
        .expect("count");
    assert_eq!(seen, 1);

    // Stopped: Telegram keeps what arrives, and delivers it once the bot is back.
    running.stop().await;
    fake.send_text(4004, "Cy", "/start");
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(
        fake.deliveries().iter().any(|(_, status)| *status != 200),
        "the post failed while the bot was down: {:?}",
        fake.deliveries()
    );
    let running = bot::start(state).await.expect("the bot starts again");
    let sent = fake
        .wait_for_sent(4004, 1, Duration::from_secs(20))
        .await
        .expect("the update sent while the bot was down is answered");
    assert!(sent[0].text.contains("Cy"), "{}", sent[0].text);
    running.stop().await;
}

/// The bot's `/metrics` on its own port counts the updates it took by kind
/// and exports the outbox backlog.
#[tokio::test]
async fn the_bot_serves_its_metrics_on_its_own_port() {
    use testkit::scrape::{has, sum};
    let fake = FakeTelegram::start().await.expect("fake Bot API starts");
    let db = TestDb::sqlite();
    let port = free_port();
    let state = fake
        .bot_state(
            &db,
            &[("TABLETALK_BOT_METRICS_LISTEN", format!("127.0.0.1:{port}"))],
        )
        .await;
    let running = bot::start(state).await.expect("the bot starts");
    let scrape = || async {
        reqwest::get(format!("http://127.0.0.1:{port}/metrics"))
            .await
            .expect("the metrics answer")
            .text()
            .await
            .expect("text")
    };
    let before = scrape().await;
    fake.send_text(1001, "Ada", "/start");
    fake.send_text(1001, "Ada", "hello there");
    fake.wait_for_sent(1001, 2, Duration::from_secs(20))
        .await
        .expect("both answered");
    let after = scrape().await;
    let moved = |kind: &str| {
        sum(&after, "tabletalk_bot_updates_total", &[("kind", kind)])
            - sum(&before, "tabletalk_bot_updates_total", &[("kind", kind)])
    };
    assert!(moved("command") >= 1.0, "{after}");
    assert!(moved("message") >= 1.0, "{after}");
    assert!(has(&after, "tabletalk_outbox_backlog"), "{after}");
    // Passed on by a proxy (from elsewhere): refused without the token.
    let proxied = reqwest::Client::new()
        .get(format!("http://127.0.0.1:{port}/metrics"))
        .header("X-Forwarded-For", "203.0.113.7")
        .send()
        .await
        .expect("the metrics answer");
    assert_eq!(proxied.status(), reqwest::StatusCode::FORBIDDEN);
    let said = proxied.text().await.expect("text");
    assert!(said.contains("\"error\":\"forbidden\""), "{said}");
    running.stop().await;
}

/// The real bot binary gets SIGTERM while a question waits on the model
/// (grace period 2 s): it stops taking updates, the question is answered
/// "interrupted" in the chat and recorded so, and the process exits 0.
#[tokio::test]
async fn sigterm_interrupts_a_question_after_the_grace_period_and_says_so() {
    use testkit::llm::{Scripted, StubLlm};
    let fake = FakeTelegram::start().await.expect("fake Bot API starts");
    let stub = StubLlm::start().await.expect("stub");
    stub.rule(|_| Scripted::Slow {
        delay: Duration::from_secs(120),
        then: Box::new(Scripted::answer("too late")),
    });
    let db = TestDb::sqlite();
    let targets = tempfile::tempdir().expect("tempdir");
    let env = [
        ("GEMINI_API_KEY", testkit::llm::STUB_KEY.to_owned()),
        ("GEMINI_API_URL", stub.url.clone()),
        ("TABLETALK_SQLITE_DIR", targets.path().display().to_string()),
        (
            "TABLETALK_SECRET_KEY",
            testkit::db::TEST_SECRET_KEY.to_owned(),
        ),
        (
            "TELEGRAM_BOT_TOKEN",
            testkit::telegram::TEST_TOKEN.to_owned(),
        ),
        ("TELEGRAM_API_URL", fake.api_url.clone()),
        ("TABLETALK_SHUTDOWN_GRACE_SECS", "2".to_owned()),
    ];
    let state = fake.bot_state(&db, &env).await;
    let ada = testkit::app::person(&state.store, 4242, "Ada").await;
    testkit::app::shop(&state, &ada, targets.path()).await;
    let mut bot = tokio::process::Command::new(env!("CARGO_BIN_EXE_bot"))
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .env("DATABASE_URL", &db.url)
        .env("RUST_LOG", "warn")
        .kill_on_drop(true)
        .spawn()
        .expect("the bot starts");
    fake.send_text(4242, "Ada", "What do the orders total?");
    for _ in 0..200 {
        if !stub.received().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(stub.received().len(), 1, "the question waits on the model");
    let pid = bot.id().expect("a pid").to_string();
    assert!(std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill")
        .success());
    let told = fake
        .wait_for(4242, 0, Duration::from_secs(20), |s| {
            s.text.contains("could not finish this question")
        })
        .await
        .expect("the person is told");
    assert!(told.text.contains("ask it again"), "{}", told.text);
    let status = tokio::time::timeout(Duration::from_secs(20), bot.wait())
        .await
        .expect("the bot stops")
        .expect("status");
    assert!(status.success(), "{status}");
    let recorded: Vec<String> = sqlx::query_scalar("SELECT status FROM conversations")
        .fetch_all(state.store.pool())
        .await
        .expect("conversations");
    assert_eq!(recorded, ["interrupted"]);
}
