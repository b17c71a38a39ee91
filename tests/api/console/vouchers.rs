//! Vouchers made, listed, printed and revoked in the console, each action with its audit
//! line, and a console-made voucher at work in a sign-up.

use serde_json::json;

use crate::support::helpers::{TestApp, attr, texts};

use super::{Console, paths};

/// A console whose sign-ups ask for a voucher.
async fn console() -> Console {
    let builder = TestApp::builder().env("VOUCHERS", "optional");
    Console::start_with(builder).await
}

/// Makes a voucher with `fields` from the console: its code and its link, shown once.
async fn make(console: &Console, cookie: &str, fields: &[(&str, &str)]) -> (String, String) {
    let made = console.post(paths::VOUCHERS, cookie, fields).await;
    assert_eq!(made.status(), 200);
    let page = made.text().await.unwrap();
    let code = texts(&page, ".voucher-created code.voucher-code").concat();
    let link = attr(&page, ".voucher-created a.voucher-link", "href").expect("its link");
    (code, link)
}

fn sign_up(email: &str, code: &str) -> serde_json::Value {
    json!({ "firstName": "Ada", "lastName": "Lovelace", "email": email, "voucher": code })
}

#[tokio::test]
async fn a_voucher_made_in_the_console_admits_a_sign_up_until_it_is_revoked() {
    // Arrange
    let console = console().await;
    console.member();
    let cookie = console.sign_in().await;
    let fields = [
        ("name", "Course 42"),
        ("uses", "5"),
        ("lifetime_days", "90"),
    ];

    // Act: made, its link opened, a sign-up with it.
    let (code, link) = make(&console, &cookie, &fields).await;
    let link = url::Url::parse(&link).expect("an absolute link");
    let form = console
        .app
        .get(&format!("{}?{}", link.path(), link.query().unwrap_or("")))
        .await
        .text()
        .await
        .unwrap();
    let (status, _) = console
        .app
        .post_account_creation(&sign_up("ada@uni.example", &code), &[])
        .await;
    assert_eq!(status, 202);
    let app = &console.app;
    app.confirm(&app.verification_path("ada@uni.example").await)
        .await;

    // Assert
    assert_eq!(link.query(), Some(format!("voucher={code}").as_str()));
    assert_eq!(attr(&form, "#voucher", "value"), Some(code.clone()));
    let listed = console.get(paths::VOUCHERS, &cookie).await;
    let listed = listed.text().await.unwrap();
    assert_eq!(texts(&listed, "tbody th"), ["Course 42"]);
    assert_eq!(texts(&listed, "td.voucher-uses"), ["1 / 5"]);
    assert!(
        !listed.contains(&format!(">{code}<")),
        "the list does not show the whole code"
    );
    let mut found = String::new();
    for _ in 0..100 {
        let page = console
            .get(
                &format!("{}?email=ada@uni.example", paths::ACCOUNTS),
                &cookie,
            )
            .await;
        found = texts(&page.text().await.unwrap(), "dl dd").join(" | ");
        if found.contains("Course 42") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        found.contains("Course 42"),
        "the account's voucher: {found}"
    );

    // Revoking asks first, then the voucher admits nobody.
    let asked = console
        .post(paths::VOUCHER_REVOKE, &cookie, &[("code", &code)])
        .await;
    let asked = asked.text().await.unwrap();
    assert_eq!(texts(&asked, "h1"), ["Revoke this voucher?"]);
    let lines = console.audit(&cookie).await;
    assert!(lines.iter().all(|line| line["action"] != "voucher_revoke"));
    let fields = [("code", code.as_str()), ("confirm", "yes")];
    let revoked = console.post(paths::VOUCHER_REVOKE, &cookie, &fields).await;
    assert_eq!(revoked.status(), 200);
    let revoked = revoked.text().await.unwrap();
    assert!(texts(&revoked, "td.voucher-state")[0].starts_with("revoked"));
    let (status, answer) = console
        .app
        .post_account_creation(&sign_up("alan@uni.example", &code), &[])
        .await;
    assert_eq!(
        (status, &answer["message"]),
        (400, &json!("Voucher invalid"))
    );

    let lines = console.audit(&cookie).await;
    let of = |action: &str| -> Vec<&serde_json::Value> {
        lines.iter().filter(|l| l["action"] == action).collect()
    };
    assert_eq!(of("voucher_create").len(), 1, "{lines:#?}");
    assert_eq!(of("voucher_revoke").len(), 1, "{lines:#?}");
    let subject = of("voucher_create")[0]["subject"].as_str().unwrap();
    assert!(subject.starts_with("Course 42 ("), "{subject}");
    let text = serde_json::to_string(&lines).unwrap();
    assert!(!text.contains(&code), "no whole code in the log: {text}");
}

#[tokio::test]
async fn a_refused_form_makes_nothing_and_says_why() {
    let console = console().await;
    console.member();
    let cookie = console.sign_in().await;

    let fields = [
        ("name", "Guests"),
        ("lifetime_days", "30"),
        ("ends_on", "2030-01-31"),
    ];
    let answer = console.post(paths::VOUCHERS, &cookie, &fields).await;
    let answer = answer.text().await.unwrap();

    assert_eq!(
        texts(&answer, "[role=status]"),
        ["Give the accounts' lifetime in days or their end date, not both."]
    );
    assert_eq!(attr(&answer, "#v-name", "value").as_deref(), Some("Guests"));
    assert!(texts(&answer, "tbody tr").is_empty());
    assert_eq!(console.audit(&cookie).await.len(), 1, "the sign-in's alone");
}

#[tokio::test]
async fn the_printable_sheet_holds_a_qr_code_of_the_link() {
    let console = console().await;
    console.member();
    let cookie = console.sign_in().await;
    let (code, link) = make(&console, &cookie, &[("name", "Open day")]).await;

    // One card (a voucher without a limit prints twelve by default: `sheet.rs`).
    let fields = [("code", code.as_str()), ("copies", "1")];
    let sheet = console.post(paths::VOUCHER_SHEET, &cookie, &fields).await;

    assert_eq!(sheet.status(), 200);
    let sheet = sheet.text().await.unwrap();
    assert_eq!(texts(&sheet, ".voucher-sheet code.voucher-code"), [code]);
    let svg = {
        let page = scraper::Html::parse_document(&sheet);
        let selector = scraper::Selector::parse(".voucher-qr svg").unwrap();
        page.select(&selector).next().expect("an inline SVG").html()
    };
    assert_eq!(read_qr(&svg), link);
}

/// What a phone's camera reads from the SVG of a QR code: its dark rectangles drawn into
/// a grey image, decoded by a reader nobody here wrote.
pub(super) fn read_qr(svg: &str) -> String {
    let (size, rects) = dark_rects(svg);
    let mut pixels = vec![255u8; size * size];
    for [left, top, width, height] in rects {
        for y in top..top + height {
            pixels[y * size + left..y * size + left + width].fill(0);
        }
    }
    let mut image =
        rqrr::PreparedImage::prepare_from_greyscale(size, size, |x, y| pixels[y * size + x]);
    let grids = image.detect_grids();
    assert_eq!(grids.len(), 1, "one code in the image");
    grids[0].decode().expect("a readable code").1
}

/// The side of the SVG's square viewBox and the rectangles its path draws (`M{left}
/// {top}h{width}v{height}H{left}V{top}`, as the qrcode crate writes them).
fn dark_rects(svg: &str) -> (usize, Vec<[usize; 4]>) {
    let html = scraper::Html::parse_fragment(svg);
    let select = |css: &str| {
        let selector = scraper::Selector::parse(css).unwrap();
        html.select(&selector).next().map(|el| el.value().clone())
    };
    let svg_element = select("svg").expect("an svg");
    // html5ever keeps the SVG spelling of the attribute's name.
    let view_box = svg_element
        .attr("viewBox")
        .or_else(|| svg_element.attr("viewbox"))
        .expect("a viewBox");
    let side: usize = view_box.split_whitespace().nth(2).unwrap().parse().unwrap();
    let path = select("path").expect("the dark modules' path");
    let d = path.attr("d").unwrap().to_owned();
    let rects = d
        .split('M')
        .filter(|part| !part.trim().is_empty())
        .map(|part| {
            let numbers: Vec<usize> = part
                .split(|c: char| !c.is_ascii_digit())
                .filter(|n| !n.is_empty())
                .map(|n| n.parse().unwrap())
                .collect();
            [numbers[0], numbers[1], numbers[2], numbers[3]]
        })
        .collect();
    (side, rects)
}
