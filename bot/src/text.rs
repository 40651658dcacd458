//! Every reply text of the bot, in one place.

use crate::Command;
use models::org::Credentials;
use teloxide::utils::command::BotCommands;

/// The greeting for /start.
pub fn welcome(first_name: &str) -> String {
    format!(
        "Hello, {first_name}! I am Tabletalk: ask your team's SQL databases questions in plain \
         language, and see what every answer cost.\n\nSend /help to see what I can do."
    )
}

/// The command list for /help.
pub fn help() -> String {
    Command::descriptions().to_string()
}

/// A command the bot does not know.
pub fn unknown_command() -> &'static str {
    "I don't know that command. Send /help to see the ones I understand."
}

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

/// Rows of a result shown in the chat.
const ROWS_SHOWN: usize = 10;
/// Telegram's limit on one message, in characters.
const MESSAGE_CHARS: usize = 4_096;

/// A finished question as an HTML message: the answer, the rows as a small
/// monospace table, the SQL, and what it cost.
pub fn answer(answer: &models::ask::Answer) -> String {
    use teloxide::utils::html::escape;
    let mut out = escape(&answer.text);
    if let Some(result) = &answer.result {
        if !result.rows.is_empty() && !result.columns.is_empty() {
            let mut table = result
                .columns
                .iter()
                .map(|c| c.name.as_str())
                .collect::<Vec<_>>()
                .join(" | ");
            for row in result.rows.iter().take(ROWS_SHOWN) {
                let cells: Vec<String> = row
                    .iter()
                    .map(|v| v.render().chars().take(40).collect())
                    .collect();
                table.push('\n');
                table.push_str(&cells.join(" | "));
            }
            if result.rows.len() > ROWS_SHOWN || result.truncated {
                table.push_str(&format!(
                    "\n… {} rows{}",
                    result.rows.len(),
                    if result.truncated {
                        " (more not read)"
                    } else {
                        ""
                    }
                ));
            }
            out.push_str(&format!("\n\n<pre>{}</pre>", escape(&table)));
        }
    }
    if let Some(sql) = &answer.sql {
        out.push_str(&format!(
            "\n\n<blockquote expandable><code>{}</code></blockquote>",
            escape(sql)
        ));
    }
    if let Some(email) = &answer.email {
        out.push_str(&format!(
            "\n\n<b>To:</b> {}\n<b>Subject:</b> {}\n<blockquote expandable>{}</blockquote>",
            escape(&email.recipients.join(", ")),
            escape(&email.subject),
            escape(&email.body.chars().take(1_500).collect::<String>())
        ));
    }
    let calls = answer.stages.len();
    out.push_str(&format!(
        "\n\nCost: {} ({calls} model call{})",
        models::format::money(answer.total_cost),
        if calls == 1 { "" } else { "s" }
    ));
    if out.chars().count() > MESSAGE_CHARS {
        // Too long for one message: the words and the cost, without the table and SQL.
        return format!(
            "{}\n\n(The rows and the SQL are too long for one message.)\n\nCost: {} ({calls} model calls)",
            escape(&answer.text.chars().take(3_500).collect::<String>()),
            models::format::money(answer.total_cost)
        );
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

/// After joining an organization: the dashboard credentials, shown once.
pub fn joined(org_name: &str, creds: &Credentials) -> String {
    format!(
        "Welcome to {org_name}! You are now a member.\n\nYour dashboard sign-in (shown once, keep \
         it private):\nusername: {}\npassword: {}",
        creds.username, creds.password
    )
}

/// Commands that reveal credentials work only in a private chat.
pub fn private_only() -> &'static str {
    "Send me this in a private chat, so your dashboard password stays private."
}
