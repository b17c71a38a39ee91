//! The JSON values of the API as its spec describes them: strings with the rules the sign-up
//! applies, and a reason that is `null` when there is none.
//!
//! The rules are documented, not enforced here: a body that breaks them is judged by the
//! sign-up itself and answered with the original's `400` messages (`Email illegal`, `Name
//! format not supported`); only a value that is not a string at all is a malformed body (422).

use std::borrow::Cow;
use std::marker::PhantomData;

use poem_openapi::registry::{MetaSchema, MetaSchemaRef};
use poem_openapi::types::{ParseError, ParseFromJSON, ParseResult, ToJSON, Type};
use serde_json::Value;

use crate::domain::{EmailAddress, PersonName};

/// What the spec says about one kind of string.
pub trait TextRules: Send + Sync + 'static {
    fn schema() -> MetaSchema;
}

/// Any string: what the address check takes, since telling a bad address from a good one
/// is its answer, not a refusal.
pub struct AnyText;

impl TextRules for AnyText {
    fn schema() -> MetaSchema {
        MetaSchema::new("string")
    }
}

/// A first or family name: 1–64 characters after trimming ([`PersonName`]).
pub struct NameText;

impl TextRules for NameText {
    fn schema() -> MetaSchema {
        MetaSchema {
            min_length: Some(1),
            max_length: Some(PersonName::MAX_CHARS),
            ..MetaSchema::new("string")
        }
    }
}

/// An e-mail address of at most 190 characters ([`EmailAddress`]).
pub struct EmailText;

impl TextRules for EmailText {
    fn schema() -> MetaSchema {
        MetaSchema {
            max_length: Some(EmailAddress::MAX_CHARS),
            ..MetaSchema::new_with_format("string", "email")
        }
    }
}

/// A JSON string and nothing else. poem-openapi's `String` also takes numbers and booleans
/// (`1` → "1", `true` → "true"), which made `{"firstName":1,"lastName":true}` the person
/// "1 true"; a wrong type is a malformed body (422).
pub struct Text<R> {
    text: String,
    rules: PhantomData<fn() -> R>,
}

impl<R> Text<R> {
    /// The string as sent.
    pub fn into_string(self) -> String {
        self.text
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl<R: TextRules> Type for Text<R> {
    const IS_REQUIRED: bool = true;
    type RawValueType = Self;
    type RawElementValueType = Self;

    fn name() -> Cow<'static, str> {
        "string".into()
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Inline(Box::new(R::schema()))
    }

    fn as_raw_value(&self) -> Option<&Self::RawValueType> {
        Some(self)
    }

    fn raw_element_iter<'a>(
        &'a self,
    ) -> Box<dyn Iterator<Item = &'a Self::RawElementValueType> + 'a> {
        Box::new(self.as_raw_value().into_iter())
    }
}

impl<R: TextRules> ParseFromJSON for Text<R> {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        match value {
            Some(Value::String(text)) => Ok(Text {
                text,
                rules: PhantomData,
            }),
            other => Err(ParseError::expected_type(other.unwrap_or_default())),
        }
    }
}

// Both directions, as poem-openapi's `Object` asks of every field.
impl<R: TextRules> ToJSON for Text<R> {
    fn to_json(&self) -> Option<Value> {
        Some(Value::String(self.text.clone()))
    }
}

/// A string or `null`, always present: the address check's reason.
pub struct Reason(pub Option<String>);

impl Type for Reason {
    const IS_REQUIRED: bool = true;
    type RawValueType = Self;
    type RawElementValueType = Self;

    fn name() -> Cow<'static, str> {
        "string_or_null".into()
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Inline(Box::new(MetaSchema {
            nullable: true,
            ..MetaSchema::new("string")
        }))
    }

    fn as_raw_value(&self) -> Option<&Self::RawValueType> {
        Some(self)
    }

    fn raw_element_iter<'a>(
        &'a self,
    ) -> Box<dyn Iterator<Item = &'a Self::RawElementValueType> + 'a> {
        Box::new(self.as_raw_value().into_iter())
    }
}

impl ToJSON for Reason {
    fn to_json(&self) -> Option<Value> {
        Some(self.0.clone().map_or(Value::Null, Value::String))
    }
}

impl ParseFromJSON for Reason {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        match value {
            Some(Value::String(text)) => Ok(Reason(Some(text))),
            None | Some(Value::Null) => Ok(Reason(None)),
            Some(other) => Err(ParseError::expected_type(other)),
        }
    }
}
