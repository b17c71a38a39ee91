//! `store verify`: reads a store offline and says what it holds and what is wrong with it —
//! records per kind, records that do not decode, broken cross-references (a registration
//! without its username reservation, a reservation whose registration is gone or moved on,
//! an account's lifecycle record without its registration),
//! what the backend's indexes say that the records do not, and, for sled, whether the store
//! is older than the last state it recorded as written (`sled/integrity.rs`).

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;

use super::postgres::PgStore;
use super::sled::SledStore;
use super::{
    Backend, BackupRecord, Finding, RecordKind, Registration, RegistryKey, Store, StoreError,
    Verified,
};
use crate::domain::VoucherCode;

impl Store {
    /// `store verify` of the sled store at `path`: opened as the server opens it, but what
    /// would refuse the start is reported, and nothing is written.
    pub async fn verify_sled(path: &Path) -> Result<Verified, StoreError> {
        let inspected = SledStore::inspect(path)?;
        let describe = format!("sled at {}", path.display());
        verify_with(inspected.store, describe, inspected.findings).await
    }

    /// `store verify` of the PostgreSQL database at `url`, without migrating it.
    pub async fn verify_postgres(url: &str) -> Result<Verified, StoreError> {
        let store = PgStore::connect(url, None)?;
        let describe = store.describe_target();
        let schema = store.schema_findings().await?;
        let readable = schema.is_empty().then_some(store);
        verify_with(readable, describe, schema).await
    }

    /// Reads every record and checks how they refer to each other and to the indexes.
    pub async fn verify(&self) -> Result<Verified, StoreError> {
        let exported = self.export().await?;
        let mut findings: Vec<Finding> = exported
            .unreadable
            .into_iter()
            .map(Finding::Undecodable)
            .collect();
        findings.extend(cross_references(&exported.records));
        findings.extend(voucher_uses(&exported.records));
        findings.extend(self.index_findings().await?);
        let mut per_kind: BTreeMap<RecordKind, usize> =
            RecordKind::ALL.iter().map(|kind| (*kind, 0)).collect();
        for record in &exported.records {
            *per_kind.entry(record.kind()).or_insert(0) += 1;
        }
        Ok(Verified {
            store: self.describe(),
            per_kind: Some(per_kind),
            findings,
        })
    }
}

/// The records of `backend` verified (when it can be read), after `findings` made opening it.
async fn verify_with(
    backend: Option<impl Backend + 'static>,
    describe: String,
    findings: Vec<Finding>,
) -> Result<Verified, StoreError> {
    let mut verified = match backend {
        Some(backend) => Store(Arc::new(backend)).verify().await?,
        None => Verified {
            store: describe.clone(),
            per_kind: None,
            findings: Vec::new(),
        },
    };
    verified.store = describe;
    verified.findings.splice(0..0, findings);
    Ok(verified)
}

/// Registrations and username reservations that do not name each other, and lifecycle
/// records without their registration.
fn cross_references(records: &[BackupRecord]) -> Vec<Finding> {
    let registrations: BTreeMap<&str, &Registration> = records
        .iter()
        .filter_map(|record| match record {
            BackupRecord::Registration(registration) => {
                Some((registration.email.as_str(), registration))
            }
            _ => None,
        })
        .collect();
    let mut reserved: HashMap<&str, &RegistryKey> = HashMap::new();
    let mut findings = Vec::new();
    for record in records {
        if let BackupRecord::Lifecycle(life) = record
            && !registrations.contains_key(life.email.as_str())
        {
            findings.push(Finding::StrayLife {
                email: life.email.clone(),
            });
        }
        let BackupRecord::Username { upn, email } = record else {
            continue;
        };
        reserved.insert(upn, email);
        let named = registrations
            .get(email.as_str())
            .and_then(|registration| registration.reserved_upn());
        if named.as_deref() != Some(upn.as_str()) {
            findings.push(Finding::StrayReservation {
                upn: upn.clone(),
                email: email.clone(),
            });
        }
    }
    // Imported registrations name the user the original made, and one that found its
    // mailbox's account in the directory names that user, whose name another registration
    // may hold: no reservation of theirs is owed.
    let ours = |r: &&&Registration| !r.imported && !r.existing_account;
    for registration in registrations.values().filter(ours) {
        let Some(upn) = registration.reserved_upn() else {
            continue;
        };
        if reserved.get(upn.as_str()) != Some(&&registration.email) {
            findings.push(Finding::Unreserved {
                email: registration.email.clone(),
                upn,
            });
        }
    }
    findings
}

/// Vouchers counting fewer uses than registrations hold of them.
fn voucher_uses(records: &[BackupRecord]) -> Vec<Finding> {
    let mut held: BTreeMap<&VoucherCode, usize> = BTreeMap::new();
    let mut used: HashMap<&VoucherCode, u32> = HashMap::new();
    for record in records {
        match record {
            BackupRecord::Registration(Registration {
                voucher: Some(taken),
                ..
            }) if !taken.returned => *held.entry(&taken.code).or_insert(0) += 1,
            BackupRecord::Voucher(voucher) => {
                used.insert(&voucher.code, voucher.used);
            }
            _ => {}
        }
    }
    held.into_iter()
        .filter_map(|(code, held)| {
            let used = used.get(code).copied();
            (used.is_none_or(|used| (used as usize) < held)).then(|| Finding::VoucherUses {
                code: code.redacted(),
                used,
                held,
            })
        })
        .collect()
}
