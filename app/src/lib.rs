//! Tabletalk's dashboard: Leptos components and pages, and the server functions
//! they call (whose bodies call `services` under the `ssr` feature).

// Leptos views are deeply nested types; tables of rows with actions exceed the default.
#![recursion_limit = "512"]

pub mod api;
#[cfg(feature = "ssr")]
pub mod charts;
pub mod components;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod security;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, HashedStylesheet, MetaTags, Title};
use leptos_router::components::{ParentRoute, Route, Router, Routes};
use leptos_router::{SsrMode, StaticSegment};

/// The HTML document around the app, rendered on the server. The stylesheet
/// and the hydration scripts use cargo-leptos' hashed file names when the
/// build hashed them (`hash-files`), so they can be cached for good.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    security::send_page_policy();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <AutoReload options=options.clone() />
                <HashedStylesheet id="leptos" options=options.clone() />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// The routes of the dashboard.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Title formatter=|page: String| format!("{page} · Tabletalk") />
        <Router>
            <main class="page">
                <Routes fallback=pages::not_found::NotFound>
                    <Route path=StaticSegment("login") view=pages::login::LoginPage />
                    <ParentRoute path=StaticSegment("") view=components::layout::Layout ssr=SsrMode::Async>
                        <Route path=StaticSegment("") view=pages::overview::OverviewPage />
                        <Route path=StaticSegment("ask") view=pages::ask::AskPage />
                        <Route path=StaticSegment("members") view=pages::members::MembersPage />
                        <Route path=StaticSegment("databases") view=pages::databases::DatabasesPage />
                        <Route path=StaticSegment("invitations") view=pages::invitations::InvitationsPage />
                        <Route path=StaticSegment("costs") view=pages::costs::CostsPage />
                        <Route path=StaticSegment("conversations") view=pages::conversations::ConversationsPage />
                        <Route path=StaticSegment("audit") view=pages::audit::AuditPage />
                        <Route path=StaticSegment("settings") view=pages::settings::SettingsPage />
                    </ParentRoute>
                </Routes>
            </main>
        </Router>
    }
}
