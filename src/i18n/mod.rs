//! Translations: gettext catalogues compiled at build time, optionally replaced at start-up
//! from `TRANSLATIONS_DIR`, looked up per request without any process-global locale.

pub mod po;
mod time;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

pub use time::rfc3339;

include!(concat!(env!("OUT_DIR"), "/catalogs.rs"));

/// One available language.
#[derive(Debug)]
pub struct Language {
    code: String,
    catalog: gettext::Catalog,
}

/// Every available language, keyed by code (`de`, `en`, …).
#[derive(Debug, Clone)]
pub struct Catalogs {
    languages: BTreeMap<String, Arc<Language>>,
    default: Arc<Language>,
}

/// Why the catalogues cannot be loaded.
#[derive(Debug, thiserror::Error)]
pub enum I18nError {
    #[error("catalogue {lang}: {reason}")]
    Catalogue { lang: String, reason: String },
    #[error("cannot read TRANSLATIONS_DIR {dir}: {reason}")]
    Dir { dir: String, reason: String },
    #[error("DEFAULT_LANGUAGE {0:?} has no catalogue; available: {1}")]
    UnknownDefault(String, String),
}

impl Catalogs {
    /// The embedded catalogues, overlaid with the `.po` files of `translations_dir`.
    pub fn load(
        translations_dir: Option<&Path>,
        default_language: &str,
    ) -> Result<Self, I18nError> {
        let mut languages = BTreeMap::new();
        for (code, bytes) in EMBEDDED {
            languages.insert((*code).to_owned(), parse_mo(code, bytes)?);
        }
        if let Some(dir) = translations_dir {
            for (code, catalog) in load_dir(dir)? {
                languages.insert(code, catalog);
            }
        }
        let languages: BTreeMap<String, Arc<Language>> = languages
            .into_iter()
            .map(|(code, catalog)| (code.clone(), Arc::new(Language { code, catalog })))
            .collect();
        let default = languages.get(default_language).cloned().ok_or_else(|| {
            I18nError::UnknownDefault(
                default_language.to_owned(),
                languages.keys().cloned().collect::<Vec<_>>().join(", "),
            )
        })?;
        Ok(Catalogs { languages, default })
    }

    /// Language codes, sorted.
    pub fn codes(&self) -> impl Iterator<Item = &str> {
        self.languages.keys().map(String::as_str)
    }

    /// A translator for `code`, if that language exists.
    pub fn get(&self, code: &str) -> Option<Tr> {
        self.languages
            .get(&code.to_ascii_lowercase())
            .map(|language| Tr(language.clone()))
    }

    /// Translators for every language, for the language switcher.
    pub fn all(&self) -> impl Iterator<Item = Tr> + '_ {
        self.languages.values().map(|language| Tr(language.clone()))
    }

    pub fn default_tr(&self) -> Tr {
        Tr(self.default.clone())
    }

    /// Picks the language: an explicit choice (URL or form), then the `lang` header, then
    /// `Accept-Language`, then `DEFAULT_LANGUAGE`.
    pub fn negotiate(
        &self,
        explicit: Option<&str>,
        lang_header: Option<&str>,
        accept_language: Option<&str>,
    ) -> Tr {
        self.negotiate_with_source(explicit, lang_header, accept_language)
            .0
    }

    /// [`negotiate`](Self::negotiate), saying which of the sources decided.
    pub fn negotiate_with_source(
        &self,
        explicit: Option<&str>,
        lang_header: Option<&str>,
        accept_language: Option<&str>,
    ) -> (Tr, LanguageSource) {
        let from_list =
            |list: Option<&str>| list.and_then(|list| self.best_of_accept_language(list));
        if let Some(tr) = explicit.and_then(|code| self.get(code.trim())) {
            (tr, LanguageSource::Chosen)
        } else if let Some(tr) = from_list(lang_header) {
            (tr, LanguageSource::LangHeader)
        } else if let Some(tr) = from_list(accept_language) {
            (tr, LanguageSource::AcceptLanguage)
        } else {
            (self.default_tr(), LanguageSource::Default)
        }
    }

    /// The best available language of an `Accept-Language` list (`de-DE,de;q=0.9,en;q=0.5`).
    fn best_of_accept_language(&self, header: &str) -> Option<Tr> {
        let mut ranges: Vec<(f32, usize, &str)> = header
            .split(',')
            .enumerate()
            .filter_map(|(position, item)| {
                let mut parts = item.split(';');
                let tag = parts.next()?.trim();
                let quality = parts
                    .filter_map(|param| param.trim().strip_prefix("q="))
                    .find_map(|q| q.trim().parse::<f32>().ok())
                    .unwrap_or(1.0);
                (!tag.is_empty() && quality > 0.0).then_some((quality, position, tag))
            })
            .collect();
        ranges.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        ranges.into_iter().find_map(|(_, _, tag)| {
            let primary = tag.split(['-', '_']).next().unwrap_or(tag);
            self.get(tag).or_else(|| self.get(primary))
        })
    }
}

fn parse_mo(code: &str, bytes: &[u8]) -> Result<gettext::Catalog, I18nError> {
    // gettext 0.4 panics on some malformed Plural-Forms headers (an unclosed parenthesis)
    // instead of returning an error; a broken file in TRANSLATIONS_DIR must be refused, not
    // crash start-up (found by the `po_loader` fuzz target).
    let parsed = match std::panic::catch_unwind(|| gettext::Catalog::parse(bytes)) {
        Ok(parsed) => parsed.map_err(|err| err.to_string()),
        Err(_) => Err("cannot be parsed (look at its Plural-Forms header)".to_owned()),
    };
    parsed.map_err(|reason| I18nError::Catalogue {
        lang: code.to_owned(),
        reason,
    })
}

fn load_dir(dir: &Path) -> Result<Vec<(String, gettext::Catalog)>, I18nError> {
    let dir_error = |reason: String| I18nError::Dir {
        dir: dir.display().to_string(),
        reason,
    };
    let entries = std::fs::read_dir(dir).map_err(|err| dir_error(err.to_string()))?;
    let mut catalogs = Vec::new();
    for entry in entries {
        let path = entry.map_err(|err| dir_error(err.to_string()))?.path();
        let Some(code) = path
            .file_stem()
            .and_then(|s| s.to_str())
            .map(str::to_ascii_lowercase)
        else {
            continue;
        };
        if path.extension().is_none_or(|ext| ext != "po") {
            continue;
        }
        let mo_path = std::env::temp_dir().join(format!(
            "ms365-accountcreator-{}-{code}.mo",
            std::process::id()
        ));
        let compiled = po::compile(&path, &mo_path);
        let bytes = compiled.and_then(|_| std::fs::read(&mo_path).map_err(|err| err.to_string()));
        let _ = std::fs::remove_file(&mo_path);
        let bytes = bytes.map_err(|reason| I18nError::Catalogue {
            lang: code.clone(),
            reason,
        })?;
        catalogs.push((code.clone(), parse_mo(&code, &bytes)?));
    }
    Ok(catalogs)
}

/// Marks a message for extraction where it is chosen, not translated (gettext's `N_`); the
/// caller translates it later with [`Tr::t`].
pub const fn n_(msgid: &'static str) -> &'static str {
    msgid
}

/// Which source decided a request's language, strongest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LanguageSource {
    /// Chosen in the request itself: the URL (`/de`, `?lang=de`) or a form field.
    Chosen,
    /// The `lang` header (the API's way).
    LangHeader,
    /// The browser's `Accept-Language`.
    AcceptLanguage,
    /// `DEFAULT_LANGUAGE`.
    Default,
}

/// A request's translator: cheap to clone, owns its catalogue reference.
#[derive(Debug, Clone)]
pub struct Tr(Arc<Language>);

impl Tr {
    /// The language code, for `<html lang>` and links.
    pub fn lang(&self) -> &str {
        &self.0.code
    }

    /// The language's own name, for the switcher.
    pub fn language_name(&self) -> &str {
        // Translators: the language's name in itself (Deutsch, Français), in the switcher.
        self.pt("language name", "English")
    }

    /// Translates a message.
    pub fn t<'a>(&'a self, msgid: &'a str) -> &'a str {
        self.0.catalog.gettext(msgid)
    }

    /// Translates a message and fills its `{name}` placeholders in one pass, so a value that
    /// itself contains `{…}` (a person's name, say) is never expanded.
    pub fn tf(&self, msgid: &str, args: &[(&str, &str)]) -> String {
        fill(self.0.catalog.gettext(msgid), args)
    }

    /// Translates a message in a context (gettext's `pgettext`): for a short word that needs
    /// another translation elsewhere, or whose meaning the word alone does not show.
    pub fn pt<'a>(&'a self, context: &'a str, msgid: &'a str) -> &'a str {
        self.0.catalog.pgettext(context, msgid)
    }

    /// Translates a message about `count` things in the plural form the language's
    /// `Plural-Forms` picks (gettext's `ngettext`), then fills its placeholders as
    /// [`tf`](Self::tf) does. `{count}` is the number itself.
    pub fn nf(&self, singular: &str, plural: &str, count: u64, args: &[(&str, &str)]) -> String {
        let count_text = count.to_string();
        let mut all = Vec::with_capacity(args.len() + 1);
        all.push(("count", count_text.as_str()));
        all.extend_from_slice(args);
        fill(self.0.catalog.ngettext(singular, plural, count), &all)
    }
}

/// Replaces each `{name}` of `template` whose name is in `args`; others stay as written.
fn fill(template: &str, args: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let filled = after.find('}').and_then(|close| {
            let name = &after[..close];
            args.iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| (*value, close))
        });
        match filled {
            Some((value, close)) => {
                out.push_str(value);
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests;
