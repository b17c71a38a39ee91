//! The tracing subscriber, set up once from LOG_LEVEL and LOG_FORMAT.

use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

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

/// Installs the global subscriber; later calls (tests) are ignored.
pub fn init(log_level: &str, format: LogFormat) {
    // Colours only for a person at a terminal, not for files, journald or containers.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter(log_level))
        .with_writer(std::io::stderr)
        .with_ansi(ansi);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .try_init(),
    };
}
