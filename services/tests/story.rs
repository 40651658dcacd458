//! The overview's story of the month (issue 16): the same figures the costs
//! page reads, the last questions, and what needs the owner's attention.

use models::costs::{Channel, ConversationStatus, Stage, Usage};
use models::{Day, DayRange, Usd};
use services::costs::ledger::{self, NewConversation, NewStage};
use services::costs::{analytics, budget, story, PriceTable};
use testkit::db::TestDb;

fn asked(user_id: i64, org: &models::OrgId, at: i64, prompt: i64) -> NewConversation {
    NewConversation {
        chat_id: user_id,
        user_id,
        username: Some(format!("u{user_id}")),
        question: format!("question at {at}"),
        org_id: Some(org.clone()),
        database_id: None,
        channel: Channel::Web,
        status: ConversationStatus::Answered,
        error: None,
        row_count: Some(1),
        answer: Some("one".into()),
        at,
        stages: vec![NewStage {
            stage: Stage::Analysis,
            model: if prompt > 5_000 {
                "gemini-2.5-pro".into()
            } else {
                "gemini-2.5-flash".into()
            },
            usage: Usage {
                prompt_tokens: prompt,
                cached_tokens: 0,
                candidates_tokens: 100,
                thoughts_tokens: 0,
            },
            latency_ms: 10,
            generated_sql: Some("SELECT 1".into()),
            error: None,
        }],
    }
}

#[tokio::test]
async fn the_month_story_agrees_with_the_costs_page_and_says_what_needs_attention() {
    for db in TestDb::all().await {
        let targets = tempfile::tempdir().expect("tempdir");
        let dir = ("TABLETALK_SQLITE_DIR", targets.path().display().to_string());
        let state = testkit::app::state(&db, &[dir]).await;
        let (owner, org) = testkit::app::org(&state.store, 1, "Acme").await;
        let now = services::clock::now();
        let today = Day::of_unix(now);
        // Four people over 70 days; person 4 spends most (the pro model).
        let batch: Vec<NewConversation> = (0..70)
            .map(|d| {
                let user = 1 + d % 4;
                let prompt = if user == 4 { 9_000 } else { 1_000 * user };
                asked(user, &org, now - d * 86_400, prompt)
            })
            .collect();
        ledger::write_batch(&state.store, &PriceTable::defaults(), &batch)
            .await
            .expect("recorded");

        let s = story::month(&state, &owner, today).await.expect("a story");
        let this_month = DayRange::between(today.month_start(), today);
        let page = analytics::overview(&state, &owner, &this_month)
            .await
            .expect("totals");
        assert_eq!(s.this_month, page, "{}: the costs page's figures", db.kind);
        let last_end = Day(today.month_start().0 - 1);
        let last = analytics::overview(
            &state,
            &owner,
            &DayRange::between(last_end.month_start(), last_end),
        )
        .await
        .expect("totals");
        assert_eq!(s.last_month, last, "{}", db.kind);
        assert!(s.last_month_to_date <= s.last_month.total_cost);
        assert!(s.last_month_to_date > Usd::ZERO, "{}: a day a day", db.kind);
        // Thirty days, zeros filled, adding up to the range's total.
        assert_eq!(s.days.len(), 30, "{}", db.kind);
        assert_eq!(s.days[29].key, today.to_string());
        let thirty =
            analytics::overview(&state, &owner, &DayRange::between(Day(today.0 - 29), today))
                .await
                .expect("totals");
        let summed: Usd = s.days.iter().map(|d| d.totals.total_cost).sum();
        assert_eq!(summed, thirty.total_cost, "{}", db.kind);
        // The top three, most expensive first; person 4 on top when they asked this month.
        assert!(s.top_people.len() <= 3 && !s.top_people.is_empty());
        assert!(s
            .top_people
            .windows(2)
            .all(|w| w[0].totals.total_cost >= w[1].totals.total_cost));
        assert!(s.top_models.len() <= 2, "{}: two models were used", db.kind);
        // The last five questions, newest first.
        assert_eq!(s.recent.len(), 5, "{}", db.kind);
        assert_eq!(s.recent[0].timestamp, now);
        assert!(s
            .recent
            .windows(2)
            .all(|w| w[0].timestamp >= w[1].timestamp));
        assert!(s.attention.is_empty(), "{}: {:?}", db.kind, s.attention);

        // A budget at 80% or more, an invitation about to expire (and one
        // that is not), a database that cannot be reached.
        let spent = s.this_month.total_cost;
        budget::set(
            &state.store,
            &owner,
            Some(Usd(spent.units() * 100 / 90 + 1)),
        )
        .await
        .expect("budget");
        let soon = services::orgs::invitations::create(&state.store, &owner, 5, 1)
            .await
            .expect("an invitation");
        services::orgs::invitations::create(&state.store, &owner, 5, 30)
            .await
            .expect("another");
        let id = testkit::app::sqlite_database(
            &state,
            &owner,
            targets.path(),
            "sales.db",
            testkit::app::TINY_SHOP,
        )
        .await;
        let file = targets.path().join(org.as_str()).join("sales.db");
        let saved = std::fs::read(&file).expect("the file");
        std::fs::remove_file(&file).expect("removed");
        state.targets.forget(&id).await;
        let failed = services::databases::query(&state, &owner, &id, "SELECT 1").await;
        assert!(failed.is_err(), "{}: the file is gone", db.kind);

        let s = story::month(&state, &owner, today).await.expect("a story");
        let said: Vec<&str> = s.attention.iter().map(|a| a.text.as_str()).collect();
        assert_eq!(s.attention.len(), 3, "{}: {said:?}", db.kind);
        assert!(said[0].contains("of the monthly budget"), "{said:?}");
        assert_eq!(s.attention[0].href, "/settings");
        assert!(said[1].contains("could not be reached") && said[1].contains("sales"));
        assert_eq!(s.attention[1].href, "/databases");
        assert!(said[2].contains(soon.code.as_str()) && said[2].contains("expires in 1 day"));
        assert_eq!(s.attention[2].href, "/invitations");

        // The database back: its next query clears the warning.
        std::fs::write(&file, saved).expect("restored");
        services::databases::query(&state, &owner, &id, "SELECT 1")
            .await
            .expect("runs again");
        let s = story::month(&state, &owner, today).await.expect("a story");
        assert!(
            s.attention.iter().all(|a| a.href != "/databases"),
            "{}: {:?}",
            db.kind,
            s.attention
        );

        // A member has no story.
        let member = testkit::app::person(&state.store, 9, "Mo").await;
        assert!(story::month(&state, &member, today).await.is_err());
    }
}
