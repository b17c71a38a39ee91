//! `.po` files from `TRANSLATIONS_DIR`: arbitrary bytes through `po::compile` and
//! `Catalogs::load`. A broken file may be refused with an error; it must never panic.
#![no_main]

use std::cell::RefCell;
use std::panic::{self, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::{LazyLock, Once};

use libfuzzer_sys::fuzz_target;
use ms365_accountcreator::i18n::{Catalogs, po};

/// A TRANSLATIONS_DIR of our own, holding only the file under test (per process, so that
/// parallel runs do not share it; `fuzz/run` points TMPDIR at a directory it removes).
static DIR: LazyLock<PathBuf> = LazyLock::new(|| {
    let dir = std::env::temp_dir().join(format!("po-fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("the temp dir is writable");
    dir
});

thread_local! {
    static LAST_PANIC: RefCell<String> = const { RefCell::new(String::new()) };
}

/// `po::compile` catches polib's panics and reports an error, but libfuzzer-sys's panic
/// hook aborts on every panic, caught or not. This hook only remembers the message; a panic
/// that escapes the loader is reported and aborted on below.
fn remember_panics_quietly() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        panic::set_hook(Box::new(|info| {
            LAST_PANIC.with(|last| *last.borrow_mut() = info.to_string());
        }))
    });
}

fn load(data: &[u8]) {
    let po_path = DIR.join("xx.po");
    std::fs::write(&po_path, data).expect("the temp dir is writable");
    // `.mo` is not `.po`, so the loader below skips it.
    if po::compile(&po_path, &DIR.join("xx.mo")).is_err() {
        // The loader compiles the file the same way and would only fail again, after
        // parsing the embedded catalogues: skipping it keeps the inputs tried per second up.
        return;
    }
    if let Ok(catalogs) = Catalogs::load(Some(&DIR), "en")
        && let Some(tr) = catalogs.get("xx")
    {
        let _ = tr.language_name();
        let _ = tr.t("Please enter your first name.");
        let _ = tr.tf("Hello {name}", &[("name", "{name}")]);
    }
}

fuzz_target!(|data: &[u8]| {
    remember_panics_quietly();
    if panic::catch_unwind(AssertUnwindSafe(|| load(data))).is_err() {
        LAST_PANIC.with(|last| eprintln!("the .po loader panicked: {}", last.borrow()));
        std::process::abort();
    }
});
