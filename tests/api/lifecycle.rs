//! Accounts end (issue 26): `lifecycle plan` lists what a day brings and changes nothing;
//! `lifecycle run` does it — a warning before the end, then the user disabled, its licence
//! removed (the seat free again) and the person mailed, and after `DELETE_AFTER_DAYS` the
//! user deleted — each once, however often it runs and even when killed in the middle of a
//! step; a user this server did not make for the mailbox is never touched; `extend` and
//! `restore` correct it. Against the fake Graph over HTTP and the SMTP sink, through the
//! binary, on sled and (through `tests/run`) on PostgreSQL.

mod budget;
mod creation;
mod daily;
mod ending;
mod operator;
mod reverify;
mod vouchers;

use std::process::Output;

use crate::graph::tag_of;
use crate::mailbox_tag::{Kind, cli, fresh_store, stdout};
use crate::support::fake_graph::FakeGraph;
use crate::support::smtp::{SmtpMode, SmtpServer};

/// When the accounts were registered: 2027-01-15 08:00 UTC. With a lifetime of 30 days they
/// end on 2027-02-14, are warned 7 days before (2027-02-07), and are deleted 30 days after
/// they were disabled.
const REGISTERED: u64 = 1_800_000_000;
const ADA: &str = "ada.lovelace@tenant.example";
const BOB: &str = "bob.baker@tenant.example";

/// The fake directory with a SKU, and Ada's licensed user tagged for her mailbox.
struct Tenant {
    fake: FakeGraph,
    sku: String,
    smtp: SmtpServer,
    scratch: tempfile::TempDir,
    store: (String, String),
}

impl Tenant {
    async fn new(kind: Kind) -> Self {
        let fake = FakeGraph::start().await;
        let sku = fake.add_sku("STUDENT", 10);
        let ada = ("extensionAttribute15", tag_of("ada@uni.example"));
        fake.add_user_with_attribute(ADA, "Ada", "Lovelace", (ada.0, ada.1.as_str()));
        fake.set_usage_location(ADA, "DE");
        fake.assign_licence(ADA, &sku);
        let smtp = SmtpServer::start(SmtpMode::Plain, None);
        let scratch = tempfile::tempdir().unwrap();
        let store = fresh_store(kind, scratch.path(), "store").await;
        Tenant {
            fake,
            sku,
            smtp,
            scratch,
            store,
        }
    }

    /// Registers the users of `rows` (mailbox, UPN) as made on [`REGISTERED`].
    async fn register(&self, rows: &[(&str, &str)]) {
        let mut csv = String::from(
            "email,state,user_principal_name,object_id,registered_at,consent_email_at,consent_name_at,updated_at\n",
        );
        for (email, upn) in rows {
            let id = self.fake.user(upn).expect("the user").id;
            csv.push_str(&format!(
                "{email},done,{upn},{id},{REGISTERED},{REGISTERED},{REGISTERED},{REGISTERED}\n"
            ));
        }
        let path = self.scratch.path().join("export.csv");
        std::fs::write(&path, csv).unwrap();
        stdout(
            &cli(
                &self.store,
                &[],
                &["emails", "import", path.to_str().unwrap()],
            )
            .await,
        );
    }

    /// A lifecycle command with a lifetime of 30 days, a warning 7 days before.
    async fn lifecycle(&self, args: &[&str]) -> Output {
        let mut env = crate::graph::env(&self.fake, &[], &[]);
        env.extend(self.smtp.app_settings());
        for (key, value) in [
            ("ACCOUNT_LIFETIME_DAYS", "30"),
            ("LIFECYCLE_WARN_DAYS", "7"),
            ("DELETE_AFTER_DAYS", "30"),
            ("SUPPORT_EMAIL", "it@uni.example"),
        ] {
            env.push((key.to_owned(), value.to_owned()));
        }
        let mut all = vec!["lifecycle"];
        all.extend_from_slice(args);
        cli(&self.store, &env, &all).await
    }

    /// `lifecycle plan --as-of DAY --json`: (UPN, action, date) of each line.
    async fn plan(&self, day: &str) -> Vec<(String, String, String)> {
        let out = stdout(&self.lifecycle(&["plan", "--as-of", day, "--json"]).await);
        out.lines()
            .map(|line| {
                let item: serde_json::Value = serde_json::from_str(line).unwrap();
                let field = |name: &str| item[name].as_str().unwrap_or_default().to_owned();
                (field("upn"), field("action"), field("date"))
            })
            .collect()
    }

    /// The subjects of the mails `to` received, oldest first.
    fn mails_to(&self, to: &str) -> Vec<String> {
        self.smtp
            .received()
            .into_iter()
            .filter(|mail| mail.envelope_to == [to])
            .map(|mail| mail.subject)
            .collect()
    }
}

/// `audit export`: (actor, action, subject) of each line, oldest first.
async fn audit(tenant: &Tenant) -> Vec<(String, String, String)> {
    let out = stdout(&cli(&tenant.store, &[], &["audit", "export"]).await);
    let mut lines: Vec<_> = out
        .lines()
        .map(|line| {
            let entry: serde_json::Value = serde_json::from_str(line).unwrap();
            (
                entry["seq"].as_u64().unwrap_or_default(),
                entry["actor"]["upn"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                entry["action"].as_str().unwrap_or_default().to_owned(),
                entry["subject"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    lines.sort();
    lines
        .into_iter()
        .map(|(_, actor, action, subject)| (actor, action, subject))
        .collect()
}

fn line(upn: &str, action: &str, date: &str) -> (String, String, String) {
    (upn.to_owned(), action.to_owned(), date.to_owned())
}

/// Its standard error, after asserting that it failed.
fn failed(output: &Output) -> String {
    assert!(
        !output.status.success(),
        "succeeded: {}",
        String::from_utf8_lossy(&output.stdout)
    );
    String::from_utf8_lossy(&output.stderr).into_owned()
}
