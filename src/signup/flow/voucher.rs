//! The voucher a sign-up names (`VOUCHERS`): checked inline, at submit and at confirm,
//! where its use is taken with the registration. Its own address filter replaces
//! `EMAIL_ADDRESS_FILTER` for the sign-ups that name it.

use std::borrow::Cow;

use super::{Flow, FlowError};
use crate::domain::{EmailFilter, VoucherCode, VoucherMode, VoucherRefusal};
use crate::signup::form::FieldError;
use crate::store::{ClaimVoucher, Voucher};

impl Flow {
    /// `VOUCHERS`.
    pub fn voucher_mode(&self) -> VoucherMode {
        self.settings.vouchers
    }

    /// The voucher `raw` names, if it admits a sign-up now. `Ok(None)`: vouchers are off
    /// (whatever was typed), or optional and nothing was typed. Never says how many uses
    /// are left; the code is logged by its first group at most.
    pub async fn check_voucher(
        &self,
        raw: &str,
    ) -> Result<Result<Option<Voucher>, FieldError>, FlowError> {
        let mode = self.settings.vouchers;
        if !mode.is_on() {
            return Ok(Ok(None));
        }
        if raw.trim().is_empty() {
            return Ok(match mode {
                VoucherMode::Required => Err(VoucherRefusal::Missing.into()),
                _ => Ok(None),
            });
        }
        let Ok(code) = VoucherCode::parse(raw) else {
            return Ok(Err(VoucherRefusal::Unknown.into()));
        };
        let Some(voucher) = self.context.store.voucher(&code).await? else {
            tracing::info!(voucher = %code.redacted(), "no voucher has the code entered");
            return Ok(Err(VoucherRefusal::Unknown.into()));
        };
        Ok(match voucher.admits(self.now()) {
            Ok(()) => Ok(Some(voucher)),
            Err(refusal) => {
                tracing::info!(voucher = %code.redacted(), %refusal, "voucher refused");
                Err(refusal.into())
            }
        })
    }

    /// The address filter for a sign-up with `voucher`: its own, or `EMAIL_ADDRESS_FILTER`.
    pub fn filter_for(&self, voucher: Option<&Voucher>) -> Cow<'_, EmailFilter> {
        match voucher.and_then(|voucher| voucher.terms.filter()) {
            Some(own) => Cow::Owned(own),
            None => Cow::Borrowed(&self.settings.filter),
        }
    }

    /// Which voucher a confirm takes a use of: `instead`, typed on the confirm page when
    /// the sign-up's own ran out, or the one the sign-up named, as `VOUCHERS` says.
    pub(super) fn claim_voucher<'a>(&self, instead: Option<&'a VoucherCode>) -> ClaimVoucher<'a> {
        match (self.settings.vouchers, instead) {
            (VoucherMode::Off, _) => ClaimVoucher::Ignore,
            (_, Some(code)) => ClaimVoucher::Instead(code),
            (mode, None) => ClaimVoucher::AsSignedUp {
                required: mode == VoucherMode::Required,
            },
        }
    }
}
