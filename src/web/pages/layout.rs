use maud::{DOCTYPE, Markup, html};

use crate::i18n::{Catalogs, Tr};
use crate::web::paths::{Links, SwitchTo};

/// HTMX settings: no injected styles and no eval, so the CSP needs no `unsafe-*`; every
/// status is swapped because error fragments are meant to be shown.
const HTMX_CONFIG: &str = r#"{"includeIndicatorStyles":false,"allowEval":false,"allowScriptTags":false,"selfRequestsOnly":true,"responseHandling":[{"code":"204","swap":false},{"code":"...","swap":true}]}"#;

/// The page shell: language, head, header with the switcher, main content, footer.
pub fn page(
    tr: &Tr,
    catalogs: &Catalogs,
    links: &Links,
    switch_to: &SwitchTo,
    title: &str,
    content: Markup,
) -> Markup {
    // Translators: the organisation's name in the page header and title; each deployment
    // puts its own here.
    let org = tr.t("Example University");
    html! {
        (DOCTYPE)
        html lang=(tr.lang()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="htmx-config" content=(HTMX_CONFIG);
                meta name="color-scheme" content="light";
                title { (title) " – " (org) }
                link rel="icon" href=(links.favicon());
                link rel="stylesheet" href=(links.asset("style.css"));
                script src=(links.asset("app.js")) defer {}
                script src=(links.asset("htmx.min.js")) defer {}
            }
            body {
                a.skip-link href="#main" { (tr.t("Skip to content")) }
                header.site-header {
                    div.site-header__inner {
                        a.site-name href=(links.home_in(tr.lang())) { (org) }
                        // Translators: the language switcher's name, read out by screen readers.
                        nav.lang-switch aria-label=(tr.t("Language")) {
                            ul {
                                @for other in catalogs.all() {
                                    li {
                                        @if other.lang() == tr.lang() {
                                            span aria-current="true" lang=(other.lang()) { (other.language_name()) }
                                        } @else {
                                            a href=(links.switch(switch_to, other.lang())) lang=(other.lang()) hreflang=(other.lang()) {
                                                (other.language_name())
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                main #main tabindex="-1" { (content) }
                footer.site-footer {
                    p { (tr.t("Your data is used only to create your account. See the privacy notice of your institution.")) }
                }
            }
        }
    }
}
