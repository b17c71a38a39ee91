//! `check`: is the configuration usable? Settings, store, Graph (key, certificate, token,
//! the token's password and pass permissions, the tenant's Temporary Access Pass policy,
//! SKUs with their prepaid and consumed units, groups) and SMTP (connect, TLS, login), one
//! line per check.

use clap::Args;

use crate::config::Settings;
use crate::domain::VoucherRefusal;
use crate::graph::check::{CheckResult, GrantOwner};
use crate::mail::SmtpMailer;
use crate::store::{Store, Voucher};

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Print the results as a JSON array instead of lines.
    #[arg(long)]
    json: bool,
    /// Leave out the Microsoft Graph checks.
    #[arg(long)]
    skip_graph: bool,
    /// Leave out the SMTP checks.
    #[arg(long)]
    skip_smtp: bool,
}

/// Runs every check; fails (non-zero exit) when any check failed. A configuration that
/// does not load is reported as the first check's failure: nothing else can be checked.
pub async fn run(args: CheckArgs, settings: anyhow::Result<Settings>) -> anyhow::Result<()> {
    let settings = match settings {
        Ok(settings) => settings,
        Err(err) => {
            let results = [CheckResult::fail("configuration", format!("{err:#}"))];
            return report(&args, &results);
        }
    };
    let settings = &settings;
    let mut results = vec![
        CheckResult::pass("configuration", format!("valid ({} mode)", settings.mode)),
        secret("JWT_SECRET_KEY", &settings.jwt_secret_key),
        secret("MAILBOX_TAG_SECRET", &settings.mailbox_tag_secret),
    ];
    let store = crate::startup::open_store(settings).await;
    results.push(match &store {
        Ok(store) if settings.database_url.is_some() => {
            CheckResult::pass("store", format!("{} answers", store.describe()))
        }
        Ok(_) => CheckResult::pass(
            "store",
            format!("{} opens", settings.database_path.display()),
        ),
        Err(err) => CheckResult::fail("store", format!("{err:#}")),
    });
    let vouchers = match &store {
        Ok(store) => live_vouchers(store, &mut results).await,
        Err(_) => Vec::new(),
    };
    drop(store);
    if settings.debug_dont_connect_to_api {
        results.push(CheckResult::pass(
            "Microsoft Graph",
            "not checked: DEBUG_DONT_CONNECT_TO_API simulates it",
        ));
    } else if !args.skip_graph {
        let needs = crate::graph::check::Needs {
            password_reset: settings.password_reset_ttl.is_some(),
            pass: settings.credential.temporary_access_pass(),
        };
        let names: Vec<String> = vouchers
            .iter()
            .map(|voucher| format!("voucher {}", voucher.terms.name))
            .collect();
        let owners: Vec<GrantOwner<'_>> = vouchers
            .iter()
            .zip(&names)
            .map(|(voucher, name)| GrantOwner {
                name,
                fix: VOUCHER_FIX,
                licences: voucher.terms.licences.as_deref().unwrap_or_default(),
                groups: voucher.terms.groups.as_deref().unwrap_or_default(),
            })
            .collect();
        results.extend(crate::graph::check::check(&settings.graph, needs, &owners).await);
    }
    if settings.debug_dont_send_mail {
        results.push(CheckResult::pass(
            "SMTP",
            "not checked: DEBUG_DONT_SEND_MAIL keeps mails in memory; none is sent",
        ));
    } else if !args.skip_smtp {
        results.push(smtp(settings).await);
    }
    report(&args, &results)
}

/// What to do about a voucher naming a SKU or group the tenant lacks: its terms are fixed
/// once people hold its code.
const VOUCHER_FIX: &str = "the voucher: `vouchers revoke` it and make another with the right ids";

/// The vouchers that may still admit somebody (not revoked, not expired): their licences
/// and groups are checked. A voucher record that does not read is a failed check.
async fn live_vouchers(store: &Store, results: &mut Vec<CheckResult>) -> Vec<Voucher> {
    let listed = match store.vouchers().await {
        Ok(listed) => listed,
        Err(err) => {
            results.push(CheckResult::fail(
                "vouchers",
                format!("cannot list them: {err}"),
            ));
            return Vec::new();
        }
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let mut live = Vec::new();
    for voucher in listed {
        match voucher {
            Ok(voucher)
                if !matches!(
                    voucher.admits(now),
                    Err(VoucherRefusal::Revoked | VoucherRefusal::Expired)
                ) =>
            {
                live.push(voucher)
            }
            Ok(_) => {}
            Err(err) => results.push(CheckResult::fail(
                "vouchers",
                format!("a voucher does not read: {err}; `store verify` says more"),
            )),
        }
    }
    live
}

/// Prints the results; fails when any did.
fn report(args: &CheckArgs, results: &[CheckResult]) -> anyhow::Result<()> {
    let failed = results.iter().filter(|result| !result.ok).count();
    if args.json {
        let lines: Vec<serde_json::Value> = results
            .iter()
            .map(|r| serde_json::json!({ "check": r.name, "ok": r.ok, "detail": r.detail }))
            .collect();
        println!("{}", serde_json::to_string_pretty(&lines)?);
    } else {
        for result in results {
            println!("{result}");
        }
    }
    if failed > 0 {
        anyhow::bail!("{failed} of {} checks failed", results.len());
    }
    Ok(())
}

async fn smtp(settings: &Settings) -> CheckResult {
    let mailer = match SmtpMailer::from_settings(&settings.mail, &settings.support_email) {
        Ok(mailer) => mailer,
        Err(err) => return CheckResult::fail("SMTP", err.to_string()),
    };
    match mailer.check().await {
        Ok(()) => CheckResult::pass(
            "SMTP",
            format!("{}: connected and logged in", mailer.endpoint()),
        ),
        Err(err) => CheckResult::fail("SMTP", err.to_string()),
    }
}

/// A secret's length, never the secret: PRODUCTION only starts with a long one, so a
/// short one here is a DEBUG or TEST setup, said so before it goes live.
fn secret(name: &str, secret: &secrecy::SecretString) -> CheckResult {
    use secrecy::ExposeSecret;
    let bytes = secret.expose_secret().len();
    if bytes >= crate::config::MIN_SECRET_BYTES {
        CheckResult::pass(name, format!("{bytes} bytes"))
    } else {
        CheckResult::pass(
            name,
            format!(
                "only {bytes} bytes: PRODUCTION refuses fewer than {}; make one with `openssl rand -base64 48`",
                crate::config::MIN_SECRET_BYTES
            ),
        )
    }
}
