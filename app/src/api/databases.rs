//! `/dashboard/databases`, `/databases/create`, `/databases/remove` (seed §4),
//! and `/databases/test`, `/databases/select`, `/databases/schema`, `/databases/functions`.

use leptos::prelude::*;
use leptos::server_fn::codec::{GetUrl, Json};
use models::codec::StrictJson;
use models::targets::{AddedDatabase, ConnectionTest, DatabaseInfo, NewDatabase, Schema};
use models::AppError;

/// The databases the caller may use: the organization's, then their own.
#[server(prefix = "/dashboard", endpoint = "databases", input = GetUrl, output = Json)]
pub async fn databases() -> Result<Vec<DatabaseInfo>, AppError> {
    let (state, caller) = super::context::caller().await?;
    services::databases::list(&state, &caller).await
}

/// Tests a connection string (connect, query, read the schema) without storing it.
#[server(prefix = "/dashboard", endpoint = "databases/test", input = StrictJson, output = Json)]
pub async fn test_database(connection_string: String) -> Result<ConnectionTest, AppError> {
    let (state, caller) = super::context::caller_for_change().await?;
    services::databases::test(&state, &caller, &connection_string).await
}

/// Adds a database after testing it; the connection string is stored encrypted.
#[server(prefix = "/dashboard", endpoint = "databases/create", input = StrictJson, output = Json)]
pub async fn create_database(database: NewDatabase) -> Result<AddedDatabase, AppError> {
    let (state, caller) = super::context::caller_for_change().await?;
    services::databases::add(&state, &caller, &database).await
}

/// Removes a database.
#[server(prefix = "/dashboard", endpoint = "databases/remove", input = StrictJson, output = Json)]
pub async fn remove_database(connection_id: String) -> Result<(), AppError> {
    let (state, caller) = super::context::caller_for_change().await?;
    let id = models::ConnectionId::parse(&connection_id)?;
    services::databases::remove(&state, &caller, &id).await
}

/// Replaces the functions of the database's own that questions may use
/// (names; an empty list allows none).
#[server(prefix = "/dashboard", endpoint = "databases/functions", input = StrictJson, output = Json)]
pub async fn allow_database_functions(
    connection_id: String,
    functions: Vec<String>,
) -> Result<DatabaseInfo, AppError> {
    let (state, caller) = super::context::caller_for_change().await?;
    let id = models::ConnectionId::parse(&connection_id)?;
    services::databases::allow_functions(&state, &caller, &id, &functions).await
}

/// Makes a database the caller's active one (the one the bot answers from).
#[server(prefix = "/dashboard", endpoint = "databases/select", input = StrictJson, output = Json)]
pub async fn select_database(connection_id: String) -> Result<DatabaseInfo, AppError> {
    let (state, caller) = super::context::caller_for_change().await?;
    let id = models::ConnectionId::parse(&connection_id)?;
    services::databases::select(&state, &caller, &id).await
}

/// A database's tables, views, columns and keys, as cached (read when first needed).
#[server(prefix = "/dashboard", endpoint = "databases/schema", input = GetUrl, output = Json)]
pub async fn database_schema(connection_id: String) -> Result<Schema, AppError> {
    let (state, caller) = super::context::caller().await?;
    let id = models::ConnectionId::parse(&connection_id)?;
    let schema = services::databases::schema(&state, &caller, &id, false).await?;
    Ok((*schema).clone())
}

/// Reads a database's schema again (a change, so a POST; limited per minute like tests).
#[server(prefix = "/dashboard", endpoint = "databases/schema/refresh", input = StrictJson, output = Json)]
pub async fn refresh_database_schema(connection_id: String) -> Result<Schema, AppError> {
    let (state, caller) = super::context::caller_for_change().await?;
    let id = models::ConnectionId::parse(&connection_id)?;
    let schema = services::databases::schema(&state, &caller, &id, true).await?;
    Ok((*schema).clone())
}
