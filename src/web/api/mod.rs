//! The JSON API, compatible with the original's request shapes (camelCase), described by the
//! OpenAPI spec at `/api/api-spec.json`.

mod answers;
mod email_pattern;
mod spec;
mod types;

use std::sync::Arc;

use poem::PathPattern;
use poem::http::{Method, StatusCode};
use poem::web::Data;
use poem::{Endpoint, EndpointExt, IntoResponse};
use poem_openapi::payload::Json;
use poem_openapi::{OpenApi, OpenApiService};

use super::context::RequestContext;
use super::refusal::{CheckFailed, ClientLimited};
use super::{AppState, paths, response};
use crate::domain::PersonName;
use crate::i18n::Tr;
use crate::signup::form::{Field, SignupForm};
use crate::signup::{ResetRequestError, SubmitError};
use answers::{
    AccountCreationRequest, AccountCreationResponse, EMAIL_ILLEGAL, EmailVerificationAnswer,
    EmailVerificationRequest, EmailVerificationResponse, Links, NAME_NOT_SUPPORTED,
    PasswordResetRequest, PasswordResetResponse, Refused, message, reason, refused,
};
pub use spec::spec_endpoint;
use types::{NameText, Reason, Text};

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
                .resets
                .enabled()
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
            return Ok(refused(&ClientLimited(wait), tr));
        }
        let answer = |valid, reason: Option<&str>| {
            let reason = Reason(reason.map(|msgid| tr.t(msgid).to_owned()));
            EmailVerificationResponse::Checked(Json(EmailVerificationAnswer { valid, reason }))
        };
        Ok(match state.flow.check_email(body.email.as_str()).await {
            Ok(Ok(_)) => answer(true, None),
            Ok(Err(error)) => answer(false, Some(reason(error))),
            Err(err) => refused(&CheckFailed(err), tr),
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
            voucher,
        } = body.0;
        // The spec's `maxLength` is for the name as sent (JSON Schema cannot trim), so the
        // API keeps to it; the form trims first.
        let too_long =
            |name: &Text<NameText>| name.as_str().chars().count() > PersonName::MAX_CHARS;
        if too_long(&first_name) || too_long(&last_name) {
            return Ok(AccountCreationResponse::BadRequest(message(
                tr,
                NAME_NOT_SUPPORTED,
            )));
        }
        let form = SignupForm {
            email: email.into_string(),
            consent_email: Some("api".into()),
            consent_name: Some("api".into()),
            first_name: first_name.into_string(),
            last_name: last_name.into_string(),
            lang: Some(tr.lang().to_owned()),
            voucher: voucher.map(Text::into_string).unwrap_or_default(),
        };
        let outcome = match state.limit_signup(ctx) {
            Err(wait) => Err(SubmitError::RateLimited(wait)),
            Ok(()) => state.flow.submit(&form, tr).await,
        };
        Ok(match outcome {
            Ok(_) => AccountCreationResponse::Accepted(message(
                tr,
                "A confirmation link has been sent to the address.",
            )),
            // The original's answer: 400 with one reason, the voucher's or the address's
            // first.
            Err(SubmitError::Invalid(errors)) => {
                let first = errors
                    .get(Field::Voucher)
                    .or_else(|| errors.get(Field::Email))
                    .or_else(|| errors.iter().next().map(|(_, e)| e));
                let reason = first.map_or(NAME_NOT_SUPPORTED, reason);
                AccountCreationResponse::BadRequest(message(tr, reason))
            }
            Err(err) => refused(&err, tr),
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
        if !state.resets.enabled() {
            return Ok(PasswordResetResponse::NotFound(message(
                tr,
                super::pages::status::title_msgid(StatusCode::NOT_FOUND),
            )));
        }
        if let Err(wait) = state.limit_signup(ctx) {
            return Ok(refused(&ClientLimited(wait), tr));
        }
        Ok(password_reset_answer(&state, tr, body.email.as_str()).await)
    }
}

/// The answer of `password_reset` once the per-client limit has passed.
async fn password_reset_answer(state: &AppState, tr: &Tr, email: &str) -> PasswordResetResponse {
    match state.resets.request(email, tr).await {
        Ok(_) => PasswordResetResponse::Accepted(message(
            tr,
            "If an account was created here for this address, we have sent a link to it.",
        )),
        // The original's answer for an address it does not take.
        Err(ResetRequestError::Invalid(_)) => {
            PasswordResetResponse::BadRequest(message(tr, EMAIL_ILLEGAL))
        }
        Err(err) => refused(&err, tr),
    }
}

/// The API service; its spec and its routes.
pub fn service() -> OpenApiService<Api, ()> {
    OpenApiService::new(Api, "ms365-accountcreator", env!("CARGO_PKG_VERSION"))
        .server(paths::API_V1)
}

/// The API's routes with their methods, as the spec lists them, under [`paths::API_V1`].
pub fn routes() -> Vec<(String, Vec<Method>)> {
    let spec: serde_json::Value =
        serde_json::from_str(&service().spec()).expect("poem-openapi writes JSON");
    let Some(paths) = spec["paths"].as_object() else {
        return Vec::new();
    };
    paths
        .iter()
        .map(|(path, operations)| {
            let methods = operations
                .as_object()
                .into_iter()
                .flat_map(|operations| operations.keys())
                .filter_map(|method| method.to_uppercase().parse().ok())
                .collect();
            (format!("{}{path}", paths::API_V1), methods)
        })
        .collect()
}

/// The API routes; every failure becomes the renderer's JSON error, and parse failures of
/// the body answer 422, as the original.
pub fn endpoint() -> impl Endpoint<Output = poem::Response> {
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
                // The body is rebuilt; a `Retry-After` the error carried (a 429) is kept, and
                // so is the route it met, for the log line.
                let mut answer = match (ctx, state) {
                    (Some(ctx), Some(state)) => response::error(&ctx, &state, status),
                    _ => status.into_response(),
                };
                if let Some(pattern) = err.data::<PathPattern>() {
                    answer.set_data(pattern.clone());
                }
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
