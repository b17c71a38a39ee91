//! Reads the operator's key and certificate files with maintained parsers: rustls-pki-types
//! finds the PEM blocks, `rsa` (pkcs1/pkcs8) reads the key and `x509-cert` the certificate.
//! Errors say what is wrong with the file; `credentials` adds which setting names it.

use rsa::pkcs1::RsaPrivateKeyRef;
use rsa::pkcs8::{ObjectIdentifier, PrivateKeyInfoRef};
use rsa::{PrivateKey, PublicKey};
use rustls_pki_types::pem::{self, PemObject};
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use x509_cert::der::Decode;
use x509_cert::der::referenced::OwnedToRef;

/// Entra refuses smaller RSA keys for app credentials.
const MIN_BITS: usize = 2048;

/// Why a key or certificate file cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PemError {
    /// No block of the kind asked for, or PEM framing so broken that none can be read.
    #[error("{0}")]
    Missing(String),
    /// A passphrase-protected key: a server cannot ask for the passphrase.
    #[error("the key is encrypted")]
    Encrypted,
    /// The block is there but holds no usable RSA key or certificate.
    #[error("{0}")]
    Invalid(String),
}

/// An RSA private key as jsonwebtoken wants it, and its public half.
pub struct RsaKey {
    /// The PKCS#1 `RSAPrivateKey`, unwrapped from PKCS#8 if need be.
    pub pkcs1_der: Vec<u8>,
    pub public_key: PublicKey,
    /// `PKCS#1` or `PKCS#8`, for the check command's report.
    pub format: &'static str,
}

/// The first private key in `pem` (a file that also holds the certificate is fine). It must be
/// an unencrypted RSA key of at least 2048 bits whose parts agree with each other.
pub fn private_key(pem: &str) -> Result<RsaKey, PemError> {
    // rustls-pki-types skips `ENCRYPTED PRIVATE KEY` blocks and reports the RFC 1421 headers
    // of legacy encrypted PKCS#1 as bad base64, so look for both first to say what is wrong.
    if pem.lines().map(str::trim).any(|line| {
        line == "-----BEGIN ENCRYPTED PRIVATE KEY-----"
            || (line.starts_with("Proc-Type:") && line.ends_with("ENCRYPTED"))
    }) {
        return Err(PemError::Encrypted);
    }
    let key = PrivateKeyDer::from_pem_slice(pem.as_bytes())
        .map_err(|err| PemError::Missing(pem_problem(err, "no PRIVATE KEY block")))?;
    let (pkcs1, format) = match &key {
        PrivateKeyDer::Pkcs1(key) => (key.secret_pkcs1_der(), "PKCS#1"),
        PrivateKeyDer::Pkcs8(key) => {
            let info = PrivateKeyInfoRef::from_der(key.secret_pkcs8_der()).map_err(|err| {
                PemError::Invalid(format!("the PKCS#8 key is truncated or malformed: {err}"))
            })?;
            require_rsa(info.algorithm.oid, "the key")?;
            (info.private_key.as_bytes(), "PKCS#8")
        }
        PrivateKeyDer::Sec1(_) => return Err(not_rsa("the key", "an EC key")),
        _ => return Err(not_rsa("the key", "not an RSA key")),
    };
    let parts = RsaPrivateKeyRef::from_der(pkcs1).map_err(|err| {
        PemError::Invalid(format!("the RSA key is truncated or malformed: {err}"))
    })?;
    // Checked before `rsa` validates the key, which refuses tiny keys without saying why.
    let bits = parts.modulus.as_bytes().len() * 8;
    if bits < MIN_BITS {
        return Err(PemError::Invalid(format!(
            "the RSA key has {bits} bits; Entra requires at least {MIN_BITS}"
        )));
    }
    let private_key = PrivateKey::try_from(parts).map_err(|err| {
        PemError::Invalid(format!(
            "the RSA key is damaged ({err}); export it again from where it was made"
        ))
    })?;
    Ok(RsaKey {
        pkcs1_der: pkcs1.to_vec(),
        public_key: private_key.to_public_key(),
        format,
    })
}

/// The first certificate in `pem`, its DER (for the thumbprint) and its RSA public key.
pub fn certificate(pem: &str) -> Result<(CertificateDer<'static>, PublicKey), PemError> {
    let der = CertificateDer::from_pem_slice(pem.as_bytes()).map_err(|err| {
        PemError::Missing(pem_problem(
            err,
            "no -----BEGIN CERTIFICATE----- block in the file",
        ))
    })?;
    let cert = x509_cert::Certificate::from_der(&der).map_err(|err| {
        PemError::Invalid(format!("the certificate is truncated or malformed: {err}"))
    })?;
    let spki = cert.tbs_certificate().subject_public_key_info();
    require_rsa(spki.algorithm.oid, "the certificate's key")?;
    let public_key = PublicKey::try_from(spki.owned_to_ref()).map_err(|err| {
        PemError::Invalid(format!("the certificate's RSA key is malformed: {err}"))
    })?;
    Ok((der, public_key))
}

/// Operator wording for rustls-pki-types' PEM errors; `none_found` says what was looked for.
fn pem_problem(err: pem::Error, none_found: &str) -> String {
    match err {
        pem::Error::NoItemsFound => none_found.to_owned(),
        pem::Error::MissingSectionEnd { end_marker } => format!(
            "the PEM block `{}` has no -----END line",
            String::from_utf8_lossy(&end_marker)
        ),
        pem::Error::IllegalSectionStart { line } => format!(
            "malformed PEM line `{}`",
            String::from_utf8_lossy(&line).trim()
        ),
        // The decoder's detail could quote bytes of the key.
        pem::Error::Base64Decode(_) => "a PEM block is not valid base64".into(),
        other => other.to_string(),
    }
}

fn require_rsa(oid: ObjectIdentifier, what: &str) -> Result<(), PemError> {
    use x509_cert::der::oid::db::{rfc5912, rfc8410};
    let kind = match oid {
        rsa::pkcs1::ALGORITHM_OID => return Ok(()),
        rfc5912::ID_EC_PUBLIC_KEY => "an EC key".to_owned(),
        rfc8410::ID_ED_25519 | rfc8410::ID_ED_448 => "an EdDSA key".to_owned(),
        rfc5912::ID_RSASSA_PSS => "an RSASSA-PSS key".to_owned(),
        other => format!("not an RSA key (algorithm {other})"),
    };
    Err(not_rsa(what, &kind))
}

fn not_rsa(what: &str, kind: &str) -> PemError {
    PemError::Invalid(format!(
        "{what} is {kind}; Entra app credentials here need an RSA key pair, e.g. `openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem`"
    ))
}

#[cfg(test)]
mod tests {
    use base64::Engine;
    use rsa::traits::PublicKeyParts;

    use super::*;

    fn fixture(name: &str) -> String {
        let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read_to_string(path).expect("fixture")
    }

    fn wrap(label: &str, der: &[u8]) -> String {
        let base64 = base64::engine::general_purpose::STANDARD.encode(der);
        format!("-----BEGIN {label}-----\n{base64}\n-----END {label}-----\n")
    }

    fn invalid_reason(result: Result<impl Sized, PemError>) -> String {
        match result {
            Err(PemError::Invalid(reason)) => reason,
            Err(other) => panic!("expected Invalid, got {other:?}"),
            Ok(_) => panic!("expected Invalid, got Ok"),
        }
    }

    #[test]
    fn the_pkcs1_and_pkcs8_copies_hold_the_same_key_as_the_certificate() {
        let pkcs1 = private_key(&fixture("graph-test-key.pkcs1.pem")).unwrap();
        assert_eq!(pkcs1.format, "PKCS#1");
        let pkcs8 = private_key(&fixture("graph-test-key.pkcs8.pem")).unwrap();
        assert_eq!(pkcs8.format, "PKCS#8");
        assert_eq!(
            pkcs8.pkcs1_der, pkcs1.pkcs1_der,
            "PKCS#8 unwraps to the PKCS#1 key"
        );
        assert_eq!(pkcs8.public_key, pkcs1.public_key);
        assert_eq!(pkcs1.public_key.size(), 256, "a 2048-bit key");

        let (_, cert_key) = certificate(&fixture("graph-test-cert.pem")).unwrap();
        assert_eq!(cert_key, pkcs1.public_key);
        let (_, other) = certificate(&fixture("graph-wrong-cert.pem")).unwrap();
        assert_ne!(other, pkcs1.public_key);
    }

    #[test]
    fn a_version_1_certificate_is_read_too() {
        // `openssl x509 -req` without extensions writes these; Entra accepts them.
        let (_, cert_key) = certificate(&fixture("graph-test-cert.v1.pem")).unwrap();
        let key = private_key(&fixture("graph-test-key.pkcs1.pem")).unwrap();
        assert_eq!(cert_key, key.public_key);
    }

    #[test]
    fn a_file_with_the_certificate_before_the_key_works_for_both() {
        let both = fixture("graph-test-cert.pem") + &fixture("graph-test-key.pkcs8.pem");
        let key = private_key(&both).unwrap();
        let (_, cert_key) = certificate(&both).unwrap();
        assert_eq!(key.public_key, cert_key);
    }

    #[test]
    fn encrypted_keys_of_both_kinds_are_reported_as_encrypted() {
        for name in ["encrypted-key.pkcs1.pem", "encrypted-key.pkcs8.pem"] {
            assert_eq!(
                private_key(&fixture(name)).err(),
                Some(PemError::Encrypted),
                "{name}"
            );
        }
    }

    #[test]
    fn keys_and_certificates_that_are_not_rsa_are_refused_by_name() {
        for name in ["ec-key.sec1.pem", "ec-key.pkcs8.pem"] {
            let reason = invalid_reason(private_key(&fixture(name)));
            assert!(reason.starts_with("the key is an EC key"), "{reason}");
            assert!(reason.contains("rsa:2048"), "{reason}");
        }
        let reason = invalid_reason(certificate(&fixture("ec-cert.pem")));
        assert!(
            reason.starts_with("the certificate's key is an EC key"),
            "{reason}"
        );
    }

    #[test]
    fn a_key_under_2048_bits_is_refused_with_its_size() {
        let reason = invalid_reason(private_key(&fixture("rsa1024-key.pem")));
        assert_eq!(
            reason,
            "the RSA key has 1024 bits; Entra requires at least 2048"
        );
    }

    #[test]
    fn a_key_whose_parts_disagree_is_damaged() {
        let key = private_key(&fixture("graph-test-key.pkcs1.pem")).unwrap();
        let mut der = key.pkcs1_der.clone();
        // Change the modulus but keep it odd and its length, so the DER stays valid.
        let modulus = RsaPrivateKeyRef::from_der(&key.pkcs1_der).unwrap().modulus;
        let at = der
            .windows(modulus.as_bytes().len())
            .position(|window| window == modulus.as_bytes())
            .unwrap();
        der[at + modulus.as_bytes().len() - 1] ^= 2;
        let reason = invalid_reason(private_key(&wrap("RSA PRIVATE KEY", &der)));
        assert!(reason.starts_with("the RSA key is damaged"), "{reason}");
    }

    #[test]
    fn pem_framing_errors_say_what_is_wrong() {
        let cases = [
            ("hello", "no PRIVATE KEY block"),
            (
                "-----BEGIN PRIVATE KEY-----\nAAAA\n",
                "has no -----END line",
            ),
            (
                "-----BEGIN PRIVATE KEY-----\n!!!\n-----END PRIVATE KEY-----",
                "not valid base64",
            ),
            ("-----BEGIN PRIVATE KEY---\n", "malformed PEM line"),
        ];
        for (pem, expected) in cases {
            match private_key(pem) {
                Err(PemError::Missing(reason)) => assert!(reason.contains(expected), "{reason}"),
                other => panic!("{pem:?}: {:?}", other.err()),
            }
        }
        let reason = certificate(&fixture("graph-test-key.pkcs1.pem"))
            .err()
            .unwrap()
            .to_string();
        assert_eq!(reason, "no -----BEGIN CERTIFICATE----- block in the file");
    }

    #[test]
    fn truncated_or_garbage_der_is_an_error_not_a_panic() {
        let b64 = base64::engine::general_purpose::STANDARD;
        let key = b64.decode(
            fixture("graph-test-key.pkcs8.pem")
                .lines()
                .filter(|line| !line.starts_with("-----"))
                .collect::<String>(),
        );
        let cert = b64.decode(
            fixture("graph-test-cert.pem")
                .lines()
                .filter(|line| !line.starts_with("-----"))
                .collect::<String>(),
        );
        let (key, cert) = (key.unwrap(), cert.unwrap());
        let garbage: [&[u8]; 5] = [
            &[],
            &[0x30],
            &[0x30, 0x85, 1, 1, 1, 1, 1],
            &[0x30, 0x05, 0x02],
            &[0x30, 0x03, 0x02, 0x01, 0x00],
        ];
        let prefixes = |der: &[u8]| {
            (0..der.len())
                .map(|n| der[..n].to_vec())
                .collect::<Vec<_>>()
        };
        for der in garbage.iter().map(|g| g.to_vec()).chain(prefixes(&key)) {
            for label in ["PRIVATE KEY", "RSA PRIVATE KEY"] {
                assert!(private_key(&wrap(label, &der)).is_err(), "{label} {der:?}");
            }
        }
        for der in garbage.iter().map(|g| g.to_vec()).chain(prefixes(&cert)) {
            assert!(certificate(&wrap("CERTIFICATE", &der)).is_err(), "{der:?}");
        }
    }
}
