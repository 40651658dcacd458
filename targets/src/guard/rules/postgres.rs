//! PostgreSQL: functions by its own catalogue (see `postgres.txt` and
//! `crate::postgres::function_catalogue`), the system schemas and `pg_*`.

use super::{words, EngineRules};
use sqlparser::dialect::PostgreSqlDialect;
use std::collections::HashSet;
use std::sync::LazyLock;

pub(super) static POSTGRES_BUILTINS: LazyLock<HashSet<&'static str>> =
    LazyLock::new(|| words(include_str!("postgres.txt")));

pub(super) static RULES: EngineRules = EngineRules {
    dialect: || Box::new(PostgreSqlDialect {}),
    builtins: &POSTGRES_BUILTINS,
    volatile_allowed: &[
        "random",
        "random_normal",
        "clock_timestamp",
        "statement_timestamp",
        "transaction_timestamp",
        "timeofday",
        "gen_random_uuid",
        "uuid_generate_v4",
    ],
    // STABLE by the catalogue, yet they read settings or run SQL from a string.
    refused_functions: &[
        "current_setting",
        "ts_stat",
        "ts_rewrite",
        "set_config",
        "nextval",
        "setval",
        "currval",
        "lastval",
    ],
    system_schemas: &["pg_catalog", "information_schema", "pg_toast"],
    system_prefixes: &["pg_"],
    system_relations: &[],
    builtin_schema: Some("pg_catalog"),
    max_name_parts: 3,
    reserved_words: &[],
    bare_table_hints: false,
};
