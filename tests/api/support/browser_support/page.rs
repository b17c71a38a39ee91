//! Reading and driving the page as a person would: find, read, click, type, press keys, wait.

use std::time::{Duration, Instant};

use fantoccini::Locator;
use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::elements::Element;
use serde_json::Value;

use super::Browser;

/// True once the document has been painted. Chromium drops keyboard and mouse input sent to
/// a new document before its first frame is on screen, which under load can be well after
/// `load`: a Tab pressed then is lost and the focus stays on `body`. A page a person acts on
/// is one they can see.
const PAINTED: &str = "performance.getEntriesByType('paint').length > 0";

impl Browser {
    /// Opens `url` and waits until it is shown (loaded and painted).
    pub async fn goto(&self, url: &str) {
        self.client
            .goto(url)
            .await
            .unwrap_or_else(|err| panic!("cannot open {url}: {err}"));
        self.wait_for(
            &format!("{url} to be painted"),
            &format!("return {PAINTED}"),
        )
        .await;
    }

    /// Runs `script` (a function body; `arguments` are `args`) in the page.
    pub async fn js(&self, script: &str, args: Vec<Value>) -> Value {
        self.client
            .execute(script, args)
            .await
            .unwrap_or_else(|err| panic!("script failed: {err}\n{script}"))
    }

    pub async fn js_bool(&self, script: &str) -> bool {
        self.js(script, vec![]).await.as_bool().unwrap_or(false)
    }

    pub async fn js_string(&self, script: &str) -> String {
        match self.js(script, vec![]).await {
            Value::String(s) => s,
            Value::Null => String::new(),
            other => other.to_string(),
        }
    }

    pub async fn find(&self, css: &str) -> Element {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|err| panic!("no element matches `{css}`: {err}"))
    }

    pub async fn find_all(&self, css: &str) -> Vec<Element> {
        self.client
            .find_all(Locator::Css(css))
            .await
            .unwrap_or_else(|err| panic!("finding `{css}` failed: {err}"))
    }

    pub async fn exists(&self, css: &str) -> bool {
        !self.find_all(css).await.is_empty()
    }

    /// Whether the element (which must exist) is shown: rendered, not `display: none`.
    pub async fn shown(&self, css: &str) -> bool {
        self.find(css)
            .await
            .is_displayed()
            .await
            .expect("displayedness")
    }

    /// The visible text of the first match, trimmed.
    pub async fn text(&self, css: &str) -> String {
        self.find(css)
            .await
            .text()
            .await
            .expect("element text")
            .trim()
            .to_owned()
    }

    pub async fn texts(&self, css: &str) -> Vec<String> {
        let mut texts = Vec::new();
        for element in self.find_all(css).await {
            texts.push(
                element
                    .text()
                    .await
                    .expect("element text")
                    .trim()
                    .to_owned(),
            );
        }
        texts
    }

    pub async fn attr(&self, css: &str, name: &str) -> Option<String> {
        self.find(css).await.attr(name).await.expect("attribute")
    }

    /// The current value of an input (the property, not the attribute).
    pub async fn value(&self, css: &str) -> String {
        self.find(css)
            .await
            .prop("value")
            .await
            .expect("value")
            .unwrap_or_default()
    }

    pub async fn checked(&self, css: &str) -> bool {
        self.find(css).await.is_selected().await.expect("checked")
    }

    pub async fn click(&self, css: &str) {
        self.find(css)
            .await
            .click()
            .await
            .unwrap_or_else(|err| panic!("cannot click `{css}`: {err}"));
    }

    /// Clicks the link or button whose visible text is `text`.
    pub async fn click_text(&self, css: &str, text: &str) {
        for element in self.find_all(css).await {
            if element.text().await.expect("text").trim() == text {
                element.click().await.expect("click");
                return;
            }
        }
        panic!(
            "no `{css}` reads {text:?}; there are {:?}",
            self.texts(css).await
        );
    }

    /// Types into a field as a person would (clicking it first), replacing its content.
    pub async fn type_into(&self, css: &str, text: &str) {
        let field = self.find(css).await;
        field.clear().await.expect("clear");
        field
            .send_keys(text)
            .await
            .unwrap_or_else(|err| panic!("cannot type into `{css}`: {err}"));
    }

    /// Presses keys on whatever has the focus, one after the other (`Key::Tab.into()` etc.).
    pub async fn press(&self, keys: &[char]) {
        let mut actions = KeyActions::new("keyboard".to_owned());
        for &key in keys {
            actions = actions
                .then(KeyAction::Down { value: key })
                .then(KeyAction::Up { value: key });
        }
        self.client
            .perform_actions(actions)
            .await
            .expect("key presses");
    }

    /// Types text on the keyboard into whatever has the focus.
    pub async fn type_keys(&self, text: &str) {
        let keys: Vec<char> = text.chars().collect();
        self.press(&keys).await;
    }

    /// `id` (or, without one, tag and text) of the focused element.
    pub async fn focused(&self) -> String {
        self.js_string(
            "const e = document.activeElement;
             if (!e || e === document.body) return 'body';
             return e.id ? '#' + e.id : e.tagName.toLowerCase() + ':' + (e.textContent || '').trim();",
        )
        .await
    }

    pub async fn path(&self) -> String {
        let url = self.client.current_url().await.expect("current URL");
        match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_owned(),
        }
    }

    /// Waits up to 10 s for a script to return true; panics naming what did not happen.
    pub async fn wait_for(&self, what: &str, script: &str) {
        let started = Instant::now();
        loop {
            if self.js_bool(script).await {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "timed out waiting for {what} (on {})",
                self.path().await
            );
            tokio::time::sleep(Duration::from_millis(40)).await;
        }
    }

    /// Waits for a navigation to a new document to finish and the document to be shown
    /// (no-JS form posts and links).
    pub async fn wait_for_page(&self, what: &str) {
        let shown =
            format!("return document.readyState === 'complete' && !window.__samePage && {PAINTED}");
        self.wait_for(what, &shown).await;
    }

    /// Marks the current document; `same_document()` tells whether it is still the one shown.
    pub async fn mark_document(&self) {
        self.js("window.__samePage = true;", vec![]).await;
    }

    pub async fn same_document(&self) -> bool {
        self.js_bool("return window.__samePage === true").await
    }
}
