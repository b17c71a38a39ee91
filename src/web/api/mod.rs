//! The JSON API, compatible with the original's request shapes (camelCase), described by the
//! OpenAPI spec at `/api/api-spec.json`.

use std::sync::Arc;

use poem::http::StatusCode;
use poem::web::Data;
use poem::{Endpoint, EndpointExt, IntoResponse};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi, OpenApiService};

use super::api_types::{AnyText, EmailText, NameText, Reason, Text};
use super::context::RequestContext;
use super::{AppState, paths, response};
use crate::i18n::{Tr, n_};
use crate::limits::retry_after_secs;
use crate::signup::form::{Field, FieldError, SignupForm};
use crate::signup::{FlowError, ResetRequestError, SubmitError};

#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct Links {
    email_verification: String,
    account_creation: String,
    /// Present only when `PASSWORD_RESET_ENABLED` is on.
    #[oai(skip_serializing_if_is_none)]
    password_reset: Option<String>,
    api_spec: String,
}

#[derive(Object)]
struct EmailVerificationRequest {
    /// The address to check: any string (the answer says whether it may sign up).
    email: Text<AnyText>,
}

#[derive(Object)]
struct EmailVerificationAnswer {
    /// Whether a sign-up with this address would be accepted.
    valid: bool,
    /// Why not, translated; `null` when valid.
    reason: Reason,
}

#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct AccountCreationRequest {
    /// 1–64 characters after trimming, at least one letter, one script per word, and enough
    /// Latin letters for a username (else `Name format not supported`).
    first_name: Text<NameText>,
    /// As `firstName`.
    last_name: Text<NameText>,
    /// The address the verification link is sent to; at most 190 characters, and allowed by
    /// the service's address filter (else `Email illegal`).
    email: Text<EmailText>,
}

#[derive(Object)]
struct PasswordResetRequest {
    /// The institutional address of an account created here; at most 190 characters.
    email: Text<EmailText>,
}

/// A translated message.
#[derive(Object)]
struct Message {
    message: String,
}

/// The address check's answers.
#[derive(ApiResponse)]
enum EmailVerificationResponse {
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
enum Refused {
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
enum AccountCreationResponse {
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
enum PasswordResetResponse {
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
const EMAIL_ILLEGAL: &str = n_("Email illegal");
const EMAIL_ALREADY_USED: &str = n_("Email already used");
const NAME_NOT_SUPPORTED: &str = n_("Name format not supported");

fn reason(error: FieldError) -> &'static str {
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
    }
}

/// The 429 answer of the per-client limits: the message and `Retry-After`.
fn too_many(tr: &Tr, wait: std::time::Duration) -> (Json<Message>, u64) {
    let text = super::signup::limited_message(tr, wait, false);
    (Json(Message { message: text }), retry_after_secs(wait))
}

fn message(tr: &Tr, msgid: &str) -> Json<Message> {
    Json(Message {
        message: tr.t(msgid).to_owned(),
    })
}

/// The API endpoints.
pub struct Api;

#[OpenApi]
impl Api {
    /// Links to the endpoints.
    #[oai(path = "/", method = "get")]
    async fn root(&self, state: Data<&AppState>) -> Json<Links> {
        Json(Links {
            email_verification: paths::API_EMAIL_VERIFICATION.into(),
            account_creation: paths::API_ACCOUNT_CREATION.into(),
            password_reset: state
                .signups
                .password_reset_enabled()
                .then(|| paths::API_PASSWORD_RESET.into()),
            api_spec: paths::API_SPEC.into(),
        })
    }

    /// Checks whether an address may sign up. Language: the `lang` header, then
    /// `Accept-Language`.
    #[oai(path = "/email-verification", method = "post")]
    async fn email_verification(
        &self,
        ctx: &RequestContext,
        state: Data<&AppState>,
        body: Json<EmailVerificationRequest>,
    ) -> Result<EmailVerificationResponse, Refused> {
        let tr = ctx.tr();
        if let Err(wait) = state.limit_check(ctx) {
            let (text, retry_after) = too_many(tr, wait);
            return Ok(EmailVerificationResponse::TooManyRequests(
                text,
                retry_after,
            ));
        }
        let answer = |valid, reason: Option<&str>| {
            let reason = Reason(reason.map(|msgid| tr.t(msgid).to_owned()));
            EmailVerificationResponse::Checked(Json(EmailVerificationAnswer { valid, reason }))
        };
        Ok(match state.signups.check_email(body.email.as_str()) {
            Ok(Ok(_)) => answer(true, None),
            Ok(Err(error)) => answer(false, Some(reason(error))),
            Err(err) => {
                tracing::error!(error = %err, "address check failed");
                EmailVerificationResponse::InternalError(message(tr, "Something went wrong"))
            }
        })
    }

    /// Starts a sign-up: sends the verification mail. The request implies the person's
    /// consent to storing the address and sending the name to Microsoft, as in the original.
    #[oai(path = "/account_creation", method = "post")]
    async fn account_creation(
        &self,
        ctx: &RequestContext,
        state: Data<&AppState>,
        body: Json<AccountCreationRequest>,
    ) -> Result<AccountCreationResponse, Refused> {
        let tr = ctx.tr();
        let AccountCreationRequest {
            first_name,
            last_name,
            email,
        } = body.0;
        let form = SignupForm {
            email: email.into_string(),
            consent_email: Some("api".into()),
            consent_name: Some("api".into()),
            first_name: first_name.into_string(),
            last_name: last_name.into_string(),
            lang: Some(tr.lang().to_owned()),
        };
        let outcome = match state.limit_signup(ctx) {
            Err(wait) => Err(SubmitError::RateLimited(wait)),
            Ok(()) => state.signups.submit(&form, tr).await,
        };
        Ok(match outcome {
            Err(SubmitError::RateLimited(wait)) => {
                let (text, retry_after) = too_many(tr, wait);
                AccountCreationResponse::TooManyRequests(text, retry_after)
            }
            Err(SubmitError::MailCap(wait)) => AccountCreationResponse::TooManyRequests(
                Json(Message {
                    message: super::signup::limited_message(tr, wait, true),
                }),
                retry_after_secs(wait),
            ),
            Err(SubmitError::MailboxLimited {
                wait,
                link_valid_for,
            }) => AccountCreationResponse::TooManyRequests(
                Json(Message {
                    message: super::signup::link_already_sent(tr, wait, link_valid_for),
                }),
                retry_after_secs(wait),
            ),
            Ok(_) => AccountCreationResponse::Accepted(message(
                tr,
                "A confirmation link has been sent to the address.",
            )),
            Err(SubmitError::Invalid(errors)) => {
                let first = errors
                    .get(Field::Email)
                    .or_else(|| errors.iter().next().map(|(_, e)| e));
                AccountCreationResponse::BadRequest(message(
                    tr,
                    first.map_or(NAME_NOT_SUPPORTED, reason),
                ))
            }
            Err(SubmitError::Flow(FlowError::Mail(err))) => {
                tracing::error!(error = %err, "verification mail not sent");
                AccountCreationResponse::Unavailable(message(
                    tr,
                    "We could not send the confirmation mail just now. Please try again in a few minutes.",
                ))
            }
            Err(SubmitError::Flow(err)) => {
                tracing::error!(error = %err, "sign-up could not be stored");
                AccountCreationResponse::InternalError(message(
                    tr,
                    "Your sign-up could not be saved just now. Please try again in a few minutes.",
                ))
            }
        })
    }

    /// Asks for a new temporary password (`PASSWORD_RESET_ENABLED`): if an account was
    /// created here for the address, a single-use link is mailed to it. The answer does not
    /// say whether there is one.
    #[oai(path = "/password_reset", method = "post")]
    async fn password_reset(
        &self,
        ctx: &RequestContext,
        state: Data<&AppState>,
        body: Json<PasswordResetRequest>,
    ) -> Result<PasswordResetResponse, Refused> {
        let tr = ctx.tr();
        if !state.signups.password_reset_enabled() {
            return Ok(PasswordResetResponse::NotFound(message(
                tr,
                super::pages::status::title_msgid(StatusCode::NOT_FOUND),
            )));
        }
        if let Err(wait) = state.limit_signup(ctx) {
            let (text, retry_after) = too_many(tr, wait);
            return Ok(PasswordResetResponse::TooManyRequests(text, retry_after));
        }
        Ok(password_reset_answer(&state, tr, body.email.as_str()).await)
    }
}

/// The answer of `password_reset` once the per-client limit has passed.
async fn password_reset_answer(state: &AppState, tr: &Tr, email: &str) -> PasswordResetResponse {
    match state.signups.request_password_reset(email, tr).await {
        Ok(_) => PasswordResetResponse::Accepted(message(
            tr,
            "If an account was created here for this address, we have sent a link to it.",
        )),
        Err(ResetRequestError::Invalid(_)) => {
            PasswordResetResponse::BadRequest(message(tr, EMAIL_ILLEGAL))
        }
        Err(ResetRequestError::MailboxLimited(wait)) => {
            let (text, retry_after) = too_many(tr, wait);
            PasswordResetResponse::TooManyRequests(text, retry_after)
        }
        Err(ResetRequestError::MailCap(wait)) => PasswordResetResponse::TooManyRequests(
            Json(Message {
                message: super::signup::limited_message(tr, wait, true),
            }),
            retry_after_secs(wait),
        ),
        Err(ResetRequestError::Flow(FlowError::Mail(err))) => {
            tracing::error!(error = %err, "password reset mail not sent");
            PasswordResetResponse::Unavailable(message(
                tr,
                "We could not send the mail just now. Please try again in a few minutes.",
            ))
        }
        Err(ResetRequestError::Flow(err)) => {
            tracing::error!(error = %err, "password reset request failed");
            PasswordResetResponse::InternalError(message(
                tr,
                "Something went wrong. Please try again in a few minutes.",
            ))
        }
    }
}

/// The API service; its spec endpoint and its routes.
pub fn service() -> OpenApiService<Api, ()> {
    OpenApiService::new(Api, "ms365-accountcreator", env!("CARGO_PKG_VERSION"))
        .server(paths::API_V1)
}

/// The API routes; every failure becomes the renderer's JSON error, and parse failures of
/// the body answer 422, as the original.
pub fn endpoint() -> impl Endpoint {
    service().around(|inner, req| async move {
        let state = req.data::<AppState>().cloned();
        let ctx = req.extensions().get::<Arc<RequestContext>>().cloned();
        match inner.call(req).await {
            Ok(answer) => Ok(answer.into_response()),
            Err(err) => {
                let status = if err.is::<poem_openapi::error::ParseRequestPayloadError>() {
                    StatusCode::UNPROCESSABLE_ENTITY
                } else {
                    err.status()
                };
                // The body is rebuilt; a `Retry-After` the error carried (a 429) is kept.
                let answer = match (ctx, state) {
                    (Some(ctx), Some(state)) => response::error(&ctx, &state, status),
                    _ => status.into_response(),
                };
                Ok(response::rebuilt(answer, &err.into_response()))
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The operations' paths are literals in their attributes; the links and route names
    /// come from `paths`. This keeps the two spellings one.
    #[test]
    fn the_spec_lists_exactly_the_paths_in_paths() {
        let spec: serde_json::Value =
            serde_json::from_str(&service().spec()).expect("the spec is JSON");
        let mut listed: Vec<String> = spec["paths"]
            .as_object()
            .expect("paths")
            .keys()
            .map(|path| format!("{}{path}", paths::API_V1))
            .collect();
        listed.sort();
        let mut expected = vec![
            paths::API_ROOT,
            paths::API_EMAIL_VERIFICATION,
            paths::API_ACCOUNT_CREATION,
            paths::API_PASSWORD_RESET,
        ];
        expected.sort();
        assert_eq!(listed, expected);
    }
}
