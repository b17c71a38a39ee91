//! The console's vouchers and the extending of an account in a real browser, JavaScript on
//! and off: an operator makes a voucher with options, sees its code once, prints a sheet of
//! three cards (checked with print media emulated), revokes it after the confirmation, and
//! extends an account's end. Every page is checked (axe, 320 px) as in `console.rs`.

use std::time::{SystemTime, UNIX_EPOCH};

use ms365_accountcreator::domain::Day;
use serde_json::json;

use super::console::{sign_in, to_section};
use crate::console::Console;
use crate::support::browser_support::{Browser, Js};
use crate::support::helpers::TestApp;

/// A day about a year ahead, as the form's date field holds it and as it is typed in an
/// en-US Chromium (month, day, year).
fn a_year_ahead() -> (String, String) {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970");
    let day = Day::of(now.as_secs()).plus(400).to_string();
    let typed = format!("{}{}{}", &day[5..7], &day[8..10], &day[0..4]);
    (day, typed)
}

/// Makes a voucher with a limit, a last day and an account lifetime: its whole code, shown
/// this once.
async fn make_voucher(browser: &Browser, shots: &str) -> String {
    to_section(browser, "Vouchers").await;
    browser.inspect(&format!("{shots}-1-vouchers"), &[]).await;
    let (last_day, typed) = a_year_ahead();
    browser.type_into("#v-name", "Course 42").await;
    browser.type_into("#v-uses", "30").await;
    browser.type_into("#v-valid-until", &typed).await;
    assert_eq!(browser.value("#v-valid-until").await, last_day);
    browser.type_into("#v-lifetime", "90").await;
    browser.mark_document().await;
    browser
        .click("form.voucher-create button[type=submit]")
        .await;
    browser.wait_for_page("the voucher made").await;
    let code = browser.text(".voucher-created code.voucher-code").await;
    assert_eq!(code.len(), 19, "a whole code: {code}");
    assert_eq!(browser.texts("tbody th").await, ["Course 42"]);
    assert_eq!(browser.texts("td.voucher-uses").await, ["0 / 30"]);
    let row = browser.texts("tbody td").await.join(" | ");
    assert!(row.contains(&last_day), "its last day in the row: {row}");
    browser.inspect(&format!("{shots}-2-created"), &[]).await;

    // Shown once: the list alone shows only its start.
    to_section(browser, "Vouchers").await;
    let shown = browser.js_string("return document.body.innerText").await;
    assert!(!shown.contains(&code), "the whole code shown again");
    let listed = browser.text("tbody td code").await;
    assert!(code.starts_with(listed.trim_end_matches('…')), "{listed}");
    code
}

/// The sheet of three cards from the row's form, on screen and printed.
async fn print_sheet(browser: &Browser, code: &str, shots: &str) {
    browser.type_into("#copies-0", "3").await;
    browser.mark_document().await;
    browser.click("tbody form.sheet-form button").await;
    browser.wait_for_page("the sheet").await;
    assert_eq!(browser.texts(".voucher-card-name").await, ["Course 42"; 3]);
    assert_eq!(browser.texts(".voucher-card code").await, [code; 3]);
    browser.inspect(&format!("{shots}-3-sheet"), &[]).await;
    as_printed(browser).await;
}

/// With print media emulated: the page's chrome hidden, the cards in a grid, none split
/// across pages, black on white, and each QR code drawn.
async fn as_printed(browser: &Browser) {
    browser
        .cdp("Emulation.setEmulatedMedia", json!({ "media": "print" }))
        .await;
    assert!(browser.js_bool("return matchMedia('print').matches").await);
    let hidden = [
        ".skip-link",
        ".site-header",
        ".console-bar",
        "nav",
        "button",
        "h1",
    ];
    // An element is printed when it has a box (none inside a hidden ancestor).
    let shown = browser
        .js(
            "return arguments[0].map((css) => [css, [...document.querySelectorAll(css)]
               .map((e) => e.getClientRects().length > 0)]);",
            vec![json!(hidden)],
        )
        .await;
    for pair in shown.as_array().expect("pairs") {
        let seen = pair[1].as_array().expect("elements");
        assert!(!seen.is_empty(), "the sheet has {}", pair[0]);
        assert!(seen.iter().all(|v| v == false), "{} printed", pair[0]);
    }
    let cards = browser
        .js(
            "const sheet = getComputedStyle(document.querySelector('.voucher-sheet'));
             const cards = [...document.querySelectorAll('.voucher-card')].map((card) => {
               const style = getComputedStyle(card), qr = card.querySelector('.voucher-qr svg');
               const box = qr.getBoundingClientRect(), qrStyle = getComputedStyle(qr);
               return [style.breakInside, style.color, style.backgroundColor,
                       box.width > 50 && box.height > 50 && qrStyle.visibility === 'visible'];
             });
             return [sheet.display, sheet.gridTemplateColumns.split(' ').length,
                     getComputedStyle(document.body).backgroundColor, cards];",
            vec![],
        )
        .await;
    let card = json!(["avoid", "rgb(0, 0, 0)", "rgb(255, 255, 255)", true]);
    assert_eq!(
        cards,
        json!(["grid", 3, "rgb(255, 255, 255)", [card, card, card]]),
        "[the sheet's display, its columns, the page's background, each card's \
         [break-inside, colour, background, its QR code drawn]]"
    );
    browser
        .cdp("Emulation.setEmulatedMedia", json!({ "media": "" }))
        .await;
}

/// Revokes the voucher from the list, through its confirmation step.
async fn revoke(browser: &Browser, shots: &str) {
    browser.mark_document().await;
    browser.click("p.no-print a").await;
    browser.wait_for_page("the vouchers").await;
    browser.mark_document().await;
    browser.click_text("tbody form button", "Revoke…").await;
    browser.wait_for_page("the confirmation").await;
    assert_eq!(browser.text("h1").await, "Revoke this voucher?");
    browser.inspect(&format!("{shots}-4-revoke"), &[]).await;
    browser.mark_document().await;
    browser.click(".panel form button[type=submit]").await;
    browser.wait_for_page("the revoked voucher").await;
    let state = browser.text("td.voucher-state").await;
    assert!(state.starts_with("revoked"), "{state}");
    assert!(
        browser
            .text("#console [role=status]")
            .await
            .contains("Course 42")
    );
    browser.inspect(&format!("{shots}-5-revoked"), &[]).await;
}

/// Finds Bob's account and moves its end 30 days later.
async fn extend(browser: &Browser, shots: &str) {
    to_section(browser, "Accounts").await;
    browser.type_into("#find-email", "bob@uni.example").await;
    browser.click("form.find button").await;
    browser
        .wait_for(
            "the account",
            "return !!document.querySelector('.found dl')",
        )
        .await;
    let before = browser.text("dd.account-end").await;
    let after = Day::parse(&before)
        .unwrap_or_else(|_| panic!("an end: {before:?}"))
        .plus(30)
        .to_string();
    browser.inspect(&format!("{shots}-6-account"), &[]).await;
    browser.type_into("#extend-days", "30").await;
    browser.mark_document().await;
    browser.click("form.extend button[type=submit]").await;
    browser
        .wait_for(
            "the extension's notice",
            "return !!document.querySelector('#console [role=status]')",
        )
        .await;
    assert_eq!(
        browser.same_document().await,
        browser.js == Js::On,
        "HTMX swaps"
    );
    let notice = browser.text("#console [role=status]").await;
    assert!(
        notice.ends_with(&format!("now ends on {after}.")),
        "{notice}"
    );
    assert_eq!(browser.text("dd.account-end").await, after);
    browser.inspect(&format!("{shots}-7-extended"), &[]).await;
}

async fn operate(js: Js) {
    let builder = TestApp::builder()
        .env("VOUCHERS", "optional")
        .env("ACCOUNT_LIFETIME_DAYS", "365");
    let console = Console::start_with(builder).await;
    console.member();
    console
        .app
        .create_account("bob@uni.example", "Bob", "Builder")
        .await;
    let browser = Browser::start(js).await;
    let shots = match js {
        Js::On => "console-vouchers-js",
        Js::Off => "console-vouchers-nojs",
    };

    sign_in(&browser, &console, shots).await;
    let code = make_voucher(&browser, shots).await;
    print_sheet(&browser, &code, shots).await;
    revoke(&browser, shots).await;
    extend(&browser, shots).await;

    browser.close().await;
}

#[tokio::test]
#[ignore = "needs Chromium and chromedriver: run tests/run (installs them), or cargo test -- --ignored"]
async fn with_javascript_an_operator_makes_prints_and_revokes_a_voucher_and_extends_an_account() {
    operate(Js::On).await;
}

#[tokio::test]
#[ignore = "needs Chromium and chromedriver: run tests/run (installs them), or cargo test -- --ignored"]
async fn without_javascript_an_operator_makes_prints_and_revokes_a_voucher_and_extends_an_account()
{
    operate(Js::Off).await;
}
