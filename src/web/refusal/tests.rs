//! Every error's answer, variant by variant: a status that changes fails here, whichever
//! page or API operation shows it (those are tested over HTTP in `tests/api`).

use std::time::Duration;

use poem::http::StatusCode;

use super::*;
use crate::directory::DirectoryError;
use crate::mail::MailError;
use crate::signup::form::{FieldError, FieldErrors};
use crate::store::StoreError;

const WAIT: Duration = Duration::from_secs(90);

/// What a refusal answers: its status, whether it says when to come back, whether the
/// operator hears of it.
fn answer(refusal: &impl Refusal) -> (StatusCode, bool, bool) {
    (
        refusal.status(),
        refusal.retry_after().is_some(),
        refusal.log_line().is_some(),
    )
}

fn mail_error() -> MailError {
    MailError::Send("connection refused".into())
}

#[test]
fn sign_up_errors() {
    let mut errors = FieldErrors::default();
    errors.add(Field::Email, FieldError::EmailNotAllowed);
    let cases: Vec<(SubmitError, (StatusCode, bool, bool))> = vec![
        (
            SubmitError::Invalid(errors),
            (StatusCode::UNPROCESSABLE_ENTITY, false, false),
        ),
        (
            SubmitError::RateLimited(WAIT),
            (StatusCode::TOO_MANY_REQUESTS, true, false),
        ),
        (
            SubmitError::MailCap(WAIT),
            (StatusCode::TOO_MANY_REQUESTS, true, false),
        ),
        (
            SubmitError::MailboxLimited {
                wait: WAIT,
                link_valid_for: Duration::from_secs(3600),
            },
            (StatusCode::TOO_MANY_REQUESTS, true, false),
        ),
        (
            SubmitError::Flow(FlowError::Mail(mail_error())),
            (StatusCode::SERVICE_UNAVAILABLE, false, true),
        ),
        (
            SubmitError::Flow(FlowError::Store(StoreError::NoSpace)),
            (StatusCode::INTERNAL_SERVER_ERROR, false, true),
        ),
        (
            SubmitError::Flow(FlowError::Random),
            (StatusCode::INTERNAL_SERVER_ERROR, false, true),
        ),
    ];
    for (error, expected) in cases {
        assert_eq!(answer(&error), expected, "{error:?}");
    }
}

#[test]
fn reset_request_errors() {
    let cases = [
        (
            ResetRequestError::Invalid(crate::signup::form::FieldError::EmailInvalid),
            (StatusCode::UNPROCESSABLE_ENTITY, false, false),
        ),
        (
            ResetRequestError::MailboxLimited(WAIT),
            (StatusCode::TOO_MANY_REQUESTS, true, false),
        ),
        (
            ResetRequestError::MailCap(WAIT),
            (StatusCode::TOO_MANY_REQUESTS, true, false),
        ),
        (
            ResetRequestError::Flow(FlowError::Mail(mail_error())),
            (StatusCode::SERVICE_UNAVAILABLE, false, true),
        ),
        (
            ResetRequestError::Flow(FlowError::Random),
            (StatusCode::INTERNAL_SERVER_ERROR, false, true),
        ),
    ];
    for (error, expected) in cases {
        assert_eq!(answer(&error), expected, "{error:?}");
    }
}

/// One status per link error, whichever link (sign-up or reset) meets it.
#[test]
fn link_errors() {
    let cases = [
        (LinkError::Expired, StatusCode::GONE),
        (LinkError::Unknown, StatusCode::GONE),
        (LinkError::Used, StatusCode::GONE),
        (LinkError::Invalid, StatusCode::NOT_FOUND),
        (LinkError::AddressTaken, StatusCode::CONFLICT),
    ];
    for (error, status) in cases {
        assert_eq!(answer(&error), (status, false, false), "{error:?}");
        assert_eq!(answer(&ConfirmError::Link(error)), (status, false, false));
        assert_eq!(answer(&ResetError::Link(error)), (status, false, false));
    }
}

#[test]
fn confirm_errors() {
    let cases = [
        (
            ConfirmError::Provision(ProvisionError::InProgress),
            (StatusCode::CONFLICT, false, false),
        ),
        (
            ConfirmError::Provision(ProvisionError::Name),
            (StatusCode::SERVICE_UNAVAILABLE, false, true),
        ),
        (
            ConfirmError::Store(StoreError::NoSpace),
            (StatusCode::SERVICE_UNAVAILABLE, false, true),
        ),
    ];
    for (error, expected) in cases {
        assert_eq!(answer(&error), expected, "{error:?}");
    }
}

#[test]
fn reset_errors() {
    let cases = [
        (
            ResetError::Forbidden("Insufficient privileges".into()),
            (StatusCode::FORBIDDEN, false, false),
        ),
        (
            ResetError::Directory(DirectoryError::Unavailable("throttled".into())),
            (StatusCode::SERVICE_UNAVAILABLE, false, true),
        ),
        (
            ResetError::Mail(mail_error()),
            (StatusCode::SERVICE_UNAVAILABLE, false, true),
        ),
        (
            ResetError::Store(StoreError::NoSpace),
            (StatusCode::SERVICE_UNAVAILABLE, false, true),
        ),
        (
            ResetError::Random,
            (StatusCode::SERVICE_UNAVAILABLE, false, true),
        ),
    ];
    for (error, expected) in cases {
        assert_eq!(answer(&error), expected, "{error:?}");
    }
}

#[test]
fn the_client_limit_and_a_failed_check() {
    assert_eq!(
        answer(&ClientLimited(WAIT)),
        (StatusCode::TOO_MANY_REQUESTS, true, false)
    );
    assert_eq!(
        answer(&CheckFailed(FlowError::Random)),
        (StatusCode::INTERNAL_SERVER_ERROR, false, true)
    );
}

#[test]
fn limits_say_how_many_minutes_in_the_language_s_plural() {
    let catalogs = crate::i18n::Catalogs::load(None, "en").expect("the embedded catalogues");
    let tr = catalogs.get("en").expect("English");
    assert_eq!(
        ClientLimited(Duration::from_secs(61)).message(&tr),
        "Too many attempts. Please try again in 2 minutes."
    );
    assert_eq!(
        SubmitError::MailCap(Duration::from_millis(10)).message(&tr),
        "So many people are signing up just now that we have paused sending mails. Please try again in 1 minute."
    );
}
