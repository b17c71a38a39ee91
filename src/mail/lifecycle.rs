//! The mails of an account's later life (PRODUCT.md §9.4): the question whether the mailbox
//! is still the person's, the warning before an end, and the notice that the account has
//! been ended. Like every mail, all text comes from the catalogues; dates are written as
//! `YYYY-MM-DD`, which reads the same in every language.

use super::OutgoingMail;
use super::messages::{mail, push_support};
use crate::domain::EmailAddress;
use crate::i18n::Tr;

/// Why an account was ended, as the notice says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndedBecause {
    /// Its time was up (its lifetime, or its voucher's end date).
    TimeUp,
    /// Nobody answered the re-verification mail in time.
    NoAnswer,
}

/// Asks whether the mailbox is still the person's: the link leads to a page with the
/// account and a button that keeps it. Opening the link changes nothing.
pub fn reverify_mail(
    tr: &Tr,
    to: &EmailAddress,
    upn: &str,
    link: &str,
    answer_by: &str,
    support: &str,
) -> OutgoingMail {
    let mut text = tr.t("Hello,").to_owned();
    text.push_str("\n\n");
    text.push_str(&tr.tf(
        "your account {upn} was created for this e-mail address. Please confirm that the address is still yours: open this link and press the button on the page.",
        &[("upn", upn)],
    ));
    text.push_str(&format!("\n\n{link}\n\n"));
    text.push_str(&tr.tf(
        "If nobody confirms by {date}, the account will be disabled and later deleted. Opening the link alone changes nothing.",
        &[("date", answer_by)],
    ));
    push_support(&mut text, tr, support);
    mail(tr, to, tr.t("Is this still your account?"), text, false)
}

/// The account ends on `ends_on` and nothing the person does can prevent that; only
/// support can extend it.
pub fn ending_soon_mail(
    tr: &Tr,
    to: &EmailAddress,
    upn: &str,
    ends_on: &str,
    support: &str,
) -> OutgoingMail {
    let mut text = tr.t("Hello,").to_owned();
    text.push_str("\n\n");
    text.push_str(&tr.tf(
        "your account {upn} ends on {date}. Then you can no longer sign in, and its files and mails will be deleted later. Please save what you want to keep before that day.",
        &[("upn", upn), ("date", ends_on)],
    ));
    text.push_str("\n\n");
    text.push_str(
        tr.t("If you still need the account after that day, please ask support in good time."),
    );
    push_support(&mut text, tr, support);
    mail(tr, to, tr.t("Your account ends soon"), text, false)
}

/// The account was disabled and its licences removed; it is deleted on `deleted_on`, and
/// Microsoft keeps deleted accounts restorable for 30 days more.
pub fn account_ended_mail(
    tr: &Tr,
    to: &EmailAddress,
    upn: &str,
    because: EndedBecause,
    deleted_on: &str,
    support: &str,
) -> OutgoingMail {
    let mut text = tr.t("Hello,").to_owned();
    text.push_str("\n\n");
    let why = match because {
        EndedBecause::TimeUp => tr.tf(
            "your account {upn} has reached its end and has been disabled: you can no longer sign in with it.",
            &[("upn", upn)],
        ),
        EndedBecause::NoAnswer => tr.tf(
            "your account {upn} has been disabled, because nobody confirmed in time that this e-mail address is still yours: you can no longer sign in with it.",
            &[("upn", upn)],
        ),
    };
    text.push_str(&why);
    text.push_str("\n\n");
    text.push_str(&tr.tf(
        "The account will be deleted on {date}. Until then support can bring it back; after that Microsoft keeps deleted accounts for another 30 days, during which they can still be restored.",
        &[("date", deleted_on)],
    ));
    text.push_str("\n\n");
    text.push_str(tr.t("If this is a mistake, please contact support."));
    push_support(&mut text, tr, support);
    mail(tr, to, tr.t("Your account has been disabled"), text, false)
}
