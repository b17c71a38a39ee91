//! Just enough PEM and DER to read the RSA key and certificate an operator points us at: find
//! the blocks, unwrap a PKCS#8 key to PKCS#1, and read the RSA modulus of a key or a
//! certificate so the two can be compared. Anything unexpected is an error, never a panic.

use base64::Engine;

/// Why a PEM or DER structure cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DerError {
    #[error("the file holds no PEM block (-----BEGIN …-----)")]
    NoPem,
    #[error("the PEM block `{0}` has no END line")]
    Unterminated(String),
    #[error("the PEM block `{0}` is not valid base64")]
    Base64(String),
    #[error("the DER data is truncated or malformed")]
    Malformed,
    #[error("the key is not an RSA key (only RSA certificates work for Entra app credentials)")]
    NotRsa,
}

/// One `-----BEGIN label-----` … `-----END label-----` block, decoded.
pub struct PemBlock {
    pub label: String,
    /// RFC 1421 headers such as `Proc-Type: 4,ENCRYPTED` (legacy encrypted PKCS#1).
    pub headers: Vec<String>,
    pub der: Vec<u8>,
}

/// All PEM blocks of `text`, in order. Text outside blocks (comments, `Bag Attributes` from
/// `openssl pkcs12`) is ignored.
pub fn pem_blocks(text: &str) -> Result<Vec<PemBlock>, DerError> {
    let mut blocks = Vec::new();
    let mut lines = text.lines().map(str::trim);
    while let Some(line) = lines.next() {
        let Some(label) = line
            .strip_prefix("-----BEGIN ")
            .and_then(|rest| rest.strip_suffix("-----"))
        else {
            continue;
        };
        let end = format!("-----END {label}-----");
        let mut headers = Vec::new();
        let mut base64 = String::new();
        let mut closed = false;
        for line in lines.by_ref() {
            if line == end {
                closed = true;
                break;
            }
            if line.contains(':') {
                headers.push(line.to_owned());
            } else {
                base64.push_str(line);
            }
        }
        if !closed {
            return Err(DerError::Unterminated(label.to_owned()));
        }
        let der = base64::engine::general_purpose::STANDARD
            .decode(base64.as_bytes())
            .map_err(|_| DerError::Base64(label.to_owned()))?;
        blocks.push(PemBlock {
            label: label.to_owned(),
            headers,
            der,
        });
    }
    if blocks.is_empty() {
        return Err(DerError::NoPem);
    }
    Ok(blocks)
}

const SEQUENCE: u8 = 0x30;
const INTEGER: u8 = 0x02;
const BIT_STRING: u8 = 0x03;
const OCTET_STRING: u8 = 0x04;
const OID: u8 = 0x06;
const CONTEXT_0: u8 = 0xa0;
/// 1.2.840.113549.1.1.1 (rsaEncryption).
const RSA_ENCRYPTION: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];

/// A cursor over DER TLVs.
struct Der<'a>(&'a [u8]);

impl<'a> Der<'a> {
    /// The next element's tag and contents.
    fn next(&mut self) -> Result<(u8, &'a [u8]), DerError> {
        let (&tag, rest) = self.0.split_first().ok_or(DerError::Malformed)?;
        let (&first, mut rest) = rest.split_first().ok_or(DerError::Malformed)?;
        let len = if first < 0x80 {
            usize::from(first)
        } else {
            let count = usize::from(first & 0x7f);
            // Four length bytes are gigabytes; more is garbage.
            if count == 0 || count > 4 || rest.len() < count {
                return Err(DerError::Malformed);
            }
            let (bytes, after) = rest.split_at(count);
            rest = after;
            bytes
                .iter()
                .fold(0usize, |len, &b| (len << 8) | usize::from(b))
        };
        if rest.len() < len {
            return Err(DerError::Malformed);
        }
        let (contents, after) = rest.split_at(len);
        self.0 = after;
        Ok((tag, contents))
    }

    /// The next element, which must have `tag`.
    fn expect(&mut self, tag: u8) -> Result<&'a [u8], DerError> {
        match self.next()? {
            (found, contents) if found == tag => Ok(contents),
            _ => Err(DerError::Malformed),
        }
    }

    fn peek_tag(&self) -> Option<u8> {
        self.0.first().copied()
    }
}

/// The PKCS#1 `RSAPrivateKey` inside a PKCS#8 `PrivateKeyInfo`, refusing other key types.
pub fn pkcs8_to_pkcs1(der: &[u8]) -> Result<&[u8], DerError> {
    let mut info = Der(Der(der).expect(SEQUENCE)?);
    info.expect(INTEGER)?;
    let mut algorithm = Der(info.expect(SEQUENCE)?);
    if algorithm.expect(OID)? != RSA_ENCRYPTION {
        return Err(DerError::NotRsa);
    }
    info.expect(OCTET_STRING)
}

/// The modulus of a PKCS#1 `RSAPrivateKey` (version, n, e, …), without leading zeros.
pub fn private_key_modulus(pkcs1: &[u8]) -> Result<Vec<u8>, DerError> {
    let mut key = Der(Der(pkcs1).expect(SEQUENCE)?);
    key.expect(INTEGER)?;
    Ok(unsigned(key.expect(INTEGER)?))
}

/// The RSA modulus in a certificate's subjectPublicKeyInfo, without leading zeros.
pub fn certificate_modulus(certificate: &[u8]) -> Result<Vec<u8>, DerError> {
    let mut cert = Der(Der(certificate).expect(SEQUENCE)?);
    let mut tbs = Der(cert.expect(SEQUENCE)?);
    if tbs.peek_tag() == Some(CONTEXT_0) {
        tbs.next()?; // version
    }
    tbs.expect(INTEGER)?; // serial number
    tbs.expect(SEQUENCE)?; // signature algorithm
    tbs.expect(SEQUENCE)?; // issuer
    tbs.expect(SEQUENCE)?; // validity
    tbs.expect(SEQUENCE)?; // subject
    let mut spki = Der(tbs.expect(SEQUENCE)?);
    let mut algorithm = Der(spki.expect(SEQUENCE)?);
    if algorithm.expect(OID)? != RSA_ENCRYPTION {
        return Err(DerError::NotRsa);
    }
    let bits = spki.expect(BIT_STRING)?;
    // The first byte counts unused bits, always 0 for a key.
    let (&0, public_key) = bits.split_first().ok_or(DerError::Malformed)? else {
        return Err(DerError::Malformed);
    };
    let mut public_key = Der(Der(public_key).expect(SEQUENCE)?);
    Ok(unsigned(public_key.expect(INTEGER)?))
}

/// A DER INTEGER's magnitude: the sign byte DER adds before a high bit is not part of it.
fn unsigned(integer: &[u8]) -> Vec<u8> {
    let start = integer
        .iter()
        .position(|&b| b != 0)
        .unwrap_or(integer.len());
    integer[start..].to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> String {
        let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read_to_string(path).expect("fixture")
    }

    fn only_block(name: &str) -> PemBlock {
        pem_blocks(&fixture(name)).unwrap().remove(0)
    }

    #[test]
    fn the_pkcs1_and_pkcs8_copies_hold_the_same_key_as_the_certificate() {
        let pkcs1 = only_block("graph-test-key.pkcs1.pem");
        assert_eq!(pkcs1.label, "RSA PRIVATE KEY");
        let pkcs8 = only_block("graph-test-key.pkcs8.pem");
        assert_eq!(pkcs8.label, "PRIVATE KEY");
        assert_eq!(pkcs8_to_pkcs1(&pkcs8.der).unwrap(), pkcs1.der.as_slice());

        let modulus = private_key_modulus(&pkcs1.der).unwrap();
        assert_eq!(modulus.len(), 256, "a 2048-bit key");
        let cert = only_block("graph-test-cert.pem");
        assert_eq!(certificate_modulus(&cert.der).unwrap(), modulus);
        let other = only_block("graph-wrong-cert.pem");
        assert_ne!(certificate_modulus(&other.der).unwrap(), modulus);
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert_eq!(pem_blocks("hello").err(), Some(DerError::NoPem));
        assert!(matches!(
            pem_blocks("-----BEGIN X-----\nAAAA\n"),
            Err(DerError::Unterminated(_))
        ));
        assert!(matches!(
            pem_blocks("-----BEGIN X-----\n!!!\n-----END X-----"),
            Err(DerError::Base64(_))
        ));
        for bytes in [
            &[][..],
            &[0x30],
            &[0x30, 0x85, 1, 1, 1, 1, 1],
            &[0x30, 0x05, 0x02],
            &[0x30, 0x03, 0x02, 0x01, 0x00],
        ] {
            assert!(certificate_modulus(bytes).is_err(), "{bytes:?}");
            assert!(pkcs8_to_pkcs1(bytes).is_err(), "{bytes:?}");
            let _ = private_key_modulus(bytes);
        }
    }
}
