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
//! Functions and relations are allowed by rule, not refused by list
//! ([`rules`]): a function only when the engine says it has no side effects
//! (PostgreSQL's catalogue) or it is one of the engine's documented built-ins
//! (or the owner allowed it by name); system catalogues never. Deny-lists
//! leaked every time an engine had one more function that runs SQL from a
//! string (`ts_stat`, `ts_rewrite`, `table_to_xml`): a rule does not.

mod inspect;
mod lex;
pub mod rules;

use models::targets::TargetKind;
use sqlparser::ast::{Statement, Visit};
use sqlparser::dialect::Dialect;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::{Token, Tokenizer, Whitespace};
use std::ops::{ControlFlow, Range};

use inspect::Inspector;
use lex::{Lexed, Piece};
pub use rules::Functions;

/// Longest SQL text accepted.
pub const MAX_SQL_LEN: usize = 100_000;

/// A statement that passed the guard, as it should be sent to the engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedQuery {
    /// The text that was checked, byte for byte (trimmed, without a trailing `;`).
    pub sql: String,
}

/// Checks one SQL text for `kind`, with the engine's documented built-in
/// functions (no connected server's catalogue, nothing the owner allowed).
pub fn check(kind: TargetKind, sql: &str) -> Result<AllowedQuery, String> {
    check_with(kind, Functions::default(), sql)
}

/// Checks one SQL text for `kind`, with the functions a connected server's
/// catalogue and the database's owner allow.
pub fn check_with(
    kind: TargetKind,
    functions: Functions<'_>,
    sql: &str,
) -> Result<AllowedQuery, String> {
    if sql.len() > MAX_SQL_LEN {
        return Err(format!(
            "the statement is longer than {MAX_SQL_LEN} characters"
        ));
    }
    let text = one_statement(kind, sql)?;
    let rules = rules::of(kind);
    let dialect = (rules.dialect)();
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
    let mut inspector = Inspector { rules, functions };
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
