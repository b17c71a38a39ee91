//! Vouchers in sled: tree `vouchers` (code → [`Voucher`]). A use is taken inside the claim's
//! transaction ([`take_use`]), and given back or taken again in one with the registration:
//! sled's transactions are serializable, so concurrent claims never count past the uses.

use async_trait::async_trait;
use sled::Transactional;
use sled::transaction::{ConflictableTransactionError, TransactionalTree};

use super::{SledStore, abort, decode, encode};
use crate::domain::{VoucherCode, VoucherRefusal};
use crate::store::voucher::named_voucher;
use crate::store::{
    ClaimVoucher, Listed, PendingSignup, RecordKind, Registration, RegistryKey, StoreError,
    Voucher, VoucherStore, VoucherUse,
};

type TxResult<T> = Result<T, ConflictableTransactionError<StoreError>>;

/// Takes one use of the voucher `code` in `vouchers`, if it admits one at `now`.
fn take_use(
    vouchers: &TransactionalTree,
    code: &VoucherCode,
    now: u64,
) -> TxResult<Result<VoucherUse, VoucherRefusal>> {
    let Some(bytes) = vouchers.get(code.as_str())? else {
        return Ok(Err(VoucherRefusal::Unknown));
    };
    let mut voucher: Voucher = decode(RecordKind::Voucher, &bytes).or_else(abort)?;
    let taken = voucher.take_use(now);
    if taken.is_ok() {
        vouchers.insert(code.as_str(), encode(&voucher))?;
    }
    Ok(taken)
}

/// The use a claim of `signup` takes, as `voucher` says: none, or one of the voucher it
/// names, if that admits one at `now`.
pub(super) fn claimed_use(
    vouchers: &TransactionalTree,
    voucher: ClaimVoucher<'_>,
    signup: &PendingSignup,
    now: u64,
) -> TxResult<Result<Option<VoucherUse>, VoucherRefusal>> {
    match voucher.code(named_voucher(signup)) {
        Ok(Some(code)) => Ok(take_use(vouchers, code, now)?.map(Some)),
        Ok(None) => Ok(Ok(None)),
        Err(refusal) => Ok(Err(refusal)),
    }
}

/// The registration of `email` in a transaction, decoded.
fn registration_in(
    registrations: &TransactionalTree,
    email: &RegistryKey,
) -> TxResult<Option<Registration>> {
    registrations
        .get(email.as_bytes())?
        .map(|bytes| decode(RecordKind::Registration, &bytes).or_else(abort))
        .transpose()
}

#[async_trait]
impl VoucherStore for SledStore {
    async fn create_voucher(&self, voucher: &Voucher) -> Result<bool, StoreError> {
        let result = async {
            let inserted = self.vouchers.compare_and_swap(
                voucher.code.as_str(),
                None as Option<&[u8]>,
                Some(encode(voucher)),
            )?;
            self.flush_to_disk().await?;
            Ok(inserted.is_ok())
        }
        .await;
        self.watched(result)
    }

    async fn voucher(&self, code: &VoucherCode) -> Result<Option<Voucher>, StoreError> {
        self.vouchers
            .get(code.as_str())?
            .map(|bytes| decode(RecordKind::Voucher, &bytes))
            .transpose()
    }

    async fn vouchers(&self) -> Result<Listed<Voucher>, StoreError> {
        Ok(self
            .vouchers
            .iter()
            .map(|entry| {
                entry
                    .map_err(StoreError::from)
                    .and_then(|(_, bytes)| decode(RecordKind::Voucher, &bytes))
            })
            .collect())
    }

    async fn revoke_voucher(
        &self,
        code: &VoucherCode,
        now: u64,
    ) -> Result<Option<Voucher>, StoreError> {
        let revoked = self.vouchers.transaction(|vouchers| {
            let Some(bytes) = vouchers.get(code.as_str())? else {
                return Ok(None);
            };
            let mut voucher: Voucher = decode(RecordKind::Voucher, &bytes).or_else(abort)?;
            voucher.revoked_at.get_or_insert(now);
            vouchers.insert(code.as_str(), encode(&voucher))?;
            Ok(Some(voucher))
        });
        self.durably(revoked).await
    }

    async fn return_voucher_use(&self, email: &RegistryKey) -> Result<bool, StoreError> {
        let returned =
            (&self.registrations, &self.vouchers).transaction(|(registrations, vouchers)| {
                let Some(mut registration) = registration_in(registrations, email)? else {
                    return Ok(false);
                };
                let Some(held) = registration.voucher.as_mut().filter(|held| !held.returned) else {
                    return Ok(false);
                };
                held.returned = true;
                let code = held.code.clone();
                if let Some(bytes) = vouchers.get(code.as_str())? {
                    let mut voucher: Voucher =
                        decode(RecordKind::Voucher, &bytes).or_else(abort)?;
                    voucher.used = voucher.used.saturating_sub(1);
                    vouchers.insert(code.as_str(), encode(&voucher))?;
                }
                registrations.insert(email.as_bytes(), encode(&registration))?;
                Ok(true)
            });
        self.durably(returned).await
    }

    async fn retake_voucher_use(
        &self,
        email: &RegistryKey,
        code: &VoucherCode,
        now: u64,
    ) -> Result<Result<Registration, VoucherRefusal>, StoreError> {
        let retaken =
            (&self.registrations, &self.vouchers).transaction(|(registrations, vouchers)| {
                let Some(mut registration) = registration_in(registrations, email)? else {
                    return abort(StoreError::Unavailable(format!(
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
                match take_use(vouchers, code, now)? {
                    Ok(taken) => {
                        registration.voucher = Some(taken);
                        registrations.insert(email.as_bytes(), encode(&registration))?;
                        Ok(Ok(registration))
                    }
                    Err(refusal) => Ok(Err(refusal)),
                }
            });
        self.durably(retaken).await
    }
}
