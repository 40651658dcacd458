//! The data lifecycle (issue 27, issue 29 item 10): every table of both store
//! backends that can hold a person's id or text is read from the store's own
//! catalogue after the migrations ran, and each must be handled by
//! `/forgetme` (`privacy::forget`), retention (`retention::remove_old_text`)
//! and leaving the organization (`orgs::members::remove` / `leave`), or be
//! kept on purpose, with the reason, in [`TABLES`] below.
//!
//! "Handled" is checked by behaviour: one person, Quagga (id [`PERSON`]),
//! leaves their id, their name and a marker text ([`TEXT`]) in every such
//! table through the real service calls (a few rows the services only write
//! later, such as a sent notification, are inserted as they would be). Then
//! each operation runs on its own fresh store, and every column of every
//! table is searched: a table whose rule is `Gone` must hold none of it.
//! Retention removes text by age and keeps numbers by design, so it is
//! searched for the text only.

use models::costs::{Channel, ConversationStatus, Stage, Usage};
use models::org::{Caller, TelegramProfile};
use models::OrgId;
use services::costs::ledger::{self, NewConversation, NewStage};
use services::costs::PriceTable;
use services::{access, orgs, AppState};
use std::collections::{BTreeMap, BTreeSet};
use testkit::db::TestDb;

/// The person whose data is followed.
const PERSON: i64 = 777_000_111;
/// Their first name (lower-cased in searches: usernames are stored so).
const NAME: &str = "quagga";
/// Every text they typed or were sent contains this.
const TEXT: &str = "zebra";

/// What an operation must do with a table.
#[derive(Debug, Clone, Copy)]
enum Rule {
    /// Afterwards no row holds the person's id, name or text.
    Gone,
    /// Kept on purpose; the reason, reviewed.
    Kept(&'static str),
}
use Rule::{Gone, Kept};

struct Table {
    name: &'static str,
    forget: Rule,
    retention: Rule,
    removal: Rule,
}

const ACCOUNT: &str = "the account is not the organization's, and /forgetme keeps it (DESIGN: forgets what was asked); names come back from Telegram with every message";
const NOT_SEEDED: &str = "only an owner has these; the person here is a member, and an owner's are the organization's, deleted with it";
const AUDIT: &str = "the security record: ids, event names and counts, never what was asked";
const COSTS: &str = "the organization's record of questions and costs; the member's own /forgetme removes the text and the name";
const RATE: &str = "a rate limit's next due time (no text): cleared, it would let /forgetme or leaving skip the limit";

/// Every table that can hold a person's id or text, and what each operation
/// does with it. The test fails when the catalogue has a table this list does
/// not name, or names one the catalogue does not have.
const TABLES: &[Table] = &[
    Table { name: "telegram_users", forget: Kept(ACCOUNT), retention: Gone, removal: Kept(ACCOUNT) },
    Table { name: "organizations", forget: Kept(NOT_SEEDED), retention: Kept(NOT_SEEDED), removal: Kept(NOT_SEEDED) },
    Table { name: "invitations", forget: Kept(NOT_SEEDED), retention: Kept(NOT_SEEDED), removal: Kept(NOT_SEEDED) },
    Table {
        name: "organization_members",
        forget: Kept("membership stays after /forgetme; /leave ends it"),
        retention: Gone,
        removal: Gone,
    },
    Table {
        name: "invitation_uses",
        forget: Kept("which code admitted them (ids and a time): it counts the code's uses"),
        retention: Gone,
        removal: Kept("the code's uses stay counted, or a used-up code would open again"),
    },
    Table {
        name: "dashboard_users",
        forget: Kept("the dashboard sign-in stays with the membership; /leave ends it"),
        retention: Gone,
        removal: Kept("switched off (is_active) and its sessions ended; the row keeps the username, reused on rejoining"),
    },
    Table { name: "rate_limits", forget: Kept(RATE), retention: Gone, removal: Kept(RATE) },
    Table {
        name: "sessions",
        forget: Kept("sessions of the sign-in that stays"),
        retention: Gone,
        removal: Gone,
    },
    Table {
        name: "login_attempts",
        forget: Kept("sign-in throttling by username and address, pruned by the session housekeeping"),
        retention: Kept("sign-in throttling, pruned by the session housekeeping"),
        removal: Kept("sign-in throttling, pruned by the session housekeeping"),
    },
    Table { name: "audit_log", forget: Kept(AUDIT), retention: Kept(AUDIT), removal: Kept(AUDIT) },
    Table {
        name: "database_connections",
        forget: Gone,
        retention: Kept("a database's name is the owner's label for it: it goes with the database, not with age"),
        removal: Kept("personal databases stay the person's after leaving"),
    },
    Table { name: "conversations", forget: Gone, retention: Gone, removal: Kept(COSTS) },
    Table { name: "conversation_stages", forget: Gone, retention: Gone, removal: Kept(COSTS) },
    Table { name: "usage_daily", forget: Gone, retention: Gone, removal: Kept(COSTS) },
    Table { name: "usage_daily_user", forget: Gone, retention: Gone, removal: Kept(COSTS) },
    Table {
        name: "outbox",
        forget: Kept("others' notifications naming them (\u{201c}Quagga joined\u{201d}) are the recipients'; all of the person's own, sent ones too, are deleted (asserted below)"),
        retention: Gone,
        removal: Kept("the person's notifications, the removal's own notice among them, go to them"),
    },
    Table { name: "question_rate", forget: Kept(RATE), retention: Gone, removal: Kept(RATE) },
    Table {
        name: "questions_in_flight",
        forget: Gone,
        retention: Gone,
        removal: Kept("a question in flight ends by itself within its time limit"),
    },
    Table {
        name: "memory_turns",
        forget: Gone,
        retention: Gone,
        removal: Kept("turns with their personal databases; an organization database's expire in 5 minutes"),
    },
    Table {
        name: "emails",
        forget: Gone,
        retention: Gone,
        removal: Kept("sent and queued emails stay until retention; the organization's drafts are deleted (asserted below)"),
    },
    Table {
        name: "ask_tickets",
        forget: Gone,
        retention: Gone,
        removal: Kept("a question about to be asked lives a minute, and its database is checked again when it is taken"),
    },
    Table {
        name: "bot_dialogues",
        forget: Gone,
        retention: Gone,
        removal: Kept("a guided step in the person's private chat is theirs"),
    },
];

/// Column names that hold a person's id or their text.
const PERSON_COLUMNS: &[&str] = &[
    "user_id",
    "telegram_user_id",
    "telegram_id",
    "created_by",
    "owner_id",
    "actor_id",
    "chat_id",
    "dashboard_user_id",
    "member_id",
    "username",
    "first_name",
    "last_name",
    "email",
    "recipients",
    "ip",
    "key",
    "question",
    "user_question",
    "answer",
    "sql_text",
    "generated_sql",
    "text",
    "body",
    "subject",
    "attachment_csv",
    "error",
    "last_error",
    "detail",
    "state",
    "name",
    "description",
];

/// Every base table and its columns, from the store's catalogue.
async fn catalogue(state: &AppState) -> BTreeMap<String, Vec<String>> {
    let rows: Vec<(String, String)> = sqlx::query_as(match state.store.backend() {
        services::store::Backend::Sqlite => {
            "SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p \
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> '_sqlx_migrations'"
        }
        services::store::Backend::Postgres => {
            "SELECT CAST(c.table_name AS TEXT), CAST(c.column_name AS TEXT) FROM information_schema.columns c \
             JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name \
             WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE' \
             AND c.table_name <> '_sqlx_migrations'"
        }
    })
    .fetch_all(state.store.pool())
    .await
    .expect("the catalogue");
    let mut tables: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (table, column) in rows {
        tables.entry(table).or_default().push(column);
    }
    tables
}

/// Rows per table holding any of `needles` in any column (case-insensitive).
async fn holding(
    state: &AppState,
    tables: &BTreeMap<String, Vec<String>>,
    needles: &[String],
) -> BTreeMap<String, i64> {
    let mut found = BTreeMap::new();
    for (table, columns) in tables {
        let test = columns
            .iter()
            .flat_map(|c| {
                (1..=needles.len()).map(move |n| format!("LOWER(CAST({c} AS TEXT)) LIKE ${n}"))
            })
            .collect::<Vec<_>>()
            .join(" OR ");
        let sql = format!("SELECT COUNT(*) FROM {table} WHERE {test}");
        let mut query = sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql));
        for needle in needles {
            query = query.bind(format!("%{}%", needle.to_lowercase()));
        }
        let n = query.fetch_one(state.store.pool()).await.expect("a search");
        if n > 0 {
            found.insert(table.clone(), n);
        }
    }
    found
}

fn stage(generated_sql: &str) -> NewStage {
    NewStage {
        stage: Stage::Analysis,
        model: "gemini-2.5-flash".into(),
        usage: Usage {
            prompt_tokens: 1_000,
            cached_tokens: 0,
            candidates_tokens: 50,
            thoughts_tokens: 0,
        },
        latency_ms: 900,
        generated_sql: Some(generated_sql.into()),
        error: None,
    }
}

struct Seeded {
    state: AppState,
    owner: Caller,
    person: Caller,
    org_id: OrgId,
    _targets: tempfile::TempDir,
}

/// The organization Acme (owner 1) and Quagga, a member, who leaves their
/// id, name and text everywhere a person can.
async fn seed(db: &TestDb) -> Seeded {
    let targets = tempfile::tempdir().expect("tempdir");
    let dir = targets.path().display().to_string();
    let state = testkit::app::state(db, &[("TABLETALK_SQLITE_DIR", dir)]).await;
    let store = state.store.clone();
    let (owner, org_id) = testkit::app::org(&store, 1, "Acme").await;
    services::users::register(
        &store,
        &TelegramProfile {
            user_id: PERSON,
            username: Some(format!("{NAME}_tg")),
            first_name: "Quagga".into(),
            last_name: None,
        },
    )
    .await
    .expect("registers");
    let alone = access::caller(&store, PERSON).await.expect("Quagga");
    // A personal database, then joining by invitation (a use, a dashboard sign-in).
    let mine = testkit::app::sqlite_database(
        &state,
        &alone,
        targets.path(),
        "zebra.db",
        "CREATE TABLE t (x INTEGER);",
    )
    .await;
    let invitation = orgs::invitations::create(&store, &owner, 5, 7)
        .await
        .expect("an invitation");
    orgs::invitations::join(&store, &alone, invitation.code.as_str())
        .await
        .expect("joins");
    let person = access::caller(&store, PERSON).await.expect("Quagga");
    sqlx::query(
        "INSERT INTO sessions (token_hash, dashboard_user_id, created_at, expires_at) \
         SELECT 'quagga-session', id, 0, 4000000000 FROM dashboard_users WHERE user_id = $1",
    )
    .bind(PERSON)
    .execute(store.pool())
    .await
    .expect("a session");

    // Questions: to the organization and to the personal database.
    let now = services::clock::now();
    let mut conversation_id = 0;
    for database in [None, Some(mine.as_str().to_owned())] {
        conversation_id = ledger::record(
            &store,
            &PriceTable::defaults(),
            &NewConversation {
                chat_id: PERSON,
                user_id: PERSON,
                username: Some(format!("{NAME}_tg")),
                question: format!("how many {TEXT}s?"),
                org_id: Some(org_id.clone()),
                database_id: database,
                channel: Channel::Telegram,
                status: ConversationStatus::Answered,
                error: None,
                row_count: Some(1),
                answer: Some(format!("three {TEXT}s")),
                at: now,
                stages: vec![stage(&format!("SELECT '{TEXT}'"))],
            },
        )
        .await
        .expect("recorded");
    }
    let mut tx = store.begin_write().await.expect("tx");
    services::ask::memory::remember_in(
        &mut tx,
        PERSON,
        &mine,
        &services::ask::memory::Turn {
            question: format!("how many {TEXT}s?"),
            sql: Some(format!("SELECT '{TEXT}'")),
            answer: format!("three {TEXT}s"),
        },
    )
    .await
    .expect("remembered");
    services::notify::enqueue(
        &mut tx,
        PERSON,
        services::notify::Kind::Email,
        &format!("your {TEXT} email"),
        now,
    )
    .await
    .expect("a notification");
    tx.commit().await.expect("commit");
    // Emails in every state: drafts for the organization and alone, queued, sent, failed.
    for (status, org) in [
        ("draft", Some(&org_id)),
        ("draft", None),
        ("queued", Some(&org_id)),
        ("sent", Some(&org_id)),
        ("failed", None),
    ] {
        let preview = services::email::draft(
            &store,
            services::email::NewEmail {
                user_id: PERSON,
                org_id: org,
                conversation_id: None,
                question: &format!("how many {TEXT}s?"),
                recipients: vec![format!("{TEXT}@example.com")],
                subject: &format!("{TEXT}s"),
                body: &format!("three {TEXT}s"),
                attachment: Some((format!("n\n{TEXT}\n"), 1)),
            },
        )
        .await
        .expect("a draft");
        sqlx::query("UPDATE emails SET status = $1, last_error = $2 WHERE email_id = $3")
            .bind(status)
            .bind((status == "failed").then(|| format!("550 no such user {TEXT}@example.com")))
            .bind(preview.email_id)
            .execute(store.pool())
            .await
            .expect("a status");
    }
    let _ = conversation_id;
    // Written later by the services as they run: a sent notification, an
    // answer to a group chat, a guided step, a question in flight (of a
    // process that died), the question rate.
    for sql in [
        format!(
            "INSERT INTO outbox (telegram_user_id, kind, text, created_at, sent_at, attempts) \
             VALUES ({PERSON}, 'email', 'sent {TEXT} text', {now}, {now}, 1)"
        ),
        format!(
            "INSERT INTO outbox (telegram_user_id, chat_id, kind, text, answer, created_at, attempts) \
             VALUES ({PERSON}, -1001, 'answer', 'a {TEXT} answer', '{{\"text\": \"{TEXT}\"}}', {now}, 0)"
        ),
        format!(
            "INSERT INTO bot_dialogues (chat_id, state, updated_at) VALUES ({PERSON}, '{{\"adddb\": \"{TEXT}\"}}', {now})"
        ),
        format!(
            "INSERT INTO questions_in_flight (user_id, token, started_at, process_id) \
             VALUES ({PERSON}, 'a-token', {now}, 'a-dead-process')"
        ),
        format!("INSERT INTO question_rate (user_id, tat_ms) VALUES ({PERSON}, {now}000)"),
        format!(
            "INSERT INTO ask_tickets (ticket, user_id, question, database_id, created_at) \
             VALUES ('0123456789abcdef0123456789abcdef', {PERSON}, 'a {TEXT} question', NULL, {now})"
        ),
    ] {
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(store.pool())
            .await
            .expect("a row");
    }
    Seeded {
        state,
        owner,
        person,
        org_id,
        _targets: targets,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Operation {
    Forget,
    Retention,
    Removal,
    Leaving,
}

impl Operation {
    fn rule(self, table: &Table) -> Rule {
        match self {
            Operation::Forget => table.forget,
            Operation::Retention => table.retention,
            Operation::Removal | Operation::Leaving => table.removal,
        }
    }

    fn needles(self) -> Vec<String> {
        match self {
            Operation::Retention => vec![TEXT.into()],
            _ => vec![PERSON.to_string(), NAME.into(), TEXT.into()],
        }
    }

    async fn run(self, seeded: &Seeded) {
        let state = &seeded.state;
        match self {
            Operation::Forget => {
                services::privacy::forget(state, &seeded.person)
                    .await
                    .expect("forgotten");
            }
            Operation::Retention => {
                // A year on, with a one-day period: everything seeded is old.
                let later = services::clock::now() + 365 * 86_400;
                services::retention::remove_old_text(&state.store, 1, later)
                    .await
                    .expect("retention");
            }
            Operation::Removal => orgs::members::remove(&state.store, &seeded.owner, PERSON)
                .await
                .expect("removed"),
            Operation::Leaving => orgs::members::leave(&state.store, &seeded.person)
                .await
                .expect("left"),
        }
    }
}

#[tokio::test]
async fn every_table_holding_a_persons_data_is_handled_or_kept_for_a_reason() {
    let listed: BTreeSet<&str> = TABLES.iter().map(|t| t.name).collect();
    for table in TABLES {
        for rule in [table.forget, table.retention, table.removal] {
            if let Kept(reason) = rule {
                assert!(reason.len() > 20, "{}: a reason, please", table.name);
            }
        }
    }
    let mut problems = Vec::new();
    for operation in [
        Operation::Forget,
        Operation::Retention,
        Operation::Removal,
        Operation::Leaving,
    ] {
        // A fresh store per operation, on each backend.
        for db in TestDb::all().await {
            let seeded = seed(&db).await;
            let tables = catalogue(&seeded.state).await;
            if operation == Operation::Forget {
                // The list is the catalogue's, both ways.
                let personal: BTreeSet<&str> = tables
                    .iter()
                    .filter(|(_, columns)| {
                        columns.iter().any(|c| PERSON_COLUMNS.contains(&c.as_str()))
                    })
                    .map(|(t, _)| t.as_str())
                    .collect();
                for table in personal.difference(&listed) {
                    problems.push(format!(
                        "{}: table {table} can hold a person's data: add it to TABLES, seed it, and decide what /forgetme, retention and removal do with it",
                        db.kind
                    ));
                }
                for table in listed.difference(&personal) {
                    problems.push(format!("{}: TABLES names {table}, which the catalogue does not have (or which holds no person's data)", db.kind));
                }
            }
            let needles = operation.needles();
            let before = holding(&seeded.state, &tables, &needles).await;
            for table in TABLES {
                if matches!(operation.rule(table), Gone)
                    && operation != Operation::Retention
                    && !before.contains_key(table.name)
                {
                    problems.push(format!(
                        "{}: {operation:?}: the seed left nothing of the person in {}, so its rule is not checked",
                        db.kind, table.name
                    ));
                }
            }
            operation.run(&seeded).await;
            let after = holding(&seeded.state, &tables, &needles).await;
            for (table, rows) in &after {
                let rule = TABLES
                    .iter()
                    .find(|t| t.name == table)
                    .map(|t| operation.rule(t))
                    .unwrap_or(Gone);
                if matches!(rule, Gone) {
                    problems.push(format!(
                        "{}: {operation:?} left the person's data in {rows} row(s) of {table}",
                        db.kind
                    ));
                }
            }
            // What a table-wide rule cannot say: (operation, what must be gone, query).
            let org = seeded.org_id.as_str().to_owned();
            let checks = [
                (
                    operation == Operation::Forget,
                    "of the person's own notifications",
                    format!("SELECT COUNT(*) FROM outbox WHERE telegram_user_id = {PERSON} OR chat_id = {PERSON}"),
                ),
                (
                    matches!(operation, Operation::Removal | Operation::Leaving),
                    "draft(s) of the organization's data the person can still send",
                    format!(
                        "SELECT COUNT(*) FROM emails WHERE user_id = {PERSON} AND org_id = '{org}' \
                         AND status IN ('draft', 'failed')"
                    ),
                ),
            ];
            for (applies, what, sql) in checks {
                if !applies {
                    continue;
                }
                let left: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                    .fetch_one(seeded.state.store.pool())
                    .await
                    .expect("a count");
                if left > 0 {
                    problems.push(format!("{}: {operation:?} left {left} {what}", db.kind));
                }
            }
        }
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}
