//! What each engine lets a question use: functions and relations, by rule.
//!
//! A function runs only when it is known to have no side effects:
//! - PostgreSQL: the engine says so. When a pool opens, the server's own
//!   catalogue is read (`pg_proc`: every overload IMMUTABLE or STABLE, see
//!   `crate::postgres::function_catalogue`); until then, or without a
//!   connection (`server check-sql`), the same rule as read from PostgreSQL
//!   15's catalogue ([`postgres.txt`](rules/postgres.txt)). A short list of
//!   VOLATILE functions people need (`random`, `clock_timestamp`...) is added.
//! - MySQL/MariaDB, SQLite and SQL Server: the engine's documented built-in
//!   scalar, aggregate and window functions, generated once from their
//!   documentation into `rules/<engine>.txt` (each file names its source).
//! - Anything else only when the database's owner allowed it by name.
//!
//! Within that rule the refused families stay refused whatever a catalogue
//! says (files, sessions, locks, SQL run from a string: `pg_*`, `*_to_xml`,
//! `ts_stat`...). Relations: system catalogues and statistics views are
//! refused on every engine, wherever the name appears (`FROM`, `JOIN`,
//! `TABLE x`, table-valued functions, three- and four-part names).

mod mssql;
mod mysql;
mod postgres;
mod sqlite;

use models::targets::TargetKind;
use sqlparser::dialect::Dialect;
use std::collections::HashSet;
use std::sync::LazyLock;

/// What one engine allows and refuses.
pub struct EngineRules {
    /// `sqlparser`'s dialect for the engine.
    pub dialect: fn() -> Box<dyn Dialect>,
    /// The documented built-ins (see the module doc), lower case.
    builtins: &'static LazyLock<HashSet<&'static str>>,
    /// Functions with side effects by the engine's word that questions need anyway.
    volatile_allowed: &'static [&'static str],
    /// The engine's own refused functions (beside the shared families).
    pub refused_functions: &'static [&'static str],
    /// Schemas whose relations are system catalogues.
    pub system_schemas: &'static [&'static str],
    /// Relation names (any schema, or none) that are system catalogues or views.
    pub system_prefixes: &'static [&'static str],
    /// Relation names that are system views without a telling prefix.
    pub system_relations: &'static [&'static str],
    /// The schema a built-in function may be qualified with.
    pub builtin_schema: Option<&'static str>,
    /// Most parts a relation's name may have (SQL Server: schema.table; a
    /// third part is another database, a fourth a linked server).
    pub max_name_parts: usize,
    /// Words an alias may not be without quotes: the engine would read them
    /// as the start of a second statement (T-SQL needs no `;`).
    pub reserved_words: &'static [&'static str],
    /// `table (HINT)` is a table hint (T-SQL), not a function or column list.
    pub bare_table_hints: bool,
}

/// The rules of `kind`. Adding an engine: a module with its rules, a list of
/// its documented built-ins, and an arm here; the corpus in
/// `targets/tests/guard.rs` is the first thing it must pass.
pub fn of(kind: TargetKind) -> &'static EngineRules {
    match kind {
        TargetKind::Postgres => &postgres::RULES,
        TargetKind::Mysql => &mysql::RULES,
        TargetKind::Sqlite => &sqlite::RULES,
        TargetKind::Mssql => &mssql::RULES,
    }
}

/// Functions written as SQL syntax in every engine (the parser shows some as calls).
const SYNTAX: &[&str] = &[
    "coalesce",
    "nullif",
    "greatest",
    "least",
    "current_date",
    "current_time",
    "current_timestamp",
    "localtime",
    "localtimestamp",
    "current_user",
    "session_user",
    "current_role",
    "current_catalog",
    "current_schema",
    "user",
    "extract",
    "position",
    "substring",
    "trim",
    "overlay",
    "cast",
    "try_cast",
    "grouping",
    "row",
    "array",
    "exists",
    "any",
    "all",
    "some",
];

pub(super) fn words(text: &'static str) -> HashSet<&'static str> {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .flat_map(str::split_whitespace)
        .collect()
}

/// Function families refused on every engine whatever a catalogue says.
/// PostgreSQL: `pg_` (files, directories, sleeping, backends, WAL, advisory
/// locks, statistics), `txid_`, `lo_` (large objects: files), `dblink`; MySQL:
/// `sys_` (UDFs that run commands); SQL Server: `xp_` and `sp_`.
const REFUSED_PREFIXES: &[&str] = &["pg_", "txid_", "lo_", "dblink", "sys_", "xp_", "sp_"];
/// `query_to_xml`, `table_to_xml`, `database_to_xml`...: SQL or whole tables from a name.
const REFUSED_INFIXES: &[&str] = &["_to_xml"];
/// Functions of a refused family that only describe a value.
const ALLOWED_IN_REFUSED_FAMILIES: &[&str] = &["pg_typeof", "pg_size_pretty"];

/// Which functions a check allows beyond the engine's rules.
#[derive(Debug, Clone, Copy, Default)]
pub struct Functions<'a> {
    /// The connected server's own list of functions free of side effects
    /// (PostgreSQL), replacing the generated list.
    pub catalogue: Option<&'a HashSet<String>>,
    /// Names the database's owner allowed (lower case).
    pub owner_allowed: &'a [String],
}

impl EngineRules {
    /// Whether `name` (lower-case parts, last the function) may be called, or why not.
    pub fn check_function(&self, parts: &[String], extra: Functions<'_>) -> Result<(), String> {
        let Some(name) = parts.last() else {
            return Ok(());
        };
        let schema = parts.len().checked_sub(2).and_then(|i| parts.get(i));
        let refused = self.refused_functions.contains(&name.as_str())
            || REFUSED_PREFIXES.iter().any(|p| name.starts_with(p))
            || REFUSED_INFIXES.iter().any(|p| name.contains(p))
            || schema.is_some_and(|s| {
                self.system_schemas.contains(&s.as_str()) && Some(s.as_str()) != self.builtin_schema
            })
            || parts.len() > 2;
        if ALLOWED_IN_REFUSED_FAMILIES.contains(&name.as_str()) && parts.len() <= 2 {
            return Ok(());
        }
        if refused {
            return Err(format!("the function {name} is not allowed in questions"));
        }
        let full = parts.join(".");
        if extra
            .owner_allowed
            .iter()
            .any(|a| *a == full || *a == *name)
        {
            return Ok(());
        }
        let builtin_place = schema.is_none() || schema.map(String::as_str) == self.builtin_schema;
        let known = match extra.catalogue {
            // A server's catalogue covers every schema (names are refused when any
            // overload anywhere has side effects).
            Some(catalogue) => catalogue.contains(name.as_str()),
            None => builtin_place && self.builtins.contains(name.as_str()),
        };
        if known
            || (builtin_place
                && (SYNTAX.contains(&name.as_str())
                    || self.volatile_allowed.contains(&name.as_str())))
        {
            return Ok(());
        }
        Err(format!(
            "the function {name} is not allowed in questions (only functions without side effects \
             are; the database's owner can allow one by name)"
        ))
    }

    /// Whether the relation `parts` (lower case, last the name) may be read, or why not.
    pub fn check_relation(&self, parts: &[String]) -> Result<(), String> {
        let Some(name) = parts.last() else {
            return Ok(());
        };
        let shown = parts.join(".");
        if parts.len() > self.max_name_parts || parts.iter().any(String::is_empty) {
            return Err(format!(
                "{shown} names another database or server; only this database's tables can be read"
            ));
        }
        let schema = parts.len().checked_sub(2).and_then(|i| parts.get(i));
        if schema.is_some_and(|s| self.system_schemas.contains(&s.as_str()))
            || self.system_prefixes.iter().any(|p| name.starts_with(p))
            || self.system_relations.contains(&name.as_str())
            || self.refused_functions.contains(&name.as_str())
        {
            return Err(format!(
                "reading {shown} is not allowed (a system catalogue or view)"
            ));
        }
        Ok(())
    }

    /// Whether `alias` (as written, unquoted) would be read as a keyword.
    pub fn check_alias(&self, alias: &str) -> Result<(), String> {
        let upper = alias.to_ascii_uppercase();
        if self.reserved_words.contains(&upper.as_str()) {
            return Err(format!(
                "{alias} is a reserved word here and would start another statement; \
                 write the name in brackets ([{alias}]) or choose another"
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_engine_has_its_documented_builtins() {
        for kind in TargetKind::ALL {
            let rules = of(kind);
            assert!(
                rules.builtins.len() > 100,
                "{kind}: {}",
                rules.builtins.len()
            );
            for name in rules.builtins.iter() {
                assert_eq!(*name, name.to_lowercase(), "{kind}: {name}");
                assert!(
                    !rules.refused_functions.contains(name),
                    "{kind}: {name} is both listed and refused"
                );
            }
        }
        assert!(of(TargetKind::Postgres).builtins.contains("string_agg"));
        assert!(of(TargetKind::Mysql).builtins.contains("date_format"));
        assert!(of(TargetKind::Sqlite).builtins.contains("strftime"));
        assert!(of(TargetKind::Mssql).builtins.contains("dateadd"));
    }
}
