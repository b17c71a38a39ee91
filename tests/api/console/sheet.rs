//! A voucher's sheet of several cards: a course hands one code to many people, so the
//! sheet prints as many cards as asked, by default one per use left (at most a page).

use crate::support::helpers::{TestApp, attrs, texts};

use super::vouchers::read_qr;
use super::{Console, paths};

async fn console() -> (Console, String) {
    let builder = TestApp::builder().env("VOUCHERS", "optional");
    let console = Console::start_with(builder).await;
    console.member();
    let cookie = console.sign_in().await;
    (console, cookie)
}

/// Makes a voucher with `fields`: the page showing it, and its whole code.
async fn make(console: &Console, cookie: &str, fields: &[(&str, &str)]) -> (String, String) {
    let made = console.post(paths::VOUCHERS, cookie, fields).await;
    assert_eq!(made.status(), 200);
    let page = made.text().await.unwrap();
    let code = texts(&page, ".voucher-created code.voucher-code").concat();
    (page, code)
}

/// The sheet's page for `code` with the form's `copies` field, if any.
async fn sheet(console: &Console, cookie: &str, code: &str, copies: Option<&str>) -> String {
    let mut fields = vec![("code", code)];
    fields.extend(copies.map(|copies| ("copies", copies)));
    let answer = console.post(paths::VOUCHER_SHEET, cookie, &fields).await;
    assert_eq!(answer.status(), 200);
    answer.text().await.unwrap()
}

/// Each card's QR code, as a phone reads it.
fn qr_codes(page: &str) -> Vec<String> {
    let page = scraper::Html::parse_document(page);
    let selector = scraper::Selector::parse(".voucher-card .voucher-qr svg").unwrap();
    page.select(&selector)
        .map(|svg| read_qr(&svg.html()))
        .collect()
}

#[tokio::test]
async fn the_sheet_prints_as_many_cards_as_asked_each_whole_without_the_uses_left() {
    // Arrange
    let (console, cookie) = console().await;
    let (made, code) = make(&console, &cookie, &[("name", "Course 42"), ("uses", "30")]).await;
    let link = attrs(&made, ".voucher-created a.voucher-link", "href").concat();

    // Act
    let page = sheet(&console, &cookie, &code, Some("3")).await;

    // Assert
    assert_eq!(texts(&page, ".voucher-card-name"), ["Course 42"; 3]);
    assert_eq!(
        texts(&page, ".voucher-card code.voucher-code"),
        [code.as_str(); 3]
    );
    assert_eq!(
        texts(&page, ".voucher-card dd.voucher-card-link"),
        [link.as_str(); 3]
    );
    assert_eq!(qr_codes(&page), [link.as_str(); 3]);
    assert_eq!(
        texts(&page, ".voucher-card dt"),
        ["Code", "Link", "Code", "Link", "Code", "Link"],
        "a card says nothing of the uses left"
    );
}

#[tokio::test]
async fn without_a_number_the_sheet_has_a_card_per_use_left_at_most_twelve() {
    let (console, cookie) = console().await;
    let (made, five) = make(&console, &cookie, &[("name", "Small"), ("uses", "5")]).await;
    let (_, open) = make(&console, &cookie, &[("name", "Open")]).await;

    assert_eq!(
        attrs(&made, ".voucher-created input[name=copies]", "value"),
        ["5"],
        "the field after creation"
    );
    let list = console.get(paths::VOUCHERS, &cookie).await;
    let list = list.text().await.unwrap();
    let mut rows: Vec<(String, String)> = texts(&list, "tbody th")
        .into_iter()
        .zip(attrs(
            &list,
            "tbody form.sheet-form input[name=copies]",
            "value",
        ))
        .collect();
    rows.sort();
    let expected = [("Open".into(), "12".into()), ("Small".into(), "5".into())];
    assert_eq!(rows, expected, "each row's field");
    let cards = |page: String| texts(&page, ".voucher-card").len();
    assert_eq!(cards(sheet(&console, &cookie, &five, None).await), 5);
    assert_eq!(cards(sheet(&console, &cookie, &open, None).await), 12);
}

#[tokio::test]
async fn a_bad_number_of_cards_is_answered_with_the_form_error() {
    let (console, cookie) = console().await;
    let (_, code) = make(&console, &cookie, &[("name", "Course 42")]).await;

    for bad in ["0", "49", "", "three"] {
        let page = sheet(&console, &cookie, &code, Some(bad)).await;

        assert_eq!(
            texts(&page, "[role=status]"),
            ["Enter how many cards the sheet prints, a whole number from 1 to 48."],
            "{bad:?}"
        );
        assert!(texts(&page, ".voucher-card").is_empty(), "{bad:?}");
        assert_eq!(texts(&page, "tbody th"), ["Course 42"], "{bad:?}");
    }
}
