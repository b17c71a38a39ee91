use std::fmt;

/// A first or family name: trimmed, 1–64 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonName(String);

/// Why a name is not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PersonNameError {
    #[error("the name is empty")]
    Empty,
    #[error("the name is longer than {} characters", PersonName::MAX_CHARS)]
    TooLong,
    #[error("the name contains control characters")]
    ControlCharacters,
}

impl PersonName {
    pub const MAX_CHARS: usize = 64;

    pub fn parse(raw: &str) -> Result<Self, PersonNameError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(PersonNameError::Empty);
        }
        if trimmed.chars().count() > Self::MAX_CHARS {
            return Err(PersonNameError::TooLong);
        }
        // Control characters (CR/LF among them) could split mail headers or hide text.
        if trimmed.chars().any(|c| c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')) {
            return Err(PersonNameError::ControlCharacters);
        }
        Ok(PersonName(trimmed.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for PersonName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PersonName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed() {
        assert_eq!(PersonName::parse("  Ada ").unwrap().as_str(), "Ada");
    }

    #[test]
    fn empty_and_blank_names_are_rejected() {
        assert_eq!(PersonName::parse(""), Err(PersonNameError::Empty));
        assert_eq!(PersonName::parse(" \t "), Err(PersonNameError::Empty));
    }

    #[test]
    fn sixty_four_characters_pass_and_sixty_five_do_not() {
        assert!(PersonName::parse(&"ä".repeat(64)).is_ok());
        assert_eq!(
            PersonName::parse(&"ä".repeat(65)),
            Err(PersonNameError::TooLong)
        );
    }

    #[test]
    fn control_characters_are_rejected() {
        for raw in ["Ada\r\nBcc: x@y", "Ada\u{0}", "Ad\u{7f}a", "Ada\u{202E}"] {
            assert_eq!(
                PersonName::parse(raw),
                Err(PersonNameError::ControlCharacters),
                "{raw:?}"
            );
        }
    }
}
