//! The first-run demo: what it seeds, and when it must not.

use models::DayRange;
use services::databases;
use services::{access, demo, AppState, Config, Store};

async fn state(dir: &std::path::Path, with_database_url: bool) -> AppState {
    let data_dir = dir.display().to_string();
    let url = format!("sqlite://{}/tabletalk.db", dir.display());
    let config = Config::from_lookup(|name| match name {
        "TABLETALK_DATA_DIR" => Some(data_dir.clone()),
        "DATABASE_URL" if with_database_url => Some(url.clone()),
        _ => None,
    })
    .expect("valid");
    let store = Store::connect(&config.database_url).await.expect("store");
    AppState::new(store, config).expect("state")
}

#[tokio::test]
async fn a_first_run_gets_a_labelled_demo_with_a_database_and_usage() {
    services::telemetry::init_for_tests();
    let dir = tempfile::tempdir().expect("tempdir");
    let state = state(dir.path(), false).await;
    assert!(state.config.database_url_is_default);
    let seeded = demo::seed_if_fresh(&state)
        .await
        .expect("seeds")
        .expect("a first run");
    assert!(seeded.conversations > 0);

    // The printed credentials sign in as the owner of the demo organization.
    let login = services::auth::login(
        &state.store,
        &models::auth::LoginRequest {
            username: seeded.owner.username.clone(),
            password: seeded.owner.password.clone(),
        },
        None,
    )
    .await
    .expect("signs in");
    assert_eq!(login.org_name.as_deref(), Some(demo::ORG_NAME));
    let owner = access::caller(&state.store, demo::OWNER_ID)
        .await
        .expect("owner");
    let members = services::orgs::members::list(&state.store, &owner)
        .await
        .expect("members");
    assert_eq!(members.len(), 3);

    // Its sales database is registered, readable and queryable.
    let list = databases::list(&state, &owner).await.expect("databases");
    assert_eq!(list.len(), 1);
    let id = list[0].connection_id.clone();
    let schema = databases::schema(&state, &owner, &id, true)
        .await
        .expect("schema");
    assert!(
        schema.tables.iter().any(|t| t.name == "orders"),
        "{schema:?}"
    );
    let result = databases::query(&state, &owner, &id, "SELECT COUNT(*) FROM orders")
        .await
        .expect("query");
    assert_eq!(result.rows[0][0].render(), "300");

    // 90 days of usage, spread over the members.
    let totals = services::costs::analytics::overview(&state, &owner, &DayRange::all())
        .await
        .expect("totals");
    assert_eq!(totals.conversations as u64, seeded.conversations);
    assert!(totals.total_cost > models::Usd::ZERO);
    let daily = services::costs::analytics::daily(&state, &owner, &DayRange::all())
        .await
        .expect("daily");
    assert!(
        daily.len() > 60 && daily.len() <= 90,
        "{} days",
        daily.len()
    );

    // A second start seeds nothing.
    assert!(demo::seed_if_fresh(&state).await.expect("checks").is_none());
}

#[tokio::test]
async fn no_demo_with_a_configured_store_or_when_turned_off() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = state(dir.path(), true).await;
    assert!(demo::seed_if_fresh(&state).await.expect("checks").is_none());
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM organizations")
        .fetch_one(state.store.pool())
        .await
        .expect("count");
    assert_eq!(count, 0);
    let config = Config::from_lookup(|name| (name == "TABLETALK_DEMO").then(|| "0".to_owned()))
        .expect("valid");
    assert!(!config.demo);
    assert!(
        Config::from_lookup(|name| (name == "TABLETALK_DEMO").then(|| "maybe".to_owned())).is_err()
    );
}
