//! A question's progress and answer: the status lines, the answer as an
//! HTML message with its small table, the CSV document's name and caption,
//! and what a press under an email did.

/// The status message while a question starts.
pub fn thinking() -> &'static str {
    "Reading your question…"
}

/// The status line for a stage of the pipeline, if it changes what is shown.
pub fn progress(event: &models::ask::Progress) -> Option<&'static str> {
    use models::ask::Progress;
    use models::costs::Stage;
    match event {
        Progress::Started {
            stage: Stage::Analysis,
        } => Some("Analysing your question…"),
        Progress::Started {
            stage: Stage::SqlRepair,
        } => Some("The database rejected the SQL; repairing it…"),
        Progress::Started {
            stage: Stage::SqlResponse,
        } => Some("Writing the answer…"),
        Progress::Started {
            stage: Stage::EmailGeneration,
        } => Some("Writing the email…"),
        Progress::SqlReady { .. } => Some("Running the SQL…"),
        Progress::RowsReady { .. } => None,
    }
}

/// Most rows shown as a table in the message; a longer result goes in a CSV document.
pub const TABLE_ROWS: usize = 20;

/// Widest table line, in characters, that a phone shows without wrapping.
pub const TABLE_WIDTH: usize = 64;

/// Most characters of one cell in the table.
const CELL_CHARS: usize = 24;

/// Telegram's limit on one message, in characters.
const MESSAGE_CHARS: usize = 4_096;

/// The rows of a small result as an aligned monospace table (header, rule,
/// rows), or `None` when the result has no rows or is too long or too wide
/// for a chat message: then the rows travel as a CSV document
/// ([`rows_file`]).
pub fn table(result: &models::targets::QueryResult) -> Option<String> {
    if result.rows.is_empty() || result.columns.is_empty() || result.rows.len() > TABLE_ROWS {
        return None;
    }
    let cell = |text: String| -> String {
        let text = text.replace(['\n', '\r', '\t'], " ");
        if text.chars().count() > CELL_CHARS {
            let mut cut: String = text.chars().take(CELL_CHARS - 1).collect();
            cut.push('…');
            cut
        } else {
            text
        }
    };
    let header: Vec<String> = result
        .columns
        .iter()
        .map(|c| cell(c.name.clone()))
        .collect();
    let rows: Vec<Vec<String>> = result
        .rows
        .iter()
        .map(|row| row.iter().map(|v| cell(v.render())).collect())
        .collect();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line_width = widths.iter().sum::<usize>() + 3 * widths.len().saturating_sub(1);
    if line_width > TABLE_WIDTH {
        return None;
    }
    // Numbers line up on the right, everything else on the left.
    let numeric: Vec<bool> = (0..widths.len())
        .map(|i| {
            result.rows.iter().all(|r| {
                matches!(
                    r.get(i),
                    Some(
                        models::targets::Value::Int(_)
                            | models::targets::Value::Float(_)
                            | models::targets::Value::Decimal(_)
                            | models::targets::Value::BigInt(_)
                            | models::targets::Value::Null
                    )
                )
            })
        })
        .collect();
    let line = |cells: &[String]| -> String {
        cells
            .iter()
            .zip(&widths)
            .zip(&numeric)
            .map(|((c, w), right)| {
                let pad = " ".repeat(w - c.chars().count());
                if *right {
                    format!("{pad}{c}")
                } else {
                    format!("{c}{pad}")
                }
            })
            .collect::<Vec<_>>()
            .join(" | ")
            .trim_end()
            .to_owned()
    };
    let mut out = line(&header);
    out.push('\n');
    out.push_str(
        &widths
            .iter()
            .map(|w| "-".repeat(*w))
            .collect::<Vec<_>>()
            .join("-+-"),
    );
    for row in &rows {
        out.push('\n');
        out.push_str(&line(row));
    }
    Some(out)
}

/// The CSV document for a result whose rows do not fit a message: its file
/// name and the caption under it.
pub fn rows_file(result: &models::targets::QueryResult) -> (String, String) {
    let rows = models::format::integer(result.rows.len() as i64);
    let caption = if result.truncated {
        format!("The first {rows} rows (the query returned more; ask for fewer, or for totals).")
    } else {
        format!("All {rows} rows.")
    };
    ("result.csv".to_owned(), caption)
}

/// A finished question as an HTML message: the answer in words, the rows as
/// a small monospace table (or a word on the attached file), the SQL in an
/// expandable quote, an email preview, and what it cost. Every value from
/// the database is escaped.
pub fn answer(answer: &models::ask::Answer) -> String {
    use teloxide::utils::html::escape;
    let mut out = escape(&answer.text);
    if let Some(result) = &answer.result {
        if let Some(table) = table(result) {
            out.push_str(&format!("\n\n<pre>{}</pre>", escape(&table)));
            if result.truncated {
                out.push_str("\n(More rows exist than were read.)");
            }
        } else if !result.rows.is_empty() {
            let rows = models::format::integer(result.rows.len() as i64);
            out.push_str(&format!(
                "\n\n{} rows{} — too many for a message: they are in the attached file.",
                rows,
                if result.truncated {
                    " (the first ones)"
                } else {
                    ""
                }
            ));
        }
    }
    let cost = format!(
        "\n\nCost: {} ({} model call{})",
        models::format::money(answer.total_cost),
        answer.stages.len(),
        if answer.stages.len() == 1 { "" } else { "s" }
    );
    let mut sql = String::new();
    if let Some(text) = &answer.sql {
        sql = format!(
            "\n\n<blockquote expandable><code>{}</code></blockquote>",
            escape(text)
        );
    }
    let mut email = String::new();
    if let Some(e) = &answer.email {
        email = format!(
            "\n\n<b>To:</b> {}\n<b>Subject:</b> {}\n<blockquote expandable>{}</blockquote>",
            escape(&e.recipients.join(", ")),
            escape(&e.subject),
            escape(&e.body.chars().take(1_500).collect::<String>())
        );
    }
    let whole = |parts: &[&str]| parts.concat();
    for candidate in [
        whole(&[&out, &sql, &email, &cost]),
        whole(&[&out, &email, &cost, "\n(The SQL is too long to show here.)"]),
    ] {
        if candidate.chars().count() <= MESSAGE_CHARS {
            return candidate;
        }
    }
    // Still too long: the words alone (cut), and the cost; the rows go in
    // the attached file ([`rows_need_file`]).
    let rows = answer.result.as_ref().is_some_and(|r| !r.rows.is_empty());
    format!(
        "{}…\n\n({}){cost}",
        escaped_within(&answer.text, 3_500),
        if rows {
            "Too long for one message: the rows are in the attached file; the SQL is left out."
        } else {
            "The rest of the answer and the SQL are too long for one message."
        }
    )
}

/// Whether the rows travel as a CSV document: they do not fit a table, or
/// the message `sent` (from [`answer`]) had no room for the table. Every
/// value in a message is escaped, so `<pre>` there is only ever our table.
pub fn rows_need_file(result: &models::targets::QueryResult, sent: &str) -> bool {
    !result.rows.is_empty() && (table(result).is_none() || !sent.contains("<pre>"))
}

/// `text` HTML-escaped and cut so that the escaped text has at most `limit`
/// characters (never inside an entity such as `&amp;`).
fn escaped_within(text: &str, limit: usize) -> String {
    let mut out = String::new();
    let mut count = 0;
    for c in text.chars() {
        let piece = teloxide::utils::html::escape(c.encode_utf8(&mut [0; 4]));
        count += piece.chars().count();
        if count > limit {
            break;
        }
        out.push_str(&piece);
    }
    out
}

/// What pressing Send or Cancel under an email did.
pub fn email_outcome(outcome: &models::ask::EmailOutcome) -> String {
    use models::ask::EmailOutcome;
    match outcome {
        EmailOutcome::Sent { recipients } => format!("Sent to {}.", recipients.join(", ")),
        EmailOutcome::Queued { reason } => reason.clone(),
        EmailOutcome::Cancelled => "Cancelled: nothing was sent.".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use models::targets::{QueryResult, ResultColumn, Value};

    fn result(columns: &[&str], rows: Vec<Vec<Value>>) -> QueryResult {
        QueryResult {
            columns: columns
                .iter()
                .map(|c| ResultColumn {
                    name: (*c).to_owned(),
                    type_name: "TEXT".into(),
                })
                .collect(),
            rows,
            truncated: false,
            row_limit: 1000,
            elapsed_ms: 1,
        }
    }

    fn answer_with(result: QueryResult, sql: &str, text: &str) -> models::ask::Answer {
        models::ask::Answer {
            conversation_id: 1,
            status: models::costs::ConversationStatus::Answered,
            text: text.to_owned(),
            sql: Some(sql.to_owned()),
            result: Some(result),
            stages: Vec::new(),
            total_cost: models::Usd::ZERO,
            email: None,
        }
    }

    #[test]
    fn a_small_result_is_an_aligned_table_and_a_large_one_is_not() {
        let small = result(
            &["region", "total"],
            vec![
                vec![Value::text("North"), Value::Int(1200)],
                vec![Value::text("Far <South> & co"), Value::Int(7)],
            ],
        );
        assert_eq!(
            table(&small).expect("a table"),
            "region           | total\n-----------------+------\nNorth            |  1200\nFar <South> & co |     7"
        );
        let long = result(&["n"], (0..21).map(|i| vec![Value::Int(i)]).collect());
        assert_eq!(table(&long), None, "over 20 rows go in a file");
        let wide = result(
            &["a", "b", "c", "d"],
            vec![vec![Value::text("x".repeat(20)); 4]],
        );
        assert_eq!(table(&wide), None, "too wide for a phone");
        assert_eq!(table(&result(&["n"], Vec::new())), None);
    }

    #[test]
    fn answers_escape_every_value_and_stay_within_one_message() {
        let rows = result(
            &["name"],
            vec![vec![Value::text("</pre><b>bold</b> & more")]],
        );
        let message = answer(&answer_with(rows, "SELECT '<x>'", "It is <b>"));
        assert!(message.starts_with("It is &lt;b&gt;"), "{message}");
        assert!(message.contains("&lt;/pre&gt;&lt;b&gt;bold&lt;/b&gt; &amp; more"));
        assert!(message.contains("<code>SELECT '&lt;x&gt;'</code>"));
        assert!(!message.contains("<b>bold"));

        let many = result(&["n"], (0..500).map(|i| vec![Value::Int(i)]).collect());
        let message = answer(&answer_with(many, "SELECT n FROM t", "Five hundred."));
        assert!(
            message.contains("500 rows — too many for a message"),
            "{message}"
        );

        // A huge SQL is left out; huge words are cut, entities whole.
        let sql = "SELECT 1 ".repeat(1_000);
        let message = answer(&answer_with(result(&["n"], Vec::new()), &sql, "ok"));
        assert!(message.contains("The SQL is too long"), "{message}");
        assert!(message.chars().count() <= MESSAGE_CHARS);
        let words = "<&>".repeat(3_000);
        let message = answer(&answer_with(result(&["n"], Vec::new()), &sql, &words));
        assert!(
            message.chars().count() <= MESSAGE_CHARS,
            "{}",
            message.len()
        );
        assert!(message.contains("too long for one message"));
        // A table that had no room in the message goes in the file instead.
        let few = result(&["n"], vec![vec![Value::Int(1)]]);
        let crowded = answer(&answer_with(few.clone(), &sql, &words));
        assert!(
            crowded.contains("the rows are in the attached file"),
            "{crowded}"
        );
        assert!(rows_need_file(&few, &crowded));
        let roomy = answer(&answer_with(few.clone(), "SELECT 1", "One."));
        assert!(!rows_need_file(&few, &roomy));
        let body = message.split('…').next().unwrap_or_default();
        assert!(body.ends_with("&lt;") || body.ends_with("&amp;") || body.ends_with("&gt;"));
    }
}
