//! Connection-string parsing, case by case (beside the module, to keep conn.rs short).

use super::*;

const SECRET: &str = "s3cr%2Ft-P@ss";

fn ok(text: &str) -> ConnectionSpec {
    parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))
}

#[test]
fn every_kind_reads_its_own_example_and_schemes() {
    for kind in TargetKind::ALL {
        let example = ok(kind.example_connection_string());
        assert_eq!(example.kind, kind, "{kind}");
        assert_eq!(example.port_or_default(), kind.default_port(), "{kind}");
        for scheme in kind.url_schemes() {
            let url = format!("{scheme}://reader@db.example.com/sales");
            assert_eq!(ok(&url).kind, kind, "{url}");
        }
    }
    let err = parse("oracle://u@h/db").expect_err("unknown scheme");
    assert!(err.contains("postgres, postgresql"), "{err}");
}

#[test]
fn urls_of_every_kind() {
    let pg = ok("postgres://alice:s3cr%2Ft@db.example.com:6543/sales?sslmode=require");
    assert_eq!(pg.kind, TargetKind::Postgres);
    assert_eq!(pg.password(), Some("s3cr/t"));
    assert_eq!(
        pg.redacted().to_string(),
        "postgres://alice@db.example.com:6543/sales"
    );
    assert_eq!(
        pg.options.get("sslmode").map(String::as_str),
        Some("require")
    );
    let my = ok("mariadb://root@127.0.0.1/test");
    assert_eq!(
        (my.kind, my.port_or_default()),
        (TargetKind::Mysql, Some(3306))
    );
    let lite = ok("sqlite:///var/data/sales.db");
    assert_eq!(
        (lite.kind, lite.database.as_str()),
        (TargetKind::Sqlite, "/var/data/sales.db")
    );
    let ms = ok("sqlserver://sa:pw@[::1]:1444/crm");
    assert_eq!(
        (ms.kind, ms.host.as_deref(), ms.port),
        (TargetKind::Mssql, Some("::1"), Some(1444))
    );
}

#[test]
fn sqlalchemy_forms_from_the_original_system() {
    let ms =
        ok("mssql+pyodbc://user:pass@sql.local/Warehouse?driver=ODBC+Driver+17+for+SQL+Server");
    assert_eq!(ms.kind, TargetKind::Mssql);
    assert_eq!(ms.database, "Warehouse");
    assert_eq!(ms.port_or_default(), Some(1433));
    assert!(ms.options.contains_key("driver"));
    assert_eq!(
        ok("postgresql+psycopg2://u:p@h/db").kind,
        TargetKind::Postgres
    );
}

#[test]
fn ado_net_for_sql_server() {
    let s = ok("Server=tcp:sql.example.com,1433;Initial Catalog=Sales;User Id=reader;Password=x;y;Encrypt=True;TrustServerCertificate=False");
    assert_eq!(s.host.as_deref(), Some("sql.example.com"));
    assert_eq!(s.port, Some(1433));
    assert_eq!(s.database, "Sales");
    assert_eq!(s.user.as_deref(), Some("reader"));
    assert_eq!(s.options.get("encrypt").map(String::as_str), Some("True"));
    assert_eq!(
        s.password(),
        Some("x;y"),
        "a ';' inside the password is kept"
    );
    let d = ok("Data Source=host;Database=db;UID=u;PWD=pw");
    assert_eq!(
        (d.host.as_deref(), d.password()),
        (Some("host"), Some("pw"))
    );
}

/// Issue 29, finding 15: quoted ADO.NET and ODBC values were cut at their
/// `;` (fails on the old code: the password came back as `"ab`).
#[test]
fn quoted_values_keep_their_semicolons_and_equals_signs() {
    for (text, password) in [
        (
            r#"Server=h;Database=d;User Id=u;Password="ab;cd=ef""#,
            "ab;cd=ef",
        ),
        (
            "Server=h;Database=d;User Id=u;Password='ab;cd=ef';Encrypt=true",
            "ab;cd=ef",
        ),
        ("Server=h;Database=d;UID=u;PWD={ab;cd=ef}", "ab;cd=ef"),
        ("Server=h;Database=d;UID=u;PWD={a}}b};", "a}b"),
        (
            r#"Server=h;Database=d;UID=u;PWD="say ""hi""""#,
            r#"say "hi""#,
        ),
        ("Server=h;Database=d;UID=u;PWD= {x;y} ;Encrypt=false", "x;y"),
    ] {
        let spec = ok(text);
        assert_eq!(spec.password(), Some(password), "{text}");
        assert_eq!(spec.database, "d", "{text}");
    }
    let spec = ok("Server=h;Database={my;db};UID=u;PWD=p");
    assert_eq!(spec.database, "my;db");
    let err = parse("Server=h;Database=d;UID=u;PWD={never closed").expect_err("open");
    assert!(err.contains("no closing }"), "{err}");
    assert!(!err.contains("never"), "{err}");
}

#[test]
fn malformed_strings_say_what_is_wrong_without_the_password() {
    let cases = [
        ("", "empty"),
        ("just words", "not a connection string"),
        ("oracle://u:p@h/db", "\"oracle\" is not a database"),
        (
            &format!("postgres://u:{SECRET}@host:99999/db") as &str,
            "not a number from 1 to 65535",
        ),
        (&format!("postgres://u:{SECRET}@host"), "names no database"),
        (&format!("postgres://u:{SECRET}@/db"), "names no host"),
        ("sqlite://", "needs a file path"),
        (&format!("Database=db;Password={SECRET}"), "has no Server="),
        (&format!("Server=h;Password={SECRET}"), "has no Database="),
        (
            &format!("Server=h;Database=d;Password{SECRET}"),
            "is not a Key=Value",
        ),
        (
            "postgres://u:%zz@h/db",
            "password is not valid percent-encoding",
        ),
    ];
    for (text, expected) in cases {
        let err = parse(text).expect_err(text);
        assert!(err.contains(expected), "{text:?}: {err}");
        assert!(!err.contains("s3cr"), "the password leaked: {err}");
    }
}

/// Issue 29, findings 2 and 5: a connection string made the server read
/// any file (sslrootcert=/dev/zero), and two spellings of one setting let
/// the host check and the driver read different TLS modes. (Fails on the
/// old code: every one of these was accepted.)
#[test]
fn no_server_file_and_no_setting_twice() {
    for text in [
        "postgres://x:y@db.example.com/db?sslmode=verify-ca&sslrootcert=/dev/zero",
        "postgres://x:y@db.example.com/db?sslcert=/etc/ssl/private/key.pem",
        "postgres://x:y@db.example.com/db?sslkey=/etc/shadow",
        "postgres://x:y@db.example.com/db?sslcrl=/etc/passwd",
        "postgres://x:y@db.example.com/db?passfile=/root/.pgpass",
        "postgres://x:y@db.example.com/db?service=prod",
        "postgres://x:y@db.example.com/db?host=/var/run/postgresql",
        "mysql://u:p@db.example.com/db?ssl-ca=/etc/passwd",
        "mysql://u:p@db.example.com/db?ssl_cert=/etc/passwd",
        "mysql://u:p@db.example.com/db?ssl-key=/etc/passwd",
        "mysql://u:p@db.example.com/db?socket=/run/mysqld/mysqld.sock",
        "Server=db;Database=d;User Id=u;Password=p;ServerCertificate=/etc/passwd",
        "Server=db;Database=d;User Id=u;Password=p;AttachDbFilename=/data/x.mdf",
    ] {
        let err = parse(text).expect_err(text);
        assert!(err.contains("names a file or socket"), "{text}: {err}");
    }
    for text in [
        "mysql://u:p@rebind.example/db?ssl-mode=DISABLED&ssl_mode=VERIFY_IDENTITY",
        "mysql://u:p@h/db?SSL-MODE=DISABLED&sslmode=VERIFY_IDENTITY",
        "postgres://u:p@h/db?sslmode=disable&SSLMODE=verify-full",
        "Server=a;Data Source=b;Database=d;User Id=u;Password=p",
        "Server=a;Database=d;Initial Catalog=e;User Id=u;Password=p",
        "Server=a;Database=d;User Id=u;Password=p;Encrypt=false;encrypt=true",
    ] {
        let err = parse(text).expect_err(text);
        assert!(err.contains("more than once"), "{text}: {err}");
    }
    // A certificate pasted whole is no file.
    let pem = "-----BEGIN%20CERTIFICATE-----%0AMIIB%0A-----END%20CERTIFICATE-----";
    let spec = ok(&format!(
        "postgres://u:p@h/db?sslmode=verify-full&sslrootcert={pem}"
    ));
    assert!(spec
        .options
        .get("sslrootcert")
        .is_some_and(|v| is_inline_pem(v)));
    // Spellings are one key for the drivers.
    let my = ok("mysql://u:p@h/db?ssl-mode=REQUIRED");
    assert_eq!(
        my.options.get("sslmode").map(String::as_str),
        Some("REQUIRED")
    );
}

#[test]
fn debug_and_display_never_show_the_password() {
    let spec = ok("postgres://alice:topsecret@h/db");
    assert!(!format!("{spec:?}").contains("topsecret"));
    assert!(!spec.redacted().to_string().contains("topsecret"));
}
