//! The mails' texts, all from the catalogues. Values are inserted into plain text only, and
//! lettre encodes headers, so a name cannot add headers or markup.

use super::OutgoingMail;
use crate::domain::{EmailAddress, Mailbox};
use crate::i18n::Tr;

/// The double opt-in mail with the verification link, to the mailbox whose key it proves.
/// It holds nothing the submitter typed (anyone may submit any address): the greeting names
/// no one, and the name shows on the page behind the link.
pub fn verification_mail(
    tr: &Tr,
    to: &Mailbox,
    link: &str,
    support: &str,
    valid_hours: u64,
) -> OutgoingMail {
    let mut text = tr.t("Hello,").to_owned();
    text.push_str("\n\n");
    text.push_str(&tr.tf(
        "please confirm that you want an account for {email} by opening this link:",
        &[("email", to.as_str())],
    ));
    text.push_str(&format!("\n\n{link}\n\n"));
    // Translators: {count} is the number of hours the link stays valid.
    text.push_str(&tr.nf("The link is valid for {count} hour. Opening it shows who will be created; the account is only created when you press the button on that page.", "The link is valid for {count} hours. Opening it shows who will be created; the account is only created when you press the button on that page.", valid_hours, &[]));
    text.push_str("\n\n");
    text.push_str(tr.t("If you did not ask for this, ignore this mail: nothing will happen."));
    push_support(&mut text, tr, support);
    OutgoingMail {
        to: to.address().clone(),
        subject: tr.t("Confirm your sign-up").to_owned(),
        text,
        lang: tr.lang().to_owned(),
        carries_secret: false,
    }
}

/// The mail with the temporary password.
pub fn password_mail(
    tr: &Tr,
    to: &EmailAddress,
    first_name: &str,
    upn: &str,
    password: &str,
    support: &str,
    sign_in_url: &str,
) -> OutgoingMail {
    let mut text = tr.tf("Hello {name},", &[("name", first_name)]);
    text.push_str("\n\n");
    text.push_str(tr.t("your account has been created. Your username is:"));
    text.push_str(&format!("\n\n    {upn}\n\n"));
    text.push_str(tr.t("Your temporary password is:"));
    text.push_str(&format!("\n\n    {password}\n\n"));
    text.push_str(&tr.tf(
        "Sign in at {url} with your username and this temporary password. You must then choose a new password of your own.",
        &[("url", sign_in_url)],
    ));
    push_support(&mut text, tr, support);
    OutgoingMail {
        to: to.clone(),
        subject: tr.t("Your new account").to_owned(),
        text,
        lang: tr.lang().to_owned(),
        carries_secret: true,
    }
}

/// A queued account is ready and its password is shown on the page: the link leads there.
/// (When the password goes by mail, that mail is the one that says the account is ready.)
pub fn account_ready_mail(
    tr: &Tr,
    to: &EmailAddress,
    first_name: &str,
    upn: &str,
    link: &str,
    support: &str,
) -> OutgoingMail {
    let mut text = tr.tf("Hello {name},", &[("name", first_name)]);
    text.push_str("\n\n");
    text.push_str(tr.t("your account has been created. Your username is:"));
    text.push_str(&format!("\n\n    {upn}\n\n"));
    text.push_str(tr.t(
        "Open this link and press the button to see your temporary password. It is shown only once.",
    ));
    text.push_str(&format!("\n\n{link}\n"));
    push_support(&mut text, tr, support);
    OutgoingMail {
        to: to.clone(),
        subject: tr.t("Your new account is ready").to_owned(),
        text,
        lang: tr.lang().to_owned(),
        carries_secret: false,
    }
}

/// A queued account could not be created, and waiting will not change that (a licence is
/// missing, say): the person is told whom to ask.
pub fn account_failed_mail(
    tr: &Tr,
    to: &EmailAddress,
    first_name: &str,
    support: &str,
) -> OutgoingMail {
    let mut text = tr.tf("Hello {name},", &[("name", first_name)]);
    text.push_str("\n\n");
    text.push_str(tr.t(
        "unfortunately your account could not be created. Your sign-up is kept, and nothing needs to be done on your part until support has had a look.",
    ));
    if support.is_empty() {
        text.push('\n');
    } else {
        text.push_str("\n\n");
        text.push_str(&tr.tf(
            "Please write to {support} and mention the address this mail was sent to.",
            &[("support", support)],
        ));
        text.push('\n');
    }
    OutgoingMail {
        to: to.clone(),
        subject: tr.t("Your account could not be created").to_owned(),
        text,
        lang: tr.lang().to_owned(),
        carries_secret: false,
    }
}

fn push_support(text: &mut String, tr: &Tr, support: &str) {
    if !support.is_empty() {
        text.push_str("\n\n");
        text.push_str(&tr.tf("Questions? Write to {support}.", &[("support", support)]));
    }
    text.push('\n');
}
