//! Reads the translatable messages out of the sources, as `xgettext` would for Rust, and
//! writes `po/messages.pot` from them with the file each message is used in (`#:`), the
//! translator comments above its call (`#.`), its context and its plural.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// One message of the template.
#[derive(Debug, Default)]
pub struct Message {
    pub context: Option<String>,
    pub id: String,
    pub plural: Option<String>,
    /// Source files, relative to the crate (`src/web/signup.rs`).
    pub files: BTreeSet<String>,
    /// `// Translators:` comments written above the calls, without the `//`.
    pub comments: Vec<String>,
}

/// Every message the code passes to `t`, `tf`, `n_` (singular), `nf` (singular, plural) or
/// `pt` (context, singular), sorted by id then context.
pub fn messages_in_code() -> Vec<Message> {
    let string = r#""((?:[^"\\]|\\.)*)""#;
    let call = regex::Regex::new(&format!(
        r"(\.tf?|\bn_|\.nf|\.pt)\(\s*{string}(?:\s*,\s*{string})?"
    ))
    .expect("a valid regex");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut found: BTreeMap<(String, Option<String>), Message> = BTreeMap::new();
    for path in rust_sources(&root.join("src")) {
        let text = std::fs::read_to_string(&path).expect("a readable source file");
        let lines: Vec<&str> = text.lines().collect();
        let file = path
            .strip_prefix(root)
            .expect("under the crate")
            .to_string_lossy()
            .replace('\\', "/");
        for capture in call.captures_iter(&text) {
            let first = unescape(&capture[2]);
            let second = capture.get(3).map(|m| unescape(m.as_str()));
            let (context, id, plural) = match &capture[1] {
                ".nf" => (None, first, second),
                ".pt" => (Some(first), second.unwrap_or_default(), None),
                _ => (None, first, None),
            };
            let line = text[..capture.get(0).expect("a match").start()]
                .matches('\n')
                .count();
            let message = found
                .entry((id.clone(), context.clone()))
                .or_insert_with(|| Message {
                    context,
                    id,
                    ..Message::default()
                });
            message.plural = message.plural.take().or(plural);
            message.files.insert(file.clone());
            if let Some(comment) = translator_comment(&lines, line)
                && !message.comments.contains(&comment)
            {
                message.comments.push(comment);
            }
        }
    }
    found.into_values().collect()
}

/// The `.rs` files under `dir`, without the i18n tests (whose calls are examples).
fn rust_sources(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("a readable directory") {
            let path = entry.expect("a directory entry").path();
            if path.ends_with("i18n/tests") || path.ends_with("i18n/tests.rs") {
                continue;
            } else if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// The comment block right above `line` from its `Translators:` line on, joined.
fn translator_comment(lines: &[&str], line: usize) -> Option<String> {
    let mut block = Vec::new();
    for above in lines[..line].iter().rev() {
        match above.trim_start().strip_prefix("//") {
            Some(comment) if !comment.starts_with('/') => block.push(comment.trim()),
            _ => break,
        }
    }
    block.reverse();
    let start = block.iter().position(|c| c.starts_with("Translators:"))?;
    Some(block[start..].join(" "))
}

fn unescape(literal: &str) -> String {
    literal.replace("\\\"", "\"").replace("\\\\", "\\")
}

fn quoted(text: &str) -> String {
    format!(
        "\"{}\"",
        text.replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace('\n', "\\n")
    )
}

/// The template, in the layout `msgmerge --no-wrap` keeps: one line per string.
pub fn pot_text(messages: &[Message]) -> String {
    let mut pot = String::from(concat!(
        "# Messages of ms365-accountcreator: the template for po/*.po (see po/README.md).\n",
        "# Generated from the sources: UPDATE_POT=1 cargo test --lib i18n\n",
        "#\n",
        "#, fuzzy\n",
        "msgid \"\"\n",
        "msgstr \"\"\n",
        "\"Project-Id-Version: ms365-accountcreator\\n\"\n",
        "\"PO-Revision-Date: YEAR-MO-DA HO:MI+ZONE\\n\"\n",
        "\"Last-Translator: FULL NAME <EMAIL@ADDRESS>\\n\"\n",
        "\"Language-Team: LANGUAGE <LL@li.org>\\n\"\n",
        "\"Language: \\n\"\n",
        "\"MIME-Version: 1.0\\n\"\n",
        "\"Content-Type: text/plain; charset=UTF-8\\n\"\n",
        "\"Content-Transfer-Encoding: 8bit\\n\"\n",
        "\"Plural-Forms: nplurals=INTEGER; plural=EXPRESSION;\\n\"\n",
    ));
    for message in messages {
        pot.push('\n');
        for comment in &message.comments {
            pot.push_str(&format!("#. {comment}\n"));
        }
        let files: Vec<&str> = message.files.iter().map(String::as_str).collect();
        pot.push_str(&format!("#: {}\n", files.join(" ")));
        if let Some(context) = &message.context {
            pot.push_str(&format!("msgctxt {}\n", quoted(context)));
        }
        pot.push_str(&format!("msgid {}\n", quoted(&message.id)));
        match &message.plural {
            Some(plural) => pot.push_str(&format!(
                "msgid_plural {}\nmsgstr[0] \"\"\nmsgstr[1] \"\"\n",
                quoted(plural)
            )),
            None => pot.push_str("msgstr \"\"\n"),
        }
    }
    pot
}
