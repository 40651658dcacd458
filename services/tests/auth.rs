//! Accounts and sessions on every store backend (SQLite always, PostgreSQL when configured).

use models::auth::LoginRequest;
use models::{AppError, Role};
use secrecy::SecretString;
use services::auth::{self, password, token::SessionToken};
use services::clock;
use services::store::{dashboard_users, sessions};
use testkit::app::store as open;
use testkit::db::TestDb;
use testkit::status::{expect_bad_request, expect_status};

fn login_request(username: &str, password: &str) -> LoginRequest {
    LoginRequest {
        username: username.into(),
        password: password.into(),
    }
}

#[tokio::test]
async fn account_login_and_session_round_trip() {
    services::telemetry::init_for_tests();
    for db in TestDb::all().await {
        let store = open(&db).await;
        let name = auth::create_account(
            &store,
            "  Ops.Admin ",
            SecretString::from("a long password 1"),
        )
        .await
        .expect("account is created");
        assert_eq!(name, "ops.admin", "{}", db.kind);

        // Usernames are case-insensitive; the answer has the seed's fields.
        let answer = auth::login(
            &store,
            &login_request("OPS.admin", "a long password 1"),
            None,
        )
        .await
        .unwrap_or_else(|e| panic!("{}: login works: {e:?}", db.kind));
        assert_eq!(answer.role, Role::Individual);
        assert_eq!(answer.org_id, None);

        let info = auth::verify_session(&store, &answer.token)
            .await
            .expect("session is valid");
        assert_eq!(info.username, "ops.admin");
        let ttl = info.expires_at - clock::now();
        assert!(
            (auth::SESSION_TTL_SECS - 5..=auth::SESSION_TTL_SECS).contains(&ttl),
            "{ttl}"
        );

        // The store keeps only the hash of the token.
        let raw: Option<(i64, i64)> = sessions::find_valid(&store, &answer.token, clock::now())
            .await
            .expect("query runs");
        assert!(
            raw.is_none(),
            "{}: the token itself must not be a key",
            db.kind
        );
    }
}

#[tokio::test]
async fn wrong_password_and_unknown_user_get_the_same_401() {
    for db in TestDb::all().await {
        let store = open(&db).await;
        auth::create_account(&store, "alice", SecretString::from("correct password 1"))
            .await
            .expect("created");
        let wrong = auth::login(&store, &login_request("alice", "incorrect"), None)
            .await
            .unwrap_err();
        let unknown = auth::login(&store, &login_request("nobody", "incorrect"), None)
            .await
            .unwrap_err();
        assert_eq!(
            wrong,
            AppError::unauthorized("Wrong username or password."),
            "{}",
            db.kind
        );
        assert_eq!(unknown, wrong, "{}", db.kind);
        expect_bad_request(auth::login(&store, &login_request("alice", ""), None).await);
    }
}

#[tokio::test]
async fn duplicate_and_invalid_accounts_are_refused_without_writing() {
    for db in TestDb::all().await {
        let store = open(&db).await;
        auth::create_account(&store, "bob", SecretString::from("first password 1"))
            .await
            .expect("created");
        expect_status(
            auth::create_account(&store, "BOB", SecretString::from("second password 1")).await,
            409,
        );
        // The first password still works: nothing was overwritten.
        auth::login(&store, &login_request("bob", "first password 1"), None)
            .await
            .expect("original credentials intact");
        expect_bad_request(
            auth::create_account(&store, "carol", SecretString::from("short")).await,
        );
        assert!(auth::login(&store, &login_request("carol", "short"), None)
            .await
            .is_err());
    }
}

#[tokio::test]
async fn seed_era_hashes_are_upgraded_on_login() {
    for db in TestDb::all().await {
        let store = open(&db).await;
        let old = password::hash_with(100_000, "legacy password 1").expect("hashes");
        dashboard_users::insert(&store, "legacy", &old, None, clock::now())
            .await
            .expect("inserted")
            .expect("new username");
        auth::login(&store, &login_request("legacy", "legacy password 1"), None)
            .await
            .expect("old hash verifies");
        let account = dashboard_users::find_active_by_username(&store, "legacy")
            .await
            .expect("query runs")
            .expect("exists");
        assert!(
            account.password_hash.starts_with("$pbkdf2-sha256$i=600000"),
            "{}: {}",
            db.kind,
            account.password_hash
        );
        auth::login(&store, &login_request("legacy", "legacy password 1"), None)
            .await
            .expect("upgraded hash verifies");
    }
}

#[tokio::test]
async fn expired_forged_and_malformed_tokens_are_401() {
    for db in TestDb::all().await {
        let store = open(&db).await;
        auth::create_account(&store, "dave", SecretString::from("dave's password 1"))
            .await
            .expect("created");
        let account = dashboard_users::find_active_by_username(&store, "dave")
            .await
            .expect("query")
            .expect("exists");
        let token = SessionToken::generate().expect("random");
        let now = clock::now();
        sessions::insert(&store, &token.hash(), account.id, now - 100_000, now - 1)
            .await
            .expect("inserted");
        expect_status(
            auth::verify_session(&store, &token.into_string()).await,
            401,
        );
        let forged = SessionToken::generate().expect("random").into_string();
        expect_status(auth::verify_session(&store, &forged).await, 401);
        expect_status(auth::verify_session(&store, "' OR 1=1 --").await, 401);
    }
}

#[tokio::test]
async fn role_and_organization_come_from_membership() {
    for db in TestDb::all().await {
        let store = open(&db).await;
        let now = clock::now();
        // Organizations get their own services with the domain core; until then, rows by hand.
        for sql in [
            "INSERT INTO telegram_users (user_id, first_name, created_at, last_seen_at) VALUES (42, 'Olga', 0, 0)",
            "INSERT INTO organizations (org_id, name, owner_id, created_at) VALUES ('org_a', 'Acme <b>Ltd</b>', 42, 0)",
            "INSERT INTO organization_members (org_id, user_id, role, joined_at) VALUES ('org_a', 42, 'owner', 0)",
        ] {
            sqlx::query(sql).execute(store.pool()).await.expect("fixture row");
        }
        let hash = password::hash_with(1_000, "owner password 1").expect("hashes");
        dashboard_users::insert(&store, "olga", &hash, Some(42), now)
            .await
            .expect("inserted")
            .expect("new");
        let answer = auth::login(&store, &login_request("olga", "owner password 1"), None)
            .await
            .expect("login");
        assert_eq!(answer.role, Role::Owner, "{}", db.kind);
        assert_eq!(answer.org_id.as_deref(), Some("org_a"));
        assert_eq!(answer.org_name.as_deref(), Some("Acme <b>Ltd</b>"));
        let info = auth::verify_session(&store, &answer.token)
            .await
            .expect("valid");
        assert_eq!(info.role, Role::Owner);
    }
}

#[tokio::test]
async fn purge_removes_only_expired_sessions() {
    for db in TestDb::all().await {
        let store = open(&db).await;
        auth::create_account(&store, "erin", SecretString::from("erin's password 1"))
            .await
            .expect("created");
        let live = auth::login(&store, &login_request("erin", "erin's password 1"), None)
            .await
            .expect("login");
        let account = dashboard_users::find_active_by_username(&store, "erin")
            .await
            .expect("query")
            .expect("exists");
        let now = clock::now();
        sessions::insert(
            &store,
            &SessionToken::generate().expect("random").hash(),
            account.id,
            now - 90_000,
            now - 10,
        )
        .await
        .expect("inserted");
        let purged = auth::purge_expired(&store).await.expect("purges");
        assert_eq!(purged, 1, "{}", db.kind);
        assert!(auth::verify_session(&store, &live.token).await.is_ok());
    }
}
