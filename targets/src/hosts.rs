//! Which hosts users' databases may be on (`TABLETALK_TARGET_HOSTS`).
//!
//! A connection string names any host, and Tabletalk connects from inside the
//! operator's network: without a policy, "add a database" reaches whatever
//! that network reaches. By default every host is allowed except Tabletalk's
//! own store (the host and port of `DATABASE_URL`) and link-local and cloud
//! metadata addresses (169.254.0.0/16, fe80::/10, fd00:ec2::254); an operator
//! of a hosted deployment lists what is allowed instead (CIDRs and host names).
//!
//! The unspecified address (0.0.0.0, ::, in any spelling) is never a host,
//! and when the store is on this machine every address of this machine on the
//! store's port is the store. The name is resolved once and every address it
//! resolves to is checked;
//! the connection then goes to the checked address, so a name that resolves
//! differently a moment later (DNS rebinding) changes nothing. Hosts outside
//! the policy are refused before any connection is attempted.

use super::{TargetError, TargetErrorKind};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// One allowed entry: a network or a host name.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Allowed {
    Net { base: IpAddr, prefix: u8 },
    Name(String),
}

/// The policy for outgoing connections to users' databases.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostPolicy {
    /// `None`: every host but the denied ones.
    allow: Option<Vec<Allowed>>,
    /// Tabletalk's own store, never a target: (host, port).
    store: Option<(String, u16)>,
}

/// The value of the variable this policy is read from.
pub const VARIABLE: &str = "TABLETALK_TARGET_HOSTS";

impl HostPolicy {
    /// Parses `TABLETALK_TARGET_HOSTS`: unset, empty or `*` for the default,
    /// else a comma-separated list of CIDRs (`10.1.0.0/16`), addresses and
    /// host names (`db.example.com`, or `*.example.com` for a domain).
    pub fn parse(text: Option<&str>) -> Result<HostPolicy, String> {
        let text = text.map(str::trim).unwrap_or_default();
        if text.is_empty() || text == "*" {
            return Ok(HostPolicy::default());
        }
        let allow = text
            .split(',')
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
            .map(parse_entry)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(HostPolicy {
            allow: Some(allow),
            store: None,
        })
    }

    /// This policy, also refusing Tabletalk's own store at `host:port`.
    pub fn with_store(mut self, store: Option<(String, u16)>) -> HostPolicy {
        self.store = store.map(|(host, port)| (host.to_ascii_lowercase(), port));
        self
    }

    /// Resolves `host` and checks every address: the addresses to connect to,
    /// or why not (before any connection is attempted).
    pub async fn check(&self, host: &str, port: u16) -> Result<Vec<SocketAddr>, TargetError> {
        let name = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_ascii_lowercase();
        let named = self.allow.as_ref().is_some_and(|allow| {
            allow.iter().any(|entry| match entry {
                Allowed::Name(allowed) => match allowed.strip_prefix("*.") {
                    Some(domain) => name.ends_with(&format!(".{domain}")),
                    None => *allowed == name,
                },
                Allowed::Net { .. } => false,
            })
        });
        if self.allow.is_some() && !named && name.parse::<IpAddr>().is_err() && !self.has_nets() {
            return Err(refused(host, "it is not in the list of allowed hosts"));
        }
        let addrs: Vec<SocketAddr> = match name.parse::<IpAddr>() {
            Ok(ip) => vec![SocketAddr::new(ip, port)],
            Err(_) => tokio::net::lookup_host((name.as_str(), port))
                .await
                .map_err(|e| crate::unreachable(&format!("{host}:{port}"), &e))?
                .collect(),
        };
        if addrs.is_empty() {
            return Err(crate::unreachable(
                &format!("{host}:{port}"),
                &"the name has no address",
            ));
        }
        let store = self.store_addresses().await;
        for addr in &addrs {
            let ip = canonical(addr.ip());
            if ip.is_unspecified() {
                return Err(refused(host, "it is not a host's address (0.0.0.0 or ::)"));
            }
            if is_link_local_or_metadata(ip) {
                return Err(refused(
                    host,
                    "it is a link-local or cloud metadata address",
                ));
            }
            // A store on this machine is reached through any of its addresses.
            let is_store = store.iter().any(|s| {
                let store_ip = canonical(s.ip());
                s.port() == port
                    && (store_ip == ip || (is_this_machine(store_ip) && is_this_machine(ip)))
            });
            if is_store {
                return Err(refused(host, "it is Tabletalk's own store"));
            }
            if let Some(allow) = &self.allow {
                let in_net = allow.iter().any(|entry| match entry {
                    Allowed::Net { base, prefix } => contains(*base, *prefix, ip),
                    Allowed::Name(_) => false,
                });
                if !named && !in_net {
                    return Err(refused(host, "it is not in the list of allowed hosts"));
                }
            }
        }
        Ok(addrs)
    }

    fn has_nets(&self) -> bool {
        self.allow.as_ref().is_some_and(|allow| {
            allow
                .iter()
                .any(|entry| matches!(entry, Allowed::Net { .. }))
        })
    }

    async fn store_addresses(&self) -> Vec<SocketAddr> {
        let Some((host, port)) = &self.store else {
            return Vec::new();
        };
        match host.parse::<IpAddr>() {
            Ok(ip) => vec![SocketAddr::new(ip, *port)],
            Err(_) => tokio::net::lookup_host((host.as_str(), *port))
                .await
                .map(Iterator::collect)
                .unwrap_or_default(),
        }
    }
}

/// Whether `ip` is one of this machine's own addresses: loopback, the
/// unspecified address, or one an interface holds (only those can be bound).
fn is_this_machine(ip: IpAddr) -> bool {
    ip.is_loopback()
        || ip.is_unspecified()
        || std::net::UdpSocket::bind(SocketAddr::new(ip, 0)).is_ok()
}

fn refused(host: &str, why: &str) -> TargetError {
    TargetError::new(
        TargetErrorKind::Invalid,
        format!(
            "Tabletalk may not connect to {host}: {why}. The operator decides which hosts users' \
             databases may be on ({VARIABLE})."
        ),
    )
}

fn parse_entry(entry: &str) -> Result<Allowed, String> {
    if let Some((base, prefix)) = entry.split_once('/') {
        let base: IpAddr = base
            .parse()
            .map_err(|_| format!("{entry:?} is not a network like 10.0.0.0/8"))?;
        let max = if base.is_ipv4() { 32 } else { 128 };
        let prefix = prefix
            .parse::<u8>()
            .ok()
            .filter(|p| *p <= max)
            .ok_or_else(|| format!("{entry:?}: the prefix length must be 0 to {max}"))?;
        return Ok(Allowed::Net {
            base: canonical(base),
            prefix,
        });
    }
    if let Ok(ip) = entry
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
    {
        let prefix = if ip.is_ipv4() { 32 } else { 128 };
        return Ok(Allowed::Net {
            base: canonical(ip),
            prefix,
        });
    }
    let name = entry.to_ascii_lowercase();
    let bare = name.strip_prefix("*.").unwrap_or(&name);
    let valid = !bare.is_empty()
        && bare.split('.').all(|label| {
            !label.is_empty() && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    if valid {
        Ok(Allowed::Name(name))
    } else {
        Err(format!(
            "{entry:?} is not a network (10.0.0.0/8), an address or a host name (db.example.com, *.example.com)"
        ))
    }
}

/// IPv4-mapped IPv6 addresses as the IPv4 address they are.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

fn is_link_local_or_metadata(ip: IpAddr) -> bool {
    const AWS_V6_METADATA: Ipv6Addr = Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254);
    match ip {
        IpAddr::V4(v4) => v4.is_link_local() || v4 == Ipv4Addr::new(100, 100, 100, 200),
        IpAddr::V6(v6) => (v6.segments()[0] & 0xffc0) == 0xfe80 || v6 == AWS_V6_METADATA,
    }
}

fn contains(base: IpAddr, prefix: u8, ip: IpAddr) -> bool {
    match (base, ip) {
        (IpAddr::V4(b), IpAddr::V4(i)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            u32::from(b) & mask == u32::from(i) & mask
        }
        (IpAddr::V6(b), IpAddr::V6(i)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            u128::from(b) & mask == u128::from(i) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(text: &str) -> HostPolicy {
        HostPolicy::parse(Some(text)).expect("valid")
    }

    #[tokio::test]
    async fn the_default_refuses_the_store_and_metadata_only() {
        let default = HostPolicy::default().with_store(Some(("localhost".into(), 5432)));
        assert!(default.check("203.0.113.7", 5432).await.is_ok());
        assert!(
            default.check("127.0.0.1", 3306).await.is_ok(),
            "another port"
        );
        for (host, port) in [
            ("127.0.0.1", 5432),
            ("localhost", 5432),
            ("[::1]", 5432),
            ("::ffff:127.0.0.1", 5432),
            ("169.254.169.254", 80),
            ("fe80::1", 5432),
            ("fd00:ec2::254", 80),
        ] {
            let err = default.check(host, port).await.expect_err(host);
            assert_eq!(err.kind, TargetErrorKind::Invalid, "{host}");
            assert!(err.message.contains(VARIABLE), "{host}: {err}");
        }
    }

    /// Issue 29, finding 6: the unspecified address in any spelling reaches
    /// this machine, and so does any address of its interfaces: with a store on
    /// this machine, each is the store. (Fails on the old code: 0.0.0.0, [::],
    /// "0", 0x0 and the machine's own address were allowed.)
    #[tokio::test]
    async fn no_spelling_of_this_machine_reaches_the_store() {
        let default = HostPolicy::default().with_store(Some(("127.0.0.1".into(), 5432)));
        let mut spellings = vec![
            "0.0.0.0".to_owned(),
            "[::]".to_owned(),
            "::".to_owned(),
            "::ffff:0.0.0.0".to_owned(),
            "0".to_owned(),
            "0x0".to_owned(),
            "000.000.000.000".to_owned(),
            "2130706433".to_owned(),
            "0x7f000001".to_owned(),
            "0177.0.0.1".to_owned(),
            "127.1".to_owned(),
        ];
        if let Some(own) = own_address() {
            spellings.push(own.to_string());
        }
        for host in &spellings {
            let refused = default.check(host, 5432).await;
            assert!(refused.is_err(), "{host}: {refused:?}");
        }
        // The unspecified address is refused on any port (it is never a real host).
        for host in ["0.0.0.0", "[::]", "0"] {
            assert!(default.check(host, 3306).await.is_err(), "{host}");
        }
        // Another port of this machine is not the store.
        assert!(default.check("127.0.0.1", 3306).await.is_ok());
    }

    /// This machine's address on its default route, if it has one.
    fn own_address() -> Option<IpAddr> {
        let socket = std::net::UdpSocket::bind("0.0.0.0:0").ok()?;
        socket.connect("203.0.113.1:9").ok()?;
        let ip = socket.local_addr().ok()?.ip();
        (!ip.is_loopback() && !ip.is_unspecified()).then_some(ip)
    }

    #[tokio::test]
    async fn an_allow_list_allows_only_what_it_names() {
        let list = policy("10.1.0.0/16, db.example.com, *.corp.example, 2001:db8::/32");
        assert!(list.check("10.1.200.3", 5432).await.is_ok());
        assert!(list.check("2001:db8::5", 5432).await.is_ok());
        let err = list.check("10.2.0.1", 5432).await.expect_err("outside");
        assert!(err.message.contains("not in the list"), "{err}");
        let err = list
            .check("localhost", 5432)
            .await
            .expect_err("a name not listed");
        assert!(err.message.contains("not in the list"), "{err}");
        assert!(policy("localhost").check("localhost", 1).await.is_ok());
        // Listed by name, but resolving to metadata: still refused.
        assert!(policy("10.0.0.0/8")
            .check("169.254.169.254", 80)
            .await
            .is_err());
    }

    #[test]
    fn bad_entries_are_explained() {
        assert!(HostPolicy::parse(Some("10.0.0.0/33"))
            .unwrap_err()
            .contains("0 to 32"));
        assert!(HostPolicy::parse(Some("not a host!")).is_err());
        assert_eq!(HostPolicy::parse(Some(" * ")), Ok(HostPolicy::default()));
        assert_eq!(HostPolicy::parse(None), Ok(HostPolicy::default()));
    }
}
