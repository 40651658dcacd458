use super::config::tls_policy;
use super::*;
use crate::conn;
use std::time::Duration;

fn limits() -> QueryLimits {
    QueryLimits {
        timeout: Duration::from_secs(12),
        row_limit: 5,
        ..QueryLimits::default()
    }
}

#[test]
fn configs_from_each_accepted_form() {
    for text in [
        "Server=db.example.com,1444;Database=crm;User Id=reader;Password=pw;Encrypt=true;TrustServerCertificate=true",
        "mssql://reader:pw@db.example.com:1444/crm",
        "mssql+pyodbc://reader:pw@db.example.com:1444/crm?driver=ODBC+Driver+18+for+SQL+Server",
    ] {
        let spec = conn::parse(text).expect(text);
        let config = config(&spec, limits()).expect(text);
        assert_eq!(config.get_addr(), "db.example.com:1444", "{text}");
        assert_eq!(config.get_command_timeout(), Some(Duration::from_secs(12)));
    }
    let spec = conn::parse("Server=db;Database=crm;User Id=u;Password=p").expect("parses");
    assert_eq!(
        config(&spec, limits()).expect("valid").get_addr(),
        "db:1433"
    );
}

#[test]
fn unusable_settings_are_explained_without_the_password() {
    let spec = conn::parse("Server=db;Database=crm").expect("parses");
    let err = config(&spec, limits()).unwrap_err();
    assert!(err.message.contains("User Id and Password"), "{err}");
    let spec = conn::parse("Server=db;Database=crm;User Id=u;Password=hunter2;Encrypt=perhaps")
        .expect("parses");
    let err = config(&spec, limits()).unwrap_err();
    assert!(err.message.contains("Encrypt"), "{err}");
    assert!(!err.message.contains("hunter2"));
    let spec =
        conn::parse("Server=db\\SQLEXPRESS;Database=crm;User Id=u;Password=p").expect("parses");
    assert!(config(&spec, limits())
        .unwrap_err()
        .message
        .contains("instance"));
}

/// Found against a TDS server with a self-signed certificate: Encrypt=false
/// still validated it (CaUsedAsEndEntity), unlike Microsoft's clients.
#[test]
fn encrypt_and_trust_follow_microsofts_rules() {
    let policy = |extra: &str| {
        let text = format!("Server=db;Database=crm;User Id=u;Password=p{extra}");
        tls_policy(&conn::parse(&text).expect("parses")).expect("valid")
    };
    assert_eq!(
        policy(""),
        (true, true),
        "mandatory and validated by default"
    );
    assert_eq!(policy(";Encrypt=true"), (true, true));
    assert_eq!(
        policy(";Encrypt=true;TrustServerCertificate=true"),
        (true, false)
    );
    assert_eq!(
        policy(";Encrypt=false"),
        (false, false),
        "login only, not validated"
    );
    assert_eq!(policy(";Encrypt=optional"), (false, false));
    assert_eq!(policy(";Encrypt=strict"), (true, true));
}

/// Found against a TDS server: the driver's advice to programmers reached the person.
#[test]
fn tls_failures_leave_out_the_drivers_advice() {
    let raw = "the server's certificate was rejected during the TLS handshake: invalid peer \
               certificate: UnknownIssuer. To connect anyway you can: (1) trust a specific CA \
               certificate with `Config::trust_cert_ca(path)` ... (4) build tiberius with the \
               `native-tls` backend. Note: SQL Server always performs a TLS handshake";
    let message = tls_message("db:1433", raw);
    assert!(message.contains("not signed by an authority"), "{message}");
    // Issue 29, finding 15: the rustls error reads as words, not as Debug text.
    let message = tls_message(
        "db:1433",
        "invalid peer certificate: Other(OtherError(CaUsedAsEndEntity))",
    );
    assert!(
        message.contains("a certificate authority's certificate as its own"),
        "{message}"
    );
    assert!(!message.contains("OtherError"), "{message}");
    assert!(message.contains("TrustServerCertificate=true"), "{message}");
    for leak in ["Config::", "tiberius", "native-tls"] {
        assert!(!message.contains(leak), "{message}");
    }
    let db = classify(
        tiberius::error::Error::Io {
            kind: std::io::ErrorKind::TimedOut,
            message: "timed out".into(),
        },
        "db:1433",
        limits(),
    );
    assert_eq!(
        db.kind,
        TargetErrorKind::Unreachable,
        "connecting: unreachable"
    );
}

/// Issue 29, findings 12 and 13: every query left its connection marked
/// broken (a new login and TLS handshake each time), and a query past the
/// time limit kept running on the server. Now a query that ended is reset
/// and reused; one interrupted (time limit, row or byte cap) is cancelled
/// with an Attention first; only a failed connection is closed.
#[test]
fn after_a_query_the_connection_is_reset_cancelled_or_closed() {
    let ok = |truncated| Ok((Vec::new(), Vec::new(), truncated));
    let failed = |kind| Err(TargetError::new(kind, "x"));
    assert_eq!(after_query(&ok(false)), AfterQuery::Reset);
    assert_eq!(after_query(&ok(true)), AfterQuery::CancelThenReset);
    assert_eq!(
        after_query(&failed(TargetErrorKind::Query)),
        AfterQuery::Reset
    );
    assert_eq!(
        after_query(&failed(TargetErrorKind::ReadOnly)),
        AfterQuery::Reset
    );
    // Past the time limit (ours or the driver's), or past the byte cap.
    assert_eq!(
        after_query(&Err(engine::timed_out(limits()))),
        AfterQuery::CancelThenReset
    );
    assert_eq!(
        after_query(&failed(TargetErrorKind::TooLarge)),
        AfterQuery::CancelThenReset
    );
    assert_eq!(
        after_query(&failed(TargetErrorKind::Broken)),
        AfterQuery::Close
    );
}

/// Found against a TDS server: error 911 got only the generic message.
#[test]
fn a_missing_database_is_named_as_such() {
    for code in [911, 4060] {
        let err = server_error(code, "Database 'nope' does not exist.", "db:1433");
        assert_eq!(err.kind, TargetErrorKind::NoDatabase, "{code}");
    }
}

/// Found against a TDS server: a query past the limit was reported as
/// "Could not reach ...". The driver's own timeout while a query runs is
/// the query taking too long, and its connection is cancelled, not reused as is.
#[test]
fn a_query_past_the_limit_is_a_timeout_and_is_cancelled() {
    let err = query_error(
        tiberius::error::Error::Io {
            kind: std::io::ErrorKind::TimedOut,
            message: "timed out".into(),
        },
        "db:1433",
        limits(),
    );
    assert_eq!(err.kind, TargetErrorKind::Timeout);
    assert!(err.message.contains("longer than"), "{err}");
    assert_eq!(after_query(&Err(err)), AfterQuery::CancelThenReset);
}

#[test]
fn every_statement_runs_in_a_transaction_that_is_rolled_back() {
    let guard = session_guard(limits());
    assert!(guard.starts_with("SET IMPLICIT_TRANSACTIONS ON;"));
    assert!(guard.contains("SET LOCK_TIMEOUT 10000"));
    assert!(SESSION_RESET.starts_with("IF @@TRANCOUNT > 0 ROLLBACK TRANSACTION"));
}

#[test]
fn values_decode_like_the_other_engines() {
    assert_eq!(decode(&ColumnData::I32(None)), Value::Null);
    assert_eq!(decode(&ColumnData::I64(Some(7))), Value::Int(7));
    assert_eq!(decode(&ColumnData::Bit(Some(true))), Value::Bool(true));
    assert_eq!(
        decode(&ColumnData::Binary(Some(vec![0xde, 0xad].into()))).render(),
        "0xDEAD"
    );
    assert_eq!(
        decode(&ColumnData::Numeric(Some(
            tiberius::numeric::Numeric::new_with_scale(12345, 2)
        )))
        .render(),
        "123.45"
    );
    let when = chrono::NaiveDate::from_ymd_opt(2026, 11, 26)
        .and_then(|d| d.and_hms_opt(9, 30, 0))
        .expect("a date");
    let data = tiberius::IntoSql::into_sql(when);
    assert_eq!(decode(&data).render(), "2026-11-26 09:30:00");
}
