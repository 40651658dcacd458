//! Who may read `/metrics` (issue 29): it shows spend by model and stage and
//! volumes, and costs two store queries a scrape, so it answers only a
//! scraper on this machine (a loopback peer, not forwarded by a proxy) or one
//! presenting `Authorization: Bearer <TABLETALK_METRICS_TOKEN>`.

use models::AppError;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use std::net::IpAddr;

/// What the scraper sent, as both binaries' `/metrics` handlers see it.
#[derive(Debug, Clone, Copy)]
pub struct Scraper<'a> {
    /// The TCP peer; `None` when the listener does not say.
    pub peer: Option<IpAddr>,
    /// Whether the request carries `X-Forwarded-For`, `Forwarded` or
    /// `X-Real-IP`: a proxy on this machine passing on someone else's request.
    pub forwarded: bool,
    /// The `Authorization` header, if any.
    pub authorization: Option<&'a str>,
}

impl<'a> Scraper<'a> {
    /// The scraper of a request from `peer` with `headers` (reqwest's
    /// re-export of `http`'s map: the type axum hands to handlers).
    pub fn of(peer: Option<IpAddr>, headers: &'a reqwest::header::HeaderMap) -> Scraper<'a> {
        Scraper {
            peer,
            forwarded: ["x-forwarded-for", "forwarded", "x-real-ip"]
                .iter()
                .any(|name| headers.contains_key(*name)),
            // A header that is not text is a token that cannot be right.
            authorization: headers
                .get(reqwest::header::AUTHORIZATION)
                .map(|value| value.to_str().unwrap_or("?")),
        }
    }
}

/// `Ok` to serve the page; 401 for a wrong or unexpected token, 403 for a
/// request from elsewhere without one. `token` is `TABLETALK_METRICS_TOKEN`.
pub fn may_scrape(scraper: Scraper<'_>, token: Option<&SecretString>) -> Result<(), AppError> {
    if let Some(given) = scraper.authorization {
        let given = given.strip_prefix("Bearer ").unwrap_or_default().trim();
        return match token {
            Some(token) if same(given, token.expose_secret()) => Ok(()),
            _ => Err(AppError::unauthorized(
                "The metrics token is not right: send Authorization: Bearer <TABLETALK_METRICS_TOKEN>.",
            )),
        };
    }
    let local = scraper
        .peer
        .is_some_and(|ip| ip.to_canonical().is_loopback());
    if local && !scraper.forwarded {
        return Ok(());
    }
    Err(AppError::forbidden(
        "/metrics answers only this machine, or a scraper sending Authorization: Bearer \
         <TABLETALK_METRICS_TOKEN>.",
    ))
}

/// Compares in constant time: the digests of both, byte by byte, without stopping early.
fn same(given: &str, expected: &str) -> bool {
    let (a, b) = (Sha256::digest(given), Sha256::digest(expected));
    a.iter()
        .zip(b.iter())
        .fold(0u8, |diff, (x, y)| diff | (x ^ y))
        == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scraper<'a>(peer: &str, forwarded: bool, authorization: Option<&'a str>) -> Scraper<'a> {
        Scraper {
            peer: Some(peer.parse().expect("ip")),
            forwarded,
            authorization,
        }
    }

    #[test]
    fn this_machine_may_scrape_without_a_token() {
        for peer in ["127.0.0.1", "127.0.0.9", "::1", "::ffff:127.0.0.1"] {
            assert_eq!(
                may_scrape(scraper(peer, false, None), None),
                Ok(()),
                "{peer}"
            );
        }
    }

    #[test]
    fn elsewhere_is_refused_unless_the_token_is_right() {
        let token = SecretString::from("metrics-token-0123456789");
        let refused = may_scrape(scraper("10.1.2.3", false, None), Some(&token));
        assert_eq!(refused.map_err(|e| e.status()), Err(403));
        // A local proxy passing on someone else's request is not this machine.
        let proxied = may_scrape(scraper("127.0.0.1", true, None), Some(&token));
        assert_eq!(proxied.map_err(|e| e.status()), Err(403));
        let right = Some("Bearer metrics-token-0123456789");
        assert_eq!(
            may_scrape(scraper("10.1.2.3", false, right), Some(&token)),
            Ok(())
        );
        for wrong in ["Bearer metrics-token", "Basic bWV0cmljcw==", "Bearer "] {
            let said = may_scrape(scraper("10.1.2.3", false, Some(wrong)), Some(&token));
            assert_eq!(said.map_err(|e| e.status()), Err(401), "{wrong}");
        }
        // No token configured: a bearer token is always wrong.
        let none = may_scrape(scraper("10.1.2.3", false, right), None);
        assert_eq!(none.map_err(|e| e.status()), Err(401));
        let no_peer = Scraper {
            peer: None,
            forwarded: false,
            authorization: None,
        };
        assert_eq!(may_scrape(no_peer, None).map_err(|e| e.status()), Err(403));
    }
}
