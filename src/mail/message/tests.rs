use std::time::{Duration, SystemTime, UNIX_EPOCH};

use mail_parser::{MessageParser, PartType};

use super::*;
use crate::domain::EmailAddress;

fn envelope() -> Envelope {
    Envelope {
        from: "Accounts <accounts@uni.example>".parse().unwrap(),
        reply_to: Some("it-support@uni.example".parse().unwrap()),
    }
}

fn mail(subject: &str, text: &str, lang: &str) -> OutgoingMail {
    OutgoingMail {
        to: EmailAddress::parse("ada@uni.example").unwrap(),
        subject: subject.to_owned(),
        text: text.to_owned(),
        lang: lang.to_owned(),
        carries_secret: false,
    }
}

fn formatted(mail: &OutgoingMail) -> String {
    let at = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    String::from_utf8(build(&envelope(), mail, at).unwrap().formatted()).unwrap()
}

/// The header block: everything before the first empty line.
fn header_lines(raw: &str) -> Vec<&str> {
    raw.split("\r\n").take_while(|l| !l.is_empty()).collect()
}

#[test]
fn a_subject_with_line_breaks_cannot_add_headers() {
    let raw = formatted(&mail(
        "Hi\r\nBcc: evil@attacker.example\r\nX-Injected: yes\nX-Lf: yes\rX-Cr: yes",
        "Hello",
        "en",
    ));
    for line in header_lines(&raw) {
        let name = line
            .split(':')
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        assert!(
            !["bcc", "x-injected", "x-lf", "x-cr"].contains(&name.as_str()),
            "injected header line {line:?} in\n{raw}"
        );
    }
    let parsed = MessageParser::default().parse(raw.as_bytes()).unwrap();
    assert!(parsed.header("X-Injected").is_none());
    assert!(parsed.bcc().is_none());
    assert_eq!(
        parsed.to().unwrap().first().unwrap().address(),
        Some("ada@uni.example")
    );
}

#[test]
fn a_language_that_is_not_a_tag_is_left_out() {
    let raw = formatted(&mail("S", "T", "en\r\nX-Evil: 1"));
    assert!(!raw.contains("X-Evil"), "{raw}");
    assert!(!raw.contains("Content-Language"), "{raw}");
}

#[test]
fn the_message_has_date_message_id_language_and_both_parts() {
    let raw = formatted(&mail(
        "Bestätigen Sie Ihre Registrierung",
        "Hallo <b>Jörg</b>,\n\nhttps://signup.example/verify/abc\n",
        "de",
    ));
    let parsed = MessageParser::default().parse(raw.as_bytes()).unwrap();
    assert_eq!(parsed.subject(), Some("Bestätigen Sie Ihre Registrierung"));
    assert_eq!(
        parsed.date().map(|d| d.to_timestamp()),
        Some(1_800_000_000),
        "{raw}"
    );
    let id = parsed.message_id().unwrap();
    let (unique, domain) = id.split_once('@').unwrap();
    assert_eq!(domain, "uni.example");
    assert_eq!(unique.len(), 32);
    assert_eq!(
        parsed.header_raw("Content-Language").map(str::trim),
        Some("de")
    );
    let from = parsed.from().unwrap().first().unwrap();
    assert_eq!(from.address(), Some("accounts@uni.example"));
    assert_eq!(from.name(), Some("Accounts"));
    assert_eq!(
        parsed.reply_to().unwrap().first().unwrap().address(),
        Some("it-support@uni.example")
    );
    let mut text = None;
    let mut html = None;
    for part in &parsed.parts {
        match &part.body {
            PartType::Text(t) => text = Some(t.to_string()),
            PartType::Html(h) => html = Some(h.to_string()),
            _ => {}
        }
    }
    let text = text.expect("a text part");
    let html = html.expect("an HTML part");
    assert!(text.starts_with("Hallo <b>Jörg</b>,"), "{text}");
    assert!(html.contains("Hallo &lt;b&gt;Jörg&lt;/b&gt;,"), "{html}");
    assert!(html.contains(r#"<a href="https://signup.example/verify/abc">"#));
}

#[test]
fn every_message_gets_its_own_id() {
    let first = build(&envelope(), &mail("S", "T", "en"), SystemTime::now()).unwrap();
    let second = build(&envelope(), &mail("S", "T", "en"), SystemTime::now()).unwrap();
    let id = |m: &Message| {
        m.headers()
            .get_raw("Message-ID")
            .map(str::to_owned)
            .unwrap()
    };
    assert_ne!(id(&first), id(&second));
}
