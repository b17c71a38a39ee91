//! Layered loading (PRODUCT.md §6): key defaults → mode defaults → `/etc` file → `instance/`
//! file → `CONFIG_FILE` → environment variables → `*_FILE` secrets. Later layers win.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use super::ConfigError;
use super::keys::{self, Kind};

/// A checked configuration value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Str(String),
    Bool(bool),
    Int(i64),
    List(Vec<String>),
}

/// Where a value came from, for error messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Default,
    Mode(Mode),
    File(PathBuf),
    Env(String),
    EnvFile(String, PathBuf),
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Default => write!(f, "the built-in default"),
            Source::Mode(mode) => write!(f, "the {mode} mode default"),
            Source::File(path) => write!(f, "{}", path.display()),
            Source::Env(name) => write!(f, "environment variable {name}"),
            Source::EnvFile(name, path) => write!(f, "{} (named by {name})", path.display()),
        }
    }
}

/// The run mode, from the `MODE` environment variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Production,
    Debug,
    Test,
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Mode::Production => "PRODUCTION",
            Mode::Debug => "DEBUG",
            Mode::Test => "TEST",
        })
    }
}

impl Mode {
    fn parse(raw: &str) -> Result<Self, ConfigError> {
        match raw.trim().to_ascii_uppercase().as_str() {
            "" | "PRODUCTION" => Ok(Mode::Production),
            "DEBUG" => Ok(Mode::Debug),
            "TEST" => Ok(Mode::Test),
            _ => Err(ConfigError::Mode(raw.to_owned())),
        }
    }

    fn defaults(self) -> Vec<(&'static str, Value)> {
        let temp_store = |name: &str| {
            Value::Str(
                std::env::temp_dir()
                    .join(name)
                    .to_string_lossy()
                    .into_owned(),
            )
        };
        match self {
            Mode::Production => Vec::new(),
            Mode::Debug => vec![
                ("JWT_SECRET_KEY", Value::Str("debug".into())),
                ("MAILBOX_TAG_SECRET", Value::Str("debug".into())),
                ("DEBUG_DONT_CONNECT_TO_API", Value::Bool(true)),
                ("DEBUG_DONT_SEND_MAIL", Value::Bool(true)),
                ("PASSWORD_RESET_ENABLED", Value::Bool(true)),
                ("LOG_LEVEL", Value::Str("debug".into())),
                (
                    "DATABASE_PATH",
                    temp_store("ms365-accountcreator-debug.sled"),
                ),
            ],
            Mode::Test => vec![
                ("JWT_SECRET_KEY", Value::Str("test".into())),
                ("MAILBOX_TAG_SECRET", Value::Str("test".into())),
                ("DEBUG_DONT_CONNECT_TO_API", Value::Bool(true)),
                ("DEBUG_DONT_SEND_MAIL", Value::Bool(true)),
                (
                    "DATABASE_PATH",
                    temp_store("ms365-accountcreator-test.sled"),
                ),
            ],
        }
    }
}

/// Where the loader looks; tests point it elsewhere.
#[derive(Debug, Clone)]
pub struct Locations {
    pub system_file: PathBuf,
    pub instance_file: PathBuf,
}

impl Default for Locations {
    fn default() -> Self {
        Locations {
            system_file: PathBuf::from("/etc/ms365_accountcreator.conf"),
            instance_file: PathBuf::from("instance/ms365_accountcreator.conf"),
        }
    }
}

/// The merged values with their sources, plus warnings to log once logging is up.
#[derive(Debug, Default)]
pub struct Layers {
    pub mode: Option<Mode>,
    pub values: BTreeMap<&'static str, (Value, Source)>,
    pub warnings: Vec<String>,
}

impl Layers {
    /// Runs every layer in order. `env` stands in for the process environment.
    pub fn load(
        env: &dyn Fn(&str) -> Option<String>,
        locations: &Locations,
    ) -> Result<Self, ConfigError> {
        let mode = Mode::parse(&env("MODE").unwrap_or_default())?;
        let mut layers = Layers {
            mode: Some(mode),
            ..Layers::default()
        };
        layers.apply_key_defaults()?;
        for (name, value) in mode.defaults() {
            layers.set(name, value, Source::Mode(mode));
        }
        layers.apply_file(&locations.system_file)?;
        layers.apply_file(&locations.instance_file)?;
        if let Some(path) = env("CONFIG_FILE").filter(|path| !path.trim().is_empty()) {
            // Optional like the others (the container names /app-mnt's file whether or not
            // the operator made one), but worth a word, as a typo would look the same.
            let path = Path::new(path.trim());
            if !path.exists() {
                layers.warnings.push(format!(
                    "CONFIG_FILE={} does not exist; continuing without it",
                    path.display()
                ));
            }
            layers.apply_file(path)?;
        }
        layers.apply_env(env)?;
        layers.apply_env_files(env)?;
        layers.apply_voucher_aliases();
        Ok(layers)
    }

    fn set(&mut self, name: &'static str, value: Value, source: Source) {
        self.values.insert(name, (value, source));
    }

    fn apply_key_defaults(&mut self) -> Result<(), ConfigError> {
        for key in keys::KEYS.iter().filter(|key| !key.default.is_empty()) {
            let parsed = parse_toml_value(key.default).map_err(|_| ConfigError::Invalid {
                key: key.name,
                from: Source::Default,
                reason: "bad built-in default".into(),
            })?;
            let value = check_kind(key.kind, parsed).map_err(|reason| ConfigError::Invalid {
                key: key.name,
                from: Source::Default,
                reason,
            })?;
            self.set(key.name, value, Source::Default);
        }
        Ok(())
    }

    /// Reads one file; a missing file is skipped, an unreadable or invalid one is an error.
    fn apply_file(&mut self, path: &Path) -> Result<(), ConfigError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(err) => {
                return Err(ConfigError::Read {
                    path: path.to_owned(),
                    reason: err.to_string(),
                });
            }
        };
        let table: toml::Table =
            toml::from_str(&text).map_err(|err| file_syntax_error(path, &text, &err))?;
        for (name, raw) in table {
            let Some(key) = keys::find(&name) else {
                self.warnings.push(format!(
                    "{}: unknown configuration key {name} is ignored{}",
                    path.display(),
                    suggestion(&name)
                ));
                continue;
            };
            let source = Source::File(path.to_owned());
            if key.name == "MODE" {
                self.warnings.push(format!(
                    "{}: MODE is read from the environment only; the value in the file is ignored",
                    path.display()
                ));
                continue;
            }
            let value = check_kind(key.kind, raw).map_err(|reason| ConfigError::Invalid {
                key: key.name,
                from: source.clone(),
                reason,
            })?;
            self.set(key.name, value, source);
        }
        Ok(())
    }

    fn apply_env(&mut self, env: &dyn Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        for key in keys::KEYS.iter().filter(|key| key.name != "MODE") {
            let Some(raw) = env(key.name) else { continue };
            let source = Source::Env(key.name.to_owned());
            let value = parse_env_value(key.kind, &raw).map_err(|reason| ConfigError::Invalid {
                key: key.name,
                from: source.clone(),
                reason,
            })?;
            self.set(key.name, value, source);
        }
        Ok(())
    }

    fn apply_env_files(&mut self, env: &dyn Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        for &name in keys::FILE_SECRETS {
            let variable = format!("{name}_FILE");
            let Some(path) = env(&variable).filter(|path| !path.trim().is_empty()) else {
                continue;
            };
            let path = PathBuf::from(path.trim());
            let text = std::fs::read_to_string(&path).map_err(|err| ConfigError::Read {
                path: path.clone(),
                reason: err.to_string(),
            })?;
            let secret = text.trim_end_matches(['\r', '\n']).to_owned();
            self.set(name, Value::Str(secret), Source::EnvFile(variable, path));
        }
        Ok(())
    }
}

fn parse_toml_value(literal: &str) -> Result<toml::Value, toml::de::Error> {
    let mut table: toml::Table = toml::from_str(&format!("v = {literal}"))?;
    Ok(table
        .remove("v")
        .unwrap_or(toml::Value::String(String::new())))
}

/// Checks a TOML value against a key's kind.
fn check_kind(kind: Kind, value: toml::Value) -> Result<Value, String> {
    match (kind, value) {
        (Kind::Str | Kind::Secret, toml::Value::String(s)) => Ok(Value::Str(s)),
        (Kind::Bool, toml::Value::Boolean(b)) => Ok(Value::Bool(b)),
        (Kind::Int, toml::Value::Integer(i)) => Ok(Value::Int(i)),
        (Kind::List, toml::Value::Array(items)) => items
            .into_iter()
            .map(|item| match item {
                toml::Value::String(s) => Ok(s),
                other => Err(format!(
                    "expected a list of strings, found an element {other}"
                )),
            })
            .collect::<Result<_, _>>()
            .map(Value::List),
        (kind, other) => Err(format!(
            "expected {}, found {} `{other}`",
            kind_name(kind),
            other.type_str()
        )),
    }
}

/// Environment values are plain strings; lists may also be TOML arrays or comma-separated.
fn parse_env_value(kind: Kind, raw: &str) -> Result<Value, String> {
    let trimmed = raw.trim();
    match kind {
        Kind::Str | Kind::Secret => Ok(Value::Str(raw.to_owned())),
        Kind::Bool => match trimmed.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => Ok(Value::Bool(true)),
            "false" | "0" | "no" | "off" | "" => Ok(Value::Bool(false)),
            _ => Err(format!("expected true or false, found `{raw}`")),
        },
        Kind::Int => trimmed
            .parse()
            .map(Value::Int)
            .map_err(|_| format!("expected a whole number, found `{raw}`")),
        Kind::List if trimmed.starts_with('[') => parse_toml_value(trimmed)
            .map_err(|err| format!("not a TOML array of strings: {}", err.message()))
            .and_then(|value| check_kind(Kind::List, value)),
        Kind::List => Ok(Value::List(
            trimmed
                .split(',')
                .map(str::trim)
                .filter(|item| !item.is_empty())
                .map(str::to_owned)
                .collect(),
        )),
    }
}

fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Str | Kind::Secret => "a string in quotes",
        Kind::Bool => "true or false",
        Kind::Int => "a whole number",
        Kind::List => "a list of strings like [\"a\", \"b\"]",
    }
}

/// Names file, line and column, and explains the usual cause for files moved from the original.
fn file_syntax_error(path: &Path, text: &str, err: &toml::de::Error) -> ConfigError {
    let offset = err.span().map_or(0, |span| span.start);
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    let line_text = text.lines().nth(line - 1).unwrap_or_default();
    let hint = python_hint(line_text);
    ConfigError::Syntax {
        path: path.to_owned(),
        line,
        column,
        reason: err.message().to_owned(),
        hint,
    }
}

fn python_hint(line: &str) -> String {
    let value = line.split_once('=').map_or("", |(_, value)| value).trim();
    let word = value
        .split(|c: char| !c.is_alphanumeric())
        .next()
        .unwrap_or_default();
    match word {
        "True" | "False" => format!(
            "TOML writes booleans in lower case: use `{}` instead of `{word}` (the original's Python config files used True/False)",
            word.to_ascii_lowercase()
        ),
        "None" => "TOML has no None: remove the line to keep the default, or give an empty string \"\"".to_owned(),
        _ if value.starts_with('(') => "TOML writes lists in square brackets: [\"a\", \"b\"]".to_owned(),
        _ if !value.is_empty() && !value.starts_with(['"', '\'', '[']) && value.parse::<f64>().is_err() => {
            "text values need quotes in TOML, e.g. KEY = \"value\"".to_owned()
        }
        _ => "each line must be KEY = value in TOML syntax (strings in quotes, true/false in lower case)".to_owned(),
    }
}

fn suggestion(name: &str) -> String {
    let upper = name.to_ascii_uppercase();
    if let Some(advice) = keys::RETIRED
        .iter()
        .find(|(old, _)| *old == upper)
        .map(|(_, advice)| advice)
    {
        return format!(" ({advice})");
    }
    match keys::find(&upper) {
        Some(key) if upper != name => format!(" (did you mean {}?)", key.name),
        _ => String::new(),
    }
}
