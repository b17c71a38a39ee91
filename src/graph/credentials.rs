//! The app's certificate credential: the private key that signs client assertions and the
//! certificate thumbprint Entra uses to find the matching public key (`x5t`). Every error
//! names the setting to fix; key material never appears in an error or a log.

use std::path::{Path, PathBuf};

use base64::Engine;
use jsonwebtoken::EncodingKey;
use rsa::traits::PublicKeyParts;

use super::pem::{self, PemError};

/// Why the credential settings cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum CredentialsError {
    #[error("GRAPH_API_AUTH_PRIVKEY_PATH={}: cannot read the file: {source}", path.display())]
    ReadKey {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "GRAPH_API_AUTH_PRIVKEY_PATH={}: no private key in it ({reason}); expected a PEM file starting with -----BEGIN PRIVATE KEY----- or -----BEGIN RSA PRIVATE KEY-----",
        path.display()
    )]
    NoKey { path: PathBuf, reason: String },
    #[error(
        "GRAPH_API_AUTH_PRIVKEY_PATH={}: the key is encrypted; store it unencrypted with owner-only permissions, e.g. `openssl pkey -in key.pem -out plain.pem`",
        path.display()
    )]
    EncryptedKey { path: PathBuf },
    #[error("GRAPH_API_AUTH_PRIVKEY_PATH={}: {reason}", path.display())]
    BadKey { path: PathBuf, reason: String },
    #[error("GRAPH_API_AUTH_CERT_PATH={}: cannot read the file: {source}", path.display())]
    ReadCert {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("GRAPH_API_AUTH_CERT_PATH={}: {reason}", path.display())]
    BadCert { path: PathBuf, reason: String },
    #[error(
        "GRAPH_API_AUTH_CERT_PATH={} is not the certificate of the key in GRAPH_API_AUTH_PRIVKEY_PATH={}: point both at the same key pair",
        cert.display(),
        key.display()
    )]
    KeyDoesNotMatchCertificate { key: PathBuf, cert: PathBuf },
    #[error(
        "GRAPH_API_AUTH_PUBKEY_THUMBPRINT=\"{0}\" is not a SHA-1 thumbprint: expected 40 hex digits (colons and spaces allowed), as the app registration shows under Certificates & secrets"
    )]
    BadThumbprint(String),
    #[error(
        "GRAPH_API_AUTH_PUBKEY_THUMBPRINT={given} differs from the thumbprint {computed} of GRAPH_API_AUTH_CERT_PATH={}: correct the thumbprint or leave it empty to use the certificate's",
        cert.display()
    )]
    ThumbprintMismatch {
        given: String,
        computed: String,
        cert: PathBuf,
    },
    #[error(
        "neither GRAPH_API_AUTH_PUBKEY_THUMBPRINT nor GRAPH_API_AUTH_CERT_PATH is set: Entra needs the certificate's thumbprint to verify the app's signature; set one of them"
    )]
    NoThumbprint,
}

/// A SHA-1 certificate thumbprint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Thumbprint([u8; 20]);

impl Thumbprint {
    /// Parses hex in any case, with or without `:` or spaces between the bytes, as portals,
    /// PowerShell and `openssl x509 -fingerprint` print it. Windows' certificate dialog copies
    /// an invisible left-to-right mark in front, which is dropped too.
    pub fn parse(raw: &str) -> Result<Self, CredentialsError> {
        let digits: String = raw
            .trim()
            .chars()
            .filter(|c| !matches!(c, ':' | ' ' | '\u{200e}' | '\u{200f}'))
            .collect();
        let mut bytes = [0u8; 20];
        // Refuses any length but 40 digits, and anything that is not a hex digit.
        hex::decode_to_slice(&digits, &mut bytes)
            .map_err(|_| CredentialsError::BadThumbprint(raw.to_owned()))?;
        Ok(Thumbprint(bytes))
    }

    /// SHA-1 of a certificate's DER encoding: what Entra shows as the thumbprint.
    pub fn of_certificate(der: &[u8]) -> Self {
        let digest = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, der);
        let mut bytes = [0u8; 20];
        bytes.copy_from_slice(digest.as_ref());
        Thumbprint(bytes)
    }

    /// The JWT `x5t` header: base64url of the raw digest bytes (not of the hex).
    pub fn x5t(&self) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(self.0)
    }

    /// Upper-case hex, as the Entra portal shows it.
    pub fn to_hex(&self) -> String {
        hex::encode_upper(self.0)
    }
}

/// A usable RSA private key. `Debug` shows no key material.
pub struct PrivateKey {
    pub(super) encoding_key: EncodingKey,
    /// To compare with a certificate's.
    pub public_key: rsa::PublicKey,
    /// `PKCS#1` or `PKCS#8`, for the check command's report.
    pub format: &'static str,
}

impl std::fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PrivateKey({}, {} bits)", self.format, self.bits())
    }
}

impl PrivateKey {
    /// Reads the first private key from a PEM file (a file holding the certificate too is
    /// fine).
    pub fn load(path: &Path) -> Result<Self, CredentialsError> {
        let text = std::fs::read_to_string(path).map_err(|source| CredentialsError::ReadKey {
            path: path.to_owned(),
            source,
        })?;
        let key = pem::private_key(&text).map_err(|err| match err {
            PemError::Missing(reason) => CredentialsError::NoKey {
                path: path.to_owned(),
                reason,
            },
            PemError::Encrypted => CredentialsError::EncryptedKey {
                path: path.to_owned(),
            },
            PemError::Invalid(reason) => bad_key(path, reason),
        })?;
        let key = PrivateKey {
            encoding_key: EncodingKey::from_rsa_der(&key.pkcs1_der),
            public_key: key.public_key,
            format: key.format,
        };
        // Sign once now, so a key jsonwebtoken cannot use stops start-up, not the first sign-up.
        crate::jwt_crypto::install();
        jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256),
            &serde_json::json!({}),
            &key.encoding_key,
        )
        .map_err(|err| bad_key(path, format!("the key cannot sign: {err}")))?;
        Ok(key)
    }

    /// The modulus size in bits, rounded up to whole bytes as the 2048-bit minimum is checked.
    pub fn bits(&self) -> usize {
        self.public_key.size() * 8
    }
}

fn bad_key(path: &Path, reason: String) -> CredentialsError {
    CredentialsError::BadKey {
        path: path.to_owned(),
        reason,
    }
}

/// The app's certificate, as far as we need it.
#[derive(Debug, Clone)]
pub struct Certificate {
    pub thumbprint: Thumbprint,
    pub public_key: rsa::PublicKey,
}

impl Certificate {
    /// Reads the first certificate of a PEM file.
    pub fn load(path: &Path) -> Result<Self, CredentialsError> {
        let text = std::fs::read_to_string(path).map_err(|source| CredentialsError::ReadCert {
            path: path.to_owned(),
            source,
        })?;
        let (der, public_key) =
            pem::certificate(&text).map_err(|err| CredentialsError::BadCert {
                path: path.to_owned(),
                reason: err.to_string(),
            })?;
        Ok(Certificate {
            thumbprint: Thumbprint::of_certificate(&der),
            public_key,
        })
    }
}

/// The key and the thumbprint to sign client assertions with.
#[derive(Debug)]
pub struct Credentials {
    pub key: PrivateKey,
    pub thumbprint: Thumbprint,
}

impl Credentials {
    /// Loads the key, and takes the thumbprint from the setting or the certificate. With both
    /// a certificate and a thumbprint, they must agree, and the certificate must be the key's.
    pub fn load(
        key_path: &Path,
        thumbprint: Option<&str>,
        cert_path: Option<&Path>,
    ) -> Result<Self, CredentialsError> {
        let key = PrivateKey::load(key_path)?;
        let given = thumbprint.map(Thumbprint::parse).transpose()?;
        let from_cert = match cert_path {
            Some(cert_path) => {
                let cert = Certificate::load(cert_path)?;
                if cert.public_key != key.public_key {
                    return Err(CredentialsError::KeyDoesNotMatchCertificate {
                        key: key_path.to_owned(),
                        cert: cert_path.to_owned(),
                    });
                }
                Some((cert.thumbprint, cert_path))
            }
            None => None,
        };
        let thumbprint = match (given, from_cert) {
            (Some(given), Some((computed, cert))) if given != computed => {
                return Err(CredentialsError::ThumbprintMismatch {
                    given: given.to_hex(),
                    computed: computed.to_hex(),
                    cert: cert.to_owned(),
                });
            }
            (Some(thumbprint), _) | (None, Some((thumbprint, _))) => thumbprint,
            (None, None) => return Err(CredentialsError::NoThumbprint),
        };
        Ok(Credentials { key, thumbprint })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name)
    }

    fn openssl_thumbprint() -> String {
        // `sha1 Fingerprint=8E:D5:…` as openssl printed it when the fixture was made.
        let line = std::fs::read_to_string(fixture("graph-test-cert.sha1.txt")).unwrap();
        line.trim().split('=').nth(1).unwrap().to_owned()
    }

    #[test]
    fn the_computed_thumbprint_equals_openssls_in_every_spelling() {
        let cert = Certificate::load(&fixture("graph-test-cert.pem")).unwrap();
        let openssl = openssl_thumbprint();
        let spellings = [
            openssl.clone(),
            openssl.to_lowercase(),
            openssl.replace(':', ""),
            openssl.replace(':', " ").to_lowercase(),
            format!("\u{200e}{}", openssl.replace(':', "")),
        ];
        for spelling in spellings {
            assert_eq!(
                Thumbprint::parse(&spelling).unwrap(),
                cert.thumbprint,
                "{spelling}"
            );
        }
        assert_eq!(cert.thumbprint.to_hex(), openssl.replace(':', ""));
    }

    #[test]
    fn a_thumbprint_that_is_not_40_hex_digits_is_refused() {
        for bad in [
            "",
            "8ED5",
            "zz".repeat(20).as_str(),
            &"0".repeat(42),
            "é".repeat(40).as_str(),
        ] {
            let err = Thumbprint::parse(bad).unwrap_err();
            assert!(
                err.to_string()
                    .starts_with("GRAPH_API_AUTH_PUBKEY_THUMBPRINT="),
                "{err}"
            );
        }
    }

    #[test]
    fn x5t_is_base64url_of_the_digest_bytes() {
        let thumbprint = Thumbprint::parse(&"ff".repeat(20)).unwrap();
        assert_eq!(thumbprint.x5t(), "__________________________8");
    }

    #[test]
    fn both_key_formats_load_and_match_the_certificate() {
        for name in ["graph-test-key.pkcs1.pem", "graph-test-key.pkcs8.pem"] {
            let creds =
                Credentials::load(&fixture(name), None, Some(&fixture("graph-test-cert.pem")))
                    .unwrap();
            assert_eq!(creds.key.bits(), 2048);
            assert_eq!(
                creds.thumbprint.to_hex(),
                openssl_thumbprint().replace(':', "")
            );
            assert!(
                !format!("{creds:?}").contains("MII"),
                "no key material in Debug"
            );
        }
    }

    #[test]
    fn mismatches_and_missing_pieces_name_the_setting() {
        let key = fixture("graph-test-key.pkcs1.pem");
        let cert = fixture("graph-test-cert.pem");
        let cases: Vec<(Result<Credentials, CredentialsError>, &str)> = vec![
            (
                Credentials::load(&fixture("graph-wrong-key.pem"), None, Some(&cert)),
                "is not the certificate of the key",
            ),
            (
                Credentials::load(&key, Some(&"AB".repeat(20)), Some(&cert)),
                "differs from the thumbprint",
            ),
            (
                Credentials::load(&key, None, None),
                "neither GRAPH_API_AUTH_PUBKEY_THUMBPRINT",
            ),
            (
                Credentials::load(&fixture("no-such.pem"), None, Some(&cert)),
                "GRAPH_API_AUTH_PRIVKEY_PATH=",
            ),
            (
                Credentials::load(&cert, None, Some(&cert)),
                "no private key in it",
            ),
            (
                Credentials::load(&key, None, Some(&key)),
                "GRAPH_API_AUTH_CERT_PATH=",
            ),
        ];
        for (result, expected) in cases {
            let err = result.unwrap_err().to_string();
            assert!(err.contains(expected), "{err}");
        }
    }

    #[test]
    fn an_encrypted_key_is_refused_with_the_fix() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("enc.pem");
        std::fs::write(
            &path,
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n",
        )
        .unwrap();
        let err = PrivateKey::load(&path).unwrap_err().to_string();
        assert!(err.contains("openssl pkey"), "{err}");
    }
}
