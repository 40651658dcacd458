//! Every inline button's data, typed: one [`Callback`] per kind of press,
//! written with [`Callback::data`] when a button is made and read back with
//! [`Callback::parse`] when it is pressed (routed once, in
//! [`crate::schema`]). A button's data is only a request: every press is
//! checked against the presser's access by the service it calls, so a forged
//! callback gets a refusal, not an action.

use models::targets::TargetKind;
use models::ConnectionId;
use teloxide::types::{InlineKeyboardButton, InlineKeyboardMarkup};

/// Telegram's limit on a button's `callback_data`, in bytes.
pub const MAX_DATA_BYTES: usize = 64;

/// What a button asks for when pressed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Callback {
    /// Make a database the active one (/selectdb): `db:use:<id>`.
    UseDb(ConnectionId),
    /// Ask to remove a database (/removedb): `db:rm:<id>`.
    RemoveDb(ConnectionId),
    /// The removal, confirmed: `db:rm!:<id>`.
    RemoveDbConfirmed(ConnectionId),
    /// Confirmed /leave: `leave!`.
    Leave,
    /// Confirmed /clear: `clear!`.
    Clear,
    /// Confirmed /forgetme (honoured in a private chat only): `forgetme!`.
    ForgetMe,
    /// "No" under a question: nothing happens. `dismiss`.
    Dismiss,
    /// The kind of database in /adddb: `adddb:kind:<kind>`.
    AddDbKind(TargetKind),
    /// Send a drafted email: `email:send:<id>`.
    SendEmail(i64),
    /// Cancel a drafted email: `email:cancel:<id>`.
    CancelEmail(i64),
}

impl Callback {
    /// The button data of a press, or `None` for data no button of ours carries.
    pub fn parse(data: &str) -> Option<Callback> {
        let simple = match data {
            "leave!" => Some(Callback::Leave),
            "clear!" => Some(Callback::Clear),
            "forgetme!" => Some(Callback::ForgetMe),
            "dismiss" => Some(Callback::Dismiss),
            _ => None,
        };
        if simple.is_some() {
            return simple;
        }
        let (head, arg) = data.rsplit_once(':')?;
        let db = || ConnectionId::parse(arg).ok();
        let email = || arg.parse::<i64>().ok();
        match head {
            "db:use" => db().map(Callback::UseDb),
            "db:rm" => db().map(Callback::RemoveDb),
            "db:rm!" => db().map(Callback::RemoveDbConfirmed),
            "adddb:kind" => TargetKind::parse(arg).ok().map(Callback::AddDbKind),
            "email:send" => email().map(Callback::SendEmail),
            "email:cancel" => email().map(Callback::CancelEmail),
            _ => None,
        }
    }

    /// The data a button carries for this press.
    pub fn data(&self) -> String {
        match self {
            Callback::UseDb(id) => format!("db:use:{id}"),
            Callback::RemoveDb(id) => format!("db:rm:{id}"),
            Callback::RemoveDbConfirmed(id) => format!("db:rm!:{id}"),
            Callback::Leave => "leave!".to_owned(),
            Callback::Clear => "clear!".to_owned(),
            Callback::ForgetMe => "forgetme!".to_owned(),
            Callback::Dismiss => "dismiss".to_owned(),
            Callback::AddDbKind(kind) => format!("adddb:kind:{}", kind.as_str()),
            Callback::SendEmail(id) => format!("email:send:{id}"),
            Callback::CancelEmail(id) => format!("email:cancel:{id}"),
        }
    }

    /// A button labelled `label` that asks for this.
    pub fn button(&self, label: impl Into<String>) -> InlineKeyboardButton {
        InlineKeyboardButton::callback(label, self.data())
    }
}

/// A yes/no pair: `yes` does it, the other button does nothing.
pub fn confirm(yes: Callback, label: &str) -> InlineKeyboardMarkup {
    InlineKeyboardMarkup::new([[yes.button(label), Callback::Dismiss.button("No, keep it")]])
}

#[cfg(test)]
mod tests {
    use super::{Callback, MAX_DATA_BYTES};
    use models::targets::TargetKind;
    use models::ConnectionId;

    /// One of each variant, with the longest id it can carry. The match
    /// makes a new variant fail to compile here until it has a sample.
    fn longest() -> Vec<Callback> {
        // The longest database id `ConnectionId::parse` accepts.
        let id = ConnectionId::parse(&format!("db_{}", "f".repeat(47))).expect("an id");
        let samples = vec![
            Callback::UseDb(id.clone()),
            Callback::RemoveDb(id.clone()),
            Callback::RemoveDbConfirmed(id),
            Callback::Leave,
            Callback::Clear,
            Callback::ForgetMe,
            Callback::Dismiss,
            Callback::AddDbKind(TargetKind::Postgres),
            Callback::SendEmail(i64::MIN),
            Callback::CancelEmail(i64::MIN),
        ];
        let mut seen = [false; 10];
        for sample in &samples {
            let at = match sample {
                Callback::UseDb(_) => 0,
                Callback::RemoveDb(_) => 1,
                Callback::RemoveDbConfirmed(_) => 2,
                Callback::Leave => 3,
                Callback::Clear => 4,
                Callback::ForgetMe => 5,
                Callback::Dismiss => 6,
                Callback::AddDbKind(_) => 7,
                Callback::SendEmail(_) => 8,
                Callback::CancelEmail(_) => 9,
            };
            seen[at] = true;
        }
        assert!(seen.iter().all(|s| *s), "every variant has a sample");
        samples
            .into_iter()
            .chain(TargetKind::ALL.map(Callback::AddDbKind))
            .chain([Callback::SendEmail(i64::MAX), Callback::CancelEmail(0)])
            .collect()
    }

    #[test]
    fn every_press_round_trips_within_telegrams_limit() {
        assert_eq!(
            ConnectionId::parse(&format!("db_{}", "f".repeat(48))).ok(),
            None,
            "the sample id above is the longest there is"
        );
        for press in longest() {
            let data = press.data();
            assert!(
                data.len() <= MAX_DATA_BYTES,
                "{data:?} is {} bytes",
                data.len()
            );
            assert_eq!(Callback::parse(&data), Some(press), "{data}");
        }
    }

    #[test]
    fn data_no_button_carries_is_not_a_press() {
        for data in [
            "",
            "db:use:",
            "db:use:org_0011223344556677",
            "db:drop:db_0011223344556677",
            "adddb:kind:oracle",
            "email:send:x",
            "leave",
            "dismiss!",
        ] {
            assert_eq!(Callback::parse(data), None, "{data:?}");
        }
    }
}
