//! A catalogue judged by what it says, not by how it is laid out: every message of the
//! template there, translated and not marked fuzzy, nothing `msgmerge` would change, and
//! nothing `msgfmt -c` complains about. Line wrapping, the order of entries and of header
//! fields, comments and `#:` references are the layout a translator's tool chooses (Poedit,
//! Weblate and `msginit` wrap at 79 columns and order the header their own way), so a file one
//! of them saved passes as long as its content is complete.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;

use polib::po_file::POParseOptions;

use super::{Catalogs, messages_in_code, po_files, po_path, translations};

/// Which message an entry translates.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    context: Option<String>,
    id: String,
    plural: Option<String>,
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.id)?;
        match &self.context {
            Some(context) => write!(f, " (msgctxt {context:?})"),
            None => Ok(()),
        }
    }
}

/// What an entry says: its translations (one, or one per plural form) and its fuzzy mark.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    translations: Vec<String>,
    fuzzy: bool,
}

/// Every entry of a catalogue but its header (which `msgfmt -c` checks).
type Content = BTreeMap<Key, Entry>;

fn content(text: &[u8], name: &str) -> Result<Content, String> {
    let options = POParseOptions {
        message_body_only: false,
        translated_only: false,
        unsafe_utf8_decode: false,
    };
    let catalog = polib::po_file::parse_from_reader_with_option(text, &options)
        .map_err(|err| format!("{name}: {err}"))?;
    Ok(catalog
        .messages()
        .map(|message| {
            let key = Key {
                context: message.msgctxt().map(str::to_owned),
                id: message.msgid().to_owned(),
                plural: message.msgid_plural().ok().map(str::to_owned),
            };
            let translations = match message.msgstr_plural() {
                Ok(forms) => forms.clone(),
                Err(_) => vec![message.msgstr().unwrap_or_default().to_owned()],
            };
            let fuzzy = message.is_fuzzy();
            (
                key,
                Entry {
                    translations,
                    fuzzy,
                },
            )
        })
        .collect())
}

fn run(command: &mut Command) -> (bool, String, Vec<u8>) {
    let output = command.output().expect("GNU gettext runs");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    (output.status.success(), stderr, output.stdout)
}

/// Everything wrong with the catalogue at `po` for `template`, one line each; empty when
/// nothing is.
fn problems(po: &Path, template: &Path) -> Vec<String> {
    let name = po.display().to_string();
    let mut problems = Vec::new();
    let (checked, complaints, _) = run(Command::new("msgfmt")
        .args(["-c", "-o", "/dev/null"])
        .arg(po));
    if !checked || !complaints.is_empty() {
        problems.push(format!("msgfmt -c: {}", complaints.trim()));
    }
    let (merged_ok, merge_errors, merged) = run(Command::new("msgmerge")
        .args(["--quiet", "-o", "-"])
        .arg(po)
        .arg(template));
    if !merged_ok {
        problems.push(format!("msgmerge: {}", merge_errors.trim()));
        return problems;
    }
    let own = std::fs::read(po).map_err(|err| format!("{name}: {err}"));
    let (own, merged) = match (
        own.and_then(|text| content(&text, &name)),
        content(&merged, "msgmerge"),
    ) {
        (Ok(own), Ok(merged)) => (own, merged),
        (own, merged) => {
            problems.extend(own.err().into_iter().chain(merged.err()));
            return problems;
        }
    };
    for (key, entry) in &merged {
        match own.get(key) {
            None => problems.push(format!("{key} is missing")),
            Some(mine) if mine != entry => problems.push(format!("{key}: msgmerge changes it")),
            Some(_) if entry.fuzzy => problems.push(format!("{key} is marked fuzzy")),
            Some(_) if entry.translations.iter().any(String::is_empty) => {
                problems.push(format!("{key} is not translated"));
            }
            Some(_) => {}
        }
    }
    for key in own.keys().filter(|key| !merged.contains_key(*key)) {
        problems.push(format!("{key} is no longer in the template"));
    }
    problems
}

/// Whether GNU gettext is installed; without it a test says what to install and passes,
/// unless TESTS_REQUIRE_TOOLS is set (tests/run sets it).
fn has_gettext() -> bool {
    let found = Command::new("msgmerge")
        .arg("--version")
        .output()
        .is_ok_and(|output| output.status.success());
    if !found {
        assert!(
            std::env::var_os("TESTS_REQUIRE_TOOLS").is_none(),
            "GNU gettext is missing: apt-get install gettext"
        );
        eprintln!("SKIPPED: needs GNU gettext (msgmerge, msgfmt): apt-get install gettext");
    }
    found
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/po")
        .join(name)
}

/// `po` as a translator's tool saves it: wrapped at 79 columns (`msgcat`, as `msginit`,
/// Poedit and Weblate do), the header fields in another order, other `#:` references.
fn as_a_tool_saves_it(po: &Path) -> String {
    let (wrapped_ok, errors, wrapped) = run(Command::new("msgcat").arg("--width=79").arg(po));
    assert!(wrapped_ok, "msgcat {}: {errors}", po.display());
    let wrapped = String::from_utf8(wrapped).expect("UTF-8");
    let (header, body) = wrapped.split_once("\n\n").expect("a header entry");
    let mut header: Vec<&str> = header.lines().collect();
    let fields = header
        .iter()
        .position(|line| line.starts_with('"'))
        .expect("header fields");
    header[fields..].reverse();
    let body: Vec<String> = body
        .lines()
        .map(|line| match line.starts_with("#: ") {
            true => "#: src/moved/elsewhere.rs:1".to_owned(),
            false => line.to_owned(),
        })
        .collect();
    format!("{}\n\n{}\n", header.join("\n"), body.join("\n"))
}

/// `text` with the entry translating `msgid` changed by `change` (the entries are the
/// blocks between blank lines).
fn with_entry(text: &str, msgid: &str, change: impl Fn(&str) -> String) -> String {
    let line = format!("msgid {msgid:?}\n");
    let mut found = false;
    let entries: Vec<String> = text
        .split("\n\n")
        .map(|entry| match format!("{entry}\n").contains(&line) {
            true => {
                found = true;
                change(entry)
            }
            false => entry.to_owned(),
        })
        .filter(|entry| !entry.is_empty())
        .collect();
    assert!(found, "no entry for {msgid:?}");
    entries.join("\n\n")
}

#[test]
fn every_catalogue_has_what_the_template_asks_and_msgfmt_check_is_silent() {
    if !has_gettext() {
        return;
    }
    for (_, path) in po_files(&po_path("")) {
        let problems = problems(&path, &po_path("messages.pot"));
        assert!(
            problems.is_empty(),
            "{}:\n{}\nUpdate it with `msgmerge --no-wrap --update {} po/messages.pot` and translate what is new (see po/README.md)",
            path.display(),
            problems.join("\n"),
            path.display()
        );
    }
}

#[test]
fn a_catalogue_a_translation_tool_saved_passes_whatever_its_layout() {
    if !has_gettext() {
        return;
    }
    // A small catalogue as Poedit saves it: wrapped, its own header order and references.
    let saved = fixture("wrapped.po");
    assert_eq!(
        problems(&saved, &fixture("messages.pot")),
        Vec::<String>::new()
    );

    // Each shipped catalogue saved so: it passes, and the server reads the same words from it.
    let dir = tempfile::tempdir().unwrap();
    for (code, path) in po_files(&po_path("")) {
        let copy = dir.path().join(format!("{code}.po"));
        let text = as_a_tool_saves_it(&path);
        assert_ne!(
            text,
            std::fs::read_to_string(&path).unwrap(),
            "{code}: a new layout"
        );
        std::fs::write(&copy, text).unwrap();
        let problems = problems(&copy, &po_path("messages.pot"));
        assert!(problems.is_empty(), "{code}:\n{}", problems.join("\n"));
    }
    let (shipped, saved) = (
        Catalogs::load(None, "en").unwrap(),
        Catalogs::load(Some(dir.path()), "en").unwrap(),
    );
    for code in shipped.codes() {
        let (shipped, saved) = (shipped.get(code).unwrap(), saved.get(code).unwrap());
        for message in messages_in_code() {
            assert_eq!(
                translations(&saved, &message),
                translations(&shipped, &message),
                "{code}: {:?}",
                message.id
            );
        }
    }
}

#[test]
fn a_catalogue_missing_a_message_fails_naming_it() {
    if !has_gettext() {
        return;
    }
    let missing = problems(&fixture("missing.po"), &fixture("messages.pot"));
    assert_eq!(missing, vec!["\"Sign up\" is missing"]);

    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("de.po");
    let german = as_a_tool_saves_it(&po_path("de.po"));
    std::fs::write(&copy, with_entry(&german, "Sign up", |_| String::new())).unwrap();
    assert_eq!(
        problems(&copy, &po_path("messages.pot")),
        vec!["\"Sign up\" is missing"]
    );
}

#[test]
fn a_catalogue_with_a_fuzzy_entry_fails_naming_it() {
    if !has_gettext() {
        return;
    }
    let fuzzy = problems(&fixture("fuzzy.po"), &fixture("messages.pot"));
    assert_eq!(
        fuzzy,
        vec!["\"To\" (msgctxt \"mail header\") is marked fuzzy"]
    );

    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("de.po");
    let german = as_a_tool_saves_it(&po_path("de.po"));
    let marked = with_entry(&german, "Sign up", |entry| {
        entry.replace("msgid \"Sign up\"", "#, fuzzy\nmsgid \"Sign up\"")
    });
    std::fs::write(&copy, marked).unwrap();
    assert_eq!(
        problems(&copy, &po_path("messages.pot")),
        vec!["\"Sign up\" is marked fuzzy"]
    );
}

#[test]
fn a_catalogue_msgfmt_check_refuses_fails_with_its_complaint() {
    if !has_gettext() {
        return;
    }
    let problems = problems(&fixture("bad-format.po"), &fixture("messages.pot"));
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].starts_with("msgfmt -c: ")
            && problems[0].contains("'msgid' and 'msgstr' entries do not both end with '\\n'"),
        "{problems:?}"
    );
}
