//! Schema pruning: the Analysis prompt's size and the pruning's recall on
//! synthetic schemas of growing size. Prints numbers; asserts nothing.
//!
//!   cargo bench -p services --bench prune
//!
//! Five connected business domains (25 tables) hold every table the
//! questions need; filler tables (logs, staging, feature tables with their
//! own columns) grow the schema to 100 and 500 tables. Each question lists
//! the tables its SQL needs; recall is the share of questions whose pruned
//! schema holds all of them. Some small text columns carry their distinct
//! values (the value index) and some columns a comment, as a real schema
//! read would; six questions can only find their tables through those.

use models::targets::{ColumnInfo, ForeignKey, Schema, TableInfo, TableKind, TargetKind};
use services::ask::prompts;
use services::ask::prune::{prune, tokens};
use services::ask::ANALYSIS_TOKEN_BUDGET;

fn table(name: &str, columns: &[&str], fks: &[(&str, &str)]) -> TableInfo {
    TableInfo {
        schema: None,
        name: name.into(),
        kind: TableKind::Table,
        columns: columns
            .iter()
            .map(|c| ColumnInfo {
                name: (*c).into(),
                data_type: if c.ends_with("_on") || c.ends_with("_at") {
                    "date".into()
                } else if *c == "id" || c.ends_with("_id") {
                    "integer".into()
                } else {
                    "varchar(100)".into()
                },
                nullable: *c != "id",
                ..ColumnInfo::default()
            })
            .collect(),
        primary_key: vec!["id".into()],
        foreign_keys: fks
            .iter()
            .map(|(column, target)| ForeignKey {
                columns: vec![(*column).into()],
                references_table: (*target).into(),
                references_columns: vec!["id".into()],
            })
            .collect(),
        row_estimate: None,
    }
}

fn domains() -> Vec<TableInfo> {
    vec![
        table("customers", &["id", "name", "country", "signed_up_on"], &[]),
        table(
            "orders",
            &["id", "customer_id", "ordered_at", "status", "total"],
            &[("customer_id", "customers")],
        ),
        table(
            "order_lines",
            &["id", "order_id", "product_id", "quantity", "unit_price"],
            &[("order_id", "orders"), ("product_id", "products")],
        ),
        table(
            "products",
            &["id", "title", "category_id", "list_price"],
            &[("category_id", "categories")],
        ),
        table("categories", &["id", "name", "parent_id"], &[]),
        table(
            "employees",
            &["id", "first_name", "last_name", "department_id", "hired_on"],
            &[("department_id", "departments")],
        ),
        table(
            "departments",
            &["id", "name", "location_id"],
            &[("location_id", "locations")],
        ),
        table("locations", &["id", "city", "country"], &[]),
        table(
            "salaries",
            &["id", "employee_id", "amount", "paid_on"],
            &[("employee_id", "employees")],
        ),
        table(
            "reviews",
            &["id", "employee_id", "score", "reviewed_on"],
            &[("employee_id", "employees")],
        ),
        table(
            "shipments",
            &["id", "order_ref", "carrier_id", "shipped_on", "weight_kg"],
            &[("carrier_id", "carriers")],
        ),
        table("carriers", &["id", "name", "country"], &[]),
        table("warehouses", &["id", "city", "capacity"], &[]),
        table(
            "stock_levels",
            &["id", "warehouse_id", "sku", "quantity", "counted_on"],
            &[("warehouse_id", "warehouses")],
        ),
        table(
            "returns",
            &["id", "shipment_id", "reason", "returned_on"],
            &[("shipment_id", "shipments")],
        ),
        table("leads", &["id", "source", "created_on", "converted"], &[]),
        table("accounts", &["id", "name", "industry", "created_on"], &[]),
        table(
            "contacts",
            &["id", "account_id", "email", "title"],
            &[("account_id", "accounts")],
        ),
        table(
            "opportunities",
            &["id", "account_id", "amount", "stage", "closed_on"],
            &[("account_id", "accounts")],
        ),
        table(
            "activities",
            &["id", "contact_id", "kind", "happened_at"],
            &[("contact_id", "contacts")],
        ),
        table(
            "invoices",
            &["id", "account_id", "issued_on", "amount"],
            &[("account_id", "accounts")],
        ),
        table(
            "payments",
            &["id", "invoice_id", "paid_on", "amount"],
            &[("invoice_id", "invoices")],
        ),
        table(
            "subscriptions",
            &["id", "account_id", "plan_id", "started_on"],
            &[("account_id", "accounts"), ("plan_id", "plans")],
        ),
        table("plans", &["id", "name", "price"], &[]),
        table(
            "refunds",
            &["id", "payment_id", "amount", "refunded_on"],
            &[("payment_id", "payments")],
        ),
    ]
}

/// What a schema read adds: the value index of small text columns and
/// column comments (filler tables get values too, as noise).
fn annotate(tables: &mut [TableInfo]) {
    let values: &[(&str, &str, &[&str])] = &[
        (
            "customers",
            "country",
            &["Aruba", "Germany", "France", "Japan", "Brazil"],
        ),
        (
            "orders",
            "status",
            &["pending", "shipped", "cancelled", "returned"],
        ),
        ("carriers", "name", &["DHL", "UPS", "FedEx", "La Poste"]),
        (
            "leads",
            "source",
            &["webinar", "referral", "ads", "trade show"],
        ),
        (
            "opportunities",
            "stage",
            &["prospecting", "negotiation", "won", "lost"],
        ),
        (
            "departments",
            "name",
            &["Engineering", "Sales", "Finance", "Support"],
        ),
        ("plans", "name", &["Starter", "Team", "Enterprise"]),
    ];
    let comments: &[(&str, &str, &str)] = &[
        (
            "shipments",
            "weight_kg",
            "Parcel weight in kilograms, as weighed at the depot",
        ),
        (
            "activities",
            "kind",
            "Call, meeting or email with the contact",
        ),
        ("invoices", "amount", "Billed amount in EUR, VAT included"),
    ];
    for table in tables.iter_mut() {
        for column in &mut table.columns {
            if let Some((_, _, v)) = values
                .iter()
                .find(|(t, c, _)| *t == table.name && *c == column.name)
            {
                column.values = v.iter().map(|s| (*s).to_owned()).collect();
            }
            if let Some((_, _, text)) = comments
                .iter()
                .find(|(t, c, _)| *t == table.name && *c == column.name)
            {
                column.comment = Some((*text).to_owned());
            }
            if table.name.starts_with("audit_log") && column.name == "action" {
                column.values = ["login", "export", "delete", "update"]
                    .iter()
                    .map(|s| (*s).to_owned())
                    .collect();
            }
        }
    }
}

/// Tables that are in every big database and in no question.
fn filler(n: usize) -> Vec<TableInfo> {
    let kinds = [
        (
            "etl_staging",
            &["id", "batch", "loaded_at", "payload", "checksum"][..],
        ),
        (
            "audit_log",
            &["id", "actor", "action", "happened_at", "details"][..],
        ),
        (
            "feature_flag",
            &["id", "flag", "enabled", "rollout_percent"][..],
        ),
        ("tmp_import", &["id", "source_file", "line_no", "raw"][..]),
        (
            "ml_feature",
            &["id", "entity_key", "vector", "computed_at"][..],
        ),
        (
            "webhook_event",
            &["id", "provider", "event_type", "received_at", "body"][..],
        ),
        (
            "cache_entry",
            &["id", "cache_key", "value", "expires_at"][..],
        ),
        (
            "job_run",
            &["id", "job", "started_at", "finished_at", "exit_code"][..],
        ),
    ];
    (0..n)
        .map(|i| {
            let (name, columns) = kinds[i % kinds.len()];
            table(&format!("{name}_{}", i / kinds.len()), columns, &[])
        })
        .collect()
}

/// Questions and the tables their SQL needs.
const QUESTIONS: &[(&str, &[&str])] = &[
    (
        "Revenue per product category last month",
        &["order_lines", "orders", "products", "categories"],
    ),
    (
        "Which customers from Aruba ordered the most?",
        &["customers", "orders"],
    ),
    (
        "Average salary per department",
        &["salaries", "employees", "departments"],
    ),
    (
        "How many shipments did each carrier ship in October?",
        &["shipments", "carriers"],
    ),
    (
        "Total payments per invoice month",
        &["payments", "invoices"],
    ),
    (
        "Open opportunity amount per industry",
        &["opportunities", "accounts"],
    ),
    (
        "Stock quantity per warehouse city",
        &["stock_levels", "warehouses"],
    ),
    (
        "Employees hired per location city this year",
        &["employees", "departments", "locations"],
    ),
    ("Contacts per account industry", &["contacts", "accounts"]),
    (
        "Average review score per department",
        &["reviews", "employees", "departments"],
    ),
    (
        "Top 5 products by quantity sold",
        &["order_lines", "products"],
    ),
    ("Refunded amount per month", &["refunds"]),
    (
        "Which plans have the most subscriptions?",
        &["subscriptions", "plans"],
    ),
    (
        "Returns per reason for shipments in 2026",
        &["returns", "shipments"],
    ),
    ("Leads per source that converted", &["leads"]),
    (
        "Activities per contact title last week",
        &["activities", "contacts"],
    ),
    // Only a value or a comment names these tables.
    ("Total spent by buyers in Japan", &["customers", "orders"]),
    (
        "How many parcels went with DHL?",
        &["shipments", "carriers"],
    ),
    ("How many deals are in negotiation?", &["opportunities"]),
    ("Headcount in Engineering", &["employees", "departments"]),
    ("Which webinar signups turned into customers?", &["leads"]),
    ("Heaviest parcels by weight this year", &["shipments"]),
];

fn main() {
    println!("| schema | tables | whole schema tokens | Analysis prompt tokens, mean | max | recall (every needed table kept) |");
    println!("|---|---|---|---|---|---|");
    for total in [25, 100, 500] {
        let mut tables = domains();
        tables.extend(filler(total - tables.len()));
        annotate(&mut tables);
        let schema = Schema { tables, read_at: 0 };
        let system = tokens(prompts::ANALYSIS_SYSTEM);
        let mut sizes = Vec::new();
        let mut found = 0;
        let mut whole = 0;
        let mut missed = Vec::new();
        for (question, needed) in QUESTIONS {
            let rest = system
                + tokens(&prompts::analysis_input(
                    TargetKind::Postgres,
                    "2026-11-27",
                    "",
                    &[],
                    question,
                ));
            let pruned = prune(
                &schema,
                question,
                &[],
                ANALYSIS_TOKEN_BUDGET.saturating_sub(rest),
            );
            whole = pruned.whole_schema_tokens;
            let input = prompts::analysis_input(
                TargetKind::Postgres,
                "2026-11-27",
                &pruned.text,
                &[],
                question,
            );
            sizes.push(system + tokens(&input));
            if needed
                .iter()
                .all(|t| pruned.tables.iter().any(|kept| kept == t))
            {
                found += 1;
            } else {
                missed.push(*question);
            }
        }
        let mean = sizes.iter().sum::<usize>() / sizes.len();
        let max = sizes.iter().max().copied().unwrap_or(0);
        println!(
            "| {total} tables | {total} | {whole} | {mean} | {max} | {found}/{} ({:.0}%) |",
            QUESTIONS.len(),
            100.0 * found as f64 / QUESTIONS.len() as f64
        );
        for question in missed {
            eprintln!("  {total} tables: missed a table for {question:?}");
        }
    }
}
