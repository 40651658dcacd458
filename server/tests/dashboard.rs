//! The dashboard's HTTP contract: every endpoint of seed §4 (and the extras)
//! answers each role as the access matrix says, stays inside the caller's
//! organization, and refuses cross-site changes.

use models::{allowed, Action, Role};
use reqwest::StatusCode;
use serde_json::{json, Value};
use services::{access, operator, users};
use testkit::db::TestDb;
use testkit::server::{spawn, spawn_with, Session, TestServer};
use testkit::status::{assert_status, assert_status_for};

/// The people of these tests, on top of the harness.
trait Fixtures {
    async fn people(&self) -> People;
    fn sqlite_target(&self, owner: &str, name: &str) -> String;
}

impl Fixtures for TestServer {
    /// Org "Acme" (owner 1001, member 1002), org "Globex" (owner 2001, member
    /// 2002) and an individual (3001), each signed in.
    async fn people(&self) -> People {
        let store = &self.state.store;
        let (acme, owner) = operator::create_org(store, "Acme", 1001, Some("Olga"))
            .await
            .expect("org");
        let member = operator::add_member(store, acme.org_id.as_str(), 1002, Some("Max"))
            .await
            .expect("member");
        let (globex, other_owner) = operator::create_org(store, "Globex", 2001, Some("Hank"))
            .await
            .expect("org");
        operator::add_member(store, globex.org_id.as_str(), 2002, Some("Gil"))
            .await
            .expect("member");
        users::register(
            store,
            &models::org::TelegramProfile {
                user_id: 3001,
                username: None,
                first_name: "Ida".into(),
                last_name: None,
            },
        )
        .await
        .expect("individual");
        let ida = access::caller(store, 3001).await.expect("caller");
        let individual = services::auth::credentials::reset(store, &ida)
            .await
            .expect("credentials");
        People {
            owner: self.sign_in(&owner).await,
            member: self.sign_in(&member).await,
            other_owner: self.sign_in(&other_owner).await,
            individual: self.sign_in(&individual).await,
        }
    }

    /// A SQLite database file in the owner's folder (`<dir>/<org or user id>/`),
    /// and its connection string.
    fn sqlite_target(&self, owner: &str, name: &str) -> String {
        let folder = self.targets_dir.path().join(owner);
        std::fs::create_dir_all(&folder).expect("folder");
        let path = folder.join(name);
        // An empty file is an empty SQLite database.
        std::fs::write(&path, []).expect("file");
        format!("sqlite://{name}")
    }
}

struct People {
    owner: Session,
    member: Session,
    other_owner: Session,
    individual: Session,
}

/// Every endpoint, its method, a body, and the matrix action it needs.
fn endpoints(password: &str) -> Vec<(&'static str, String, Value, Action)> {
    let missing_db = "db_0000000000000000";
    vec![
        ("GET", "overview".into(), json!({}), Action::ViewOverview),
        ("GET", "members".into(), json!({}), Action::ViewMembers),
        (
            "POST",
            "members/add".into(),
            json!({"user_id": 999_999}),
            Action::AddMembers,
        ),
        (
            "POST",
            "members/remove".into(),
            json!({"user_id": 999_999}),
            Action::RemoveMembers,
        ),
        ("GET", "invitations".into(), json!({}), Action::ViewInvites),
        (
            "POST",
            "invitations/create".into(),
            json!({"max_uses": 2, "days": 3}),
            Action::CreateInvites,
        ),
        (
            "POST",
            "invitations/revoke".into(),
            json!({"code": "AAAAAAAAAAAAAAAA"}),
            Action::RevokeInvites,
        ),
        ("GET", "audit".into(), json!({}), Action::ViewAuditLog),
        ("GET", "databases".into(), json!({}), Action::ViewDatabases),
        (
            "POST",
            "databases/test".into(),
            json!({"connection_string": "sqlite://missing.db"}),
            Action::AddDatabases,
        ),
        (
            "POST",
            "databases/create".into(),
            json!({"database": {"name": "x", "connection_string": "sqlite://missing.db"}}),
            Action::AddDatabases,
        ),
        (
            "POST",
            "databases/remove".into(),
            json!({"connection_id": missing_db}),
            Action::RemoveDatabases,
        ),
        (
            "POST",
            "databases/select".into(),
            json!({"connection_id": missing_db}),
            Action::SelectDatabase,
        ),
        (
            "GET",
            format!("databases/schema?connection_id={missing_db}"),
            json!({}),
            Action::ViewDatabases,
        ),
        ("GET", "costs/overview".into(), json!({}), Action::ViewCosts),
        ("GET", "costs/by-model".into(), json!({}), Action::ViewCosts),
        ("GET", "costs/by-stage".into(), json!({}), Action::ViewCosts),
        (
            "GET",
            "costs/input-output".into(),
            json!({}),
            Action::ViewCosts,
        ),
        (
            "GET",
            "costs/per-user?from=2026-01-01&to=2026-01-31".into(),
            json!({}),
            Action::ViewCosts,
        ),
        ("GET", "costs/daily".into(), json!({}), Action::ViewCosts),
        (
            "GET",
            "costs/page?from=2026-01-01".into(),
            json!({}),
            Action::ViewCosts,
        ),
        ("GET", "conversations".into(), json!({}), Action::ViewCosts),
        (
            "GET",
            "costs/export.csv".into(),
            json!({}),
            Action::ViewCosts,
        ),
        ("GET", "budget".into(), json!({}), Action::ViewCosts),
        (
            "POST",
            "budget/set".into(),
            json!({"usd": "25.50"}),
            Action::ManageBudget,
        ),
        (
            "POST",
            "password".into(),
            json!({"current": password, "new": format!("{password}-changed")}),
            Action::ManageOwnCredentials,
        ),
    ]
}

#[tokio::test]
async fn every_endpoint_answers_each_role_as_the_matrix_says() {
    for db in TestDb::all().await {
        let kind = db.kind;
        let app = spawn(db).await;
        let people = app.people().await;
        for (role, session) in [
            (Role::Owner, &people.owner),
            (Role::Member, &people.member),
            (Role::Individual, &people.individual),
        ] {
            for (method, path, body, action) in endpoints(&session.password) {
                let (status, json) = app.call(session, method, &path, body).await;
                let cell = allowed(role, action);
                assert_ne!(
                    status,
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "{kind} {role:?} {path}: {json}"
                );
                assert_ne!(
                    status,
                    StatusCode::UNAUTHORIZED,
                    "{kind} {role:?} {path}: {json}"
                );
                if cell {
                    assert_ne!(
                        status,
                        StatusCode::FORBIDDEN,
                        "{kind} {role:?} may {action:?}: {path}: {json}"
                    );
                } else {
                    assert_eq!(
                        status,
                        StatusCode::FORBIDDEN,
                        "{kind} {role:?} may not {action:?}: {path}: {json}"
                    );
                    assert_eq!(json["error"], "forbidden", "{path}: {json}");
                    assert!(json["message"].as_str().is_some_and(|m| !m.is_empty()));
                }
                if status.is_client_error() {
                    assert!(
                        json["error"].is_string(),
                        "{kind} {path}: machine-readable error: {json}"
                    );
                }
            }
        }
        // Without a session every endpoint is 401 with a JSON error.
        let nobody = Session {
            token: "not-a-token".into(),
            password: String::new(),
        };
        for (method, path, body, _) in endpoints("x") {
            let (status, json) = app.call(&nobody, method, &path, body).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{kind} {path}: {json}");
            assert_eq!(json["error"], "unauthorized", "{path}");
        }
        drop(people.other_owner);
    }
}

#[tokio::test]
async fn an_owner_cannot_reach_another_organization() {
    let app = spawn(TestDb::sqlite()).await;
    let people = app.people().await;
    // Globex's things: its member, an invitation, a database.
    let (_, json) = app
        .call(
            &people.other_owner,
            "POST",
            "invitations/create",
            json!({"max_uses": 5, "days": 7}),
        )
        .await;
    let code = json["code"].as_str().expect("a code").to_owned();
    let globex = access::caller(&app.state.store, 2001)
        .await
        .expect("caller")
        .org_id
        .expect("an org");
    let conn = app.sqlite_target(globex.as_str(), "globex.db");
    let (status, json) = app
        .call(
            &people.other_owner,
            "POST",
            "databases/create",
            json!({"database": {"name": "Globex", "connection_string": conn}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{json}");
    let db_id = json["database"]["connection_id"]
        .as_str()
        .expect("id")
        .to_owned();

    for (method, path, body) in [
        (
            "POST",
            "members/remove".to_owned(),
            json!({"user_id": 2002}),
        ),
        (
            "POST",
            "members/remove".to_owned(),
            json!({"user_id": 2001}),
        ),
        (
            "POST",
            "invitations/revoke".to_owned(),
            json!({"code": code}),
        ),
        (
            "POST",
            "databases/remove".to_owned(),
            json!({"connection_id": db_id}),
        ),
        (
            "POST",
            "databases/select".to_owned(),
            json!({"connection_id": db_id}),
        ),
        (
            "GET",
            format!("databases/schema?connection_id={db_id}"),
            json!({}),
        ),
    ] {
        let (status, json) = app.call(&people.owner, method, &path, body).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {json}");
    }
    // Acme's lists never show Globex's rows.
    for path in [
        "members",
        "invitations",
        "databases",
        "audit",
        "costs/per-user",
    ] {
        let (status, json) = app.call(&people.owner, "GET", path, json!({})).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        let text = json.to_string();
        assert!(
            !text.contains("2002")
                && !text.contains(&code)
                && !text.contains(&db_id)
                && !text.contains("Globex"),
            "{path}: {text}"
        );
    }
    // Globex is unchanged.
    let (_, members) = app
        .call(&people.other_owner, "GET", "members", json!({}))
        .await;
    assert_eq!(members.as_array().map(Vec::len), Some(2));
    let (_, invitations) = app
        .call(&people.other_owner, "GET", "invitations", json!({}))
        .await;
    assert_eq!(invitations[0]["status"], "active");
    let (_, databases) = app
        .call(&people.other_owner, "GET", "databases", json!({}))
        .await;
    assert_eq!(databases.as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn cookie_authenticated_changes_from_another_site_are_refused() {
    let app = spawn(TestDb::sqlite()).await;
    let people = app.people().await;
    let cookie = format!("tabletalk_session={}", people.owner.token);
    let post = |origin: Option<&'static str>| {
        let mut request = app
            .http
            .post(format!("{}/dashboard/invitations/create", app.url))
            .header(reqwest::header::COOKIE, cookie.clone())
            .json(&json!({"max_uses": 1, "days": 1}));
        if let Some(origin) = origin {
            request = request.header(reqwest::header::ORIGIN, origin);
        }
        request.send()
    };
    let evil = post(Some("http://evil.example")).await.expect("request");
    assert_status(&evil, StatusCode::FORBIDDEN);
    let body: Value = evil.json().await.expect("json");
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("another site")),
        "{body}"
    );
    let host = app.url.trim_start_matches("http://").to_owned();
    let own = post(Some(Box::leak(format!("http://{host}").into_boxed_str())))
        .await
        .expect("request");
    assert_status(&own, StatusCode::OK);
    let (_, invitations) = app
        .call(&people.owner, "GET", "invitations", json!({}))
        .await;
    assert_eq!(
        invitations.as_array().map(Vec::len),
        Some(1),
        "only the same-site request created one"
    );
}

/// An owner adds a person who already uses Tabletalk on their own: the answer
/// carries no credentials (the seed's fields are null), her password and
/// personal database stay hers, and the bot is asked to tell her. Before the
/// fix the answer was `{"username", "password"}` with a fresh password that
/// signed in as her (test fails before).
#[tokio::test]
async fn adding_a_member_over_http_hands_the_owner_no_password() {
    for db in TestDb::all().await {
        let kind = db.kind;
        let app = spawn(db).await;
        let people = app.people().await;
        let conn = app.sqlite_target("3001", "ida-private.db");
        let (status, json) = app
            .call(
                &people.individual,
                "POST",
                "databases/create",
                json!({"database": {"name": "Ida private", "connection_string": conn}}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{kind}: {json}");
        let private_id = json["database"]["connection_id"]
            .as_str()
            .expect("id")
            .to_owned();

        let (status, added) = app
            .call(
                &people.owner,
                "POST",
                "members/add",
                json!({"user_id": 3001}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{kind}: {added}");
        assert_eq!(added["username"], Value::Null, "{kind}: {added}");
        assert_eq!(added["password"], Value::Null, "{kind}: {added}");
        assert_eq!(
            added["message"],
            "Added. They will get their sign-in from the bot."
        );
        let pending = services::notify::pending(&app.state.store, 10)
            .await
            .expect("outbox");
        assert!(
            pending
                .iter()
                .any(|n| n.telegram_user_id == 3001 && n.text.contains("/dashboard")),
            "{kind}: {pending:?}"
        );

        // Ida is a member now; her session and her own database are still hers.
        let (status, mine) = app
            .call(&people.individual, "GET", "databases", json!({}))
            .await;
        assert_eq!(status, StatusCode::OK, "{kind}");
        assert!(mine.to_string().contains(&private_id), "{kind}: {mine}");
        // The owner never sees it, by list or by id.
        let (_, theirs) = app.call(&people.owner, "GET", "databases", json!({})).await;
        assert!(
            !theirs.to_string().contains(&private_id),
            "{kind}: {theirs}"
        );
        for (method, path, body) in [
            (
                "GET",
                format!("databases/schema?connection_id={private_id}"),
                json!({}),
            ),
            (
                "POST",
                "databases/select".to_owned(),
                json!({"connection_id": private_id}),
            ),
            (
                "POST",
                "databases/remove".to_owned(),
                json!({"connection_id": private_id}),
            ),
        ] {
            let (status, json) = app.call(&people.owner, method, &path, body).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{kind} {path}: {json}");
        }
        // Her password still signs her in.
        let (status, me) = app
            .call(&people.individual, "GET", "verify", json!({}))
            .await;
        assert_eq!(
            (status, me["role"].as_str()),
            (StatusCode::OK, Some("member")),
            "{kind}"
        );
        let response = app
            .http
            .post(format!("{}/dashboard/login", app.url))
            .json(&json!({"username": me["username"], "password": people.individual.password}))
            .send()
            .await
            .expect("login");
        assert_status_for(&response, StatusCode::OK, kind);
    }
}

/// A cookie-authenticated change with some other `Authorization` header
/// (`Basic`, an empty `Bearer`) is checked like any browser request; before,
/// any `Authorization` header skipped the check (test fails before).
#[tokio::test]
async fn only_a_bearer_token_skips_the_cross_site_check() {
    let app = spawn(TestDb::sqlite()).await;
    let people = app.people().await;
    let cookie = format!("tabletalk_session={}", people.owner.token);
    for authorization in ["Basic b3duZXI6cGFzcw==", "Bearer "] {
        let response = app
            .http
            .post(format!("{}/dashboard/invitations/create", app.url))
            .header(reqwest::header::COOKIE, cookie.clone())
            .header(reqwest::header::AUTHORIZATION, authorization)
            .header(reqwest::header::ORIGIN, "http://evil.example")
            .json(&json!({"max_uses": 1, "days": 1}))
            .send()
            .await
            .expect("request");
        assert_status_for(&response, StatusCode::FORBIDDEN, authorization);
    }
    // A real bearer token is a script's request and passes.
    let response = app
        .http
        .post(format!("{}/dashboard/invitations/create", app.url))
        .bearer_auth(&people.owner.token)
        .header(reqwest::header::ORIGIN, "http://evil.example")
        .json(&json!({"max_uses": 1, "days": 1}))
        .send()
        .await
        .expect("request");
    assert_status(&response, StatusCode::OK);
}

/// Served over https (public URL): the session cookie is `__Host-` prefixed,
/// `Secure`, `Path=/`, without `Domain`; the old cookie name still works;
/// and an `http://` origin on the same host is another site (before, only
/// the host was compared and the cookie had no prefix: test fails before).
#[tokio::test]
async fn over_https_the_cookie_is_host_prefixed_and_the_scheme_is_checked() {
    let app = spawn_with(
        TestDb::sqlite(),
        |addr| vec![("TABLETALK_PUBLIC_URL", format!("https://{addr}"))],
        |_| {},
    )
    .await;
    let people = app.people().await;
    let host = app.url.trim_start_matches("http://").to_owned();
    // Sign in again to see the cookie the owner's browser would get.
    let (_, me) = app.call(&people.owner, "GET", "verify", json!({})).await;
    let login = app
        .http
        .post(format!("{}/dashboard/login", app.url))
        .header(reqwest::header::ORIGIN, format!("https://{host}"))
        .json(&json!({"username": me["username"], "password": people.owner.password}))
        .send()
        .await
        .expect("login");
    assert_status(&login, StatusCode::OK);
    let set: Vec<String> = login
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok().map(str::to_owned))
        .collect();
    let body: Value = login.json().await.expect("json");
    let token = body["token"].as_str().expect("token").to_owned();
    let session = set
        .iter()
        .find(|c| c.starts_with("__Host-tabletalk_session="))
        .unwrap_or_else(|| panic!("a __Host- cookie: {set:?}"));
    assert!(session.starts_with(&format!("__Host-tabletalk_session={token};")));
    for part in ["Secure", "Path=/", "HttpOnly", "SameSite=Strict"] {
        assert!(session.contains(part), "{part}: {session}");
    }
    assert!(!session.contains("Domain"), "{session}");

    let create = |cookie: String, origin: String| {
        app.http
            .post(format!("{}/dashboard/invitations/create", app.url))
            .header(reqwest::header::COOKIE, cookie)
            .header(reqwest::header::ORIGIN, origin)
            .json(&json!({"max_uses": 1, "days": 1}))
            .send()
    };
    let ok = create(
        format!("__Host-tabletalk_session={token}"),
        format!("https://{host}"),
    )
    .await
    .expect("request");
    assert_status(&ok, StatusCode::OK);
    let old_name = create(
        format!("tabletalk_session={token}"),
        format!("https://{host}"),
    )
    .await
    .expect("request");
    assert_status_for(&old_name, StatusCode::OK, "the old name is still read");
    let plain = create(
        format!("__Host-tabletalk_session={token}"),
        format!("http://{host}"),
    )
    .await
    .expect("request");
    assert_status_for(&plain, StatusCode::FORBIDDEN, "http is another origin");
}
