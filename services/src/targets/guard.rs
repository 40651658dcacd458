//! The read-only guard every LLM-written statement passes before it runs.
//!
//! A pure function: target kind + SQL text -> the statement to run, or the
//! reason it is refused. The text is parsed with `sqlparser` in the target's
//! dialect; it must be exactly one query (SELECT, WITH ... SELECT, set
//! operations, VALUES) with no SELECT INTO, no locking clause, no
//! data-modifying CTE, and no call to a function known to read files, sleep,
//! take locks, change state or run other SQL. What runs is the statement as
//! re-printed from the parsed tree, so comments (MySQL's executable `/*! */`
//! among them) never reach the engine. The engine's own read-only mode is the
//! second line of defence (see the connections code).

use models::targets::TargetKind;
use sqlparser::ast::{Expr, ObjectName, Query, SetExpr, Statement, TableFactor, Visit, Visitor};
use sqlparser::dialect::{Dialect, MsSqlDialect, MySqlDialect, PostgreSqlDialect, SQLiteDialect};
use sqlparser::parser::Parser;
use std::ops::ControlFlow;

/// Longest SQL text accepted.
pub const MAX_SQL_LEN: usize = 100_000;

/// A statement that passed the guard, as it should be sent to the engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedQuery {
    pub sql: String,
}

/// Functions refused by exact (lower-case, unqualified) name.
const DENIED_FUNCTIONS: &[&str] = &[
    // PostgreSQL: files, sleeping, server control, sequences, SQL-in-a-string.
    "pg_read_file",
    "pg_read_binary_file",
    "pg_ls_dir",
    "pg_stat_file",
    "pg_ls_logdir",
    "pg_ls_waldir",
    "pg_ls_tmpdir",
    "pg_sleep",
    "pg_sleep_for",
    "pg_sleep_until",
    "pg_terminate_backend",
    "pg_cancel_backend",
    "pg_reload_conf",
    "pg_rotate_logfile",
    "pg_promote",
    "set_config",
    "nextval",
    "setval",
    "query_to_xml",
    "query_to_xml_and_xmlschema",
    "query_to_xmlschema",
    "cursor_to_xml",
    "txid_current",
    "pg_notify",
    // MySQL / MariaDB.
    "load_file",
    "sleep",
    "benchmark",
    "get_lock",
    "release_lock",
    "release_all_locks",
    "sys_exec",
    "sys_eval",
    "master_pos_wait",
    "source_pos_wait",
    // SQLite.
    "load_extension",
    "readfile",
    "writefile",
    "edit",
    "fts3_tokenizer",
    // SQL Server.
    "openrowset",
    "openquery",
    "opendatasource",
    "openxml",
];

/// Functions refused by prefix.
const DENIED_PREFIXES: &[&str] = &[
    "pg_advisory",
    "pg_try_advisory",
    "lo_",
    "dblink",
    "xp_",
    "sp_",
];

/// Checks one SQL text for `kind`.
pub fn check(kind: TargetKind, sql: &str) -> Result<AllowedQuery, String> {
    if sql.len() > MAX_SQL_LEN {
        return Err(format!(
            "the statement is longer than {MAX_SQL_LEN} characters"
        ));
    }
    if sql.trim().is_empty() {
        return Err("there is no statement".into());
    }
    if kind == TargetKind::Mysql && sql.contains("/*!") {
        return Err("MySQL executable comments (/*! ... */) are not allowed".into());
    }
    let dialect: Box<dyn Dialect> = match kind {
        TargetKind::Mssql => Box::new(MsSqlDialect {}),
        TargetKind::Postgres => Box::new(PostgreSqlDialect {}),
        TargetKind::Mysql => Box::new(MySqlDialect {}),
        TargetKind::Sqlite => Box::new(SQLiteDialect {}),
    };
    let statements = Parser::parse_sql(dialect.as_ref(), sql)
        .map_err(|e| format!("the statement could not be parsed as {kind} SQL ({e})"))?;
    let statement = match statements.as_slice() {
        [] => return Err("there is no statement".into()),
        [one] => one,
        many => {
            return Err(format!(
                "exactly one statement is allowed, found {}",
                many.len()
            ))
        }
    };
    let Statement::Query(_) = statement else {
        return Err(format!(
            "only queries are allowed, not {}",
            statement_kind(statement)
        ));
    };
    let mut inspector = Inspector;
    if let ControlFlow::Break(reason) = statement.visit(&mut inspector) {
        return Err(reason);
    }
    Ok(AllowedQuery {
        sql: statement.to_string(),
    })
}

/// The first words of a statement, for the refusal message.
fn statement_kind(statement: &Statement) -> String {
    let text = statement.to_string();
    let words: Vec<&str> = text.split_whitespace().take(2).collect();
    let first = words
        .first()
        .copied()
        .unwrap_or("this statement")
        .to_uppercase();
    if matches!(first.as_str(), "CREATE" | "DROP" | "ALTER" | "SET" | "SHOW") {
        format!(
            "{first} {}",
            words.get(1).copied().unwrap_or("").to_uppercase()
        )
    } else {
        first
    }
}

struct Inspector;

impl Visitor for Inspector {
    type Break = String;

    fn pre_visit_statement(&mut self, statement: &Statement) -> ControlFlow<String> {
        match statement {
            Statement::Query(_) => ControlFlow::Continue(()),
            other => ControlFlow::Break(format!(
                "a query may not contain {} (a data-modifying or nested statement)",
                statement_kind(other)
            )),
        }
    }

    fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<String> {
        if !query.locks.is_empty() {
            return ControlFlow::Break(
                "locking clauses (FOR UPDATE / FOR SHARE) are not allowed".into(),
            );
        }
        check_body(&query.body)
    }

    fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<String> {
        if let Expr::Function(function) = expr {
            return check_function(&function.name);
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_table_factor(&mut self, factor: &TableFactor) -> ControlFlow<String> {
        match factor {
            TableFactor::Table {
                name,
                args: Some(_),
                ..
            }
            | TableFactor::Function { name, .. } => check_function(name),
            TableFactor::Table { name, .. } => {
                // OPENROWSET and friends may also parse as plain table names.
                check_function(name)
            }
            _ => ControlFlow::Continue(()),
        }
    }
}

fn check_body(body: &SetExpr) -> ControlFlow<String> {
    match body {
        SetExpr::Select(select) if select.into.is_some() => {
            ControlFlow::Break("SELECT INTO (which creates a table) is not allowed".into())
        }
        SetExpr::Insert(_) | SetExpr::Update(_) | SetExpr::Delete(_) | SetExpr::Merge(_) => {
            ControlFlow::Break(
                "data-modifying statements are not allowed, also not inside WITH".into(),
            )
        }
        SetExpr::SetOperation { left, right, .. } => {
            check_body(left)?;
            check_body(right)
        }
        _ => ControlFlow::Continue(()),
    }
}

fn check_function(name: &ObjectName) -> ControlFlow<String> {
    let Some(last) = name.0.last().and_then(|part| part.as_ident()) else {
        return ControlFlow::Continue(());
    };
    let lower = last.value.to_lowercase();
    if DENIED_FUNCTIONS.contains(&lower.as_str())
        || DENIED_PREFIXES.iter().any(|p| lower.starts_with(p))
    {
        return ControlFlow::Break(format!("the function {lower} is not allowed"));
    }
    ControlFlow::Continue(())
}
