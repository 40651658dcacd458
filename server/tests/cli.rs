//! The operator commands, run as the real binary against a fresh store.

use secrecy::SecretString;
use std::io::Write;
use std::process::{Command, Output, Stdio};

struct Run {
    _dir: tempfile::TempDir,
    url: String,
}

impl Run {
    fn new() -> Run {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!("sqlite://{}/tt.db", dir.path().display());
        Run { _dir: dir, url }
    }

    fn server(&self, args: &[&str], stdin: &str) -> Output {
        let mut child = Command::new(env!("CARGO_BIN_EXE_server"))
            .args(args)
            .env("DATABASE_URL", &self.url)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the server binary runs");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(stdin.as_bytes())
            .expect("write stdin");
        child.wait_with_output().expect("finishes")
    }
}

fn field(stdout: &str, name: &str) -> String {
    stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix(&format!("{name}: ")))
        .unwrap_or_else(|| panic!("no {name} in {stdout}"))
        .to_owned()
}

async fn signs_in(url: &str, username: &str, password: &str) -> models::auth::LoginResponse {
    let store = services::Store::connect(&SecretString::from(url.to_owned()))
        .await
        .expect("store opens");
    let request = models::auth::LoginRequest {
        username: username.into(),
        password: password.into(),
    };
    services::auth::login(&store, &request, None)
        .await
        .expect("the printed credentials sign in")
}

#[tokio::test]
async fn create_org_and_add_member_print_working_credentials() {
    let run = Run::new();
    let out = run.server(
        &[
            "create-org",
            "Acme <Ltd>",
            "--owner",
            "4242",
            "--owner-name",
            "Olga",
        ],
        "",
    );
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("Created the organization \"Acme <Ltd>\" (org_"),
        "{stdout}"
    );
    let org_id = stdout
        .split("(org_")
        .nth(1)
        .and_then(|rest| rest.split(')').next())
        .map(|hex| format!("org_{hex}"))
        .expect("an org id");
    let owner = signs_in(
        &run.url,
        &field(&stdout, "username"),
        &field(&stdout, "password"),
    )
    .await;
    assert_eq!(owner.role, models::Role::Owner);
    assert_eq!(owner.org_id.as_deref(), Some(org_id.as_str()));

    let out = run.server(&["add-member", &org_id, "5151", "--name", "Max"], "");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let member = signs_in(
        &run.url,
        &field(&stdout, "username"),
        &field(&stdout, "password"),
    )
    .await;
    assert_eq!(member.role, models::Role::Member);
    assert!(field(&stdout, "username").starts_with("max-"));

    // Refusals are clear and exit non-zero.
    let again = run.server(&["add-member", &org_id, "5151"], "");
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("already a member"));
    let unknown = run.server(&["add-member", "org_ffffffffffffffff", "6161"], "");
    assert!(
        String::from_utf8_lossy(&unknown.stderr).contains("no organization org_ffffffffffffffff")
    );
    let empty = run.server(&["create-org", "  ", "--owner", "7171"], "");
    assert!(String::from_utf8_lossy(&empty.stderr).contains("organization name cannot be empty"));
    let twice = run.server(&["create-org", "Other", "--owner", "4242"], "");
    assert!(String::from_utf8_lossy(&twice.stderr).contains("already belong to an organization"));
}

#[tokio::test]
async fn create_user_reads_the_password_from_stdin() {
    let run = Run::new();
    let out = run.server(&["create-user", "Operator"], "a long enough password\n");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("Created the dashboard user operator"));
    let answer = signs_in(&run.url, "operator", "a long enough password").await;
    assert_eq!(answer.role, models::Role::Individual);

    let short = run.server(&["create-user", "other"], "short\n");
    assert_eq!(short.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&short.stderr).contains("too short"));
    let none = run.server(&["create-user", "other"], "");
    assert!(String::from_utf8_lossy(&none.stderr).contains("no password on standard input"));
}

#[test]
fn generate_usage_fills_the_store() {
    let run = Run::new();
    let out = run.server(
        &[
            "generate-usage",
            "--conversations",
            "500",
            "--orgs",
            "2",
            "--users-per-org",
            "3",
            "--days",
            "10",
        ],
        "",
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("Generated 500 conversations"), "{stdout}");
    assert!(stdout.contains("for 2 organizations"), "{stdout}");
    let bad = run.server(
        &["generate-usage", "--conversations", "5", "--orgs", "0"],
        "",
    );
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--orgs must be 1 to 1000"));
}

#[test]
fn check_sql_prints_the_verdict_and_exits_accordingly() {
    let run = Run::new();
    let ok = run.server(
        &["check-sql", "--kind", "postgres"],
        "  SELECT region, SUM(total) FROM orders GROUP BY region;\n",
    );
    assert_eq!(ok.status.code(), Some(0));
    // The verdict, then exactly what the engine would be sent.
    assert_eq!(
        String::from_utf8_lossy(&ok.stdout),
        "allowed\nSELECT region, SUM(total) FROM orders GROUP BY region\n"
    );
    // Found by reading: the re-printed form of this string closed early on SQL Server.
    let hostile = run.server(
        &["check-sql", "--kind", "mssql"],
        r"SELECT 'x\''; DROP TABLE orders; COMMIT; --'",
    );
    assert_eq!(
        String::from_utf8_lossy(&hostile.stdout),
        "allowed\nSELECT 'x\\''; DROP TABLE orders; COMMIT; --'\n",
        "one string literal, sent as written"
    );
    let bad = run.server(
        &["check-sql", "--kind", "mysql"],
        "SELECT 1; DROP TABLE orders",
    );
    assert_eq!(bad.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&bad.stdout).trim(),
        "refused: exactly one statement is allowed, found 2"
    );
    let unknown = run.server(&["check-sql", "--kind", "oracle"], "SELECT 1");
    assert_eq!(unknown.status.code(), Some(2));
}

/// `server ask` runs the whole pipeline from a terminal: the stub LLM in this
/// process, a SQLite sample database added for the user through the services.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ask_answers_from_the_terminal_as_text_and_json() {
    use testkit::llm::{StubLlm, STUB_KEY};
    let db = testkit::db::TestDb::sqlite();
    let targets = tempfile::tempdir().expect("tempdir");
    let stub = StubLlm::start().await.expect("stub");
    let env = vec![
        ("TABLETALK_SQLITE_DIR", targets.path().display().to_string()),
        ("GEMINI_API_KEY", STUB_KEY.to_owned()),
        ("GEMINI_API_URL", stub.url.clone()),
    ];
    let state = testkit::app::state(&db, &env).await;
    let person = testkit::app::person(&state.store, 42, "Ada").await;
    let database = testkit::app::shop(&state, &person, targets.path()).await;
    state.store.close().await;
    stub.answer_with(
        "SELECT COUNT(*) AS orders, SUM(total) AS total FROM orders",
        "There are 3 orders worth 37.75 in all.",
    );
    let run = |args: &[&str]| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_server"));
        command
            .args(args)
            .env("DATABASE_URL", &db.url)
            .env("TABLETALK_SECRET_KEY", testkit::db::TEST_SECRET_KEY)
            // Every log line the program writes: none may reach stdout, where
            // `--json` prints one JSON object (issue 29, finding 14; fails on
            // the old code, which logged to stdout).
            .env("RUST_LOG", "debug");
        for (name, value) in &env {
            command.env(name, value);
        }
        tokio::task::block_in_place(|| command.output().expect("runs"))
    };

    let out = run(&[
        "ask",
        "--user",
        "42",
        "How many orders, and worth how much?",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.starts_with("There are 3 orders worth 37.75 in all.\n"),
        "{stdout}"
    );
    assert!(stdout.contains("SELECT COUNT(*) AS orders, SUM(total) AS total FROM orders"));
    assert!(stdout.contains("orders | total\n3 | 37.75\n"), "{stdout}");
    assert!(
        stdout.contains("Analysis | gemini-2.5-flash | 3127 | 1024 | 212 | 845 | $"),
        "{stdout}"
    );
    assert!(
        stdout.contains("SQL Response | gemini-2.5-flash-lite |"),
        "{stdout}"
    );

    let out = run(&[
        "ask",
        "--user",
        "42",
        "--database",
        database.as_str(),
        "--json",
        "How many orders?",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let answer: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    assert_eq!(answer["status"], "answered");
    assert_eq!(answer["stages"].as_array().map(Vec::len), Some(2));
    assert_eq!(answer["result"]["rows"].as_array().map(Vec::len), Some(1));

    // A dry run asks nothing and prints the prompt's pruned schema and size.
    let calls = stub.received().len();
    let out = run(&[
        "ask",
        "--user",
        "42",
        "--dry-run",
        "--json",
        "Total of the orders?",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let preview: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    assert_eq!(preview["tables"], serde_json::json!(["orders"]));
    assert_eq!(
        preview["columns"],
        serde_json::json!([["orders", "id"], ["orders", "total"]])
    );
    let tokens = |name: &str| {
        preview[name]
            .as_u64()
            .unwrap_or_else(|| panic!("{name}: {preview}"))
    };
    assert!(
        tokens("schema_tokens") > 0 && tokens("schema_tokens") <= tokens("whole_schema_tokens")
    );
    assert!(
        tokens("prompt_tokens") > tokens("schema_tokens"),
        "{preview}"
    );
    assert!(preview["prompt"]
        .as_str()
        .unwrap_or_default()
        .ends_with("Question: Total of the orders?\n"));
    assert_eq!(stub.received().len(), calls, "a dry run calls no model");

    // Someone without a database is told what to do, and nothing is asked.
    let calls = stub.received().len();
    let out = run(&["ask", "--user", "7", "How many orders?"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("Choose a database first"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stub.received().len(), calls);
}

/// A backup made while the store is open elsewhere (a running server) has
/// everything committed; a restore is refused while any process has the
/// store open, and afterwards puts the backup in place and keeps the
/// replaced store.
#[tokio::test]
async fn backup_while_running_and_restore_only_when_stopped() {
    let run = Run::new();
    let url = SecretString::from(run.url.clone());
    let running = services::Store::connect(&url).await.expect("store opens");
    services::operator::create_org(&running, "Before", 1, Some("Olga"))
        .await
        .expect("an organization");
    let dir = tempfile::tempdir().expect("tempdir");
    let copy = dir.path().join("copy.db");
    let copy_arg = copy.display().to_string();

    let out = run.server(&["backup", &copy_arg], "");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("Backed up the store"), "{stdout}");
    let again = run.server(&["backup", &copy_arg], "");
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));

    // Written after the backup: the restore takes it away again.
    services::operator::create_org(&running, "After", 2, Some("Mia"))
        .await
        .expect("another organization");
    let refused = run.server(&["restore", &copy_arg], "");
    assert!(!refused.status.success());
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(
        said.contains("open in a running Tabletalk process"),
        "{said}"
    );
    let junk = dir.path().join("junk.db");
    std::fs::write(&junk, b"not a database").expect("junk");
    let bad = run.server(&["restore", &junk.display().to_string()], "");
    assert!(String::from_utf8_lossy(&bad.stderr).contains("is not a SQLite file"));

    running.close().await;
    drop(running);
    let restored = run.server(&["restore", &copy_arg], "");
    let stdout = String::from_utf8_lossy(&restored.stdout);
    assert!(
        restored.status.success(),
        "{}",
        String::from_utf8_lossy(&restored.stderr)
    );
    assert!(stdout.contains("kept as"), "{stdout}");
    let store = services::Store::connect(&url).await.expect("store opens");
    let names: Vec<String> = sqlx::query_scalar("SELECT name FROM organizations ORDER BY name")
        .fetch_all(store.pool())
        .await
        .expect("names");
    assert_eq!(names, ["Before"]);
}

/// `server config check`: every bad variable named with what it must be
/// (exit 2), an unknown TABLETALK_ variable warned about, and with a good
/// configuration exit 0 and no secret in the output.
#[test]
fn config_check_names_every_problem_and_prints_no_secret() {
    let check = |env: &[(&str, &str)]| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_server"));
        command
            .args(["config", "check"])
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .current_dir(std::env::temp_dir());
        for (k, v) in env {
            command.env(k, v);
        }
        command.output().expect("runs")
    };
    let bad = check(&[
        ("TABLETALK_QUERY_TIMEOUT_SECS", "forever"),
        ("TELEGRAM_WEBHOOK_URL", "http://bot.example.com/hook"),
        ("TABLETALK_QUERY_ROW_LIMT", "10"),
    ]);
    assert_eq!(bad.status.code(), Some(2));
    let said = String::from_utf8_lossy(&bad.stderr);
    assert!(said.contains("2 problems"), "{said}");
    assert!(said.contains("TABLETALK_QUERY_TIMEOUT_SECS:"), "{said}");
    assert!(
        said.contains("TELEGRAM_WEBHOOK_URL: must be an https://"),
        "{said}"
    );
    let out = String::from_utf8_lossy(&bad.stdout);
    assert!(
        out.contains("TABLETALK_QUERY_ROW_LIMT is set but is not a Tabletalk setting"),
        "{out}"
    );

    let dir = tempfile::tempdir().expect("tempdir");
    let secrets = [
        "postgres-password-123",
        "123456:telegram-token-abc",
        "gemini-key-xyz",
        "webhook-secret-789",
    ];
    let good = check(&[
        (
            "DATABASE_URL",
            &format!("postgres://tt:{}@db.example.com/tt", secrets[0]),
        ),
        ("TELEGRAM_BOT_TOKEN", secrets[1]),
        ("GEMINI_API_KEY", secrets[2]),
        ("TELEGRAM_WEBHOOK_URL", "https://bot.example.com/hook"),
        ("TELEGRAM_WEBHOOK_SECRET", secrets[3]),
        (
            "TABLETALK_SECRET_KEY",
            "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
        ),
        ("TABLETALK_DATA_DIR", &dir.path().display().to_string()),
    ]);
    let out = String::from_utf8_lossy(&good.stdout).into_owned();
    assert!(
        good.status.success(),
        "{out}{}",
        String::from_utf8_lossy(&good.stderr)
    );
    assert!(
        out.contains("webhook mode: Telegram posts to https://bot.example.com/hook"),
        "{out}"
    );
    assert!(out.contains("db.example.com"), "{out}");
    assert!(out.contains("good for the server and the bot"), "{out}");
    for secret in secrets {
        assert!(!out.contains(secret), "{secret} printed:\n{out}");
    }
}

/// What the real binary needs to answer questions: the stub as Gemini, the
/// users' SQLite folder, the test key for stored connection strings.
fn stub_env(
    stub: &testkit::llm::StubLlm,
    targets: &std::path::Path,
) -> Vec<(&'static str, String)> {
    vec![
        ("GEMINI_API_KEY", testkit::llm::STUB_KEY.to_owned()),
        ("GEMINI_API_URL", stub.url.clone()),
        ("TABLETALK_SQLITE_DIR", targets.display().to_string()),
        (
            "TABLETALK_SECRET_KEY",
            testkit::db::TEST_SECRET_KEY.to_owned(),
        ),
    ]
}

/// The real server binary on a free port over the store `db_url`, configured
/// by `env` and `more`; returns once `/healthz` answers, with its address.
async fn start_server(
    db_url: &str,
    env: &[(&str, String)],
    more: &[(&str, &str)],
) -> (tokio::process::Child, String) {
    let port = testkit::free_port();
    let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_server"))
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .envs(more.iter().copied())
        .env("DATABASE_URL", db_url)
        .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
        .env("TABLETALK_DEMO", "0")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("the server starts");
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    for _ in 0..300 {
        if http.get(format!("{base}/healthz")).send().await.is_ok() {
            return (child, base);
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the server does not answer /healthz");
}

fn sigterm(child: &tokio::process::Child) {
    let pid = child.id().expect("a pid").to_string();
    let sent = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill runs");
    assert!(sent.success());
}

/// Signs in over HTTP: the session token.
async fn token(base: &str, credentials: &models::org::Credentials) -> String {
    let body: serde_json::Value = reqwest::Client::new()
        .post(format!("{base}/dashboard/login"))
        .json(&serde_json::json!({"username": credentials.username, "password": credentials.password}))
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("json");
    body["token"].as_str().expect("a token").to_owned()
}

/// A journey on the real binary with JSON logs at debug level (a failed and
/// a good sign-in, a question through the stub model on a SQLite database,
/// SIGTERM): every log line is JSON; the lines of the model's calls and of
/// the query carry the HTTP request's id (the `x-request-id` the client got)
/// and one question id; no password, token or key the journey used appears
/// anywhere in what the process wrote.
#[tokio::test]
async fn a_journeys_json_logs_carry_its_request_id_and_no_secret() {
    use testkit::llm::{StubLlm, STUB_KEY};
    const BOT_TOKEN: &str = "123456:journey-bot-token-never-logged";
    const WRONG_PASSWORD: &str = "wrong-password-never-logged";
    let stub = StubLlm::start().await.expect("stub");
    stub.answer_with(
        "SELECT SUM(total) AS total FROM orders",
        "The orders total 37.75.",
    );
    let db = testkit::db::TestDb::sqlite();
    let targets = tempfile::tempdir().expect("tempdir");
    let mut env = stub_env(&stub, targets.path());
    env.extend([("TELEGRAM_BOT_TOKEN", BOT_TOKEN.to_owned())]);
    let state = testkit::app::state(&db, &env).await;
    let (owner, _) = testkit::app::org(&state.store, 1001, "Acme").await;
    let database = testkit::app::shop(&state, &owner, targets.path()).await;
    let credentials = services::auth::credentials::reset(&state.store, &owner)
        .await
        .expect("credentials");
    state.store.close().await;
    drop(state);

    let (child, base) = start_server(
        &db.url,
        &env,
        &[("TABLETALK_LOG_FORMAT", "json"), ("RUST_LOG", "debug")],
    )
    .await;
    let http = reqwest::Client::new();

    let wrong = http
        .post(format!("{base}/dashboard/login"))
        .json(&serde_json::json!({"username": credentials.username, "password": WRONG_PASSWORD}))
        .send()
        .await
        .expect("login");
    assert_eq!(wrong.status(), 401);
    let token = token(&base, &credentials).await;
    let asked = testkit::server::ask_stream(
        &http,
        &base,
        &token,
        "What do the orders total?",
        Some(database.as_str()),
    )
    .await;
    let request_id = asked
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .expect("a request id")
        .to_owned();
    let events = asked.text().await.expect("the stream ends");
    assert!(events.contains("37.75"), "{events}");

    sigterm(&child);
    let out = tokio::time::timeout(std::time::Duration::from_secs(60), child.wait_with_output())
        .await
        .expect("the server stops on SIGTERM")
        .expect("output");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let log = format!("{stdout}{stderr}");

    let lines: Vec<serde_json::Value> = log
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(lines.len() > 20, "debug logging is on: {log}");
    // The only lines that are not JSON are what the binary prints for people.
    for line in log.lines().filter(|l| !l.starts_with('{')) {
        assert!(line.starts_with("Tabletalk is running at"), "{line}");
    }
    let ids_of = |message: &str| -> Vec<(String, String)> {
        lines
            .iter()
            .filter(|l| l["fields"]["message"] == message)
            .map(|l| {
                let spans = l["spans"].as_array().cloned().unwrap_or_default();
                let field = |name: &str| {
                    spans
                        .iter()
                        .find_map(|s| s[name].as_str().map(str::to_owned))
                        .unwrap_or_default()
                };
                (field("request_id"), field("question_id"))
            })
            .collect()
    };
    let calls = ids_of("language model call");
    let queries = ids_of("target query");
    assert_eq!(calls.len(), 2, "analysis and answer: {log}");
    assert_eq!(queries.len(), 1, "{log}");
    let question_id = &calls[0].1;
    assert_eq!(question_id.len(), 16, "{log}");
    for (request, question) in calls.iter().chain(&queries) {
        assert_eq!(request, &request_id);
        assert_eq!(question, question_id);
    }
    assert!(log.contains("\"stopped\""), "a clean stop is logged: {log}");

    for secret in [
        credentials.password.as_str(),
        WRONG_PASSWORD,
        token.as_str(),
        STUB_KEY,
        testkit::db::TEST_SECRET_KEY,
        BOT_TOKEN,
    ] {
        assert!(!log.contains(secret), "{secret} reached the log:\n{log}");
    }
}

/// SIGTERM mid-question on the real binary (grace period 4 s): the server
/// stops accepting connections at once; a question that ends within the
/// grace period is answered and recorded; one still waiting on the model
/// when it ends is answered "interrupted" and recorded so, with the call it
/// was waiting on (no usage); nothing is left in flight; the rollups equal
/// the raw rows; the process exits 0.
#[tokio::test]
async fn sigterm_finishes_quick_questions_and_records_slow_ones_as_interrupted() {
    use testkit::llm::{Scripted, StubLlm};
    let stub = StubLlm::start().await.expect("stub");
    stub.rule(|received| {
        let (_, input) = received.texts();
        if !received.asks_for("intent") {
            return Scripted::answer("The orders total 37.75.");
        }
        let analysis =
            serde_json::json!({"intent": "data", "sql": "SELECT SUM(total) AS total FROM orders"});
        Scripted::Slow {
            delay: if input.contains("slowly") {
                std::time::Duration::from_secs(120)
            } else {
                std::time::Duration::from_millis(1500)
            },
            then: Box::new(Scripted::answer(analysis.to_string())),
        }
    });
    let db = testkit::db::TestDb::sqlite();
    let targets = tempfile::tempdir().expect("tempdir");
    let mut env = stub_env(&stub, targets.path());
    env.extend([("TABLETALK_SHUTDOWN_GRACE_SECS", "4".to_owned())]);
    let state = testkit::app::state(&db, &env).await;
    let mut people = Vec::new();
    for (id, name) in [(1001, "Quick"), (2002, "Slow")] {
        let (owner, org) = testkit::app::org(&state.store, id, name).await;
        let database = testkit::app::shop(&state, &owner, targets.path()).await;
        let credentials = services::auth::credentials::reset(&state.store, &owner)
            .await
            .expect("credentials");
        people.push((owner, org, database, credentials));
    }
    let (child, base) = start_server(&db.url, &env, &[("RUST_LOG", "info")]).await;

    let mut asks = Vec::new();
    for ((_, _, database, credentials), question) in people.iter().zip([
        "What do the orders total?",
        "What do the orders total, slowly?",
    ]) {
        let token = token(&base, credentials).await;
        let (base, database) = (base.clone(), database.clone());
        asks.push(tokio::spawn(async move {
            let http = reqwest::Client::new();
            testkit::server::ask_stream(&http, &base, &token, question, Some(database.as_str()))
                .await
                .text()
                .await
                .expect("the stream ends")
        }));
    }
    for _ in 0..100 {
        if stub.received().len() >= 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    if stub.received().len() < 2 {
        let mut said = Vec::new();
        for ask in asks {
            said.push(ask.await.expect("stream"));
        }
        panic!("both questions should wait on the model: {said:?}");
    }
    let signalled = std::time::Instant::now();
    sigterm(&child);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(
        reqwest::get(format!("{base}/healthz")).await.is_err(),
        "no new connections once stopping"
    );
    let slow = asks.pop().expect("slow").await.expect("slow stream");
    let quick = asks.pop().expect("quick").await.expect("quick stream");
    assert!(
        quick.contains("\"answered\"") && quick.contains("37.75"),
        "{quick}"
    );
    assert!(slow.contains("\"interrupted\""), "{slow}");
    assert!(slow.contains("ask it again"), "{slow}");
    let out = tokio::time::timeout(std::time::Duration::from_secs(30), child.wait_with_output())
        .await
        .expect("the server stops")
        .expect("output");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let took = signalled.elapsed();
    assert!(
        took >= std::time::Duration::from_secs(4),
        "the grace period was waited for: {took:?}"
    );

    let store = testkit::app::store(&db).await;
    let recorded: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT o.name, c.status, (SELECT COUNT(*) FROM conversation_stages s          WHERE s.conversation_id = c.conversation_id) FROM conversations c          JOIN organizations o ON o.org_id = c.org_id ORDER BY o.name",
    )
    .fetch_all(store.pool())
    .await
    .expect("conversations");
    assert_eq!(
        recorded,
        [
            ("Quick".to_owned(), "answered".to_owned(), 2),
            ("Slow".to_owned(), "interrupted".to_owned(), 1)
        ]
    );
    let (tokens, error): (i64, Option<String>) = sqlx::query_as(
        "SELECT s.input_tokens + s.output_tokens, s.error FROM conversation_stages s          JOIN conversations c ON c.conversation_id = s.conversation_id WHERE c.status = 'interrupted'",
    )
    .fetch_one(store.pool())
    .await
    .expect("the interrupted call");
    assert_eq!(tokens, 0);
    assert!(error.is_some_and(|e| e.contains("Interrupted")));
    let in_flight: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM questions_in_flight")
        .fetch_one(store.pool())
        .await
        .expect("count");
    assert_eq!(in_flight, 0);
    let state = testkit::app::state(&db, &env).await;
    let today = models::Day::of_unix(services::clock::now());
    for (owner, org, _, _) in &people {
        let range = models::DayRange::between(today, today);
        testkit::raw::assert_rollups_match(&state, owner, org, range, org.as_str()).await;
    }
}

/// kill -9 while questions are being recorded (20 people asking in a loop on
/// the real binary): after a restart on the same store, the store is whole
/// (SQLite's integrity check), every recorded question has its calls, the
/// rollups equal the raw rows to the unit, and a person whose question was
/// in flight when the process died may ask again within seconds.
#[tokio::test]
async fn after_kill_9_mid_recording_the_store_is_consistent() {
    use testkit::llm::{Scripted, StubLlm};
    let stub = StubLlm::start().await.expect("stub");
    stub.rule(|received| {
        let reply = if received.asks_for("intent") {
            Scripted::answer(
                serde_json::json!({"intent": "data", "sql": "SELECT SUM(total) AS total FROM orders"})
                    .to_string(),
            )
        } else {
            Scripted::answer("The orders total 37.75.")
        };
        Scripted::Slow {
            delay: std::time::Duration::from_millis(20),
            then: Box::new(reply),
        }
    });
    let db = testkit::db::TestDb::sqlite();
    let targets = tempfile::tempdir().expect("tempdir");
    let mut env = stub_env(&stub, targets.path());
    env.extend([
        // Each person asks as fast as their answers come.
        ("TABLETALK_QUESTION_INTERVAL_MS", "100".to_owned()),
        ("TABLETALK_QUESTION_BURST", "1000".to_owned()),
    ]);
    let state = testkit::app::state(&db, &env).await;
    let (owner, org) = testkit::app::org(&state.store, 1000, "Acme").await;
    let database = testkit::app::shop(&state, &owner, targets.path()).await;
    let mut people = Vec::new();
    for id in 1001..1021 {
        testkit::app::person(&state.store, id, &format!("P{id}")).await;
        services::orgs::members::add(&state.store, &owner, id)
            .await
            .expect("a member");
        let member = testkit::app::caller(&state.store, id).await;
        people.push(
            services::auth::credentials::reset(&state.store, &member)
                .await
                .expect("credentials"),
        );
    }
    let (mut child, base) = start_server(&db.url, &env, &[("RUST_LOG", "warn")]).await;
    let mut askers = Vec::new();
    for credentials in &people {
        let token = token(&base, credentials).await;
        let (base, database) = (base.clone(), database.clone());
        askers.push(tokio::spawn(async move {
            let http = reqwest::Client::new();
            // Until the server is killed: any failure ends this asker.
            loop {
                let Ok(started) = http
                    .post(format!("{base}/dashboard/ask/start"))
                    .bearer_auth(&token)
                    .json(&serde_json::json!({
                        "question": "What do the orders total?",
                        "database_id": database.as_str(),
                    }))
                    .send()
                    .await
                else {
                    return;
                };
                let Ok(ticket) = started.json::<String>().await else {
                    return;
                };
                let Ok(response) = http
                    .get(format!("{base}/dashboard/ask/stream?ticket={ticket}"))
                    .bearer_auth(&token)
                    .send()
                    .await
                else {
                    return;
                };
                if response.text().await.is_err() {
                    return;
                }
            }
        }));
    }
    // Wait until questions are being recorded, then kill the process outright.
    let store = testkit::app::store(&db).await;
    let count = || async {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM conversations")
            .fetch_one(store.pool())
            .await
            .expect("count")
    };
    for _ in 0..200 {
        if count().await >= 40 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    child.start_kill().expect("SIGKILL");
    child.wait().await.expect("killed");
    for asker in askers {
        let _ = asker.await;
    }
    let killed = std::time::Instant::now();
    let recorded = count().await;
    assert!(recorded >= 40, "questions were being recorded: {recorded}");
    let stranded: Vec<i64> = sqlx::query_scalar("SELECT user_id FROM questions_in_flight")
        .fetch_all(store.pool())
        .await
        .expect("in flight");
    assert!(
        !stranded.is_empty(),
        "questions were in flight when it died"
    );

    let (child, base) = start_server(&db.url, &env, &[("RUST_LOG", "warn")]).await;
    // The dead process's questions in flight do not hold their people up
    // once it has been silent for DEAD_AFTER_SECS.
    let wait = std::time::Duration::from_secs(
        u64::try_from(services::ask::limits::DEAD_AFTER_SECS + 1).unwrap_or(16),
    );
    tokio::time::sleep(wait.saturating_sub(killed.elapsed())).await;
    let person = usize::try_from(stranded[0] - 1001).expect("one of the people");
    let token = token(&base, &people[person]).await;
    let http = reqwest::Client::new();
    let asked = testkit::server::ask_stream(
        &http,
        &base,
        &token,
        "What do the orders total?",
        Some(database.as_str()),
    )
    .await
    .text()
    .await
    .expect("the stream ends");
    assert!(asked.contains("\"answered\""), "{asked}");
    let integrity: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(store.pool())
        .await
        .expect("integrity check");
    assert_eq!(integrity, "ok");
    let without_calls: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM conversations c WHERE NOT EXISTS \
         (SELECT 1 FROM conversation_stages s WHERE s.conversation_id = c.conversation_id)",
    )
    .fetch_one(store.pool())
    .await
    .expect("count");
    assert_eq!(without_calls, 0);
    let today = models::Day::of_unix(services::clock::now());
    testkit::raw::assert_rollups_match(
        &state,
        &owner,
        &org,
        models::DayRange::between(today, today),
        "after kill -9",
    )
    .await;
    sigterm(&child);
}

/// A store that cannot be reached at start: the process stops at once with
/// the reason and the store's address (without its password), exit 1.
#[test]
fn an_unreachable_store_stops_the_start_with_the_reason() {
    let port = testkit::free_port();
    let started = std::time::Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_server"))
        .env(
            "DATABASE_URL",
            format!("postgres://tt:hunter2secret@127.0.0.1:{port}/tabletalk"),
        )
        .env("TABLETALK_SECRET_KEY", testkit::db::TEST_SECRET_KEY)
        .env("RUST_LOG", "warn")
        .output()
        .expect("the server binary runs");
    assert_eq!(out.status.code(), Some(1));
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("could not open the store"), "{said}");
    assert!(said.contains("Connection refused"), "{said}");
    assert!(
        said.contains(&format!("127.0.0.1:{port}/tabletalk")),
        "{said}"
    );
    assert!(!said.contains("hunter2secret"), "{said}");
}

/// `server config check` prints no URL's user part (`user:pass@`, `user@`):
/// not the store's, the LLM provider's, the Bot API's or the dashboard's.
#[test]
fn config_check_shows_no_user_part_of_any_url() {
    let pairs = [
        ("DATABASE_URL", "postgres://dbuser:dbpass@db.example.com/tt"),
        (
            "TABLETALK_SECRET_KEY",
            "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
        ),
        (
            "OPENAI_BASE_URL",
            "https://llmuser:llmpass@llm.example.com/v1",
        ),
        ("TELEGRAM_API_URL", "https://tguser:tgpass@tg.example.com"),
        ("TABLETALK_PUBLIC_URL", "https://webuser@tt.example.com"),
    ];
    let config = services::Config::from_lookup(|name| {
        pairs
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| (*v).to_owned())
    })
    .expect("valid");
    let shown = server::cli::describe_config(&config);
    for secret in [
        "dbuser", "dbpass", "llmuser", "llmpass", "tguser", "tgpass", "webuser",
    ] {
        assert!(!shown.contains(secret), "{secret} in:\n{shown}");
    }
    assert!(shown.contains("llm.example.com/v1"), "{shown}");
    assert!(shown.contains("tg.example.com"), "{shown}");
}
