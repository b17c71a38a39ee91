//! The strict reader of url-encoded form bodies: broken input is refused, not repaired.
//!
//! Not poem's `Form` extractor, nor `serde_urlencoded` on the raw body: both decode with
//! `form_urlencoded`, which turns bytes that are not UTF-8 into U+FFFD and keeps a malformed
//! `%` escape as literal text, so `%FF%FE+Smith` would become a name of two U+FFFD and
//! "Smith". Here every field is checked first; `serde_urlencoded` only maps fields that
//! decoded cleanly, which it decodes to exactly the same text.

use poem::Body;
use poem::error::ReadBodyError;
use poem::http::StatusCode;
use serde::de::DeserializeOwned;

/// Why a form body was not taken.
#[derive(Debug, thiserror::Error)]
pub enum FormError<T> {
    /// The body could not be read (too large, broken off) or its fields do not fit the form
    /// (a field given twice); the status to answer.
    #[error("the form body could not be read ({0})")]
    Unreadable(StatusCode),
    /// A field was damaged: a `%` not followed by two hex digits, or bytes that are not UTF-8
    /// once decoded. Holds the fields that decoded cleanly, to show them again.
    #[error("a form field arrived damaged")]
    Damaged(T),
}

/// Reads a url-encoded body, capped in size, strictly (see the module comment).
pub async fn read_form<T: DeserializeOwned + Default>(body: Body) -> Result<T, FormError<T>> {
    let bytes = body
        .into_bytes_limit(super::MAX_BODY_BYTES)
        .await
        .map_err(|err| {
            FormError::Unreadable(match err {
                ReadBodyError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
                _ => StatusCode::BAD_REQUEST,
            })
        })?;
    decode(&bytes)
}

/// Decodes url-encoded bytes strictly into `T`.
pub fn decode<T: DeserializeOwned + Default>(bytes: &[u8]) -> Result<T, FormError<T>> {
    let mut clean = Vec::with_capacity(bytes.len());
    let mut damaged = false;
    for pair in bytes.split(|&b| b == b'&').filter(|pair| !pair.is_empty()) {
        let mut parts = pair.splitn(2, |&b| b == b'=');
        let name = parts.next().unwrap_or_default();
        let value = parts.next().unwrap_or_default();
        if decode_part(name).is_some() && decode_part(value).is_some() {
            if !clean.is_empty() {
                clean.push(b'&');
            }
            clean.extend_from_slice(pair);
        } else {
            damaged = true;
        }
    }
    let fields = serde_urlencoded::from_bytes(&clean);
    match (damaged, fields) {
        (false, Ok(fields)) => Ok(fields),
        (false, Err(_)) => Err(FormError::Unreadable(StatusCode::BAD_REQUEST)),
        (true, fields) => Err(FormError::Damaged(fields.unwrap_or_default())),
    }
}

/// One name or value decoded: `+` is a space, `%XX` a byte; `None` when an escape is not two
/// hex digits or the result is not UTF-8.
fn decode_part(part: &[u8]) -> Option<String> {
    let mut bytes = part.iter();
    let mut decoded = Vec::with_capacity(part.len());
    while let Some(&byte) = bytes.next() {
        decoded.push(match byte {
            b'+' => b' ',
            b'%' => {
                let high = hex_digit(bytes.next())?;
                let low = hex_digit(bytes.next())?;
                (high << 4) | low
            }
            other => other,
        });
    }
    String::from_utf8(decoded).ok()
}

fn hex_digit(byte: Option<&u8>) -> Option<u8> {
    let digit = char::from(*byte?).to_digit(16)?;
    u8::try_from(digit).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Default, PartialEq, serde::Deserialize)]
    struct Fields {
        #[serde(default)]
        a: String,
        #[serde(default)]
        b: Option<String>,
    }

    #[test]
    fn clean_parts_decode_as_form_urlencoded_does() {
        for (raw, text) in [
            ("Anna+Lena", "Anna Lena"),
            ("M%C3%BCller", "Müller"),
            ("m%c3%bcller", "müller"),
            ("%2B%25%26%3D", "+%&="),
            ("Müller", "Müller"),
            ("", ""),
        ] {
            assert_eq!(decode_part(raw.as_bytes()).as_deref(), Some(text), "{raw}");
        }
    }

    #[test]
    fn broken_escapes_and_bytes_that_are_not_utf8_are_refused() {
        let broken: [&[u8]; 9] = [
            b"%",
            b"a%",
            b"%4",
            b"%zz",
            b"%zz%",
            b"%FF%FE",
            b"%C0%AE",
            b"%ED%A0%80",
            b"\xFF",
        ];
        for raw in broken {
            assert_eq!(decode_part(raw), None, "{}", raw.escape_ascii());
        }
    }

    #[test]
    fn a_clean_body_maps_onto_the_form() {
        let fields: Fields = decode(b"a=x+y&&b=%C3%A4").expect("clean");
        assert_eq!(fields.a, "x y");
        assert_eq!(fields.b.as_deref(), Some("ä"));
    }

    #[test]
    fn a_damaged_field_keeps_the_clean_ones_and_drops_itself() {
        for body in [&b"a=x&b=%FF"[..], b"a=x&b%zz=y", b"a=x&%=y", b"a=x&b=%"] {
            match decode::<Fields>(body) {
                Err(FormError::Damaged(clean)) => assert_eq!(
                    clean,
                    Fields {
                        a: "x".into(),
                        b: None
                    },
                    "{}",
                    body.escape_ascii()
                ),
                other => panic!("{}: {other:?}", body.escape_ascii()),
            }
        }
    }

    #[test]
    fn a_field_given_twice_is_unreadable() {
        assert!(matches!(
            decode::<Fields>(b"a=x&a=y"),
            Err(FormError::Unreadable(StatusCode::BAD_REQUEST))
        ));
        assert!(matches!(
            decode::<Fields>(b"a=x&a=y&b=%FF"),
            Err(FormError::Damaged(Fields { b: None, .. }))
        ));
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        type Pairs = Vec<(String, String)>;

        /// Mostly the bytes that make and break url-encoding, now and then any byte.
        fn body() -> impl Strategy<Value = Vec<u8>> {
            let byte = prop_oneof![
                4 => proptest::sample::select(b"%+&=abzAF09".to_vec()),
                2 => proptest::sample::select(vec![0xC3, 0xA4, 0xC0, 0x80, 0xFF]),
                1 => any::<u8>(),
            ];
            proptest::collection::vec(byte, 0..48)
        }

        proptest! {
            #[test]
            fn what_is_kept_reads_as_form_urlencoded_reads_it(body in body()) {
                let lenient: Pairs = serde_urlencoded::from_bytes(&body).expect("pairs always read");
                match decode::<Pairs>(&body) {
                    Ok(pairs) => prop_assert_eq!(pairs, lenient),
                    Err(FormError::Damaged(clean)) => {
                        // The clean fields are the lenient reader's, minus the damaged ones.
                        let mut rest = lenient.iter();
                        for pair in &clean {
                            prop_assert!(rest.any(|p| p == pair), "{:?} not in {:?}", pair, lenient);
                        }
                        prop_assert!(clean.len() < lenient.len());
                    }
                    Err(FormError::Unreadable(status)) => {
                        prop_assert!(false, "pairs are always readable: {}", status);
                    }
                }
            }
        }
    }
}
