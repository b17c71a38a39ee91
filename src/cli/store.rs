//! `store backup | restore`: moving a stopped server's store to another host.

use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;

use crate::config::Settings;
use crate::startup::open_store;

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
}

pub fn run(command: StoreCommand, settings: &Settings) -> anyhow::Result<()> {
    let store = open_store(settings)?;
    let path = settings.database_path.display();
    match command {
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
