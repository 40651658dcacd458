//! The read-only guard every LLM-written statement passes before it runs.
//!
//! A pure function: target kind + SQL text -> the statement to run, or the
//! reason it is refused. The text is parsed with `sqlparser` in the target's
//! dialect; it must be exactly one query (SELECT, WITH ... SELECT, set
//! operations, VALUES) with no SELECT INTO, no locking clause or locking table
//! hint, no data-modifying CTE, and no call to a function known to read files,
//! sleep, take locks, change state or run other SQL.
//!
//! What runs is exactly the text that was parsed (trimmed, and cut before one
//! trailing `;` followed by nothing but comments), never a re-rendering of the
//! parsed tree: `sqlparser`'s printer is not faithful for every quoting form,
//! and a re-printed string literal can close early and become a second
//! statement. Because the engine lexes that text itself, the guard also lexes
//! it as the engine does ([`lex`]) and refuses the statement unless both agree
//! on every string, quoted name, comment and `;`. The engine's own read-only
//! mode is the second line of defence (see the connections code).
//!
//! Functions are refused by a deny-list of names and families, not allowed by
//! an allow-list: the families that touch files, the network, locks, sessions
//! or sleep, or that run SQL from a string, are few and named by prefix
//! (`pg_`, `lo_`, `dblink`, `xp_`, `sp_`, `fn_`, `dm_` ...), while an
//! allow-list would have to name every legitimate function of four engines and
//! their versions, and the users' own functions, and would refuse valid
//! analytics whenever the model used one it did not list.

mod lex;

use models::targets::TargetKind;
use sqlparser::ast::{Expr, ObjectName, Query, SetExpr, Statement, TableFactor, Visit, Visitor};
use sqlparser::dialect::{Dialect, MsSqlDialect, MySqlDialect, PostgreSqlDialect, SQLiteDialect};
use sqlparser::parser::Parser;
use sqlparser::tokenizer::{Token, Tokenizer, Whitespace};
use std::ops::{ControlFlow, Range};

use lex::{Lexed, Piece};

/// Longest SQL text accepted.
pub const MAX_SQL_LEN: usize = 100_000;

/// A statement that passed the guard, as it should be sent to the engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedQuery {
    /// The text that was checked, byte for byte (trimmed, without a trailing `;`).
    pub sql: String,
}

/// Functions refused by exact (lower-case, unqualified) name.
const DENIED_FUNCTIONS: &[&str] = &[
    // PostgreSQL (besides the `pg_` family): session settings, sequences, SQL-in-a-string.
    "set_config",
    "nextval",
    "setval",
    "current_setting",
    // MySQL / MariaDB.
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
    // SQLite (and its common file extensions).
    "load_extension",
    "readfile",
    "writefile",
    "edit",
    "fts3_tokenizer",
    "fsdir",
    "lsdir",
    "zipfile",
    // SQL Server.
    "openrowset",
    "openquery",
    "opendatasource",
    "openxml",
];

/// Function families refused by prefix. PostgreSQL: `pg_` (files,
/// directories, sleeping, backends, WAL, advisory locks, transaction ids such
/// as pg_current_xact_id, notifications), `txid_`, `lo_` (large objects:
/// files), `dblink`; MySQL: `sys_` (UDFs that run commands); SQL Server:
/// `xp_` and `sp_` (extended and system procedures).
const DENIED_PREFIXES: &[&str] = &["pg_", "txid_", "lo_", "dblink", "sys_", "xp_", "sp_"];

/// Functions of a denied family that only describe values.
const ALLOWED_IN_DENIED_FAMILIES: &[&str] = &["pg_typeof", "pg_size_pretty"];

/// Function names refused wherever the substring appears (PostgreSQL's
/// `query_to_xml`, `cursor_to_xml`, `database_to_xml`...: SQL from a string, or everything at once).
const DENIED_INFIXES: &[&str] = &["_to_xml"];

/// SQL Server table hints that do not take or hold locks; any other is refused.
const ALLOWED_TABLE_HINTS: &[&str] = &[
    "NOLOCK",
    "READUNCOMMITTED",
    "READCOMMITTED",
    "NOWAIT",
    "INDEX",
    "FORCESEEK",
    "FORCESCAN",
    "NOEXPAND",
];

fn dialect(kind: TargetKind) -> Box<dyn Dialect> {
    match kind {
        TargetKind::Mssql => Box::new(MsSqlDialect {}),
        TargetKind::Postgres => Box::new(PostgreSqlDialect {}),
        TargetKind::Mysql => Box::new(MySqlDialect {}),
        TargetKind::Sqlite => Box::new(SQLiteDialect {}),
    }
}

/// Checks one SQL text for `kind`.
pub fn check(kind: TargetKind, sql: &str) -> Result<AllowedQuery, String> {
    if sql.len() > MAX_SQL_LEN {
        return Err(format!(
            "the statement is longer than {MAX_SQL_LEN} characters"
        ));
    }
    let text = one_statement(kind, sql)?;
    let dialect = dialect(kind);
    agree_on_lexing(kind, dialect.as_ref(), text)?;
    let statements = Parser::parse_sql(dialect.as_ref(), text)
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
        sql: text.to_owned(),
    })
}

/// The one statement in `sql` as the engine splits it at its `;`s, trimmed
/// (so a trailing `;` and comments after it are left out).
fn one_statement(kind: TargetKind, sql: &str) -> Result<&str, String> {
    let lexed = lex::lex(kind, sql)?;
    let mut from = 0;
    let mut segments = Vec::with_capacity(lexed.separators.len() + 1);
    for &at in &lexed.separators {
        segments.push(from..at);
        from = at + 1;
    }
    segments.push(from..sql.len());
    segments.retain(|segment| !lexed.is_blank(sql, segment.clone()));
    match segments.as_slice() {
        [] => Err("there is no statement".into()),
        [one] => Ok(sql[one.clone()].trim()),
        many => Err(format!(
            "exactly one statement is allowed, found {}",
            many.len()
        )),
    }
}

/// Refuses `text` unless `sqlparser` and the engine's own rules ([`lex`])
/// see the same strings, quoted names, comments and separators.
fn agree_on_lexing(kind: TargetKind, dialect: &dyn Dialect, text: &str) -> Result<(), String> {
    let engine = lex::lex(kind, text)?;
    let parser = parser_lexing(dialect, text)
        .map_err(|e| format!("the statement could not be parsed as {kind} SQL ({e})"))?;
    if engine == parser {
        Ok(())
    } else {
        Err(format!(
            "its quoting or comments could be read differently by {kind} than by this check \
             (for example a backslash or a doubled quote inside a string, or a `]` inside \
             brackets); write it without them"
        ))
    }
}

/// What `sqlparser`'s tokenizer takes for quoted text, comments and separators.
fn parser_lexing(dialect: &dyn Dialect, text: &str) -> Result<Lexed, String> {
    let tokens = Tokenizer::new(dialect, text)
        .tokenize_with_location()
        .map_err(|e| e.to_string())?;
    let offsets = ByteOffsets::new(text);
    let mut out = Lexed::default();
    for token in tokens {
        let range = offsets.range(token.span.start, token.span.end);
        let slice = &text[range.clone()];
        match &token.token {
            Token::SemiColon => out.separators.push(range.start),
            Token::Whitespace(Whitespace::SingleLineComment { .. }) => {
                let end = range.start + slice.trim_end_matches(['\n', '\r']).len();
                out.pieces.push((range.start..end, Piece::Comment));
            }
            Token::Whitespace(Whitespace::MultiLineComment(_)) => {
                out.pieces.push((range, Piece::Comment));
            }
            Token::Word(word) if word.quote_style.is_some() => {
                out.pieces.push((range, Piece::Quoted));
            }
            Token::SingleQuotedString(_)
            | Token::DoubleQuotedString(_)
            | Token::TripleSingleQuotedString(_)
            | Token::TripleDoubleQuotedString(_)
            | Token::DollarQuotedString(_)
            | Token::SingleQuotedByteStringLiteral(_)
            | Token::DoubleQuotedByteStringLiteral(_)
            | Token::TripleSingleQuotedByteStringLiteral(_)
            | Token::TripleDoubleQuotedByteStringLiteral(_)
            | Token::SingleQuotedRawStringLiteral(_)
            | Token::DoubleQuotedRawStringLiteral(_)
            | Token::TripleSingleQuotedRawStringLiteral(_)
            | Token::TripleDoubleQuotedRawStringLiteral(_)
            | Token::NationalStringLiteral(_)
            | Token::QuoteDelimitedStringLiteral(_)
            | Token::NationalQuoteDelimitedStringLiteral(_)
            | Token::EscapedStringLiteral(_)
            | Token::UnicodeStringLiteral(_)
            | Token::HexStringLiteral(_) => {
                // From the opening quote: a prefix (N'', E'', X'', B'') is code
                // to both; `0xDEAD` has no quote and is code too.
                if let Some(at) = slice.find(['\'', '"', '$']) {
                    out.pieces
                        .push((range.start + at..range.end, Piece::Quoted));
                }
            }
            // Everything else is code: names, numbers, operators, brackets.
            _ => {}
        }
    }
    Ok(out)
}

/// Maps `sqlparser` locations (1-based line and character column) to byte offsets.
struct ByteOffsets {
    /// Byte offset of every character, and the text's length at the end.
    chars: Vec<usize>,
    /// Index into `chars` of each line's first character.
    lines: Vec<usize>,
}

impl ByteOffsets {
    fn new(text: &str) -> ByteOffsets {
        let mut chars = Vec::with_capacity(text.len() + 1);
        let mut lines = vec![0];
        for (at, c) in text.char_indices() {
            chars.push(at);
            if c == '\n' {
                lines.push(chars.len());
            }
        }
        chars.push(text.len());
        ByteOffsets { chars, lines }
    }

    fn offset(&self, at: sqlparser::tokenizer::Location) -> usize {
        let line = usize::try_from(at.line)
            .unwrap_or(usize::MAX)
            .saturating_sub(1);
        let column = usize::try_from(at.column)
            .unwrap_or(usize::MAX)
            .saturating_sub(1);
        self.lines
            .get(line)
            .and_then(|first| self.chars.get(first.saturating_add(column)))
            .copied()
            .unwrap_or_else(|| self.chars.last().copied().unwrap_or(0))
    }

    fn range(
        &self,
        start: sqlparser::tokenizer::Location,
        end: sqlparser::tokenizer::Location,
    ) -> Range<usize> {
        let start = self.offset(start);
        start..self.offset(end).max(start)
    }
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
                with_hints,
                ..
            } => {
                check_hints(with_hints)?;
                check_function(name)
            }
            TableFactor::Function { name, .. } => check_function(name),
            TableFactor::Table {
                name, with_hints, ..
            } => {
                check_hints(with_hints)?;
                // OPENROWSET and friends may also parse as plain table names.
                check_table(name)
            }
            _ => ControlFlow::Continue(()),
        }
    }
}

/// SQL Server table hints (`WITH (NOLOCK)`): only those that take no locks.
fn check_hints(hints: &[Expr]) -> ControlFlow<String> {
    for hint in hints {
        let name = match hint {
            Expr::Identifier(ident) => ident.value.to_uppercase(),
            Expr::Function(function) => function.name.to_string().to_uppercase(),
            other => other.to_string().to_uppercase(),
        };
        if !ALLOWED_TABLE_HINTS.contains(&name.as_str()) {
            return ControlFlow::Break(format!(
                "the table hint {name} is not allowed (it takes or holds locks, or is unknown)"
            ));
        }
    }
    ControlFlow::Continue(())
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
    let parts: Vec<String> = name
        .0
        .iter()
        .filter_map(|part| part.as_ident())
        .map(|ident| ident.value.to_lowercase())
        .collect();
    let Some(last) = parts.last() else {
        return ControlFlow::Continue(());
    };
    let schema = parts.len().checked_sub(2).and_then(|i| parts.get(i));
    // SQL Server's system functions (sys.fn_get_audit_file, sys.dm_exec_sql_text...)
    // read files and other sessions' statements; a user's own dbo.fn_x is fine.
    let system = schema.is_none_or(|s| s == "sys");
    let denied = DENIED_FUNCTIONS.contains(&last.as_str())
        || DENIED_PREFIXES.iter().any(|p| last.starts_with(p))
        || DENIED_INFIXES.iter().any(|p| last.contains(p))
        || (system && (last.starts_with("fn_") || last.starts_with("dm_")));
    if denied && !ALLOWED_IN_DENIED_FAMILIES.contains(&last.as_str()) {
        return ControlFlow::Break(format!("the function {last} is not allowed"));
    }
    ControlFlow::Continue(())
}

/// A plain table name: refused only when it names one of the denied
/// functions (some parse as tables) or a catalogue view that shows other
/// sessions' statements or credentials.
fn check_table(name: &ObjectName) -> ControlFlow<String> {
    const DENIED_TABLES: &[&str] = &[
        "pg_stat_activity",
        "pg_authid",
        "pg_shadow",
        "pg_user_mappings",
        "pg_hba_file_rules",
        "pg_file_settings",
        "processlist",
    ];
    let Some(last) = name.0.last().and_then(|part| part.as_ident()) else {
        return ControlFlow::Continue(());
    };
    let lower = last.value.to_lowercase();
    if DENIED_FUNCTIONS.contains(&lower.as_str()) || DENIED_TABLES.contains(&lower.as_str()) {
        return ControlFlow::Break(format!("reading {lower} is not allowed"));
    }
    let parts: Vec<String> = name
        .0
        .iter()
        .filter_map(|part| part.as_ident())
        .map(|ident| ident.value.to_lowercase())
        .collect();
    if parts.len() >= 2 && parts[parts.len() - 2] == "sys" && lower.starts_with("dm_") {
        return ControlFlow::Break(format!("reading sys.{lower} is not allowed"));
    }
    ControlFlow::Continue(())
}
