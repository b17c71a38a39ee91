//! The mails with a Temporary Access Pass (`CREDENTIAL` = `temporary_access_pass`): the new
//! account's and a reset's. Each says when the pass stops working and explains the first
//! sign-in in three short steps, as the result page does.

use super::OutgoingMail;
use super::messages::{mail, push_support};
use crate::domain::{Mailbox, SECURITY_INFO_URL};
use crate::i18n::Tr;

/// What a pass mail tells besides its greeting.
#[derive(Debug, Clone, Copy)]
pub struct PassLetter<'a> {
    /// The username (user principal name).
    pub upn: &'a str,
    /// The pass itself.
    pub pass: &'a str,
    /// When it stops working (Unix seconds).
    pub expires_at: u64,
    /// Whether it works for one sign-in only.
    pub usable_once: bool,
    /// Where people sign in (`SIGN_IN_URL`).
    pub sign_in_url: &'a str,
    /// The support address (`SUPPORT_EMAIL`), empty for none.
    pub support: &'a str,
}

/// The mail with a new account's Temporary Access Pass.
pub fn pass_mail(tr: &Tr, to: &Mailbox, first_name: &str, letter: &PassLetter<'_>) -> OutgoingMail {
    let mut text = tr.tf("Hello {name},", &[("name", first_name)]);
    text.push_str("\n\n");
    text.push_str(tr.t("your account has been created. Your username is:"));
    push_pass(&mut text, tr, letter);
    push_support(&mut text, tr, letter.support);
    mail(tr, to.address(), tr.t("Your new account"), text, true)
}

/// The mail with a new Temporary Access Pass, after a reset.
pub fn new_pass_mail(tr: &Tr, to: &Mailbox, letter: &PassLetter<'_>) -> OutgoingMail {
    let mut text = tr.t("Hello,").to_owned();
    text.push_str("\n\n");
    text.push_str(tr.t("your account has a new Temporary Access Pass. Your username is:"));
    push_pass(&mut text, tr, letter);
    text.push_str("\n\n");
    text.push_str(tr.t("If you did not ask for this, contact support at once: someone with access to your mailbox asked for it."));
    push_support(&mut text, tr, letter.support);
    mail(
        tr,
        to.address(),
        tr.t("Your new Temporary Access Pass"),
        text,
        true,
    )
}

/// The username and the pass, each on an indented line of its own (people copy them; tests
/// find them there), when the pass stops working, and the first sign-in in three steps.
fn push_pass(text: &mut String, tr: &Tr, letter: &PassLetter<'_>) {
    text.push_str(&format!("\n\n    {}\n\n", letter.upn));
    text.push_str(tr.t("Your Temporary Access Pass is:"));
    text.push_str(&format!("\n\n    {}\n\n", letter.pass));
    let until = tr.utc_time(letter.expires_at);
    if letter.usable_once {
        // Translators: {time} is a date and time, e.g. 2026-12-10 14:00 UTC.
        text.push_str(&tr.tf(
            "The pass works until {time}, for one sign-in only.",
            &[("time", &until)],
        ));
    } else {
        // Translators: {time} is a date and time, e.g. 2026-12-10 14:00 UTC.
        text.push_str(&tr.tf("The pass works until {time}.", &[("time", &until)]));
    }
    text.push_str("\n\n");
    text.push_str(tr.t("Your first sign-in"));
    text.push_str(":\n1. ");
    text.push_str(&tr.tf(
        "Open {host} and enter your username.",
        &[("host", letter.sign_in_url)],
    ));
    text.push_str("\n2. ");
    text.push_str(tr.t("When you are asked for your Temporary Access Pass, enter the pass."));
    text.push_str("\n3. ");
    text.push_str(tr.t("Set up how you will sign in from now on, for example with the Microsoft Authenticator app or a passkey, before the pass expires:"));
    text.push(' ');
    text.push_str(SECURITY_INFO_URL);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::SubaddressSeparator;
    use crate::i18n::Catalogs;

    const PASS: &str = "Kx4pQ7mZ";

    fn letter(usable_once: bool) -> PassLetter<'static> {
        PassLetter {
            upn: "ada.lovelace@uni.example",
            pass: PASS,
            // 2026-12-10T09:05:00Z
            expires_at: 1_796_893_500,
            usable_once,
            sign_in_url: "https://www.office.com",
            support: "it@uni.example",
        }
    }

    /// The indented lines: what people copy.
    fn indented(text: &str) -> Vec<&str> {
        text.lines()
            .filter_map(|line| line.strip_prefix("    "))
            .collect()
    }

    #[test]
    fn the_pass_mail_has_the_username_the_pass_its_end_and_three_steps_in_both_languages() {
        let catalogs = Catalogs::load(None, "en").unwrap();
        let to = Mailbox::parse("ada@uni.example", SubaddressSeparator::OFF).unwrap();
        for (lang, until, step) in [
            ("en", "2026-12-10 09:05 UTC", "Temporary Access Pass"),
            ("de", "10.12.2026, 09:05 UTC", "befristeten Zugriffspass"),
        ] {
            let tr = &catalogs.get(lang).unwrap();
            let mail = pass_mail(tr, &to, "Ada", &letter(true));
            assert!(mail.carries_secret);
            assert_eq!(mail.lang, lang);
            assert_eq!(
                indented(&mail.text),
                ["ada.lovelace@uni.example", PASS],
                "{lang}: {}",
                mail.text
            );
            assert!(mail.text.contains(until), "{lang}: {}", mail.text);
            for n in ["\n1. ", "\n2. ", "\n3. "] {
                assert!(mail.text.contains(n), "{lang}: step {n:?}: {}", mail.text);
            }
            assert!(mail.text.contains(step), "{lang}: {}", mail.text);
            assert!(mail.text.contains(SECURITY_INFO_URL));
            assert!(mail.text.contains("https://www.office.com"));
            assert!(
                !mail.text.to_lowercase().contains("password"),
                "{lang}: {}",
                mail.text
            );
        }
    }

    #[test]
    fn a_pass_for_several_sign_ins_does_not_say_once() {
        let catalogs = Catalogs::load(None, "en").unwrap();
        let tr = &catalogs.get("en").unwrap();
        let to = Mailbox::parse("ada@uni.example", SubaddressSeparator::OFF).unwrap();
        let once = pass_mail(tr, &to, "Ada", &letter(true)).text;
        let many = pass_mail(tr, &to, "Ada", &letter(false)).text;
        assert!(once.contains("one sign-in only"), "{once}");
        assert!(!many.contains("one sign-in only"), "{many}");
    }

    #[test]
    fn the_reset_mail_has_the_new_pass_and_the_warning() {
        let catalogs = Catalogs::load(None, "en").unwrap();
        let to = Mailbox::parse("ada@uni.example", SubaddressSeparator::OFF).unwrap();
        for lang in ["en", "de"] {
            let tr = &catalogs.get(lang).unwrap();
            let mail = new_pass_mail(tr, &to, &letter(true));
            assert!(mail.carries_secret);
            assert_eq!(indented(&mail.text), ["ada.lovelace@uni.example", PASS]);
            assert_ne!(
                mail.subject,
                pass_mail(tr, &to, "Ada", &letter(true)).subject
            );
        }
    }
}
