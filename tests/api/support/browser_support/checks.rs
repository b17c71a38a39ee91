//! What a person does not see directly but a test must: console and CSP problems, axe-core's
//! findings, the layout at a phone's width, and screenshots.

use std::path::{Path, PathBuf};

use base64::Engine;
use serde_json::{Value, json};

use super::{Browser, DESKTOP, Js, PHONE};

/// axe-core from npm (see `tests/fixtures/axe-core/README.md`), injected into pages.
const AXE_SOURCE: &str = include_str!("../../../fixtures/axe-core/axe.min.js");

/// See `assert_accessible`: lets axe-core finish in a page whose scripts are disabled.
const TIMERS_AS_PROMISES: &str = r#"
const later = (fn, args) => { Promise.resolve().then(() => fn(...args)); return 0; };
window.setTimeout = (fn, _ms, ...args) => later(fn, args);
window.clearTimeout = () => {};
window.requestAnimationFrame = (fn) => later(fn, [performance.now()]);
window.requestIdleCallback = (fn) => later(fn, [{ didTimeout: false, timeRemaining: () => 50 }]);
"#;

impl Browser {
    /// Emulates a viewport `width` CSS pixels wide (a phone at [`PHONE`], else a desktop).
    pub async fn set_width(&self, width: u32) {
        self.cdp(
            "Emulation.setDeviceMetricsOverride",
            json!({
                "width": width, "height": 900, "screenWidth": width, "screenHeight": 900,
                "deviceScaleFactor": 1, "mobile": width <= 480,
            }),
        )
        .await;
        let screen = self.js("return screen.width", vec![]).await;
        assert_eq!(
            screen.as_u64(),
            Some(u64::from(width)),
            "the emulated screen did not take the width"
        );
    }

    /// Reads and empties the browser's console log (chromedriver's `se/log`).
    async fn drain_log(&self) {
        let entries = self
            .session_post("se/log", json!({ "type": "browser" }))
            .await;
        let mut log = self.log.lock().expect("log lock");
        for entry in entries.as_array().into_iter().flatten() {
            let level = entry["level"].as_str().unwrap_or("");
            let message = entry["message"].as_str().unwrap_or("");
            if level == "SEVERE" || level == "WARNING" || message.contains("Content Security") {
                log.push(format!("{level}: {message}"));
            }
        }
    }

    /// Everything the console and the recorder noticed since the last call, except lines
    /// containing one of `expected` (e.g. the 422 of a deliberately invalid form).
    pub async fn problems(&self, expected: &[&str]) -> Vec<String> {
        self.drain_log().await;
        let mut problems: Vec<String> = std::mem::take(&mut *self.log.lock().expect("log lock"));
        let recorded = self
            .js(
                "const p = window.__problems; if (p) window.__problems = []; return p === undefined ? null : p;",
                vec![],
            )
            .await;
        match (self.js, recorded) {
            (_, Value::Array(items)) => problems.extend(
                items
                    .into_iter()
                    .map(|v| v.as_str().unwrap_or_default().to_owned()),
            ),
            (Js::On, other) => panic!(
                "the problem recorder is not installed in this page ({other}); CSP violations would go unnoticed"
            ),
            (Js::Off, _) => {}
        }
        problems.retain(|line| !expected.iter().any(|e| line.contains(e)));
        problems
    }

    pub async fn assert_no_problems(&self, step: &str, expected: &[&str]) {
        let problems = self.problems(expected).await;
        assert!(
            problems.is_empty(),
            "{step}: the browser reported problems:\n{}",
            problems.join("\n")
        );
    }

    /// Runs axe-core on the page; panics listing every serious or critical violation.
    pub async fn assert_accessible(&self, step: &str) {
        if !self.js_bool("return typeof window.axe === 'object'").await {
            if self.js == Js::Off {
                // Without JavaScript, Chromium runs WebDriver's scripts and their promises
                // but never fires timers, and axe waits on timers. No page script exists to
                // notice, so timers become promise callbacks for axe's sake.
                self.js(TIMERS_AS_PROMISES, vec![]).await;
            }
            self.js(AXE_SOURCE, vec![]).await;
        }
        let result = self
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 axe.run(document, { resultTypes: ['violations'], preload: false })
                   .then((r) => done({
                     violations: r.violations.map((v) => ({
                       id: v.id, impact: v.impact, help: v.help,
                       nodes: v.nodes.map((n) => n.target.join(' ') + ': ' + n.failureSummary),
                     })),
                     checked: r.passes.concat(r.violations).map((v) => v.id),
                   }))
                   .catch((e) => done({ error: String(e) }));",
                vec![],
            )
            .await
            .unwrap_or_else(|err| panic!("{step}: axe-core did not run: {err}"));
        assert!(
            result.get("error").is_none(),
            "{step}: axe-core failed: {}",
            result["error"]
        );
        let checked: Vec<&str> = result["checked"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        assert!(
            checked.contains(&"color-contrast"),
            "{step}: axe could not judge the colour contrast (checked: {checked:?})"
        );
        let mut serious = Vec::new();
        for violation in result["violations"].as_array().into_iter().flatten() {
            let impact = violation["impact"].as_str().unwrap_or("");
            let line = format!(
                "[{impact}] {}: {}\n    {}",
                violation["id"].as_str().unwrap_or(""),
                violation["help"].as_str().unwrap_or(""),
                violation["nodes"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join("\n    ")
            );
            if impact == "serious" || impact == "critical" {
                serious.push(line);
            } else {
                eprintln!("{step}: axe (not failing): {line}");
            }
        }
        assert!(
            serious.is_empty(),
            "{step}: axe-core found serious or critical accessibility problems:\n{}",
            serious.join("\n")
        );
    }

    /// At the phone width: no horizontal scrolling; then a full-page screenshot at both
    /// widths into `target/screenshots/{name}-{width}.png`.
    pub async fn check_layout_and_photograph(&self, name: &str) {
        let dir = screenshot_dir();
        for width in [PHONE, DESKTOP] {
            self.set_width(width).await;
            if width == PHONE {
                let widths = self
                    .js(
                        "return [document.documentElement.scrollWidth, window.innerWidth]",
                        vec![],
                    )
                    .await;
                assert_eq!(
                    widths,
                    json!([PHONE, PHONE]),
                    "{name}: at {PHONE} px the page is wider than the screen ([scrollWidth, \
                     innerWidth]: a phone scrolls sideways or zooms out)"
                );
            }
            let shot = self
                .cdp(
                    "Page.captureScreenshot",
                    json!({ "format": "png", "captureBeyondViewport": true }),
                )
                .await;
            let png = base64::engine::general_purpose::STANDARD
                .decode(shot["data"].as_str().expect("screenshot data"))
                .expect("base64 screenshot");
            let path = dir.join(format!("{name}-{width}.png"));
            std::fs::write(&path, png)
                .unwrap_or_else(|err| panic!("cannot write {}: {err}", path.display()));
        }
    }

    /// Everything a step is checked for: console, accessibility, layout, screenshots.
    pub async fn inspect(&self, name: &str, expected_problems: &[&str]) {
        self.assert_no_problems(name, expected_problems).await;
        self.assert_accessible(name).await;
        self.check_layout_and_photograph(name).await;
    }
}

/// `target/screenshots/` (or under `CARGO_TARGET_DIR`), created on first use.
pub fn screenshot_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    let dir = target.join("screenshots");
    std::fs::create_dir_all(&dir).expect("target/screenshots can be created");
    dir
}
