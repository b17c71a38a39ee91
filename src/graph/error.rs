//! What Graph and the Entra token endpoint say when they refuse, kept whole for the log and
//! reduced to a secret-free [`DirectoryError`] for the provisioning code.

use serde::Deserialize;

use crate::directory::DirectoryError;

/// A Graph refusal: `{"error":{"code","message","innerError":{"request-id",…}}}` plus the
/// HTTP status. The request id lets Microsoft support find the request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Graph answered {status} {code}: {message} (request-id {})", request_id.as_deref().unwrap_or("none"))]
pub struct GraphApiError {
    pub status: u16,
    pub code: String,
    pub message: String,
    pub request_id: Option<String>,
}

#[derive(Deserialize)]
struct Envelope {
    error: Body,
}

#[derive(Deserialize)]
struct Body {
    #[serde(default)]
    code: String,
    #[serde(default)]
    message: String,
    #[serde(default, rename = "innerError")]
    inner_error: Option<Inner>,
}

#[derive(Deserialize)]
struct Inner {
    #[serde(default, rename = "request-id")]
    request_id: Option<String>,
}

impl GraphApiError {
    /// Reads Graph's error envelope. A body that is not one (a proxy's HTML page) keeps a
    /// short, single-line excerpt as the message.
    pub fn from_body(status: u16, header_request_id: Option<String>, body: &[u8]) -> Self {
        match serde_json::from_slice::<Envelope>(body) {
            Ok(Envelope { error }) => GraphApiError {
                status,
                code: error.code,
                message: error.message,
                request_id: header_request_id
                    .or_else(|| error.inner_error.and_then(|inner| inner.request_id)),
            },
            Err(_) => GraphApiError {
                status,
                code: String::new(),
                message: excerpt(body),
                request_id: header_request_id,
            },
        }
    }

    /// The same from a `$batch` sub-response's already parsed body.
    pub fn from_value(
        status: u16,
        header_request_id: Option<String>,
        body: &serde_json::Value,
    ) -> Self {
        match Envelope::deserialize(body) {
            Ok(Envelope { error }) => GraphApiError {
                status,
                code: error.code,
                message: error.message,
                request_id: header_request_id
                    .or_else(|| error.inner_error.and_then(|inner| inner.request_id)),
            },
            Err(_) => GraphApiError {
                status,
                code: String::new(),
                message: excerpt(body.to_string().as_bytes()),
                request_id: header_request_id,
            },
        }
    }

    /// `400 Request_BadRequest` "Another object with the same value for property
    /// userPrincipalName already exists."
    pub fn is_upn_taken(&self) -> bool {
        self.status == 400
            && self
                .message
                .contains("same value for property userPrincipalName")
    }

    /// `400` "Subscription with SKU {id} does not have any available licenses." — every
    /// seat is taken. The SKU Graph names, when it names one.
    pub fn no_seat_left(&self) -> Option<Option<String>> {
        if self.status != 400
            || !self
                .message
                .to_ascii_lowercase()
                .contains("does not have any available licenses")
        {
            return None;
        }
        let named = self
            .message
            .split(|c: char| !(c.is_ascii_hexdigit() || c == '-'))
            .find(|word| word.parse::<uuid::fmt::Hyphenated>().is_ok())
            .map(str::to_ascii_lowercase);
        Some(named)
    }

    /// "Converged UserCredentialPolicy does not allow creating or updating this
    /// authentication method. AuthMethodType [TemporaryAccessPass]." — the tenant's
    /// Temporary Access Pass policy is off.
    pub fn is_pass_policy_off(&self) -> bool {
        self.status == 400 && self.message.contains("does not allow creating or updating")
    }

    /// "One or more added object references already exist for the following modified
    /// properties: 'members'." — the membership we wanted is there.
    pub fn is_already_member(&self) -> bool {
        self.status == 400
            && self
                .message
                .contains("added object references already exist")
    }
}

fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(200)
        .collect();
    line.trim().to_owned()
}

/// Why no access token could be had.
#[derive(Debug, Clone, thiserror::Error)]
pub enum AuthError {
    /// The token endpoint refused: OAuth `error`, Entra's `error_description` (AADSTS code,
    /// trace and correlation ids; no secrets) and what the operator should check.
    #[error("the token endpoint refused ({status} {error}): {description}; hint: {hint}")]
    Rejected {
        status: u16,
        error: String,
        description: String,
        codes: Vec<u64>,
        hint: &'static str,
    },
    #[error(
        "the token endpoint answered {status} with neither a token nor an OAuth error: {excerpt}"
    )]
    Malformed { status: u16, excerpt: String },
    #[error("no token within the deadline: {0}")]
    Unavailable(String),
    #[error("cannot sign the client assertion: {0}")]
    Sign(String),
}

#[derive(Deserialize)]
struct OAuthError {
    error: String,
    #[serde(default)]
    error_description: String,
    #[serde(default)]
    error_codes: Vec<u64>,
}

impl AuthError {
    /// Reads an OAuth error response.
    pub fn from_token_response(status: u16, body: &[u8]) -> Self {
        match serde_json::from_slice::<OAuthError>(body) {
            Ok(err) => AuthError::Rejected {
                status,
                hint: hint(&err.error_codes),
                error: err.error,
                // Entra separates trace and correlation ids with CR LF; one log line is easier.
                description: err.error_description.replace("\r\n", " "),
                codes: err.error_codes,
            },
            Err(_) => AuthError::Malformed {
                status,
                excerpt: excerpt(body),
            },
        }
    }
}

/// What to check for the AADSTS codes an operator setting up the app meets.
fn hint(codes: &[u64]) -> &'static str {
    let known = codes.iter().find_map(|code| match code {
        700027 | 50013 => Some(
            "the private key (GRAPH_API_AUTH_PRIVKEY_PATH) or thumbprint (GRAPH_API_AUTH_PUBKEY_THUMBPRINT / GRAPH_API_AUTH_CERT_PATH) is not the certificate uploaded to the app registration under Certificates & secrets, or that certificate expired: upload the current certificate and restart",
        ),
        700016 => Some(
            "no app with GRAPH_API_AUTH_CLIENT_ID exists in the tenant of GRAPH_API_AUTH_AUTHORITY: check the application (client) id and the tenant id",
        ),
        90002 | 900023 => Some(
            "the tenant in GRAPH_API_AUTH_AUTHORITY does not exist: use https://login.microsoftonline.com/<directory (tenant) id>",
        ),
        700024 => Some(
            "the client assertion is outside its valid time: check this machine's clock (NTP)",
        ),
        700021 | 700023 => Some(
            "the client assertion names another app or tenant: check GRAPH_API_AUTH_CLIENT_ID and GRAPH_API_AUTH_AUTHORITY",
        ),
        500011 | 70011 | 1002012 => Some(
            "the scope is not valid: GRAPH_API_URL must be the Graph service of this cloud, e.g. https://graph.microsoft.com",
        ),
        7000112 => Some("the app registration is disabled in the tenant"),
        _ => None,
    });
    known.unwrap_or("look the AADSTS code up at https://login.microsoftonline.com/error")
}

/// The failure of one Graph operation after retries.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CallError {
    #[error("{0}")]
    Api(GraphApiError),
    #[error("{0}")]
    Auth(AuthError),
    /// Throttling, outages or timeouts outlasted the step's deadline.
    #[error("{0}")]
    Unavailable(String),
    /// Graph answered success with a body we cannot read.
    #[error("{0}")]
    Unexpected(String),
}

impl CallError {
    /// Logs the whole story for the operator and returns what provisioning needs. The texts
    /// hold statuses, codes, Graph's messages and ids, never tokens or key material.
    pub fn into_directory_error(self, operation: &'static str) -> DirectoryError {
        match self {
            CallError::Api(err) => {
                tracing::error!(
                    operation,
                    status = err.status,
                    code = %err.code,
                    message = %err.message,
                    request_id = err.request_id.as_deref().unwrap_or(""),
                    "Microsoft Graph refused the request"
                );
                if err.status == 403 {
                    return DirectoryError::Forbidden(format!("{operation}: {err}"));
                }
                DirectoryError::Failed(format!("{operation}: {err}"))
            }
            // The token endpoint was busy or unreachable until the deadline: try again later.
            CallError::Auth(AuthError::Unavailable(reason)) => {
                DirectoryError::Unavailable(format!("{operation}: no access token: {reason}"))
            }
            CallError::Auth(err) => {
                // Logged where the token endpoint answered; here only the consequence.
                DirectoryError::Failed(format!("{operation}: no access token: {err}"))
            }
            CallError::Unavailable(reason) => {
                tracing::warn!(operation, reason = %reason, "Microsoft Graph unavailable for longer than the deadline");
                DirectoryError::Unavailable(format!("{operation}: {reason}"))
            }
            CallError::Unexpected(reason) => {
                tracing::error!(operation, reason = %reason, "unexpected answer from Microsoft Graph");
                DirectoryError::Failed(format!("{operation}: {reason}"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graph_error_bodies_keep_code_message_and_request_id() {
        let body = br#"{"error":{"code":"Request_BadRequest","message":"Another object with the same value for property userPrincipalName already exists.","innerError":{"date":"2026-11-28T10:00:00","request-id":"abc","client-request-id":"abc"}}}"#;
        let err = GraphApiError::from_body(400, None, body);
        assert!(err.is_upn_taken());
        assert_eq!(err.request_id.as_deref(), Some("abc"));
        let err = GraphApiError::from_body(400, Some("hdr".into()), body);
        assert_eq!(err.request_id.as_deref(), Some("hdr"));
        assert_eq!(
            err.to_string(),
            "Graph answered 400 Request_BadRequest: Another object with the same value for property userPrincipalName already exists. (request-id hdr)"
        );
        let html = GraphApiError::from_body(502, None, b"<html>\n<h1>Bad gateway</h1></html>");
        assert_eq!(html.message, "<html> <h1>Bad gateway</h1></html>");
    }

    #[test]
    fn a_licence_refused_for_lack_of_seats_names_its_sku() {
        let body = br#"{"error":{"code":"Request_BadRequest","message":"Subscription with SKU 314C4481-f395-4525-be8b-2ec4bb1e9d91 does not have any available licenses.","innerError":{"request-id":"r"}}}"#;
        let err = GraphApiError::from_body(400, None, body);
        assert_eq!(
            err.no_seat_left(),
            Some(Some("314c4481-f395-4525-be8b-2ec4bb1e9d91".to_owned()))
        );
        let unnamed = br#"{"error":{"code":"Request_BadRequest","message":"Subscription does not have any available licenses."}}"#;
        let err = GraphApiError::from_body(400, None, unnamed);
        assert_eq!(err.no_seat_left(), Some(None));
        let other = br#"{"error":{"code":"Request_BadRequest","message":"License assignment cannot be done for user with invalid usage location."}}"#;
        assert_eq!(
            GraphApiError::from_body(400, None, other).no_seat_left(),
            None
        );
    }

    #[test]
    fn a_pass_refused_by_the_tenants_policy_is_recognised() {
        let body = br#"{"error":{"code":"badRequest","message":"Converged UserCredentialPolicy does not allow creating or updating this authentication method. AuthMethodType [TemporaryAccessPass]."}}"#;
        assert!(GraphApiError::from_body(400, None, body).is_pass_policy_off());
        let lifetime = br#"{"error":{"code":"badRequest","message":"Invalid LifetimeInMinutes specified. The valid range between 60 and 480."}}"#;
        assert!(!GraphApiError::from_body(400, None, lifetime).is_pass_policy_off());
    }

    #[test]
    fn token_errors_carry_the_aadsts_description_and_a_hint() {
        let body = br#"{"error":"invalid_client","error_description":"AADSTS700027: Client assertion contains an invalid signature.\r\nTrace ID: t\r\nCorrelation ID: c","error_codes":[700027]}"#;
        let err = AuthError::from_token_response(401, body).to_string();
        assert!(err.contains("AADSTS700027"), "{err}");
        assert!(err.contains("Trace ID: t Correlation ID: c"), "{err}");
        assert!(err.contains("GRAPH_API_AUTH_PRIVKEY_PATH"), "{err}");
    }
}
