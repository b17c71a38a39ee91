//! Vouchers in PostgreSQL: table `vouchers` (the record, under its code). A use is taken in
//! the claim's transaction with the voucher's row locked (`FOR UPDATE`), so claims with one
//! voucher — in any number of instances — count their uses one after the other; giving a
//! use back or taking it again locks the registration's row, then the voucher's.

use async_trait::async_trait;
use tokio_postgres::GenericClient;

use super::{PgStore, decode, json};
use crate::domain::{VoucherCode, VoucherRefusal};
use crate::store::voucher::named_voucher;
use crate::store::{
    ClaimVoucher, Listed, PendingSignup, RecordKind, Registration, RegistryKey, StoreError,
    Voucher, VoucherStore, VoucherUse,
};

/// The voucher `code`, its row locked until the transaction `tx` ends.
async fn locked(
    tx: &impl GenericClient,
    code: &VoucherCode,
) -> Result<Option<Voucher>, StoreError> {
    let row = tx
        .query_opt(
            "SELECT record FROM vouchers WHERE code = $1 FOR UPDATE",
            &[&code.as_str()],
        )
        .await?;
    row.map(|row| decode(RecordKind::Voucher, row.get(0)))
        .transpose()
}

async fn save(tx: &impl GenericClient, voucher: &Voucher) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE vouchers SET record = $2 WHERE code = $1",
        &[&voucher.code.as_str(), &json(voucher)],
    )
    .await?;
    Ok(())
}

/// Takes one use of the voucher `code` in `tx`, if it admits one at `now`.
async fn take_use(
    tx: &impl GenericClient,
    code: &VoucherCode,
    now: u64,
) -> Result<Result<VoucherUse, VoucherRefusal>, StoreError> {
    let Some(mut voucher) = locked(tx, code).await? else {
        return Ok(Err(VoucherRefusal::Unknown));
    };
    let taken = voucher.take_use(now);
    if taken.is_ok() {
        save(tx, &voucher).await?;
    }
    Ok(taken)
}

/// The use a claim of `signup` takes in `tx`, as `voucher` says (see the sled store's).
pub(super) async fn claimed_use(
    tx: &impl GenericClient,
    voucher: ClaimVoucher<'_>,
    signup: &PendingSignup,
    now: u64,
) -> Result<Result<Option<VoucherUse>, VoucherRefusal>, StoreError> {
    match voucher.code(named_voucher(signup)) {
        Ok(Some(code)) => Ok(take_use(tx, code, now).await?.map(Some)),
        Ok(None) => Ok(Ok(None)),
        Err(refusal) => Ok(Err(refusal)),
    }
}

impl PgStore {
    /// The registration of `email` in `tx`, its row locked, unless another instance holds
    /// its lease ([`StoreError::Busy`]).
    async fn locked_registration(
        &self,
        tx: &impl GenericClient,
        email: &RegistryKey,
    ) -> Result<Option<Registration>, StoreError> {
        let row = tx
            .query_opt(
                "SELECT record, lease_holder IS NULL OR lease_holder = $2 OR lease_until < now()
                 FROM registrations WHERE email = $1 FOR UPDATE",
                &[&email.as_str(), &&*self.holder],
            )
            .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        if !row.get::<_, bool>(1) {
            return Err(StoreError::Busy);
        }
        decode(RecordKind::Registration, row.get(0)).map(Some)
    }
}

async fn save_record(
    tx: &impl GenericClient,
    registration: &Registration,
) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE registrations SET record = $2 WHERE email = $1",
        &[&registration.email.as_str(), &json(registration)],
    )
    .await?;
    Ok(())
}

#[async_trait]
impl VoucherStore for PgStore {
    async fn create_voucher(&self, voucher: &Voucher) -> Result<bool, StoreError> {
        let inserted = self
            .pool
            .get()
            .await?
            .execute(
                "INSERT INTO vouchers (code, record) VALUES ($1, $2) ON CONFLICT (code) DO NOTHING",
                &[&voucher.code.as_str(), &json(voucher)],
            )
            .await?;
        Ok(inserted == 1)
    }

    async fn voucher(&self, code: &VoucherCode) -> Result<Option<Voucher>, StoreError> {
        let row = self
            .pool
            .get()
            .await?
            .query_opt(
                "SELECT record FROM vouchers WHERE code = $1",
                &[&code.as_str()],
            )
            .await?;
        row.map(|row| decode(RecordKind::Voucher, row.get(0)))
            .transpose()
    }

    async fn vouchers(&self) -> Result<Listed<Voucher>, StoreError> {
        self.all(
            "SELECT record FROM vouchers ORDER BY code COLLATE \"C\"",
            RecordKind::Voucher,
        )
        .await
    }

    async fn revoke_voucher(
        &self,
        code: &VoucherCode,
        now: u64,
    ) -> Result<Option<Voucher>, StoreError> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let Some(mut voucher) = locked(&*tx, code).await? else {
            return Ok(None);
        };
        voucher.revoked_at.get_or_insert(now);
        save(&*tx, &voucher).await?;
        tx.commit().await?;
        Ok(Some(voucher))
    }

    async fn return_voucher_use(&self, email: &RegistryKey) -> Result<bool, StoreError> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let Some(mut registration) = self.locked_registration(&*tx, email).await? else {
            return Ok(false);
        };
        let Some(held) = registration.voucher.as_mut().filter(|held| !held.returned) else {
            return Ok(false);
        };
        held.returned = true;
        if let Some(mut voucher) = locked(&*tx, &held.code).await? {
            voucher.used = voucher.used.saturating_sub(1);
            save(&*tx, &voucher).await?;
        }
        save_record(&*tx, &registration).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn retake_voucher_use(
        &self,
        email: &RegistryKey,
        code: &VoucherCode,
        now: u64,
    ) -> Result<Result<Registration, VoucherRefusal>, StoreError> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let Some(mut registration) = self.locked_registration(&*tx, email).await? else {
            return Err(StoreError::Unavailable(format!(
                "the registration of {email} is gone"
            )));
        };
        if registration
            .voucher
            .as_ref()
            .is_some_and(|held| !held.returned)
        {
            return Ok(Ok(registration));
        }
        let taken = match take_use(&*tx, code, now).await? {
            Ok(taken) => taken,
            Err(refusal) => return Ok(Err(refusal)),
        };
        registration.voucher = Some(taken);
        save_record(&*tx, &registration).await?;
        tx.commit().await?;
        Ok(Ok(registration))
    }
}
