//! `emails list | export | import | forget`: the registry of used addresses.

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;

use super::timestamp;
use crate::config::Settings;
use crate::domain::{Mailbox, SubaddressSeparator};
use crate::startup::open_store;
use crate::store::{Forgotten, Registration, RegistryKey, Store};

#[derive(Debug, Subcommand)]
pub enum EmailsCommand {
    /// One line per registered address: address, state, username.
    List,
    /// All registered addresses as CSV (with a header) on standard output or into a file.
    Export {
        /// Write here instead of standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Registers addresses that already have an account, from CSV rows `email[,unix_timestamp]`,
    /// e.g. the output of the original's
    /// `sqlite3 -csv db.sqlite "SELECT email, timestamp FROM RegisteredEmailAddress WHERE ms365_created = 1"`.
    /// Addresses are keyed by their mailbox, as the server keys them (letter case and
    /// sub-address tags do not count); one line names each mailbox several rows collapsed
    /// into. Running it again adds nothing twice.
    Import {
        /// The CSV file ("-" for standard input).
        file: PathBuf,
    },
    /// Removes everything stored about an address (a deletion request) and prints the
    /// account it had, so it can be deleted in Entra ID too.
    Forget {
        /// The address, in any letter case and with or without a sub-address tag.
        email: String,
    },
}

pub fn run(command: EmailsCommand, settings: &Settings) -> anyhow::Result<()> {
    let store = open_store(settings)?;
    match command {
        EmailsCommand::List => list(&store),
        EmailsCommand::Export { output } => export(&store, output),
        EmailsCommand::Import { file } => {
            import(&store, &file, settings.email_subaddress_separator)
        }
        EmailsCommand::Forget { email } => {
            forget(&store, &email, settings.email_subaddress_separator)
        }
    }
}

fn state_name(registration: &Registration) -> String {
    if registration.imported {
        "imported".to_owned()
    } else {
        format!("{:?}", registration.step).to_lowercase()
    }
}

fn list(store: &Store) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    for registration in store.registrations() {
        let registration = registration?;
        writeln!(
            out,
            "{}\t{}\t{}",
            registration.email,
            state_name(&registration),
            registration.upn.as_deref().unwrap_or("-")
        )?;
    }
    Ok(())
}

fn export(store: &Store, output: Option<PathBuf>) -> anyhow::Result<()> {
    let sink: Box<dyn Write> = match &output {
        Some(path) => Box::new(
            std::fs::File::create(path)
                .with_context(|| format!("cannot create {}", path.display()))?,
        ),
        None => Box::new(std::io::stdout().lock()),
    };
    let mut writer = csv::Writer::from_writer(sink);
    writer.write_record([
        "email",
        "state",
        "user_principal_name",
        "object_id",
        "registered_at",
        "consent_email_at",
        "consent_name_at",
        "updated_at",
    ])?;
    for registration in store.registrations() {
        let registration = registration?;
        writer.write_record([
            registration.email.to_string(),
            state_name(&registration),
            registration.upn.clone().unwrap_or_default(),
            registration.object_id.clone().unwrap_or_default(),
            timestamp(registration.claimed_at),
            timestamp(registration.consent_email_at),
            timestamp(registration.consent_name_at),
            timestamp(registration.updated_at),
        ])?;
    }
    writer.flush()?;
    Ok(())
}

/// One mailbox of an import file: when it was first registered, and how the file spelled it.
struct ImportedMailbox {
    registered_at: u64,
    spellings: Vec<String>,
}

/// The mailboxes of an import file, each once, in the file's order.
#[derive(Default)]
struct ImportFile {
    mailboxes: Vec<(RegistryKey, ImportedMailbox)>,
    index_of: HashMap<RegistryKey, usize>,
    /// Rows whose address is not valid.
    unusual: usize,
}

fn import(
    store: &Store,
    file: &std::path::Path,
    separator: SubaddressSeparator,
) -> anyhow::Result<()> {
    let read = read_import_file(file, separator)?;
    let (mut added, mut present) = (0usize, 0usize);
    for (key, mailbox) in &read.mailboxes {
        if mailbox.spellings.len() > 1 {
            println!("{key}: one mailbox for {}", mailbox.spellings.join(", "));
        }
        if store.import_registered(key, mailbox.registered_at)? {
            added += 1;
        } else {
            present += 1;
        }
    }
    store.flush_blocking()?;
    println!(
        "{added} imported, {present} already registered, {} with an unusual address",
        read.unusual
    );
    Ok(())
}

/// Reads CSV rows `email[,unix_timestamp]` (a header row is skipped), keyed as the server
/// keys them, so each mailbox is imported once.
fn read_import_file(
    file: &std::path::Path,
    separator: SubaddressSeparator,
) -> anyhow::Result<ImportFile> {
    let reader: Box<dyn std::io::Read> = if file.as_os_str() == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        Box::new(
            std::fs::File::open(file).with_context(|| format!("cannot open {}", file.display()))?,
        )
    };
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(reader);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let mut read = ImportFile::default();
    for (index, record) in csv.records().enumerate() {
        let line = index + 1;
        let record = record.with_context(|| format!("{}:{line}: not CSV", file.display()))?;
        let raw = record.get(0).unwrap_or_default();
        if raw.is_empty() || (line == 1 && raw.eq_ignore_ascii_case("email")) {
            continue;
        }
        let key = match Mailbox::parse_recorded(raw, separator) {
            Ok(mailbox) => RegistryKey::from(&mailbox),
            // Imported addresses block a second account, so even odd ones are kept, with a note.
            Err(_) => {
                read.unusual += 1;
                eprintln!(
                    "{}:{line}: {raw:?} is not a valid address; imported anyway so it stays blocked",
                    file.display()
                );
                RegistryKey::as_recorded(raw)
            }
        };
        let registered_at = match record.get(1).filter(|t| !t.is_empty()) {
            Some(t) => t.parse::<f64>().with_context(|| {
                format!("{}:{line}: timestamp {t:?} is not a number", file.display())
            })? as u64,
            None => now,
        };
        read.add(key, raw, registered_at);
    }
    Ok(read)
}

impl ImportFile {
    /// Counts a row: a new mailbox, or another spelling of one seen before (the earliest
    /// registration time wins).
    fn add(&mut self, key: RegistryKey, raw: &str, registered_at: u64) {
        match self.index_of.get(&key) {
            Some(&known) => {
                let mailbox = &mut self.mailboxes[known].1;
                mailbox.registered_at = mailbox.registered_at.min(registered_at);
                mailbox.spellings.push(raw.to_owned());
            }
            None => {
                self.index_of.insert(key.clone(), self.mailboxes.len());
                self.mailboxes.push((
                    key,
                    ImportedMailbox {
                        registered_at,
                        spellings: vec![raw.to_owned()],
                    },
                ));
            }
        }
    }
}

fn forget(store: &Store, email: &str, separator: SubaddressSeparator) -> anyhow::Result<()> {
    // Any spelling of a mailbox finds it. An odd imported address, or one stored before its
    // mailbox was the key, is stored as written: that is tried when the mailbox is not.
    let written = RegistryKey::as_recorded(email);
    let mailbox = Mailbox::parse_recorded(email, separator)
        .map_or_else(|_| written.clone(), |m| RegistryKey::from(&m));
    let mut email = mailbox;
    let mut forgotten = store.forget(&email)?;
    if forgotten == Forgotten::default() && written != email {
        email = written;
        forgotten = store.forget(&email)?;
    }
    store.flush_blocking()?;
    match &forgotten.registration {
        Some(registration) => println!(
            "removed the registration of {email} (user {}, object id {}); delete the user in Entra ID too if that was asked",
            registration.upn.as_deref().unwrap_or("unknown"),
            registration.object_id.as_deref().unwrap_or("unknown")
        ),
        None if forgotten.pending > 0 => println!("removed the pending sign-up of {email}"),
        None => anyhow::bail!("{email} is not in the store"),
    }
    Ok(())
}
