//! How the voucher commands show a voucher: lines for a person, or JSON for a script.

use serde::Serialize;
use url::Url;

use crate::cli::timestamp;
use crate::domain::{DirectoryId, VoucherRefusal};
use crate::store::Voucher;
use crate::web::paths::voucher_link;

/// A voucher as the commands print it.
#[derive(Debug, Serialize)]
pub struct VoucherView {
    /// Grouped, as people type it.
    pub code: String,
    pub link: String,
    pub name: String,
    pub note: String,
    /// `null`: no limit.
    pub uses: Option<u32>,
    pub used: u32,
    /// `usable`, `revoked`, `expired` or `used_up`.
    pub state: &'static str,
    pub revoked: bool,
    pub revoked_at: Option<String>,
    pub valid_until: Option<String>,
    /// `null`: the configured ones.
    pub licences: Option<Vec<DirectoryId>>,
    pub groups: Option<Vec<DirectoryId>>,
    pub email_filter: Option<String>,
    pub lifetime_days: Option<u32>,
    pub ends_on: Option<String>,
    pub created_at: String,
}

impl VoucherView {
    pub fn of(voucher: &Voucher, base: &Url, now: u64) -> Self {
        let code = voucher.code.to_string();
        let terms = &voucher.terms;
        VoucherView {
            link: voucher_link(base, &code).to_string(),
            code,
            name: terms.name.clone(),
            note: terms.note.clone(),
            uses: terms.uses,
            used: voucher.used,
            state: match voucher.admits(now) {
                Ok(()) => "usable",
                Err(VoucherRefusal::Revoked) => "revoked",
                Err(VoucherRefusal::Expired) => "expired",
                Err(_) => "used_up",
            },
            revoked: voucher.revoked_at.is_some(),
            revoked_at: voucher.revoked_at.map(timestamp),
            valid_until: terms.valid_until.map(|date| date.to_string()),
            licences: terms.licences.clone(),
            groups: terms.groups.clone(),
            email_filter: terms.email_filter.clone(),
            lifetime_days: terms.lifetime_days,
            ends_on: terms.ends_on.map(|date| date.to_string()),
            created_at: timestamp(voucher.created_at),
        }
    }

    /// The lines of `show` and `create`: what it is and what it does.
    fn lines(&self) -> Vec<(&'static str, String)> {
        let ids = |ids: &Option<Vec<DirectoryId>>, default: &str| match ids {
            Some(ids) => ids
                .iter()
                .map(DirectoryId::as_str)
                .collect::<Vec<_>>()
                .join(", "),
            None => format!("the configured ones ({default})"),
        };
        let uses = match self.uses {
            Some(uses) => format!("{} of {uses} taken", self.used),
            None => format!("{} taken, no limit", self.used),
        };
        let end = match (self.lifetime_days, &self.ends_on) {
            (Some(days), _) => format!("{days} days after they are made"),
            (None, Some(date)) => format!("on {date}"),
            (None, None) => "as the settings say".to_owned(),
        };
        let mut lines = vec![
            ("code", self.code.clone()),
            ("link", self.link.clone()),
            ("name", self.name.clone()),
            ("uses", uses),
            ("state", self.state.to_owned()),
            (
                "valid until",
                self.valid_until
                    .as_ref()
                    .map_or("until revoked".to_owned(), |date| format!("{date} (UTC)")),
            ),
            ("licences", ids(&self.licences, "GRAPH_API_LICENSE_SKUS")),
            (
                "groups",
                ids(&self.groups, "GRAPH_API_GROUPS_FOR_NEW_USERS"),
            ),
            (
                "address filter",
                self.email_filter
                    .clone()
                    .unwrap_or_else(|| "the configured one (EMAIL_ADDRESS_FILTER)".to_owned()),
            ),
            ("accounts end", end),
            ("created", self.created_at.clone()),
        ];
        if let Some(at) = &self.revoked_at {
            lines.push(("revoked", at.clone()));
        }
        if !self.note.is_empty() {
            lines.push(("note", self.note.clone()));
        }
        lines
    }
}

/// One voucher: a line per property, or one JSON object.
pub fn print_one(view: &VoucherView, json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(view)?);
        return Ok(());
    }
    for (label, value) in view.lines() {
        println!("{:<16}{value}", format!("{label}:"));
    }
    Ok(())
}

/// Every voucher: a tab-separated line each under a header, or one JSON array.
pub fn print_list(views: &[VoucherView], json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(views)?);
        return Ok(());
    }
    println!("code\tname\tused\tuses\tvalid until\tstate");
    for view in views {
        println!(
            "{}\t{}\t{}\t{}\t{}\t{}",
            view.code,
            view.name,
            view.used,
            view.uses.map_or("-".to_owned(), |uses| uses.to_string()),
            view.valid_until.as_deref().unwrap_or("-"),
            view.state
        );
    }
    Ok(())
}
