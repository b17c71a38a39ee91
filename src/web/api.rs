//! The JSON API, compatible with the original's request shapes (camelCase), described by the
//! OpenAPI spec at `/api/api-spec.json`.

use poem::http::StatusCode;
use poem::web::Data;
use poem::{Endpoint, EndpointExt, IntoResponse, Request, Response};
use poem_openapi::payload::Json;
use poem_openapi::types::{ParseError, ParseFromJSON, ParseResult};
use poem_openapi::{ApiResponse, NewType, Object, OpenApi, OpenApiService};

use super::AppState;
use crate::i18n::{Tr, n_};
use crate::limits::retry_after_secs;
use crate::signup::form::{Field, FieldError, SignupForm};
use crate::signup::{FlowError, SubmitError};

/// Where the spec is served.
pub const SPEC_PATH: &str = "/api/api-spec.json";

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
enum AccountCreationResponse {
    /// The verification mail was sent; the account is created once the link is confirmed.
    #[oai(status = 202)]
    Accepted(Json<Message>),
    /// `Email illegal`, `Email already used` or `Name format not supported` (translated).
    #[oai(status = 400)]
    BadRequest(Json<Message>),
    /// Too many sign-ups from this client, or mails to this address, in the last hour.
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

/// The API endpoints.
pub struct Api;

#[OpenApi]
impl Api {
    /// Links to the endpoints.
    #[oai(path = "/", method = "get")]
    async fn root(&self) -> Json<Links> {
        Json(Links {
            email_verification: "/api/v1/email-verification".into(),
            account_creation: "/api/v1/account_creation".into(),
            api_spec: SPEC_PATH.into(),
        })
    }

    /// Checks whether an address may sign up. Language: the `lang` header, then
    /// `Accept-Language`.
    #[oai(path = "/email-verification", method = "post")]
    async fn email_verification(
        &self,
        req: &Request,
        state: Data<&AppState>,
        body: Json<EmailVerificationRequest>,
    ) -> poem::Result<Json<EmailVerificationAnswer>> {
        if let Err(wait) = state.limit_check(req) {
            return Err(too_many(req, &state, wait));
        }
        let tr = state.tr(req, None);
        match state.signups.check_email(&body.email.0) {
            Ok(Ok(_)) => Ok(Json(EmailVerificationAnswer {
                valid: true,
                reason: None,
            })),
            Ok(Err(error)) => Ok(Json(EmailVerificationAnswer {
                valid: false,
                reason: Some(tr.t(reason(error)).to_owned()),
            })),
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
        req: &Request,
        state: Data<&AppState>,
        body: Json<AccountCreationRequest>,
    ) -> AccountCreationResponse {
        let tr = state.tr(req, None);
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
        let outcome = match state.limit_signup(req) {
            Err(wait) => Err(SubmitError::RateLimited(wait)),
            Ok(()) => state.signups.submit(&form, &tr).await,
        };
        match outcome {
            Err(SubmitError::RateLimited(wait)) => {
                let minutes = wait.as_secs().div_ceil(60).max(1).to_string();
                let text = tr.tf(
                    "Too many attempts. Please try again in {minutes} minutes.",
                    &[("minutes", &minutes)],
                );
                AccountCreationResponse::TooManyRequests(
                    Json(Message { message: text }),
                    retry_after_secs(wait),
                )
            }
            Ok(_) => AccountCreationResponse::Accepted(message(
                &tr,
                "A confirmation link has been sent to the address.",
            )),
            Err(SubmitError::Invalid(errors)) => {
                let first = errors
                    .get(Field::Email)
                    .or_else(|| errors.iter().next().map(|(_, e)| e));
                AccountCreationResponse::BadRequest(message(
                    &tr,
                    first.map_or(NAME_NOT_SUPPORTED, reason),
                ))
            }
            Err(SubmitError::Flow(FlowError::Mail(err))) => {
                tracing::error!(error = %err, "verification mail not sent");
                AccountCreationResponse::Unavailable(message(
                    &tr,
                    "We could not send the confirmation mail just now. Please try again in a few minutes.",
                ))
            }
            Err(SubmitError::Flow(err)) => {
                tracing::error!(error = %err, "sign-up could not be stored");
                AccountCreationResponse::InternalError(message(
                    &tr,
                    "Your sign-up could not be saved just now. Please try again in a few minutes.",
                ))
            }
        }
    }
}

/// A 429 with `Retry-After` and a JSON message, outside the documented responses.
fn too_many(req: &Request, state: &AppState, wait: std::time::Duration) -> poem::Error {
    let mut response = json_error(req, state, StatusCode::TOO_MANY_REQUESTS);
    response.headers_mut().insert(
        poem::http::header::RETRY_AFTER,
        retry_after_secs(wait).into(),
    );
    poem::Error::from_response(response)
}

/// The API service; its spec endpoint and its routes.
pub fn service() -> OpenApiService<Api, ()> {
    OpenApiService::new(Api, "ms365-accountcreator", env!("CARGO_PKG_VERSION")).server("/api/v1")
}

/// JSON error body for any failure under `/api/`: malformed bodies become 422.
pub fn json_error(req: &Request, state: &AppState, status: StatusCode) -> Response {
    let tr = state.tr(req, None);
    let msgid = match status {
        StatusCode::BAD_REQUEST | StatusCode::UNPROCESSABLE_ENTITY => {
            "The request body is not valid JSON of the documented shape."
        }
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "Send the request body as application/json.",
        _ => super::pages::status::title_msgid(status),
    };
    let body = serde_json::json!({ "message": tr.t(msgid) });
    poem::web::Json(body).with_status(status).into_response()
}

/// The API routes with JSON errors; parse failures of the body answer 422, as the original.
pub fn endpoint() -> impl Endpoint {
    service().around(|inner, req| async move {
        let state = req.data::<AppState>().cloned();
        let probe = super::error::probe(&req);
        match inner.call(req).await {
            Ok(response) => Ok(response.into_response()),
            Err(err) => {
                let status = if err.is::<poem_openapi::error::ParseRequestPayloadError>() {
                    StatusCode::UNPROCESSABLE_ENTITY
                } else {
                    err.status()
                };
                Ok(match state {
                    Some(state) => json_error(&probe, &state, status),
                    None => status.into_response(),
                })
            }
        }
    })
}
