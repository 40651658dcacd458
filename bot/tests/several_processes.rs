//! Several processes on one PostgreSQL (issue 15): two real `server`
//! processes and one real `bot` process in webhook mode, the fake Bot API and
//! the stub model over HTTP, the store the only thing they share.
//!
//! Shown: a session made on one server works on the other; failed sign-ins
//! counted on both servers add up; an /adddb dialogue survives a restart of
//! the bot; 1,000 questions (100 people asking 10 each, so 100 at a time: one
//! question in flight per person is the rule) spread over both servers' Ask
//! endpoints and the bot are recorded exactly once each, the rollups equal the
//! raw rows, and the analytics both servers answer are never stale.
//!
//! `scripts/several-processes.sh` runs it (release build, with one and with
//! two servers: `TABLETALK_SEVERAL_SERVERS=1|2`) and prints its numbers.
//! Needs `TABLETALK_TEST_POSTGRES_URL` and the `server` binary built beside
//! the bot's (`cargo test --workspace` builds both).

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};
use testkit::db::TestDb;
use testkit::llm::StubLlm;
use testkit::telegram::{FakeTelegram, TEST_TOKEN};
use tokio::process::{Child, Command};

const QUESTIONS_EACH: usize = 10;
const WEB_PEOPLE: i64 = 80;
const BOT_PEOPLE: i64 = 20;
const OWNER: i64 = 5_000;
const WEBHOOK_SECRET: &str = "several-processes-webhook-secret";

fn server_binary() -> Option<PathBuf> {
    let path = PathBuf::from(env!("CARGO_BIN_EXE_bot")).with_file_name("server");
    path.exists().then_some(path)
}

/// One process of ours: its child and its address.
struct Process {
    child: Child,
    base: String,
}

async fn spawn(
    binary: &std::path::Path,
    env: &[(String, String)],
    port: u16,
    bot: bool,
) -> Process {
    let mut command = Command::new(binary);
    command
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .kill_on_drop(true);
    if bot {
        command
            .env(
                "TELEGRAM_WEBHOOK_URL",
                format!("http://127.0.0.1:{port}/telegram"),
            )
            .env("TELEGRAM_WEBHOOK_LISTEN", format!("127.0.0.1:{port}"))
            .env("TELEGRAM_WEBHOOK_SECRET", WEBHOOK_SECRET);
    } else {
        command.env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"));
    }
    let child = command.spawn().expect("the process starts");
    let base = format!("http://127.0.0.1:{port}");
    if !bot {
        let http = reqwest::Client::new();
        for _ in 0..300 {
            if http
                .get(format!("{base}/readyz"))
                .send()
                .await
                .is_ok_and(|r| r.status() == 200)
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    Process { child, base }
}

async fn stop(mut process: Process) {
    if let Some(pid) = process.child.id() {
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status();
    }
    let _ = tokio::time::timeout(Duration::from_secs(30), process.child.wait()).await;
}

async fn sign_in(base: &str, credentials: &models::org::Credentials) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{base}/dashboard/login"))
        .json(&serde_json::json!({"username": credentials.username, "password": credentials.password}))
        .send()
        .await
        .expect("login")
}

async fn token(base: &str, credentials: &models::org::Credentials) -> String {
    let body: serde_json::Value = sign_in(base, credentials).await.json().await.expect("json");
    body["token"].as_str().expect("a token").to_owned()
}

async fn overview(http: &reqwest::Client, base: &str, token: &str) -> (Duration, i64) {
    let started = Instant::now();
    let body: serde_json::Value = http
        .get(format!("{base}/dashboard/costs/overview"))
        .bearer_auth(token)
        .send()
        .await
        .expect("overview")
        .json()
        .await
        .expect("json");
    (
        started.elapsed(),
        body["conversations"].as_i64().expect("a count"),
    )
}

async fn count(store: &services::Store, sql: &'static str, user: Option<i64>) -> i64 {
    let mut query = sqlx::query_scalar::<_, i64>(sql);
    if let Some(user) = user {
        query = query.bind(user);
    }
    query.fetch_one(store.pool()).await.expect("count")
}

#[tokio::test]
async fn two_servers_and_a_bot_share_one_postgresql() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let Some(server_bin) = server_binary() else {
        assert!(
            std::env::var("CI").map_or(true, |v| v != "true"),
            "CI=true but the server binary is not built beside the bot's"
        );
        eprintln!("SKIPPED (several processes): build the server first (cargo build -p server)");
        return;
    };
    let servers: usize = std::env::var("TABLETALK_SEVERAL_SERVERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|n| (1..=2).contains(n))
        .unwrap_or(2);
    let fake = std::sync::Arc::new(FakeTelegram::start().await.expect("fake Bot API"));
    let stub = StubLlm::start().await.expect("stub");
    stub.answer_with(
        "SELECT SUM(total) AS total FROM orders",
        "The orders total 37.75.",
    );
    let targets = tempfile::tempdir().expect("tempdir");
    let env: Vec<(String, String)> = [
        ("DATABASE_URL", db.url.clone()),
        (
            "TABLETALK_SECRET_KEY",
            testkit::db::TEST_SECRET_KEY.to_owned(),
        ),
        ("GEMINI_API_KEY", testkit::llm::STUB_KEY.to_owned()),
        ("GEMINI_API_URL", stub.url.clone()),
        ("TABLETALK_SQLITE_DIR", targets.path().display().to_string()),
        ("TELEGRAM_BOT_TOKEN", TEST_TOKEN.to_owned()),
        ("TELEGRAM_API_URL", fake.api_url.clone()),
        ("TABLETALK_QUESTION_INTERVAL_MS", "100".to_owned()),
        ("TABLETALK_QUESTION_BURST", "1000".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let pairs: Vec<(&str, String)> = env.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();

    // The organization: an owner, 80 web people, 20 Telegram people, the shop.
    let seeded = Instant::now();
    let state = testkit::app::state(&db, &pairs).await;
    let store = state.store.clone();
    let (owner, org) = testkit::app::org(&store, OWNER, "Acme").await;
    let database = testkit::app::shop(&state, &owner, targets.path()).await;
    let owner_credentials = services::auth::credentials::reset(&store, &owner)
        .await
        .expect("credentials");
    let mut web = Vec::new();
    for id in 1..=(WEB_PEOPLE + BOT_PEOPLE) {
        testkit::app::person(&store, id, &format!("P{id}")).await;
        services::orgs::members::add(&store, &owner, id)
            .await
            .expect("a member");
        let member = testkit::app::caller(&store, id).await;
        if id > WEB_PEOPLE {
            // Telegram questions go to the person's active database.
            services::databases::select(&state, &member, &database)
                .await
                .expect("selected");
        } else {
            web.push((
                id,
                services::auth::credentials::reset(&store, &member)
                    .await
                    .expect("credentials"),
            ));
        }
    }
    eprintln!("seeded in {:?}", seeded.elapsed());

    let ports: Vec<u16> = (0..3).map(|_| testkit::free_port()).collect();
    let mut dashboards = Vec::new();
    for port in &ports[..servers] {
        dashboards.push(spawn(&server_bin, &env, *port, false).await);
    }
    let bot_bin = PathBuf::from(env!("CARGO_BIN_EXE_bot"));
    let mut bot = spawn(&bot_bin, &env, ports[2], true).await;
    let a = dashboards[0].base.clone();
    let b = dashboards[servers - 1].base.clone();

    // A session made on one server works on the other.
    let owner_token = token(&a, &owner_credentials).await;
    let http = reqwest::Client::new();
    let (_, none_yet) = overview(&http, &b, &owner_token).await;
    assert_eq!(none_yet, 0);

    // Failed sign-ins on both servers add up: the username's limit (5)
    // holds across them.
    let victim = &web[0].1;
    let wrong = models::org::Credentials {
        username: victim.username.clone(),
        password: "not-the-password".into(),
    };
    for i in 0..services::auth::throttle::MAX_FAILURES_PER_USERNAME {
        let base = if i % 2 == 0 { &a } else { &b };
        assert_eq!(sign_in(base, &wrong).await.status(), 401);
    }
    for base in [&a, &b] {
        assert_eq!(
            sign_in(base, victim).await.status(),
            429,
            "the limit holds on {base}"
        );
    }
    // (The limit lifts after its window; the test signs the victim in directly.)
    sqlx::query("DELETE FROM login_attempts")
        .execute(store.pool())
        .await
        .expect("clear the attempts");

    // /adddb survives a restart of the bot process.
    let before = fake.sent().len();
    fake.send_text(OWNER, "Olga", "/adddb");
    fake.wait_for(OWNER, 0, Duration::from_secs(30), |s| {
        s.text.contains("What should it be called?")
    })
    .await
    .expect("asked for a name");
    fake.send_text(OWNER, "Olga", "Sales");
    let kinds = fake
        .wait_for(OWNER, 0, Duration::from_secs(30), |s| {
            s.text == "What kind of database is Sales?"
        })
        .await
        .expect("asked for the kind");
    fake.press_button(OWNER, "Olga", kinds.message_id, "adddb:kind:sqlite");
    fake.wait_for(OWNER, 0, Duration::from_secs(30), |s| {
        s.text.starts_with("Sales is SQLite.")
    })
    .await
    .expect("asked for the connection string");
    stop(bot).await;
    bot = spawn(&bot_bin, &env, ports[2], true).await;
    fake.send_text(OWNER, "Olga", "sqlite://shop.db");
    let added = fake
        .wait_for(OWNER, 0, Duration::from_secs(30), |s| {
            s.text.contains("Added Sales:")
        })
        .await
        .unwrap_or_else(|e| {
            let said: Vec<String> = fake
                .sent()
                .into_iter()
                .filter(|s| s.chat_id == OWNER)
                .map(|s| s.text)
                .collect();
            panic!("the dialogue went on after the restart ({e}): {said:#?}")
        });
    assert!(added.text.contains("Sales"), "{}", added.text);
    assert!(fake.sent().len() > before);

    // 1,000 questions: 80 web people (signed in on one server, asking on the
    // other) and 20 Telegram people, 10 each, one at a time each.
    let mut signed_in = Vec::new();
    for (i, (_, credentials)) in web.iter().enumerate() {
        let (sign_on, ask_on) = if i % 2 == 0 { (&a, &b) } else { (&b, &a) };
        signed_in.push((token(sign_on, credentials).await, ask_on.clone()));
    }
    let started = Instant::now();
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let watching = {
        let (http, bases, token) = (
            http.clone(),
            vec![a.clone(), b.clone()],
            owner_token.clone(),
        );
        let done = done.clone();
        // The owner's dashboard while it runs: the costs overview on both servers.
        tokio::spawn(async move {
            let mut latencies = Vec::new();
            while !done.load(std::sync::atomic::Ordering::SeqCst) {
                for base in &bases {
                    latencies.push(overview(&http, base, &token).await.0);
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            latencies
        })
    };
    let mut askers = Vec::new();
    for (token, ask_on) in signed_in {
        let database = database.clone();
        let http = http.clone();
        askers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            for _ in 0..QUESTIONS_EACH {
                let asked = Instant::now();
                let text = testkit::server::ask_stream(
                    &http,
                    &ask_on,
                    &token,
                    "What do the orders total?",
                    Some(database.as_str()),
                )
                .await
                .text()
                .await
                .expect("the stream ends");
                assert!(text.contains("\"answered\""), "{text}");
                latencies.push(asked.elapsed());
            }
            (latencies, Instant::now())
        }));
    }
    let mut chats = Vec::new();
    for id in (WEB_PEOPLE + 1)..=(WEB_PEOPLE + BOT_PEOPLE) {
        let (fake, store) = (fake.clone(), store.clone());
        chats.push(tokio::spawn(async move {
            for k in 1..=QUESTIONS_EACH as i64 {
                fake.send_text(id, &format!("P{id}"), "What do the orders total?");
                let deadline = Instant::now() + Duration::from_secs(180);
                while count(
                    &store,
                    "SELECT COUNT(*) FROM conversations WHERE user_id = $1",
                    Some(id),
                )
                .await
                    < k
                {
                    assert!(
                        Instant::now() < deadline,
                        "person {id}'s question {k} was not answered"
                    );
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }));
    }
    for chat in chats {
        chat.await.expect("a Telegram person");
    }
    let mut ask_latencies = Vec::new();
    let mut web_done = started;
    for asker in askers {
        let (latencies, done) = asker.await.expect("an asker");
        ask_latencies.extend(latencies);
        web_done = web_done.max(done);
    }
    let web_elapsed = web_done - started;
    let elapsed = started.elapsed();
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    let mut dashboard_latencies = watching.await.expect("the dashboard watcher");
    let total = (WEB_PEOPLE + BOT_PEOPLE) as usize * QUESTIONS_EACH;

    // Exactly once each, by channel; every one answered.
    assert_eq!(
        count(&store, "SELECT COUNT(*) FROM conversations", None).await,
        total as i64
    );
    assert_eq!(
        count(
            &store,
            "SELECT COUNT(*) FROM conversations WHERE channel = 'web'",
            None
        )
        .await,
        WEB_PEOPLE * QUESTIONS_EACH as i64
    );
    assert_eq!(
        count(
            &store,
            "SELECT COUNT(*) FROM conversations WHERE status <> 'answered'",
            None
        )
        .await,
        0
    );
    assert_eq!(
        count(&store, "SELECT COUNT(*) FROM questions_in_flight", None).await,
        0
    );
    let range = models::DayRange::all();
    testkit::raw::assert_rollups_match(&state, &owner, &org, range, "several processes").await;
    // Both servers answer the same, current figure; one more question on
    // one server shows on the other at once.
    let (_, on_a) = overview(&http, &a, &owner_token).await;
    let (_, on_b) = overview(&http, &b, &owner_token).await;
    assert_eq!((on_a, on_b), (total as i64, total as i64));
    let text =
        testkit::server::ask_stream(&http, &a, &owner_token, "And now?", Some(database.as_str()))
            .await
            .text()
            .await
            .expect("stream");
    assert!(text.contains("\"answered\""), "{text}");
    assert_eq!(overview(&http, &b, &owner_token).await.1, total as i64 + 1);

    ask_latencies.sort();
    dashboard_latencies.sort();
    let p =
        |v: &[Duration], q: f64| v[((v.len() as f64 * q).ceil() as usize).clamp(1, v.len()) - 1];
    let ms = |d: Duration| d.as_secs_f64() * 1_000.0;
    eprintln!(
        "several processes: {servers} server(s) + 1 bot on PostgreSQL: {total} questions in {:.1} s = \
         {:.1} questions/s (the {} web ones done after {:.1} s = {:.1}/s; the Telegram ones wait on \
         the Bot API's rate limits); Ask endpoint (whole answer) p50 {:.1} ms, p99 {:.1} ms ({} web questions); \
         GET /dashboard/costs/overview meanwhile p50 {:.1} ms, p99 {:.1} ms ({} requests)",
        elapsed.as_secs_f64(),
        total as f64 / elapsed.as_secs_f64(),
        ask_latencies.len(),
        web_elapsed.as_secs_f64(),
        ask_latencies.len() as f64 / web_elapsed.as_secs_f64(),
        ms(p(&ask_latencies, 0.5)),
        ms(p(&ask_latencies, 0.99)),
        ask_latencies.len(),
        ms(p(&dashboard_latencies, 0.5)),
        ms(p(&dashboard_latencies, 0.99)),
        dashboard_latencies.len(),
    );
    for process in dashboards {
        stop(process).await;
    }
    stop(bot).await;
}
