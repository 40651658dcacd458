//! Pruning's unit tests (beside the module, to keep prune.rs short).

use super::*;
use models::targets::{ColumnInfo, ForeignKey, TableKind};

fn table(name: &str, columns: &[&str], fks: &[(&str, &str)]) -> TableInfo {
    TableInfo {
        schema: None,
        name: name.into(),
        kind: TableKind::Table,
        columns: columns
            .iter()
            .map(|c| ColumnInfo {
                name: (*c).into(),
                data_type: "integer".into(),
                nullable: true,
                ..ColumnInfo::default()
            })
            .collect(),
        primary_key: vec!["id".into()],
        foreign_keys: fks
            .iter()
            .map(|(col, target)| ForeignKey {
                columns: vec![(*col).into()],
                references_table: (*target).into(),
                references_columns: vec!["id".into()],
            })
            .collect(),
        row_estimate: None,
    }
}

fn shop(extra: usize) -> Schema {
    let mut tables = vec![
        table("customers", &["id", "name", "country"], &[]),
        table(
            "orders",
            &["id", "customer_id", "ordered_at"],
            &[("customer_id", "customers")],
        ),
        table(
            "order_lines",
            &["id", "order_id", "product_id", "quantity", "unitPrice"],
            &[("order_id", "orders"), ("product_id", "products")],
        ),
        table("products", &["id", "title", "category"], &[]),
    ];
    for i in 0..extra {
        tables.push(table(
            &format!("audit_trail_{i}"),
            &["id", "actor", "happened_at", "payload"],
            &[],
        ));
    }
    Schema { tables, read_at: 0 }
}

#[test]
fn names_split_on_case_and_underscores_and_plurals_fold() {
    assert_eq!(words("order_lines"), ["order", "line"]);
    assert_eq!(words("unitPrice"), ["unit", "price"]);
    assert_eq!(
        words("Categories of PRODUCTS"),
        ["category", "of", "product"]
    );
    assert_eq!(words("addresses"), ["address"]);
    assert_eq!(words("class"), ["class"]);
}

#[test]
fn the_asked_tables_and_their_join_path_are_kept_and_the_rest_left_out() {
    let schema = shop(200);
    let pruned = prune(
        &schema,
        "Revenue per customer country for each product category",
        &[],
        6_000,
    );
    for needed in ["customers", "orders", "order_lines", "products"] {
        assert!(
            pruned.tables.iter().any(|t| t == needed),
            "{needed}: {:?}",
            pruned.tables
        );
    }
    assert!(
        pruned.schema_tokens < pruned.whole_schema_tokens / 5,
        "{pruned:?}"
    );
    assert!(pruned
        .text
        .contains("other tables of this database are not shown"));
    assert!(pruned
        .columns
        .contains(&("order_lines".into(), "unitPrice".into())));
}

#[test]
fn the_budget_holds_and_earlier_turns_count() {
    let schema = shop(200);
    let pruned = prune(
        &schema,
        "and last month?",
        &["How many products per category?"],
        300,
    );
    assert!(
        pruned.tables.iter().any(|t| t == "products"),
        "{:?}",
        pruned.tables
    );
    assert!(pruned.schema_tokens <= 300 + 40, "{}", pruned.schema_tokens);
    let nothing = prune(&schema, "hello there", &[], 200);
    assert!(
        !nothing.tables.is_empty(),
        "falls back to the schema's order"
    );
    assert!(nothing.schema_tokens <= 200 + 40);
}

#[test]
fn a_value_the_question_names_finds_its_column_and_the_prompt_says_where() {
    let mut schema = shop(300);
    // Neither the table's name nor its columns say "Aruba": only a value does.
    schema.tables.push(table("regions", &["id", "label"], &[]));
    let regions = schema.tables.len() - 1;
    schema.tables[regions].columns[1].values =
        vec!["Aruba".into(), "New Zealand".into(), "US".into()];
    let budget = 200; // only a few tables fit: the value must rank it high
    let pruned = prune(
        &schema,
        "How many regions are there besides Aruba?",
        &[],
        budget,
    );
    assert!(
        pruned.tables.contains(&"regions".to_owned()),
        "{:?}",
        pruned.tables
    );
    let pruned = prune(&schema, "sales in New Zealand last year", &[], budget);
    assert!(
        pruned.tables.contains(&"regions".to_owned()),
        "{:?}",
        pruned.tables
    );
    assert!(
        pruned.text.contains("regions.label = 'New Zealand'"),
        "{}",
        pruned.text
    );
    // A value must be named whole: "New" alone is not "New Zealand".
    let other = prune(&schema, "new customers this week", &[], budget);
    assert!(!other.text.contains("New Zealand"), "{}", other.text);
}

#[test]
fn column_comments_rank_and_are_shown() {
    let mut schema = shop(300);
    schema.tables.push(table("t_x9", &["id", "amt"], &[]));
    let last = schema.tables.len() - 1;
    schema.tables[last].columns[1].comment = Some("Refund paid\nto the buyer [EUR]".into());
    let pruned = prune(&schema, "total refund amounts", &[], 200);
    assert!(
        pruned.tables.contains(&"t_x9".to_owned()),
        "{:?}",
        pruned.tables
    );
    assert!(
        pruned
            .text
            .contains("amt integer [Refund paid to the buyer (EUR)]"),
        "{}",
        pruned.text
    );
}

#[test]
fn tokens_are_counted_by_bpe_not_characters() {
    assert_eq!(tokens(""), 0);
    let text = "SELECT customer_id, SUM(total) FROM orders GROUP BY customer_id";
    let n = tokens(text);
    assert!(n > 5 && n < text.len() / 2, "{n}");
}
