//! MySQL and MariaDB: the documented built-ins (`mysql.txt`), the system schemas.

use super::{words, EngineRules};
use sqlparser::dialect::MySqlDialect;
use std::collections::HashSet;
use std::sync::LazyLock;

pub(super) static MYSQL_BUILTINS: LazyLock<HashSet<&'static str>> =
    LazyLock::new(|| words(include_str!("mysql.txt")));

pub(super) static RULES: EngineRules = EngineRules {
    dialect: || Box::new(MySqlDialect {}),
    builtins: &MYSQL_BUILTINS,
    volatile_allowed: &["rand", "uuid", "now", "sysdate", "unix_timestamp"],
    refused_functions: &[
        "load_file",
        "sleep",
        "benchmark",
        "get_lock",
        "release_lock",
        "release_all_locks",
        "is_free_lock",
        "is_used_lock",
        "master_pos_wait",
        "source_pos_wait",
        "master_gtid_wait",
        "wait_for_executed_gtid_set",
        "wait_until_sql_thread_after_gtids",
    ],
    system_schemas: &["mysql", "information_schema", "performance_schema", "sys"],
    system_prefixes: &[],
    system_relations: &[],
    builtin_schema: None,
    max_name_parts: 2,
    reserved_words: &[],
    bare_table_hints: false,
};
