//! The JSON API, compatible with the original's request shapes (camelCase), described by the
//! OpenAPI spec at `/api/api-spec.json`.

use std::sync::Arc;

use poem::http::StatusCode;
use poem::web::Data;
use poem::{Endpoint, EndpointExt, IntoResponse};
use poem_openapi::payload::Json;
use poem_openapi::types::{ParseError, ParseFromJSON, ParseResult};
use poem_openapi::{ApiResponse, NewType, Object, OpenApi, OpenApiService};

use super::context::RequestContext;
use super::{AppState, paths, response};
use crate::i18n::{Tr, n_};
use crate::limits::retry_after_secs;
use crate::signup::form::{Field, FieldError, SignupForm};
use crate::signup::{FlowError, SubmitError};

#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct Links {
    email_verification: String,
    account_creation: String,
    api_spec: String,
}

// A JSON string and nothing else. poem-openapi's `String` also takes numbers and booleans
// (`1` → "1", `true` → "true"), which made `{"firstName":1,"lastName":true}` the person
// "1 true"; a wrong type is a malformed body (422). The spec still says `type: string`.
// Plain comments: a doc comment here would become every field's title in the spec.
#[derive(NewType)]
#[oai(
    from_json = false,
    from_parameter = false,
    from_multipart = false,
    to_header = false
)]
struct Text(String);

impl ParseFromJSON for Text {
    fn parse_from_json(value: Option<serde_json::Value>) -> ParseResult<Self> {
        match value {
            Some(serde_json::Value::String(text)) => Ok(Text(text)),
            other => Err(ParseError::expected_type(other.unwrap_or_default())),
        }
    }
}

#[derive(Object)]
struct EmailVerificationRequest {
    /// The address to check.
    email: Text,
}

#[derive(Object)]
struct EmailVerificationAnswer {
    /// Whether a sign-up with this address would be accepted.
    valid: bool,
    /// Why not, translated; `null` when valid.
    reason: Option<String>,
}

#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct AccountCreationRequest {
    first_name: Text,
    last_name: Text,
    /// The address the verification link is sent to.
    email: Text,
}

/// A translated message.
#[derive(Object)]
struct Message {
    message: String,
}

#[derive(ApiResponse)]
enum EmailVerificationResponse {
    /// Whether the address may sign up, and why not.
    #[oai(status = 200)]
    Checked(Json<EmailVerificationAnswer>),
    /// Too many checks from this client in the last hour.
    #[oai(status = 429)]
    TooManyRequests(Json<Message>, #[oai(header = "Retry-After")] u64),
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

fn message(tr: &Tr, msgid: &str) -> Json<Message> {
    Json(Message {
        message: tr.t(msgid).to_owned(),
    })
}

/// Whole minutes to wait, at least one, for the messages.
/// The 429 message of the per-client and per-mailbox limits.
fn too_many_attempts(tr: &Tr, wait: std::time::Duration) -> Json<Message> {
    Json(Message {
        message: super::signup::limited_message(tr, wait, false),
    })
}

/// The API endpoints.
pub struct Api;

#[OpenApi]
impl Api {
    /// Links to the endpoints.
    #[oai(path = "/", method = "get")]
    async fn root(&self) -> Json<Links> {
        Json(Links {
            email_verification: paths::API_EMAIL_VERIFICATION.into(),
            account_creation: paths::API_ACCOUNT_CREATION.into(),
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
    ) -> poem::Result<EmailVerificationResponse> {
        let tr = ctx.tr();
        if let Err(wait) = state.limit_check(ctx) {
            return Ok(EmailVerificationResponse::TooManyRequests(
                too_many_attempts(tr, wait),
                retry_after_secs(wait),
            ));
        }
        let answer = |valid, reason| {
            EmailVerificationResponse::Checked(Json(EmailVerificationAnswer { valid, reason }))
        };
        match state.signups.check_email(&body.email.0) {
            Ok(Ok(_)) => Ok(answer(true, None)),
            Ok(Err(error)) => Ok(answer(false, Some(tr.t(reason(error)).to_owned()))),
            Err(err) => {
                tracing::error!(error = %err, "address check failed");
                Err(poem::Error::from_status(StatusCode::INTERNAL_SERVER_ERROR))
            }
        }
    }

    /// Starts a sign-up: sends the verification mail. The request implies the person's
    /// consent to storing the address and sending the name to Microsoft, as in the original.
    #[oai(path = "/account_creation", method = "post")]
    async fn account_creation(
        &self,
        ctx: &RequestContext,
        state: Data<&AppState>,
        body: Json<AccountCreationRequest>,
    ) -> AccountCreationResponse {
        let tr = ctx.tr();
        let AccountCreationRequest {
            first_name: Text(first_name),
            last_name: Text(last_name),
            email: Text(email),
        } = body.0;
        let form = SignupForm {
            email,
            consent_email: Some("api".into()),
            consent_name: Some("api".into()),
            first_name,
            last_name,
            lang: Some(tr.lang().to_owned()),
        };
        let outcome = match state.limit_signup(ctx) {
            Err(wait) => Err(SubmitError::RateLimited(wait)),
            Ok(()) => state.signups.submit(&form, tr).await,
        };
        match outcome {
            Err(SubmitError::RateLimited(wait)) => AccountCreationResponse::TooManyRequests(
                too_many_attempts(tr, wait),
                retry_after_secs(wait),
            ),
            Err(SubmitError::MailCap(wait)) => {
                let text = super::signup::limited_message(tr, wait, true);
                AccountCreationResponse::TooManyRequests(
                    Json(Message { message: text }),
                    retry_after_secs(wait),
                )
            }
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
        ];
        expected.sort();
        assert_eq!(listed, expected);
    }
}
