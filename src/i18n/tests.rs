use std::collections::BTreeSet;
use std::path::Path;

use super::*;

mod catalogue;
mod extract;

use extract::{Message, messages_in_code, pot_text};

fn po_path(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("po").join(name)
}

/// Counts that reach every plural form of the common Plural-Forms rules.
const COUNTS: [u64; 10] = [0, 1, 2, 3, 5, 11, 21, 22, 25, 101];

/// Each translation of `message` in `tr`: one, or one per count for a plural.
fn translations(tr: &Tr, message: &Message) -> Vec<String> {
    let catalog = &tr.0.catalog;
    match (&message.context, &message.plural) {
        (Some(context), _) => vec![catalog.pgettext(context, &message.id).to_owned()],
        (None, Some(plural)) => COUNTS
            .iter()
            .map(|&n| catalog.ngettext(&message.id, plural, n).to_owned())
            .collect(),
        (None, None) => vec![catalog.gettext(&message.id).to_owned()],
    }
}

#[test]
fn the_template_lists_every_message_in_the_code() {
    let messages = messages_in_code();
    assert!(
        messages.len() > 40,
        "the extractor found only {} messages",
        messages.len()
    );
    let expected = pot_text(&messages);
    if std::env::var_os("UPDATE_POT").is_some() {
        std::fs::write(po_path("messages.pot"), &expected).unwrap();
    }
    let actual = std::fs::read_to_string(po_path("messages.pot")).unwrap_or_default();
    assert!(
        actual == expected,
        "po/messages.pot is out of date: run `UPDATE_POT=1 cargo test --lib i18n` and translate the new messages in po/*.po"
    );
}

/// The `.po` files of `dir`, by language code, sorted.
fn po_files(dir: &Path) -> Vec<(String, std::path::PathBuf)> {
    let mut files: Vec<(String, std::path::PathBuf)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "po"))
        .map(|path| (path.file_stem().unwrap().to_str().unwrap().to_owned(), path))
        .collect();
    files.sort();
    files
}

/// A language code no catalogue will ever have: ISO 639's "no linguistic content".
const UNKNOWN: &str = "zxx";

/// Every `.po` file of `dir` translates every message of the code and names its language.
fn assert_catalogues_translate_every_message(dir: &Path) {
    let messages = messages_in_code();
    for (_, path) in po_files(dir) {
        let options = polib::po_file::POParseOptions {
            message_body_only: false,
            translated_only: false,
            unsafe_utf8_decode: false,
        };
        let catalog = polib::po_file::parse_with_option(&path, &options).unwrap();
        let mut missing = Vec::new();
        for message in &messages {
            let entry = catalog.find_message(
                message.context.as_deref(),
                &message.id,
                message.plural.as_deref(),
            );
            match entry {
                Some(m) if m.is_translated() && !m.is_fuzzy() => {}
                _ => missing.push(message.id.clone()),
            }
        }
        let name = catalog.find_message(Some("language name"), "English", None);
        assert!(
            name.is_some_and(|m| m.is_translated()),
            "{}: the language name is missing",
            path.display()
        );
        assert!(
            missing.is_empty(),
            "{} lacks translations for:\n{}",
            path.display(),
            missing.join("\n")
        );
    }
}

/// Every `{placeholder}` of a message is in each language's translation, and no other; a
/// plural form may leave out `{count}` ("one minute").
fn assert_placeholders_survive_translation(catalogs: &Catalogs) {
    let placeholder = regex::Regex::new(r"\{[a-z_]+\}").unwrap();
    let found = |text: &str| -> BTreeSet<String> {
        placeholder
            .find_iter(text)
            .map(|m| m.as_str().to_owned())
            .collect()
    };
    for message in messages_in_code() {
        let mut expected = found(&message.id);
        expected.extend(found(message.plural.as_deref().unwrap_or_default()));
        for tr in catalogs.all() {
            for translated in translations(&tr, &message) {
                let mut got = found(&translated);
                if message.plural.is_some() {
                    got.insert("{count}".to_owned());
                }
                assert_eq!(
                    got,
                    expected,
                    "{}: {:?} → {translated:?}",
                    tr.lang(),
                    message.id
                );
            }
        }
    }
}

/// Each language is found by its code, by `Accept-Language` (also with a region) and by
/// the `lang` header, and has a name of its own; an unknown code falls back to the default.
fn assert_every_language_is_negotiated_and_named(catalogs: &Catalogs, default: &str) {
    for code in catalogs.codes() {
        let lang = |explicit, header, accept| {
            catalogs
                .negotiate(explicit, header, accept)
                .lang()
                .to_owned()
        };
        let regional = format!("{UNKNOWN}, {code}-XX;q=0.5");
        assert_eq!(lang(Some(code), None, None), code);
        assert_eq!(lang(None, Some(code), Some(UNKNOWN)), code);
        assert_eq!(lang(None, None, Some(&regional)), code);
        assert_eq!(lang(Some(UNKNOWN), None, Some(code)), code);
        assert!(!catalogs.get(code).unwrap().language_name().is_empty());
    }
    assert_eq!(
        catalogs.negotiate(None, None, Some(UNKNOWN)).lang(),
        default
    );
}

#[test]
fn every_catalogue_translates_every_message() {
    assert_catalogues_translate_every_message(&po_path(""));
}

#[test]
fn placeholders_survive_translation() {
    assert_placeholders_survive_translation(&Catalogs::load(None, "en").unwrap());
}

#[test]
fn every_po_file_is_an_embedded_language_that_is_negotiated_and_named() {
    let catalogs = Catalogs::load(None, "en").unwrap();
    let files: Vec<String> = po_files(&po_path(""))
        .into_iter()
        .map(|(code, _)| code)
        .collect();
    assert_eq!(catalogs.codes().collect::<Vec<_>>(), files);
    assert_every_language_is_negotiated_and_named(&catalogs, "en");
    // The two shipped catalogues, as examples.
    assert_eq!(catalogs.get("de").unwrap().language_name(), "Deutsch");
    assert_eq!(catalogs.get("en").unwrap().language_name(), "English");
    assert_eq!(catalogs.get("de").unwrap().t("Sign up"), "Registrieren");
}

#[test]
fn a_catalogue_copied_under_a_new_code_into_translations_dir_passes_every_check() {
    // Arrange: what a translator does — a new language from an existing catalogue.
    let code = "fr";
    let dir = tempfile::tempdir().unwrap();
    let german = std::fs::read_to_string(po_path("de.po")).unwrap();
    let french = german.replace("msgstr \"Deutsch\"", "msgstr \"Français\"");
    assert_ne!(german, french, "de.po names its language \"Deutsch\"");
    std::fs::write(dir.path().join(format!("{code}.po")), french).unwrap();

    // Act
    let catalogs = Catalogs::load(Some(dir.path()), "en").unwrap();

    // Assert: the checks the shipped catalogues pass hold for it too.
    assert!(catalogs.codes().any(|c| c == code));
    assert_eq!(catalogs.get(code).unwrap().language_name(), "Français");
    assert_catalogues_translate_every_message(dir.path());
    assert_placeholders_survive_translation(&catalogs);
    assert_every_language_is_negotiated_and_named(&catalogs, "en");
    let as_default = Catalogs::load(Some(dir.path()), code).unwrap();
    assert_every_language_is_negotiated_and_named(&as_default, code);
}

#[test]
fn negotiation_prefers_explicit_then_header_then_accept_language_then_default() {
    let catalogs = Catalogs::load(None, "en").unwrap();
    let lang = |explicit, header, accept| {
        catalogs
            .negotiate(explicit, header, accept)
            .lang()
            .to_owned()
    };
    let unknown_first = format!("{UNKNOWN}-ZZ,de-AT;q=0.8,en;q=0.5");
    assert_eq!(lang(Some("de"), Some("en"), Some("en")), "de");
    assert_eq!(lang(Some(UNKNOWN), Some("de"), Some("en")), "de");
    assert_eq!(lang(None, None, Some(&unknown_first)), "de");
    assert_eq!(lang(None, None, Some("en;q=0.4, de;q=0.9")), "de");
    assert_eq!(lang(None, None, Some("de;q=0, en")), "en");
    assert_eq!(lang(None, None, Some(UNKNOWN)), "en");
    assert_eq!(lang(None, None, None), "en");
    let german_default = Catalogs::load(None, "de").unwrap();
    assert_eq!(
        german_default.negotiate(None, None, Some(UNKNOWN)).lang(),
        "de"
    );
}

#[test]
fn an_unknown_default_language_is_refused_naming_the_available_ones() {
    let catalogs = Catalogs::load(None, "en").unwrap();
    let available = catalogs.codes().collect::<Vec<_>>().join(", ");
    let err = Catalogs::load(None, UNKNOWN).unwrap_err();
    assert!(err.to_string().contains(&available), "{err}");
}

#[test]
fn translations_dir_overrides_and_adds_languages_without_a_rebuild() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("de.po"),
        "msgid \"\"\nmsgstr \"\"\n\"Content-Type: text/plain; charset=UTF-8\\n\"\n\nmsgid \"Example University\"\nmsgstr \"Hochschule Musterstadt\"\n\n#, fuzzy\nmsgid \"Sign up\"\nmsgstr \"Unfertig\"\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("fr.po"),
        "msgid \"\"\nmsgstr \"\"\n\"Content-Type: text/plain; charset=UTF-8\\n\"\n\nmsgctxt \"language name\"\nmsgid \"English\"\nmsgstr \"Français\"\n\nmsgid \"Sign up\"\nmsgstr \"S'inscrire\"\n",
    )
    .unwrap();
    let catalogs = Catalogs::load(Some(dir.path()), "en").unwrap();
    let de = catalogs.get("de").unwrap();
    assert_eq!(de.t("Example University"), "Hochschule Musterstadt");
    assert_eq!(de.t("Sign up"), "Sign up", "fuzzy entries are left out");
    let fr = catalogs.get("fr").unwrap();
    assert_eq!(fr.language_name(), "Français");
    assert_eq!(fr.t("Sign up"), "S'inscrire");
}

#[test]
fn a_broken_po_file_is_an_error_naming_the_language() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("de.po"), "msgid \"unterminated\nmsgstr\n").unwrap();
    let err = Catalogs::load(Some(dir.path()), "en").unwrap_err();
    assert!(err.to_string().contains("de"), "{err}");
}

#[test]
fn a_po_file_the_parser_chokes_on_is_an_error_not_a_panic() {
    // Inputs on which polib 0.3 panics while slicing a line (found by fuzzing).
    for text in ["msgid \"\"\nmsgstr \"\"\n\"\n", "msgid \"x\"\nmsgstr \"ä\n"] {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("de.po"), text).unwrap();
        let err = Catalogs::load(Some(dir.path()), "en").unwrap_err();
        assert!(err.to_string().contains("de.po"), "{text:?}: {err}");
    }
}

#[test]
fn a_plural_forms_header_gettext_chokes_on_is_an_error_not_a_panic() {
    // gettext 0.4 panics on an unclosed parenthesis in the plural expression (found by
    // fuzzing).
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("de.po"),
        "msgid \"\"\nmsgstr \"\"\n\"Plural-Forms: nplurals=2; plural=(;\\n\"\n\nmsgid \"a\"\nmsgstr \"b\"\n",
    )
    .unwrap();
    let err = Catalogs::load(Some(dir.path()), "en").unwrap_err();
    assert!(err.to_string().contains("catalogue de"), "{err}");
}

#[test]
fn concurrent_lookups_in_different_languages_each_get_their_own() {
    let catalogs = Catalogs::load(None, "en").unwrap();
    std::thread::scope(|scope| {
        for code in ["de", "en", "de", "en"] {
            let tr = catalogs.get(code).unwrap();
            scope.spawn(move || {
                let expected = if code == "de" {
                    "Registrieren"
                } else {
                    "Sign up"
                };
                for _ in 0..20_000 {
                    assert_eq!(tr.t("Sign up"), expected);
                }
            });
        }
    });
}

#[test]
fn placeholders_are_filled_once_and_values_are_not_expanded() {
    let catalogs = Catalogs::load(None, "en").unwrap();
    let tr = catalogs.get("en").unwrap();
    assert_eq!(
        tr.tf("Hello {name},", &[("name", "{name} {email}")]),
        "Hello {name} {email},"
    );
}

#[test]
fn counts_take_the_form_each_catalogues_plural_forms_picks() {
    // Arrange: the shipped catalogues, and one with three forms (Polish's rule).
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("pl.po"),
        concat!(
            "msgid \"\"\nmsgstr \"\"\n\"Content-Type: text/plain; charset=UTF-8\\n\"\n",
            "\"Plural-Forms: nplurals=3; plural=(n==1 ? 0 : n%10>=2 && n%10<=4 && (n%100<10 || n%100>=20) ? 1 : 2);\\n\"\n\n",
            "msgid \"{count} minute\"\nmsgid_plural \"{count} minutes\"\n",
            "msgstr[0] \"{count} minuta\"\nmsgstr[1] \"{count} minuty\"\nmsgstr[2] \"{count} minut\"\n",
        ),
    )
    .unwrap();
    let catalogs = Catalogs::load(Some(dir.path()), "en").unwrap();
    let minutes = |lang: &str, n: u64| {
        let (one, many) = (
            "Too many attempts. Please try again in {count} minute.",
            "Too many attempts. Please try again in {count} minutes.",
        );
        catalogs.get(lang).unwrap().nf(one, many, n, &[])
    };
    let polish = catalogs.get("pl").unwrap();

    // Act / Assert
    assert_eq!(
        minutes("en", 1),
        "Too many attempts. Please try again in a minute."
    );
    assert_eq!(
        minutes("en", 2),
        "Too many attempts. Please try again in 2 minutes."
    );
    assert_eq!(
        minutes("de", 1),
        "Zu viele Versuche. Bitte versuchen Sie es in einer Minute erneut."
    );
    assert_eq!(
        minutes("de", 30),
        "Zu viele Versuche. Bitte versuchen Sie es in 30 Minuten erneut."
    );
    for (n, expected) in [
        (1, "1 minuta"),
        (3, "3 minuty"),
        (5, "5 minut"),
        (22, "22 minuty"),
        (12, "12 minut"),
    ] {
        assert_eq!(
            polish.nf("{count} minute", "{count} minutes", n, &[]),
            expected,
            "n = {n}"
        );
    }
}

#[test]
fn the_english_texts_say_support_without_an_article() {
    // "contact the support" is not English; German catalogues say "den Support" themselves.
    let wrong: Vec<String> = messages_in_code()
        .into_iter()
        .filter(|m| m.id.contains("the support"))
        .map(|m| m.id)
        .collect();
    assert!(wrong.is_empty(), "{wrong:#?}");
}
