//! Domain types that can only hold valid values. Imports nothing else from the crate.

mod account_end;
mod audit;
mod credential;
mod day;
mod email_address;
mod email_filter;
mod ip_range;
mod mail_nickname;
mod person_name;
mod provisioning_step;
mod voucher;
mod voucher_code;
mod voucher_qr;
mod voucher_terms;

pub use account_end::{AccountEnd, EndReason, EndStep};
pub use audit::{
    AuditAction, AuditActor, AuditEntry, AuditSource, ExportedAuditEntry, UnknownAuditAction,
};
pub use credential::{
    Credential, SECURITY_INFO_URL, TapLifetime, TapLifetimeError, UnknownCredential,
};
pub use day::{DAY_SECS, Day, DayError};
pub use email_address::{
    EmailAddress, EmailAddressError, Mailbox, SubaddressSeparator, SubaddressSeparatorError,
};
pub use email_filter::{EmailFilter, EmailFilterError};
pub use ip_range::{IpRange, IpRangeError};
pub use mail_nickname::{BrokenNicknameRule, MailNickname, NicknameError};
pub use person_name::{PersonName, PersonNameError};
pub use provisioning_step::Step;
pub use voucher::{DirectoryId, DirectoryIdError, VoucherMode, VoucherModeError, VoucherRefusal};
pub use voucher_code::{VoucherCode, VoucherCodeError};
pub use voucher_qr::{QrTooLong, qr_code, qr_inline_svg, qr_svg};
pub use voucher_terms::{VoucherEnd, VoucherTerms, VoucherTermsError};
