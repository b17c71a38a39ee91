use regex::Regex;

/// `EMAIL_ADDRESS_FILTER`: a regular expression the whole address must match.
#[derive(Debug, Clone)]
pub struct EmailFilter {
    source: String,
    anchored: Regex,
}

/// The filter does not compile.
#[derive(Debug, thiserror::Error)]
#[error("not a valid regular expression: {0}")]
pub struct EmailFilterError(String);

impl EmailFilter {
    pub fn parse(source: &str) -> Result<Self, EmailFilterError> {
        // Anchored at both ends, as the HTML `pattern` attribute is.
        let anchored = Regex::new(&format!("^(?:{source})$"))
            .map_err(|err| EmailFilterError(err.to_string()))?;
        Ok(EmailFilter {
            source: source.to_owned(),
            anchored,
        })
    }

    /// The expression as configured, for the input's `pattern` attribute.
    pub fn as_pattern(&self) -> &str {
        &self.source
    }

    /// Whether the filter lets everything through (then no `pattern` is needed).
    pub fn allows_everything(&self) -> bool {
        matches!(self.source.as_str(), ".*" | "" | "^.*$")
    }

    pub fn is_match(&self, address: &super::EmailAddress) -> bool {
        self.anchored.is_match(address.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::EmailAddress;

    #[test]
    fn the_whole_address_must_match() {
        let filter = EmailFilter::parse(r"st[0-9]+@stud\.example\.edu").unwrap();
        let ok = EmailAddress::parse("st42@stud.example.edu").unwrap();
        let prefix_only = EmailAddress::parse("st42@stud.example.edu.evil.org").unwrap();
        let suffix_only = EmailAddress::parse("xst42@stud.example.edu").unwrap();
        assert!(filter.is_match(&ok));
        assert!(!filter.is_match(&prefix_only));
        assert!(!filter.is_match(&suffix_only));
    }

    #[test]
    fn alternatives_are_anchored_as_a_group() {
        let filter = EmailFilter::parse(r"a@x\.org|b@y\.org").unwrap();
        assert!(!filter.is_match(&EmailAddress::parse("a@x.org.evil.org").unwrap()));
        assert!(filter.is_match(&EmailAddress::parse("b@y.org").unwrap()));
    }

    #[test]
    fn a_broken_expression_is_an_error() {
        assert!(EmailFilter::parse("st[0-9+@x").is_err());
    }
}
