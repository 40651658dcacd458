//! Adding a database: the connection string parsed, the connection tested
//! and its schema read (counted against the person's probes), and only then
//! stored, sealed, in the caller's organization or as their own.

use super::*;

/// The kind of database a connection string is for (nothing is connected).
pub fn kind_of_connection(
    connection_string: &str,
) -> Result<models::targets::TargetKind, AppError> {
    parse(connection_string).map(|spec| spec.kind)
}

pub(super) fn parse(connection_string: &str) -> Result<conn::ConnectionSpec, AppError> {
    conn::parse(connection_string).map_err(|problem| {
        AppError::bad_request(format!("The connection string is not usable: {problem}."))
    })
}

/// Connects, reads the version and the schema: the test every database passes
/// before it is stored, as a database of `owner` (an organization id or a person's id).
async fn probe(
    state: &AppState,
    spec: &conn::ConnectionSpec,
    owner: &str,
) -> Result<(Engine, Arc<Schema>, ConnectionTest), TargetError> {
    let engine = Engine::connect(spec, &state.targets.context().for_owner(owner, false)).await?;
    let outcome = async {
        let server_version = engine.server_version().await?;
        let schema = engine.introspect().await?;
        Ok::<_, TargetError>((server_version, schema))
    }
    .await;
    let (server_version, schema) = match outcome {
        Ok(found) => found,
        Err(e) => {
            engine.close().await;
            return Err(e);
        }
    };
    let test = ConnectionTest {
        summary: shown(spec),
        schema: schema.summary(),
        sample_tables: schema
            .tables
            .iter()
            .filter(|t| t.kind == TableKind::Table)
            .take(5)
            .map(|t| t.qualified_name())
            .collect(),
        server_version,
    };
    Ok((engine, Arc::new(schema), test))
}

/// The redacted form; for SQLite only the file name (the server's paths are not the user's business).
pub(super) fn shown(spec: &conn::ConnectionSpec) -> ConnectionSummary {
    let mut summary = spec.redacted();
    if summary.kind.is_file() {
        if let Some(name) = std::path::Path::new(&summary.database).file_name() {
            summary.database = name.to_string_lossy().into_owned();
        }
    }
    summary
}

/// Each connection to a host a user names counts against their per-minute limit.
pub(super) async fn take_probe(state: &AppState, user_id: UserId) -> Result<(), AppError> {
    crate::rate::take(
        &state.store,
        &format!("database_probe:{user_id}"),
        state.config.database_probes,
        "test, add or re-read databases",
    )
    .await
}

/// Tests a connection string without storing anything: connect, query, read the schema.
#[tracing::instrument(level = "debug", skip_all, fields(org = ?caller.org_id, user = ?caller.user_id))]
pub async fn test(
    state: &AppState,
    caller: &Caller,
    connection_string: &str,
) -> Result<ConnectionTest, AppError> {
    let (_, owner_id) = placement(caller, None)?;
    let spec = parse(connection_string)?;
    take_probe(state, access::user(caller)?).await?;
    let (engine, _, test) = probe(state, &spec, &owner_id).await?;
    engine.close().await;
    Ok(test)
}

/// Adds a database: checks the input, connects, reads the schema, and only then stores it (encrypted).
#[tracing::instrument(level = "debug", skip_all, fields(org = ?caller.org_id, user = ?caller.user_id))]
pub async fn add(
    state: &AppState,
    caller: &Caller,
    new: &NewDatabase,
) -> Result<AddedDatabase, AppError> {
    let (scope, owner_id) = placement(caller, new.scope)?;
    let user_id = access::user(caller)?;
    let name = validate_database_name(&new.name)?;
    let spec = parse(&new.connection_string)?;
    take_probe(state, user_id).await?;
    let (engine, schema, test) = probe(state, &spec, &owner_id).await?;
    let stored = store_new(
        state,
        caller,
        scope,
        &owner_id,
        user_id,
        &name,
        spec.kind,
        &new.connection_string,
    )
    .await;
    let (id, created_at) = match stored {
        Ok(done) => done,
        Err(e) => {
            engine.close().await;
            return Err(e);
        }
    };
    state.targets.adopt(&id, engine, schema).await;
    Ok(AddedDatabase {
        database: DatabaseInfo {
            connection_id: id,
            name,
            scope,
            summary: test.summary.clone(),
            created_by: user_id,
            created_at,
            last_used: None,
            selected: false,
            allowed_functions: Vec::new(),
        },
        test,
    })
}

#[allow(clippy::too_many_arguments)]
pub(super) async fn store_new(
    state: &AppState,
    caller: &Caller,
    scope: DatabaseScope,
    owner_id: &str,
    user_id: UserId,
    name: &str,
    kind: models::targets::TargetKind,
    connection_string: &str,
) -> Result<(ConnectionId, i64), AppError> {
    let sealed = state
        .targets
        .secret_box()
        .seal(connection_string)
        .map_err(internal("sealing a connection string"))?;
    let id = ConnectionId::from_random(crate::random::bytes().map_err(internal("drawing an id"))?);
    let now = crate::clock::now();
    let mut tx = state
        .store
        .begin_write()
        .await
        .map_err(internal("starting to add a database"))?;
    let org_id = if scope == DatabaseScope::Organization {
        // Re-read the owner's membership inside the transaction.
        Some(
            access::require_in_tx(&mut tx, caller, Action::AddDatabases)
                .await?
                .0,
        )
    } else {
        None
    };
    let counts = sqlx::query(
        "SELECT COUNT(*), SUM(CASE WHEN LOWER(name) = LOWER($3) THEN 1 ELSE 0 END) \
         FROM database_connections WHERE owner_type = $1 AND owner_id = $2",
    )
    .bind(scope.as_str())
    .bind(owner_id)
    .bind(name)
    .fetch_one(&mut *tx)
    .await
    .map_err(internal("counting databases"))?;
    let total: i64 = counts.try_get(0).map_err(internal("reading a count"))?;
    let same_name: Option<i64> = counts.try_get(1).map_err(internal("reading a count"))?;
    if same_name.unwrap_or(0) > 0 {
        return Err(AppError::conflict(format!(
            "There is already a database named {name:?} here. Choose another name."
        )));
    }
    if total >= MAX_PER_OWNER {
        return Err(AppError::conflict(format!(
            "At most {MAX_PER_OWNER} databases can be registered here; remove one first."
        )));
    }
    sqlx::query(
        "INSERT INTO database_connections (connection_id, name, kind, connection_encrypted, owner_type, owner_id, \
         created_by, created_at, is_active) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, TRUE)",
    )
    .bind(id.as_str())
    .bind(name)
    .bind(kind.as_str())
    .bind(&sealed)
    .bind(scope.as_str())
    .bind(owner_id)
    .bind(user_id)
    .bind(now)
    .execute(&mut *tx)
    .await
    .map_err(internal("storing a database"))?;
    if let Some(org_id) = &org_id {
        sqlx::query("INSERT INTO organization_databases (org_id, connection_id, added_at) VALUES ($1, $2, $3)")
            .bind(org_id.as_str())
            .bind(id.as_str())
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(internal("linking a database to its organization"))?;
    }
    if let Some(org_id) = &org_id {
        tell_members(
            &mut tx,
            org_id,
            user_id,
            &format!("added the database \u{201c}{name}\u{201d}; choose it with /selectdb."),
            now,
        )
        .await?;
    }
    audit::record(
        &mut tx,
        Some(user_id),
        org_id.as_ref().map(|o| o.as_str()),
        Event::DatabaseAdded,
        Some(&format!("{name} ({id})")),
    )
    .await
    .map_err(internal("recording an added database"))?;
    tx.commit().await.map_err(internal("adding a database"))?;
    tracing::info!(connection = %id, kind = %kind, "added a database");
    Ok((id, now))
}
