//! The dashboard's HTTP contract: every endpoint of seed §4 (and the extras)
//! answers each role as the access matrix says, stays inside the caller's
//! organization, and refuses cross-site changes.

use models::{allowed, Action, Role};
use reqwest::StatusCode;
use secrecy::SecretString;
use serde_json::{json, Value};
use services::{operator, users, AppState, Config, Store};
use testkit::db::TestDb;

struct App {
    url: String,
    http: reqwest::Client,
    state: AppState,
    targets_dir: tempfile::TempDir,
    _db: TestDb,
}

async fn spawn(db: TestDb) -> App {
    services::telemetry::init_for_tests();
    let targets_dir = tempfile::tempdir().expect("tempdir");
    let pairs = [
        ("DATABASE_URL", db.url.clone()),
        (
            "TABLETALK_SECRET_KEY",
            testkit::db::TEST_SECRET_KEY.to_owned(),
        ),
        (
            "TABLETALK_SQLITE_DIR",
            targets_dir.path().display().to_string(),
        ),
    ];
    let config = Config::from_lookup(|name| {
        pairs
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.clone())
    })
    .expect("valid");
    let store = Store::connect(&SecretString::from(db.url.clone()))
        .await
        .expect("store opens");
    let state = AppState::new(store, config).expect("state");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free port");
    let addr = listener.local_addr().expect("bound");
    let mut options = server::site::options().expect("options");
    options.site_addr = addr;
    let router = server::router(state.clone(), options);
    tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await
    });
    App {
        url: format!("http://{addr}"),
        http: reqwest::Client::new(),
        state,
        targets_dir,
        _db: db,
    }
}

/// A signed-in person: their token and password.
struct Session {
    token: String,
    password: String,
}

impl App {
    async fn sign_in(&self, creds: &models::org::Credentials) -> Session {
        let response = self
            .http
            .post(format!("{}/dashboard/login", self.url))
            .json(&json!({"username": creds.username, "password": creds.password}))
            .send()
            .await
            .expect("login");
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.expect("json");
        Session {
            token: body["token"].as_str().expect("token").to_owned(),
            password: creds.password.clone(),
        }
    }

    async fn call(
        &self,
        session: &Session,
        method: &str,
        path: &str,
        body: Value,
    ) -> (StatusCode, Value) {
        let url = format!("{}/dashboard/{path}", self.url);
        let request = match method {
            "GET" => self.http.get(url),
            _ => self.http.post(url).json(&body),
        };
        let response = request
            .bearer_auth(&session.token)
            .send()
            .await
            .expect("request");
        let status = response.status();
        let text = response.text().await.expect("body");
        let json = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, json)
    }

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
        let ida = users::caller(store, 3001).await.expect("caller");
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
    let globex = users::caller(&app.state.store, 2001)
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
    assert_eq!(evil.status(), StatusCode::FORBIDDEN);
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
    assert_eq!(own.status(), StatusCode::OK);
    let (_, invitations) = app
        .call(&people.owner, "GET", "invitations", json!({}))
        .await;
    assert_eq!(
        invitations.as_array().map(Vec::len),
        Some(1),
        "only the same-site request created one"
    );
}
