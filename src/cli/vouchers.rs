//! `vouchers create | list | show | revoke`: the codes that let a course, guests or staff
//! sign up with their own licences, groups, address filter and account end. Each prints
//! lines for a person, or JSON with `--json`. Stop the server first on sled; on PostgreSQL
//! these run beside it.

mod qr;
mod view;

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use url::Url;

use crate::config::Settings;
use crate::domain::{Day, DirectoryId, VoucherCode, VoucherMode, VoucherTerms};
use crate::startup::open_store;
use crate::store::{Store, Voucher};
use view::{VoucherView, print_list, print_one};

#[derive(Debug, Subcommand)]
pub enum VouchersCommand {
    /// Makes a voucher and prints its code and its link `{PUBLIC_URL}/?voucher=CODE`.
    Create(CreateArgs),
    /// Every voucher with its uses taken.
    List {
        /// A JSON array instead of lines.
        #[arg(long)]
        json: bool,
    },
    /// One voucher, everything about it; `--qr` writes its QR code again.
    Show {
        /// The code, in any letter case, with or without hyphens.
        code: String,
        #[arg(long)]
        json: bool,
        /// Also write the link as a QR code into this file (.svg or .png).
        #[arg(long, value_name = "FILE")]
        qr: Option<PathBuf>,
    },
    /// Stops a voucher admitting anybody. Accounts made with it stay as they are.
    Revoke {
        /// The code, in any letter case, with or without hyphens.
        code: String,
    },
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// For operators: which course or which guests (shown in `vouchers list` and the
    /// metrics, never to the people signing up).
    #[arg(long)]
    name: String,
    /// For operators, anything else.
    #[arg(long, default_value = "")]
    note: String,
    /// How many accounts it makes at most (default: no limit).
    #[arg(long)]
    uses: Option<u32>,
    /// The last day (UTC) it admits sign-ups, YYYY-MM-DD (default: until revoked).
    #[arg(long, value_name = "DATE", value_parser = Day::parse)]
    valid_until: Option<Day>,
    /// A licence SKU id the accounts get instead of GRAPH_API_LICENSE_SKUS (repeat for more).
    #[arg(long = "licence", alias = "license", value_name = "SKU", value_parser = DirectoryId::parse)]
    licences: Vec<DirectoryId>,
    /// A group object id the accounts join instead of GRAPH_API_GROUPS_FOR_NEW_USERS
    /// (repeat for more).
    #[arg(long = "group", value_name = "ID", value_parser = DirectoryId::parse)]
    groups: Vec<DirectoryId>,
    /// A regular expression the whole address must match instead of EMAIL_ADDRESS_FILTER,
    /// e.g. for guests from another institution (their mailbox is still verified).
    #[arg(long, value_name = "REGEX")]
    email_filter: Option<String>,
    /// The accounts end this many days after they are made.
    #[arg(long, value_name = "D", conflicts_with = "ends_on")]
    lifetime_days: Option<u32>,
    /// The accounts end on this day (YYYY-MM-DD).
    #[arg(long, value_name = "DATE", value_parser = Day::parse)]
    ends_on: Option<Day>,
    /// Also write the link as a QR code into this file (.svg or .png).
    #[arg(long, value_name = "FILE")]
    qr: Option<PathBuf>,
    /// One JSON object instead of lines.
    #[arg(long)]
    json: bool,
}

impl CreateArgs {
    fn terms(&self) -> anyhow::Result<VoucherTerms> {
        let listed = |ids: &[DirectoryId]| (!ids.is_empty()).then(|| ids.to_vec());
        let terms = VoucherTerms {
            name: self.name.clone(),
            note: self.note.clone(),
            uses: self.uses,
            valid_until: self.valid_until,
            licences: listed(&self.licences),
            groups: listed(&self.groups),
            email_filter: self.email_filter.clone(),
            lifetime_days: self.lifetime_days,
            ends_on: self.ends_on,
        };
        Ok(terms.checked()?)
    }
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Where links lead: `PUBLIC_URL`, or outside PRODUCTION the address in `BIND`.
fn public_url(settings: &Settings) -> anyhow::Result<Url> {
    match &settings.public_url {
        Some(url) => Ok(url.clone()),
        None => Url::parse(&format!("http://{}/", settings.bind))
            .with_context(|| format!("BIND {} makes no link: set PUBLIC_URL", settings.bind)),
    }
}

/// A code as typed on the command line.
fn code(raw: &str) -> anyhow::Result<VoucherCode> {
    VoucherCode::parse(raw).with_context(|| format!("`{raw}` is not a voucher code"))
}

pub async fn run(command: VouchersCommand, settings: &Settings) -> anyhow::Result<()> {
    let store = open_store(settings).await?;
    let base = public_url(settings)?;
    let result = match command {
        VouchersCommand::Create(args) => create(&store, settings, &base, &args).await,
        VouchersCommand::List { json } => list(&store, &base, json).await,
        VouchersCommand::Show {
            code: raw,
            json,
            qr,
        } => show(&store, &base, &code(&raw)?, json, qr).await,
        VouchersCommand::Revoke { code: raw } => revoke(&store, &code(&raw)?).await,
    };
    store.close().await?;
    result
}

async fn create(
    store: &Store,
    settings: &Settings,
    base: &Url,
    args: &CreateArgs,
) -> anyhow::Result<()> {
    let terms = args.terms()?;
    let voucher = Voucher::new(VoucherCode::generate()?, terms, now());
    if !store.create_voucher(&voucher).await? {
        bail!(
            "a voucher with the new code exists already (80 random bits met twice): run it again"
        );
    }
    tracing::info!(voucher = %voucher.code.redacted(), name = %voucher.terms.name, "voucher created");
    let view = VoucherView::of(&voucher, base, now());
    if let Some(path) = &args.qr {
        qr::write(&view.link, path)?;
    }
    print_one(&view, args.json)?;
    if settings.vouchers == VoucherMode::Off {
        eprintln!(
            "note: VOUCHERS is off, so the sign-up asks for no voucher: set VOUCHERS = \"optional\" or \"required\""
        );
    }
    Ok(())
}

async fn list(store: &Store, base: &Url, json: bool) -> anyhow::Result<()> {
    let now = now();
    let mut views = Vec::new();
    for voucher in store.vouchers().await? {
        views.push(VoucherView::of(&voucher?, base, now));
    }
    print_list(&views, json)
}

async fn show(
    store: &Store,
    base: &Url,
    code: &VoucherCode,
    json: bool,
    qr: Option<PathBuf>,
) -> anyhow::Result<()> {
    let Some(voucher) = store.voucher(code).await? else {
        bail!("there is no voucher {code}");
    };
    let view = VoucherView::of(&voucher, base, now());
    if let Some(path) = &qr {
        qr::write(&view.link, path)?;
    }
    print_one(&view, json)
}

async fn revoke(store: &Store, code: &VoucherCode) -> anyhow::Result<()> {
    let Some(voucher) = store.revoke_voucher(code, now()).await? else {
        bail!("there is no voucher {code}");
    };
    tracing::info!(voucher = %code.redacted(), "voucher revoked");
    println!(
        "revoked {} ({}); the {} accounts made with it stay as they are",
        voucher.code, voucher.terms.name, voucher.used
    );
    Ok(())
}
