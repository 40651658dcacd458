//! How each engine itself splits SQL text into code, quoted text and comments.
//!
//! The guard parses with `sqlparser`, but the engine runs the text with its
//! own lexer. Wherever the two disagree about where a string, a quoted name
//! or a comment starts and ends, text the check saw as harmless data could
//! be code to the engine (a `;` and a second statement, a function call
//! hidden in what the check took for a comment). This lexer follows each
//! engine's documented rules, with the session settings Tabletalk forces on
//! its connections (PostgreSQL `standard_conforming_strings = on`; MySQL
//! without `ANSI_QUOTES` and `NO_BACKSLASH_ESCAPES`). The guard refuses any
//! statement on which it and `sqlparser` disagree.

use models::targets::TargetKind;
use std::ops::Range;

/// What a stretch of the text is, other than code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Piece {
    /// A string literal or a quoted identifier, delimiters included.
    Quoted,
    /// A comment, without the line break that ends a line comment.
    Comment,
}

/// The text as the engine reads it.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Lexed {
    /// Quoted text and comments, in order, as byte ranges.
    pub pieces: Vec<(Range<usize>, Piece)>,
    /// Byte offsets of statement separators (`;` outside quotes and comments).
    pub separators: Vec<usize>,
}

impl Lexed {
    /// Whether `range` holds only whitespace and comments.
    pub(crate) fn is_blank(&self, sql: &str, range: Range<usize>) -> bool {
        let mut at = range.start;
        for (piece, what) in &self.pieces {
            if piece.end <= at || piece.start >= range.end {
                continue;
            }
            if *what != Piece::Comment || !sql[at..piece.start].trim().is_empty() {
                return false;
            }
            at = piece.end;
        }
        sql[at.min(range.end)..range.end].trim().is_empty()
    }
}

/// Splits `sql` as the engine of `kind` would.
pub(crate) fn lex(kind: TargetKind, sql: &str) -> Result<Lexed, String> {
    use TargetKind::*;
    let b = sql.as_bytes();
    let mut out = Lexed::default();
    let mut i = 0;
    while i < b.len() {
        let next = b.get(i + 1).copied();
        let (end, piece) = match b[i] {
            b';' => {
                out.separators.push(i);
                i += 1;
                continue;
            }
            b'-' if next == Some(b'-') && line_comment_starts(kind, b.get(i + 2).copied()) => {
                (line_end(b, i), Piece::Comment)
            }
            b'#' if kind == Mysql => (line_end(b, i), Piece::Comment),
            b'/' if next == Some(b'*') => {
                if kind == Mysql {
                    let rest = &b[i + 2..];
                    if rest.starts_with(b"!") || rest.starts_with(b"M!") || rest.starts_with(b"+") {
                        return Err(
                            "MySQL executable comments (/*! ... */) and optimizer hints \
                                    (/*+ ... */) are not allowed"
                                .into(),
                        );
                    }
                }
                (
                    block_end(b, i, matches!(kind, Postgres | Mssql))?,
                    Piece::Comment,
                )
            }
            b'\'' => (
                quoted_end(b, i, b'\'', backslash_escapes(kind, b, i))?,
                Piece::Quoted,
            ),
            b'"' => (quoted_end(b, i, b'"', kind == Mysql)?, Piece::Quoted),
            b'`' if matches!(kind, Mysql | Sqlite) => {
                (quoted_end(b, i, b'`', false)?, Piece::Quoted)
            }
            b'[' if kind == Mssql => (quoted_end(b, i, b']', false)?, Piece::Quoted),
            b'[' if kind == Sqlite => match b[i + 1..].iter().position(|&c| c == b']') {
                Some(at) => (i + 1 + at + 1, Piece::Quoted),
                None => return Err(unterminated()),
            },
            b'$' if kind == Postgres && !continues_word(b, i) => match dollar_tag(b, i) {
                Some(tag) => {
                    let body = i + tag.len();
                    match find(&b[body..], tag) {
                        Some(at) => (body + at + tag.len(), Piece::Quoted),
                        None => return Err(unterminated()),
                    }
                }
                None => {
                    i += 1;
                    continue;
                }
            },
            _ => {
                i += 1;
                continue;
            }
        };
        out.pieces.push((i..end, piece));
        i = end;
    }
    Ok(out)
}

fn unterminated() -> String {
    "the statement has an unterminated string, quoted name or comment".into()
}

/// `--` starts a comment everywhere, but in MySQL only when followed by
/// whitespace or a control character.
fn line_comment_starts(kind: TargetKind, after: Option<u8>) -> bool {
    kind != TargetKind::Mysql || after.is_none_or(|c| c <= b' ')
}

/// A line comment runs to the line break (CR or LF, not included).
fn line_end(b: &[u8], from: usize) -> usize {
    b[from..]
        .iter()
        .position(|&c| c == b'\n' || c == b'\r')
        .map_or(b.len(), |at| from + at)
}

/// The end of the block comment starting at `from`; PostgreSQL and SQL Server nest them.
fn block_end(b: &[u8], from: usize, nested: bool) -> Result<usize, String> {
    let mut depth = 1;
    let mut i = from + 2;
    while i + 1 < b.len() {
        if b[i] == b'*' && b[i + 1] == b'/' {
            depth -= 1;
            i += 2;
            if depth == 0 || !nested {
                return Ok(i);
            }
        } else if nested && b[i] == b'/' && b[i + 1] == b'*' {
            depth += 1;
            i += 2;
        } else {
            i += 1;
        }
    }
    Err(unterminated())
}

/// Quoted text closed by `close`, where a doubled `close` stands for itself
/// and, with `backslash`, a backslash escapes the next byte.
fn quoted_end(b: &[u8], from: usize, close: u8, backslash: bool) -> Result<usize, String> {
    let mut i = from + 1;
    loop {
        match b.get(i) {
            None => return Err(unterminated()),
            Some(b'\\') if backslash => i += 2,
            Some(&c) if c == close => {
                if b.get(i + 1) == Some(&close) {
                    i += 2;
                } else {
                    return Ok(i + 1);
                }
            }
            Some(_) => i += 1,
        }
    }
}

/// Whether a `'` string at `at` treats backslashes as escapes: always in
/// MySQL, in PostgreSQL only for `E'...'` strings, never in SQLite or SQL Server.
fn backslash_escapes(kind: TargetKind, b: &[u8], at: usize) -> bool {
    match kind {
        TargetKind::Mysql => true,
        TargetKind::Postgres => {
            at >= 1 && matches!(b[at - 1], b'e' | b'E') && (at < 2 || !is_word_byte(b[at - 2]))
        }
        TargetKind::Sqlite | TargetKind::Mssql => false,
    }
}

fn is_word_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c >= 0x80
}

/// Whether the byte at `at` continues a name or number (`a$b`, `$1`).
fn continues_word(b: &[u8], at: usize) -> bool {
    at > 0 && is_word_byte(b[at - 1])
}

/// A PostgreSQL dollar-quote opener at `at` (`$$` or `$tag$`), if there is one.
fn dollar_tag(b: &[u8], at: usize) -> Option<&[u8]> {
    let rest = &b[at + 1..];
    let len = rest.iter().position(|&c| c == b'$')?;
    let tag = &rest[..len];
    let starts_well = tag
        .first()
        .is_none_or(|&c| c.is_ascii_alphabetic() || c == b'_' || c >= 0x80);
    let rest_well = tag
        .iter()
        .all(|&c| c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80);
    (starts_well && rest_well).then(|| &b[at..at + len + 2])
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;
    use TargetKind::*;

    fn quoted(kind: TargetKind, sql: &str) -> Vec<&str> {
        lex(kind, sql)
            .expect("lexes")
            .pieces
            .iter()
            .map(|(r, _)| &sql[r.clone()])
            .collect()
    }

    #[test]
    fn each_engine_quotes_its_own_way() {
        // SQL Server: no backslash escapes; `]]` inside brackets.
        assert_eq!(
            quoted(Mssql, r"SELECT 'x\''; DROP TABLE orders; COMMIT; --'"),
            [r"'x\''; DROP TABLE orders; COMMIT; --'"]
        );
        assert_eq!(quoted(Mssql, "SELECT 1 AS [a]]; DROP]"), ["[a]]; DROP]"]);
        // MySQL: backslashes escape, in both quote kinds.
        assert_eq!(quoted(Mysql, r"SELECT '\\', 'a\'b'"), [r"'\\'", r"'a\'b'"]);
        assert_eq!(quoted(Mysql, r#"SELECT "x\"" "#), [r#""x\"""#]);
        // PostgreSQL: standard strings, E-strings, dollar quotes, nested comments.
        assert_eq!(
            quoted(Postgres, r"SELECT 'a\', E'b\'c'"),
            [r"'a\'", r"'b\'c'"]
        );
        assert_eq!(quoted(Postgres, "SELECT $q$ ; $q$, $1"), ["$q$ ; $q$"]);
        assert_eq!(
            quoted(Postgres, "SELECT /* a /* b */ ; */ 1"),
            ["/* a /* b */ ; */"]
        );
        // SQLite: brackets end at the first `]`, comments do not nest.
        assert_eq!(quoted(Sqlite, "SELECT [a]]"), ["[a]"]);
        assert_eq!(quoted(Sqlite, "SELECT /* a /* b */ 1"), ["/* a /* b */"]);
    }

    #[test]
    fn separators_and_comments() {
        let sql = "SELECT ';' -- ;\n; /* ; */";
        let lexed = lex(Postgres, sql).expect("lexes");
        assert_eq!(lexed.separators, [sql.find("\n;").expect("there") + 1]);
        assert!(lexed.is_blank(sql, lexed.separators[0] + 1..sql.len()));
        // MySQL: `--x` is two minus signs, not a comment.
        assert!(lex(Mysql, "SELECT 1 --x").expect("lexes").pieces.is_empty());
        assert_eq!(quoted(Mysql, "SELECT 1 # c"), ["# c"]);
        assert!(lex(Mysql, "SELECT /*+ MAX_EXECUTION_TIME(1) */ 1").is_err());
        assert!(lex(Postgres, "SELECT 'open").is_err());
        assert!(lex(Mssql, "SELECT /* /* */ 1").is_err());
    }
}
