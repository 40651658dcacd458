//! The domain core on every store backend: organizations, members, invitations,
//! credentials, throttling, permissions and tenant isolation.

use models::auth::LoginRequest;
use models::org::{Caller, Credentials, InviteStatus};
use models::{AppError, OrgId, Role};
use secrecy::SecretString;
use services::orgs::{self, invitations, members};
use services::{access, auth, Store};
use std::time::Instant;
use testkit::app::{person, store as open};
use testkit::db::TestDb;
use testkit::status::{expect_bad_request, expect_forbidden, expect_status};

async fn refresh(store: &Store, caller: &Caller) -> Caller {
    access::caller(store, caller.user_id.expect("a user"))
        .await
        .expect("resolves")
}

async fn login(
    store: &Store,
    creds: &Credentials,
) -> Result<models::auth::LoginResponse, AppError> {
    let request = LoginRequest {
        username: creds.username.clone(),
        password: creds.password.clone(),
    };
    auth::login(store, &request, Some("10.0.0.1")).await
}

async fn count(store: &Store, sql: &'static str) -> i64 {
    sqlx::query_scalar::<_, i64>(sql)
        .fetch_one(store.pool())
        .await
        .expect("count")
}

/// An organization with its owner, ready to use.
async fn org_with_owner(store: &Store, owner_id: i64, name: &str) -> (Caller, OrgId, Credentials) {
    let owner = person(store, owner_id, "Owner").await;
    let (org, creds) = orgs::create(store, &owner, name)
        .await
        .expect("organization created");
    (refresh(store, &owner).await, org.org_id, creds)
}

#[tokio::test]
async fn registering_twice_is_idempotent_and_refreshes_names() {
    for db in TestDb::all().await {
        let store = open(&db).await;
        person(&store, 7, "Ada").await;
        let again = person(&store, 7, "Ada2").await;
        assert_eq!(again.role, Role::Individual, "{}", db.kind);
        assert_eq!(
            count(&store, "SELECT COUNT(*) FROM telegram_users").await,
            1
        );
        let name: String =
            sqlx::query_scalar("SELECT first_name FROM telegram_users WHERE user_id = 7")
                .fetch_one(store.pool())
                .await
                .expect("row");
        assert_eq!(name, "Ada2");
    }
}

#[tokio::test]
async fn creating_an_organization_makes_an_owner_with_working_credentials() {
    for db in TestDb::all().await {
        let store = open(&db).await;
        let founder = person(&store, 1, "Founder").await;
        let (org, creds) = orgs::create(&store, &founder, "  Acme <b>Ltd</b> ")
            .await
            .expect("created");
        assert_eq!(
            org.name, "Acme <b>Ltd</b>",
            "{}: markup is stored as given",
            db.kind
        );
        assert!(creds.username.starts_with("founder"), "{}", creds.username);
        assert!(creds.password.len() >= 24);
        let owner = refresh(&store, &founder).await;
        assert_eq!(owner.role, Role::Owner);
        assert_eq!(owner.org_id.as_ref(), Some(&org.org_id));

        let answer = login(&store, &creds)
            .await
            .expect("the credentials sign in");
        assert_eq!(answer.role, Role::Owner);
        assert_eq!(answer.org_name.as_deref(), Some("Acme <b>Ltd</b>"));

        // Only once, and not for strangers; nothing half-written on refusal.
        expect_status(orgs::create(&store, &owner, "Second").await, 409);
        let stranger = Caller {
            user_id: Some(999),
            role: Role::Individual,
            org_id: None,
        };
        expect_status(orgs::create(&store, &stranger, "Ghost").await, 404);
        let nobody = person(&store, 2, "Nobody").await;
        for bad in ["", "   ", &"x".repeat(101), "two\nlines"] {
            expect_bad_request(orgs::create(&store, &nobody, bad).await);
        }
        // Duplicate names are fine: ids are unique.
        orgs::create(&store, &nobody, "Acme <b>Ltd</b>")
            .await
            .expect("same name, other org");
        assert_eq!(count(&store, "SELECT COUNT(*) FROM organizations").await, 2);
        // The generated password never reaches the audit log.
        let audit: Vec<String> = sqlx::query_scalar("SELECT COALESCE(target, '') FROM audit_log")
            .fetch_all(store.pool())
            .await
            .expect("rows");
        assert!(audit.iter().all(|t| !t.contains(&creds.password)));
        assert!(
            count(
                &store,
                "SELECT COUNT(*) FROM audit_log WHERE action = 'org_created'"
            )
            .await
                == 2
        );
    }
}

#[tokio::test]
async fn invitations_join_and_each_refusal_has_its_reason() {
    for db in TestDb::all().await {
        let store = open(&db).await;
        let (owner, org_id, _) = org_with_owner(&store, 1, "Acme").await;
        let invite = invitations::create(&store, &owner, 1, 7)
            .await
            .expect("created");
        assert_eq!(invite.status, InviteStatus::Active);
        expect_bad_request(invitations::create(&store, &owner, 0, 7).await);
        expect_bad_request(invitations::create(&store, &owner, 3, -1).await);

        let ann = person(&store, 10, "Ann").await;
        let (org, creds) = invitations::join(&store, &ann, invite.code.as_str())
            .await
            .expect("joins");
        assert_eq!(org.org_id, org_id, "{}", db.kind);
        assert_eq!(
            login(&store, &creds).await.expect("member signs in").role,
            Role::Member
        );

        let ben = person(&store, 11, "Ben").await;
        let used_up = invitations::join(&store, &ben, invite.code.as_str())
            .await
            .unwrap_err();
        assert!(used_up.message().contains("used up (1 of 1"), "{used_up:?}");
        expect_status(
            invitations::join(&store, &ben, "AAAAAAAAAAAAAAAA").await,
            404,
        );
        expect_bad_request(invitations::join(&store, &ben, "abc$%^").await);

        let revoked = invitations::create(&store, &owner, 5, 7)
            .await
            .expect("created");
        invitations::revoke(&store, &owner, revoked.code.as_str())
            .await
            .expect("revoked");
        let err = invitations::join(&store, &ben, revoked.code.as_str())
            .await
            .unwrap_err();
        assert!(err.message().contains("revoked"), "{err:?}");
        expect_status(
            invitations::revoke(&store, &owner, revoked.code.as_str()).await,
            409,
        );

        let expired = invitations::create(&store, &owner, 5, 1)
            .await
            .expect("created");
        // Time passes: the invitation's day is over.
        sqlx::query("UPDATE invitations SET expires_at = 0 WHERE invite_code = $1")
            .bind(expired.code.as_str())
            .execute(store.pool())
            .await
            .expect("aged");
        let err = invitations::join(&store, &ben, expired.code.as_str())
            .await
            .unwrap_err();
        assert!(err.message().contains("expired"), "{err:?}");

        let open_invite = invitations::create(&store, &owner, 5, 7)
            .await
            .expect("created");
        let ann = refresh(&store, &ann).await;
        let err = invitations::join(&store, &ann, open_invite.code.as_str())
            .await
            .unwrap_err();
        assert!(err.message().contains("already belong"), "{err:?}");

        let listed = invitations::list(&store, &owner).await.expect("listed");
        let status_of =
            |code: &models::InviteCode| listed.iter().find(|i| &i.code == code).map(|i| i.status);
        assert_eq!(status_of(&invite.code), Some(InviteStatus::UsedUp));
        assert_eq!(status_of(&revoked.code), Some(InviteStatus::Revoked));
        assert_eq!(status_of(&expired.code), Some(InviteStatus::Expired));
        assert_eq!(status_of(&open_invite.code), Some(InviteStatus::Active));
        // Refused joins changed nothing.
        assert_eq!(
            count(&store, "SELECT COUNT(*) FROM organization_members").await,
            2
        );
        assert_eq!(
            count(&store, "SELECT COUNT(*) FROM invitation_uses").await,
            1
        );
    }
}

#[tokio::test]
async fn twenty_simultaneous_joins_on_a_five_use_code_make_exactly_five_members() {
    for db in TestDb::all().await {
        let store = open(&db).await;
        let (owner, _, _) = org_with_owner(&store, 1, "Acme").await;
        let invite = invitations::create(&store, &owner, 5, 7)
            .await
            .expect("created");
        let mut callers = Vec::new();
        for i in 0..20 {
            callers.push(person(&store, 100 + i, &format!("Joiner{i}")).await);
        }
        let started = Instant::now();
        let handles: Vec<_> = callers
            .into_iter()
            .map(|caller| {
                let store = store.clone();
                let code = invite.code.clone();
                tokio::spawn(async move { invitations::join(&store, &caller, code.as_str()).await })
            })
            .collect();
        let mut joined = 0;
        let mut refused = Vec::new();
        for handle in handles {
            match handle.await.expect("task finishes") {
                Ok(_) => joined += 1,
                Err(err) => refused.push(err),
            }
        }
        let elapsed = started.elapsed();
        eprintln!(
            "{}: 20 concurrent joins on a 5-use code: {joined} joined, {} refused, in {elapsed:?}",
            db.kind,
            refused.len()
        );
        assert_eq!(joined, 5, "{}: {refused:?}", db.kind);
        assert!(
            refused.iter().all(|e| e.message().contains("used up")),
            "{refused:?}"
        );
        assert_eq!(
            count(&store, "SELECT COUNT(*) FROM organization_members").await,
            6
        );
        assert_eq!(
            count(&store, "SELECT COUNT(*) FROM invitation_uses").await,
            5
        );
        let uses: i64 = sqlx::query_scalar("SELECT CAST(current_uses AS BIGINT) FROM invitations")
            .fetch_one(store.pool())
            .await
            .expect("row");
        assert_eq!(uses, 5);
    }
}

#[tokio::test]
async fn members_are_listed_added_removed_and_can_leave() {
    for db in TestDb::all().await {
        let store = open(&db).await;
        let (owner, org_id, _) = org_with_owner(&store, 1, "Acme").await;
        let carl = person(&store, 20, "Carl").await;
        let added = members::add(&store, &owner, 20).await.expect("added");
        // The owner gets no password; Carl gets his sign-in from the bot.
        assert_eq!((added.username, added.password), (None, None));
        assert_eq!(added.message, models::org::MEMBER_ADDED_NOTICE);
        let creds = auth::credentials::reset(&store, &refresh(&store, &carl).await)
            .await
            .expect("/dashboard in the bot");
        let session = login(&store, &creds).await.expect("signs in");
        expect_status(members::add(&store, &owner, 20).await, 409);
        expect_status(members::add(&store, &owner, 404_404).await, 404);

        let listed = members::list(&store, &owner).await.expect("listed");
        assert_eq!(listed.len(), 2);
        assert_eq!(
            (listed[0].user_id, listed[0].role),
            (1, Role::Owner),
            "{}",
            db.kind
        );
        assert_eq!(
            (listed[1].name.as_str(), listed[1].role),
            ("Carl", Role::Member)
        );

        // Carl's active database is one of the organization's: removal clears it.
        for sql in [
            "INSERT INTO database_connections (connection_id, name, kind, connection_encrypted, owner_type, owner_id, created_by, created_at) VALUES ('db1', 'Sales', 'sqlite', 'x', 'organization', $1, 1, 0)",
            "INSERT INTO organization_databases (org_id, connection_id, added_at) VALUES ($1, 'db1', 0)",
        ] {
            sqlx::query(sql).bind(org_id.as_str()).execute(store.pool()).await.expect("fixture");
        }
        sqlx::query("UPDATE telegram_users SET active_connection_id = 'db1' WHERE user_id = 20")
            .execute(store.pool())
            .await
            .expect("fixture");

        // The owner stays.
        expect_status(members::remove(&store, &owner, 1).await, 409);
        let carl = refresh(&store, &carl).await;
        expect_forbidden(members::remove(&store, &carl, 1).await);
        members::remove(&store, &owner, 20).await.expect("removed");
        expect_status(members::remove(&store, &owner, 20).await, 404);
        let active: Option<String> = sqlx::query_scalar(
            "SELECT active_connection_id FROM telegram_users WHERE user_id = 20",
        )
        .fetch_one(store.pool())
        .await
        .expect("row");
        assert_eq!(active, None, "{}", db.kind);
        expect_status(auth::verify_session(&store, &session.token).await, 401);
        expect_status(login(&store, &creds).await, 401);

        // Leaving: members may, owners may not.
        let dora = person(&store, 21, "Dora").await;
        members::add(&store, &owner, 21).await.expect("added");
        let dora = refresh(&store, &dora).await;
        members::leave(&store, &dora).await.expect("left");
        assert_eq!(refresh(&store, &dora).await.role, Role::Individual);
        expect_status(members::leave(&store, &owner).await, 409);
        for action in ["member_added", "member_removed", "member_left"] {
            let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = $1")
                .bind(action)
                .fetch_one(store.pool())
                .await
                .expect("count");
            assert!(n >= 1, "{action} audited");
        }
    }
}

/// An owner who adds someone never learns their password, and their own
/// password keeps working: before, `members::add` re-issued the person's
/// credentials and answered them to the owner (test fails before the fix).
#[tokio::test]
async fn adding_a_member_hands_the_owner_no_password_and_queues_a_notification() {
    for db in TestDb::all().await {
        let store = open(&db).await;
        let (owner, _, _) = org_with_owner(&store, 1, "Acme").await;
        let ida = person(&store, 40, "Ida").await;
        let own = auth::credentials::reset(&store, &ida)
            .await
            .expect("Ida's own credentials");
        let session = login(&store, &own).await.expect("signs in");
        let added = members::add(&store, &owner, 40).await.expect("added");
        assert_eq!(
            (added.username, added.password),
            (None, None),
            "{}",
            db.kind
        );
        // Her password and her session are untouched.
        login(&store, &own).await.expect("still her password");
        let now_member = auth::verify_session(&store, &session.token)
            .await
            .expect("still signed in");
        assert_eq!(now_member.role, Role::Member);
        let pending = services::notify::pending(&store, 10).await.expect("outbox");
        assert_eq!(pending.len(), 1, "{}", db.kind);
        assert_eq!(pending[0].telegram_user_id, 40);
        assert_eq!(pending[0].kind, "member_added");
        assert!(
            pending[0].text.contains("Acme") && pending[0].text.contains("/dashboard"),
            "{}",
            pending[0].text
        );
        assert!(!pending[0].text.contains(&own.password));
    }
}

#[tokio::test]
async fn deleting_an_organization_ends_everyones_access() {
    for db in TestDb::all().await {
        let store = open(&db).await;
        let (owner, _, owner_creds) = org_with_owner(&store, 1, "Acme").await;
        person(&store, 30, "Eve").await;
        members::add(&store, &owner, 30).await.expect("added");
        let member = access::caller(&store, 30).await.expect("resolves");
        let member_creds = auth::credentials::reset(&store, &member)
            .await
            .expect("credentials");
        expect_forbidden(orgs::delete(&store, &member).await);
        invitations::create(&store, &owner, 3, 3)
            .await
            .expect("created");
        orgs::delete(&store, &owner).await.expect("deleted");
        assert_eq!(
            count(&store, "SELECT COUNT(*) FROM organizations").await,
            0,
            "{}",
            db.kind
        );
        assert_eq!(
            count(&store, "SELECT COUNT(*) FROM organization_members").await,
            0
        );
        assert_eq!(count(&store, "SELECT COUNT(*) FROM invitations").await, 0);
        expect_status(login(&store, &owner_creds).await, 401);
        expect_status(login(&store, &member_creds).await, 401);
        assert_eq!(refresh(&store, &owner).await.role, Role::Individual);
        // The audit log keeps the organization's history.
        assert!(
            count(
                &store,
                "SELECT COUNT(*) FROM audit_log WHERE action = 'org_deleted'"
            )
            .await
                == 1
        );
    }
}

#[tokio::test]
async fn credentials_reset_and_password_change() {
    for db in TestDb::all().await {
        let store = open(&db).await;
        let (owner, _, first) = org_with_owner(&store, 1, "Acme").await;
        let old_session = login(&store, &first).await.expect("signs in");
        let second = auth::credentials::reset(&store, &owner)
            .await
            .expect("reset");
        assert_eq!(second.username, first.username, "{}", db.kind);
        expect_status(login(&store, &first).await, 401);
        expect_status(auth::verify_session(&store, &old_session.token).await, 401);

        let a = login(&store, &second).await.expect("new password works");
        let b = login(&store, &second).await.expect("second session");
        let change = |current: &str, new: &str| {
            auth::change_password(
                &store,
                &a.token,
                SecretString::from(current.to_owned()),
                SecretString::from(new.to_owned()),
                None,
            )
        };
        assert_eq!(
            change("wrong", "a brand new password")
                .await
                .unwrap_err()
                .message(),
            "The current password is not right."
        );
        expect_bad_request(change(&second.password, "short").await);
        change(&second.password, "a brand new password")
            .await
            .expect("changed");
        assert!(
            auth::verify_session(&store, &a.token).await.is_ok(),
            "this session stays"
        );
        // Other sessions end.
        expect_status(auth::verify_session(&store, &b.token).await, 401);
        let changed = Credentials {
            username: second.username.clone(),
            password: "a brand new password".into(),
        };
        login(&store, &changed)
            .await
            .expect("new password signs in");
    }
}

#[tokio::test]
async fn failed_logins_are_throttled_per_username_and_per_ip() {
    for db in TestDb::all().await {
        let store = open(&db).await;
        let (_, _, creds) = org_with_owner(&store, 1, "Acme").await;
        let wrong = LoginRequest {
            username: creds.username.clone(),
            password: "wrong".into(),
        };
        for _ in 0..5 {
            expect_status(auth::login(&store, &wrong, Some("10.0.0.2")).await, 401);
        }
        let right = LoginRequest {
            username: creds.username.clone(),
            password: creds.password.clone(),
        };
        let err = auth::login(&store, &right, Some("10.0.0.3"))
            .await
            .unwrap_err();
        let AppError::TooManyRequests {
            retry_after_secs,
            message,
        } = err
        else {
            panic!(
                "{}: throttled even with the right password, got {err:?}",
                db.kind
            )
        };
        assert!((1..=300).contains(&retry_after_secs), "{retry_after_secs}");
        assert!(message.contains("Try again in"), "{message}");
        // The window passes.
        sqlx::query("UPDATE login_attempts SET attempted_at = attempted_at - 301")
            .execute(store.pool())
            .await
            .expect("aged");
        auth::login(&store, &right, Some("10.0.0.3"))
            .await
            .expect("allowed again");

        // Per IP: 20 failures across usernames lock that address only.
        for i in 0..20 {
            let req = LoginRequest {
                username: format!("ghost{i}"),
                password: "x".into(),
            };
            expect_status(auth::login(&store, &req, Some("10.9.9.9")).await, 401);
        }
        expect_status(auth::login(&store, &right, Some("10.9.9.9")).await, 429);
        auth::login(&store, &right, Some("10.0.0.4"))
            .await
            .expect("other addresses are fine");
        assert!(
            count(
                &store,
                "SELECT COUNT(*) FROM audit_log WHERE action = 'login_failed'"
            )
            .await
                >= 25
        );
    }
}

#[tokio::test]
async fn roles_are_enforced_by_every_function() {
    for db in TestDb::all().await {
        let store = open(&db).await;
        let (owner, _, _) = org_with_owner(&store, 1, "Acme").await;
        person(&store, 2, "Member").await;
        members::add(&store, &owner, 2).await.expect("added");
        let member = access::caller(&store, 2).await.expect("resolves");
        let loner = person(&store, 3, "Loner").await;
        let code = invitations::create(&store, &owner, 2, 2)
            .await
            .expect("created")
            .code;

        assert!(
            members::list(&store, &member).await.is_ok(),
            "members see members"
        );
        expect_forbidden(members::list(&store, &loner).await);
        expect_forbidden(members::add(&store, &member, 3).await);
        expect_forbidden(invitations::create(&store, &member, 1, 1).await);
        expect_forbidden(invitations::list(&store, &member).await);
        expect_forbidden(invitations::revoke(&store, &member, code.as_str()).await);
        expect_forbidden(orgs::delete(&store, &loner).await);
        expect_forbidden(services::audit::list(&store, &member, 10).await);
        assert!(services::audit::list(&store, &owner, 10)
            .await
            .is_ok_and(|rows| !rows.is_empty()));
        expect_forbidden(orgs::get(&store, &loner).await);
        assert_eq!(
            orgs::get(&store, &member).await.expect("overview").name,
            "Acme"
        );
    }
}

#[tokio::test]
async fn an_owner_of_one_organization_cannot_touch_another() {
    for db in TestDb::all().await {
        let store = open(&db).await;
        let (owner_a, org_a, _) = org_with_owner(&store, 1, "A").await;
        let owner_b = person(&store, 2, "OwnerB").await;
        let (org_b, _) = orgs::create(&store, &owner_b, "B").await.expect("created");
        let owner_b = refresh(&store, &owner_b).await;
        person(&store, 22, "BMember").await;
        members::add(&store, &owner_b, 22).await.expect("added");
        let b_code = invitations::create(&store, &owner_b, 3, 3)
            .await
            .expect("created")
            .code;
        invitations::create(&store, &owner_a, 3, 3)
            .await
            .expect("created");

        // With B's ids, A reaches nothing of B's.
        expect_status(members::remove(&store, &owner_a, 22).await, 404);
        expect_status(members::remove(&store, &owner_a, 2).await, 404);
        expect_status(
            invitations::revoke(&store, &owner_a, b_code.as_str()).await,
            404,
        );
        expect_status(members::add(&store, &owner_a, 22).await, 409);
        let a_members = members::list(&store, &owner_a).await.expect("listed");
        assert!(
            a_members.iter().all(|m| m.user_id == 1),
            "{}: {a_members:?}",
            db.kind
        );
        let a_invites = invitations::list(&store, &owner_a).await.expect("listed");
        assert!(a_invites
            .iter()
            .all(|i| i.org_id == org_a && i.code != b_code));
        let a_audit = services::audit::list(&store, &owner_a, 100)
            .await
            .expect("listed");
        assert!(a_audit
            .iter()
            .all(|e| e.org_id.as_deref() == Some(org_a.as_str())));

        // A forged caller claiming B's organization is refused inside the transaction.
        let forged = Caller {
            user_id: Some(1),
            role: Role::Owner,
            org_id: Some(org_b.org_id.clone()),
        };
        expect_forbidden(members::remove(&store, &forged, 22).await);
        expect_forbidden(invitations::revoke(&store, &forged, b_code.as_str()).await);
        expect_forbidden(invitations::create(&store, &forged, 1, 1).await);
        expect_forbidden(orgs::delete(&store, &forged).await);

        // B is intact.
        assert_eq!(
            members::list(&store, &owner_b).await.expect("listed").len(),
            2
        );
        assert_eq!(
            invitations::list(&store, &owner_b).await.expect("listed")[0].status,
            InviteStatus::Active
        );
    }
}

/// Everyone concerned hears of a change, whoever made it and wherever (the
/// bot, the dashboard, the CLI): the owner when someone joins or leaves, a
/// member when removed, the members (not the one who did it) when an
/// organization database is added or removed. Rows in the outbox, written
/// with the change.
#[tokio::test]
async fn changes_are_told_to_the_people_they_concern() {
    for db in TestDb::all().await {
        let targets = tempfile::tempdir().expect("tempdir");
        let dir = ("TABLETALK_SQLITE_DIR", targets.path().display().to_string());
        let state = testkit::app::state(&db, &[dir]).await;
        let store = state.store.clone();
        let (owner, _, _) = org_with_owner(&store, 1, "Acme").await;
        let told = |store: Store| async move {
            services::notify::pending(&store, 100)
                .await
                .expect("outbox")
                .into_iter()
                .map(|p| (p.telegram_user_id, p.kind, p.text))
                .collect::<Vec<_>>()
        };
        let invite = invitations::create(&store, &owner, 5, 1)
            .await
            .expect("invitation");
        for (id, name) in [(50, "Nia"), (51, "Oto")] {
            let person = person(&store, id, name).await;
            invitations::join(&store, &person, invite.code.as_str())
                .await
                .expect("joined");
        }
        let outbox = told(store.clone()).await;
        assert_eq!(outbox.len(), 2, "{}: {outbox:?}", db.kind);
        assert!(outbox
            .iter()
            .all(|(to, kind, _)| *to == 1 && kind == "member_joined"));
        assert!(
            outbox[0]
                .2
                .starts_with("Nia (@Nia_tg) joined \u{201c}Acme\u{201d}"),
            "{}",
            outbox[0].2
        );

        let owner = access::caller(&store, 1).await.expect("owner");
        testkit::app::sqlite_database(
            &state,
            &owner,
            targets.path(),
            "sales.db",
            testkit::app::TINY_SHOP,
        )
        .await;
        let outbox = told(store.clone()).await;
        let added: Vec<_> = outbox
            .iter()
            .filter(|(_, k, _)| k == "database_changed")
            .collect();
        assert_eq!(
            added.iter().map(|(to, _, _)| *to).collect::<Vec<_>>(),
            [50, 51],
            "{}",
            db.kind
        );
        assert!(
            added[0]
                .2
                .contains("added the database \u{201c}sales\u{201d}"),
            "{}",
            added[0].2
        );

        let oto = access::caller(&store, 51).await.expect("Oto");
        members::leave(&store, &oto).await.expect("left");
        members::remove(&store, &owner, 50).await.expect("removed");
        let outbox = told(store.clone()).await;
        let last: Vec<_> = outbox.iter().rev().take(2).collect();
        assert_eq!(
            (last[1].0, last[1].1.as_str()),
            (1, "member_left"),
            "{}",
            db.kind
        );
        assert!(last[1].2.starts_with("Oto (@Oto_tg) left"), "{}", last[1].2);
        assert_eq!((last[0].0, last[0].1.as_str()), (50, "member_removed"));
        assert!(last[0]
            .2
            .contains("You were removed from the organization \u{201c}Acme\u{201d}"));

        // With no members left, removing the database tells nobody.
        let before = told(store.clone()).await.len();
        let id = services::databases::list(&state, &owner)
            .await
            .expect("list")[0]
            .connection_id
            .clone();
        services::databases::remove(&state, &owner, &id)
            .await
            .expect("removed");
        assert_eq!(told(store.clone()).await.len(), before, "{}", db.kind);
    }
}

/// Webhook mode: of two deliveries of one update, even by two processes at
/// once, exactly one is taken; a forgotten one can be taken again.
#[tokio::test]
async fn a_webhook_update_is_taken_once_across_processes() {
    use services::dialogues::{first_delivery, forget_delivery};
    for db in TestDb::all().await {
        let one = testkit::app::state(&db, &[]).await;
        let two = testkit::app::state(&db, &[]).await;
        let mut taken = 0;
        let results = futures_util::future::join_all((0..8).map(|i| {
            let store = if i % 2 == 0 { &one.store } else { &two.store };
            first_delivery(store, 77)
        }))
        .await;
        for result in results {
            taken += usize::from(result.expect("remembered"));
        }
        assert_eq!(taken, 1, "{}", db.kind);
        assert!(first_delivery(&one.store, 78)
            .await
            .expect("another update"));
        forget_delivery(&two.store, 77).await.expect("forgotten");
        assert!(
            first_delivery(&one.store, 77).await.expect("taken again"),
            "{}",
            db.kind
        );
    }
}
