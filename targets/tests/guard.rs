//! The SQL guard against an adversarial corpus: every hostile statement is
//! refused, every legitimate analytic query allowed, in each dialect.

use models::targets::TargetKind::{self, Mssql, Mysql, Postgres, Sqlite};
use targets::guard::check;

/// (kind, statement): must be refused.
const HOSTILE: &[(TargetKind, &str)] = &[
    // Writes and DDL, in every dialect.
    (Postgres, "DELETE FROM orders"),
    (Postgres, "UPDATE orders SET total = 0"),
    (Postgres, "INSERT INTO orders (id) VALUES (1)"),
    (Postgres, "DROP TABLE orders"),
    (Postgres, "TRUNCATE orders"),
    (Postgres, "ALTER TABLE orders ADD COLUMN x int"),
    (Postgres, "CREATE TABLE x AS SELECT * FROM orders"),
    (Postgres, "GRANT ALL ON orders TO public"),
    (Mysql, "DELETE FROM orders WHERE 1=1"),
    (Mysql, "REPLACE INTO orders VALUES (1)"),
    (Mssql, "DELETE FROM orders"),
    (Mssql, "UPDATE TOP (10) orders SET total = 0"),
    (Sqlite, "DELETE FROM orders"),
    (Sqlite, "DROP TABLE orders"),
    // Stacked statements and comment tricks.
    (Postgres, "SELECT 1; DROP TABLE orders"),
    (Postgres, "SELECT 1;DELETE FROM orders;"),
    (
        Postgres,
        "SELECT * FROM orders -- harmless\n; DELETE FROM orders",
    ),
    (Postgres, "SELECT /* ; */ 1; /* */ DROP TABLE orders"),
    (Mysql, "SELECT 1; DROP TABLE orders"),
    (Mysql, "SELECT 1 /*!50000 ; DROP TABLE orders */"),
    (Mysql, "SELECT /*! SLEEP(10) */ 1"),
    (Mssql, "SELECT 1; EXEC xp_cmdshell 'dir'"),
    (Mssql, "SELECT 1\nGO\nDROP TABLE orders"),
    (Sqlite, "SELECT 1; DROP TABLE orders"),
    // SELECT INTO and locking.
    (Postgres, "SELECT * INTO new_orders FROM orders"),
    (Mssql, "SELECT * INTO #tmp FROM orders"),
    (Mssql, "SELECT * INTO dbo.copy FROM orders"),
    (Postgres, "SELECT * FROM orders FOR UPDATE"),
    (Postgres, "SELECT * FROM orders FOR SHARE"),
    (Postgres, "select * from orders for no key update"),
    (Mysql, "SELECT * FROM orders FOR UPDATE"),
    (Mysql, "SELECT * FROM orders INTO OUTFILE '/tmp/x'"),
    (Mysql, "SELECT * FROM orders INTO DUMPFILE '/tmp/x'"),
    // Data-modifying CTEs.
    (
        Postgres,
        "WITH gone AS (DELETE FROM orders RETURNING *) SELECT * FROM gone",
    ),
    (
        Postgres,
        "WITH x AS (UPDATE orders SET total = 0 RETURNING id) SELECT count(*) FROM x",
    ),
    (
        Postgres,
        "WITH x AS (INSERT INTO orders (id) VALUES (9) RETURNING id) SELECT * FROM x",
    ),
    // Procedures.
    (Mssql, "EXEC sp_who"),
    (Mssql, "EXECUTE xp_cmdshell 'whoami'"),
    (Mssql, "exec('select 1')"),
    (Postgres, "CALL do_something()"),
    (Mysql, "CALL do_something()"),
    (Postgres, "DO $$ BEGIN PERFORM 1; END $$"),
    // Dangerous functions, with casing, qualification and nesting.
    (Postgres, "SELECT pg_read_file('/etc/passwd')"),
    (Postgres, "SELECT PG_READ_FILE('/etc/passwd', 0, 100)"),
    (Postgres, "SELECT pg_catalog.pg_read_file('/etc/passwd')"),
    (Postgres, "SELECT * FROM pg_ls_dir('/')"),
    (Postgres, "SELECT lo_import('/etc/passwd')"),
    (Postgres, "SELECT lo_export(1, '/tmp/x')"),
    (
        Postgres,
        "SELECT * FROM dblink('host=evil', 'select 1') AS t(x int)",
    ),
    (Postgres, "SELECT pg_sleep(30)"),
    (
        Postgres,
        "SELECT id FROM orders WHERE id IN (SELECT pg_sleep(10)::int)",
    ),
    (
        Postgres,
        "SELECT (SELECT max(x) FROM (SELECT pg_read_file('/etc/hosts') AS x) s)",
    ),
    (
        Postgres,
        "SELECT set_config('default_transaction_read_only', 'off', false)",
    ),
    (Postgres, "SELECT nextval('orders_id_seq')"),
    (
        Postgres,
        "SELECT query_to_xml('delete from orders', true, true, '')",
    ),
    (Postgres, "SELECT pg_advisory_lock(1)"),
    (Postgres, "COPY orders TO '/tmp/orders.csv'"),
    (Postgres, "COPY (SELECT 1) TO PROGRAM 'id'"),
    (Mysql, "SELECT LOAD_FILE('/etc/passwd')"),
    (Mysql, "SELECT SLEEP(5)"),
    (Mysql, "SELECT BENCHMARK(100000000, MD5('x'))"),
    (Mysql, "SELECT GET_LOCK('x', 10)"),
    (Mysql, "SELECT * FROM orders WHERE id = 1 AND sleep(5)"),
    (
        Mssql,
        "SELECT * FROM OPENROWSET('SQLNCLI', 'Server=x;', 'SELECT 1')",
    ),
    (Mssql, "SELECT * FROM OPENQUERY(linked, 'SELECT 1')"),
    (
        Mssql,
        "SELECT * FROM OPENDATASOURCE('SQLNCLI', 'Data Source=x').db.dbo.t",
    ),
    (Mssql, "WAITFOR DELAY '00:00:10'"),
    (Sqlite, "SELECT load_extension('/tmp/evil.so')"),
    (Sqlite, "SELECT readfile('/etc/passwd')"),
    (Sqlite, "SELECT writefile('/tmp/x', 'data')"),
    (Sqlite, "ATTACH DATABASE '/tmp/other.db' AS other"),
    (Sqlite, "PRAGMA writable_schema = 1"),
    (Sqlite, "VACUUM INTO '/tmp/copy.db'"),
    // Session and transaction control.
    (Postgres, "SET default_transaction_read_only = off"),
    (Postgres, "BEGIN; DELETE FROM orders; COMMIT"),
    (Mysql, "SET GLOBAL read_only = 0"),
    (Mssql, "SET LOCK_TIMEOUT 0"),
    // Issue 29, finding 1: PostgreSQL functions that run SQL from a string,
    // and volatile functions a deny-list did not name.
    (
        Postgres,
        "SELECT ts_rewrite('a'::tsquery, 'SELECT ''a''::tsquery, quote_literal(pg_read_file(''/etc/hostname''))::tsquery')",
    ),
    (
        Postgres,
        "SELECT * FROM ts_stat($$SELECT to_tsvector(pg_terminate_backend(pid)::text) FROM pg_stat_activity WHERE usename = current_user$$)",
    ),
    (Postgres, "SELECT * FROM ts_stat('SELECT dblink_exec(''host=x'', ''DROP TABLE t'')')"),
    (Postgres, "SELECT table_to_xml('orders', true, true, '')"),
    (Postgres, "SELECT database_to_xml(true, true, '')"),
    (Postgres, "SELECT schema_to_xml('public', true, true, '')"),
    (Postgres, "SELECT current_setting('data_directory')"),
    (Postgres, "SELECT public.my_volatile_writer(1)"),
    (Postgres, "SELECT currval('orders_id_seq')"),
    (Postgres, "SELECT txid_current()"),
    (Postgres, "SELECT setseed(0.5)"),
    (Postgres, "SELECT pg_catalog.set_config('x.y', 'z', false)"),
    (Postgres, "SELECT \"set_config\"('x.y', 'z', false)"),
    // Issue 29, finding 4: TABLE x reads a relation without naming it in FROM.
    (Postgres, "SELECT rolname, rolpassword FROM (TABLE pg_catalog.pg_authid) a"),
    (Postgres, "SELECT 1 WHERE 'x' IN (TABLE pg_hba_file_rules)"),
    (Postgres, "TABLE pg_authid"),
    (Mysql, "SELECT * FROM (TABLE mysql.user) a"),
    // Issue 29, finding 8: system catalogues and statistics views.
    (Postgres, "SELECT query FROM pg_stat_statements"),
    (Postgres, "SELECT * FROM information_schema.user_mapping_options"),
    (Postgres, "SELECT * FROM pg_catalog.pg_roles"),
    (Postgres, "SELECT relname FROM pg_class"),
    (Mysql, "SELECT user, authentication_string FROM mysql.user"),
    (Mysql, "SELECT argument FROM mysql.general_log"),
    (Mysql, "SELECT * FROM performance_schema.threads"),
    (Mysql, "SELECT * FROM sys.`x$processlist`"),
    (Mysql, "SELECT * FROM information_schema.processlist"),
    (Mssql, "SELECT * FROM master..fn_get_audit_file('/x', DEFAULT, DEFAULT)"),
    (Mssql, "SELECT * FROM master..dm_exec_sessions"),
    (Mssql, "SELECT * FROM linked.db.dbo.orders"),
    (Mssql, "SELECT name, password_hash FROM sys.sql_logins"),
    (Mssql, "SELECT * FROM sys.sysprocesses"),
    (Mssql, "SELECT * FROM sysprocesses"),
    (Mssql, "SELECT * FROM INFORMATION_SCHEMA.TABLES"),
    (Mssql, "SELECT * FROM otherdb.dbo.orders"),
    (Sqlite, "SELECT * FROM pragma_database_list"),
    (Sqlite, "SELECT file FROM pragma_database_list()"),
    (Sqlite, "SELECT sql FROM sqlite_master"),
    (Sqlite, "SELECT * FROM sqlite_schema"),
    (Sqlite, "SELECT * FROM sqlite_dbpage"),
    // Issue 29, finding 3: a trailing T-SQL reserved word is a second statement.
    (Mssql, "SELECT 1 SHUTDOWN"),
    (Mssql, "SELECT * FROM orders SHUTDOWN"),
    (Mssql, "SELECT * FROM orders CHECKPOINT"),
    (Mssql, "SELECT * FROM orders COMMIT"),
    (Mssql, "SELECT * FROM orders ROLLBACK"),
    (Mssql, "SELECT 1 RECONFIGURE"),
    (Mssql, "SELECT 1 SETUSER"),
    (Mssql, "SELECT 1 REVERT"),
    (Mssql, "SELECT id FROM orders o JOIN customers SHUTDOWN ON 1 = 1"),
    // ... and lock hints without WITH.
    (Mssql, "SELECT * FROM orders (TABLOCKX)"),
    (Mssql, "SELECT * FROM orders (UPDLOCK, HOLDLOCK)"),
    (Mssql, "SELECT * FROM orders o (TABLOCKX)"),
    (Mssql, "SELECT * FROM orders OPTION (TABLE HINT(orders, TABLOCKX))"),
    // Issue 29: functions outside the engines' documented built-ins.
    (Mysql, "SELECT my_udf_that_writes(1)"),
    (Mysql, "SELECT MASTER_GTID_WAIT('0-1-1')"),
    (Mysql, "SELECT NAME_CONST('a', 1)"),
    (Sqlite, "SELECT some_extension_function(1)"),
    (Sqlite, "SELECT fts3_tokenizer('simple')"),
    (Mssql, "SELECT dbo.fn_that_we_do_not_know(1)"),
    (Mssql, "SELECT HAS_DBACCESS('master')"),
    // Not SQL, or empty.
    (Postgres, ""),
    (Postgres, "   ;  "),
    (Postgres, "show me the sales"),
    (Mysql, "SELECT * FROM"),
    (Sqlite, "SELECT 'unterminated"),
];

/// (kind, statement): must be allowed.
const LEGITIMATE: &[(TargetKind, &str)] = &[
    (Postgres, "SELECT region, SUM(total) AS revenue FROM orders GROUP BY region ORDER BY revenue DESC LIMIT 10"),
    (Postgres, "SELECT c.name, COUNT(o.id) FROM customers c LEFT JOIN orders o ON o.customer_id = c.id GROUP BY c.name HAVING COUNT(o.id) > 5"),
    (Postgres, "WITH monthly AS (SELECT date_trunc('month', created_at) AS m, SUM(total) AS t FROM orders GROUP BY 1) SELECT m, t, t - LAG(t) OVER (ORDER BY m) AS change FROM monthly"),
    (Postgres, "SELECT id, total, RANK() OVER (PARTITION BY region ORDER BY total DESC) FROM orders"),
    (Postgres, "SELECT * FROM orders WHERE created_at >= now() - interval '30 days' OFFSET 10 LIMIT 20"),
    (Postgres, "SELECT region FROM orders UNION SELECT region FROM returns"),
    (Postgres, "SELECT name FROM products WHERE id IN (SELECT product_id FROM order_items WHERE quantity > 10)"),
    (Postgres, "SELECT CASE WHEN total > 100 THEN 'big' ELSE 'small' END AS size, COUNT(*) FROM orders GROUP BY 1"),
    (Postgres, "VALUES (1, 'a'), (2, 'b')"),
    (Postgres, "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY total) FROM orders"),
    (Postgres, "SELECT coalesce(sum(total), 0)::numeric(12,2) FROM orders WHERE status = 'paid'"),
    (Mysql, "SELECT region, SUM(total) FROM orders GROUP BY region WITH ROLLUP"),
    (Mysql, "SELECT DATE_FORMAT(created_at, '%Y-%m') AS month, COUNT(*) FROM orders GROUP BY month ORDER BY month"),
    (Mysql, "SELECT `name`, price FROM `products` WHERE price BETWEEN 10 AND 20 LIMIT 5, 10"),
    (Mysql, "WITH t AS (SELECT customer_id, SUM(total) s FROM orders GROUP BY customer_id) SELECT * FROM t ORDER BY s DESC LIMIT 3"),
    (Mysql, "SELECT o.id, c.name FROM orders o JOIN customers c ON c.id = o.customer_id WHERE c.country = 'DE'"),
    (Mysql, "SELECT IFNULL(SUM(total), 0) FROM orders WHERE YEAR(created_at) = 2025"),
    (Mysql, "SELECT id, ROW_NUMBER() OVER (ORDER BY total DESC) FROM orders"),
    (Mssql, "SELECT TOP 10 region, SUM(total) AS revenue FROM dbo.orders GROUP BY region ORDER BY revenue DESC"),
    (Mssql, "SELECT * FROM orders ORDER BY created_at OFFSET 20 ROWS FETCH NEXT 10 ROWS ONLY"),
    (Mssql, "WITH r AS (SELECT region, total FROM orders) SELECT region, AVG(total) FROM r GROUP BY region"),
    (Mssql, "SELECT [name], COUNT(*) AS n FROM [dbo].[customers] GROUP BY [name]"),
    (Mssql, "SELECT DATEPART(year, created_at) AS y, SUM(total) FROM orders GROUP BY DATEPART(year, created_at)"),
    (Mssql, "SELECT o.id FROM orders o WHERE EXISTS (SELECT 1 FROM returns r WHERE r.order_id = o.id)"),
    (Mssql, "SELECT id, SUM(total) OVER (PARTITION BY region ORDER BY created_at ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) FROM orders"),
    (Sqlite, "SELECT strftime('%Y-%m', created_at) AS month, SUM(total) FROM orders GROUP BY month"),
    (Sqlite, "SELECT name FROM products ORDER BY price DESC LIMIT 5 OFFSET 5"),
    (Sqlite, "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 10) SELECT x FROM n"),
    (Sqlite, "SELECT c.name, SUM(o.total) FROM customers c JOIN orders o ON o.customer_id = c.id GROUP BY c.name"),
    (Sqlite, "SELECT region FROM orders EXCEPT SELECT region FROM returns"),
    (Sqlite, "SELECT id, total, AVG(total) OVER () FROM orders"),
    (Sqlite, "select count(*) from orders where status in ('paid', 'shipped') -- trailing comment"),
    // Everyday functions of each engine, allowed by rule.
    (Postgres, "SELECT random(), gen_random_uuid(), clock_timestamp(), now(), current_date, upper(name), length(name), round(avg(total)::numeric, 2) FROM customers c JOIN orders o ON o.customer_id = c.id GROUP BY name"),
    (Postgres, "SELECT to_char(created_at, 'YYYY-MM'), string_agg(DISTINCT status, ', '), count(*) FILTER (WHERE total > 10), jsonb_build_object('a', 1) FROM orders GROUP BY 1"),
    (Postgres, "SELECT d::date FROM generate_series(now() - interval '7 days', now(), interval '1 day') AS d"),
    (Postgres, "SELECT greatest(1, 2), least(1, 2), nullif(1, 2), coalesce(null, 1), extract(year FROM now()), date_part('month', now()), age(now())"),
    (Postgres, "SELECT pg_typeof(1), pg_size_pretty(1024::bigint), regexp_replace(name, 'a', 'b'), split_part(name, ' ', 1) FROM customers"),
    (Mysql, "SELECT CONCAT(first_name, ' ', last_name), DATE_FORMAT(NOW(), '%Y'), DATEDIFF(NOW(), created_at), IF(total > 10, 'big', 'small'), COALESCE(NULL, 1), GROUP_CONCAT(id), JSON_EXTRACT(meta, '$.a'), ROUND(AVG(total), 2) FROM orders GROUP BY first_name, last_name, created_at, total, meta"),
    (Mysql, "SELECT id, LAG(total) OVER (ORDER BY id), DENSE_RANK() OVER (ORDER BY total), CAST(total AS CHAR), SUBSTRING_INDEX(email, '@', -1), RAND() FROM orders"),
    (Sqlite, "SELECT date('now', '-7 days'), julianday('now'), substr(name, 1, 3), ifnull(total, 0), printf('%.2f', total), json_extract(meta, '$.a'), group_concat(name), total(total), random() FROM orders"),
    (Sqlite, "SELECT key, value FROM json_each('[1,2,3]')"),
    (Mssql, "SELECT ISNULL(total, 0), FORMAT(created_at, 'yyyy-MM'), DATEADD(day, -7, GETDATE()), DATEDIFF(day, created_at, SYSDATETIME()), CONVERT(varchar(10), created_at, 120), STRING_AGG(name, ', '), IIF(total > 10, 'big', 'small'), LEN(name), NEWID() FROM orders GROUP BY total, created_at, name"),
    (Mssql, "SELECT id, SUM(total) AS s FROM orders AS o GROUP BY id"),
    (Mssql, "SELECT o.id FROM orders o WITH (NOLOCK) JOIN customers c ON c.id = o.customer_id"),
    (Mssql, "SELECT * FROM orders (NOLOCK)"),
    (Mssql, "SELECT TOP 5 * FROM dbo.orders ORDER BY total DESC"),
    // Quoting and brackets each engine reads as the guard does.
    (Postgres, "SELECT (string_to_array(name, ' '))[1] AS first_word, E'tab\\there' FROM customers"),
    (Postgres, "SELECT \"Order Total\", $$it's$$ AS note FROM \"Orders\" /* per order */"),
    (Mysql, "SELECT \"paid\" AS s, 'it\\'s' AS t, `order date` FROM orders # note"),
    (Mssql, "SELECT N'caf\u{e9}' AS n, [order date] FROM dbo.orders WITH (NOLOCK)"),
    (Sqlite, "SELECT [order date], \"total\", `id` FROM orders"),
];

#[test]
fn every_hostile_statement_is_refused() {
    assert!(HOSTILE.len() >= 60, "{} hostile statements", HOSTILE.len());
    let mut slipped = Vec::new();
    for (kind, sql) in HOSTILE {
        match check(*kind, sql) {
            Ok(allowed) => slipped.push(format!("{kind}: {sql:?} -> allowed as {:?}", allowed.sql)),
            Err(reason) => {
                assert!(!reason.is_empty());
                println!("{kind}: {sql:?} -> refused: {reason}");
            }
        }
    }
    assert!(
        slipped.is_empty(),
        "{} slipped through:\n{}",
        slipped.len(),
        slipped.join("\n")
    );
}

#[test]
fn every_legitimate_query_is_allowed() {
    assert!(
        LEGITIMATE.len() >= 30,
        "{} legitimate queries",
        LEGITIMATE.len()
    );
    let refused: Vec<String> = LEGITIMATE
        .iter()
        .filter_map(|(kind, sql)| {
            check(*kind, sql)
                .err()
                .map(|r| format!("{kind}: {sql:?} -> {r}"))
        })
        .collect();
    assert!(
        refused.is_empty(),
        "{} refused:\n{}",
        refused.len(),
        refused.join("\n")
    );
}

#[test]
fn refusals_say_why() {
    let reason = check(Postgres, "SELECT 1; DROP TABLE orders").unwrap_err();
    assert!(reason.contains("exactly one statement"), "{reason}");
    let reason = check(Postgres, "SELECT pg_read_file('/etc/passwd')").unwrap_err();
    assert!(reason.contains("pg_read_file"), "{reason}");
    let reason = check(Postgres, "DELETE FROM orders").unwrap_err();
    assert!(reason.contains("only queries"), "{reason}");
    let reason = check(Mssql, "SELECT * FROM orders WITH (TABLOCKX)").unwrap_err();
    assert!(reason.contains("TABLOCKX"), "{reason}");
}

/// Found by reading the old guard: it ran `statement.to_string()`, and the
/// printer is not faithful for every quoting form, so one harmless literal
/// could be printed as two statements (SQL Server runs batches) or as a
/// literal T-SQL rejects (`0xDEAD` printed as `X'DEAD'`). Each of these must
/// now run exactly as written, or be refused; never be rewritten.
/// (Fails on the old code: every `sql` below came back re-printed.)
#[test]
fn the_engine_is_sent_exactly_the_text_that_was_checked() {
    let cases: &[(TargetKind, &str)] = &[
        (Mssql, r"SELECT 'x\''; DROP TABLE orders; COMMIT; --'"),
        (Mssql, "SELECT 0xDEAD AS b"),
        (Mssql, "SELECT N'caf\u{e9}' AS n, 'it''s' AS s"),
        // One name: `]]` stands for `]` inside brackets.
        (Mssql, "SELECT 1 AS [a]]; DROP TABLE orders; --]"),
        (Postgres, r#"SELECT 1 AS "x\""#),
        (Postgres, r"SELECT 'x\' AS a"),
        (Postgres, r"SELECT E'a\'b' AS e"),
        (Postgres, "SELECT $q$ ; DROP TABLE orders; $q$ AS d"),
        (Postgres, "SELECT U&'d\\0061t\\+000061' AS u"),
        (Postgres, "SELECT /* nested /* ; */ still */ 1"),
        (Mysql, r"SELECT '\\' AS a, 'b' AS b"),
        (Mysql, r#"SELECT "a\"; DROP TABLE orders; -- " AS a"#),
        (Mysql, "SELECT `we``ird` FROM orders"),
        (Sqlite, r"SELECT 'x\' AS a"),
        (Sqlite, "SELECT [a b] FROM orders"),
        (Sqlite, "select count(*) from orders -- trailing comment"),
    ];
    for (kind, sql) in cases {
        match check(*kind, sql) {
            Ok(allowed) => assert_eq!(allowed.sql, *sql, "{kind}: rewritten"),
            Err(reason) => println!("{kind}: {sql:?} refused: {reason}"),
        }
    }
    // The first two are plain queries in T-SQL and must run as written.
    assert_eq!(
        check(Mssql, cases[0].1).expect("one literal").sql,
        cases[0].1
    );
    assert_eq!(
        check(Mssql, "SELECT 0xDEAD AS b").expect("hex").sql,
        "SELECT 0xDEAD AS b"
    );
    // A trailing semicolon, and comments after it, are all that is cut.
    assert_eq!(
        check(Postgres, "  SELECT 1 ;  -- done\n")
            .expect("allowed")
            .sql,
        "SELECT 1"
    );
}

/// Where the engine's lexer and sqlparser's could disagree, the statement is
/// refused rather than run: a `;` or a call hidden in what one side reads as
/// data or a comment.
#[test]
fn quoting_the_engine_reads_differently_is_refused() {
    let cases: &[(TargetKind, &str)] = &[
        // MySQL: `--x` is not a comment, so sleep() would run.
        (Mysql, "SELECT 1 --sleep(10)"),
        // MySQL hints can lift the statement timeout.
        (Mysql, "SELECT /*+ MAX_EXECUTION_TIME(0) */ 1"),
        (Mysql, "SELECT /*M! sleep(10) */ 1"),
        // A carriage return ends a PostgreSQL line comment.
        (Postgres, "SELECT 1 -- c\rFROM pg_sleep(10)"),
    ];
    for (kind, sql) in cases {
        if let Ok(allowed) = check(*kind, sql) {
            panic!("{kind}: {sql:?} allowed as {:?}", allowed.sql);
        }
    }
}

mod property {
    use super::*;
    use proptest::prelude::*;

    /// Fragments of every quoting form the four engines know.
    const FRAGMENTS: &[&str] = &[
        "'",
        "''",
        "\\",
        "\\'",
        "\"",
        "\"\"",
        "`",
        "``",
        "[",
        "]",
        "]]",
        "/*",
        "*/",
        "--",
        "-- ",
        "#",
        "\n",
        "\r",
        ";",
        "$$",
        "$a$",
        "E'",
        "N'",
        "U&'",
        "X'",
        "0x1F",
        "x",
        "1",
        " ",
        ",",
        "(",
        ")",
        "-",
        "/",
        "*",
        "DROP TABLE orders",
        "sleep(1)",
        "pg_sleep(1)",
        "\u{e9}",
        "\u{1F600}",
    ];

    fn statement() -> impl Strategy<Value = String> {
        prop::collection::vec(prop::sample::select(FRAGMENTS), 0..12)
            .prop_map(|parts| format!("SELECT 1 AS a, {}", parts.concat()))
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            cases: 2000,
            failure_persistence: None,
            ..ProptestConfig::default()
        })]

        /// Whatever the quoting, an allowed statement is sent exactly as
        /// written: a slice of the text (all of it, trimmed, when there is no
        /// `;`), stable when checked again, and a trailing `;` changes nothing.
        #[test]
        fn check_never_changes_the_text(body in statement()) {
            for kind in [Mssql, Postgres, Mysql, Sqlite] {
                let plain = check(kind, &body);
                if let Ok(allowed) = &plain {
                    prop_assert!(body.contains(allowed.sql.as_str()));
                    if !body.contains(';') {
                        prop_assert_eq!(&allowed.sql, body.trim());
                    }
                    // Checking what is sent allows it again, unchanged.
                    let again = check(kind, &allowed.sql);
                    prop_assert_eq!(again.as_ref(), Ok(allowed));
                    // A trailing `;` is cut, nothing else.
                    let terminated = check(kind, &format!("{body}\n;"));
                    let sent = terminated.as_ref().map(|a| a.sql.as_str());
                    prop_assert_eq!(sent, Ok(allowed.sql.as_str()));
                }
            }
        }
    }
}
