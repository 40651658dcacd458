//! The real server on port 0, spoken to over HTTP (feature `server`).

use crate::db::TestDb;
use leptos::prelude::LeptosOptions;
use reqwest::StatusCode;
use serde_json::{json, Value};
use services::AppState;
use std::net::SocketAddr;

/// A running server: its URL, a client, its state, and what it lives on.
pub struct TestServer {
    pub url: String,
    /// A client that does not follow redirects (tests read them).
    pub http: reqwest::Client,
    pub state: AppState,
    /// `TABLETALK_SQLITE_DIR`: users' SQLite databases go in `<dir>/<owner>/`.
    pub targets_dir: tempfile::TempDir,
    _db: TestDb,
}

/// A signed-in person: their session token and password.
pub struct Session {
    pub token: String,
    pub password: String,
}

/// The server on `db` with the test configuration.
pub async fn spawn(db: TestDb) -> TestServer {
    spawn_with(db, |_| Vec::new(), |_| {}).await
}

/// [`spawn`] with more configuration variables (which may name the server's
/// address) and other Leptos options (a site root of test files, hashed names).
pub async fn spawn_with(
    db: TestDb,
    env: impl FnOnce(SocketAddr) -> Vec<(&'static str, String)>,
    site: impl FnOnce(&mut LeptosOptions),
) -> TestServer {
    let targets_dir = tempfile::tempdir().expect("a temporary directory");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free port");
    let addr = listener.local_addr().expect("bound");
    let mut vars = env(addr);
    vars.push((
        "TABLETALK_SQLITE_DIR",
        targets_dir.path().display().to_string(),
    ));
    let state = crate::app::state(&db, &vars).await;
    let mut options = server::site::options().expect("default options");
    options.site_addr = addr;
    site(&mut options);
    let router = server::router(state.clone(), options);
    tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
    });
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    TestServer {
        url: format!("http://{addr}"),
        http,
        state,
        targets_dir,
        _db: db,
    }
}

impl TestServer {
    /// Signs in with dashboard credentials (must succeed).
    pub async fn sign_in(&self, creds: &models::org::Credentials) -> Session {
        let response = self
            .http
            .post(format!("{}/dashboard/login", self.url))
            .json(&json!({"username": creds.username, "password": creds.password}))
            .send()
            .await
            .expect("login");
        assert_eq!(response.status(), StatusCode::OK, "signs in");
        let body: Value = response.json().await.expect("json");
        Session {
            token: body["token"].as_str().expect("token").to_owned(),
            password: creds.password.clone(),
        }
    }

    /// `GET` (body ignored) or `POST` (JSON body) `/dashboard/<path>` as
    /// `session`: the status and the body (JSON, or the text as a string).
    pub async fn call(
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
}

/// Asks on the Ask page's wire format, as the browser does: the question in
/// the body of `POST {base}/dashboard/ask/start`, then the stream of the
/// ticket it answers (`GET {base}/dashboard/ask/stream?ticket=`). Panics
/// when the start is refused (tests of refusals call the two steps themselves).
pub async fn ask_stream(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    question: &str,
    database: Option<&str>,
) -> reqwest::Response {
    let started = http
        .post(format!("{base}/dashboard/ask/start"))
        .bearer_auth(token)
        .json(&json!({"question": question, "database_id": database}))
        .send()
        .await
        .expect("start asking");
    assert_eq!(
        started.status(),
        StatusCode::OK,
        "starting to ask was refused"
    );
    let ticket: String = started.json().await.expect("a ticket");
    http.get(format!("{base}/dashboard/ask/stream?ticket={ticket}"))
        .bearer_auth(token)
        .send()
        .await
        .expect("the stream")
}
