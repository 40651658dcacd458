//! Server functions, one module per domain. Each has an explicit path under
//! `/dashboard` (seed §4): reads are GET, writes POST, JSON in and out.

pub mod account;
pub mod auth;
#[cfg(feature = "ssr")]
pub mod context;
pub mod costs;
pub mod databases;
pub mod org;

/// The endpoints that answer without a session. Every other one under
/// `/dashboard/` is refused with 401 before its body is read when the request
/// carries no session at all (the server's sign-in gate).
#[cfg(feature = "ssr")]
pub fn public_endpoints() -> [&'static str; 2] {
    use leptos::server_fn::ServerFn;
    [auth::Login::PATH, auth::Logout::PATH]
}
