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
    running.stop().await;
}
