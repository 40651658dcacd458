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
    // cargo-leptos sets LEPTOS_HASH_FILES only for what it runs itself; a
    // server started directly (`make run`, a deployment) uses hashed names
    // when the build wrote their hashes next to the binary, where Leptos
    // reads them, and the site root holds the files they name.
    if std::env::var_os("LEPTOS_HASH_FILES").is_none() {
        options.hash_files = std::env::current_exe()
            .ok()
            .and_then(|exe| exe.parent().map(|dir| dir.join(options.hash_file.as_ref())))
            .and_then(|file| std::fs::read_to_string(file).ok())
            .is_some_and(|hashes| hashed_files_exist(&options, &hashes));
    }
    Ok(options)
}

/// Whether the JS file named by cargo-leptos' hash file (`js: <hash>` lines)
/// is in the site root (a hash file left by another build names files this
/// site does not have).
fn hashed_files_exist(options: &LeptosOptions, hashes: &str) -> bool {
    hashes
        .lines()
        .filter_map(|line| line.trim().split_once(':'))
        .find(|(kind, _)| *kind == "js")
        .is_some_and(|(_, hash)| {
            std::path::Path::new(options.site_root.as_ref())
                .join(options.site_pkg_dir.as_ref())
                .join(format!("{}.{}.js", options.output_name, hash.trim()))
                .is_file()
        })
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
