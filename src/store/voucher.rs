//! Vouchers as the store keeps them, the use a registration holds of one, and which voucher
//! a claim takes a use of. Both backends count uses with these, inside the transaction that
//! claims the sign-up, so a voucher for N uses makes at most N registrations.

use serde::{Deserialize, Serialize};

use crate::domain::{Day, DirectoryId, VoucherCode, VoucherRefusal, VoucherTerms};

/// A voucher: its code, its terms, and how many of its uses are taken.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Voucher {
    pub code: VoucherCode,
    #[serde(flatten)]
    pub terms: VoucherTerms,
    /// Uses taken: registrations made with it whose use was not given back.
    pub used: u32,
    /// When an operator revoked it (Unix seconds).
    pub revoked_at: Option<u64>,
    pub created_at: u64,
}

impl Voucher {
    /// A new voucher with no use taken.
    pub fn new(code: VoucherCode, terms: VoucherTerms, now: u64) -> Self {
        Voucher {
            code,
            terms,
            used: 0,
            revoked_at: None,
            created_at: now,
        }
    }

    /// Whether it admits one more sign-up at `now`, and if not, why (revoked before expired
    /// before used up: the reason that lasts longest).
    pub fn admits(&self, now: u64) -> Result<(), VoucherRefusal> {
        if self.revoked_at.is_some() {
            return Err(VoucherRefusal::Revoked);
        }
        if self
            .terms
            .valid_until
            .is_some_and(|last_day| now >= last_day.after())
        {
            return Err(VoucherRefusal::Expired);
        }
        if self.terms.uses.is_some_and(|uses| self.used >= uses) {
            return Err(VoucherRefusal::UsedUp);
        }
        Ok(())
    }

    /// Uses it has left; `None` when it has no limit. For operators only.
    pub fn uses_left(&self) -> Option<u32> {
        self.terms.uses.map(|uses| uses.saturating_sub(self.used))
    }

    /// Takes one use, if it admits one at `now`.
    pub(in crate::store) fn take_use(&mut self, now: u64) -> Result<VoucherUse, VoucherRefusal> {
        self.admits(now)?;
        self.used += 1;
        Ok(VoucherUse {
            code: self.code.clone(),
            name: self.terms.name.clone(),
            licences: self.terms.licences.clone(),
            groups: self.terms.groups.clone(),
            lifetime_days: self.terms.lifetime_days,
            ends_on: self.terms.ends_on,
            returned: false,
        })
    }
}

/// The voucher a registration was made with: what it grants, copied when the use was taken,
/// so that provisioning and the lifecycle need not read the voucher again (and a voucher
/// revoked later changes nothing for accounts made before).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VoucherUse {
    pub code: VoucherCode,
    /// The voucher's name, for metrics and operators.
    pub name: String,
    /// Licences replacing the configured ones; `None`: those.
    pub licences: Option<Vec<DirectoryId>>,
    /// Groups replacing the configured ones; `None`: those.
    pub groups: Option<Vec<DirectoryId>>,
    /// The account's lifetime in days from its creation, if the voucher limits it.
    pub lifetime_days: Option<u32>,
    /// The day the account ends, if the voucher fixes one.
    pub ends_on: Option<Day>,
    /// The use was given back: no account was made from it (the creation failed for good
    /// before a user existed, or the mailbox had its account already). A resumed
    /// registration takes a use again before it goes on.
    #[serde(default)]
    pub returned: bool,
}

/// Which voucher a claim takes a use of, as the flow decides from `VOUCHERS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimVoucher<'a> {
    /// Vouchers are off: none is taken, whatever the sign-up named.
    Ignore,
    /// The voucher the sign-up named, if it named one; `required`: it must have.
    AsSignedUp { required: bool },
    /// Another voucher, entered by the person on the confirm page (theirs was used up,
    /// say); it replaces the one the sign-up named.
    Instead(&'a VoucherCode),
}

impl<'a> ClaimVoucher<'a> {
    /// The code whose use the claim takes, if any; `named` is the one the sign-up named.
    pub(in crate::store) fn code(
        self,
        named: Option<&'a VoucherCode>,
    ) -> Result<Option<&'a VoucherCode>, VoucherRefusal> {
        match self {
            ClaimVoucher::Ignore => Ok(None),
            ClaimVoucher::AsSignedUp { required } => match named {
                Some(code) => Ok(Some(code)),
                None if required => Err(VoucherRefusal::Missing),
                None => Ok(None),
            },
            ClaimVoucher::Instead(code) => Ok(Some(code)),
        }
    }
}

/// The voucher a pending sign-up named.
pub(in crate::store) fn named_voucher(signup: &super::PendingSignup) -> Option<&VoucherCode> {
    signup.voucher.as_ref()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn voucher(uses: Option<u32>) -> Voucher {
        let terms = VoucherTerms {
            uses,
            valid_until: Some(Day::parse("2027-03-31").unwrap()),
            ..VoucherTerms::named("Course").unwrap()
        };
        Voucher::new(VoucherCode::generate().unwrap(), terms, 0)
    }

    const BEFORE_END: u64 = 1_806_537_599; // 2027-03-31T23:59:59Z

    #[test]
    fn a_voucher_admits_until_its_uses_are_taken() {
        let mut voucher = voucher(Some(2));
        assert!(voucher.take_use(0).is_ok());
        assert!(voucher.take_use(BEFORE_END).is_ok());
        assert_eq!(voucher.take_use(0), Err(VoucherRefusal::UsedUp));
        assert_eq!(voucher.used, 2);
        assert_eq!(voucher.uses_left(), Some(0));
    }

    #[test]
    fn a_voucher_is_valid_through_its_last_day() {
        let voucher = voucher(None);
        assert_eq!(voucher.admits(BEFORE_END), Ok(()));
        assert_eq!(voucher.admits(BEFORE_END + 1), Err(VoucherRefusal::Expired));
        assert_eq!(voucher.uses_left(), None);
    }

    #[test]
    fn revoked_is_said_before_expired_and_used_up() {
        let mut voucher = voucher(Some(1));
        voucher.used = 1;
        assert_eq!(voucher.admits(BEFORE_END + 1), Err(VoucherRefusal::Expired));
        voucher.revoked_at = Some(5);
        assert_eq!(voucher.admits(0), Err(VoucherRefusal::Revoked));
    }

    #[test]
    fn the_use_carries_the_vouchers_grants_and_end() {
        let group = DirectoryId::parse("7f3c0a52-9f0e-4a8e-b1c2-0d1e2f3a4b5c").unwrap();
        let mut voucher = voucher(None);
        voucher.terms.groups = Some(vec![group.clone()]);
        voucher.terms.lifetime_days = Some(90);
        let taken = voucher.take_use(0).unwrap();
        assert_eq!(taken.code, voucher.code);
        assert_eq!(taken.name, "Course");
        assert_eq!(taken.groups, Some(vec![group]));
        assert_eq!(taken.licences, None);
        assert_eq!(taken.lifetime_days, Some(90));
        assert!(!taken.returned);
    }
}
