//! `audit export`: the operators' audit log as JSON lines; and the audit line each command
//! that acts on someone's data writes before it acts.

use std::io::Write;

use anyhow::Context;
use clap::Subcommand;

use crate::config::Settings;
use crate::domain::{AuditAction, AuditActor, AuditEntry, AuditSource, ExportedAuditEntry};
use crate::startup::open_store;
use crate::store::{AuditQuery, Store};

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Prints the audit log as JSON lines, oldest first: one object per action with its
    /// number (`seq`), time (`time`, and `at` in Unix seconds), who (`actor`: `upn`,
    /// `object_id`, `source`), what (`action`, `subject`, `detail`) and the client address
    /// (`client`). On sled, stop the server first, or download the same lines from the
    /// console's audit page.
    Export {
        /// Only actions on or after this day (`2026-12-01`, UTC) or moment (RFC 3339).
        #[arg(long)]
        since: Option<String>,
        /// Only this operator's actions: their UPN or object id.
        #[arg(long)]
        operator: Option<String>,
        /// Only this action (`sign_in`, `sign_out`, `sign_in_refused`, `retry`, `forget`,
        /// `voucher_create`, `voucher_revoke`, `extend`).
        #[arg(long)]
        action: Option<String>,
    },
}

pub async fn run(command: AuditCommand, settings: &Settings) -> anyhow::Result<()> {
    match command {
        AuditCommand::Export {
            since,
            operator,
            action,
        } => {
            let query = AuditQuery {
                since: since.as_deref().map(parse_since).transpose()?,
                operator,
                action: action.as_deref().map(AuditAction::parse).transpose()?,
                oldest_first: true,
                ..AuditQuery::default()
            };
            let store = open_store(settings).await?;
            export(&store, &query, &mut std::io::stdout().lock()).await
        }
    }
}

/// Writes the lines `query` finds to `out`, one JSON object each. A line that does not
/// decode stops the export, naming it: an export that silently left it out would not be
/// the whole log.
async fn export(store: &Store, query: &AuditQuery, out: &mut impl Write) -> anyhow::Result<()> {
    for entry in store.audit_entries(query).await? {
        let entry = entry.context("an audit line does not decode (`store verify` names it)")?;
        serde_json::to_writer(&mut *out, &ExportedAuditEntry::new(&entry))?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(())
}

/// `2026-12-01` (the day's start, UTC) or an RFC 3339 time, as Unix seconds.
pub fn parse_since(text: &str) -> anyhow::Result<u64> {
    let text = text.trim();
    let day_only = text.len() == 10 && text.as_bytes().get(4) == Some(&b'-');
    let moment = if day_only {
        format!("{text}T00:00:00Z")
    } else {
        text.to_owned()
    };
    let time = humantime::parse_rfc3339_weak(&moment).with_context(|| {
        format!("`{text}` is no date: write it as 2026-12-01 or 2026-12-01T08:00:00Z")
    })?;
    Ok(time
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_secs()))
}

/// Who runs a command, as the audit log names them: the local user.
pub fn local_actor() -> AuditActor {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "unknown".to_owned());
    AuditActor {
        upn: user,
        object_id: None,
        source: AuditSource::CommandLine,
    }
}

/// Writes the audit line of a command about to act, before it acts: who (the local user),
/// what and on what. A command whose line cannot be written does nothing.
pub async fn record(
    store: &Store,
    action: AuditAction,
    subject: Option<String>,
    detail: Option<String>,
) -> anyhow::Result<()> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let entry = AuditEntry {
        seq: 0,
        at: now,
        actor: local_actor(),
        action,
        subject,
        detail,
        client: None,
    };
    store
        .append_audit(&entry)
        .await
        .context("cannot write the audit line, so nothing was done")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_day_is_its_start_in_utc_and_a_moment_is_itself() {
        assert_eq!(parse_since("2026-12-01").unwrap(), 1_796_083_200);
        assert_eq!(parse_since("2026-12-01T08:00:00Z").unwrap(), 1_796_112_000);
        assert!(parse_since("yesterday").is_err());
        assert!(parse_since("2026-13-01").is_err());
    }
}
