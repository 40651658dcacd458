//! The real bot against testkit's fake Bot API, over real HTTP.

use services::AppState;
use std::time::Duration;
use testkit::db::TestDb;
use testkit::telegram::{FakeTelegram, TEST_TOKEN};

async fn state_for(fake: &FakeTelegram, db: &TestDb) -> AppState {
    fake.bot_state(db, &[]).await
}

/// A bot asking the stub LLM, and Ada (4242) with the tiny shop selected.
async fn ada_with_a_shop(
    fake: &FakeTelegram,
    stub: &testkit::llm::StubLlm,
    targets: &tempfile::TempDir,
    db: &TestDb,
) -> AppState {
    let state = fake
        .bot_state(
            db,
            &[
                ("GEMINI_API_KEY", testkit::llm::STUB_KEY.to_owned()),
                ("GEMINI_API_URL", stub.url.clone()),
                ("TABLETALK_SQLITE_DIR", targets.path().display().to_string()),
            ],
        )
        .await;
    let person = testkit::app::person(&state.store, 4242, "Ada").await;
    testkit::app::shop(&state, &person, targets.path()).await;
    state
}

#[tokio::test]
async fn start_and_help_are_answered() {
    services::telemetry::init_for_tests();
    let fake = FakeTelegram::start().await.expect("fake Bot API starts");
    let db = TestDb::sqlite();
    let state = state_for(&fake, &db).await;
    let store = state.store.clone();
    let mut dispatcher = bot::dispatcher(state).await.expect("bot connects");
    let shutdown = dispatcher.shutdown_token();
    let running = tokio::spawn(async move { dispatcher.dispatch().await });

    fake.send_text(1001, "Ada", "/start");
    let sent = fake
        .wait_for_sent(1001, 1, Duration::from_secs(20))
        .await
        .expect("a reply");
    assert!(
        sent[0].text.starts_with("Hello, Ada! I am Tabletalk"),
        "{:?}",
        sent[0].text
    );

    fake.send_text(1001, "Ada", "/help");
    let sent = fake
        .wait_for_sent(1001, 2, Duration::from_secs(20))
        .await
        .expect("a reply");
    assert!(sent[1].text.contains("/start"), "{:?}", sent[1].text);
    assert!(
        sent[1].text.contains("/help — show this list"),
        "{:?}",
        sent[1].text
    );

    fake.send_text(2002, "Bo", "/frobnicate");
    let sent = fake
        .wait_for_sent(2002, 1, Duration::from_secs(20))
        .await
        .expect("a reply");
    assert!(
        sent[0].text.contains("don't know that command"),
        "{:?}",
        sent[0].text
    );

    // The bot announced its commands and only talked to the chats that wrote to it.
    assert!(
        fake.calls()
            .iter()
            .any(|m| m.eq_ignore_ascii_case("setMyCommands")),
        "{:?}",
        fake.calls()
    );
    assert!(fake
        .sent()
        .iter()
        .all(|s| s.chat_id == 1001 || s.chat_id == 2002));

    // Senders are remembered.
    let known: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM telegram_users WHERE user_id IN (1001, 2002)")
            .fetch_one(store.pool())
            .await
            .expect("count");
    assert_eq!(known, 2);

    if let Ok(done) = shutdown.shutdown() {
        done.await;
    }
    running.await.expect("dispatcher stops cleanly");
}

#[test]
fn refuses_to_start_without_a_token() {
    let dir = tempfile::tempdir().expect("tempdir");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_bot"))
        .current_dir(dir.path())
        .env_remove("TELEGRAM_BOT_TOKEN")
        .env(
            "DATABASE_URL",
            format!("sqlite://{}/t.db", dir.path().display()),
        )
        .output()
        .expect("the bot binary runs");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("TELEGRAM_BOT_TOKEN is not set"), "{stderr}");
    assert!(
        !dir.path().join("t.db").exists(),
        "nothing is created when the bot cannot start"
    );
}

#[tokio::test]
async fn an_invitation_deep_link_joins_the_organization() {
    services::telemetry::init_for_tests();
    let fake = FakeTelegram::start().await.expect("fake Bot API starts");
    let db = TestDb::sqlite();
    let state = state_for(&fake, &db).await;
    let store = state.store.clone();
    let (_, owner_creds) = services::operator::create_org(&store, "Acme", 1, Some("Olga"))
        .await
        .expect("organization");
    drop(owner_creds);
    let owner = services::access::caller(&store, 1).await.expect("owner");
    let invite = services::orgs::invitations::create(&store, &owner, 1, 7)
        .await
        .expect("invite");

    let mut dispatcher = bot::dispatcher(state).await.expect("bot connects");
    let shutdown = dispatcher.shutdown_token();
    let running = tokio::spawn(async move { dispatcher.dispatch().await });

    fake.send_text(3003, "Max", &format!("/start join_{}", invite.code));
    let sent = fake
        .wait_for_sent(3003, 1, Duration::from_secs(20))
        .await
        .expect("a reply");
    assert!(
        sent[0].text.starts_with("Welcome to Acme!"),
        "{:?}",
        sent[0].text
    );
    let password = sent[0]
        .text
        .lines()
        .find_map(|l| l.strip_prefix("password: "))
        .expect("a password line")
        .to_owned();
    let username = sent[0]
        .text
        .lines()
        .find_map(|l| l.strip_prefix("username: "))
        .expect("a username line")
        .to_owned();
    let request = models::auth::LoginRequest { username, password };
    let answer = services::auth::login(&store, &request, None)
        .await
        .expect("the credentials work");
    assert_eq!(answer.role, models::Role::Member);

    // The code is used up now: the next person is told so.
    fake.send_text(4004, "Nia", &format!("/join {}", invite.code));
    let sent = fake
        .wait_for_sent(4004, 1, Duration::from_secs(20))
        .await
        .expect("a reply");
    assert!(sent[0].text.contains("used up"), "{:?}", sent[0].text);

    if let Ok(done) = shutdown.shutdown() {
        done.await;
    }
    running.await.expect("dispatcher stops cleanly");
}

/// Plain text is a question: a status message follows the stages and is
/// replaced by the answer, with the rows, the SQL and the cost.
#[tokio::test]
async fn a_question_in_a_private_chat_is_answered_in_place() {
    use testkit::llm::StubLlm;
    services::telemetry::init_for_tests();
    let fake = FakeTelegram::start().await.expect("fake Bot API starts");
    let stub = StubLlm::start().await.expect("stub LLM");
    let targets = tempfile::tempdir().expect("tempdir");
    let db = TestDb::sqlite();
    let state = ada_with_a_shop(&fake, &stub, &targets, &db).await;
    stub.answer_with(
        "SELECT COUNT(*) AS orders, SUM(total) AS total FROM orders",
        "You have 3 orders worth 37.75 <in all>.",
    );
    let mut dispatcher = bot::dispatcher(state).await.expect("bot connects");
    let shutdown = dispatcher.shutdown_token();
    let running = tokio::spawn(async move { dispatcher.dispatch().await });

    fake.send_text(
        4242,
        "Ada",
        "How many orders do we have, and worth how much?",
    );
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let last = loop {
        let sent: Vec<_> = fake
            .sent()
            .into_iter()
            .filter(|s| s.chat_id == 4242)
            .collect();
        if let Some(last) = sent.last().filter(|s| s.text.contains("Cost:")) {
            break (sent.clone(), last.clone());
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no answer: {sent:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let (sent, answer) = last;
    // One message, edited in place: the status first, then the stages, then the answer.
    assert_eq!(sent[0].method, "sendMessage");
    assert_eq!(sent[0].text, "Reading your question…");
    assert!(sent[1..]
        .iter()
        .all(|s| s.method == "editMessageText" && s.message_id == sent[0].message_id));
    assert!(
        sent.iter().any(|s| s.text == "Running the SQL…"),
        "{sent:?}"
    );
    assert!(
        sent.iter().any(|s| s.text == "Writing the answer…"),
        "{sent:?}"
    );
    assert!(
        answer
            .text
            .starts_with("You have 3 orders worth 37.75 &lt;in all&gt;."),
        "{}",
        answer.text
    );
    assert!(
        answer
            .text
            .contains("<pre>orders | total\n-------+------\n     3 | 37.75</pre>"),
        "{}",
        answer.text
    );
    assert!(answer
        .text
        .contains("<code>SELECT COUNT(*) AS orders, SUM(total) AS total FROM orders</code>"));
    assert!(answer.text.contains("(2 model calls)"), "{}", answer.text);
    assert_eq!(answer.body["parse_mode"], "HTML");
    assert!(fake
        .calls()
        .iter()
        .any(|m| m.eq_ignore_ascii_case("sendChatAction")));

    // Someone without a database is told how to choose one, in the same way.
    fake.send_text(5151, "Bo", "How many orders?");
    let sent = fake
        .wait_for_sent(5151, 2, Duration::from_secs(20))
        .await
        .expect("a reply");
    assert!(
        sent[1].text.contains("Choose a database first"),
        "{:?}",
        sent[1].text
    );

    if let Ok(done) = shutdown.shutdown() {
        done.await;
    }
    running.await.expect("dispatcher stops cleanly");
}

/// A date/number result too long for a message: the answer says so, a
/// PNG chart (decoded here) and a CSV document with every row follow, each
/// replying to the question.
#[tokio::test]
async fn a_long_series_comes_as_a_chart_and_a_csv_document() {
    use testkit::llm::StubLlm;
    let fake = FakeTelegram::start().await.expect("fake Bot API starts");
    let stub = StubLlm::start().await.expect("stub LLM");
    let targets = tempfile::tempdir().expect("tempdir");
    let db = TestDb::sqlite();
    let state = ada_with_a_shop(&fake, &stub, &targets, &db).await;
    stub.answer_with(
        "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 29) \
         SELECT date('2026-01-01', '+' || i || ' days') AS day, i * 3 AS orders FROM n",
        "Orders grew every day of January.",
    );
    let mut dispatcher = bot::dispatcher(state).await.expect("bot connects");
    let shutdown = dispatcher.shutdown_token();
    let running = tokio::spawn(async move { dispatcher.dispatch().await });

    let question = fake.send_text(4242, "Ada", "Orders per day in January?");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let (photo, document, answer) = loop {
        let sent: Vec<_> = fake
            .sent()
            .into_iter()
            .filter(|s| s.chat_id == 4242)
            .collect();
        let find = |method: &str| sent.iter().find(|s| s.method == method).cloned();
        let answer = sent
            .iter()
            .rev()
            .find(|s| s.text.contains("Cost:"))
            .cloned();
        if let (Some(p), Some(d), Some(a)) = (find("sendPhoto"), find("sendDocument"), answer) {
            break (p, d, a);
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "not everything came: {sent:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(
        answer.text.contains("30 rows — too many for a message"),
        "{}",
        answer.text
    );
    assert!(!answer.text.contains("<pre>"), "no table: {}", answer.text);

    let png = photo.file.expect("the chart's file");
    let mut reader = png::Decoder::new(png.bytes.as_slice())
        .read_info()
        .expect("a PNG");
    let mut pixels = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut pixels).expect("one frame");
    assert_eq!(
        (info.width, info.height),
        (bot::chart::WIDTH, bot::chart::HEIGHT)
    );
    assert!(
        pixels.chunks_exact(3).any(|p| p != [255, 255, 255]),
        "something is drawn"
    );

    let csv = document.file.expect("the rows' file");
    assert_eq!(csv.file_name, "result.csv");
    let text = String::from_utf8(csv.bytes).expect("UTF-8");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 31, "a header and every row: {text}");
    assert_eq!(lines[0], "day,orders");
    assert_eq!(lines[1], "2026-01-01,0");
    assert_eq!(lines[30], "2026-01-30,87");
    assert_eq!(document.text, "All 30 rows.");
    for sent in [
        &photo_body(&fake, "sendPhoto"),
        &photo_body(&fake, "sendDocument"),
    ] {
        assert_eq!(
            sent["reply_parameters"]["message_id"].as_i64(),
            Some(question),
            "{sent}"
        );
    }

    if let Ok(done) = shutdown.shutdown() {
        done.await;
    }
    running.await.expect("dispatcher stops cleanly");
}

fn photo_body(fake: &FakeTelegram, method: &str) -> serde_json::Value {
    fake.sent()
        .into_iter()
        .find(|s| s.method == method)
        .map(|s| s.body)
        .unwrap_or_default()
}

/// An email result: the preview with Send / Cancel buttons; Send goes out
/// through a real SMTP server; a forged button (someone else's email) is refused.
#[tokio::test]
async fn an_emailed_answer_is_sent_from_its_button_and_a_forged_button_is_refused() {
    use testkit::llm::{Scripted, StubLlm, STUB_KEY};
    let Some(smtp) = testkit::smtp::SmtpServer::start().await else {
        return;
    };
    let fake = FakeTelegram::start().await.expect("fake Bot API starts");
    let stub = StubLlm::start().await.expect("stub LLM");
    let targets = tempfile::tempdir().expect("tempdir");
    let db = TestDb::sqlite();
    let state = testkit::app::state(
        &db,
        &[
            ("TELEGRAM_BOT_TOKEN", TEST_TOKEN.to_owned()),
            ("TELEGRAM_API_URL", fake.api_url.clone()),
            ("GEMINI_API_KEY", STUB_KEY.to_owned()),
            ("GEMINI_API_URL", stub.url.clone()),
            ("TABLETALK_SQLITE_DIR", targets.path().display().to_string()),
            ("SMTP_URL", smtp.url()),
            ("SMTP_FROM", "tabletalk@example.com".to_owned()),
        ],
    )
    .await;
    let ada = testkit::app::person(&state.store, 4242, "Ada").await;
    testkit::app::person(&state.store, 6666, "Eve").await;
    testkit::app::shop(&state, &ada, targets.path()).await;
    stub.rule(|received| {
        if received.asks_for("intent") {
            Scripted::answer(
                serde_json::json!({"intent": "email", "sql": "SELECT SUM(total) AS total FROM orders",
                    "recipients": ["bob@example.com"]})
                .to_string(),
            )
        } else {
            Scripted::answer(
                serde_json::json!({"subject": "Orders <total>", "body": "37.75 in all."}).to_string(),
            )
        }
    });
    let mut dispatcher = bot::dispatcher(state).await.expect("bot connects");
    let shutdown = dispatcher.shutdown_token();
    let running = tokio::spawn(async move { dispatcher.dispatch().await });

    fake.send_text(4242, "Ada", "Email the order total to bob@example.com");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let preview = loop {
        let last = fake.sent().into_iter().rfind(|s| s.chat_id == 4242);
        if let Some(last) = last.filter(|s| s.text.contains("Cost:")) {
            break last;
        }
        assert!(tokio::time::Instant::now() < deadline, "no preview");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(
        preview.text.contains("<b>To:</b> bob@example.com"),
        "{}",
        preview.text
    );
    assert!(
        preview.text.contains("Orders &lt;total&gt;"),
        "{}",
        preview.text
    );
    let buttons = &preview.body["reply_markup"]["inline_keyboard"][0];
    let send = buttons[0]["callback_data"]
        .as_str()
        .expect("a Send button")
        .to_owned();
    assert!(send.starts_with("email:send:"), "{send}");
    assert!(smtp.messages().is_empty(), "nothing sent before the button");

    // Eve presses a copy of Ada's button: refused, nothing sent.
    fake.press_button(6666, "Eve", preview.message_id, &send);
    let refused = fake
        .wait_for_sent(6666, 1, Duration::from_secs(20))
        .await
        .expect("a reply to Eve");
    assert_eq!(refused[0].text, "There is no such email among yours.");
    assert!(smtp.messages().is_empty());

    fake.press_button(4242, "Ada", preview.message_id, &send);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let last = fake.sent().into_iter().rfind(|s| s.chat_id == 4242);
        if last
            .as_ref()
            .is_some_and(|s| s.text == "Sent to bob@example.com.")
        {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no confirmation: {last:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let messages = smtp.wait_for(1).await;
    assert_eq!(messages.len(), 1);
    assert!(
        messages[0].contains("To: bob@example.com"),
        "{}",
        messages[0]
    );
    assert!(fake
        .calls()
        .iter()
        .any(|m| m.eq_ignore_ascii_case("answerCallbackQuery")));

    if let Ok(done) = shutdown.shutdown() {
        done.await;
    }
    running.await.expect("dispatcher stops");
}
