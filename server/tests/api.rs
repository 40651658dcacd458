//! The real router on a real port, spoken to over HTTP (zero2prod's spawn_app).

use reqwest::header::{CONTENT_TYPE, LOCATION, SET_COOKIE};
use reqwest::StatusCode;
use secrecy::SecretString;
use serde_json::{json, Value};
use testkit::db::TestDb;
use testkit::server::{spawn, spawn_with, TestServer};
use testkit::status::{assert_status, assert_status_for};

/// The server with one operator account.
async fn with_user(db: TestDb, username: &str, password: &str) -> TestServer {
    let app = spawn(db).await;
    services::auth::create_account(
        &app.state.store,
        username,
        SecretString::from(password.to_owned()),
    )
    .await
    .expect("test user created");
    app
}

/// The sign-in endpoint's requests, as these tests send them.
trait SignIn {
    async fn login(&self, body: Value) -> reqwest::Response;
    async fn login_via(&self, body: Value, forwarded_for: &str) -> reqwest::Response;
    async fn verify(&self, token: Option<&str>, cookie: Option<&str>) -> reqwest::Response;
}

impl SignIn for TestServer {
    async fn login(&self, body: Value) -> reqwest::Response {
        self.http
            .post(format!("{}/dashboard/login", self.url))
            .json(&body)
            .send()
            .await
            .expect("request completes")
    }

    /// A sign-in that claims to come through a proxy for `forwarded_for`.
    async fn login_via(&self, body: Value, forwarded_for: &str) -> reqwest::Response {
        self.http
            .post(format!("{}/dashboard/login", self.url))
            .header("x-forwarded-for", forwarded_for)
            .json(&body)
            .send()
            .await
            .expect("request completes")
    }

    async fn verify(&self, token: Option<&str>, cookie: Option<&str>) -> reqwest::Response {
        let mut request = self.http.get(format!("{}/dashboard/verify", self.url));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(cookie) = cookie {
            request = request.header(reqwest::header::COOKIE, cookie);
        }
        request.send().await.expect("request completes")
    }
}

async fn json_of(response: reqwest::Response) -> Value {
    let content_type = response.headers().get(CONTENT_TYPE).cloned();
    let body = response.text().await.expect("body");
    serde_json::from_str(&body).unwrap_or_else(|_| panic!("JSON body ({content_type:?}): {body}"))
}

#[tokio::test]
async fn login_answers_the_seed_fields_and_opens_a_session() {
    for db in TestDb::all().await {
        let kind = db.kind;
        let app = with_user(db, "alice", "alice's password").await;
        let response = app
            .login(json!({"username": "alice", "password": "alice's password"}))
            .await;
        assert_status_for(&response, StatusCode::OK, kind);
        let cookie = response
            .headers()
            .get(SET_COOKIE)
            .and_then(|v| v.to_str().ok())
            .expect("a session cookie")
            .to_owned();
        assert!(
            cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
            "{cookie}"
        );
        let body = json_of(response).await;
        let token = body["token"].as_str().expect("token").to_owned();
        assert_eq!(body["role"], "individual");
        assert!(
            body.get("org_id").is_some() && body.get("org_name").is_some(),
            "{body}"
        );
        assert!(cookie.starts_with(&format!("tabletalk_session={token};")));

        let by_bearer = app.verify(Some(&token), None).await;
        assert_status(&by_bearer, StatusCode::OK);
        assert_eq!(json_of(by_bearer).await["username"], "alice");
        let by_cookie = app
            .verify(None, Some(&format!("tabletalk_session={token}")))
            .await;
        assert_status(&by_cookie, StatusCode::OK);

        // Logout ends the session server-side.
        let out = app
            .http
            .post(format!("{}/dashboard/logout", app.url))
            .bearer_auth(&token)
            .json(&json!({}))
            .send()
            .await
            .expect("request completes");
        assert_status(&out, StatusCode::OK);
        assert_status(
            &app.verify(Some(&token), None).await,
            StatusCode::UNAUTHORIZED,
        );
    }
}

#[tokio::test]
async fn bad_logins_get_clear_messages_and_the_right_status() {
    let app = with_user(TestDb::sqlite(), "bob", "bob's long password").await;
    let cases = [
        (
            json!({"username": "bob", "password": "nope"}),
            401,
            "Wrong username or password.",
        ),
        (
            json!({"username": "ghost", "password": "nope"}),
            401,
            "Wrong username or password.",
        ),
        (
            json!({"username": "", "password": "x"}),
            400,
            "Enter your username.",
        ),
        (
            json!({"username": "bob", "password": ""}),
            400,
            "Enter your password.",
        ),
        (
            json!({"username": "bob"}),
            400,
            "The request body is not valid: the field \"password\" is missing.",
        ),
    ];
    for (body, status, message) in cases {
        let response = app.login(body.clone()).await;
        assert_eq!(response.status().as_u16(), status, "{body}");
        assert_eq!(
            response
                .headers()
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok()),
            Some("application/json")
        );
        let answer = json_of(response).await;
        assert_eq!(answer["message"], message, "{body}");
    }

    let malformed = app
        .http
        .post(format!("{}/dashboard/login", app.url))
        .header(CONTENT_TYPE, "application/json")
        .body("{\"username\": \"bob\", \"password\": ")
        .send()
        .await
        .expect("request completes");
    assert_status(&malformed, StatusCode::BAD_REQUEST);
    let answer = json_of(malformed).await;
    assert_eq!(answer["error"], "bad_request");
    assert_eq!(
        answer["message"],
        "The request body is not valid: it is not well-formed JSON."
    );
}

/// An operator account (`server create-user`, no Telegram user) gets an
/// overview that says what it is, and a specific 403 where a Telegram user is
/// needed; never a 500.
#[tokio::test]
async fn operator_accounts_see_what_they_are() {
    for db in TestDb::all().await {
        let kind = db.kind;
        let app = with_user(db, "operator", "operator's password").await;
        let login = json_of(
            app.login(json!({"username": "operator", "password": "operator's password"}))
                .await,
        )
        .await;
        let token = login["token"].as_str().expect("token").to_owned();
        let get = |path: &str| {
            app.http
                .get(format!("{}/dashboard/{path}", app.url))
                .bearer_auth(&token)
                .send()
        };
        let overview = get("overview").await.expect("request completes");
        assert_status_for(&overview, StatusCode::OK, kind);
        let overview = json_of(overview).await;
        assert_eq!(overview["operator"], true, "{kind}: {overview}");
        assert_eq!(overview["organization"], Value::Null, "{kind}");
        let databases = get("databases").await.expect("request completes");
        assert_status_for(&databases, StatusCode::FORBIDDEN, kind);
        let body = json_of(databases).await;
        assert!(
            body["message"]
                .as_str()
                .is_some_and(|m| m.contains("Telegram user")),
            "{kind}: {body}"
        );
        let costs = get("costs/overview").await.expect("request completes");
        assert_status_for(&costs, StatusCode::FORBIDDEN, kind);
    }
}

#[tokio::test]
async fn verify_without_a_session_is_401_json() {
    let app = spawn(TestDb::sqlite()).await;
    let response = app.verify(None, None).await;
    assert_status(&response, StatusCode::UNAUTHORIZED);
    assert_eq!(json_of(response).await["error"], "unauthorized");
    let forged = app
        .verify(Some("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"), None)
        .await;
    assert_status(&forged, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn pages_render_on_the_server() {
    let app = with_user(TestDb::sqlite(), "carol", "carol's password").await;
    let login_page = app
        .http
        .get(format!("{}/login", app.url))
        .send()
        .await
        .expect("completes");
    assert_status(&login_page, StatusCode::OK);
    let html = login_page.text().await.expect("body");
    assert!(html.contains("Sign in to Tabletalk"), "{html}");
    assert!(
        html.contains("/pkg/tabletalk"),
        "hydration scripts are linked: {html}"
    );

    // Signed out, the dashboard sends you to the login page.
    let home = app
        .http
        .get(&app.url)
        .header(reqwest::header::ACCEPT, "text/html")
        .send()
        .await
        .expect("completes");
    assert_status(&home, StatusCode::FOUND);
    assert_eq!(
        home.headers().get(LOCATION).and_then(|v| v.to_str().ok()),
        Some("/login")
    );

    // Signed in (cookie), it says who you are.
    let token = json_of(
        app.login(json!({"username": "carol", "password": "carol's password"}))
            .await,
    )
    .await["token"]
        .as_str()
        .expect("token")
        .to_owned();
    let home = app
        .http
        .get(&app.url)
        .header(
            reqwest::header::COOKIE,
            format!("tabletalk_session={token}"),
        )
        .send()
        .await
        .expect("completes");
    assert_status(&home, StatusCode::OK);
    let html = home.text().await.expect("body");
    assert!(html.contains("carol"), "{html}");

    let missing = app
        .http
        .get(format!("{}/no/such/page", app.url))
        .send()
        .await
        .expect("completes");
    assert_status(&missing, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn health_endpoints_answer() {
    let app = spawn(TestDb::sqlite()).await;
    let live = app
        .http
        .get(format!("{}/healthz", app.url))
        .send()
        .await
        .expect("completes");
    assert_status(&live, StatusCode::OK);
    let ready = app
        .http
        .get(format!("{}/readyz", app.url))
        .send()
        .await
        .expect("completes");
    assert_status(&ready, StatusCode::OK);
    // A newer release's migration in the store: not ready, and why.
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES (99990101000000, 'from the future', TRUE, X'00', 0)",
    )
    .execute(app.state.store.pool())
    .await
    .expect("a future migration");
    let newer = app
        .http
        .get(format!("{}/readyz", app.url))
        .send()
        .await
        .expect("completes");
    assert_status(&newer, StatusCode::SERVICE_UNAVAILABLE);
    let reason = newer.text().await.expect("a reason");
    assert!(reason.contains("newer than this program"), "{reason}");
    app.state.store.close().await;
    let down = app
        .http
        .get(format!("{}/readyz", app.url))
        .send()
        .await
        .expect("completes");
    assert_status(&down, StatusCode::SERVICE_UNAVAILABLE);
}

/// The Retry-After header of a 429, checked against its message's wait.
async fn assert_throttled(response: reqwest::Response) {
    assert_status(&response, StatusCode::TOO_MANY_REQUESTS);
    let secs: i64 = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("a Retry-After in seconds");
    assert!((1..=300).contains(&secs), "{secs}");
    let body = json_of(response).await;
    assert_eq!(body["error"], "too_many_requests", "{body}");
    assert_eq!(
        body["message"],
        format!(
            "Too many failed sign-in attempts. Try again in {}.",
            services::auth::throttle::describe_wait(secs)
        ),
        "{body}"
    );
}

/// 50 wrong passwords for one username sent at once: the attempts are
/// reserved before any password is checked, so exactly 5 are checked (401)
/// and the other 45 are refused (429 with Retry-After). Before the fix,
/// every one was checked (30 in parallel all got 401).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_wrong_passwords_are_checked_at_most_five_times() {
    for db in TestDb::all().await {
        let kind = db.kind;
        let app = with_user(db, "dora", "dora's long password").await;
        let mut attempts = tokio::task::JoinSet::new();
        for i in 0..50 {
            let request = app
                .http
                .post(format!("{}/dashboard/login", app.url))
                .json(&json!({"username": "dora", "password": format!("wrong {i}")}));
            attempts.spawn(async move { request.send().await.expect("request completes") });
        }
        let mut checked = 0;
        while let Some(response) = attempts.join_next().await {
            let response = response.expect("joins");
            match response.status() {
                StatusCode::UNAUTHORIZED => checked += 1,
                _ => assert_throttled(response).await,
            }
        }
        assert_eq!(checked, 5, "{kind}: passwords checked");
        let failures: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'login_failed'")
                .fetch_one(app.state.store.pool())
                .await
                .expect("count");
        assert_eq!(failures, 5, "{kind}: only checked attempts are audited");
    }
}

/// A successful sign-in is not left counted as a failure: six in a row work.
#[tokio::test]
async fn successful_logins_do_not_count_against_the_limit() {
    for db in TestDb::all().await {
        let kind = db.kind;
        let app = with_user(db, "erin", "erin's long password").await;
        for attempt in 0..6 {
            let response = app
                .login(json!({"username": "erin", "password": "erin's long password"}))
                .await;
            assert_status_for(
                &response,
                StatusCode::OK,
                format_args!("{kind}: sign-in {attempt}"),
            );
        }
    }
}

/// 20 failures from one address close sign-in from that address. Without
/// `TABLETALK_TRUSTED_PROXIES` the address is the TCP peer whatever
/// `X-Forwarded-For` says; with the peer trusted, it is the rightmost hop
/// that is not a trusted proxy, so one client cannot lock out another, nor
/// escape by writing its own hops (test fails before: the setting did not exist).
#[tokio::test]
async fn the_per_address_limit_follows_trusted_proxies_only() {
    let wrong = |i: usize| json!({"username": format!("ghost{i}"), "password": "nope"});
    // Without the setting: every request is 127.0.0.1, whatever it claims.
    let app = spawn(TestDb::sqlite()).await;
    for i in 0..20 {
        let response = app.login_via(wrong(i), &format!("203.0.113.{i}")).await;
        assert_status_for(
            &response,
            StatusCode::UNAUTHORIZED,
            format_args!("attempt {i}"),
        );
    }
    assert_throttled(app.login_via(wrong(99), "198.51.100.1").await).await;

    // With the peer trusted: addresses come from X-Forwarded-For.
    let app = spawn_with(
        TestDb::sqlite(),
        |_| {
            vec![(
                "TABLETALK_TRUSTED_PROXIES",
                "127.0.0.1/32, 10.0.0.0/8".into(),
            )]
        },
        |_| {},
    )
    .await;
    for i in 0..20 {
        // The client forged the left hop; the proxies appended the right ones.
        let forwarded = format!("198.51.100.{i}, 203.0.113.7, 10.0.0.3");
        let response = app.login_via(wrong(i), &forwarded).await;
        assert_status_for(
            &response,
            StatusCode::UNAUTHORIZED,
            format_args!("attempt {i}"),
        );
    }
    assert_throttled(app.login_via(wrong(99), "203.0.113.7").await).await;
    assert_throttled(app.login_via(wrong(98), "1.2.3.4, 203.0.113.7").await).await;
    let other = app.login_via(wrong(97), "203.0.113.8").await;
    assert_status_for(&other, StatusCode::UNAUTHORIZED, "another client");
    let stored: Vec<String> =
        sqlx::query_scalar("SELECT DISTINCT ip FROM login_attempts ORDER BY ip")
            .fetch_all(app.state.store.pool())
            .await
            .expect("ips");
    assert_eq!(stored, vec!["203.0.113.7", "203.0.113.8"]);
}

/// Wrong current passwords count like failed sign-ins (same per-username
/// counters, 429 with Retry-After) and are audited. Before the fix a
/// session could guess the password without limit and unrecorded.
#[tokio::test]
async fn password_changes_are_throttled_and_failures_audited() {
    for db in TestDb::all().await {
        let kind = db.kind;
        let app = with_user(db, "fay", "fay's long password").await;
        let login = json_of(
            app.login(json!({"username": "fay", "password": "fay's long password"}))
                .await,
        )
        .await;
        let token = login["token"].as_str().expect("token").to_owned();
        let change = |current: &str| {
            app.http
                .post(format!("{}/dashboard/password", app.url))
                .bearer_auth(&token)
                .json(&json!({"current": current, "new": "a brand new long password"}))
                .send()
        };
        for i in 0..5 {
            let response = change(&format!("guess {i}")).await.expect("completes");
            assert_status_for(
                &response,
                StatusCode::BAD_REQUEST,
                format_args!("{kind} {i}"),
            );
            assert_eq!(
                json_of(response).await["message"],
                "The current password is not right."
            );
        }
        assert_throttled(change("guess 6").await.expect("completes")).await;
        // Even the right one waits, and so does sign-in for that username.
        assert_throttled(change("fay's long password").await.expect("completes")).await;
        assert_throttled(
            app.login(json!({"username": "fay", "password": "fay's long password"}))
                .await,
        )
        .await;
        let audited: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'password_change_failed' AND target = 'fay'",
        )
        .fetch_one(app.state.store.pool())
        .await
        .expect("count");
        assert_eq!(audited, 5, "{kind}");
    }
}

// The HTTP surface (issue 11): headers, limits, request ids, compression.

fn header<'a>(response: &'a reqwest::Response, name: &str) -> Option<&'a str> {
    response.headers().get(name).and_then(|v| v.to_str().ok())
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let app = spawn(TestDb::sqlite()).await;
    for path in ["/login", "/dashboard/verify", "/healthz", "/no/such/page"] {
        let response = app
            .http
            .get(format!("{}{path}", app.url))
            .send()
            .await
            .expect("completes");
        let csp = header(&response, "content-security-policy")
            .unwrap_or_else(|| panic!("{path}: no CSP"))
            .to_owned();
        assert!(
            csp.contains("script-src 'self'") && csp.contains("'wasm-unsafe-eval'"),
            "{path}: {csp}"
        );
        let scripts = csp
            .split(';')
            .find(|d| d.trim().starts_with("script-src"))
            .expect("a script-src");
        assert!(!scripts.contains("unsafe-inline"), "{path}: {csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert_eq!(header(&response, "x-content-type-options"), Some("nosniff"));
        assert_eq!(header(&response, "x-frame-options"), Some("DENY"));
        assert_eq!(header(&response, "referrer-policy"), Some("same-origin"));
        assert_eq!(
            header(&response, "strict-transport-security"),
            None,
            "{path}: no HSTS over plain http"
        );
        if path == "/login" {
            assert_eq!(header(&response, "cache-control"), Some("no-cache"));
            // The page's inline hydration script runs by the header's nonce.
            let nonce = csp
                .split("'nonce-")
                .nth(1)
                .and_then(|rest| rest.split('\'').next())
                .expect("a nonce for the page")
                .to_owned();
            let html = response.text().await.expect("body");
            assert!(
                html.contains(&format!("<script type=\"module\" nonce=\"{nonce}\">")),
                "{html}"
            );
        }
    }
}

#[tokio::test]
async fn https_public_url_adds_hsts() {
    let app = spawn_with(
        TestDb::sqlite(),
        |_| vec![("TABLETALK_PUBLIC_URL", "https://tt.example.com".into())],
        |_| {},
    )
    .await;
    for path in ["/login", "/healthz"] {
        let response = app
            .http
            .get(format!("{}{path}", app.url))
            .send()
            .await
            .expect("completes");
        assert_eq!(
            header(&response, "strict-transport-security"),
            Some("max-age=31536000"),
            "{path}"
        );
    }
}

#[tokio::test]
async fn an_8_mb_body_is_refused_with_413_json() {
    let app = spawn(TestDb::sqlite()).await;
    let password = "x".repeat(8 * 1024 * 1024);
    let response = app
        .login(json!({"username": "alice", "password": password}))
        .await;
    assert_status(&response, StatusCode::PAYLOAD_TOO_LARGE);
    let body = json_of(response).await;
    assert_eq!(body["error"], "payload_too_large", "{body}");
    assert!(
        body["message"].as_str().is_some_and(|m| m.contains("1 MB")),
        "{body}"
    );
}

#[tokio::test]
async fn request_ids_are_kept_or_made_and_answered() {
    let app = spawn(TestDb::sqlite()).await;
    let given = app
        .http
        .get(format!("{}/healthz", app.url))
        .header("x-request-id", "from-the-proxy-42")
        .send()
        .await
        .expect("completes");
    assert_eq!(header(&given, "x-request-id"), Some("from-the-proxy-42"));
    let made = app.verify(None, None).await;
    let id = header(&made, "x-request-id").expect("an id is made");
    assert_eq!(id.len(), 36, "a UUID: {id}");
}

#[tokio::test]
async fn anonymous_requests_get_401_before_their_body_is_read() {
    let app = spawn(TestDb::sqlite()).await;
    let response = app
        .http
        .post(format!("{}/dashboard/budget/set", app.url))
        .header(CONTENT_TYPE, "application/json")
        .body("{not json")
        .send()
        .await
        .expect("completes");
    assert_status(&response, StatusCode::UNAUTHORIZED);
    assert_eq!(json_of(response).await["error"], "unauthorized");
    // Signing in stays open to anonymous callers, and its body is read.
    let login = app
        .http
        .post(format!("{}/dashboard/login", app.url))
        .header(CONTENT_TYPE, "application/json")
        .body("{not json")
        .send()
        .await
        .expect("completes");
    assert_status(&login, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn unknown_fields_are_refused_by_name() {
    let app = with_user(TestDb::sqlite(), "dave", "dave's password").await;
    let token = json_of(
        app.login(json!({"username": "dave", "password": "dave's password"}))
            .await,
    )
    .await["token"]
        .as_str()
        .expect("token")
        .to_owned();
    let response = app
        .http
        .post(format!("{}/dashboard/budget/set", app.url))
        .bearer_auth(&token)
        .json(&json!({"monthly_usd": "-5"}))
        .send()
        .await
        .expect("completes");
    assert_status(&response, StatusCode::BAD_REQUEST);
    let body = json_of(response).await;
    assert_eq!(body["error"], "bad_request", "{body}");
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("\"monthly_usd\"")),
        "{body}"
    );
    // Query parameters too, on every GET endpoint.
    for (query, name) in [
        ("costs/overview?form=2024-01-01", "form"),
        ("verify?tokn=x", "tokn"),
        ("costs/overview?from=2024-01-01&to=2024-01-31&x[y]=1", "x"),
    ] {
        let response = app
            .http
            .get(format!("{}/dashboard/{query}", app.url))
            .bearer_auth(&token)
            .send()
            .await
            .expect("completes");
        assert_status_for(&response, StatusCode::BAD_REQUEST, query);
        let body = json_of(response).await;
        assert!(
            body["message"]
                .as_str()
                .is_some_and(|m| m.contains(&format!("\"{name}\""))),
            "{query}: {body}"
        );
    }
    let known = app
        .http
        .get(format!(
            "{}/dashboard/costs/overview?from=2024-01-01&to=2024-01-31",
            app.url
        ))
        .bearer_auth(&token)
        .send()
        .await
        .expect("completes");
    // Past the parameters, to the role check: an individual has no organization costs.
    assert_status(&known, StatusCode::FORBIDDEN);
    // A misspelt login field is named too, not reported as a wrong password.
    let login = app
        .login(json!({"username": "dave", "passwort": "dave's password"}))
        .await;
    assert_status(&login, StatusCode::BAD_REQUEST);
    let body = json_of(login).await;
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("\"passwort\"")),
        "{body}"
    );
}

#[tokio::test]
async fn json_answers_are_compressed_when_asked() {
    let app = with_user(TestDb::sqlite(), "erin", "erin's password").await;
    let token = json_of(
        app.login(json!({"username": "erin", "password": "erin's password"}))
            .await,
    )
    .await["token"]
        .as_str()
        .expect("token")
        .to_owned();
    let response = app
        .http
        .get(format!("{}/dashboard/verify", app.url))
        .bearer_auth(&token)
        .header("accept-encoding", "br, gzip")
        .send()
        .await
        .expect("completes");
    assert_status(&response, StatusCode::OK);
    assert_eq!(header(&response, "content-encoding"), Some("br"));
    let packed = response.bytes().await.expect("body");
    let mut json = Vec::new();
    std::io::Read::read_to_end(
        &mut brotli_decompressor::Decompressor::new(&packed[..], 4096),
        &mut json,
    )
    .expect("brotli");
    let body: Value = serde_json::from_slice(&json).expect("JSON inside");
    assert_eq!(body["username"], "erin", "{body}");
}

#[tokio::test]
async fn static_files_are_sent_precompressed_and_cached_by_hash() {
    let site = tempfile::tempdir().expect("tempdir");
    let pkg = site.path().join("pkg");
    std::fs::create_dir_all(&pkg).expect("pkg dir");
    let wasm = pkg.join("tabletalk.AbC123.wasm");
    std::fs::write(&wasm, b"the original wasm").expect("write");
    // Distinct contents show which sibling was sent (no compression per request).
    std::fs::write(pkg.join("tabletalk.AbC123.wasm.br"), b"brotli bytes").expect("write");
    std::fs::write(pkg.join("tabletalk.AbC123.wasm.gz"), b"gzip bytes").expect("write");
    std::fs::write(site.path().join("echarts.min.js"), b"var echarts;").expect("write");
    let root = site.path().display().to_string();
    let app = spawn_with(
        TestDb::sqlite(),
        |_| Vec::new(),
        move |options| {
            options.site_root = root.into();
            options.hash_files = true;
        },
    )
    .await;
    let get = |path: &str, encodings: &str| {
        app.http
            .get(format!("{}{path}", app.url))
            .header("accept-encoding", encodings)
            .send()
    };
    let br = get("/pkg/tabletalk.AbC123.wasm", "gzip, br")
        .await
        .expect("completes");
    assert_status(&br, StatusCode::OK);
    assert_eq!(header(&br, "content-encoding"), Some("br"));
    assert_eq!(header(&br, "content-type"), Some("application/wasm"));
    assert_eq!(
        header(&br, "cache-control"),
        Some("public, max-age=31536000, immutable")
    );
    assert_eq!(header(&br, "x-content-type-options"), Some("nosniff"));
    assert_eq!(header(&br, "vary"), Some("accept-encoding"));
    assert_eq!(&br.bytes().await.expect("body")[..], b"brotli bytes");
    let gz = get("/pkg/tabletalk.AbC123.wasm", "gzip")
        .await
        .expect("completes");
    assert_eq!(header(&gz, "content-encoding"), Some("gzip"));
    assert_eq!(&gz.bytes().await.expect("body")[..], b"gzip bytes");
    let plain = get("/pkg/tabletalk.AbC123.wasm", "identity")
        .await
        .expect("completes");
    assert_eq!(header(&plain, "content-encoding"), None);
    assert_eq!(
        &plain.bytes().await.expect("body")[..],
        b"the original wasm"
    );
    // Not hashed: cached for a day, then revalidated.
    let echarts = get("/echarts.min.js", "br").await.expect("completes");
    assert_status(&echarts, StatusCode::OK);
    assert_eq!(
        header(&echarts, "cache-control"),
        Some("public, max-age=86400")
    );
    // A missing file is not cached for good.
    let missing = get("/pkg/tabletalk.Old999.wasm", "br")
        .await
        .expect("completes");
    assert_status(&missing, StatusCode::NOT_FOUND);
    assert_ne!(
        header(&missing, "cache-control"),
        Some("public, max-age=31536000, immutable")
    );
}

/// PostgreSQL lost while the server runs (a proxy in front of the real server
/// is cut: open connections closed, new ones refused, as when it stops):
/// `/readyz` and the API answer 503 and say so, never a 500 with internals;
/// once it is back, both work again without a restart.
#[tokio::test]
async fn a_lost_store_is_a_503_and_the_server_recovers_when_it_is_back() {
    let Some(mut db) = TestDb::postgres().await else {
        return;
    };
    let (proxy, through) = testkit::proxy::TcpProxy::in_front_of(&db.url).await;
    db.url = through;
    let app = spawn(db).await;
    let (owner, _) = testkit::app::org(&app.state.store, 1001, "Acme").await;
    let credentials = services::auth::credentials::reset(&app.state.store, &owner)
        .await
        .expect("credentials");
    let session = app.sign_in(&credentials).await;
    let readyz = || async {
        let response = app
            .http
            .get(format!("{}/readyz", app.url))
            .send()
            .await
            .expect("completes");
        (response.status(), response.text().await.expect("body"))
    };
    assert_eq!(readyz().await.0, StatusCode::OK);
    let (status, _) = app.call(&session, "GET", "databases", json!({})).await;
    assert_eq!(status, StatusCode::OK);

    proxy.cut();
    let (status, reason) = readyz().await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(reason.contains("not reachable"), "{reason}");
    let (status, body) = app.call(&session, "GET", "databases", json!({})).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(
        body["message"],
        services::error::STORE_UNREACHABLE,
        "{body}"
    );

    proxy.restore().await.expect("the proxy listens again");
    let mut recovered = false;
    for _ in 0..60 {
        if readyz().await.0 == StatusCode::OK {
            recovered = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    assert!(recovered, "ready again once the store is back");
    let (status, body) = app.call(&session, "GET", "databases", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

/// `/metrics` answers this machine; a request a proxy passes on (from
/// elsewhere) needs `Authorization: Bearer <TABLETALK_METRICS_TOKEN>`: 403
/// without it, 401 with a wrong one, each with the JSON error.
#[tokio::test]
async fn metrics_answer_this_machine_or_the_metrics_token_only() {
    let token = "metrics-token-0123456789";
    let app = spawn_with(
        TestDb::sqlite(),
        |_| vec![("TABLETALK_METRICS_TOKEN", token.to_owned())],
        |_| {},
    )
    .await;
    let scrape = |forwarded: bool, bearer: Option<&str>| {
        let mut request = app.http.get(format!("{}/metrics", app.url));
        if forwarded {
            request = request.header("X-Forwarded-For", "203.0.113.7");
        }
        if let Some(bearer) = bearer {
            request = request.bearer_auth(bearer);
        }
        request.send()
    };
    let local = scrape(false, None).await.expect("completes");
    assert_eq!(local.status(), StatusCode::OK);
    let elsewhere = scrape(true, None).await.expect("completes");
    assert_eq!(elsewhere.status(), StatusCode::FORBIDDEN);
    assert_eq!(json_of(elsewhere).await["error"], "forbidden");
    let wrong = scrape(true, Some("metrics-token"))
        .await
        .expect("completes");
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(json_of(wrong).await["error"], "unauthorized");
    let right = scrape(true, Some(token)).await.expect("completes");
    assert_eq!(right.status(), StatusCode::OK);
    assert!(right.text().await.expect("text").contains("tabletalk_"));
}
