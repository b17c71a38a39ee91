//! Compressed answers: the assets (compressed at build time) and the empty forms (once the
//! server answers), as the client's `Accept-Encoding` prefers, each form with its own ETag.

use std::io::Read;

use crate::support::helpers::{TestApp, attr, header, spawn_app};
use crate::support::routes::paths;

fn decoded(encoding: Option<&str>, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    match encoding {
        Some("br") => {
            brotli::BrotliDecompress(&mut &body[..], &mut out).unwrap();
        }
        Some("gzip") => {
            flate2::read::GzDecoder::new(body)
                .read_to_end(&mut out)
                .unwrap();
        }
        None => out.extend_from_slice(body),
        Some(other) => panic!("unexpected encoding {other}"),
    }
    out
}

async fn fetch(app: &TestApp, path: &str, accept: Option<&str>) -> reqwest::Response {
    let mut request = app.client.get(app.url(path));
    if let Some(accept) = accept {
        request = request.header("accept-encoding", accept);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn assets_and_the_empty_form_are_sent_in_the_form_the_client_prefers() {
    let app = spawn_app().await;
    app.wait_until_pages_compressed().await;
    let page = app.get_home().await.text().await.unwrap();
    let script = attr(&page, "script[src*=htmx]", "src").unwrap();
    for path in [paths::HOME, &paths::home_in("de"), &script, paths::STYLE] {
        let plain = fetch(&app, path, None).await;
        assert_eq!(header(&plain, "content-encoding"), None, "{path}");
        let original = plain.bytes().await.unwrap();
        for (accept, expected) in [
            ("br, gzip", Some("br")),
            ("gzip, deflate, br, zstd", Some("br")),
            ("gzip", Some("gzip")),
            ("br;q=0.5, gzip", Some("gzip")),
            ("identity", None),
        ] {
            // Act
            let response = fetch(&app, path, Some(accept)).await;

            // Assert
            assert_eq!(response.status(), 200, "{path} {accept}");
            let encoding = header(&response, "content-encoding");
            assert_eq!(encoding.as_deref(), expected, "{path} {accept}");
            let vary = header(&response, "vary").unwrap_or_default();
            assert!(
                vary.to_ascii_lowercase().contains("accept-encoding"),
                "{path}: Vary {vary:?}"
            );
            let body = response.bytes().await.unwrap();
            if expected.is_some() {
                assert!(
                    body.len() * 2 < original.len(),
                    "{path} {accept}: {} bytes",
                    body.len()
                );
            }
            assert_eq!(decoded(expected, &body), original, "{path} {accept}");
        }
    }
}

#[tokio::test]
async fn each_form_of_an_asset_has_its_own_etag_and_revalidates_by_it() {
    let app = spawn_app().await;
    let path = paths::HTMX_SCRIPT;
    let mut etags = Vec::new();
    for accept in ["br", "gzip", "identity"] {
        let response = fetch(&app, path, Some(accept)).await;
        assert_eq!(response.status(), 200, "{accept}");
        let etag = header(&response, "etag").unwrap();
        // The same form again with its ETag: 304; another form with it: the body.
        let again = app
            .client
            .get(app.url(path))
            .header("accept-encoding", accept)
            .header("if-none-match", &etag)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), 304, "{accept}");
        assert!(header(&again, "vary").is_some_and(|v| v.contains("Accept-Encoding")));
        etags.push(etag);
    }
    etags.dedup();
    assert_eq!(etags.len(), 3, "{etags:?}");
    let other = app
        .client
        .get(app.url(path))
        .header("accept-encoding", "gzip")
        .header("if-none-match", &etags[0])
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 200);
}

#[tokio::test]
async fn a_first_visit_transfers_at_most_22_kb_when_the_browser_accepts_br() {
    let app = spawn_app().await;
    app.wait_until_pages_compressed().await;
    let accept = Some("br, gzip");
    let response = fetch(&app, paths::HOME, accept).await;
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "content-encoding").as_deref(), Some("br"));
    let page = response.bytes().await.unwrap();
    let html = String::from_utf8(decoded(Some("br"), &page)).unwrap();
    let document = scraper::Html::parse_document(&html);
    let linked = scraper::Selector::parse("link[href], script[src]").unwrap();
    let mut total = page.len();
    let mut fetched = Vec::new();
    for element in document.select(&linked) {
        let value = element.value();
        let url = value.attr("href").or(value.attr("src")).unwrap();
        let asset = fetch(&app, url, accept).await;
        assert_eq!(asset.status(), 200, "{url}");
        let encoding = header(&asset, "content-encoding");
        let body = asset.bytes().await.unwrap();
        assert!(!decoded(encoding.as_deref(), &body).is_empty(), "{url}");
        total += body.len();
        fetched.push(url.to_owned());
    }
    // What a first visit needs at least: the style sheet and htmx.
    for needed in ["style", "htmx"] {
        assert!(
            fetched.iter().any(|url| url.contains(needed)),
            "{needed} is not linked: {fetched:?}"
        );
    }
    assert!(total <= 22 * 1024, "a first visit transfers {total} bytes");
}
