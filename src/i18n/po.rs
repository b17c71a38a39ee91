//! Compiles gettext `.po` files to `.mo`, leaving out fuzzy entries. Shared by `build.rs`
//! (embedded catalogues) and start-up (`TRANSLATIONS_DIR`).

use std::path::Path;

use polib::po_file::POParseOptions;

#[path = "plural_forms.rs"]
pub mod plural_forms;

/// Reads `po_path` and writes the `.mo` to `mo_path`; returns the number of messages kept.
pub fn compile(po_path: &Path, mo_path: &Path) -> Result<usize, String> {
    // polib 0.3 panics on some malformed lines (a lone `"`, a string cut inside a multi-byte
    // character) instead of returning an error. A broken file in TRANSLATIONS_DIR must be
    // refused with its name, not crash start-up (found by the `po_loader` fuzz target).
    std::panic::catch_unwind(|| compile_unguarded(po_path, mo_path)).unwrap_or_else(|_| {
        Err(format!(
            "{}: not a valid .po file (look for a quoted string not closed on its line)",
            po_path.display()
        ))
    })
}

fn compile_unguarded(po_path: &Path, mo_path: &Path) -> Result<usize, String> {
    // `message_body_only` would drop the flags, and with them the fuzzy marks.
    let options = POParseOptions {
        message_body_only: false,
        translated_only: true,
        unsafe_utf8_decode: false,
    };
    let mut catalog = polib::po_file::parse_with_option(po_path, &options)
        .map_err(|err| format!("{}: {err}", po_path.display()))?;
    let rules = &mut catalog.metadata.plural_rules;
    rules.expr = plural_forms::parenthesize(&rules.expr)
        .map_err(|err| format!("{}: Plural-Forms: {err}", po_path.display()))?;
    let fuzzy: Vec<(Option<String>, String, Option<String>)> = catalog
        .messages()
        .filter(|message| message.is_fuzzy())
        .map(|message| {
            let plural = message.msgid_plural().ok().map(str::to_owned);
            (
                message.msgctxt().map(str::to_owned),
                message.msgid().to_owned(),
                plural,
            )
        })
        .collect();
    for (msgctxt, msgid, plural) in &fuzzy {
        catalog.delete_message(msgctxt.as_deref(), msgid, plural.as_deref());
    }
    polib::mo_file::write(&catalog, mo_path)
        .map_err(|err| format!("{}: {err}", mo_path.display()))?;
    Ok(catalog.count())
}
