//! The mail server: its transport from `SMTP_URL`, the configured sender,
//! and the message as sent.

use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::{AsyncSmtpTransport, Message, Tokio1Executor};
use secrecy::ExposeSecret;
use std::time::Duration;

/// The longest one SMTP conversation may take.
const SMTP_TIMEOUT: Duration = Duration::from_secs(20);

/// The SMTP transport for `url`, or what is wrong with it (never the URL).
pub(crate) fn transport(url: &str) -> Result<AsyncSmtpTransport<Tokio1Executor>, String> {
    if !(url.starts_with("smtp://") || url.starts_with("smtps://")) {
        return Err("must start with smtp:// or smtps:// (for example \
             smtp://user:password@mail.example.com:587?tls=required)"
            .into());
    }
    AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
        .map(|builder| builder.timeout(Some(SMTP_TIMEOUT)).build())
        .map_err(|_| {
            "is not a mail server URL: smtp://[user:password@]host[:port][?tls=required] or \
             smtps://..."
                .into()
        })
}

/// The configured mail server and sender, shared by every request.
#[derive(Clone)]
pub struct Mailer {
    pub(super) inner: Option<(AsyncSmtpTransport<Tokio1Executor>, Mailbox)>,
}

impl Mailer {
    pub fn new(settings: &super::settings::EmailSettings) -> anyhow::Result<Mailer> {
        let inner = match (&settings.smtp_url, &settings.from) {
            (Some(url), Some(from)) => {
                let transport =
                    transport(url.expose_secret()).map_err(|p| anyhow::anyhow!("SMTP_URL {p}"))?;
                let from = from
                    .parse::<Mailbox>()
                    .map_err(|_| anyhow::anyhow!("SMTP_FROM is not an email address"))?;
                Some((transport, from))
            }
            _ => None,
        };
        Ok(Mailer { inner })
    }

    pub fn is_configured(&self) -> bool {
        self.inner.is_some()
    }
}

/// The message as sent: plain text, the rows attached as `result.csv`.
pub(super) fn message(
    from: &Mailbox,
    to: &[String],
    subject: &str,
    body: &str,
    csv: Option<String>,
) -> Result<Message, String> {
    let mut builder = Message::builder().from(from.clone()).subject(subject);
    for address in to {
        let mailbox = address
            .parse::<Mailbox>()
            .map_err(|_| format!("{address} is not an email address"))?;
        builder = builder.to(mailbox);
    }
    let text = SinglePart::plain(body.to_owned());
    let built = match csv {
        Some(csv) => {
            let kind = ContentType::parse("text/csv; charset=utf-8")
                .map_err(|_| "the attachment's type".to_owned())?;
            builder.multipart(
                MultiPart::mixed()
                    .singlepart(text)
                    .singlepart(Attachment::new("result.csv".to_owned()).body(csv, kind)),
            )
        }
        None => builder.singlepart(text),
    };
    built.map_err(|e| format!("the email could not be built: {e}"))
}

/// The mail server's answer in a sentence (lettre's errors carry no secret).
pub(super) fn smtp_error(error: &lettre::transport::smtp::Error) -> String {
    if error.is_timeout() {
        "the mail server did not answer in time".into()
    } else if error.is_permanent() {
        format!("the mail server refused it: {error}")
    } else {
        format!("{error}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_has_the_body_and_the_rows_attached() {
        let from: Mailbox = "Tabletalk <tt@example.com>".parse().expect("mailbox");
        let message = message(
            &from,
            &["bob@example.com".to_owned()],
            "Top products",
            "Tea leads.",
            Some("product,revenue\nTea,12.5\n".into()),
        )
        .expect("built");
        let text = String::from_utf8(message.formatted()).expect("utf-8");
        assert!(text.contains("To: bob@example.com"), "{text}");
        assert!(text.contains("Subject: Top products"), "{text}");
        assert!(text.contains("filename=\"result.csv\""), "{text}");
        assert!(text.contains("Tea leads."), "{text}");
    }
}
