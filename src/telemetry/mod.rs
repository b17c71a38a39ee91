//! The tracing subscriber, set up once from LOG_LEVEL and LOG_FORMAT.

mod batch_writer;

use std::sync::OnceLock;

use tracing_subscriber::EnvFilter;

pub use batch_writer::BatchWriter;

/// Log line format (`LOG_FORMAT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// A `LOG_FORMAT` value that names no format.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not one of text, json")]
pub struct UnknownLogFormat(String);

impl LogFormat {
    /// `text` or `json`, in any letter case.
    pub fn parse(raw: &str) -> Result<Self, UnknownLogFormat> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            other => Err(UnknownLogFormat(other.to_owned())),
        }
    }
}

/// A plain level gets quiet defaults for chatty dependencies; a full filter is used as given.
pub fn filter(log_level: &str) -> EnvFilter {
    let level = log_level.trim();
    let directive = if level.contains('=') || level.contains(',') {
        level.to_owned()
    } else {
        format!("{level},sled=warn,hyper=warn,poem=warn,reqwest=warn,rustls=warn,lettre=warn")
    };
    EnvFilter::try_new(&directive).unwrap_or_else(|_| EnvFilter::new("info"))
}

/// The installed log sink, to write out what is buffered at exit.
static WRITER: OnceLock<BatchWriter<std::io::Stderr>> = OnceLock::new();

/// Installs the global subscriber, writing to stderr in batches ([`BatchWriter`]); later
/// calls (tests) are ignored.
pub fn init(log_level: &str, format: LogFormat) {
    if WRITER.get().is_some() {
        return;
    }
    // Colours only for a person at a terminal, not for files, journald or containers.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let writer = BatchWriter::spawn(std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter(log_level))
        .with_writer(writer.clone())
        .with_ansi(ansi);
    let installed = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .try_init(),
    };
    if installed.is_ok() {
        let _ = WRITER.set(writer);
    } else {
        writer.finish();
    }
}

/// Writes out every buffered line; call before the process exits.
pub fn flush() {
    if let Some(writer) = WRITER.get() {
        writer.finish();
    }
}
