//! Email results end to end: the stub LLM over real HTTP writes the SQL and
//! the email, a real SQLite sample database answers, and a real SMTP server
//! (Debian's python3-aiosmtpd, `testkit::smtp`) receives what is sent.

use models::ask::{AskRequest, EmailOutcome};
use models::costs::{Channel, ConversationStatus, Stage};
use models::org::Caller;
use services::AppState;
use testkit::db::TestDb;
use testkit::llm::{Received, Scripted, StubLlm, STUB_KEY};
use testkit::smtp::{free_port, SmtpServer};

struct Fixture {
    state: AppState,
    ada: Caller,
    stub: StubLlm,
    _targets: tempfile::TempDir,
    _db: TestDb,
}

/// Ada, with a small shop database selected; the stub as Gemini; email
/// through `smtp_url` (none configured when `None`).
async fn fixture(smtp_url: Option<&str>, env: &[(&str, &str)]) -> Fixture {
    let db = TestDb::sqlite();
    let stub = StubLlm::start().await.expect("stub");
    let targets = tempfile::tempdir().expect("tempdir");
    let mut vars = vec![
        ("GEMINI_API_KEY", STUB_KEY.to_owned()),
        ("GEMINI_API_URL", stub.url.clone()),
        ("TABLETALK_SQLITE_DIR", targets.path().display().to_string()),
        // Each test asks several questions in a row.
        ("TABLETALK_QUESTION_BURST", "20".to_owned()),
    ];
    if let Some(url) = smtp_url {
        vars.push(("SMTP_URL", url.to_owned()));
        vars.push(("SMTP_FROM", "Tabletalk <tabletalk@example.com>".to_owned()));
    }
    vars.extend(env.iter().map(|(k, v)| (*k, (*v).to_owned())));
    let state = testkit::app::state(&db, &vars).await;
    let ada = testkit::app::person(&state.store, 42, "Ada").await;
    testkit::app::shop(&state, &ada, targets.path()).await;
    Fixture {
        state,
        ada,
        stub,
        _targets: targets,
        _db: db,
    }
}

fn is_email_stage(received: &Received) -> bool {
    received
        .texts()
        .0
        .contains("Write a short, professional email")
}

/// A model that asks for an email to `recipients` and writes it.
fn email_model(stub: &StubLlm, recipients: &[&str]) {
    let analysis = serde_json::json!({
        "intent": "email",
        "sql": "SELECT id, total FROM orders ORDER BY id",
        "recipients": recipients,
    })
    .to_string();
    stub.rule(move |received| {
        if received.asks_for("intent") {
            Scripted::answer(analysis.clone())
        } else if is_email_stage(received) {
            Scripted::answer(
                serde_json::json!({"subject": "Our three orders", "body": "Three orders, 37.75 in all."})
                    .to_string(),
            )
        } else {
            Scripted::answer("words")
        }
    });
}

async fn ask(fx: &Fixture, question: &str) -> models::ask::Answer {
    services::ask::ask(
        &fx.state,
        &fx.ada,
        &AskRequest {
            question: question.into(),
            database_id: None,
        },
        Channel::Web,
        None,
    )
    .await
    .expect("asked")
}

async fn status(fx: &Fixture, email_id: i64) -> (String, i64) {
    sqlx::query_as("SELECT status, attempts FROM emails WHERE email_id = $1")
        .bind(email_id)
        .fetch_one(fx.state.store.pool())
        .await
        .expect("the email row")
}

#[tokio::test]
async fn an_email_is_drafted_then_sent_only_when_confirmed() {
    let Some(smtp) = SmtpServer::start().await else {
        return;
    };
    let fx = fixture(Some(&smtp.url()), &[]).await;
    email_model(&fx.stub, &["bob@example.com"]);
    let answer = ask(&fx, "Email our orders to bob@example.com please").await;
    assert_eq!(
        answer.status,
        ConversationStatus::Answered,
        "{}",
        answer.text
    );
    assert_eq!(
        answer.stages.iter().map(|s| s.stage).collect::<Vec<_>>(),
        [Stage::Analysis, Stage::EmailGeneration]
    );
    let preview = answer.email.expect("a draft");
    assert_eq!(preview.recipients, ["bob@example.com"]);
    assert_eq!(preview.subject, "Our three orders");
    assert!(
        preview.body.starts_with("Three orders, 37.75 in all."),
        "{}",
        preview.body
    );
    assert!(preview.body.contains("Asked by Ada"), "{}", preview.body);
    assert_eq!(preview.attached_rows, Some(3));
    // The Email Generation call is in the ledger with the others.
    let recorded: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM conversation_stages WHERE conversation_id = $1 AND stage_name = 'Email Generation'",
    )
    .bind(answer.conversation_id)
    .fetch_one(fx.state.store.pool())
    .await
    .expect("count");
    assert_eq!(recorded, 1);
    // Nothing is sent before the person says so.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert!(smtp.messages().is_empty());
    assert_eq!(services::email::deliver_due(&fx.state).await, Ok(0));

    let outcome = services::email::confirm(&fx.state, &fx.ada, preview.email_id).await;
    assert_eq!(
        outcome,
        Ok(EmailOutcome::Sent {
            recipients: vec!["bob@example.com".into()]
        })
    );
    let messages = smtp.wait_for(1).await;
    assert_eq!(messages.len(), 1);
    let message = &messages[0];
    for expected in [
        "From: Tabletalk <tabletalk@example.com>",
        "To: bob@example.com",
        "Subject: Our three orders",
        "Three orders, 37.75 in all.",
        "Asked by Ada",
        "filename=\"result.csv\"",
    ] {
        assert!(message.contains(expected), "{expected:?} in {message}");
    }
    assert_eq!(status(&fx, preview.email_id).await, ("sent".into(), 1));
    // Sent once: pressing Send again changes nothing.
    let again = services::email::confirm(&fx.state, &fx.ada, preview.email_id)
        .await
        .expect_err("already sent");
    assert_eq!(again.message(), "This email was already sent.");
    assert_eq!(smtp.messages().len(), 1);
}

#[tokio::test]
async fn an_address_the_question_does_not_name_is_never_drafted() {
    let Some(smtp) = SmtpServer::start().await else {
        return;
    };
    let fx = fixture(Some(&smtp.url()), &[]).await;
    // The model was steered (say, by a cell value) into adding an address.
    email_model(&fx.stub, &["bob@example.com", "thief@evil.example"]);
    let answer = ask(&fx, "Email our orders to bob@example.com").await;
    assert_eq!(answer.status, ConversationStatus::Failed);
    assert!(
        answer.text.contains("thief@evil.example"),
        "{}",
        answer.text
    );
    assert!(answer.email.is_none());
    assert!(
        !fx.stub.received().iter().any(is_email_stage),
        "no email was written"
    );
    let drafts: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM emails")
        .fetch_one(fx.state.store.pool())
        .await
        .expect("count");
    assert_eq!(drafts, 0);
}

#[tokio::test]
async fn with_the_mail_server_down_the_email_is_kept_and_sent_when_it_is_back() {
    let port = free_port();
    let fx = fixture(Some(&format!("smtp://127.0.0.1:{port}")), &[]).await;
    email_model(&fx.stub, &["bob@example.com"]);
    let preview = ask(&fx, "mail the orders to bob@example.com")
        .await
        .email
        .expect("a draft");
    let outcome = services::email::confirm(&fx.state, &fx.ada, preview.email_id)
        .await
        .expect("queued, not an error");
    let EmailOutcome::Queued { reason } = outcome else {
        panic!("queued: {outcome:?}");
    };
    assert!(reason.contains("did not take it"), "{reason}");
    assert_eq!(status(&fx, preview.email_id).await, ("queued".into(), 1));

    let Some(smtp) = SmtpServer::start_on(port).await else {
        return;
    };
    // The retry is due (its wait shortened for the test), and goes out.
    sqlx::query("UPDATE emails SET next_attempt_at = 0")
        .execute(fx.state.store.pool())
        .await
        .expect("due now");
    assert_eq!(services::email::deliver_due(&fx.state).await, Ok(1));
    assert_eq!(smtp.wait_for(1).await.len(), 1);
    assert_eq!(status(&fx, preview.email_id).await, ("sent".into(), 2));
    // Ada hears about it through the bot's outbox.
    let (kind, text): (String, String) =
        sqlx::query_as("SELECT kind, text FROM outbox WHERE telegram_user_id = 42")
            .fetch_one(fx.state.store.pool())
            .await
            .expect("a notification");
    assert_eq!(kind, "email");
    assert!(text.contains("was sent to bob@example.com"), "{text}");
}

#[tokio::test]
async fn drafts_are_the_askers_own_cancellable_and_limited_per_day() {
    let Some(smtp) = SmtpServer::start().await else {
        return;
    };
    let fx = fixture(Some(&smtp.url()), &[("TABLETALK_EMAILS_PER_DAY", "1")]).await;
    email_model(&fx.stub, &["bob@example.com"]);
    let first = ask(&fx, "email it to bob@example.com")
        .await
        .email
        .expect("draft");
    let second = ask(&fx, "email it to bob@example.com")
        .await
        .email
        .expect("draft");
    let third = ask(&fx, "email it to bob@example.com")
        .await
        .email
        .expect("draft");

    // Someone else's draft is not theirs to send or cancel.
    let eve = testkit::app::person(&fx.state.store, 66, "Eve").await;
    for result in [
        services::email::confirm(&fx.state, &eve, first.email_id).await,
        services::email::cancel(&fx.state, &eve, first.email_id).await,
    ] {
        assert_eq!(result.expect_err("not hers").status(), 404);
    }

    assert!(matches!(
        services::email::confirm(&fx.state, &fx.ada, first.email_id).await,
        Ok(EmailOutcome::Sent { .. })
    ));
    let limited = services::email::confirm(&fx.state, &fx.ada, second.email_id)
        .await
        .expect_err("over the daily limit");
    assert!(
        limited.message().contains("daily limit of 1"),
        "{}",
        limited.message()
    );
    assert_eq!(
        status(&fx, second.email_id).await.0,
        "draft",
        "kept for tomorrow"
    );

    assert_eq!(
        services::email::cancel(&fx.state, &fx.ada, third.email_id).await,
        Ok(EmailOutcome::Cancelled)
    );
    let cancelled = services::email::confirm(&fx.state, &fx.ada, third.email_id)
        .await
        .expect_err("cancelled");
    assert!(
        cancelled.message().contains("cancelled"),
        "{}",
        cancelled.message()
    );
    assert_eq!(smtp.wait_for(1).await.len(), 1, "only the first was sent");
}

#[tokio::test]
async fn without_a_mail_server_an_email_request_says_what_to_set() {
    let fx = fixture(None, &[]).await;
    email_model(&fx.stub, &["bob@example.com"]);
    let answer = ask(&fx, "email the orders to bob@example.com").await;
    assert_eq!(answer.status, ConversationStatus::Failed);
    assert!(answer.text.contains("SMTP_URL"), "{}", answer.text);
    assert!(answer.result.is_some(), "the rows are still shown");
    assert!(answer.email.is_none());
}

/// Issue 29 item 11: the daily limit is taken in the same write as the send.
/// Twenty confirms of twenty drafts at once, with a limit of 5: exactly five
/// are queued and sent, the others refused with the limit and kept as drafts.
#[tokio::test]
async fn twenty_concurrent_confirms_at_the_limit_send_exactly_the_limit() {
    const LIMIT: usize = 5;
    for db in TestDb::all().await {
        let Some(smtp) = SmtpServer::start().await else {
            return;
        };
        let state = testkit::app::state(
            &db,
            &[
                ("SMTP_URL", smtp.url()),
                ("SMTP_FROM", "Tabletalk <tabletalk@example.com>".to_owned()),
                ("TABLETALK_EMAILS_PER_DAY", LIMIT.to_string()),
            ],
        )
        .await;
        let ada = testkit::app::person(&state.store, 42, "Ada").await;
        let mut drafts = Vec::new();
        for i in 0..20 {
            let preview = services::email::draft(
                &state.store,
                services::email::NewEmail {
                    user_id: 42,
                    org_id: None,
                    conversation_id: None,
                    question: "the orders",
                    recipients: vec!["bob@example.com".into()],
                    subject: &format!("orders {i}"),
                    body: "the orders",
                    attachment: None,
                },
            )
            .await
            .expect("a draft");
            drafts.push(preview.email_id);
        }
        let confirms = drafts.iter().map(|id| {
            let (state, ada) = (state.clone(), ada.clone());
            let id = *id;
            tokio::spawn(async move { services::email::confirm(&state, &ada, id).await })
        });
        let mut accepted = 0;
        for confirm in futures_util::future::join_all(confirms).await {
            match confirm.expect("the task ran") {
                Ok(_) => accepted += 1,
                Err(refused) => assert!(
                    refused
                        .message()
                        .contains(&format!("daily limit of {LIMIT}")),
                    "{}: {}",
                    db.kind,
                    refused.message()
                ),
            }
        }
        assert_eq!(accepted, LIMIT, "{}: confirms accepted", db.kind);
        let (queued, drafts_left): (i64, i64) = sqlx::query_as(
            "SELECT SUM(CASE WHEN status <> 'draft' THEN 1 ELSE 0 END), \
             SUM(CASE WHEN status = 'draft' THEN 1 ELSE 0 END) FROM emails WHERE user_id = 42",
        )
        .fetch_one(state.store.pool())
        .await
        .expect("counts");
        assert_eq!(
            (queued, drafts_left),
            (LIMIT as i64, 20 - LIMIT as i64),
            "{}",
            db.kind
        );
        assert_eq!(smtp.wait_for(LIMIT).await.len(), LIMIT, "{}", db.kind);
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        assert_eq!(smtp.messages().len(), LIMIT, "{}: sent", db.kind);
    }
}
