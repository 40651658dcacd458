//! Server functions, one module per domain. Each has an explicit path under
//! `/dashboard` (seed §4): reads are GET, writes POST, JSON in and out.

pub mod account;
pub mod ask;
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

/// The query fields each `GET` endpoint takes (its argument struct's, with
/// their renames), so the server refuses an unknown query parameter by name,
/// as [`models::codec::StrictJson`] does for JSON bodies: the server-function
/// macro allows no `deny_unknown_fields` on the struct it generates. A `GET`
/// endpoint missing here is caught by the server's tests.
#[cfg(feature = "ssr")]
pub fn query_fields() -> Vec<(&'static str, &'static [&'static str])> {
    use leptos::server_fn::ServerFn;
    fn of<T: ServerFn + serde::de::DeserializeOwned>() -> (&'static str, &'static [&'static str]) {
        (T::PATH, models::codec::field_names::<T>().unwrap_or(&[]))
    }
    vec![
        of::<account::Budget>(),
        of::<auth::Verify>(),
        of::<costs::CostsOverview>(),
        of::<costs::CostsByModel>(),
        of::<costs::CostsByStage>(),
        of::<costs::CostsInputOutput>(),
        of::<costs::CostsPerUser>(),
        of::<costs::CostsDaily>(),
        of::<costs::Conversations>(),
        of::<costs::CostsPage>(),
        of::<databases::Databases>(),
        of::<databases::DatabaseSchema>(),
        of::<org::Overview>(),
        of::<org::Members>(),
        of::<org::Invitations>(),
        of::<org::AuditLog>(),
        of::<org::BotUsername>(),
        (ask::STREAM_PATH, ask::STREAM_FIELDS),
    ]
}
