//! The whole page: what `main` mounts, and the header, pages and footer around whichever place
//! shows.

use leptos::prelude::*;

use crate::{
    api::{HttpApi, provide_api},
    components::{LanguagePicker, SessionHeader},
    embed::{self, bridge::EmbedBridge},
    language::LanguageProvider,
    pages::Pages,
    push::{self, Installable},
    routing::{Navigation, Place, provide_navigation},
    settings::Settings,
};

/// The whole app, talking to the real API configured in the page's `<meta>` tags.
#[component]
pub fn App() -> impl IntoView {
    // index.html's placeholder; the app paints in the same frame.
    if let Some(shell) = document().get_element_by_id("ciba-shell") {
        shell.remove();
    }
    embed::start();
    let api = HttpApi::new(Settings::from_document());
    if Place::here() != Place::RequestList {
        api.drop_preloaded_list();
    }
    provide_api(api);
    // Only the page of its own installs the worker and offers notifications (not mount.rs).
    provide_context(Installable);
    push::link_manifest();
    view! { <AppRoutes /> }
}

/// Header and pages in the user's language, using whatever [`crate::api::Api`] is in context.
#[component]
pub fn AppRoutes() -> impl IntoView {
    let navigation = Navigation::at_address();
    provide_navigation(navigation);
    view! {
        <LanguageProvider>
            // Clicks on the app's own links move inside the app (see `routing`).
            <div class="app" on:click=move |event| navigation.follow_link(event)>
                <SessionHeader />
                <main id="main">
                    <EmbedBridge />
                    <Pages />
                </main>
                // At the foot, as on most sign-in pages: the header stays short on a phone.
                <footer class="app-footer">
                    <LanguagePicker />
                </footer>
            </div>
        </LanguageProvider>
    }
}
