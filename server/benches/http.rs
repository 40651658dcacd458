//! Dashboard HTTP under load (issue: dashboard performance). Prints numbers; asserts nothing.
//!
//!   cargo bench -p server --bench http -- [--stage-rows N] [--clients 50] [--requests 4000]
//!
//! Fills a fresh SQLite store with the synthetic generator (as the cost
//! benchmark does), serves the real router on a loopback port, signs in as
//! the first organization's owner, and then, for GET /dashboard/costs/by-model
//! and /dashboard/costs/per-user (cookie auth, all time):
//! 1. the bare rollup query behind it (no HTTP, nothing remembered), alone and
//!    under the same number of concurrent callers as the HTTP clients;
//! 2. the endpoint with every request asking a new range (the query runs every time);
//! 3. the endpoint as a dashboard uses it (the same range again: the answer is
//!    remembered until the organization's usage changes, see costs::answers);
//!    p50/p99 and requests/s of each.
//! 4. p99 of GET /dashboard/overview while 10 sign-ins per second hash passwords.
//!
//! Load generator and server share the machine's two cores; the numbers
//! include that contention.

use models::org::Caller;
use models::{Day, DayRange, Role};
use secrecy::SecretString;
use services::costs::analytics::{self, Grouping};
use services::costs::synthetic;
use services::{AppState, Config, Store};
use std::time::{Duration, Instant};

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

/// Latencies and rate of one closed-loop run.
struct Run {
    p50: f64,
    p99: f64,
    rate: f64,
}

fn row(what: &str, run: &Run) {
    println!(
        "| {what} | {:.2} ms | {:.2} ms | {:.0} |",
        run.p50, run.p99, run.rate
    );
}

/// `clients` tasks each send their share of `requests`, one after another.
async fn closed_loop<F, Fut>(clients: usize, requests: usize, call: F) -> anyhow::Result<Run>
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>> + Send + 'static,
{
    let per_client = (requests / clients).max(1);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let calls: Vec<Fut> = (0..per_client).map(|i| call(c * per_client + i)).collect();
        tasks.push(tokio::spawn(async move {
            let mut times = Vec::with_capacity(calls.len());
            for one in calls {
                let t = Instant::now();
                one.await?;
                times.push(t.elapsed());
            }
            anyhow::Ok(times)
        }));
    }
    let mut times = Vec::new();
    for task in tasks {
        times.extend(task.await??);
    }
    let wall = started.elapsed();
    times.sort();
    Ok(Run {
        p50: percentile(&times, 0.5),
        p99: percentile(&times, 0.99),
        rate: times.len() as f64 / wall.as_secs_f64(),
    })
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let stage_rows: u64 = arg("--stage-rows").map_or(Ok(10_000_000), |v| v.parse())?;
    let clients: usize = arg("--clients").map_or(Ok(50), |v| v.parse())?;
    let requests: usize = arg("--requests").map_or(Ok(4_000), |v| v.parse())?;

    let dir = tempfile::tempdir()?;
    let url = format!("sqlite://{}/bench.db", dir.path().display());
    let data_dir = dir.path().display().to_string();
    let config = Config::from_lookup(|name| match name {
        "DATABASE_URL" => Some(url.clone()),
        "TABLETALK_DATA_DIR" => Some(data_dir.clone()),
        _ => None,
    })
    .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let store = Store::connect(&SecretString::from(url.clone())).await?;
    let state = AppState::new(store, config)?;
    let uncached = AppState {
        answers: services::costs::answers::Answers::none(),
        ..state.clone()
    };

    let today = Day::of_unix(services::clock::now());
    let conversations = synthetic::conversations_for_stages(stage_rows);
    let mut options = synthetic::Options::new(conversations, today);
    options.orgs = 5;
    options.users_per_org = 20;
    let started = Instant::now();
    let summary = synthetic::generate(&state.store, &state.prices, &options).await?;
    println!(
        "generated {} conversations, {} stage rows in {:.1?}\n",
        summary.conversations,
        summary.stages,
        started.elapsed()
    );

    // The first organization's owner signs in like a person would.
    let owner_id = options.first_user_id;
    let owner = services::access::caller(&state.store, owner_id)
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.message()))?;
    let creds = services::auth::credentials::reset(&state.store, &owner)
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.message()))?;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let mut leptos_options = server::site::options()?;
    leptos_options.site_addr = addr;
    let router = server::router(state.clone(), leptos_options);
    tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await
    });
    let base = format!("http://{addr}");
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(clients)
        .build()?;
    let login: serde_json::Value = http
        .post(format!("{base}/dashboard/login"))
        .json(&serde_json::json!({"username": creds.username, "password": creds.password}))
        .send()
        .await?
        .json()
        .await?;
    let cookie = format!(
        "tabletalk_session={}",
        login["token"]
            .as_str()
            .ok_or_else(|| anyhow::anyhow!("no token: {login}"))?
    );

    let caller = Caller {
        user_id: Some(owner_id),
        role: Role::Owner,
        org_id: owner.org_id.clone(),
    };
    println!(
        "{clients} concurrent closed-loop clients, {requests} requests each row, all-time range.\n"
    );
    println!("| what | p50 | p99 | requests/s |");
    println!("|---|---|---|---|");
    for (path, grouping) in [
        ("costs/by-model", Grouping::Model),
        ("costs/per-user", Grouping::User),
    ] {
        // The service's rollup query behind the endpoint, no HTTP, nothing
        // remembered (a state whose answers cache is off; the usage counter
        // is still read): once alone, then under the same concurrency as the
        // HTTP clients.
        let bare = || {
            let (state, caller) = (uncached.clone(), caller.clone());
            async move {
                analytics::grouped(&state, &caller, &DayRange::all(), grouping)
                    .await
                    .map(drop)
                    .map_err(|e| anyhow::anyhow!("{}", e.message()))
            }
        };
        let alone = closed_loop(1, 300.min(requests), |_| bare()).await?;
        row(&format!("{path}: bare SQL query, 1 caller"), &alone);
        let bare_loaded = closed_loop(clients, requests, |_| bare()).await?;
        row(
            &format!("{path}: bare SQL query, {clients} callers"),
            &bare_loaded,
        );

        let get = |url: String| {
            let (http, cookie) = (http.clone(), cookie.clone());
            async move {
                let response = http.get(url).header("cookie", cookie).send().await?;
                anyhow::ensure!(
                    response.status().is_success(),
                    "status {}",
                    response.status()
                );
                response.bytes().await?;
                anyhow::Ok(())
            }
        };
        // Every request a range nobody asked before: the query runs each time.
        let uncached = closed_loop(clients, requests, |i| {
            // Distinct (from, to) pairs, each within the 731-day limit, covering all the data.
            let i = i as i64;
            get(format!(
                "{base}/dashboard/{path}?from={}&to={}",
                Day(today.0 - 590 - i % 100),
                Day(today.0 + (i / 100) % 41)
            ))
        })
        .await?;
        row(
            &format!("GET /dashboard/{path}, every request a new range"),
            &uncached,
        );
        let served = closed_loop(clients, requests, |_| {
            get(format!("{base}/dashboard/{path}"))
        })
        .await?;
        row(&format!("**GET /dashboard/{path}**"), &served);
        // What the server does per request besides HTTP: the service function
        // as the endpoint calls it (answer remembered), one caller.
        let service = closed_loop(1, 300.min(requests), |_| {
            let (state, caller) = (state.clone(), caller.clone());
            async move {
                let range = DayRange::all();
                let done = if grouping == Grouping::Model {
                    analytics::by_model(&state, &caller, &range).await.map(drop)
                } else {
                    analytics::per_user(&state, &caller, &range).await.map(drop)
                };
                done.map_err(|e| anyhow::anyhow!("{}", e.message()))
            }
        })
        .await?;
        row(
            &format!("{path}: service function (answer remembered), 1 caller"),
            &service,
        );
        println!(
            "| → HTTP p99 / bare query p99 under the same load: {:.2}x; / alone: {:.1}x | | | |",
            served.p99 / bare_loaded.p99,
            served.p99 / alone.p99
        );
    }

    // Sign-ins hashing at 10 per second while others read the overview.
    let logins =
        {
            let (http, base, creds) = (http.clone(), base.clone(), creds.clone());
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(Duration::from_millis(100));
                let mut done = 0u64;
                let started = Instant::now();
                while started.elapsed() < Duration::from_secs(15) {
                    tick.tick().await;
                    let (http, base, username, password) = (
                        http.clone(),
                        base.clone(),
                        creds.username.clone(),
                        creds.password.clone(),
                    );
                    tokio::spawn(async move {
                        drop(http.post(format!("{base}/dashboard/login"))
                        .json(&serde_json::json!({"username": username, "password": password}))
                        .send()
                        .await);
                    });
                    done += 1;
                }
                done
            })
        };
    tokio::time::sleep(Duration::from_secs(1)).await;
    let mut times = Vec::new();
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(12) {
        let t = Instant::now();
        let response = http
            .get(format!("{base}/dashboard/overview"))
            .header("cookie", &cookie)
            .send()
            .await?;
        anyhow::ensure!(
            response.status().is_success(),
            "overview: {}",
            response.status()
        );
        response.bytes().await?;
        times.push(t.elapsed());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let started_logins = logins.await?;
    times.sort();
    println!(
        "\n| while {started_logins} sign-ins hashed over 15 s (10/s) | p50 | p99 | requests |\n|---|---|---|---|\n| GET /dashboard/overview | {:.2} ms | {:.2} ms | {} |",
        percentile(&times, 0.5),
        percentile(&times, 0.99),
        times.len()
    );
    Ok(())
}
