//! `store backup | restore | copy | migrate`: moving a stopped server's store to another
//! host, or from sled to PostgreSQL, and bringing a database's schema up to date.

use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;

use crate::config::Settings;
use crate::startup::open_store;
use crate::store::Store;

#[derive(Debug, Subcommand)]
pub enum StoreCommand {
    /// Writes every record of the store at DATABASE_PATH (registrations, pending and queued
    /// sign-ups, username reservations) into FILE. Stop the server first. The file holds
    /// addresses and names, no passwords: keep it as safe as the store.
    Backup {
        /// The backup file to write ("-" for standard output).
        file: PathBuf,
    },
    /// Reads a `store backup` FILE into the store at DATABASE_PATH, which must be new (empty).
    /// Nothing is written unless the whole file reads correctly.
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
}

/// A store named on the command line: a `postgres://` URL, else a sled directory.
fn named_store(name: &str) -> anyhow::Result<Store> {
    if name.starts_with("postgres://") || name.starts_with("postgresql://") {
        let store = Store::connect(name).context("cannot use the database URL")?;
        store
            .migrate()
            .with_context(|| format!("cannot prepare the {}", store.describe()))?;
        return Ok(store);
    }
    Store::open(std::path::Path::new(name))
        .with_context(|| format!("cannot open the sled store at {name}"))
}

pub fn run(command: StoreCommand, settings: &Settings) -> anyhow::Result<()> {
    match command {
        // Names its own stores: the configured one may be neither.
        StoreCommand::Copy { from, to } => copy(&from, &to),
        command => on_configured_store(command, settings),
    }
}

/// `store copy`: read all of FROM (a backup in memory), then restore it into TO.
fn copy(from: &str, to: &str) -> anyhow::Result<()> {
    let source = named_store(from)?;
    let target = named_store(to)?;
    let mut records = Vec::new();
    let read = source.backup(&mut records)?;
    let written = target.restore(records.as_slice())?;
    target.flush_blocking()?;
    println!(
        "{} records of {} trees copied from {} to {}",
        written.records,
        read.trees,
        source.describe(),
        target.describe()
    );
    Ok(())
}

fn on_configured_store(command: StoreCommand, settings: &Settings) -> anyhow::Result<()> {
    let store = open_store(settings)?;
    let path = match settings.database_url {
        Some(_) => store.describe(),
        None => settings.database_path.display().to_string(),
    };
    match command {
        StoreCommand::Copy { from, to } => copy(&from, &to)?,
        StoreCommand::Migrate => {
            if settings.database_url.is_none() {
                anyhow::bail!(
                    "`store migrate` is for PostgreSQL: set DATABASE_URL (the sled store needs no migration)"
                );
            }
            // `open_store` migrated it.
            println!("the schema of the {path} is current");
        }
        StoreCommand::Backup { file } => {
            let copied = if file.as_os_str() == "-" {
                store.backup(&mut std::io::stdout().lock())?
            } else {
                // Written beside, then renamed: a failed run leaves no half file under FILE.
                let partial = file.with_extension("partial");
                let mut out = std::io::BufWriter::new(
                    std::fs::File::create(&partial)
                        .with_context(|| format!("cannot create {}", partial.display()))?,
                );
                let copied = store.backup(&mut out)?;
                drop(out);
                std::fs::rename(&partial, &file)
                    .with_context(|| format!("cannot write {}", file.display()))?;
                copied
            };
            let report = format!(
                "{} records of {} trees from {path} written to {}",
                copied.records,
                copied.trees,
                file.display()
            );
            // Standard output may be the backup itself.
            if file.as_os_str() == "-" {
                eprintln!("{report}");
            } else {
                println!("{report}");
            }
        }
        StoreCommand::Restore { file } => {
            let copied = if file.as_os_str() == "-" {
                store.restore(std::io::stdin().lock())?
            } else {
                let input = std::fs::File::open(&file)
                    .with_context(|| format!("cannot open {}", file.display()))?;
                store.restore(std::io::BufReader::new(input))?
            };
            println!(
                "{} records of {} trees restored from {} into {path}",
                copied.records,
                copied.trees,
                file.display()
            );
        }
    }
    Ok(())
}
