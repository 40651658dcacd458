//! The management commands, through the real bot and testkit's fake Bot API
//! over real HTTP: each role's /help, the organization's commands, databases
//! chosen and removed with buttons (a forged button refused), the
//! confirmations, and the error paths.

use services::AppState;
use std::time::Duration;
use testkit::db::TestDb;
use testkit::telegram::{FakeTelegram, Sent, BOT_USERNAME};

const WAIT: Duration = Duration::from_secs(20);

/// Sends `text` as `user_id` and returns the next thing the bot sends to
/// their chat (a message or an edit).
async fn say(fake: &FakeTelegram, user_id: i64, name: &str, text: &str) -> Sent {
    let before = fake.sent().iter().filter(|s| s.chat_id == user_id).count();
    fake.send_text(user_id, name, text);
    next(fake, user_id, before).await
}

async fn next(fake: &FakeTelegram, chat: i64, before: usize) -> Sent {
    let sent = fake
        .wait_for_sent(chat, before + 1, WAIT)
        .await
        .expect("an answer");
    sent[before].clone()
}

/// Presses the button carrying `data` under `message` and returns what the bot did next.
async fn press(fake: &FakeTelegram, user_id: i64, name: &str, message: &Sent, data: &str) -> Sent {
    let before = fake.sent().iter().filter(|s| s.chat_id == user_id).count();
    fake.press_button(user_id, name, message.message_id, data);
    next(fake, user_id, before).await
}

/// The callback data of every button under a message.
fn buttons(sent: &Sent) -> Vec<(String, String)> {
    let markup = &sent.body["reply_markup"];
    let markup: serde_json::Value = match markup.as_str() {
        Some(text) => serde_json::from_str(text).expect("markup JSON"),
        None => markup.clone(),
    };
    markup["inline_keyboard"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|row| row.as_array().cloned().unwrap_or_default())
        .map(|b| {
            (
                b["text"].as_str().unwrap_or_default().to_owned(),
                b["callback_data"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

/// The menu last published for `chat`'s own scope, once it lists `command`.
async fn menu_of(fake: &FakeTelegram, chat: i64, command: &str) -> Vec<String> {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let last = fake
            .command_lists()
            .into_iter()
            .rev()
            .find(|l| l.scope["type"] == "chat" && l.scope["chat_id"].as_i64() == Some(chat));
        match last {
            Some(list) if list.commands.iter().any(|c| c == command) => return list.commands,
            other => assert!(
                tokio::time::Instant::now() < deadline,
                "no menu with /{command} for {chat}: {other:?}"
            ),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn bot_for(db: &TestDb, fake: &FakeTelegram, targets: &std::path::Path) -> AppState {
    let dir = ("TABLETALK_SQLITE_DIR", targets.display().to_string());
    fake.bot_state(db, &[dir]).await
}

#[tokio::test]
async fn an_owner_and_a_member_run_the_management_commands() {
    services::telemetry::init_for_tests();
    let fake = FakeTelegram::start().await.expect("fake Bot API starts");
    let targets = tempfile::tempdir().expect("tempdir");
    let db = TestDb::sqlite();
    let state = bot_for(&db, &fake, targets.path()).await;
    let mut dispatcher = bot::dispatcher(state.clone()).await.expect("bot connects");
    let shutdown = dispatcher.shutdown_token();
    let running = tokio::spawn(async move { dispatcher.dispatch().await });
    let (olga, mia, eve) = (5001, 5002, 5003);

    // Without an organization: /help offers founding and joining, not costs.
    let help = say(&fake, olga, "Olga", "/help").await.text;
    assert!(
        help.contains("/createorg") && help.contains("/join"),
        "{help}"
    );
    assert!(
        !help.contains("/costs") && !help.contains("/invite"),
        "{help}"
    );
    let none = say(&fake, olga, "Olga", "/members").await.text;
    assert!(none.contains("not in an organization"), "{none}");
    let nameless = say(&fake, olga, "Olga", "/createorg").await.text;
    assert!(nameless.contains("Name the organization"), "{nameless}");

    // Olga founds Acme: her sign-in comes with it; now /help lists the owner's commands.
    let founded = say(&fake, olga, "Olga", "/createorg Acme Analytics")
        .await
        .text;
    assert!(
        founded.contains("Acme Analytics is founded") && founded.contains("password: "),
        "{founded}"
    );
    let help = say(&fake, olga, "Olga", "/help").await.text;
    assert!(help.contains("/costs") && help.contains("/invite") && help.contains("/removemember"));
    assert!(!help.contains("/createorg"), "{help}");

    // An invitation with its link; bad arguments are named.
    let bad = say(&fake, olga, "Olga", "/invite five").await.text;
    assert!(bad.contains("\"five\" is not a whole number"), "{bad}");
    let invite = say(&fake, olga, "Olga", "/invite 3 2").await.text;
    assert!(invite.contains("Uses: 3"), "{invite}");
    let link_prefix = format!("https://t.me/{BOT_USERNAME}?start=join_");
    let code = invite
        .split_whitespace()
        .find_map(|w| w.strip_prefix(&link_prefix))
        .expect("a deep link")
        .to_owned();

    // Mia joins; the member list has both; Mia's /help has no owner commands.
    let joined = say(&fake, mia, "Mia", &format!("/join {code}")).await.text;
    assert!(joined.contains("Welcome to Acme Analytics"), "{joined}");
    let members = say(&fake, olga, "Olga", "/members").await.text;
    assert!(
        members.starts_with("2 members") && members.contains("Mia"),
        "{members}"
    );
    let help = say(&fake, mia, "Mia", "/help").await.text;
    assert!(
        help.contains("/leave") && !help.contains("/invite") && !help.contains("/costs"),
        "{help}"
    );
    let refused = say(&fake, mia, "Mia", "/costs").await.text;
    assert!(
        !refused.contains("This month"),
        "a member sees no costs: {refused}"
    );

    // Telegram's "/" menu follows the role: the default one (no
    // organization) offers founding, not costs; Olga's chat gets the owner's,
    // Mia's the member's.
    let lists = fake.command_lists();
    let default = lists
        .iter()
        .find(|l| l.scope["type"] == "default")
        .expect("a default menu");
    assert!(default.commands.iter().any(|c| c == "createorg"));
    assert!(!default
        .commands
        .iter()
        .any(|c| c == "costs" || c == "admin"));
    let olga_menu = menu_of(&fake, olga, "costs").await;
    assert!(olga_menu.iter().any(|c| c == "invite") && !olga_menu.iter().any(|c| c == "createorg"));
    let mia_menu = menu_of(&fake, mia, "leave").await;
    assert!(
        !mia_menu.iter().any(|c| c == "costs" || c == "invite"),
        "{mia_menu:?}"
    );
    let org = say(&fake, mia, "Mia", "/org").await.text;
    assert!(
        org.contains("Acme Analytics") && org.contains("Members: 2"),
        "{org}"
    );
    assert!(!org.contains("Spent"), "members see no spend: {org}");

    // A database, chosen with a button; someone outside the organization
    // pressing the same button is refused and nothing changes for them.
    let owner = services::access::caller(&state.store, olga)
        .await
        .expect("caller");
    let id = testkit::app::sqlite_database(
        &state,
        &owner,
        targets.path(),
        "sales.db",
        testkit::app::TINY_SHOP,
    )
    .await;
    let choose = say(&fake, mia, "Mia", "/selectdb").await;
    let offered = buttons(&choose);
    assert_eq!(offered.len(), 1, "{offered:?}");
    assert_eq!(offered[0].1, format!("db:use:{}", id.as_str()));
    let chosen = press(&fake, mia, "Mia", &choose, &offered[0].1).await;
    assert_eq!(chosen.method.to_ascii_lowercase(), "editmessagetext");
    assert_eq!(chosen.text, "Your questions now go to sales.");
    say(&fake, eve, "Eve", "/start").await;
    let forged = press(&fake, eve, "Eve", &choose, &offered[0].1).await;
    assert!(!forged.text.contains("now go to"), "{}", forged.text);
    let eve_caller = services::access::caller(&state.store, eve)
        .await
        .expect("caller");
    assert!(services::databases::active(&state, &eve_caller)
        .await
        .expect("active")
        .is_none());
    let info = say(&fake, mia, "Mia", "/myinfo").await.text;
    assert!(
        info.contains("Role: member") && info.contains("Active database: sales"),
        "{info}"
    );

    // Email address: a wrong one is named, a right one saved and shown.
    let wrong = say(&fake, mia, "Mia", "/email not-an-address").await.text;
    assert!(wrong.contains("is not an email address"), "{wrong}");
    let saved = say(&fake, mia, "Mia", "/email mia@example.com").await.text;
    assert!(saved.contains("mia@example.com"), "{saved}");
    assert!(say(&fake, mia, "Mia", "/myinfo")
        .await
        .text
        .contains("Email results to: mia@example.com"));

    // Stats, history, costs, dashboard credentials.
    let stats = say(&fake, mia, "Mia", "/stats").await.text;
    assert!(stats.contains("Today: 0 questions, $0.00"), "{stats}");
    let history = say(&fake, mia, "Mia", "/history").await.text;
    assert!(history.contains("not asked anything yet"), "{history}");
    let costs = say(&fake, olga, "Olga", "/costs").await.text;
    assert!(
        costs.starts_with("This month: $0.00 for 0 questions"),
        "{costs}"
    );
    let dash = say(&fake, mia, "Mia", "/dashboard").await.text;
    assert!(
        dash.contains("username: ") && dash.contains("password: "),
        "{dash}"
    );
    let password = dash
        .rsplit("password: ")
        .next()
        .unwrap_or_default()
        .trim()
        .to_owned();
    let username = dash
        .split("username: ")
        .nth(1)
        .and_then(|r| r.lines().next())
        .unwrap_or_default()
        .to_owned();
    let request = models::auth::LoginRequest { username, password };
    services::auth::login(&state.store, &request, None)
        .await
        .expect("the new sign-in works");

    // /clear asks first; "No" changes nothing, "Forget it" forgets.
    let ask = say(&fake, mia, "Mia", "/clear").await;
    let choices = buttons(&ask);
    assert_eq!(
        choices.iter().map(|c| c.1.as_str()).collect::<Vec<_>>(),
        ["clear!", "dismiss"]
    );
    let kept = press(&fake, mia, "Mia", &ask, "dismiss").await;
    assert_eq!(kept.text, "Nothing was changed.");
    let cleared = press(&fake, mia, "Mia", &ask, "clear!").await;
    assert!(cleared.text.contains("starts afresh"), "{}", cleared.text);

    // /forgetme says what goes and what stays, asks first, and only for oneself.
    let ask = say(&fake, mia, "Mia", "/forgetme").await;
    assert!(ask.text.contains("cannot be undone"), "{}", ask.text);
    assert_eq!(
        buttons(&ask)
            .iter()
            .map(|c| c.1.as_str())
            .collect::<Vec<_>>(),
        ["forgetme!", "dismiss"]
    );
    let forgot = press(&fake, mia, "Mia", &ask, "forgetme!").await;
    assert!(forgot.text.starts_with("Done: I forgot"), "{}", forgot.text);
    let forgotten: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'person_forgotten' AND actor_id = $1",
    )
    .bind(mia)
    .fetch_one(state.store.pool())
    .await
    .expect("count");
    assert_eq!(forgotten, 1);

    // Removing a database: owners only, asked twice.
    let mia_remove = say(&fake, mia, "Mia", "/removedb").await.text;
    assert!(!mia_remove.contains("Which database"), "{mia_remove}");
    let pick = say(&fake, olga, "Olga", "/removedb").await;
    let data = buttons(&pick)[0].1.clone();
    assert_eq!(data, format!("db:rm:{}", id.as_str()));
    let sure = press(&fake, olga, "Olga", &pick, &data).await;
    assert!(sure.text.starts_with("Remove sales?"), "{}", sure.text);
    let yes = buttons(&sure)[0].1.clone();
    let forged = press(&fake, mia, "Mia", &sure, &yes).await;
    assert!(
        !forged.text.contains("is removed"),
        "a member's forged press: {}",
        forged.text
    );
    let removed = press(&fake, olga, "Olga", &sure, &yes).await;
    assert_eq!(removed.text, "sales is removed.");
    assert!(services::databases::list(&state, &owner)
        .await
        .expect("list")
        .is_empty());

    // Removing a member by @username; unknown ones are named; the owner cannot leave.
    let unknown = say(&fake, olga, "Olga", "/removemember @nobody").await.text;
    assert!(unknown.contains("@nobody is not a member"), "{unknown}");
    let cannot = say(&fake, olga, "Olga", "/leave").await.text;
    assert!(cannot.contains("You own this organization"), "{cannot}");
    let removed = say(&fake, olga, "Olga", "/removemember 5002").await.text;
    assert_eq!(removed, "Mia is no longer a member.");
    let members = say(&fake, olga, "Olga", "/members").await.text;
    assert!(members.starts_with("1 member:"), "{members}");

    // Eve joins with the same invitation and leaves with a confirmation.
    say(&fake, eve, "Eve", &format!("/start join_{code}")).await;
    let leave = say(&fake, eve, "Eve", "/leave").await;
    let left = press(&fake, eve, "Eve", &leave, "leave!").await;
    assert!(left.text.contains("You have left"), "{}", left.text);
    let eve_caller = services::access::caller(&state.store, eve)
        .await
        .expect("caller");
    assert!(eve_caller.org_id.is_none());

    // Nothing to cancel yet; unknown buttons are ignored (no answer), known ones answered.
    assert_eq!(
        say(&fake, eve, "Eve", "/cancel").await.text,
        "There is nothing to cancel."
    );

    shutdown
        .shutdown()
        .expect("the dispatcher is running")
        .await;
    running.await.expect("dispatcher stops cleanly");
}

#[test]
fn long_answers_are_split_within_telegrams_limit() {
    let line = "x".repeat(100);
    let text = vec![line.as_str(); 100].join("\n");
    let parts = bot::text::split(&text);
    assert_eq!(parts.len(), 3);
    assert!(parts.iter().all(|p| p.chars().count() <= 4_000));
    assert_eq!(parts.concat(), text, "nothing lost");
    let one = "y".repeat(9_000);
    let parts = bot::text::split(&one);
    assert_eq!(
        parts.iter().map(|p| p.chars().count()).collect::<Vec<_>>(),
        [4_000, 4_000, 1_000]
    );
    assert_eq!(bot::text::split(""), [""]);
}

#[tokio::test]
async fn in_a_group_only_what_is_addressed_to_the_bot_is_answered_and_secrets_are_removed() {
    services::telemetry::init_for_tests();
    let fake = FakeTelegram::start().await.expect("fake Bot API starts");
    let targets = tempfile::tempdir().expect("tempdir");
    let db = TestDb::sqlite();
    let state = fake
        .bot_state(
            &db,
            &[
                ("TABLETALK_SQLITE_DIR", targets.path().display().to_string()),
                ("TABLETALK_ADMIN_IDS", "6001".to_owned()),
            ],
        )
        .await;
    let mut dispatcher = bot::dispatcher(state.clone()).await.expect("bot connects");
    let shutdown = dispatcher.shutdown_token();
    let running = tokio::spawn(async move { dispatcher.dispatch().await });
    let group = -100_123;
    let in_group = || {
        fake.sent()
            .into_iter()
            .filter(|s| s.chat_id == group)
            .collect::<Vec<_>>()
    };

    // Talk not for the bot gets nothing; a connection string is deleted with a warning.
    fake.send_group_text(group, 6002, "Ann", "lunch at noon?", None);
    fake.send_group_text(group, 6002, "Ann", "/weather@some_other_bot", None);
    let secret = fake.send_group_text(
        group,
        6002,
        "Ann",
        "use postgres://reader:hunter2@db.example.com/sales",
        None,
    );
    let sent = fake.wait_for_sent(group, 1, WAIT).await.expect("a warning");
    assert!(
        sent[0]
            .text
            .starts_with("I deleted a message that looked like a connection string"),
        "{}",
        sent[0].text
    );
    assert!(fake.deleted().contains(&(group, secret)));
    // Credentials and connection strings are for private chats.
    fake.send_group_text(group, 6002, "Ann", "/dashboard", None);
    let sent = fake.wait_for_sent(group, 2, WAIT).await.expect("an answer");
    assert_eq!(
        sent[1].text,
        "Send me this in a private chat, so your dashboard password stays private."
    );
    fake.send_group_text(group, 6002, "Ann", &format!("/adddb@{BOT_USERNAME}"), None);
    let sent = fake.wait_for_sent(group, 3, WAIT).await.expect("an answer");
    assert!(
        sent[2].text.starts_with("Add databases in a private chat"),
        "{}",
        sent[2].text
    );
    // A bare mention gets a prompt; a reply to the bot is for it too.
    fake.send_group_text(group, 6002, "Ann", &format!("@{BOT_USERNAME}"), None);
    let sent = fake.wait_for_sent(group, 4, WAIT).await.expect("an answer");
    assert_eq!(sent[3].text, "Yes? Ask me a question about your data.");
    fake.send_group_text(
        group,
        6002,
        "Ann",
        "how many orders?",
        Some(sent[3].message_id),
    );
    // The question's status message, then its answer in place (here: why it cannot be answered).
    let sent = fake.wait_for_sent(group, 6, WAIT).await.expect("an answer");
    assert_eq!(sent[4].text, "Reading your question…");
    assert_eq!(sent[5].method.to_ascii_lowercase(), "editmessagetext");
    assert_eq!(
        in_group().len(),
        6,
        "the plain talk and the other bot's command got nothing"
    );

    // /admin: the operators only; /help shows it only to them.
    let refused = say(&fake, 6002, "Ann", "/admin stats").await.text;
    assert!(
        refused.starts_with("Only Tabletalk's operators"),
        "{refused}"
    );
    assert!(!say(&fake, 6002, "Ann", "/help")
        .await
        .text
        .contains("/admin"));
    let stats = say(&fake, 6001, "Ops", "/admin stats").await.text;
    assert!(
        stats.contains("Organizations: 0") && stats.contains("People: 2"),
        "{stats}"
    );
    assert!(say(&fake, 6001, "Ops", "/help")
        .await
        .text
        .contains("/admin"));

    shutdown
        .shutdown()
        .expect("the dispatcher is running")
        .await;
    running.await.expect("dispatcher stops cleanly");
}

/// A burst of 100 messages from 20 people at once: every one is answered or
/// refused with a reason (questions here have no model configured, so each
/// is refused in place, saying what to set); none is lost.
#[tokio::test]
async fn a_burst_of_100_messages_from_20_people_is_answered_in_full() {
    services::telemetry::init_for_tests();
    let fake = FakeTelegram::start().await.expect("fake Bot API starts");
    let targets = tempfile::tempdir().expect("tempdir");
    let db = TestDb::sqlite();
    let state = bot_for(&db, &fake, targets.path()).await;
    let mut dispatcher = bot::dispatcher(state).await.expect("bot connects");
    let shutdown = dispatcher.shutdown_token();
    let running = tokio::spawn(async move { dispatcher.dispatch().await });
    let people: Vec<i64> = (0..20).map(|i| 9_000 + i).collect();
    let messages = [
        "/stats",
        "how many orders?",
        "/history",
        "and last week?",
        "top products",
    ];
    for text in messages {
        for id in &people {
            fake.send_text(*id, "P", text);
        }
    }
    for id in &people {
        // Two commands answered, three questions each a status message then its outcome.
        let sent = fake
            .wait_for_sent(*id, 8, Duration::from_secs(90))
            .await
            .expect("every message answered");
        let texts: Vec<&str> = sent.iter().map(|s| s.text.as_str()).collect();
        assert!(texts[0].starts_with("Your usage"), "{texts:?}");
        let edits: Vec<&Sent> = sent
            .iter()
            .filter(|s| s.method.eq_ignore_ascii_case("editMessageText"))
            .collect();
        assert_eq!(edits.len(), 3, "{id}: {texts:?}");
        assert!(edits
            .iter()
            .all(|e| !e.text.is_empty() && e.text != "Reading your question…"));
        assert!(
            texts.iter().any(|t| t.contains("not asked anything yet")),
            "{texts:?}"
        );
    }
    shutdown
        .shutdown()
        .expect("the dispatcher is running")
        .await;
    running.await.expect("dispatcher stops cleanly");
}
