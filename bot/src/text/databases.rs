//! Adding databases.

/// /adddb in a group: connection strings are never handled there.
pub fn private_for_connections() -> &'static str {
    "Add databases in a private chat with me: a connection string holds a password, and it must not be posted in a group."
}

/// The end of /adddb.
pub fn database_added(added: &models::targets::AddedDatabase) -> String {
    let s = &added.test.schema;
    let mut out = format!(
        "Added {}: {} ({}), {}.",
        added.database.name, added.test.server_version, added.database.summary, s
    );
    if !added.test.sample_tables.is_empty() {
        out.push_str(&format!(
            "\nTables such as: {}.",
            added.test.sample_tables.join(", ")
        ));
    }
    out.push_str("\n\nChoose it with /selectdb, then ask a question.");
    out
}
