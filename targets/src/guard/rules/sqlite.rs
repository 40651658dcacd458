//! SQLite: the documented built-ins (`sqlite.txt`), `sqlite_*` and `pragma_*`.

use super::{words, EngineRules};
use sqlparser::dialect::SQLiteDialect;
use std::collections::HashSet;
use std::sync::LazyLock;

pub(super) static SQLITE_BUILTINS: LazyLock<HashSet<&'static str>> =
    LazyLock::new(|| words(include_str!("sqlite.txt")));

pub(super) static RULES: EngineRules = EngineRules {
    dialect: || Box::new(SQLiteDialect {}),
    builtins: &SQLITE_BUILTINS,
    volatile_allowed: &[],
    refused_functions: &[
        "load_extension",
        "readfile",
        "writefile",
        "edit",
        "fts3_tokenizer",
        "fsdir",
        "lsdir",
        "zipfile",
    ],
    system_schemas: &[],
    system_prefixes: &["sqlite_", "pragma_"],
    system_relations: &["fsdir", "zipfile", "sqlite_dbpage", "dbstat"],
    builtin_schema: None,
    max_name_parts: 2,
    reserved_words: &[],
    bare_table_hints: false,
};
