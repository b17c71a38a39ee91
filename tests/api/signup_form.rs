//! `POST /signup` as a plain form post (JavaScript off) and through HTMX.

use crate::support::helpers::{TestApp, attr, spawn_app, texts};
use crate::support::routes::{HTMX, paths};

const FILTER: &str = r"[a-z0-9.]+@uni\.example";
const FORM: &str = "application/x-www-form-urlencoded";

fn form<'a>(
    email: &'a str,
    first: &'a str,
    last: &'a str,
    consents: bool,
) -> Vec<(&'a str, &'a str)> {
    let mut fields = vec![
        ("email", email),
        ("first_name", first),
        ("last_name", last),
        ("lang", "en"),
    ];
    if consents {
        fields.push(("consent_email", "yes"));
        fields.push(("consent_name", "yes"));
    }
    fields
}

#[tokio::test]
async fn each_invalid_field_is_reported_next_to_it_and_the_values_are_kept() {
    let app = TestApp::builder()
        .env("EMAIL_ADDRESS_FILTER", FILTER)
        .spawn()
        .await;
    let long_name = "x".repeat(65);
    let long_email = format!("{}@uni.example", "a".repeat(180));
    // (fields, field id with the error, expected message)
    type Case<'a> = (Vec<(&'a str, &'a str)>, &'a str, &'a str);
    let cases: Vec<Case> = vec![
        (
            form("", "Ada", "Lovelace", true),
            "email",
            "Please enter your e-mail address.",
        ),
        (
            form("not-an-address", "Ada", "Lovelace", true),
            "email",
            "This is not a valid e-mail address.",
        ),
        (
            form(&long_email, "Ada", "Lovelace", true),
            "email",
            "This e-mail address is too long (at most 190 characters).",
        ),
        (
            form("ada@elsewhere.example", "Ada", "Lovelace", true),
            "email",
            "This e-mail address cannot be used here. Please use your institutional address.",
        ),
        (
            form("ada@uni.example", "", "Lovelace", true),
            "first_name",
            "Please enter your first name.",
        ),
        (
            form("ada@uni.example", "Ada", "  ", true),
            "last_name",
            "Please enter your family name.",
        ),
        (
            form("ada@uni.example", &long_name, "Lovelace", true),
            "first_name",
            "A name can have at most 64 characters.",
        ),
        (
            form(
                "ada@uni.example",
                "Ada\r\nBcc: x@y.example",
                "Lovelace",
                true,
            ),
            "first_name",
            "The name contains characters that cannot be used.",
        ),
        (
            form("ada@uni.example", "李", "王", true),
            "first_name",
            "No username can be made from this name. Please write it in Latin letters, as in your passport.",
        ),
        (
            form("ada@uni.example", "Ada", "Lovelace", false),
            "consent_email",
            "Please agree to your e-mail address being stored.",
        ),
        (
            form("ada@uni.example", "Ada", "Lovelace", false),
            "consent_name",
            "Please agree to your name being sent to Microsoft.",
        ),
    ];
    for (fields, field, message) in cases {
        let response = app.post_signup(&fields).await;
        assert_eq!(response.status(), 422, "{field}: {message}");
        let page = response.text().await.unwrap();
        assert_eq!(
            texts(&page, &format!("#{field}-error")),
            vec![message],
            "error next to {field}"
        );
        assert_eq!(
            attr(&page, &format!("#{field}"), "aria-invalid").as_deref(),
            Some("true"),
            "{field} is marked invalid"
        );
        let described_by =
            attr(&page, &format!("#{field}"), "aria-describedby").unwrap_or_default();
        assert!(
            described_by
                .split(' ')
                .any(|id| id == format!("{field}-error")),
            "{field} is described by its error"
        );
        assert_eq!(
            texts(&page, "[role=alert]").len(),
            1,
            "a summary is announced"
        );
        for (name, value) in &fields {
            if ["email", "first_name", "last_name"].contains(name) {
                // HTML parsing turns CR LF into LF; the value itself is kept.
                let kept = attr(&page, &format!("#{name}"), "value").unwrap_or_default();
                assert_eq!(
                    kept,
                    value.replace("\r\n", "\n"),
                    "{name} kept for {message}"
                );
            }
        }
    }
    assert!(app.mails().await.is_empty(), "no mail for an invalid form");
}

#[tokio::test]
async fn invisible_and_look_alike_names_are_refused_next_to_the_field_with_the_entries_kept() {
    let app = spawn_app().await;
    let stacked = format!("Ada{}", "\u{301}".repeat(60));
    let invisible = "The name contains invisible formatting characters, often carried along when text is copied. Please type the name in again.";
    let filler = "The name contains blank filler characters, which cannot be used.";
    // (first name, family name, field with the error, expected message)
    let cases = [
        ("Ad\u{200B}a", "Lovelace", "first_name", invisible),
        ("Ada", "Love\u{200D}lace", "last_name", invisible),
        ("\u{FEFF}Ada", "Lovelace", "first_name", invisible),
        ("Ada\u{200F}", "Lovelace", "first_name", invisible),
        ("Ada", "Lovelace\u{061C}", "last_name", invisible),
        ("Ada", "Love\u{AD}lace", "last_name", invisible),
        ("Ada\u{E0041}\u{E007F}", "Lovelace", "first_name", invisible),
        ("\u{3164}", "Lovelace", "first_name", filler),
        ("Ada", "Love\u{FFA0}lace", "last_name", filler),
        (
            &stacked,
            "Lovelace",
            "first_name",
            "The name has too many accents stacked on one letter.",
        ),
        (
            "\u{410}d\u{430}",
            "Smith",
            "first_name",
            "A word in the name mixes letters of different alphabets (such as Latin and Cyrillic). Please write each word in one alphabet.",
        ),
        (
            "Ada",
            "123",
            "last_name",
            "A name must contain at least one letter.",
        ),
    ];
    for (first, last, field, message) in cases {
        // Arrange
        let fields = form("ada@uni.example", first, last, true);

        // Act
        let response = app.post_signup(&fields).await;

        // Assert
        assert_eq!(response.status(), 422, "{first:?} {last:?}");
        let page = response.text().await.unwrap();
        assert_eq!(
            texts(&page, &format!("#{field}-error")),
            vec![message],
            "{first:?} {last:?}"
        );
        assert_eq!(
            attr(&page, &format!("#{field}"), "aria-invalid").as_deref(),
            Some("true"),
            "{first:?} {last:?}"
        );
        assert_eq!(attr(&page, "#first_name", "value").as_deref(), Some(first));
        assert_eq!(attr(&page, "#last_name", "value").as_deref(), Some(last));
    }
    assert!(app.mails().await.is_empty(), "no mail for a refused name");
}

#[tokio::test]
async fn real_names_with_accents_apostrophes_and_hyphens_are_accepted() {
    let app = spawn_app().await;
    let names = [
        ("José", "Ångström"),
        ("Seán", "O'Brien"),
        ("Nguyễn", "Đặng"),
        ("Hans-Peter", "Øster"),
        ("Łukasz", "Çelik"),
        ("Anna Maria", "Nguye\u{302}\u{303}n"),
    ];
    for (n, (first, last)) in names.into_iter().enumerate() {
        let email = format!("person{n}@uni.example");
        let response = app.post_signup(&form(&email, first, last, true)).await;
        assert_eq!(response.status(), 200, "{first} {last}");
    }
    assert_eq!(app.mails().await.len(), names.len());
}

#[tokio::test]
async fn when_neither_name_gives_a_username_both_fields_are_marked() {
    let app = spawn_app().await;
    let page = app
        .post_signup(&form("li@uni.example", "李", "王", true))
        .await
        .text()
        .await
        .unwrap();
    let message = "No username can be made from this name. Please write it in Latin letters, as in your passport.";
    for field in ["first_name", "last_name"] {
        assert_eq!(
            texts(&page, &format!("#{field}-error")),
            vec![message],
            "{field}"
        );
        assert_eq!(
            attr(&page, &format!("#{field}"), "aria-invalid").as_deref(),
            Some("true"),
            "{field}"
        );
    }
}

#[tokio::test]
async fn the_new_name_messages_are_translated() {
    let app = spawn_app().await;
    let fields = [
        ("email", "ada@uni.example"),
        ("first_name", "\u{410}d\u{430}"),
        ("last_name", "!!!"),
        ("lang", "de"),
    ];
    let page = app.post_signup(&fields).await.text().await.unwrap();
    assert_eq!(
        texts(&page, "#first_name-error"),
        vec![
            "Ein Wort im Namen mischt Buchstaben verschiedener Alphabete (etwa lateinische und kyrillische). Bitte schreiben Sie jedes Wort in nur einem Alphabet."
        ]
    );
    assert_eq!(
        texts(&page, "#last_name-error"),
        vec!["Ein Name muss mindestens einen Buchstaben enthalten."]
    );
}

#[tokio::test]
async fn errors_are_translated_into_the_forms_language() {
    let app = spawn_app().await;
    let fields = [("email", "nope"), ("lang", "de")];
    let page = app.post_signup(&fields).await.text().await.unwrap();
    assert_eq!(attr(&page, "html", "lang").as_deref(), Some("de"));
    assert_eq!(
        texts(&page, "#email-error"),
        vec!["Das ist keine gültige E-Mail-Adresse."]
    );
    assert_eq!(
        texts(&page, "#first_name-error"),
        vec!["Bitte geben Sie Ihren Vornamen ein."]
    );
}

#[tokio::test]
async fn a_valid_form_answers_check_your_mailbox_and_keeps_a_pending_sign_up() {
    let app = spawn_app().await;
    let response = app
        .sign_up(" Ada.Lovelace@Uni.Example ", "Ada", "Lovelace")
        .await;
    assert_eq!(response.status(), 200);
    let page = response.text().await.unwrap();
    assert_eq!(texts(&page, "h2"), vec!["Check your mailbox"]);
    assert!(texts(&page, "#signup p")[0].contains("ada.lovelace@uni.example"));
    let mails = app.mails().await;
    assert_eq!(mails.len(), 1);
    assert!(mails[0].meta.contains("ada.lovelace@uni.example"));
}

#[tokio::test]
async fn htmx_posts_get_the_fragment_only() {
    let app = spawn_app().await;
    let invalid = app
        .post_signup_with(&[("email", "x"), ("lang", "en")], HTMX)
        .await;
    assert_eq!(invalid.status(), 422);
    let fragment = invalid.text().await.unwrap();
    assert!(!fragment.contains("<html"), "a fragment, not a page");
    assert_eq!(attr(&fragment, "form", "id").as_deref(), Some("signup"));
    assert_eq!(
        texts(&fragment, "#email-error"),
        vec!["This is not a valid e-mail address."]
    );

    let valid = app
        .post_signup_with(&form("ada@uni.example", "Ada", "Lovelace", true), HTMX)
        .await;
    assert_eq!(valid.status(), 200);
    let fragment = valid.text().await.unwrap();
    assert!(!fragment.contains("<html"));
    assert_eq!(attr(&fragment, "section", "id").as_deref(), Some("signup"));
}

#[tokio::test]
async fn the_inline_check_reports_each_problem_and_success() {
    let app = TestApp::builder()
        .env("EMAIL_ADDRESS_FILTER", FILTER)
        .spawn()
        .await;
    let check = |email: &'static str| {
        let app = &app;
        async move {
            let response = app.post_check_email(email, "en").await;
            assert_eq!(response.status(), 200);
            response.text().await.unwrap()
        }
    };
    let ok = check("ada@uni.example").await;
    assert!(
        attr(&ok, "[data-email-ok]", "data-email-ok").is_some(),
        "{ok}"
    );
    assert_eq!(
        texts(&check("nope").await, ".field-error"),
        vec!["This is not a valid e-mail address."]
    );
    assert_eq!(
        texts(&check("ada@other.example").await, ".field-error"),
        vec!["This e-mail address cannot be used here. Please use your institutional address."]
    );
    let empty = check("").await;
    assert_eq!(
        attr(&empty, "#email-status", "id").as_deref(),
        Some("email-status"),
        "{empty}"
    );
    assert!(
        texts(&empty, ".field-error").is_empty(),
        "an empty field is not an error while typing"
    );
}

#[tokio::test]
async fn malformed_and_oversized_bodies_get_a_clear_error_not_a_crash() {
    let app = spawn_app().await;
    let malformed = app
        .post_bytes(paths::SIGNUP, FORM, "email=%ZZ&email=a&&=&first_name", &[])
        .await;
    assert!(
        malformed.status() == 400 || malformed.status() == 422,
        "{}",
        malformed.status()
    );
    let oversized = app.post_signup(&[("email", &"a".repeat(100_000))]).await;
    assert_eq!(oversized.status(), 413);
    assert_eq!(
        texts(&oversized.text().await.unwrap(), "h1"),
        vec!["Too much data"]
    );
    assert_eq!(app.get_healthz().await.status(), 200, "still serving");
}

#[tokio::test]
async fn cross_site_posts_are_refused_with_a_localized_page() {
    let app = spawn_app().await;
    let fields = form("ada@uni.example", "Ada", "Lovelace", true);
    let cross = app
        .post_signup_with(
            &fields,
            &[("sec-fetch-site", "cross-site"), ("accept-language", "de")],
        )
        .await;
    assert_eq!(cross.status(), 403);
    assert_eq!(
        texts(&cross.text().await.unwrap(), "h1"),
        vec!["Anfrage abgelehnt"]
    );
    let foreign_origin = app
        .post_signup_with(&fields, &[("origin", "https://evil.example")])
        .await;
    assert_eq!(foreign_origin.status(), 403);
    let null_same_origin = app
        .post_signup_with(
            &fields,
            &[("origin", "null"), ("sec-fetch-site", "same-origin")],
        )
        .await;
    assert_eq!(
        null_same_origin.status(),
        200,
        "Chromium's no-referrer form post passes"
    );
    assert_eq!(app.mails().await.len(), 1);
}

/// Ways a url-encoded value can arrive broken: bytes that are not UTF-8, an escape that is not
/// two hex digits, a lone `%`, an overlong encoding of `.`, and a raw byte that is not UTF-8.
const DAMAGE: [&[u8]; 5] = [b"%FF%FE", b"%zz%", b"%", b"%C0%AE", b"\xFF"];

/// A complete, valid sign-up, url-encoded.
const CLEAN: [(&str, &str); 6] = [
    ("email", "ada%40uni.example"),
    ("consent_email", "yes"),
    ("consent_name", "yes"),
    ("first_name", "Ada"),
    ("last_name", "Smith"),
    ("lang", "en"),
];

const FORM_DAMAGED: &str =
    "The form arrived damaged, so nothing was done. Please check your entries and send it again.";

/// `fields` url-encoded, with `damage` put in front of the value (or the name) of `field`.
fn damaged_body(fields: &[(&str, &str)], field: &str, damage: &[u8], in_name: bool) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, value) in fields {
        if !body.is_empty() {
            body.push(b'&');
        }
        body.extend_from_slice(name.as_bytes());
        if in_name && *name == field {
            body.extend_from_slice(damage);
        }
        body.push(b'=');
        if !in_name && *name == field {
            body.extend_from_slice(damage);
        }
        body.extend_from_slice(value.as_bytes());
    }
    body
}

/// Posts a url-encoded `body` as it is, as HTMX does when `htmx`.
async fn post_raw(app: &TestApp, path: &str, body: Vec<u8>, htmx: bool) -> reqwest::Response {
    let headers = if htmx { HTMX } else { &[] };
    app.post_bytes(path, FORM, body, headers).await
}

#[tokio::test]
async fn a_damaged_field_is_refused_with_the_form_and_the_clean_fields_kept() {
    let app = spawn_app().await;
    let clean_value = |name: &str| match name {
        "email" => "ada@uni.example",
        "first_name" => "Ada",
        "last_name" => "Smith",
        _ => "",
    };
    for (field, _) in CLEAN {
        for damage in DAMAGE {
            for htmx in [false, true] {
                let case = format!("{field} with {}, htmx {htmx}", damage.escape_ascii());
                let body = damaged_body(&CLEAN, field, damage, false);
                let response = post_raw(&app, paths::SIGNUP, body, htmx).await;
                assert_eq!(response.status(), 400, "{case}");
                let page = response.text().await.unwrap();
                assert!(!page.contains('\u{FFFD}'), "{case}: repaired text shown");
                assert_eq!(page.contains("<html"), !htmx, "{case}: page or fragment");
                assert_eq!(
                    attr(&page, "form", "id").as_deref(),
                    Some("signup"),
                    "{case}"
                );
                assert_eq!(texts(&page, "[role=alert]"), vec![FORM_DAMAGED], "{case}");
                for name in ["email", "first_name", "last_name"] {
                    let expected = if name == field { "" } else { clean_value(name) };
                    assert_eq!(
                        attr(&page, &format!("#{name}"), "value").as_deref(),
                        Some(expected),
                        "{case}: {name}"
                    );
                }
                for name in ["consent_email", "consent_name"] {
                    assert_eq!(
                        attr(&page, &format!("#{name}"), "checked").is_some(),
                        name != field,
                        "{case}: {name}"
                    );
                }
            }
        }
    }
    // A damaged name is as damaged as a damaged value.
    let body = damaged_body(&CLEAN, "first_name", b"%zz", true);
    let response = post_raw(&app, paths::SIGNUP, body, false).await;
    assert_eq!(response.status(), 400);
    let page = response.text().await.unwrap();
    assert_eq!(texts(&page, "[role=alert]"), vec![FORM_DAMAGED]);
    assert!(app.mails().await.is_empty(), "no mail for a damaged form");
}

#[tokio::test]
async fn the_damaged_form_message_is_in_the_forms_language() {
    let app = spawn_app().await;
    let mut fields = CLEAN;
    fields[5] = ("lang", "de");
    let body = damaged_body(&fields, "last_name", b"%FF%FE", false);
    let page = post_raw(&app, paths::SIGNUP, body, false)
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(attr(&page, "html", "lang").as_deref(), Some("de"));
    assert_eq!(
        texts(&page, "[role=alert]"),
        vec![
            "Das Formular kam beschädigt an, daher wurde nichts unternommen. \
             Bitte prüfen Sie Ihre Angaben und senden Sie es erneut."
        ]
    );
}

#[tokio::test]
async fn the_inline_check_refuses_a_damaged_field_in_its_status_line() {
    let app = spawn_app().await;
    let fields = [("email", "ada%40uni.example"), ("lang", "en")];
    for (field, _) in fields {
        for damage in DAMAGE {
            for htmx in [false, true] {
                let case = format!("{field} with {}, htmx {htmx}", damage.escape_ascii());
                let body = damaged_body(&fields, field, damage, false);
                let response = post_raw(&app, paths::CHECK_EMAIL, body, htmx).await;
                assert_eq!(response.status(), 400, "{case}");
                let page = response.text().await.unwrap();
                assert!(!page.contains('\u{FFFD}'), "{case}: repaired text shown");
                assert_eq!(page.contains("<html"), !htmx, "{case}: page or fragment");
                assert_eq!(
                    texts(&page, "#email-status .field-error"),
                    vec!["The address arrived damaged. Please enter it again."],
                    "{case}"
                );
            }
        }
    }
}

#[tokio::test]
async fn a_damaged_confirm_post_changes_nothing_and_offers_the_button_again() {
    let app = spawn_app().await;
    assert_eq!(
        app.sign_up("ada@uni.example", "Ada", "Smith")
            .await
            .status(),
        200
    );
    let path = app.verification_path("ada@uni.example").await;
    for damage in DAMAGE {
        let body = damaged_body(&[("lang", "en")], "lang", damage, false);
        let response = post_raw(&app, &path, body, false).await;
        assert_eq!(response.status(), 400, "{}", damage.escape_ascii());
        let page = response.text().await.unwrap();
        assert_eq!(
            texts(&page, "[role=alert]"),
            vec![
                "The request arrived damaged, so nothing was done. Please press the button again."
            ],
            "{}",
            damage.escape_ascii()
        );
        assert_eq!(
            attr(&page, "form[method=post]", "action").as_deref(),
            Some(path.as_str()),
            "the confirm button is offered again"
        );
    }
    assert_eq!(
        app.get(&path).await.status(),
        200,
        "the link is still pending"
    );
    let confirmed = app.confirm(&path).await;
    assert_eq!(confirmed.status(), 200);
    assert_eq!(
        texts(&confirmed.text().await.unwrap(), "h1"),
        vec!["Your account is ready"]
    );
}

#[tokio::test]
async fn clean_escapes_plus_signs_and_multibyte_characters_are_decoded() {
    let app = spawn_app().await;
    let body = b"email=anna%40uni.example&consent_email=yes&consent_name=yes\
                 &first_name=Anna+Lena&last_name=M%c3%BCller&lang=en"
        .to_vec();
    let response = post_raw(&app, paths::SIGNUP, body, false).await;
    assert_eq!(response.status(), 200);
    let path = app.verification_path("anna@uni.example").await;
    let page = app.get(&path).await.text().await.unwrap();
    assert_eq!(texts(&page, "dd")[0], "Anna Lena Müller");
}
