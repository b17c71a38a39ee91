//! The result page with a Temporary Access Pass (`CREDENTIAL` = `temporary_access_pass`) in
//! both languages, with JavaScript (the end in the reader's own time) and without (in UTC).

use super::{ADA, DE, EN, Texts, confirm_by_mail};
use crate::support::browser_support::{Browser, Js};
use crate::support::helpers::TestApp;

/// Ada signed up in `t`'s language, her link confirmed in the browser: the result page.
async fn pass_result(browser: &Browser, t: &Texts) -> TestApp {
    let app = TestApp::builder()
        .envs(&[
            ("CREDENTIAL", "temporary_access_pass"),
            ("PASSWORD_DELIVERY", "both"),
        ])
        .spawn()
        .await;
    // The form itself is the other browser tests' subject.
    app.sign_up_in(t.lang, ADA.email, ADA.first, ADA.last).await;
    confirm_by_mail(browser, &app, t, &ADA, &format!("pass-{}", t.lang)).await;
    app
}

/// (language, the pass's label, the first step's start)
const CASES: [(&Texts, &str, &str); 2] = [
    (&EN, "Temporary Access Pass", "Open "),
    (&DE, "Befristeter Zugriffspass", "Öffnen Sie "),
];

#[tokio::test]
#[ignore = "needs Chromium and chromedriver: run tests/run (installs them), or cargo test -- --ignored"]
async fn the_pass_result_page_shows_the_pass_its_end_and_three_steps_in_both_languages() {
    for js in [Js::On, Js::Off] {
        for (t, label, first_step) in CASES {
            let browser = Browser::start(js).await;
            let _app = pass_result(&browser, t).await;

            let labels = browser.texts("dl.details dt").await;
            assert!(labels.iter().any(|l| l == label), "{}: {labels:?}", t.lang);
            let pass = browser.text("#pass").await;
            assert_eq!(pass.chars().count(), 8, "{}: {pass}", t.lang);
            let steps = browser.texts("ol.steps li").await;
            assert_eq!(steps.len(), 3, "{}: {steps:?}", t.lang);
            assert!(steps[0].starts_with(first_step), "{}: {steps:?}", t.lang);
            let end = browser.text("time[datetime]").await;
            let local = browser.attr("time[datetime]", "data-local-time").await;
            if js == Js::On {
                assert!(local.is_none(), "{}: shown in local time", t.lang);
            } else {
                assert!(end.contains("UTC"), "{}: {end}", t.lang);
            }
            browser
                .inspect(&format!("pass-{}-{js:?}-result", t.lang), &[])
                .await;
            browser.close().await;
        }
    }
}
