//! `emails list | export | import | forget | tag-existing`: the registry of used addresses.

mod tag;

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;

use super::timestamp;
use crate::config::Settings;
use crate::domain::{AuditAction, Mailbox, SubaddressSeparator};
use crate::startup::open_store;
use crate::store::{Forgotten, Imported, Registration, RegistryKey, Store};

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
    /// `sqlite3 -csv db.sqlite "SELECT email, timestamp FROM RegisteredEmailAddress WHERE ms365_created = 1"`,
    /// or from an `emails export` (recognised by its header; username, object id and consent
    /// times are kept). Addresses are keyed by their mailbox, as the server keys them (letter
    /// case and sub-address tags do not count); one line names each mailbox several rows
    /// collapsed into. Running it again adds nothing twice.
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
    /// Writes the mailbox tag into the user of every registered address whose object id
    /// is known (accounts made before tags, or imported from an `emails export`), paced by
    /// GRAPH_API_WRITES_PER_MINUTE. Each user is read first and written only when its tag
    /// is missing, so it can be stopped and run again; values somebody else put into the
    /// attribute are left alone. Imported addresses without an object id are listed, not
    /// guessed.
    TagExisting,
}

pub async fn run(command: EmailsCommand, settings: &Settings) -> anyhow::Result<()> {
    let store = open_store(settings).await?;
    match command {
        EmailsCommand::List => list(&store).await,
        EmailsCommand::Export { output } => export(&store, output).await,
        EmailsCommand::Import { file } => {
            import(&store, &file, settings.email_subaddress_separator).await
        }
        EmailsCommand::Forget { email } => {
            forget(&store, &email, settings.email_subaddress_separator).await
        }
        EmailsCommand::TagExisting => tag::tag_existing(&store, settings).await,
    }
}

fn state_name(registration: &Registration) -> String {
    if registration.imported {
        "imported".to_owned()
    } else {
        format!("{:?}", registration.step).to_lowercase()
    }
}

async fn list(store: &Store) -> anyhow::Result<()> {
    let registrations = store.registrations().await?;
    let mut out = std::io::stdout().lock();
    for registration in registrations {
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

async fn export(store: &Store, output: Option<PathBuf>) -> anyhow::Result<()> {
    let registrations = store.registrations().await?;
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
    for registration in registrations {
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

/// One mailbox of an import file: what the file says about it, and how it spelled it.
struct ImportedMailbox {
    details: Imported,
    spellings: Vec<String>,
}

/// Where an import file keeps each field: the original's table has no header
/// (`email,timestamp`); an `emails export` names its columns.
struct Columns {
    email: usize,
    registered_at: usize,
    state: Option<usize>,
    upn: Option<usize>,
    object_id: Option<usize>,
    consent_email_at: Option<usize>,
    consent_name_at: Option<usize>,
}

impl Columns {
    const ORIGINAL: Columns = Columns {
        email: 0,
        registered_at: 1,
        state: None,
        upn: None,
        object_id: None,
        consent_email_at: None,
        consent_name_at: None,
    };

    /// The columns a header row names, or `None` when the row is data.
    fn from_header(row: &csv::StringRecord) -> Option<Columns> {
        let find = |name: &str| row.iter().position(|h| h.eq_ignore_ascii_case(name));
        let email = find("email")?;
        Some(Columns {
            email,
            registered_at: find("registered_at").or(find("timestamp")).unwrap_or(1),
            state: find("state"),
            upn: find("user_principal_name"),
            object_id: find("object_id"),
            consent_email_at: find("consent_email_at"),
            consent_name_at: find("consent_name_at"),
        })
    }
}

/// A time as Unix seconds (the original's) or RFC 3339 (an export's).
fn parse_time(raw: &str) -> Option<u64> {
    match raw.parse::<f64>() {
        Ok(seconds) if seconds >= 0.0 => Some(seconds as u64),
        Ok(_) => None,
        Err(_) => humantime::parse_rfc3339_weak(raw)
            .ok()?
            .duration_since(std::time::UNIX_EPOCH)
            .ok()
            .map(|d| d.as_secs()),
    }
}

/// The mailboxes of an import file, each once, in the file's order.
#[derive(Default)]
struct ImportFile {
    mailboxes: Vec<(RegistryKey, ImportedMailbox)>,
    index_of: HashMap<RegistryKey, usize>,
    /// Rows whose address is not valid.
    unusual: usize,
}

async fn import(
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
        if store.import_registered(key, &mailbox.details).await? {
            added += 1;
        } else {
            present += 1;
        }
    }
    store.close().await?;
    println!(
        "{added} imported, {present} already registered, {} with an unusual address",
        read.unusual
    );
    Ok(())
}

/// Reads CSV rows `email[,unix_timestamp]` or an export (told apart by the header row),
/// keyed as the server keys them, so each mailbox is imported once.
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
    let mut columns = Columns::ORIGINAL;
    for (index, record) in csv.records().enumerate() {
        let line = index + 1;
        let record = record.with_context(|| format!("{}:{line}: not CSV", file.display()))?;
        if line == 1
            && let Some(header) = Columns::from_header(&record)
        {
            columns = header;
            continue;
        }
        let field = |column: Option<usize>| {
            column
                .and_then(|c| record.get(c))
                .filter(|value| !value.is_empty())
        };
        let time = |column: Option<usize>| -> anyhow::Result<Option<u64>> {
            field(column)
                .map(|t| {
                    parse_time(t).with_context(|| {
                        format!(
                            "{}:{line}: {t:?} is not a time (Unix seconds or RFC 3339)",
                            file.display()
                        )
                    })
                })
                .transpose()
        };
        let Some(raw) = field(Some(columns.email)) else {
            continue;
        };
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
        if let Some(state) = field(columns.state).filter(|s| !matches!(*s, "done" | "imported")) {
            eprintln!(
                "{}:{line}: {raw} was not finished ({state}); imported as registered. `store backup` and `store restore` carry unfinished sign-ups",
                file.display()
            );
        }
        let details = Imported {
            registered_at: time(Some(columns.registered_at))?.unwrap_or(now),
            upn: field(columns.upn).map(str::to_owned),
            object_id: field(columns.object_id).map(str::to_owned),
            consent_email_at: time(columns.consent_email_at)?,
            consent_name_at: time(columns.consent_name_at)?,
        };
        read.add(key, raw, details);
    }
    Ok(read)
}

impl ImportFile {
    /// Counts a row: a new mailbox, or another spelling of one seen before (the earliest
    /// registration time wins; details the first row lacks are taken from later ones).
    fn add(&mut self, key: RegistryKey, raw: &str, details: Imported) {
        match self.index_of.get(&key) {
            Some(&known) => {
                let mailbox = &mut self.mailboxes[known].1;
                let kept = &mut mailbox.details;
                kept.registered_at = kept.registered_at.min(details.registered_at);
                kept.upn = kept.upn.take().or(details.upn);
                kept.object_id = kept.object_id.take().or(details.object_id);
                kept.consent_email_at = kept.consent_email_at.or(details.consent_email_at);
                kept.consent_name_at = kept.consent_name_at.or(details.consent_name_at);
                mailbox.spellings.push(raw.to_owned());
            }
            None => {
                self.index_of.insert(key.clone(), self.mailboxes.len());
                self.mailboxes.push((
                    key,
                    ImportedMailbox {
                        details,
                        spellings: vec![raw.to_owned()],
                    },
                ));
            }
        }
    }
}

async fn forget(store: &Store, email: &str, separator: SubaddressSeparator) -> anyhow::Result<()> {
    // Any spelling of a mailbox finds it. An odd imported address, or one stored before its
    // mailbox was the key, is stored as written: that is tried when the mailbox is not.
    let spellings = RegistryKey::spellings(email, separator);
    let mut email = spellings[0].clone();
    let mut registration = None;
    for key in &spellings {
        if let Some(found) = store.registration(key).await? {
            (email, registration) = (key.clone(), Some(found));
            break;
        }
    }
    // The line names the account, not the address the deletion request asked to forget.
    let subject = registration.and_then(|r| r.upn);
    super::audit::record(store, AuditAction::Forget, subject, None).await?;
    let mut forgotten = store.forget(&email).await?;
    for key in spellings.iter().skip(1) {
        if forgotten != Forgotten::default() {
            break;
        }
        email = key.clone();
        forgotten = store.forget(&email).await?;
    }
    store.close().await?;
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
