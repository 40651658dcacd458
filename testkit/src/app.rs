//! The one way tests start Tabletalk's parts: a store, an [`AppState`] from a
//! test configuration, people and organizations.

use crate::db::TestDb;
use models::org::{Caller, TelegramProfile};
use models::OrgId;
use secrecy::SecretString;
use services::{access, orgs, users, AppState, Config, Store};

/// Opens the store of `db`, running the migrations.
pub async fn store(db: &TestDb) -> Store {
    Store::connect(&SecretString::from(db.url.clone()))
        .await
        .unwrap_or_else(|e| panic!("{}: store opens: {e:#}", db.kind))
}

/// The configuration a test runs with: the store of `db`, the test key for
/// stored connection strings, and `env` (which wins over both).
pub fn config(db: &TestDb, env: &[(&str, String)]) -> Config {
    let defaults = [
        ("DATABASE_URL", db.url.clone()),
        (
            "TABLETALK_SECRET_KEY",
            crate::db::TEST_SECRET_KEY.to_owned(),
        ),
    ];
    Config::from_lookup(|name| {
        env.iter()
            .chain(defaults.iter())
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value.clone())
    })
    .unwrap_or_else(|e| panic!("a valid test configuration: {e:#}"))
}

/// The shared state of a server or bot over `db`, configured by [`config`].
pub async fn state(db: &TestDb, env: &[(&str, String)]) -> AppState {
    services::telemetry::init_for_tests();
    AppState::new(store(db).await, config(db, env)).expect("the state builds")
}

/// A Telegram user who has sent /start (registered), as a caller.
pub async fn person(store: &Store, id: i64, name: &str) -> Caller {
    let profile = TelegramProfile {
        user_id: id,
        username: Some(format!("{name}_tg")),
        first_name: name.to_owned(),
        last_name: None,
    };
    users::register(store, &profile).await.expect("registers");
    access::caller(store, id).await.expect("resolves")
}

/// The caller `user_id` is now (after joining, leaving or a role change).
pub async fn caller(store: &Store, user_id: i64) -> Caller {
    access::caller(store, user_id).await.expect("resolves")
}

/// A new organization `name` founded by a new person `owner_id`: the owner
/// as a caller, and the organization's id.
pub async fn org(store: &Store, owner_id: i64, name: &str) -> (Caller, OrgId) {
    let founder = person(store, owner_id, "Owner").await;
    let (org, _) = orgs::create(store, &founder, name).await.expect("created");
    (caller(store, owner_id).await, org.org_id)
}

/// A tiny shop for pipeline tests: three orders worth 37.75 in all.
pub const TINY_SHOP: &str = "CREATE TABLE orders (id INTEGER PRIMARY KEY, total NUMERIC); \
     INSERT INTO orders VALUES (1, 10.5), (2, 20), (3, 7.25);";

/// [`TINY_SHOP`] as `shop.db`, added for `caller` and selected (see [`sqlite_database`]).
pub async fn shop(
    state: &AppState,
    caller: &Caller,
    targets_dir: &std::path::Path,
) -> models::ConnectionId {
    sqlite_database(state, caller, targets_dir, "shop.db", TINY_SHOP).await
}

/// A SQLite database `file` made by `script` in the caller's own folder under
/// `targets_dir` (`TABLETALK_SQLITE_DIR`: `<dir>/<org id or user id>/`),
/// added through the services for `caller` and selected as their active
/// database. Returns its id.
pub async fn sqlite_database(
    state: &AppState,
    caller: &Caller,
    targets_dir: &std::path::Path,
    file: &str,
    script: &str,
) -> models::ConnectionId {
    use sqlx::Connection;
    let owner = match (&caller.org_id, caller.user_id) {
        (Some(org), _) => org.as_str().to_owned(),
        (None, Some(user)) => user.to_string(),
        (None, None) => panic!("an operator account has no databases"),
    };
    let folder = targets_dir.join(owner);
    std::fs::create_dir_all(&folder).expect("the owner's folder");
    let path = folder.join(file);
    let mut conn =
        sqlx::SqliteConnection::connect(&format!("sqlite://{}?mode=rwc", path.display()))
            .await
            .expect("a writable SQLite file");
    sqlx::raw_sql(sqlx::AssertSqlSafe(script.to_owned()))
        .execute(&mut conn)
        .await
        .expect("the script runs");
    conn.close().await.expect("closed");
    let added = services::databases::add(
        state,
        caller,
        &models::targets::NewDatabase {
            name: file.trim_end_matches(".db").to_owned(),
            connection_string: format!("sqlite://{file}"),
            scope: None,
        },
    )
    .await
    .expect("the database is added");
    services::databases::select(state, caller, &added.database.connection_id)
        .await
        .expect("selected");
    added.database.connection_id
}
