//! Hiding secrets in URLs before they are shown or logged.

/// Query parameters whose values are hidden by [`redact_url`] (compared
/// without regard to case).
const SECRET_PARAMETERS: [&str; 5] = ["password", "passwd", "pwd", "pass", "sslpassword"];

/// Removes the password from `scheme://user:password@host/...` and the values
/// of `?password=`-like query parameters, fit for a log line.
///
/// Passwords are often pasted without percent-encoding, so the user
/// information ends at the *last* `@` whose remainder starts with something
/// shaped like a host: a password holding `/`, `?`, `:` or `@` is hidden
/// whole. When in doubt more is hidden, never less.
pub fn redact_url(url: &str) -> String {
    let url = redact_query_secrets(url);
    let Some((scheme, rest)) = url.split_once("://") else {
        return url;
    };
    let Some(at) = rest.rfind('@') else {
        return url;
    };
    let (userinfo, host_and_path) = (&rest[..at], &rest[at + 1..]);
    let host_end = host_and_path
        .find(['/', '?', '#'])
        .unwrap_or(host_and_path.len());
    let host = &host_and_path[..host_end];
    let host_like = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-:[]%".contains(c));
    if !host_like {
        return format!("{scheme}://***");
    }
    let user = userinfo.split_once(':').map_or(userinfo, |(u, _)| u);
    format!("{scheme}://{user}:***@{host_and_path}")
}

/// Replaces the value of every `password=`-like parameter (after `?`, `&` or
/// `;`) with `***`, up to the next `&` or `;`.
fn redact_query_secrets(url: &str) -> String {
    let mut out = String::with_capacity(url.len());
    let mut rest = url;
    while let Some(i) = rest.find(['?', '&', ';']) {
        let (before, after) = rest.split_at(i + 1);
        out.push_str(before);
        rest = after;
        let Some(eq) = rest.find('=') else { continue };
        let key = &rest[..eq];
        let secret = SECRET_PARAMETERS
            .iter()
            .any(|name| key.trim().eq_ignore_ascii_case(name));
        if secret {
            let end = rest[eq + 1..]
                .find(['&', ';'])
                .map_or(rest.len(), |j| eq + 1 + j);
            out.push_str(&rest[..=eq]);
            out.push_str("***");
            rest = &rest[end..];
        }
    }
    out.push_str(rest);
    out
}

/// Hides the user part (`user:password@`, `user@`) of every URL in `text`,
/// for what `server config check` prints. A URL runs to the end of its line
/// or of the quoted string it is in, and its user part to the last `@` in
/// that stretch: when in doubt more is hidden, never less.
pub fn hide_url_users(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("://") {
        let (before, after) = rest.split_at(i + 3);
        out.push_str(before);
        let (url, tail) = after.split_at(url_end(after));
        match url.rfind('@') {
            Some(at) => {
                out.push_str("***");
                out.push_str(&url[at..]);
            }
            None => out.push_str(url),
        }
        rest = tail;
    }
    out.push_str(rest);
    out
}

/// Where the URL at the start of `text` ends: a line end or an unescaped `"`.
fn url_end(text: &str) -> usize {
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        match c {
            '\n' | '\r' => return i,
            '"' if !escaped => return i,
            _ => {}
        }
        escaped = c == '\\' && !escaped;
    }
    text.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_hides_query_passwords_and_unencoded_ones() {
        let cases = [
            (
                "postgres://bob@db.local/tt?password=s3cret",
                "postgres://bob:***@db.local/tt?password=***",
            ),
            (
                "postgres://db.local/tt?sslmode=require&PASSWORD=s3cret&user=bob",
                "postgres://db.local/tt?sslmode=require&PASSWORD=***&user=bob",
            ),
            (
                "postgres://bob:s3/cret@db.local:5432/tt",
                "postgres://bob:***@db.local:5432/tt",
            ),
            (
                "postgres://bob:s3@cret@db.local/tt",
                "postgres://bob:***@db.local/tt",
            ),
            (
                "postgres://bob:a/b@c?d@db.local/tt?sslmode=require",
                "postgres://bob:***@db.local/tt?sslmode=require",
            ),
        ];
        for (url, shown) in cases {
            let redacted = redact_url(url);
            assert_eq!(redacted, shown, "{url}");
            assert!(!redacted.contains("s3"), "{redacted}");
        }
        // Nothing host-shaped after the last `@`: everything is hidden.
        assert_eq!(
            redact_url("postgres://bob:pw@db/tt?user=x@y z"),
            "postgres://***"
        );
    }

    #[test]
    fn redaction_hides_passwords_only() {
        assert_eq!(
            redact_url("postgres://bob:s3cret@db.local:5432/tt?sslmode=require"),
            "postgres://bob:***@db.local:5432/tt?sslmode=require"
        );
        assert_eq!(
            redact_url("postgres://bob@db.local/tt"),
            "postgres://bob:***@db.local/tt"
        );
        assert_eq!(redact_url("sqlite://./data/x.db"), "sqlite://./data/x.db");
        assert_eq!(
            redact_url("postgres://bob:s3cret@db.local/tt?sslmode=require&password=s3cret2"),
            "postgres://bob:***@db.local/tt?sslmode=require&password=***"
        );
    }

    #[test]
    fn every_url_in_a_text_loses_its_user_part() {
        let text = "store: postgres://bob:***@db.local/tt\n\
                    api_url: \"https://tg:secret@tg.example.com\",\n\
                    base_url: \"https://ann@llm.example.com/v1?x=\\\"@\\\"\",\n\
                    public_url: Some(\"https://tt.example.com\"),\n\
                    from: Some(\"Tabletalk <tt@example.com>\")";
        let shown = hide_url_users(text);
        for hidden in ["bob", "secret", "tg:", "ann@"] {
            assert!(!shown.contains(hidden), "{hidden} in {shown}");
        }
        assert!(
            shown.contains("store: postgres://***@db.local/tt\n"),
            "{shown}"
        );
        assert!(shown.contains("\"https://***@tg.example.com\""), "{shown}");
        assert!(shown.contains("\"https://tt.example.com\""), "{shown}");
        assert!(shown.contains("<tt@example.com>"), "{shown}");
        assert_eq!(hide_url_users("no address here"), "no address here");
    }
}
