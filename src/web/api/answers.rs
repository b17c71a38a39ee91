//! What the API's operations take and answer, as the spec documents it, and how a
//! [`Refusal`] becomes one of an operation's documented answers.

use poem::http::StatusCode;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object};

use super::types::{AnyText, EmailText, NameText, Reason, Text};
use crate::i18n::{Tr, n_};
use crate::limits::retry_after_secs;
use crate::signup::form::FieldError;
use crate::web::refusal::{self, Refusal};

#[derive(Object)]
#[oai(rename_all = "camelCase")]
pub(super) struct Links {
    pub(super) email_verification: String,
    pub(super) account_creation: String,
    /// Present only when `PASSWORD_RESET_ENABLED` is on.
    #[oai(skip_serializing_if_is_none)]
    pub(super) password_reset: Option<String>,
    pub(super) api_spec: String,
}

#[derive(Object)]
pub(super) struct EmailVerificationRequest {
    /// The address to check: any string (the answer says whether it may sign up).
    pub(super) email: Text<AnyText>,
}

#[derive(Object)]
pub(super) struct EmailVerificationAnswer {
    /// Whether a sign-up with this address would be accepted.
    pub(super) valid: bool,
    /// Why not, translated; `null` when valid.
    pub(super) reason: Reason,
}

#[derive(Object)]
#[oai(rename_all = "camelCase")]
pub(super) struct AccountCreationRequest {
    /// 1–64 characters after trimming, at least one letter, one script per word, and enough
    /// Latin letters for a username (else `Name format not supported`).
    pub(super) first_name: Text<NameText>,
    /// As `firstName`.
    pub(super) last_name: Text<NameText>,
    /// The address the verification link is sent to; at most 190 characters, and allowed by
    /// the service's address filter (else `Email illegal`).
    pub(super) email: Text<EmailText>,
    /// A voucher's code (`VOUCHERS` optional or required; ignored when off), in any letter
    /// case, with or without hyphens (else `Voucher invalid` or `Voucher used up`).
    pub(super) voucher: Option<Text<AnyText>>,
}

#[derive(Object)]
pub(super) struct PasswordResetRequest {
    /// The institutional address of an account created here; at most 190 characters.
    pub(super) email: Text<EmailText>,
}

/// A translated message.
#[derive(Object)]
pub(super) struct Message {
    pub(super) message: String,
}

/// The address check's answers.
#[derive(ApiResponse)]
pub(super) enum EmailVerificationResponse {
    /// Whether the address may sign up, and if not why.
    #[oai(status = 200)]
    Checked(Json<EmailVerificationAnswer>),
    /// Too many checks from this client in the last hour.
    #[oai(status = 429)]
    TooManyRequests(Json<Message>, #[oai(header = "Retry-After")] u64),
    /// The store failed.
    #[oai(status = 500)]
    InternalError(Json<Message>),
}

/// Refusals of a request before its operation runs, answered by the front door and by
/// [`endpoint`] with a translated `{"message"}`; listed here so that the spec documents them.
/// Never built: both operations return `Ok`.
#[allow(dead_code)]
#[derive(ApiResponse)]
pub(super) enum Refused {
    /// A browser sent the request from another site.
    #[oai(status = 403)]
    CrossSite(Json<Message>),
    /// The body arrived too slowly.
    #[oai(status = 408)]
    TooSlow(Json<Message>),
    /// The body is larger than 16 KiB.
    #[oai(status = 413)]
    TooLarge(Json<Message>),
    /// The body is not `application/json`.
    #[oai(status = 415)]
    NotJson(Json<Message>),
    /// The body is not JSON of the documented shape: not JSON, a field missing, or a field
    /// that is not a string.
    #[oai(status = 422)]
    Malformed(Json<Message>),
}

#[derive(ApiResponse)]
pub(super) enum AccountCreationResponse {
    /// The verification mail was sent; the account is created once the link is confirmed.
    #[oai(status = 202)]
    Accepted(Json<Message>),
    /// `Email illegal`, `Email already used` or `Name format not supported` (translated).
    #[oai(status = 400)]
    BadRequest(Json<Message>),
    /// Too many sign-ups from this client, mails to this address, or mails in total, in the
    /// last hour.
    #[oai(status = 429)]
    TooManyRequests(Json<Message>, #[oai(header = "Retry-After")] u64),
    /// The store failed.
    #[oai(status = 500)]
    InternalError(Json<Message>),
    /// The verification mail could not be sent; try again later.
    #[oai(status = 503)]
    Unavailable(Json<Message>),
}

#[derive(ApiResponse)]
pub(super) enum PasswordResetResponse {
    /// Taken: if an account was created here for the address, a link for a new temporary
    /// password was mailed to it. The same answer whether or not there is an account.
    #[oai(status = 202)]
    Accepted(Json<Message>),
    /// `Email illegal` (translated): not an address, or not one the service accepts.
    #[oai(status = 400)]
    BadRequest(Json<Message>),
    /// Password resets are not enabled on this server (`PASSWORD_RESET_ENABLED`).
    #[oai(status = 404)]
    NotFound(Json<Message>),
    /// Too many requests from this client, for this address, or mails in total, in the
    /// last hour.
    #[oai(status = 429)]
    TooManyRequests(Json<Message>, #[oai(header = "Retry-After")] u64),
    /// The store failed.
    #[oai(status = 500)]
    InternalError(Json<Message>),
    /// The mail could not be sent; try again later.
    #[oai(status = 503)]
    Unavailable(Json<Message>),
}

/// The API's messages; the English texts are the original's.
// Translators: the JSON API's answers (shown by other programs); short, sentence case.
pub(super) const EMAIL_ILLEGAL: &str = n_("Email illegal");
pub(super) const EMAIL_ALREADY_USED: &str = n_("Email already used");
pub(super) const NAME_NOT_SUPPORTED: &str = n_("Name format not supported");
pub(super) const VOUCHER_INVALID: &str = n_("Voucher invalid");
pub(super) const VOUCHER_USED_UP: &str = n_("Voucher used up");

pub(super) fn reason(error: FieldError) -> &'static str {
    match error {
        FieldError::EmailAlreadyUsed => EMAIL_ALREADY_USED,
        FieldError::EmailMissing
        | FieldError::EmailTooLong
        | FieldError::EmailInvalid
        | FieldError::EmailQuoted
        | FieldError::EmailComment
        | FieldError::EmailNotAllowed => EMAIL_ILLEGAL,
        // Listed, not `_`, so a new e-mail error cannot fall through to the name's message.
        FieldError::ConsentMissing
        | FieldError::NameMissing
        | FieldError::NameTooLong
        | FieldError::NameControlCharacters
        | FieldError::NameFormatCharacters
        | FieldError::NameFillers
        | FieldError::NameCombiningMarks
        | FieldError::NameNoLetter
        | FieldError::NameMixedScripts
        | FieldError::NameUnsupported => NAME_NOT_SUPPORTED,
        FieldError::VoucherMissing | FieldError::VoucherInvalid | FieldError::VoucherExpired => {
            VOUCHER_INVALID
        }
        FieldError::VoucherUsedUp => VOUCHER_USED_UP,
    }
}

/// An operation's answers a [`Refusal`] can become: the one with the refusal's status.
pub(super) trait FromRefusal: Sized {
    /// The answer for `status`, which the operation documents.
    fn with_status(status: StatusCode, message: Json<Message>, retry_after: u64) -> Self;
}

/// `refusal` as an operation's answer, logged.
pub(super) fn refused<A: FromRefusal>(refusal: &impl Refusal, tr: &Tr) -> A {
    refusal::log(refusal);
    let message = Json(Message {
        message: refusal.message(tr),
    });
    let retry_after = refusal.retry_after().map_or(0, retry_after_secs);
    A::with_status(refusal.status(), message, retry_after)
}

// A status an operation does not document cannot be sent: each refusal it meets has one of
// those below (the `api_refusals` test checks every one), so the last arm is never taken.

impl FromRefusal for EmailVerificationResponse {
    fn with_status(status: StatusCode, message: Json<Message>, retry_after: u64) -> Self {
        match status {
            StatusCode::TOO_MANY_REQUESTS => Self::TooManyRequests(message, retry_after),
            _ => Self::InternalError(message),
        }
    }
}

impl FromRefusal for AccountCreationResponse {
    fn with_status(status: StatusCode, message: Json<Message>, retry_after: u64) -> Self {
        match status {
            StatusCode::BAD_REQUEST => Self::BadRequest(message),
            StatusCode::TOO_MANY_REQUESTS => Self::TooManyRequests(message, retry_after),
            StatusCode::SERVICE_UNAVAILABLE => Self::Unavailable(message),
            _ => Self::InternalError(message),
        }
    }
}

impl FromRefusal for PasswordResetResponse {
    fn with_status(status: StatusCode, message: Json<Message>, retry_after: u64) -> Self {
        match status {
            StatusCode::BAD_REQUEST => Self::BadRequest(message),
            StatusCode::NOT_FOUND => Self::NotFound(message),
            StatusCode::TOO_MANY_REQUESTS => Self::TooManyRequests(message, retry_after),
            StatusCode::SERVICE_UNAVAILABLE => Self::Unavailable(message),
            _ => Self::InternalError(message),
        }
    }
}

pub(super) fn message(tr: &Tr, msgid: &str) -> Json<Message> {
    Json(Message {
        message: tr.t(msgid).to_owned(),
    })
}
