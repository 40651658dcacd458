//! Which address a request comes from when reverse proxies sit in front
//! (`TABLETALK_TRUSTED_PROXIES`).
//!
//! Only when the TCP peer is a trusted proxy is `X-Forwarded-For` read, and
//! then from the right: each trusted proxy appends the address it saw, so the
//! rightmost hop that is not a trusted proxy is the client. Hops to its left
//! were written by the client and are never believed. Without the setting
//! the client is the TCP peer, whatever the headers say.

use ipnet::IpNet;
use std::net::{IpAddr, SocketAddr};

/// The networks of the reverse proxies whose `X-Forwarded-For` is believed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Comma-separated CIDR ranges or single addresses, e.g.
    /// `10.0.0.0/8, 127.0.0.1, ::1`. The error names the item that is neither.
    pub fn parse(list: &str) -> Result<TrustedProxies, String> {
        list.split(',')
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .map(|item| {
                item.parse::<IpNet>()
                    .map(|net| net.trunc())
                    .or_else(|_| item.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| {
                        format!(
                            "{item:?} is not an IP address or a CIDR range \
                             (for example 10.0.0.0/8, 127.0.0.1 or ::1)"
                        )
                    })
            })
            .collect::<Result<_, _>>()
            .map(TrustedProxies)
    }

    /// No proxy is trusted (the default).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `ip` is one of the trusted proxies.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The client's address: the TCP `peer`, unless it is a trusted proxy;
    /// then the rightmost `X-Forwarded-For` hop (over every such header, in
    /// order) that is not a trusted proxy. If every hop is trusted, the
    /// leftmost; if a hop is not an address, the last trusted one before it
    /// (never anything to its left).
    pub fn client_ip<'a>(
        &self,
        peer: IpAddr,
        forwarded_for: impl IntoIterator<Item = &'a str>,
    ) -> IpAddr {
        let peer = peer.to_canonical();
        if !self.contains(peer) {
            return peer;
        }
        let hops: Vec<&str> = forwarded_for
            .into_iter()
            .flat_map(|header| header.split(','))
            .map(str::trim)
            .collect();
        let mut client = peer;
        for hop in hops.iter().rev() {
            let Some(ip) = parse_hop(hop) else {
                return client;
            };
            client = ip;
            if !self.contains(ip) {
                return ip;
            }
        }
        client
    }
}

/// An address as proxies write it: `203.0.113.7`, `2001:db8::1`,
/// `203.0.113.7:5123` or `[2001:db8::1]:5123`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    hop.parse::<IpAddr>()
        .ok()
        .or_else(|| hop.parse::<SocketAddr>().ok().map(|s| s.ip()))
        .map(|ip| ip.to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("an address")
    }

    fn proxies(list: &str) -> TrustedProxies {
        TrustedProxies::parse(list).expect("valid")
    }

    #[test]
    fn settings_parse_and_name_what_is_wrong() {
        let p = proxies(" 10.0.0.0/8, 127.0.0.1 ,::1,192.168.1.7/24");
        assert!(p.contains(ip("10.1.2.3")));
        assert!(p.contains(ip("127.0.0.1")));
        assert!(!p.contains(ip("127.0.0.2")));
        assert!(p.contains(ip("::1")));
        assert!(p.contains(ip("192.168.1.200")), "host bits are ignored");
        assert!(p.contains(ip("::ffff:10.0.0.1")), "IPv4-mapped IPv6");
        assert!(proxies("").is_empty());
        let err = TrustedProxies::parse("10.0.0.0/8, proxy.local").unwrap_err();
        assert!(err.contains("\"proxy.local\""), "{err}");
        assert!(TrustedProxies::parse("10.0.0.0/33").is_err());
    }

    #[test]
    fn without_trusted_proxies_the_peer_is_the_client() {
        let none = TrustedProxies::default();
        assert_eq!(
            none.client_ip(ip("198.51.100.9"), ["203.0.113.7"]),
            ip("198.51.100.9")
        );
        // A peer that is not trusted cannot choose its address either.
        let p = proxies("10.0.0.0/8");
        assert_eq!(
            p.client_ip(ip("198.51.100.9"), ["203.0.113.7"]),
            ip("198.51.100.9")
        );
    }

    #[test]
    fn the_rightmost_untrusted_hop_is_the_client() {
        let p = proxies("10.0.0.0/8");
        let peer = ip("10.0.0.2");
        // One proxy: it appended the client's address.
        assert_eq!(p.client_ip(peer, ["203.0.113.7"]), ip("203.0.113.7"));
        // The client sent a forged header; the proxy appended the truth.
        assert_eq!(
            p.client_ip(peer, ["1.2.3.4, 203.0.113.7"]),
            ip("203.0.113.7")
        );
        // Two proxies, over two headers.
        assert_eq!(
            p.client_ip(peer, ["6.6.6.6, 203.0.113.7", "10.0.0.5"]),
            ip("203.0.113.7")
        );
        // Ports and brackets as some proxies write them.
        assert_eq!(p.client_ip(peer, ["[2001:db8::1]:4711"]), ip("2001:db8::1"));
        assert_eq!(p.client_ip(peer, ["203.0.113.7:5123"]), ip("203.0.113.7"));
    }

    #[test]
    fn odd_headers_never_let_the_client_choose() {
        let p = proxies("10.0.0.0/8");
        let peer = ip("10.0.0.2");
        // No header: the proxy itself.
        assert_eq!(p.client_ip(peer, []), peer);
        // Every hop trusted: the leftmost.
        assert_eq!(p.client_ip(peer, ["10.0.0.9, 10.0.0.8"]), ip("10.0.0.9"));
        // Garbage stops the walk at the last trusted hop; the part left of
        // it (written by the client) is not read.
        assert_eq!(p.client_ip(peer, ["203.0.113.7, unknown"]), peer);
        assert_eq!(
            p.client_ip(peer, ["1.2.3.4, garbage, 10.0.0.7"]),
            ip("10.0.0.7")
        );
        assert_eq!(p.client_ip(peer, [""]), peer);
    }
}
