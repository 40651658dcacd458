//! The tiberius configuration for a parsed connection string: address,
//! login, TLS policy, and TLS failures worded for the person.

use super::*;

fn truthy(value: &str) -> Option<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "1" | "mandatory" | "strict" | "required" => Some(true),
        "false" | "no" | "0" | "optional" => Some(false),
        _ => None,
    }
}

/// The tiberius configuration for a parsed connection string.
pub(super) fn config(spec: &ConnectionSpec, limits: QueryLimits) -> Result<Config, TargetError> {
    let invalid = |m: String| TargetError::new(TargetErrorKind::Invalid, m);
    let host = spec.host.as_deref().unwrap_or("localhost");
    if host.contains('\\') && spec.port.is_none() {
        return Err(invalid(
            "Named instances (host\\INSTANCE) need the instance's port: write Server=host,port."
                .into(),
        ));
    }
    let host = host.split('\\').next().unwrap_or(host);
    let (Some(user), Some(password)) = (&spec.user, spec.password()) else {
        return Err(invalid(
            "SQL Server connections need User Id and Password (a SQL login; Windows authentication is not supported)."
                .into(),
        ));
    };
    let mut config = Config::new();
    config.host(host);
    config.port(spec.port_or_default().unwrap_or(1433));
    config.database(&spec.database);
    config.authentication(AuthMethod::sql_server(user, password));
    config.application_name("tabletalk");
    config.readonly(true);
    config.command_timeout(Some(limits.timeout));
    config.handshake_timeout(Some(engine::CONNECT_TIMEOUT));
    let (encrypt, validate) = tls_policy(spec)?;
    config.encryption(if encrypt {
        EncryptionLevel::Required
    } else {
        EncryptionLevel::Off
    });
    if !validate {
        config.trust_cert();
    }
    Ok(config)
}

/// (encrypt the whole session, validate the server's certificate), as
/// Microsoft's own clients read Encrypt and TrustServerCertificate: Encrypt
/// defaults to true (mandatory) and then validates the certificate unless
/// TrustServerCertificate=true; with Encrypt=false (or optional) only the
/// login is encrypted and the certificate is not validated.
pub(super) fn tls_policy(spec: &ConnectionSpec) -> Result<(bool, bool), TargetError> {
    let invalid = |m: String| TargetError::new(TargetErrorKind::Invalid, m);
    let encrypt = match spec.options.get("encrypt") {
        None => true,
        Some(v) => {
            truthy(v).ok_or_else(|| invalid(format!("Encrypt={v:?} is not true or false.")))?
        }
    };
    let trust = spec.options.get("trustservercertificate");
    let trust = match trust {
        None => false,
        Some(v) => truthy(v).ok_or_else(|| {
            invalid(format!(
                "TrustServerCertificate={v:?} is not true or false."
            ))
        })?,
    };
    Ok((encrypt, encrypt && !trust))
}

/// A TLS failure as the person can act on it: the client library's advice to
/// programmers ("Config::trust_cert_ca", "build tiberius with native-tls") left out.
pub(super) fn tls_message(place: &str, raw: &str) -> String {
    let cut = [
        " To connect anyway",
        " Enable one of",
        "; enable one of",
        " Note:",
    ]
    .iter()
    .filter_map(|marker| raw.find(marker))
    .min()
    .unwrap_or(raw.len());
    let reason = raw[..cut].trim().trim_end_matches('.');
    tracing::warn!(place, reason, "TLS with a user's SQL Server failed");
    let reason = crate::tls_words(reason);
    format!(
        "The TLS handshake with {place} failed: {reason}. If the server uses a self-signed \
         certificate, add TrustServerCertificate=true to the connection string."
    )
}
