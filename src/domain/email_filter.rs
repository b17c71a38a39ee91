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

    /// Whether the filter admits a mailbox. It judges the mailbox, not the spelling typed,
    /// so a tag cannot carry an address past it or keep an allowed one out.
    pub fn is_match(&self, mailbox: &super::Mailbox) -> bool {
        self.anchored.is_match(mailbox.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Mailbox, SubaddressSeparator};

    fn mailbox(raw: &str) -> Mailbox {
        Mailbox::parse(raw, SubaddressSeparator::PLUS).unwrap()
    }

    #[test]
    fn the_whole_address_must_match() {
        let filter = EmailFilter::parse(r"st[0-9]+@stud\.example\.edu").unwrap();
        let ok = mailbox("st42@stud.example.edu");
        let prefix_only = mailbox("st42@stud.example.edu.evil.org");
        let suffix_only = mailbox("xst42@stud.example.edu");
        assert!(filter.is_match(&ok));
        assert!(!filter.is_match(&prefix_only));
        assert!(!filter.is_match(&suffix_only));
    }

    #[test]
    fn alternatives_are_anchored_as_a_group() {
        let filter = EmailFilter::parse(r"a@x\.org|b@y\.org").unwrap();
        assert!(!filter.is_match(&mailbox("a@x.org.evil.org")));
        assert!(filter.is_match(&mailbox("b@y.org")));
    }

    #[test]
    fn a_broken_expression_is_an_error() {
        assert!(EmailFilter::parse("st[0-9+@x").is_err());
    }
}
