//! The operator's command line: `server [serve]`, `server create-user <username>`.

use clap::{Parser, Subcommand};
use secrecy::SecretString;
use std::io::{BufRead, IsTerminal};

#[derive(Debug, Parser)]
#[command(
    name = "server",
    version,
    about = "Tabletalk's dashboard server and operator commands"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the dashboard (what `server` does with no command).
    Serve,
    /// Create a dashboard account. The password is read from standard input
    /// (one line), or prompted for without echo on a terminal.
    CreateUser {
        /// Letters a-z, digits, '.', '_' and '-'; 3 to 100 characters (stored lower-case).
        username: String,
    },
    /// Create an organization with its owner (a Telegram user id; recorded if
    /// the bot has not met them yet) and print the owner's dashboard
    /// credentials once.
    CreateOrg {
        /// The organization's name (1 to 100 characters).
        name: String,
        /// The owner's Telegram user id.
        #[arg(long)]
        owner: i64,
        /// The owner's name, if the bot has not met them yet.
        #[arg(long)]
        owner_name: Option<String>,
    },
    /// Add a Telegram user to an organization as a member and print their
    /// dashboard credentials once.
    AddMember {
        /// The organization's id (org_...).
        org_id: String,
        /// The member's Telegram user id.
        user_id: i64,
        /// The member's name, if the bot has not met them yet.
        #[arg(long)]
        name: Option<String>,
    },
    /// Check one SQL text (read from standard input) with the read-only guard:
    /// prints `allowed` (exit 0) or `refused: <reason>` (exit 1).
    CheckSql {
        /// The target's engine, by any name Tabletalk knows for it (mssql,
        /// postgres, mysql, sqlite; an unknown name lists them).
        #[arg(long)]
        kind: String,
    },
    /// Fill the store with synthetic organizations, users and conversations
    /// (for benchmarks and demos), priced with the configured prices.
    GenerateUsage {
        /// How many conversations (each has 1 to 5 LLM calls, about 2.4 on average).
        #[arg(long)]
        conversations: u64,
        /// How many organizations.
        #[arg(long, default_value_t = 5)]
        orgs: u32,
        /// Users per organization (the first is the owner).
        #[arg(long, default_value_t = 20)]
        users_per_org: u32,
        /// Spread over this many days, ending today.
        #[arg(long, default_value_t = 365)]
        days: u32,
    },
    /// Write a consistent copy of the embedded SQLite store to FILE (a new
    /// file), safe while the server and the bot run. A PostgreSQL store is
    /// backed up with pg_dump instead.
    Backup {
        /// Where the copy goes; must not exist yet.
        file: std::path::PathBuf,
    },
    /// Replace the embedded SQLite store with a backup made by `backup`.
    /// Refused while any Tabletalk process has the store open; the replaced
    /// store is kept beside it as `<store>.replaced-<time>`.
    Restore {
        /// The backup to restore.
        file: std::path::PathBuf,
    },
    /// The configuration both binaries read (environment and .env).
    Config {
        #[command(subcommand)]
        action: ConfigAction,
    },
    /// Seed the demo organization (what a first run on the embedded default
    /// does by itself) into this store, and print the owner's credentials.
    SeedDemo,
    /// Ask a question as a Telegram user, through the whole pipeline (the
    /// configured language model, the user's database), and print the
    /// answer, the SQL, the rows and the cost of each stage. Recorded in the
    /// ledger like any question (channel `cli`).
    Ask {
        /// The question.
        question: String,
        /// Whose question: a Telegram user id (their role, organization and databases apply).
        #[arg(long)]
        user: i64,
        /// The database (conn_...); the user's selected one when left out.
        #[arg(long)]
        database: Option<String>,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
        /// Ask nothing: print the Analysis prompt the question would get,
        /// with the tables and columns pruning kept and its size in tokens.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConfigAction {
    /// Print the effective configuration of the server and the bot (secrets
    /// redacted), warn about unknown TABLETALK_* variables, and name every
    /// bad variable with what it must be (exit status 2 then).
    Check,
}

/// The effective configuration as `server config check` prints it: what
/// each binary will do, then every setting (secrets show as `[REDACTED]`).
pub fn describe_config(config: &services::Config) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let store = if config.database_url_is_default {
        format!("{} (the embedded default)", config.database_url_redacted())
    } else {
        config.database_url_redacted()
    };
    let _ = writeln!(out, "store: {store}");
    let _ = writeln!(
        out,
        "server: the dashboard{}",
        config
            .public_url
            .as_deref()
            .map(|u| format!(" at {u}"))
            .unwrap_or_default()
    );
    let telegram = &config.telegram;
    let bot = match (&telegram.token, &telegram.webhook_url) {
        (None, _) => "will not start: TELEGRAM_BOT_TOKEN is not set".to_owned(),
        (Some(_), None) => "long polling".to_owned(),
        (Some(_), Some(url)) => format!(
            "webhook mode: Telegram posts to {url}, the bot listens on {}",
            telegram.webhook_listen
        ),
    };
    let _ = writeln!(out, "bot: {bot}");
    if let Some(addr) = telegram.metrics_listen {
        let _ = writeln!(out, "bot metrics: http://{addr}/metrics");
    }
    let _ = writeln!(out, "\nevery setting:\n{config:#?}");
    services::config::hide_url_users(&out)
}

/// Reads the new password: a hidden prompt on a terminal, else one line of stdin.
pub fn read_password(username: &str) -> anyhow::Result<SecretString> {
    use anyhow::Context;
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password(format!("Password for {username}: "))
            .context("could not read the password")?;
        let again = rpassword::prompt_password("Repeat the password: ")
            .context("could not read the password")?;
        anyhow::ensure!(
            first == again,
            "the two passwords differ; nothing was created"
        );
        return Ok(SecretString::from(first));
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("could not read the password from standard input")?;
    let password = line.strip_suffix('\n').unwrap_or(&line);
    let password = password.strip_suffix('\r').unwrap_or(password);
    anyhow::ensure!(
        !password.is_empty(),
        "no password on standard input; pipe one in, e.g. `echo \"$PASSWORD\" | server create-user {username}`"
    );
    Ok(SecretString::from(password.to_owned()))
}

/// Prints credentials for a person to copy; they are never logged.
pub fn print_credentials(whose: &str, creds: &models::org::Credentials) {
    println!("{whose} dashboard credentials (shown once, keep them safe):");
    println!("  username: {}", creds.username);
    println!("  password: {}", creds.password);
}

/// An answer as text for a terminal: the words, the SQL, the rows (up to
/// 20, as a table) and each stage's model, tokens and cost.
pub fn render_answer(answer: &models::ask::Answer) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let _ = writeln!(out, "{}", answer.text);
    if let Some(email) = &answer.email {
        let _ = writeln!(
            out,
            "\nEmail {} (a draft: nothing is sent until it is confirmed)\nTo: {}\nSubject: {}\n\n{}",
            email.email_id,
            email.recipients.join(", "),
            email.subject,
            email.body
        );
    }
    if let Some(sql) = &answer.sql {
        let _ = writeln!(out, "\nSQL:\n{sql}");
    }
    if let Some(result) = &answer.result {
        let header: Vec<&str> = result.columns.iter().map(|c| c.name.as_str()).collect();
        let _ = writeln!(out, "\n{}", header.join(" | "));
        for row in result.rows.iter().take(20) {
            let cells: Vec<String> = row.iter().map(|v| v.render()).collect();
            let _ = writeln!(out, "{}", cells.join(" | "));
        }
        let more = result.rows.len().saturating_sub(20);
        if more > 0 || result.truncated {
            let _ = writeln!(
                out,
                "({} rows{})",
                result.rows.len(),
                if result.truncated {
                    ", more not read"
                } else {
                    ""
                }
            );
        }
    }
    let _ = writeln!(
        out,
        "\nstage | model | input | cached | output | thinking | cost | ms"
    );
    for s in &answer.stages {
        let _ = writeln!(
            out,
            "{} | {} | {} | {} | {} | {} | {} | {}{}",
            s.stage.as_str(),
            s.model,
            s.usage.prompt_tokens,
            s.usage.cached_tokens,
            s.usage.candidates_tokens,
            s.usage.thoughts_tokens,
            s.cost,
            s.latency_ms,
            s.error
                .as_deref()
                .map(|e| format!(" ({e})"))
                .unwrap_or_default()
        );
    }
    let _ = writeln!(
        out,
        "total: {} ({:?}, conversation {})",
        answer.total_cost, answer.status, answer.conversation_id
    );
    out
}
