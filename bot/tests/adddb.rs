//! /adddb through the real bot and the fake Bot API: the steps survive a
//! restart of the bot (the state is in the store), the connection string's
//! message is deleted as soon as it is read and never stored in the
//! dialogue, a wrong kind is named, /cancel stops, ten quiet minutes end it.

use services::AppState;
use sqlx::Connection;
use std::time::Duration;
use testkit::db::TestDb;
use testkit::telegram::{FakeTelegram, Sent};

const WAIT: Duration = Duration::from_secs(20);

async fn bot_for(db: &TestDb, fake: &FakeTelegram, targets: &std::path::Path) -> AppState {
    let dir = ("TABLETALK_SQLITE_DIR", targets.display().to_string());
    fake.bot_state(db, &[dir]).await
}

/// Sends `text`; returns its message id and the bot's next message to the chat.
async fn say(fake: &FakeTelegram, user: i64, text: &str) -> (i64, Sent) {
    let before = fake.sent().iter().filter(|s| s.chat_id == user).count();
    let id = fake.send_text(user, "Olga", text);
    let sent = fake
        .wait_for_sent(user, before + 1, WAIT)
        .await
        .expect("an answer");
    (id, sent[before].clone())
}

struct Running {
    shutdown: teloxide::dispatching::ShutdownToken,
    task: tokio::task::JoinHandle<()>,
}

async fn start(state: AppState) -> Running {
    let mut dispatcher = bot::dispatcher(state).await.expect("bot connects");
    let shutdown = dispatcher.shutdown_token();
    let task = tokio::spawn(async move { dispatcher.dispatch().await });
    Running { shutdown, task }
}

async fn stop(running: Running) {
    running
        .shutdown
        .shutdown()
        .expect("the dispatcher is running")
        .await;
    running.task.await.expect("stops cleanly");
}

async fn dialogue_row(state: &AppState, chat: i64) -> Option<String> {
    sqlx::query_scalar("SELECT state FROM bot_dialogues WHERE chat_id = $1")
        .bind(chat)
        .fetch_optional(state.store.pool())
        .await
        .expect("read")
}

#[tokio::test]
async fn adding_a_database_step_by_step_survives_a_restart_and_never_keeps_the_secret() {
    services::telemetry::init_for_tests();
    let fake = FakeTelegram::start().await.expect("fake Bot API starts");
    let targets = tempfile::tempdir().expect("tempdir");
    let db = TestDb::sqlite();
    let olga = 7001;
    let state = bot_for(&db, &fake, targets.path()).await;
    let (owner, org) = testkit::app::org(&state.store, olga, "Acme").await;
    // The SQLite file the owner will name, in the organization's folder.
    let folder = targets.path().join(org.as_str());
    std::fs::create_dir_all(&folder).expect("folder");
    let mut conn = sqlx::SqliteConnection::connect(&format!(
        "sqlite://{}?mode=rwc",
        folder.join("sales.db").display()
    ))
    .await
    .expect("a SQLite file");
    sqlx::raw_sql(testkit::app::TINY_SHOP)
        .execute(&mut conn)
        .await
        .expect("made");
    conn.close().await.expect("closed");

    let running = start(state.clone()).await;
    assert_eq!(
        say(&fake, olga, "/cancel").await.1.text,
        "There is nothing to cancel."
    );
    let (_, asked) = say(&fake, olga, "/adddb").await;
    assert!(
        asked.text.contains("What should it be called?"),
        "{}",
        asked.text
    );
    let (_, bad) = say(&fake, olga, "   ").await;
    assert!(bad.text.contains("Send another name"), "{}", bad.text);
    let (_, kinds) = say(&fake, olga, "Sales").await;
    assert_eq!(kinds.text, "What kind of database is Sales?");
    let markup = serde_json::to_string(&kinds.body["reply_markup"]).expect("json");
    assert!(
        markup.contains("adddb:kind:sqlite") && markup.contains("adddb:kind:postgres"),
        "{markup}"
    );
    let before = fake.sent().iter().filter(|s| s.chat_id == olga).count();
    fake.press_button(olga, "Olga", kinds.message_id, "adddb:kind:sqlite");
    let asked = fake
        .wait_for_sent(olga, before + 1, WAIT)
        .await
        .expect("edit")[before]
        .clone();
    assert!(
        asked
            .text
            .starts_with("Sales is SQLite. Now send its connection string"),
        "{}",
        asked.text
    );
    assert_eq!(
        dialogue_row(&state, olga).await.as_deref(),
        Some(r#"{"step":"connection","name":"Sales","kind":"sqlite"}"#)
    );

    // The bot restarts; the next message is still the connection string.
    stop(running).await;
    let state = bot_for(&db, &fake, targets.path()).await;
    let running = start(state.clone()).await;
    let secret = "pw-never-kept-7f3a";
    let (wrong_id, wrong) = say(
        &fake,
        olga,
        &format!("postgres://reader:{secret}@db.example.com/sales"),
    )
    .await;
    assert!(
        fake.deleted().contains(&(olga, wrong_id)),
        "deleted: {:?}",
        fake.deleted()
    );
    assert!(
        wrong.text.starts_with("(I deleted your message"),
        "{}",
        wrong.text
    );
    assert!(
        wrong
            .text
            .contains("That is a PostgreSQL connection string, but you chose SQLite."),
        "{}",
        wrong.text
    );
    assert!(wrong
        .text
        .contains("Send the connection string again, or /cancel."));
    let (right_id, added) = say(&fake, olga, "sqlite://sales.db").await;
    assert!(fake.deleted().contains(&(olga, right_id)));
    assert!(
        added.text.contains("Added Sales:") && added.text.contains("/selectdb"),
        "{}",
        added.text
    );
    assert_eq!(dialogue_row(&state, olga).await, None, "the dialogue ended");
    let list = services::databases::list(&state, &owner)
        .await
        .expect("list");
    assert_eq!(
        list.iter().map(|d| d.name.as_str()).collect::<Vec<_>>(),
        ["Sales"]
    );
    assert!(
        fake.sent().iter().all(|s| !s.text.contains(secret)),
        "the password is never echoed"
    );

    // /cancel stops a dialogue; afterwards text is a question again.
    say(&fake, olga, "/adddb").await;
    let (_, stopped) = say(&fake, olga, "/cancel").await;
    assert_eq!(stopped.text, "Stopped: no database was added.");
    assert_eq!(dialogue_row(&state, olga).await, None);

    // Ten quiet minutes end it: a connection string sent after that is
    // deleted and not used.
    say(&fake, olga, "/adddb").await;
    say(&fake, olga, "Late").await;
    sqlx::query("UPDATE bot_dialogues SET updated_at = updated_at - 601 WHERE chat_id = $1")
        .bind(olga)
        .execute(state.store.pool())
        .await
        .expect("aged");
    let (late_id, late) = say(&fake, olga, "mysql://reader:pw@db.example.com/sales").await;
    assert!(
        late.text.contains("timed out after 10 quiet minutes"),
        "{}",
        late.text
    );
    assert!(fake.deleted().contains(&(olga, late_id)));
    assert_eq!(dialogue_row(&state, olga).await, None);
    assert_eq!(
        services::databases::list(&state, &owner)
            .await
            .expect("list")
            .len(),
        1
    );
    stop(running).await;
}
