//! Connection strings for users' databases, parsed into one typed spec.
//!
//! Accepted: URLs (`postgres://`, `postgresql://`, `mysql://`, `mariadb://`,
//! `sqlite:///path`, `mssql://`, `sqlserver://`), the SQLAlchemy forms people
//! bring from the original system (`mssql+pyodbc://user:pass@host/db?driver=...`,
//! `postgresql+psycopg2://...`), and ADO.NET strings for SQL Server
//! (`Server=host,1433;Database=..;User Id=..;Password=..;Encrypt=..`).
//! Parsing is pure. Error messages say what is wrong and never echo the password.

use models::targets::{ConnectionSummary, TargetKind, MAX_CONNECTION_STRING_LEN};
use secrecy::{ExposeSecret, SecretString};
use std::collections::BTreeMap;
use std::fmt;

/// A parsed connection string.
pub struct ConnectionSpec {
    pub kind: TargetKind,
    /// `None` for SQLite.
    pub host: Option<String>,
    pub port: Option<u16>,
    /// The database name, or the file path for SQLite.
    pub database: String,
    pub user: Option<String>,
    pub password: Option<SecretString>,
    /// Other settings, keys lower-case (e.g. `encrypt`, `trustservercertificate`, `sslmode`).
    pub options: BTreeMap<String, String>,
}

impl fmt::Debug for ConnectionSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ConnectionSpec({})", self.redacted())
    }
}

impl ConnectionSpec {
    pub fn redacted(&self) -> ConnectionSummary {
        ConnectionSummary {
            kind: self.kind,
            host: self.host.clone(),
            port: self.port,
            database: self.database.clone(),
            user: self.user.clone(),
        }
    }

    /// The port to connect to: the given one or the engine's default.
    pub fn port_or_default(&self) -> Option<u16> {
        self.port.or(self.kind.default_port())
    }

    pub fn password(&self) -> Option<&str> {
        self.password.as_ref().map(|p| p.expose_secret())
    }
}

/// Parses any accepted form.
pub fn parse(text: &str) -> Result<ConnectionSpec, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("the connection string is empty".into());
    }
    if text.len() > MAX_CONNECTION_STRING_LEN {
        return Err(format!(
            "the connection string is longer than {MAX_CONNECTION_STRING_LEN} characters"
        ));
    }
    if text.contains("://") || text.starts_with("sqlite:") {
        parse_url(text)
    } else if text.contains('=') {
        parse_ado(text)
    } else {
        Err(
            "this is not a connection string: use a URL such as postgres://user:password@host/db, \
             or for SQL Server Server=host;Database=db;User Id=user;Password=..."
                .into(),
        )
    }
}

fn parse_url(text: &str) -> Result<ConnectionSpec, String> {
    let (scheme, rest) = text
        .split_once("://")
        .or_else(|| text.split_once(':'))
        .ok_or("the URL has no scheme")?;
    let base = scheme
        .split('+')
        .next()
        .unwrap_or(scheme)
        .to_ascii_lowercase();
    let kind = TargetKind::ALL
        .into_iter()
        .find(|kind| kind.url_schemes().contains(&base.as_str()))
        .ok_or_else(|| {
            let known: Vec<&str> = TargetKind::ALL
                .iter()
                .flat_map(|kind| kind.url_schemes())
                .copied()
                .collect();
            format!(
                "{base:?} is not a database Tabletalk can connect to ({})",
                known.join(", ")
            )
        })?;
    let (rest, query) = rest.split_once('?').unwrap_or((rest, ""));
    let mut options = BTreeMap::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        set_option(&mut options, &decode(k)?, decode(v)?)?;
    }
    if kind.is_file() {
        let path = decode(rest)?;
        if path.is_empty() || path == ":memory:" {
            return Err(
                "a SQLite connection needs a file path, e.g. sqlite:///data/sales.db".into(),
            );
        }
        return Ok(ConnectionSpec {
            kind,
            host: None,
            port: None,
            database: path,
            user: None,
            password: None,
            options,
        });
    }
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let (userinfo, hostport) = match authority.rsplit_once('@') {
        Some((u, h)) => (Some(u), h),
        None => (None, authority),
    };
    let (user, password) = match userinfo {
        Some(info) => {
            let (u, p) = info
                .split_once(':')
                .map_or((info, None), |(u, p)| (u, Some(p)));
            let user =
                decode(u).map_err(|_| "the user name is not valid percent-encoding".to_owned())?;
            let password = p
                .map(|p| {
                    decode(p).map_err(|_| "the password is not valid percent-encoding".to_owned())
                })
                .transpose()?;
            (
                Some(user).filter(|u| !u.is_empty()),
                password.map(SecretString::from),
            )
        }
        None => (None, None),
    };
    let (host, port) = split_host_port(hostport, ':')?;
    let database = decode(path.trim_end_matches('/'))?;
    if database.is_empty() {
        return Err("the URL names no database (add /<database> after the host)".into());
    }
    Ok(ConnectionSpec {
        kind,
        host: Some(host),
        port,
        database,
        user,
        password,
        options,
    })
}

/// An option's key as every driver reads it: lower case, without `-`, `_`
/// or spaces (`ssl-mode`, `ssl_mode` and `sslmode` are one setting).
pub fn canonical_key(key: &str) -> String {
    key.chars()
        .filter(|c| !matches!(c, '-' | '_' | ' '))
        .flat_map(char::to_lowercase)
        .collect()
}

/// Options that make the driver read a file of Tabletalk's server (or reach
/// a local socket): certificates, keys, revocation lists, password and
/// service files, sockets, attached database files.
fn names_a_server_file(key: &str) -> bool {
    const FILE_KEYS: &[&str] = &[
        "sslrootcert",
        "sslcert",
        "sslkey",
        "sslcrl",
        "sslcrldir",
        "sslca",
        "sslcapath",
        "sslcrlpath",
        "passfile",
        "service",
        "socket",
        "host",
        "hostaddr",
        "servercertificate",
        "attachdbfilename",
        "trustservercertificateca",
    ];
    FILE_KEYS.contains(&key) || key.contains("file") || key.contains("path") || key.ends_with("dir")
}

/// A certificate pasted whole (PEM) rather than named by its path.
pub fn is_inline_pem(value: &str) -> bool {
    value.trim_start().starts_with("-----BEGIN ")
}

/// Adds one option: a setting given twice (in any spelling) is refused, as is
/// one naming a file of the server, so what is checked is what the driver reads.
fn set_option(
    options: &mut BTreeMap<String, String>,
    key: &str,
    value: String,
) -> Result<(), String> {
    let canonical = canonical_key(key);
    let shown: String = key.chars().take(40).collect();
    if names_a_server_file(&canonical) && !(canonical == "sslrootcert" && is_inline_pem(&value)) {
        return Err(format!(
            "the setting {shown:?} names a file or socket of Tabletalk's server, which a connection \
             string may not do; for sslrootcert paste the certificate itself (PEM, percent-encoded)"
        ));
    }
    if options.insert(canonical, value).is_some() {
        return Err(format!(
            "the setting {shown:?} is given more than once (in some spelling); give it once"
        ));
    }
    Ok(())
}

fn parse_ado(text: &str) -> Result<ConnectionSpec, String> {
    let mut host = None;
    let mut port = None;
    let mut database = None;
    let mut user = None;
    let mut password = None;
    let mut options = BTreeMap::new();
    let mut seen = std::collections::HashSet::new();
    let mut after_password = false;
    for piece in ado_pieces(text)? {
        let (part, quoted) = match &piece {
            AdoPiece::Plain(part) => (part.as_str(), None),
            AdoPiece::Quoted { key, value } => (key.as_str(), Some(value.clone())),
        };
        let Some((key, value)) = (match quoted {
            Some(value) => Some((part, value)),
            None => part.split_once('=').map(|(k, v)| (k, v.trim().to_owned())),
        }) else {
            // A password may hold ';': a piece without '=' right after it continues it.
            if let (true, Some(pw)) = (after_password, password.as_ref()) {
                let joined = format!("{};{part}", ExposeSecret::expose_secret(pw));
                password = Some(SecretString::from(joined));
                continue;
            }
            return Err(format!(
                "{:?} is not a Key=Value setting",
                redact_setting(part)
            ));
        };
        after_password = false;
        let key = key.trim().to_ascii_lowercase();
        // Synonyms name one setting: given twice, the driver and this check could differ.
        let setting = match key.as_str() {
            "server" | "data source" | "address" | "addr" | "network address" => "server",
            "database" | "initial catalog" => "database",
            "user id" | "uid" | "user" | "username" => "user",
            "password" | "pwd" => "password",
            other => other,
        };
        if !seen.insert(setting.to_owned()) {
            return Err(format!(
                "the setting {setting:?} is given more than once (in some spelling); give it once"
            ));
        }
        match key.as_str() {
            "server" | "data source" | "address" | "addr" | "network address" => {
                let v = value.strip_prefix("tcp:").unwrap_or(&value);
                let (h, p) = split_host_port(v, ',')?;
                host = Some(h);
                port = p;
            }
            "port" => {
                port = Some(
                    value
                        .parse()
                        .map_err(|_| format!("the port {value:?} is not a number"))?,
                )
            }
            "database" | "initial catalog" => database = Some(value),
            "user id" | "uid" | "user" | "username" => user = Some(value),
            "password" | "pwd" => {
                password = Some(SecretString::from(value));
                after_password = true;
            }
            _ => set_option(&mut options, &key, value)?,
        }
    }
    let host = host.ok_or("the connection string has no Server=")?;
    let database =
        database.ok_or("the connection string has no Database= (or Initial Catalog=)")?;
    Ok(ConnectionSpec {
        kind: TargetKind::Mssql,
        host: Some(host),
        port,
        database,
        user,
        password,
        options,
    })
}

/// One `;`-separated piece of an ADO.NET/ODBC string: as written, or a
/// `Key=` whose value was quoted (`"..."`, `'...'` with the quote doubled
/// inside, or ODBC's `{...}` with `}}` for `}`), which may hold `;` and `=`.
enum AdoPiece {
    Plain(String),
    Quoted { key: String, value: String },
}

fn ado_pieces(text: &str) -> Result<Vec<AdoPiece>, String> {
    let mut pieces = Vec::new();
    let mut rest = text;
    loop {
        rest = rest.trim_start_matches(|c: char| c == ';' || c.is_whitespace());
        if rest.is_empty() {
            return Ok(pieces);
        }
        let end = rest.find(';').unwrap_or(rest.len());
        let quoted = rest[..end].find('=').and_then(|equals| {
            let after = &rest[equals + 1..];
            let value_at = equals + 1 + (after.len() - after.trim_start().len());
            let closing = match rest[value_at..].chars().next()? {
                '"' => '"',
                '\'' => '\'',
                '{' => '}',
                _ => return None,
            };
            Some((rest[..equals].trim().to_owned(), value_at + 1, closing))
        });
        let Some((key, start, closing)) = quoted else {
            pieces.push(AdoPiece::Plain(rest[..end].trim().to_owned()));
            rest = &rest[end..];
            continue;
        };
        let mut value = String::new();
        let mut chars = rest[start..].char_indices();
        let mut after = None;
        while let Some((at, c)) = chars.next() {
            if c != closing {
                value.push(c);
                continue;
            }
            // A doubled closing character stands for itself.
            if rest[start + at + c.len_utf8()..].starts_with(closing) {
                value.push(c);
                chars.next();
                continue;
            }
            after = Some(start + at + c.len_utf8());
            break;
        }
        let after = after.ok_or_else(|| {
            format!(
                "the value of {:?} has no closing {closing}",
                redact_setting(&key)
            )
        })?;
        let tail = rest[after..].trim_start();
        if !(tail.is_empty() || tail.starts_with(';')) {
            return Err(format!(
                "{:?} has text after its quoted value",
                redact_setting(&key)
            ));
        }
        pieces.push(AdoPiece::Quoted { key, value });
        rest = tail;
    }
}

/// A setting shown in an error, with any password value hidden.
fn redact_setting(part: &str) -> String {
    let lower = part.to_ascii_lowercase();
    if lower.contains("pwd") || lower.contains("password") {
        "Password=***".into()
    } else {
        part.chars().take(40).collect()
    }
}

/// `host`, `host:port` (`host,port` for ADO.NET), or `[v6]:port`.
fn split_host_port(text: &str, sep: char) -> Result<(String, Option<u16>), String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("the connection string names no host".into());
    }
    let (host, port) = if let Some(rest) = text.strip_prefix('[') {
        let (h, after) = rest
            .split_once(']')
            .ok_or("an IPv6 host is missing its closing ]")?;
        (h, after.strip_prefix(sep))
    } else {
        match text.rsplit_once(sep) {
            Some((h, p)) => (h, Some(p)),
            None => (text, None),
        }
    };
    let port = port
        .map(|p| {
            p.parse::<u16>()
                .ok()
                .filter(|p| *p > 0)
                .ok_or_else(|| format!("the port {p:?} is not a number from 1 to 65535"))
        })
        .transpose()?;
    if host.is_empty() {
        return Err("the connection string names no host".into());
    }
    Ok((host.to_owned(), port))
}

fn decode(s: &str) -> Result<String, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3).ok_or("a %-escape is cut short")?;
            let hex = std::str::from_utf8(hex).map_err(|_| "a %-escape is not valid")?;
            out.push(u8::from_str_radix(hex, 16).map_err(|_| "a %-escape is not valid")?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| "the text is not valid UTF-8 after %-decoding".into())
}

#[cfg(test)]
mod tests;
