//! Building one [`Schema`] from the rows each engine's catalogue returns.
//!
//! Every engine answers two flat listings: one row per column (with its
//! table), and one row per key column (primary or foreign). This module turns
//! them into tables with columns, keys and row estimates, the same way for
//! every kind, so the per-engine code is only the catalogue queries.

use models::targets::{ColumnInfo, ForeignKey, Schema, TableInfo, TableKind};
use std::collections::BTreeMap;

/// Most tables read from one database; the rest are left out of the schema.
pub const MAX_TABLES: usize = 2_000;

/// One column of one table or view.
#[derive(Debug, Clone)]
pub struct ColumnRow {
    pub schema: Option<String>,
    pub table: String,
    pub kind: TableKind,
    pub column: String,
    pub data_type: String,
    pub nullable: bool,
    pub row_estimate: Option<i64>,
    /// The column's comment, where the engine keeps one.
    pub comment: Option<String>,
}

/// One column of a primary key or a foreign key, in key order.
#[derive(Debug, Clone)]
pub struct KeyRow {
    pub schema: Option<String>,
    pub table: String,
    /// The constraint's name (groups the columns of one key).
    pub constraint: String,
    pub primary: bool,
    pub column: String,
    /// For foreign keys: the referenced table and column.
    pub ref_schema: Option<String>,
    pub ref_table: Option<String>,
    pub ref_column: Option<String>,
}

/// Assembles a schema; tables are kept in the order their first column arrived.
pub fn build(columns: Vec<ColumnRow>, keys: Vec<KeyRow>, read_at: i64) -> Schema {
    let mut order: Vec<(Option<String>, String)> = Vec::new();
    let mut tables: BTreeMap<(Option<String>, String), TableInfo> = BTreeMap::new();
    for row in columns {
        let key = (row.schema.clone(), row.table.clone());
        let table = tables.entry(key.clone()).or_insert_with(|| {
            order.push(key);
            TableInfo {
                schema: row.schema.clone(),
                name: row.table.clone(),
                kind: row.kind,
                columns: Vec::new(),
                primary_key: Vec::new(),
                foreign_keys: Vec::new(),
                row_estimate: row.row_estimate.filter(|n| *n >= 0),
            }
        });
        table.columns.push(ColumnInfo {
            name: row.column,
            data_type: row.data_type,
            nullable: row.nullable,
            comment: row
                .comment
                .map(|c| c.trim().to_owned())
                .filter(|c| !c.is_empty()),
            values: Vec::new(),
        });
    }
    // Foreign keys: group columns by (table, constraint), keeping key order.
    let mut foreign: BTreeMap<(Option<String>, String, String), ForeignKey> = BTreeMap::new();
    let mut foreign_order: Vec<(Option<String>, String, String)> = Vec::new();
    for key in keys {
        let table_key = (key.schema.clone(), key.table.clone());
        let Some(table) = tables.get_mut(&table_key) else {
            continue;
        };
        if key.primary {
            if !table.primary_key.contains(&key.column) {
                table.primary_key.push(key.column);
            }
            continue;
        }
        let Some(ref_table) = key.ref_table else {
            continue;
        };
        let references_table = match &key.ref_schema {
            Some(schema) => format!("{schema}.{ref_table}"),
            None => ref_table,
        };
        let id = (key.schema, key.table, key.constraint);
        let fk = foreign.entry(id.clone()).or_insert_with(|| {
            foreign_order.push(id);
            ForeignKey {
                columns: Vec::new(),
                references_table,
                references_columns: Vec::new(),
            }
        });
        fk.columns.push(key.column);
        if let Some(col) = key.ref_column {
            fk.references_columns.push(col);
        }
    }
    for id in foreign_order {
        if let (Some(fk), Some(table)) = (
            foreign.remove(&id),
            tables.get_mut(&(id.0.clone(), id.1.clone())),
        ) {
            table.foreign_keys.push(fk);
        }
    }
    let tables = order
        .into_iter()
        .filter_map(|key| tables.remove(&key))
        .take(MAX_TABLES)
        .collect();
    Schema { tables, read_at }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn col(table: &str, column: &str, kind: TableKind) -> ColumnRow {
        ColumnRow {
            schema: Some("public".into()),
            table: table.into(),
            kind,
            column: column.into(),
            data_type: "integer".into(),
            nullable: column != "id",
            row_estimate: Some(if kind == TableKind::View { -1 } else { 10 }),
            comment: None,
        }
    }

    fn key(table: &str, constraint: &str, column: &str, refs: Option<(&str, &str)>) -> KeyRow {
        KeyRow {
            schema: Some("public".into()),
            table: table.into(),
            constraint: constraint.into(),
            primary: refs.is_none(),
            column: column.into(),
            ref_schema: refs.map(|_| "public".into()),
            ref_table: refs.map(|(t, _)| t.into()),
            ref_column: refs.map(|(_, c)| c.into()),
        }
    }

    #[test]
    fn tables_columns_and_keys_are_assembled() {
        let schema = build(
            vec![
                col("orders", "id", TableKind::Table),
                col("orders", "customer_id", TableKind::Table),
                col("customers", "id", TableKind::Table),
                col("big_orders", "id", TableKind::View),
            ],
            vec![
                key("orders", "orders_pkey", "id", None),
                key(
                    "orders",
                    "orders_customer_fk",
                    "customer_id",
                    Some(("customers", "id")),
                ),
                key("customers", "customers_pkey", "id", None),
                key("missing", "missing_pkey", "id", None),
            ],
            42,
        );
        let names: Vec<_> = schema.tables.iter().map(|t| t.qualified_name()).collect();
        assert_eq!(
            names,
            ["public.orders", "public.customers", "public.big_orders"]
        );
        let orders = &schema.tables[0];
        assert_eq!(orders.primary_key, ["id"]);
        assert_eq!(orders.columns.len(), 2);
        assert!(!orders.columns[0].nullable && orders.columns[1].nullable);
        assert_eq!(orders.row_estimate, Some(10));
        assert_eq!(
            orders.foreign_keys,
            [ForeignKey {
                columns: vec!["customer_id".into()],
                references_table: "public.customers".into(),
                references_columns: vec!["id".into()],
            }]
        );
        assert_eq!(schema.tables[2].kind, TableKind::View);
        assert_eq!(schema.tables[2].row_estimate, None, "-1 means unknown");
        assert_eq!(schema.read_at, 42);
    }
}
