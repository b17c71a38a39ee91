//! Turns an [`OutgoingMail`] into an RFC 5322 message: plain text plus an HTML alternative,
//! `Date`, a `Message-ID` in the sender's domain and `Content-Language`.
//!
//! Safe on its own, whatever the caller validated: lettre encodes header values (a CR/LF in a
//! subject becomes RFC 2047 encoded words, not a new header line) and the HTML is escaped.

use std::time::SystemTime;

use lettre::Message;
use lettre::message::header::{Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use ring::rand::{SecureRandom, SystemRandom};

use super::{MailError, OutgoingMail, html};

/// The fixed parts of every message: who sends and where answers go.
#[derive(Debug, Clone)]
pub struct Envelope {
    pub from: Mailbox,
    pub reply_to: Option<Mailbox>,
}

impl Envelope {
    /// The domain of the sending address, used for `Message-ID`s.
    fn domain(&self) -> &str {
        self.from.email.domain()
    }
}

/// Builds the message for `mail`, dated `now`.
pub fn build(
    envelope: &Envelope,
    mail: &OutgoingMail,
    now: SystemTime,
) -> Result<Message, MailError> {
    let to: lettre::Address =
        mail.to.as_str().parse().map_err(|err| {
            MailError::Build(format!("the recipient address is not usable: {err}"))
        })?;
    let mut builder = Message::builder()
        .from(envelope.from.clone())
        .to(Mailbox::new(None, to))
        .subject(mail.subject.clone())
        .date(now)
        .message_id(Some(message_id(envelope.domain())?));
    if let Some(reply_to) = &envelope.reply_to {
        builder = builder.reply_to(reply_to.clone());
    }
    let language = ContentLanguage::new(&mail.lang);
    if let Some(language) = &language {
        builder = builder.header(language.clone());
    }
    let lang = language.as_ref().map(|l| l.0.as_str());
    let html = html::render(&mail.text, lang, &mail.subject);
    builder
        .multipart(MultiPart::alternative_plain_html(mail.text.clone(), html))
        .map_err(|err| MailError::Build(err.to_string()))
}

/// `<random@domain>`: unique without revealing the host name, and in a domain we own, which
/// spam filters like better than the host name lettre would use.
fn message_id(domain: &str) -> Result<String, MailError> {
    let mut bytes = [0u8; 16];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| MailError::Build("no random numbers for a Message-ID".into()))?;
    Ok(format!("<{}@{domain}>", hex::encode(bytes)))
}

/// `Content-Language` (RFC 3282), only for plain language tags such as `de` or `pt-BR`.
#[derive(Debug, Clone)]
struct ContentLanguage(String);

impl ContentLanguage {
    fn new(tag: &str) -> Option<Self> {
        let plausible = !tag.is_empty()
            && tag.len() <= 35
            && tag.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        plausible.then(|| ContentLanguage(tag.to_owned()))
    }
}

impl Header for ContentLanguage {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Content-Language")
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        ContentLanguage::new(s.trim()).ok_or_else(|| "not a language tag".into())
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.clone())
    }
}

#[cfg(test)]
mod tests;
