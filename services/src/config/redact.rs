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
}
