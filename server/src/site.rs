//! Leptos' options, from the environment variables cargo-leptos sets (or defaults).

use anyhow::Context;
use leptos::prelude::LeptosOptions;
use std::net::SocketAddr;

/// The name cargo-leptos gives the WASM, JS and CSS bundles (`output-name`).
pub const OUTPUT_NAME: &str = "tabletalk";

/// Reads `LEPTOS_SITE_ADDR`, `LEPTOS_SITE_ROOT` and friends.
pub fn options() -> anyhow::Result<LeptosOptions> {
    let mut options = leptos::prelude::get_configuration(None)
        .context(
            "LEPTOS_SITE_ADDR (or another LEPTOS_* variable) is not valid; \
                  LEPTOS_SITE_ADDR takes host:port, for example 127.0.0.1:3000",
        )?
        .leptos_options;
    if options.output_name.is_empty() {
        options.output_name = OUTPUT_NAME.into();
    }
    Ok(options)
}

/// The address to print for people: a wildcard bind is reached via localhost.
pub fn browser_url(addr: SocketAddr) -> String {
    if addr.ip().is_unspecified() {
        format!("http://localhost:{}", addr.port())
    } else {
        format!("http://{addr}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcard_addresses_print_as_localhost() {
        let any: SocketAddr = "0.0.0.0:8080".parse().expect("valid");
        assert_eq!(browser_url(any), "http://localhost:8080");
        let local: SocketAddr = "127.0.0.1:3000".parse().expect("valid");
        assert_eq!(browser_url(local), "http://127.0.0.1:3000");
    }
}
