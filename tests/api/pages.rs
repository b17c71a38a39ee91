//! The sign-up page, languages, assets and the small endpoints.

use crate::support::helpers::{TestApp, attr, attrs, spawn_app, texts};
use crate::support::routes::paths;
use ms365_accountcreator::i18n::Catalogs;

#[tokio::test]
async fn the_page_is_english_by_default_and_german_at_slash_de() {
    let app = spawn_app().await;

    let english = app.get_home().await;
    assert_eq!(english.status(), 200);
    let english = english.text().await.unwrap();
    assert_eq!(attr(&english, "html", "lang").as_deref(), Some("en"));
    assert_eq!(
        texts(&english, "h1"),
        vec!["Get your Microsoft 365 account"]
    );

    let german = app.get_home_in("de").await.text().await.unwrap();
    assert_eq!(attr(&german, "html", "lang").as_deref(), Some("de"));
    assert_eq!(texts(&german, "h1"), vec!["Ihr Microsoft-365-Konto"]);
    assert_eq!(
        attr(&german, "input[name=lang]", "value").as_deref(),
        Some("de")
    );
}

#[tokio::test]
async fn accept_language_and_the_lang_header_choose_the_language() {
    let app = spawn_app().await;
    let by_accept = app
        .get_with(
            paths::HOME,
            &[("accept-language", "de-DE,de;q=0.9,en;q=0.5")],
        )
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(attr(&by_accept, "html", "lang").as_deref(), Some("de"));
    let by_header = app
        .get_with(paths::HOME, &[("lang", "de"), ("accept-language", "en")])
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(attr(&by_header, "html", "lang").as_deref(), Some("de"));
    let url_wins = app
        .get_with(
            &paths::home_in("en"),
            &[("lang", "de"), ("accept-language", "de")],
        )
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(attr(&url_wins, "html", "lang").as_deref(), Some("en"));
    let unknown = app
        // `zxx` is ISO 639's "no linguistic content": never a catalogue.
        .get_with(paths::HOME, &[("accept-language", "zxx-ZZ, zxx;q=0.8")])
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(attr(&unknown, "html", "lang").as_deref(), Some("en"));
}

#[tokio::test]
async fn the_default_language_setting_applies_when_nothing_else_decides() {
    let app = TestApp::builder()
        .env("DEFAULT_LANGUAGE", "de")
        .spawn()
        .await;
    let page = app.get_home().await.text().await.unwrap();
    assert_eq!(attr(&page, "html", "lang").as_deref(), Some("de"));
}

#[tokio::test]
async fn the_language_switcher_links_every_other_language_and_marks_the_current_one() {
    let app = spawn_app().await;
    let catalogs = Catalogs::load(None, "en").unwrap();
    let page = app.get_home_in("de").await.text().await.unwrap();
    assert_eq!(
        texts(&page, "nav.lang-switch [aria-current]"),
        vec!["Deutsch"]
    );
    let others: Vec<_> = catalogs.all().filter(|tr| tr.lang() != "de").collect();
    assert_eq!(
        attrs(&page, "nav.lang-switch a", "href"),
        others
            .iter()
            .map(|tr| paths::home_in(tr.lang()))
            .collect::<Vec<_>>()
    );
    assert_eq!(
        texts(&page, "nav.lang-switch a"),
        others
            .iter()
            .map(|tr| tr.language_name().to_owned())
            .collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn a_language_dropped_into_translations_dir_is_served_and_offered() {
    // Arrange: a new language made from the German catalogue, without a rebuild.
    let dir = tempfile::tempdir().unwrap();
    let german = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/po/de.po")).unwrap();
    let path = dir.path().join("fr.po");
    std::fs::write(
        &path,
        german.replace("msgstr \"Deutsch\"", "msgstr \"Français\""),
    )
    .unwrap();
    let app = TestApp::builder()
        .env("TRANSLATIONS_DIR", dir.path().to_str().unwrap())
        .spawn()
        .await;

    // Act
    let by_path = app.get_home_in("fr").await.text().await.unwrap();
    let by_header = app
        .get_with(paths::HOME, &[("accept-language", "fr-CA, en;q=0.5")])
        .await
        .text()
        .await
        .unwrap();
    let english = app.get_home_in("en").await.text().await.unwrap();

    // Assert
    assert_eq!(attr(&by_path, "html", "lang").as_deref(), Some("fr"));
    assert_eq!(attr(&by_header, "html", "lang").as_deref(), Some("fr"));
    assert_eq!(
        texts(&by_path, "nav.lang-switch [aria-current]"),
        vec!["Français"]
    );
    assert!(
        attrs(&english, "nav.lang-switch a", "href").contains(&paths::home_in("fr")),
        "the switcher offers the new language"
    );
}

#[tokio::test]
async fn the_form_has_labelled_inputs_the_consents_and_the_support_address() {
    let app = TestApp::builder()
        .env("EMAIL_ADDRESS_FILTER", r"st[0-9]+@stud\.uni\.example")
        .spawn()
        .await;
    let page = app.get_home().await.text().await.unwrap();
    for id in [
        "email",
        "consent_email",
        "consent_name",
        "first_name",
        "last_name",
    ] {
        assert!(
            attr(&page, &format!("label[for={id}]"), "for").is_some(),
            "label for {id}"
        );
        assert_eq!(attr(&page, &format!("#{id}"), "name").as_deref(), Some(id));
    }
    assert_eq!(
        attr(&page, "#email", "pattern").as_deref(),
        Some(r"st[0-9]+@stud\.uni\.example")
    );
    assert_eq!(
        attr(&page, "form#signup", "action").as_deref(),
        Some(paths::SIGNUP)
    );
    assert_eq!(
        attr(&page, "form#signup", "method").as_deref(),
        Some("post")
    );
    assert_eq!(
        attr(&page, "#email", "data-hx-post").as_deref(),
        Some(paths::CHECK_EMAIL)
    );
    assert_eq!(
        attr(&page, ".support a", "href").as_deref(),
        Some("mailto:it-support@uni.example")
    );
}

#[tokio::test]
async fn pages_carry_the_security_headers() {
    let app = spawn_app().await;
    let response = app.get_home().await;
    assert_eq!(response.status(), 200);
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let csp = header("content-security-policy");
    assert!(
        csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    assert!(
        !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"),
        "{csp}"
    );
    assert_eq!(header("referrer-policy"), "no-referrer");
    assert_eq!(header("x-content-type-options"), "nosniff");
    assert!(
        response
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
}

#[tokio::test]
async fn assets_are_served_with_type_etag_and_caching() {
    let app = spawn_app().await;
    let page = app.get_home().await.text().await.unwrap();
    let css = attr(&page, "link[rel=stylesheet]", "href").unwrap();
    let htmx = attr(&page, "script[src*=htmx]", "src").unwrap();
    for (path, kind) in [(css, "text/css"), (htmx, "javascript")] {
        let response = app.get(&path).await;
        assert_eq!(response.status(), 200, "{path}");
        let content_type = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(content_type.contains(kind), "{path}: {content_type}");
        assert!(
            response.headers()["cache-control"]
                .to_str()
                .unwrap()
                .contains("immutable"),
            "{path}"
        );
        let etag = response.headers()["etag"].to_str().unwrap().to_owned();
        assert!(etag.starts_with('"') && etag.ends_with('"'), "{etag}");
        let again = app.get_with(&path, &[("if-none-match", &etag)]).await;
        assert_eq!(again.status(), 304, "{path}");
    }
    let htmx_body = app
        .get(&attr(&page, "script[src*=htmx]", "src").unwrap())
        .await
        .bytes()
        .await
        .unwrap();
    assert_eq!(
        htmx_body.len(),
        52_182,
        "the vendored htmx 2.0.11 is served whole"
    );
    let favicon = app.get(paths::FAVICON).await;
    assert_eq!(favicon.status(), 200);
    // Opened on its own, the icon is shown in a document the browser styles inline.
    let image_csp = favicon.headers()["content-security-policy"]
        .to_str()
        .unwrap();
    assert!(
        image_csp.starts_with("default-src 'none';")
            && image_csp.contains("style-src 'unsafe-inline'")
            && !image_csp.contains("script-src"),
        "{image_csp}"
    );
    assert_eq!(app.get("/assets/nope.css").await.status(), 404);
}

#[tokio::test]
async fn unknown_paths_get_a_localized_404_page() {
    let app = spawn_app().await;
    for path in ["/no/such/page", "/zxx", "/verify"] {
        let response = app.get_with(path, &[("accept-language", "de")]).await;
        assert_eq!(response.status(), 404, "{path}");
        let page = response.text().await.unwrap();
        assert_eq!(texts(&page, "h1"), vec!["Seite nicht gefunden"], "{path}");
    }
}

#[tokio::test]
async fn health_and_readiness_answer() {
    let app = spawn_app().await;
    assert_eq!(app.get_healthz().await.status(), 200);
    let ready = app.get_readyz().await;
    assert_eq!(ready.status(), 200);
    assert_eq!(ready.text().await.unwrap(), "ready");
}

#[tokio::test]
async fn the_server_stops_gracefully_and_the_store_can_be_reopened() {
    let mut app = spawn_app().await;
    assert_eq!(
        app.sign_up("ada@uni.example", "Ada", "Lovelace")
            .await
            .status(),
        200
    );
    let dir = app.stop().await;
    let app = TestApp::builder().store(dir).spawn().await;
    let again = app.sign_up("ada@uni.example", "Ada", "Lovelace").await;
    assert_eq!(
        again.status(),
        200,
        "the pending sign-up survived and may be replaced"
    );
}

#[tokio::test]
async fn hsts_is_sent_only_when_the_public_url_is_https() {
    let https = TestApp::builder()
        .env("PUBLIC_URL", "https://signup.uni.example")
        .spawn()
        .await;
    let response = https.get_home().await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["strict-transport-security"],
        "max-age=31536000"
    );
    let plain = spawn_app().await.get_home().await;
    assert_eq!(plain.status(), 200);
    assert!(plain.headers().get("strict-transport-security").is_none());
}

#[tokio::test]
async fn a_filtered_address_input_explains_the_expected_address_in_the_page_language() {
    // Arrange
    let filtered = TestApp::builder()
        .env("EMAIL_ADDRESS_FILTER", r"st[0-9]+@stud\.uni\.example")
        .spawn()
        .await;
    let open = spawn_app().await;

    // Act
    let english = filtered.get_home_in("en").await.text().await.unwrap();
    let german = filtered.get_home_in("de").await.text().await.unwrap();
    let unfiltered = open.get_home_in("en").await.text().await.unwrap();

    // Assert: without JavaScript the browser shows the title after "Please match the
    // requested format."
    assert_eq!(
        attr(&english, "#email", "title").as_deref(),
        Some("Enter the e-mail address your institution gave you.")
    );
    assert_eq!(
        attr(&german, "#email", "title").as_deref(),
        Some("Geben Sie die E-Mail-Adresse ein, die Sie von Ihrer Einrichtung erhalten haben.")
    );
    assert_eq!(
        attr(&unfiltered, "#email", "name").as_deref(),
        Some("email")
    );
    assert_eq!(
        attr(&unfiltered, "#email", "title"),
        None,
        "no filter, no format to explain"
    );
}
