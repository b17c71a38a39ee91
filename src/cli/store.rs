//! `store backup | restore | copy | migrate | verify`: moving a stopped server's store to
//! another host, or from sled to PostgreSQL, bringing a database's schema up to date, and
//! checking a store for damage.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Subcommand;

use crate::config::Settings;
use crate::startup::open_store;
use crate::store::{Store, Verified};

#[derive(Debug, Subcommand)]
pub enum StoreCommand {
    /// Writes every record of the store at DATABASE_PATH (registrations, pending and queued
    /// sign-ups, username reservations, used reset links) into FILE. Stop the server first.
    /// The file holds addresses and names, no passwords: keep it as safe as the store.
    Backup {
        /// The backup file to write ("-" for standard output).
        file: PathBuf,
    },
    /// Reads a `store backup` FILE (of this version or an earlier one) into the store at
    /// DATABASE_PATH, which must be new (empty). Nothing is written unless the whole file
    /// reads correctly.
    Restore {
        /// The backup file ("-" for standard input).
        file: PathBuf,
    },
    /// Copies every record from one store into another, which must be empty: the way from a
    /// sled store to PostgreSQL. Stop the servers using FROM first.
    Copy {
        /// The store to read: a sled directory, or a `postgres://` URL.
        #[arg(long)]
        from: String,
        /// The store to fill: a `postgres://` URL (migrated first), or a new sled directory.
        #[arg(long)]
        to: String,
    },
    /// Creates or updates the tables in the database at DATABASE_URL, as every start of the
    /// server does too.
    Migrate,
    /// Checks a store offline, changing nothing, and says what it found: the records of each
    /// kind, records that do not decode, registrations and username reservations that do not
    /// name each other, indexes that disagree with their records and, for sled, whether the
    /// store holds less than it last recorded as written (the damage that stops start-up).
    /// Exits non-zero when anything is wrong. Stop the server first (sled).
    Verify {
        /// The store to check instead of the configured one: a sled directory, or a
        /// `postgres://` URL.
        store: Option<String>,
    },
}

/// Whether `name` is a PostgreSQL URL rather than a sled directory.
fn is_url(name: &str) -> bool {
    name.starts_with("postgres://") || name.starts_with("postgresql://")
}

/// A store named on the command line: a `postgres://` URL, else a sled directory.
async fn named_store(name: &str) -> anyhow::Result<Store> {
    if is_url(name) {
        return Store::connect_migrated(name)
            .await
            .context("cannot prepare the database at the URL");
    }
    Store::open(Path::new(name)).with_context(|| format!("cannot open the sled store at {name}"))
}

pub async fn run(command: StoreCommand, settings: &Settings) -> anyhow::Result<()> {
    match command {
        // Name their own stores: the configured one may be neither.
        StoreCommand::Copy { from, to } => copy(&from, &to).await,
        StoreCommand::Verify { store } => verify(store, settings).await,
        StoreCommand::Migrate => {
            if settings.database_url.is_none() {
                anyhow::bail!(
                    "`store migrate` is for PostgreSQL: set DATABASE_URL (the sled store needs no migration)"
                );
            }
            let store = open_store(settings).await?;
            println!("the schema of the {} is current", store.describe());
            Ok(())
        }
        StoreCommand::Backup { file } => backup(&open_store(settings).await?, &file).await,
        StoreCommand::Restore { file } => restore(&open_store(settings).await?, &file).await,
    }
}

/// `store copy`: read all of FROM (a backup in memory), then restore it into TO.
async fn copy(from: &str, to: &str) -> anyhow::Result<()> {
    let source = named_store(from).await?;
    let target = named_store(to).await?;
    let mut records = Vec::new();
    source.backup(&mut records).await?;
    let written = target.restore(records.as_slice()).await?;
    target.close().await?;
    println!(
        "{written} copied from {} to {}",
        source.describe(),
        target.describe()
    );
    Ok(())
}

async fn backup(store: &Store, file: &Path) -> anyhow::Result<()> {
    let copied = if file.as_os_str() == "-" {
        store.backup(&mut std::io::stdout()).await?
    } else {
        // Written beside, then renamed: a failed run leaves no half file under FILE.
        let partial = file.with_extension("partial");
        let mut out = std::io::BufWriter::new(
            std::fs::File::create(&partial)
                .with_context(|| format!("cannot create {}", partial.display()))?,
        );
        let copied = store.backup(&mut out).await?;
        drop(out);
        std::fs::rename(&partial, file)
            .with_context(|| format!("cannot write {}", file.display()))?;
        copied
    };
    let report = format!(
        "{copied} from the {} written to {}",
        store.describe(),
        file.display()
    );
    // Standard output may be the backup itself.
    if file.as_os_str() == "-" {
        eprintln!("{report}");
    } else {
        println!("{report}");
    }
    Ok(())
}

async fn restore(store: &Store, file: &Path) -> anyhow::Result<()> {
    let copied = if file.as_os_str() == "-" {
        store.restore(std::io::stdin().lock()).await?
    } else {
        let input =
            std::fs::File::open(file).with_context(|| format!("cannot open {}", file.display()))?;
        store.restore(std::io::BufReader::new(input)).await?
    };
    store.close().await?;
    println!(
        "{copied} restored from {} into the {}",
        file.display(),
        store.describe()
    );
    Ok(())
}

/// `store verify`: the report on standard output, an error when anything is wrong.
async fn verify(named: Option<String>, settings: &Settings) -> anyhow::Result<()> {
    use secrecy::ExposeSecret;
    let verified = match (named, &settings.database_url) {
        (Some(name), _) if is_url(&name) => Store::verify_postgres(&name).await?,
        (Some(name), _) => verify_sled(Path::new(&name)).await?,
        (None, Some(url)) => Store::verify_postgres(url.expose_secret()).await?,
        (None, None) => verify_sled(&settings.database_path).await?,
    };
    print_report(&verified);
    if !verified.is_healthy() {
        anyhow::bail!(
            "the {} is damaged ({} findings): stop the server, move it aside and restore it from a backup (`store restore`)",
            verified.store,
            verified.findings.len()
        );
    }
    Ok(())
}

async fn verify_sled(path: &Path) -> anyhow::Result<Verified> {
    // Opening a directory that is not there would make a new, empty store.
    anyhow::ensure!(path.is_dir(), "there is no store at {}", path.display());
    Store::verify_sled(path)
        .await
        .with_context(|| format!("cannot open the store at {}", path.display()))
}

fn print_report(verified: &Verified) {
    println!("store: {}", verified.store);
    match &verified.per_kind {
        Some(per_kind) => {
            let counts: Vec<String> = per_kind
                .iter()
                .map(|(kind, count)| format!("{kind} {count}"))
                .collect();
            println!("records: {}", counts.join(", "));
        }
        None => println!("records: not readable"),
    }
    for finding in &verified.findings {
        println!("{finding}");
    }
    if verified.is_healthy() {
        println!("no damage found");
    }
}
