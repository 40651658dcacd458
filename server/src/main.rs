//! `server`: serve the dashboard, or run an operator command.

use clap::Parser;
use server::cli::{Cli, Command};
use services::{AppState, Config};
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    // The guard needs no configuration and no store.
    if let Some(Command::CheckSql { kind }) = &cli.command {
        return check_sql(kind);
    }
    // Checks what Config::load would refuse, so it runs before it.
    if let Some(Command::Config { .. }) = &cli.command {
        return config_check();
    }
    let config = match Config::load() {
        Ok(config) => config,
        Err(err) => {
            eprintln!("error: {err:#}");
            return ExitCode::from(2);
        }
    };
    services::telemetry::init(config.log_format);
    let outcome = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(config).await,
        Command::CreateUser { username } => create_user(config, &username).await,
        Command::CreateOrg {
            name,
            owner,
            owner_name,
        } => create_org(config, &name, owner, owner_name.as_deref()).await,
        Command::AddMember {
            org_id,
            user_id,
            name,
        } => add_member(config, &org_id, user_id, name.as_deref()).await,
        Command::CheckSql { .. } | Command::Config { .. } => handled_before_loading(),
        Command::GenerateUsage {
            conversations,
            orgs,
            users_per_org,
            days,
        } => generate_usage(config, conversations, orgs, users_per_org, days).await,
        Command::SeedDemo => seed_demo(config).await,
        Command::Backup { file } => backup(config, &file).await,
        Command::Restore { file } => restore(config, &file).await,
        Command::Ask {
            question,
            user,
            database,
            json,
            dry_run,
        } => ask(config, &question, user, database.as_deref(), json, dry_run).await,
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// `server config check`: exit 0 when both binaries can start with this
/// configuration, 2 with every problem named.
fn config_check() -> ExitCode {
    let checked = match Config::check_environment() {
        Ok(checked) => checked,
        Err(err) => {
            eprintln!("error: {err:#}");
            return ExitCode::from(2);
        }
    };
    if let Some(config) = &checked.config {
        println!("{}", server::cli::describe_config(config));
    }
    for name in &checked.unknown {
        println!("warning: {}", services::config::unknown_variable(name));
    }
    if checked.errors.is_empty() {
        println!("The configuration is good for the server and the bot.");
        return ExitCode::SUCCESS;
    }
    eprintln!(
        "The configuration has {} problem{}:",
        checked.errors.len(),
        if checked.errors.len() == 1 { "" } else { "s" }
    );
    for err in &checked.errors {
        eprintln!("  {err}");
    }
    ExitCode::from(2)
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let options = server::site::options()?;
    tracing::info!(store = %config.database_url_redacted(), "opening the store");
    let state = AppState::open(config).await?;
    if let Some(demo) = services::demo::seed_if_fresh(&state).await? {
        println!(
            "First run: seeded \"{}\" with {} sample conversations.\n\
             Sign in as the demo owner: username {}  password {}\n\
             (TABLETALK_DEMO=0 turns this off; it never happens with DATABASE_URL set.)",
            services::demo::ORG_NAME,
            demo.conversations,
            demo.owner.username,
            demo.owner.password
        );
    }
    server::serve(state, options).await
}

async fn backup(config: Config, file: &std::path::Path) -> anyhow::Result<()> {
    let store = services::Store::connect(&config.database_url).await?;
    let copied = services::backup::backup(&store, file).await;
    store.close().await;
    let copied = copied?;
    println!(
        "Backed up the store to {} ({} bytes). Keep the secret key with it: {}.",
        copied.path.display(),
        copied.bytes,
        if config.secret_key.is_some() {
            "TABLETALK_SECRET_KEY"
        } else {
            "secret.key beside the store file"
        }
    );
    Ok(())
}

async fn restore(config: Config, file: &std::path::Path) -> anyhow::Result<()> {
    use secrecy::ExposeSecret;
    let Some(store) = services::backup::sqlite_path(config.database_url.expose_secret()) else {
        anyhow::bail!(
            "the store is PostgreSQL: restore it with pg_restore or psql (README, \"Deploying\")"
        );
    };
    let restored = services::backup::restore(&store, file).await?;
    println!("Restored {} from {}.", store.display(), file.display());
    if let Some(previous) = restored.previous {
        println!("The store it replaced is kept as {}.", previous.display());
    }
    Ok(())
}

async fn seed_demo(config: Config) -> anyhow::Result<()> {
    let state = AppState::open(config).await?;
    let seeded = services::demo::seed(&state).await;
    state.store.close().await;
    let seeded = seeded?;
    println!(
        "Seeded \"{}\" ({}), {} conversations.",
        services::demo::ORG_NAME,
        seeded.org_id,
        seeded.conversations
    );
    println!("username: {}", seeded.owner.username);
    println!("password: {}", seeded.owner.password);
    println!("org_id: {}", seeded.org_id);
    Ok(())
}

async fn create_user(config: Config, username: &str) -> anyhow::Result<()> {
    let password = server::cli::read_password(username)?;
    let state = AppState::open(config).await?;
    let created = services::auth::create_account(&state.store, username, password).await;
    state.store.close().await;
    let username = created.map_err(|e| anyhow::anyhow!("{}", e.message()))?;
    println!("Created the dashboard user {username}. Sign in at /login with this password.");
    Ok(())
}

async fn create_org(
    config: Config,
    name: &str,
    owner: i64,
    owner_name: Option<&str>,
) -> anyhow::Result<()> {
    let state = AppState::open(config).await?;
    let created = services::operator::create_org(&state.store, name, owner, owner_name).await;
    state.store.close().await;
    let (org, creds) = created.map_err(|e| anyhow::anyhow!("{}", e.message()))?;
    println!("Created the organization {:?} ({}).", org.name, org.org_id);
    println!("org_id: {}", org.org_id);
    server::cli::print_credentials("The owner's", &creds);
    Ok(())
}

async fn add_member(
    config: Config,
    org_id: &str,
    user_id: i64,
    name: Option<&str>,
) -> anyhow::Result<()> {
    let state = AppState::open(config).await?;
    let added = services::operator::add_member(&state.store, org_id, user_id, name).await;
    state.store.close().await;
    let creds = added.map_err(|e| anyhow::anyhow!("{}", e.message()))?;
    println!("Added Telegram user {user_id} to {org_id} as a member.");
    server::cli::print_credentials("Their", &creds);
    Ok(())
}

async fn generate_usage(
    config: Config,
    conversations: u64,
    orgs: u32,
    users_per_org: u32,
    days: u32,
) -> anyhow::Result<()> {
    anyhow::ensure!((1..=1_000).contains(&orgs), "--orgs must be 1 to 1000");
    anyhow::ensure!(
        (1..=1_000).contains(&users_per_org),
        "--users-per-org must be 1 to 1000"
    );
    anyhow::ensure!((1..=3_650).contains(&days), "--days must be 1 to 3650");
    anyhow::ensure!(
        conversations <= 100_000_000,
        "--conversations must be at most 100,000,000"
    );
    let state = AppState::open(config).await?;
    let today = models::Day::of_unix(services::clock::now());
    let mut options = services::costs::synthetic::Options::new(conversations, today);
    options.orgs = orgs;
    options.users_per_org = users_per_org;
    options.days = days;
    let started = std::time::Instant::now();
    let summary = services::costs::synthetic::generate(&state.store, &state.prices, &options).await;
    state.store.close().await;
    let summary = summary?;
    println!(
        "Generated {} conversations ({} LLM calls, {} rollup rows, {} in all) for {} organizations in {:.1?}.",
        summary.conversations,
        summary.stages,
        summary.rollup_rows,
        summary.total_cost,
        summary.org_ids.len(),
        started.elapsed()
    );
    println!(
        "Owners' Telegram ids start at {}; use `server add-member` or the bot to sign in as one.",
        options.first_user_id
    );
    Ok(())
}

async fn ask(
    config: Config,
    question: &str,
    user: i64,
    database: Option<&str>,
    json: bool,
    dry_run: bool,
) -> anyhow::Result<()> {
    let database_id = database
        .map(models::ConnectionId::parse)
        .transpose()
        .map_err(|e| anyhow::anyhow!("--database: {}", e.message()))?;
    let state = AppState::open(config).await?;
    let request = models::ask::AskRequest {
        question: question.to_owned(),
        database_id,
    };
    if dry_run {
        let previewed = async {
            let caller = services::access::caller(&state.store, user).await?;
            services::ask::preview(&state, &caller, &request).await
        }
        .await;
        state.store.close().await;
        let preview = previewed.map_err(|e| anyhow::anyhow!("{}", e.message()))?;
        if json {
            println!("{}", serde_json::to_string(&preview)?);
        } else {
            println!(
                "{} of the schema's tables kept ({}), {} columns; schema {} tokens (whole schema {}), prompt {} tokens.\n",
                preview.tables.len(),
                preview.tables.join(", "),
                preview.columns.len(),
                preview.schema_tokens,
                preview.whole_schema_tokens,
                preview.prompt_tokens
            );
            println!("{}", preview.prompt);
        }
        return Ok(());
    }
    let answered = async {
        let caller = services::access::caller(&state.store, user).await?;
        services::ask::ask(&state, &caller, &request, models::costs::Channel::Cli, None).await
    }
    .await;
    state.store.close().await;
    let answer = answered.map_err(|e| anyhow::anyhow!("{}", e.message()))?;
    if json {
        println!("{}", serde_json::to_string_pretty(&answer)?);
    } else {
        print!("{}", server::cli::render_answer(&answer));
    }
    anyhow::ensure!(
        answer.status == models::costs::ConversationStatus::Answered,
        "the question was not answered ({:?})",
        answer.status
    );
    Ok(())
}

fn check_sql(kind: &str) -> ExitCode {
    let kind = match models::targets::TargetKind::parse(kind) {
        Ok(kind) => kind,
        Err(err) => {
            eprintln!("error: {}", err.message());
            return ExitCode::from(2);
        }
    };
    let mut sql = String::new();
    if let Err(err) = std::io::Read::read_to_string(&mut std::io::stdin(), &mut sql) {
        eprintln!("error: could not read the SQL from standard input: {err}");
        return ExitCode::from(2);
    }
    match services::targets::guard::check(kind, &sql) {
        Ok(allowed) => {
            // The exact text the engine would be sent, on its own line.
            println!("allowed");
            println!("{}", allowed.sql);
            ExitCode::SUCCESS
        }
        Err(reason) => {
            println!("refused: {reason}");
            ExitCode::FAILURE
        }
    }
}

/// `check-sql` is answered before the configuration is read.
fn handled_before_loading() -> anyhow::Result<()> {
    anyhow::bail!("check-sql and config are handled before the configuration is loaded")
}
