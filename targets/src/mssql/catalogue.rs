//! The schema, read from SQL Server's catalogue views (`sys.objects`,
//! `sys.columns`, keys, `MS_Description` comments).

use super::*;

const COLUMNS_SQL: &str = "\
SELECT s.name, o.name, o.type, c.name,
       TYPE_NAME(c.user_type_id) +
         CASE WHEN TYPE_NAME(c.user_type_id) IN ('varchar', 'char', 'varbinary', 'binary')
                THEN '(' + CASE WHEN c.max_length = -1 THEN 'max' ELSE CAST(c.max_length AS varchar(10)) END + ')'
              WHEN TYPE_NAME(c.user_type_id) IN ('nvarchar', 'nchar')
                THEN '(' + CASE WHEN c.max_length = -1 THEN 'max' ELSE CAST(c.max_length / 2 AS varchar(10)) END + ')'
              WHEN TYPE_NAME(c.user_type_id) IN ('decimal', 'numeric')
                THEN '(' + CAST(c.precision AS varchar(10)) + ',' + CAST(c.scale AS varchar(10)) + ')'
              ELSE '' END,
       c.is_nullable,
       CAST((SELECT SUM(p.rows) FROM sys.partitions p WHERE p.object_id = o.object_id AND p.index_id IN (0, 1)) AS bigint),
       CAST((SELECT TOP 1 ep.value FROM sys.extended_properties ep
             WHERE ep.class = 1 AND ep.major_id = o.object_id AND ep.minor_id = c.column_id
               AND ep.name = 'MS_Description') AS nvarchar(1000))
FROM sys.objects o
JOIN sys.schemas s ON s.schema_id = o.schema_id
JOIN sys.columns c ON c.object_id = o.object_id
WHERE o.type IN ('U', 'V') AND o.is_ms_shipped = 0
ORDER BY s.name, o.name, c.column_id";

const KEYS_SQL: &str = "\
SELECT s.name, t.name, k.name, CAST(1 AS bit), c.name, NULL, NULL, NULL, ic.key_ordinal
FROM sys.indexes k
JOIN sys.tables t ON t.object_id = k.object_id
JOIN sys.schemas s ON s.schema_id = t.schema_id
JOIN sys.index_columns ic ON ic.object_id = k.object_id AND ic.index_id = k.index_id
JOIN sys.columns c ON c.object_id = ic.object_id AND c.column_id = ic.column_id
WHERE k.is_primary_key = 1
UNION ALL
SELECT s.name, t.name, f.name, CAST(0 AS bit), c.name, rs.name, rt.name, rc.name, fc.constraint_column_id
FROM sys.foreign_keys f
JOIN sys.foreign_key_columns fc ON fc.constraint_object_id = f.object_id
JOIN sys.tables t ON t.object_id = f.parent_object_id
JOIN sys.schemas s ON s.schema_id = t.schema_id
JOIN sys.columns c ON c.object_id = fc.parent_object_id AND c.column_id = fc.parent_column_id
JOIN sys.tables rt ON rt.object_id = f.referenced_object_id
JOIN sys.schemas rs ON rs.schema_id = rt.schema_id
JOIN sys.columns rc ON rc.object_id = fc.referenced_object_id AND rc.column_id = fc.referenced_column_id
ORDER BY 1, 2, 3, 9";

pub(crate) async fn introspect(pool: &MssqlPool) -> Result<Schema, TargetError> {
    let limits = QueryLimits::default();
    let place = pool_place(pool);
    let mut conn = pool
        .pool
        .get()
        .await
        .map_err(|e| pool_error(e, &place, limits))?;
    let err = |e| classify(e, &place, limits);
    let columns = conn
        .client
        .simple_query(COLUMNS_SQL)
        .await
        .map_err(err)?
        .into_first_result()
        .await
        .map_err(err)?;
    let keys = conn
        .client
        .simple_query(KEYS_SQL)
        .await
        .map_err(err)?
        .into_first_result()
        .await
        .map_err(err)?;
    let text = |r: &tiberius::Row, i: usize| r.get::<&str, _>(i).unwrap_or_default().to_owned();
    let columns = columns
        .iter()
        .map(|r| ColumnRow {
            schema: Some(text(r, 0)),
            table: text(r, 1),
            kind: if text(r, 2).trim() == "V" {
                TableKind::View
            } else {
                TableKind::Table
            },
            column: text(r, 3),
            data_type: text(r, 4),
            nullable: r.get::<bool, _>(5).unwrap_or(true),
            row_estimate: r.get::<i64, _>(6),
            comment: r.get::<&str, _>(7).map(str::to_owned),
        })
        .collect();
    let keys = keys
        .iter()
        .map(|r| KeyRow {
            schema: Some(text(r, 0)),
            table: text(r, 1),
            constraint: text(r, 2),
            primary: r.get::<bool, _>(3).unwrap_or(false),
            column: text(r, 4),
            ref_schema: r.get::<&str, _>(5).map(str::to_owned),
            ref_table: r.get::<&str, _>(6).map(str::to_owned),
            ref_column: r.get::<&str, _>(7).map(str::to_owned),
        })
        .collect();
    Ok(schema::build(columns, keys, crate::unix_now()))
}
