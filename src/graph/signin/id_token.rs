//! Verifying the id_token the token endpoint returned: RS256 only, signed by one of the
//! provider's published keys, issued by the provider for this app, within its validity (a
//! small leeway for clocks), and carrying the nonce this sign-in sent.

use base64::Engine;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::membership::GroupsClaim;
use super::{SignInError, TokenCheck};

/// How far our clock may be from Entra's for `exp` and `nbf`.
pub const LEEWAY_SECS: u64 = 60;

/// The claims of a verified id_token that decide who signs in.
#[derive(Debug)]
pub struct IdClaims {
    pub object_id: String,
    pub upn: String,
    pub display_name: String,
    pub groups: GroupsClaim,
}

#[derive(Deserialize)]
struct Raw {
    nonce: Option<String>,
    oid: Option<String>,
    preferred_username: Option<String>,
    upn: Option<String>,
    name: Option<String>,
    groups: Option<Vec<String>>,
    #[serde(rename = "_claim_names")]
    claim_names: Option<Map<String, Value>>,
    hasgroups: Option<bool>,
}

/// The header fields that choose the key, read before anything is trusted.
pub struct Header {
    pub kid: String,
}

/// Refuses any algorithm but RS256 before a key is looked up, so a token cannot steer us
/// to `none` or to an HMAC keyed with a public key.
pub fn header(token: &str) -> Result<Header, SignInError> {
    let malformed = || SignInError::BadToken(TokenCheck::Malformed);
    let encoded = token.split('.').next().ok_or_else(malformed)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(encoded)
        .map_err(|_| malformed())?;
    let header: Map<String, Value> = serde_json::from_slice(&bytes).map_err(|_| malformed())?;
    if header.get("alg").and_then(Value::as_str) != Some("RS256") {
        return Err(SignInError::BadToken(TokenCheck::Algorithm));
    }
    let kid = header.get("kid").and_then(Value::as_str);
    let kid = kid.ok_or(SignInError::BadToken(TokenCheck::MissingClaim("kid")))?;
    Ok(Header {
        kid: kid.to_owned(),
    })
}

/// What the token must match.
pub struct Expected<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    pub nonce: &'a str,
}

/// Checks signature, `iss`, `aud`, `exp`, `nbf` and `nonce`, and reads who signed in.
pub fn verify(
    token: &str,
    key: &DecodingKey,
    expected: &Expected<'_>,
) -> Result<IdClaims, SignInError> {
    crate::jwt_crypto::install();
    let mut validation = Validation::new(Algorithm::RS256);
    validation.leeway = LEEWAY_SECS;
    validation.validate_nbf = true;
    validation.set_required_spec_claims(&["exp", "iss", "aud"]);
    validation.set_issuer(&[expected.issuer]);
    validation.set_audience(&[expected.client_id]);
    let raw = jsonwebtoken::decode::<Raw>(token, key, &validation)
        .map_err(|err| SignInError::BadToken(check_of(err.kind())))?
        .claims;
    if raw.nonce.as_deref() != Some(expected.nonce) {
        return Err(SignInError::BadToken(TokenCheck::Nonce));
    }
    let missing = |claim| SignInError::BadToken(TokenCheck::MissingClaim(claim));
    let object_id = raw.oid.ok_or_else(|| missing("oid"))?;
    let upn = raw
        .preferred_username
        .or(raw.upn)
        .ok_or_else(|| missing("preferred_username"))?;
    let overage = raw
        .claim_names
        .as_ref()
        .is_some_and(|names| names.contains_key("groups"))
        || raw.hasgroups == Some(true);
    let groups = match (raw.groups, overage) {
        (_, true) => GroupsClaim::Overage,
        (Some(groups), false) => GroupsClaim::Listed(groups),
        (None, false) => GroupsClaim::Absent,
    };
    Ok(IdClaims {
        display_name: raw.name.unwrap_or_else(|| upn.clone()),
        object_id,
        upn,
        groups,
    })
}

fn check_of(kind: &ErrorKind) -> TokenCheck {
    match kind {
        ErrorKind::InvalidSignature => TokenCheck::Signature,
        ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName => TokenCheck::Algorithm,
        ErrorKind::InvalidIssuer => TokenCheck::Issuer,
        ErrorKind::InvalidAudience => TokenCheck::Audience,
        ErrorKind::ExpiredSignature => TokenCheck::Expired,
        ErrorKind::ImmatureSignature => TokenCheck::NotYetValid,
        ErrorKind::MissingRequiredClaim(claim) => TokenCheck::MissingClaim(match claim.as_str() {
            "exp" => "exp",
            "iss" => "iss",
            "aud" => "aud",
            _ => "a required claim",
        }),
        _ => TokenCheck::Malformed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(value: Value) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value.to_string())
    }

    #[test]
    fn only_rs256_headers_with_a_kid_pass() {
        let token = |header: Value| format!("{}.e30.", encode(header));
        assert_eq!(
            header(&token(serde_json::json!({"alg": "RS256", "kid": "k"})))
                .unwrap()
                .kid,
            "k"
        );
        for (bad, check) in [
            (
                serde_json::json!({"alg": "none", "kid": "k"}),
                TokenCheck::Algorithm,
            ),
            (
                serde_json::json!({"alg": "HS256", "kid": "k"}),
                TokenCheck::Algorithm,
            ),
            (serde_json::json!({"kid": "k"}), TokenCheck::Algorithm),
            (
                serde_json::json!({"alg": "RS256"}),
                TokenCheck::MissingClaim("kid"),
            ),
        ] {
            match header(&token(bad.clone())) {
                Err(SignInError::BadToken(found)) => assert_eq!(found, check, "{bad}"),
                other => panic!("{bad}: {:?}", other.map(|h| h.kid)),
            }
        }
        assert!(matches!(
            header("not a token"),
            Err(SignInError::BadToken(TokenCheck::Malformed))
        ));
    }
}
