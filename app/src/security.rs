//! The Content-Security-Policy of every response (issue 11, "HTTP surface").
//!
//! Pages get it with a fresh per-response nonce (leptos_axum generates one
//! for every render; `HydrationScripts` and Leptos' streamed resource scripts
//! carry it), so the one inline script, the hydration loader, runs and no
//! other inline script can. Everything else the server answers (JSON, files,
//! errors) gets the same policy without a nonce, set by the server's layers.

use leptos::prelude::*;

/// The policy; `nonce` allows the inline scripts rendered with it.
///
/// - scripts: only from this site (the WASM loader, `/echarts.min.js`) and the
///   nonced hydration script; `'wasm-unsafe-eval'` lets the browser compile
///   the dashboard's WASM (it allows no JavaScript `eval`).
/// - styles: the stylesheet from this site; `style-src-attr 'unsafe-inline'`
///   because ECharts' tooltips are HTML whose elements carry `style`
///   attributes (ECharts builds them that way and offers no class-based
///   tooltip). Style attributes cannot run script; `<style>` elements stay
///   refused.
/// - nothing may frame the dashboard (`frame-ancestors 'none'`, clickjacking),
///   no plugins, no `<base>` rewriting, forms post only here.
pub fn content_security_policy(nonce: Option<&str>) -> String {
    let nonce = nonce.map(|n| format!(" 'nonce-{n}'")).unwrap_or_default();
    format!(
        "default-src 'self'; script-src 'self'{nonce} 'wasm-unsafe-eval'; \
         style-src 'self'; style-src-attr 'unsafe-inline'; img-src 'self' data:; \
         connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; \
         form-action 'self'; frame-ancestors 'none'"
    )
}

/// Puts the policy with this render's nonce on the page's response (called
/// from the shell, so not-found pages get it too).
pub fn send_page_policy() {
    let Some(response) = use_context::<leptos_axum::ResponseOptions>() else {
        return;
    };
    let nonce = leptos::nonce::use_nonce();
    let policy = content_security_policy(nonce.as_ref().map(|n| n.as_inner().as_ref()));
    if let Ok(value) = axum::http::HeaderValue::from_str(&policy) {
        response.insert_header(axum::http::header::CONTENT_SECURITY_POLICY, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_need_this_site_or_the_nonce() {
        let page = content_security_policy(Some("abc"));
        assert!(page.contains("script-src 'self' 'nonce-abc' 'wasm-unsafe-eval';"));
        assert!(!page.contains("script-src 'self' 'unsafe-inline'"));
        assert!(page.contains("frame-ancestors 'none'"));
        let other = content_security_policy(None);
        assert!(other.contains("script-src 'self' 'wasm-unsafe-eval';"));
    }
}
