//! The fake provider's signing keys, its JWKS (shaped as Entra's: `kid` = `x5t`, the
//! certificate in `x5c`, the issuer beside each key), and id_tokens with the claims and the
//! faults a test chooses.

use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

use super::{Groups, Person, TokenFault};
use crate::support::fake_graph::{CLIENT_ID, TENANT, fixture, guid, unix_now};

/// One of the provider's keys.
pub struct SigningKey {
    pub kid: String,
    key: EncodingKey,
    jwk: Value,
}

impl SigningKey {
    /// `oidc-signing-{n}.key.pem` with its certificate.
    pub fn fixture(n: u32) -> SigningKey {
        let pem = std::fs::read(fixture(&format!("oidc-signing-{n}.key.pem"))).expect("key");
        let cert = std::fs::read_to_string(fixture(&format!("oidc-signing-{n}.cert.pem")))
            .expect("certificate");
        let der_base64: String = cert
            .lines()
            .filter(|line| !line.starts_with("-----"))
            .collect();
        let der = base64::engine::general_purpose::STANDARD
            .decode(&der_base64)
            .expect("PEM");
        let digest = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, &der);
        let kid = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest.as_ref());
        let key = EncodingKey::from_rsa_pem(&pem).expect("an RSA key");
        let mut jwk = serde_json::to_value(
            jsonwebtoken::jwk::Jwk::from_encoding_key(&key, Algorithm::RS256).expect("a JWK"),
        )
        .expect("JSON");
        // Entra's keys carry no `alg`, but `use`, `kid`, `x5t`, `x5c` and `issuer`.
        let fields = jwk.as_object_mut().expect("an object");
        fields.remove("alg");
        fields.insert("use".into(), json!("sig"));
        fields.insert("kid".into(), json!(kid));
        fields.insert("x5t".into(), json!(kid));
        fields.insert("x5c".into(), json!([der_base64]));
        fields.insert("issuer".into(), json!(issuer()));
        SigningKey { kid, key, jwk }
    }
}

/// The issuer, as Entra's: it names the tenant by id, whatever host or tenant name the
/// request used, so a client must read it from the metadata.
pub fn issuer() -> String {
    format!("https://login.microsoftonline.com/{TENANT}/v2.0")
}

/// `{"keys": [...]}` of the published keys.
pub fn jwks(keys: &[&SigningKey]) -> Value {
    json!({ "keys": keys.iter().map(|key| key.jwk.clone()).collect::<Vec<_>>() })
}

/// The claims Entra puts into a v2 id_token for `person`, asked for with `nonce`.
fn claims(person: &Person, nonce: Option<&str>) -> Value {
    let now = unix_now();
    let mut claims = json!({
        "aud": CLIENT_ID,
        "iss": issuer(),
        "iat": now,
        "nbf": now,
        "exp": now + 3600,
        "name": person.name,
        "oid": person.oid,
        "preferred_username": person.upn,
        "rh": "0.AAAA",
        "sid": guid(),
        "sub": guid().replace('-', ""),
        "tid": TENANT,
        "uti": guid().replace('-', ""),
        "ver": "2.0",
    });
    let fields = claims.as_object_mut().expect("an object");
    if let Some(nonce) = nonce {
        fields.insert("nonce".into(), json!(nonce));
    }
    match &person.groups {
        Groups::Listed(groups) => {
            fields.insert("groups".into(), json!(groups));
        }
        Groups::Overage => {
            fields.insert("_claim_names".into(), json!({"groups": "src1"}));
            fields.insert(
                "_claim_sources".into(),
                json!({"src1": {"endpoint": format!(
                    "https://graph.windows.net/{TENANT}/users/{}/getMemberObjects", person.oid
                )}}),
            );
        }
        Groups::HasGroupsFlag => {
            fields.insert("hasgroups".into(), json!(true));
        }
        Groups::None => {}
    }
    claims
}

/// An id_token for `person`, signed by `key`, spoilt by `fault` if one is given.
pub fn id_token(
    key: &SigningKey,
    person: &Person,
    nonce: Option<&str>,
    fault: Option<TokenFault>,
) -> String {
    let mut claims = claims(person, nonce);
    let now = unix_now();
    match fault {
        Some(TokenFault::WrongAudience) => claims["aud"] = json!(guid()),
        Some(TokenFault::WrongIssuer) => {
            claims["iss"] = json!(format!("https://login.microsoftonline.com/{}/v2.0", guid()))
        }
        // Past any sensible leeway: issued two hours ago, valid for one.
        Some(TokenFault::Expired) => {
            claims["iat"] = json!(now - 7200);
            claims["nbf"] = json!(now - 7200);
            claims["exp"] = json!(now - 3600);
        }
        Some(TokenFault::NotYetValid) => claims["nbf"] = json!(now + 3600),
        Some(TokenFault::WrongNonce) => claims["nonce"] = json!(guid()),
        Some(TokenFault::NoNonce) => {
            claims.as_object_mut().expect("an object").remove("nonce");
        }
        _ => {}
    }
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(key.kid.clone());
    match fault {
        Some(TokenFault::WrongKey) => sign(&header, &claims, &wrong_key()),
        Some(TokenFault::UnknownKey) => {
            header.kid = Some(guid());
            sign(&header, &claims, &wrong_key())
        }
        Some(TokenFault::AlgNone) => {
            let encode = |value: Value| {
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value.to_string())
            };
            let header = json!({"typ": "JWT", "alg": "none", "kid": key.kid});
            format!("{}.{}.", encode(header), encode(claims))
        }
        // An HMAC keyed with what an attacker knows: the published key.
        Some(TokenFault::Hs256) => {
            let mut header = Header::new(Algorithm::HS256);
            header.kid = Some(key.kid.clone());
            let secret = key.jwk["n"]
                .as_str()
                .expect("a modulus")
                .as_bytes()
                .to_vec();
            let hmac = EncodingKey::from_secret(&secret).expect("an HMAC key");
            sign(&header, &claims, &hmac)
        }
        _ => sign(&header, &claims, &key.key),
    }
}

fn sign(header: &Header, claims: &Value, key: &EncodingKey) -> String {
    jsonwebtoken::encode(header, claims, key).expect("signed")
}

/// A key the provider never published.
fn wrong_key() -> EncodingKey {
    let pem = std::fs::read(fixture("graph-wrong-key.pem")).expect("key");
    EncodingKey::from_rsa_pem(&pem).expect("an RSA key")
}
