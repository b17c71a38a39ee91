//! Why a sign-in did not end in an operator: refusals the person caused or Entra reported,
//! and failures of ours or of the services. None of the texts holds a code, a token or a
//! verifier.

use super::Operator;

/// Which check of the id_token failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenCheck {
    /// Not three base64url parts of JSON.
    Malformed,
    /// Signed with another algorithm than RS256 (`none`, `HS256`, …).
    Algorithm,
    /// Its `kid` is not among the provider's keys, even after fetching them again.
    UnknownKey,
    /// The signature does not match the key its `kid` names.
    Signature,
    /// `iss` is not the provider's issuer.
    Issuer,
    /// `aud` is not this app's client id.
    Audience,
    /// `exp` has passed (beyond the leeway).
    Expired,
    /// `nbf` is still ahead (beyond the leeway).
    NotYetValid,
    /// `nonce` is not the one this sign-in sent.
    Nonce,
    /// A claim we need is missing (`exp`, `iss`, `aud`, `oid`, a name).
    MissingClaim(&'static str),
}

impl std::fmt::Display for TokenCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let text = match self {
            TokenCheck::Malformed => "format",
            TokenCheck::Algorithm => "algorithm (RS256 only)",
            TokenCheck::UnknownKey => "signing key (unknown kid)",
            TokenCheck::Signature => "signature",
            TokenCheck::Issuer => "issuer (iss)",
            TokenCheck::Audience => "audience (aud)",
            TokenCheck::Expired => "expiry (exp)",
            TokenCheck::NotYetValid => "not-before (nbf)",
            TokenCheck::Nonce => "nonce",
            TokenCheck::MissingClaim(claim) => return write!(f, "presence of the `{claim}` claim"),
        };
        f.write_str(text)
    }
}

/// Why a sign-in gives no operator.
#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    /// A valid sign-in of someone in none of the `ADMIN_GROUP_IDS` groups.
    #[error("{} (object id {}) is in none of the ADMIN_GROUP_IDS groups", .0.upn, .0.object_id)]
    NotMember(Operator),
    /// The id_token failed a check: forged, replayed elsewhere, or meant for another app.
    #[error("the id_token failed the {0} check")]
    BadToken(TokenCheck),
    /// No pending sign-in has this `state`: never started here, expired, or already used
    /// (a callback opened twice).
    #[error("no pending sign-in has this state: unknown, expired or already used")]
    UnknownState,
    /// The callback's `state` is not the one this browser started with (a link from
    /// someone else's sign-in).
    #[error("the callback's state is not the one this browser started with")]
    StateMismatch,
    /// Entra sent the browser back with an error (cancelled, no consent, blocked by policy).
    #[error("Microsoft Entra ended the sign-in with {error}: {description}")]
    Provider { error: String, description: String },
    /// The token endpoint refused the code: used before, expired, or not for this verifier
    /// or redirect URI; or it refused the app's certificate.
    #[error("the token endpoint refused ({status} {error}): {description}")]
    Refused {
        status: u16,
        error: String,
        description: String,
        codes: Vec<u64>,
    },
    /// Entra, its keys or Graph could not be reached, or answered what we cannot read.
    #[error("{0}")]
    Unavailable(String),
    /// A failure on this side (no random numbers, the key cannot sign).
    #[error("{0}")]
    Internal(String),
}

impl SignInError {
    /// The HTTP status for the person: 403 for a non-member, 400 for a sign-in that cannot
    /// be completed (start again), 503 when a service is away, 500 for our own failures
    /// (Entra refusing the app itself is one: starting again does not help).
    pub fn status(&self) -> u16 {
        match self {
            SignInError::NotMember(_) => 403,
            SignInError::Refused { error, .. }
                if error == "invalid_client" || error == "unauthorized_client" =>
            {
                500
            }
            SignInError::BadToken(_)
            | SignInError::UnknownState
            | SignInError::StateMismatch
            | SignInError::Provider { .. }
            | SignInError::Refused { .. } => 400,
            SignInError::Unavailable(_) => 503,
            SignInError::Internal(_) => 500,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_check_names_itself() {
        assert_eq!(
            SignInError::BadToken(TokenCheck::Audience).to_string(),
            "the id_token failed the audience (aud) check"
        );
        assert_eq!(
            TokenCheck::MissingClaim("oid").to_string(),
            "presence of the `oid` claim"
        );
    }

    #[test]
    fn a_non_member_is_forbidden_and_a_broken_sign_in_is_a_bad_request() {
        let operator = Operator {
            upn: "ada@tenant.example".into(),
            object_id: "id".into(),
            display_name: "Ada".into(),
        };
        assert_eq!(SignInError::NotMember(operator).status(), 403);
        assert_eq!(SignInError::UnknownState.status(), 400);
        assert_eq!(SignInError::Unavailable("down".into()).status(), 503);
        let refused = |error: &str| SignInError::Refused {
            status: 400,
            error: error.into(),
            description: String::new(),
            codes: vec![],
        };
        assert_eq!(
            refused("invalid_grant").status(),
            400,
            "a used code: start again"
        );
        assert_eq!(
            refused("invalid_client").status(),
            500,
            "the app's certificate"
        );
    }
}
