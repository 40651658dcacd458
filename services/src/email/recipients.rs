//! Who an email may go to: only addresses written in the person's own
//! question, or "me" (their saved address).

use crate::error::internal;
use crate::Store;
use models::ask::MAX_EMAIL_RECIPIENTS;
use models::{AppError, UserId};

/// The addresses written in `text`, lower-cased: its words, split on spaces
/// and on punctuation no address contains, with sentence punctuation trimmed.
fn addresses_in(text: &str) -> std::collections::HashSet<String> {
    text.split(|c: char| {
        c.is_whitespace()
            || matches!(
                c,
                ',' | ';' | ':' | '<' | '>' | '(' | ')' | '[' | ']' | '"' | '\''
            )
    })
    .map(|word| word.trim_end_matches(['.', '!', '?']).to_lowercase())
    .filter(|word| word.contains('@'))
    .collect()
}

/// The addresses an email may go to: each one the model proposed must be an
/// address written whole in `question` (case aside; a piece of one, such as
/// `alice@company.co` out of `alice@company.com`, is not), or be "me" with
/// `own` the person's saved address. Duplicates dropped.
pub fn recipients(
    question: &str,
    proposed: &[String],
    own: Option<&str>,
) -> Result<Vec<String>, String> {
    let asked = addresses_in(question);
    let mut out: Vec<String> = Vec::new();
    for candidate in proposed {
        let candidate = candidate.trim();
        let address = if candidate.eq_ignore_ascii_case("me") {
            match own {
                Some(own) => own.to_owned(),
                None => {
                    return Err(
                        "You asked for the email to go to you, but Tabletalk does not know \
                                your address yet: set it with /email your@address in the bot, or \
                                write the address in the question."
                            .into(),
                    )
                }
            }
        } else {
            if !asked.contains(&candidate.to_lowercase()) {
                return Err(format!(
                    "The email would have gone to {candidate}, which your question does not name; \
                     nothing was drafted. Write every address in the question."
                ));
            }
            candidate.to_owned()
        };
        if address.parse::<lettre::Address>().is_err() {
            return Err(format!("{address} is not an email address."));
        }
        if !out.iter().any(|a| a.eq_ignore_ascii_case(&address)) {
            out.push(address);
        }
    }
    if out.is_empty() {
        return Err(
            "Say who the email is for: write the address in the question (or \"me\" once \
                    your address is set with /email)."
                .into(),
        );
    }
    if out.len() > MAX_EMAIL_RECIPIENTS {
        return Err(format!(
            "An email goes to at most {MAX_EMAIL_RECIPIENTS} people; the question names {}.",
            out.len()
        ));
    }
    Ok(out)
}

/// Longest address kept (RFC 5321's path limit).
pub const MAX_ADDRESS_LEN: usize = 254;

/// Saves (or, with `None` or "off", forgets) the caller's own address: where
/// "send it to me" goes. Returns the address now saved.
pub async fn set_own_address(
    store: &Store,
    caller: &models::org::Caller,
    address: Option<&str>,
) -> Result<Option<String>, AppError> {
    let user_id = caller.user_id.ok_or_else(|| {
        AppError::forbidden("Only Telegram users have an address for their email results.")
    })?;
    let address = address
        .map(str::trim)
        .filter(|a| !a.is_empty() && !a.eq_ignore_ascii_case("off"));
    if let Some(a) = address {
        if a.chars().count() > MAX_ADDRESS_LEN || a.parse::<lettre::Address>().is_err() {
            return Err(AppError::bad_request(format!(
                "{:?} is not an email address; write it like ada@example.com.",
                a.chars().take(80).collect::<String>()
            )));
        }
    }
    sqlx::query("UPDATE telegram_users SET email = $1 WHERE user_id = $2")
        .bind(address)
        .bind(user_id)
        .execute(store.pool())
        .await
        .map_err(internal("saving an email address"))?;
    Ok(address.map(str::to_owned))
}

/// The person's saved address, if any.
pub async fn own_address(store: &Store, user_id: UserId) -> Result<Option<String>, AppError> {
    let row: Option<(Option<String>,)> =
        sqlx::query_as("SELECT email FROM telegram_users WHERE user_id = $1")
            .bind(user_id)
            .fetch_optional(store.pool())
            .await
            .map_err(internal("reading the person's email address"))?;
    Ok(row
        .and_then(|(email,)| email)
        .filter(|e| !e.trim().is_empty()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recipients_must_be_written_in_the_question() {
        let q = "Email the top products to Bob@Example.com and carol@example.org";
        let proposed = |list: &[&str]| list.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            recipients(
                q,
                &proposed(&["bob@example.com", "carol@example.org", "BOB@example.com"]),
                None
            ),
            Ok(vec![
                "bob@example.com".to_owned(),
                "carol@example.org".to_owned()
            ])
        );
        // An address the model was steered into adding is refused.
        let steered = recipients(q, &proposed(&["bob@example.com", "x@evil.example"]), None)
            .expect_err("not in the question");
        assert!(steered.contains("x@evil.example"), "{steered}");
        // "me" is the person's saved address, and only then.
        assert_eq!(
            recipients("send it to me", &proposed(&["me"]), Some("ada@example.com")),
            Ok(vec!["ada@example.com".to_owned()])
        );
        assert!(recipients("send it to me", &proposed(&["me"]), None)
            .expect_err("no address")
            .contains("/email"));
        assert!(recipients(q, &[], None)
            .expect_err("none")
            .contains("Say who"));
        let many = "to a@x.io b@x.io c@x.io d@x.io e@x.io f@x.io";
        let six = proposed(&["a@x.io", "b@x.io", "c@x.io", "d@x.io", "e@x.io", "f@x.io"]);
        assert!(recipients(many, &six, None)
            .expect_err("six")
            .contains("at most 5"));
        assert!(recipients(
            "to bob@@example.com",
            &proposed(&["bob@@example.com"]),
            None
        )
        .expect_err("invalid")
        .contains("not an email address"));
    }

    #[test]
    fn a_recipient_must_be_a_whole_address_of_the_question_not_a_piece_of_one() {
        // A steered model cuts a named address into one an attacker can own:
        // another domain (company.co), or another mailbox at the same one.
        let q = "Send the revenue to alice@company.com, thanks.";
        for piece in ["alice@company.co", "ce@company.com", "e@company.com"] {
            let refused = recipients(q, &[piece.to_owned()], None).expect_err(piece);
            assert!(refused.contains(piece), "{refused}");
        }
        // The whole address, in any case, with punctuation around it, is fine.
        assert_eq!(
            recipients(q, &["Alice@Company.com".to_owned()], None),
            Ok(vec!["Alice@Company.com".to_owned()])
        );
        assert_eq!(
            recipients("(to <bob+q4@x.io>)", &["bob+q4@x.io".to_owned()], None),
            Ok(vec!["bob+q4@x.io".to_owned()])
        );
    }
}
