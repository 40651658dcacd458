//! The demo organization a newcomer's first `make run` gets, so every page
//! has something real to show: an owner and two members, a small SQLite sales
//! database registered as the organization's database, and 90 days of
//! synthetic usage. Only on the embedded default store, only when the store is
//! empty, and not when `TABLETALK_DEMO=0`.

use crate::costs::synthetic;
use crate::databases;
use crate::{access, operator, users, AppState};
use anyhow::Context;
use models::org::Credentials;
use models::targets::NewDatabase;
use models::Day;
use sqlx::Connection;

/// Telegram ids of the demo people (far from real ids).
pub const OWNER_ID: i64 = 100_000_001;
const MEMBERS: [(i64, &str); 2] = [(100_000_002, "Max Demo"), (100_000_003, "Lena Demo")];
/// A Telegram user who has met the bot but is not in the demo organization.
pub const NOT_YET_MEMBER: i64 = 100_000_004;
/// The clearly labelled demo organization.
pub const ORG_NAME: &str = "Demo Company (sample data)";
/// The sample database's file, in the SQLite targets folder.
pub const SALES_FILE: &str = "demo-sales.db";

/// What was seeded: the owner's credentials, shown once.
#[derive(Debug)]
pub struct Seeded {
    pub owner: Credentials,
    pub org_id: models::OrgId,
    pub conversations: u64,
}

/// Seeds the demo if this is a first run on the embedded default store.
pub async fn seed_if_fresh(state: &AppState) -> anyhow::Result<Option<Seeded>> {
    if !state.config.demo || !state.config.database_url_is_default {
        return Ok(None);
    }
    let people: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM telegram_users")
        .fetch_one(state.store.pool())
        .await?;
    let accounts: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM dashboard_users")
        .fetch_one(state.store.pool())
        .await?;
    if people > 0 || accounts > 0 {
        return Ok(None);
    }
    seed(state).await.map(Some)
}

/// Seeds the demo organization unconditionally (tests call this directly).
pub async fn seed(state: &AppState) -> anyhow::Result<Seeded> {
    let store = &state.store;
    let (org, owner) = operator::create_org(store, ORG_NAME, OWNER_ID, Some("Olga Demo"))
        .await
        .map_err(|e| anyhow::anyhow!("creating the demo organization: {}", e.message()))?;
    for (id, name) in MEMBERS {
        operator::add_member(store, org.org_id.as_str(), id, Some(name))
            .await
            .map_err(|e| anyhow::anyhow!("adding a demo member: {}", e.message()))?;
    }
    // In the demo organization's own folder, like every organization's files.
    let folder = state.config.sqlite_targets_dir.join(org.org_id.as_str());
    write_sales_database(&folder.join(SALES_FILE)).await?;
    let caller = access::caller(store, OWNER_ID)
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.message()))?;
    databases::add(
        state,
        &caller,
        &NewDatabase {
            name: "Demo sales".into(),
            connection_string: format!("sqlite://{SALES_FILE}"),
            scope: None,
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!("registering the demo database: {}", e.message()))?;
    let today = Day::of_unix(crate::clock::now());
    let mut options = synthetic::Options::new(1_500, today);
    options.days = 90;
    options.seed = 7;
    options.into = Some((
        org.org_id.clone(),
        std::iter::once(OWNER_ID)
            .chain(MEMBERS.iter().map(|(id, _)| *id))
            .collect(),
    ));
    let summary = synthetic::generate(store, &state.prices, &options).await?;
    tracing::info!(org = %org.org_id, conversations = summary.conversations, "seeded the demo organization");
    // Someone who has written to the bot but is not a member yet, to try "Add member" with.
    users::register(
        store,
        &models::org::TelegramProfile {
            user_id: NOT_YET_MEMBER,
            username: Some("nina_demo".into()),
            first_name: "Nina".into(),
            last_name: Some("Demo".into()),
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!("{}", e.message()))?;
    Ok(Seeded {
        owner,
        org_id: org.org_id,
        conversations: summary.conversations,
    })
}

/// A small sales schema: regions, customers, products, orders and their lines.
async fn write_sales_database(path: &std::path::Path) -> anyhow::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    if path.exists() {
        std::fs::remove_file(path).with_context(|| format!("replacing {}", path.display()))?;
    }
    let url = format!("sqlite://{}?mode=rwc", path.display());
    let mut conn = sqlx::SqliteConnection::connect(&url).await?;
    let mut script = String::from(
        "CREATE TABLE regions (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
         CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL, region_id INTEGER NOT NULL REFERENCES regions (id), since DATE NOT NULL);
         CREATE TABLE products (id INTEGER PRIMARY KEY, name TEXT NOT NULL, category TEXT NOT NULL, price NUMERIC(10, 2) NOT NULL, stock INTEGER NOT NULL);
         CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL REFERENCES customers (id), ordered_on DATE NOT NULL, shipped_on DATE, status TEXT NOT NULL);
         CREATE TABLE order_lines (order_id INTEGER NOT NULL REFERENCES orders (id), product_id INTEGER NOT NULL REFERENCES products (id), quantity INTEGER NOT NULL, unit_price NUMERIC(10, 2) NOT NULL, PRIMARY KEY (order_id, product_id));
         CREATE VIEW monthly_revenue AS SELECT substr(o.ordered_on, 1, 7) AS month, SUM(l.quantity * l.unit_price) AS revenue FROM orders o JOIN order_lines l ON l.order_id = o.id GROUP BY 1;
         INSERT INTO regions VALUES (1, 'North'), (2, 'South'), (3, 'East'), (4, 'West');",
    );
    let products = [
        ("Espresso beans 1kg", "Coffee", "24.90"),
        ("Filter coffee 500g", "Coffee", "9.50"),
        ("Green tea 100g", "Tea", "6.20"),
        ("Ceramic mug", "Kitchen", "12.00"),
        ("Milk frother", "Kitchen", "39.00"),
        ("Hand grinder", "Kitchen", "59.00"),
        ("Oat milk 1l", "Dairy-free", "2.40"),
        ("Chocolate bar", "Snacks", "3.10"),
    ];
    for (i, (name, category, price)) in products.iter().enumerate() {
        script.push_str(&format!(
            "INSERT INTO products VALUES ({}, '{name}', '{category}', {price}, {});",
            i + 1,
            (i * 37 + 11) % 120
        ));
    }
    let names = [
        "Anna", "Ben", "Chen", "Dana", "Emil", "Fatima", "Goran", "Hana", "Ivo", "Jonas",
    ];
    for i in 0..40 {
        script.push_str(&format!(
            "INSERT INTO customers VALUES ({}, '{} {}', {}, '2025-{:02}-{:02}');",
            i + 1,
            names[i % names.len()],
            ["Shop", "Cafe", "Bistro", "Market"][i % 4],
            i % 4 + 1,
            i % 12 + 1,
            i % 28 + 1
        ));
    }
    for i in 0..300usize {
        let month = i % 12 + 1;
        let day = i * 7 % 28 + 1;
        let shipped = if i % 9 == 0 {
            "NULL".to_owned()
        } else {
            format!("'2026-{month:02}-{:02}'", (day + 2).min(28))
        };
        let status = if i % 9 == 0 { "open" } else { "shipped" };
        script.push_str(&format!(
            "INSERT INTO orders VALUES ({}, {}, '2026-{month:02}-{day:02}', {shipped}, '{status}');",
            i + 1,
            i * 13 % 40 + 1
        ));
        for j in 0..(i % 3 + 1) {
            let product = (i + j * 3) % products.len();
            script.push_str(&format!(
                "INSERT INTO order_lines VALUES ({}, {}, {}, {});",
                i + 1,
                product + 1,
                (i + j) % 5 + 1,
                products[product].2
            ));
        }
    }
    sqlx::raw_sql(sqlx::AssertSqlSafe(script))
        .execute(&mut conn)
        .await
        .context("writing the demo sales database")?;
    conn.close().await?;
    Ok(())
}
