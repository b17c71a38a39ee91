//! The mails' texts, all from the catalogues. Values are inserted into plain text only, and
//! lettre encodes headers, so a name cannot add headers or markup.

use super::OutgoingMail;
use crate::domain::{EmailAddress, Mailbox};
use crate::i18n::{Tr, n_};

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
    mail(tr, to.address(), tr.t("Confirm your sign-up"), text, false)
}

/// The mail with the temporary password. `reset_page` is where a lost one is replaced
/// (`PASSWORD_RESET_ENABLED`).
#[allow(clippy::too_many_arguments)]
pub fn password_mail(
    tr: &Tr,
    to: &Mailbox,
    first_name: &str,
    upn: &str,
    password: &str,
    support: &str,
    sign_in_url: &str,
    reset_page: Option<&str>,
) -> OutgoingMail {
    let mut text = tr.tf("Hello {name},", &[("name", first_name)]);
    text.push_str("\n\n");
    text.push_str(tr.t("your account has been created. Your username is:"));
    push_credentials(&mut text, tr, upn, password, sign_in_url);
    push_reset_page(&mut text, tr, reset_page);
    push_support(&mut text, tr, support);
    mail(tr, to.address(), tr.t("Your new account"), text, true)
}

/// The mail with a password reset link, to the mailbox of an account this server created;
/// `pass`: people get a Temporary Access Pass instead of a password, and the mail says so.
pub fn password_reset_link_mail(
    tr: &Tr,
    to: &Mailbox,
    link: &str,
    support: &str,
    valid_minutes: u64,
    pass: bool,
) -> OutgoingMail {
    if pass {
        return pass_reset_link_mail(tr, to, link, support, valid_minutes);
    }
    let mut text = tr.t("Hello,").to_owned();
    text.push_str("\n\n");
    text.push_str(&tr.tf(
        "someone, probably you, asked for a new temporary password for the account of {email}. To get one, open this link:",
        &[("email", to.as_str())],
    ));
    text.push_str(&format!("\n\n{link}\n\n"));
    // Translators: {count} is the number of minutes the link stays valid.
    text.push_str(&tr.nf("The link is valid for {count} minute and works once. Opening it changes nothing; your password is only replaced when you press the button on that page.", "The link is valid for {count} minutes and works once. Opening it changes nothing; your password is only replaced when you press the button on that page.", valid_minutes, &[]));
    text.push_str("\n\n");
    text.push_str(
        tr.t("If you did not ask for this, ignore this mail: your password stays as it is."),
    );
    push_support(&mut text, tr, support);
    mail(
        tr,
        to.address(),
        tr.t("A new temporary password"),
        text,
        false,
    )
}

/// The reset link's mail when people sign in first with a Temporary Access Pass
/// (`CREDENTIAL` = `temporary_access_pass`): the button makes a new pass, and no password
/// is touched.
fn pass_reset_link_mail(
    tr: &Tr,
    to: &Mailbox,
    link: &str,
    support: &str,
    valid_minutes: u64,
) -> OutgoingMail {
    let mut text = tr.t("Hello,").to_owned();
    text.push_str("\n\n");
    text.push_str(&tr.tf(
        "someone, probably you, asked for a new Temporary Access Pass for the account of {email}. To get one, open this link:",
        &[("email", to.as_str())],
    ));
    text.push_str(&format!("\n\n{link}\n\n"));
    // Translators: {count} is the number of minutes the link stays valid.
    text.push_str(&tr.nf("The link is valid for {count} minute and works once. Opening it changes nothing; a new pass is only made when you press the button on that page.", "The link is valid for {count} minutes and works once. Opening it changes nothing; a new pass is only made when you press the button on that page.", valid_minutes, &[]));
    text.push_str("\n\n");
    text.push_str(
        tr.t("If you did not ask for this, ignore this mail: nothing changes on your account."),
    );
    push_support(&mut text, tr, support);
    mail(
        tr,
        to.address(),
        tr.t("A new Temporary Access Pass"),
        text,
        false,
    )
}

/// The answer to a reset request for an address whose account this server did not create
/// (brought over from the original program): only the support desk can help. `pass`:
/// resets make Temporary Access Passes, so the mail speaks of a pass.
pub fn password_reset_support_mail(
    tr: &Tr,
    to: &Mailbox,
    support: &str,
    pass: bool,
) -> OutgoingMail {
    let (asked, desk, write, unchanged, subject) = match pass {
        true => (
            n_(
                "someone, probably you, asked for a new Temporary Access Pass for the account of {email}. This account was not created by this service, so no pass can be made for it here.",
            ),
            n_("Please contact your IT support desk for a new Temporary Access Pass."),
            n_("Please write to {support} for a new Temporary Access Pass."),
            n_("If you did not ask for this, ignore this mail: nothing changes on your account."),
            n_("A new Temporary Access Pass"),
        ),
        false => (
            n_(
                "someone, probably you, asked for a new temporary password for the account of {email}. This account was not created by this service, so its password cannot be replaced here.",
            ),
            n_("Please contact your IT support desk for a new password."),
            n_("Please write to {support} for a new password."),
            n_("If you did not ask for this, ignore this mail: your password stays as it is."),
            n_("A new temporary password"),
        ),
    };
    let mut text = tr.t("Hello,").to_owned();
    text.push_str("\n\n");
    text.push_str(&tr.tf(asked, &[("email", to.as_str())]));
    text.push_str("\n\n");
    if support.is_empty() {
        text.push_str(tr.t(desk));
    } else {
        text.push_str(&tr.tf(write, &[("support", support)]));
    }
    text.push_str("\n\n");
    text.push_str(tr.t(unchanged));
    text.push('\n');
    mail(tr, to.address(), tr.t(subject), text, false)
}

/// The answer to a reset request for an address whose sign-up was confirmed but whose
/// account was never finished (its creation failed, or it still waits in the queue): there
/// is no password (`pass`: no Temporary Access Pass) to replace yet, so the link leads to the
/// sign-up, to finish it.
pub fn password_reset_unfinished_mail(
    tr: &Tr,
    to: &Mailbox,
    link: &str,
    support: &str,
    valid_hours: u64,
    pass: bool,
) -> OutgoingMail {
    let asked = match pass {
        true => n_(
            "someone, probably you, asked for a new Temporary Access Pass for the account of {email}. The sign-up for this address was confirmed, but its account has not been finished yet, so it has no pass to replace.",
        ),
        false => n_(
            "someone, probably you, asked for a new temporary password for the account of {email}. The sign-up for this address was confirmed, but its account has not been finished yet, so there is no password to replace.",
        ),
    };
    let mut text = tr.t("Hello,").to_owned();
    text.push_str("\n\n");
    text.push_str(&tr.tf(asked, &[("email", to.as_str())]));
    text.push_str("\n\n");
    text.push_str(tr.t("To finish the sign-up, or to see how far it has got, open this link:"));
    text.push_str(&format!("\n\n{link}\n\n"));
    // Translators: {count} is the number of hours the link stays valid.
    text.push_str(&tr.nf("The link is valid for {count} hour. Opening it changes nothing; the sign-up only goes on when you press the button on that page.", "The link is valid for {count} hours. Opening it changes nothing; the sign-up only goes on when you press the button on that page.", valid_hours, &[]));
    text.push_str("\n\n");
    text.push_str(tr.t("If you did not ask for this, ignore this mail: nothing will happen."));
    push_support(&mut text, tr, support);
    mail(
        tr,
        to.address(),
        tr.t("Your sign-up is not finished yet"),
        text,
        false,
    )
}

/// The mail with a new temporary password, after a reset.
pub fn new_password_mail(
    tr: &Tr,
    to: &Mailbox,
    upn: &str,
    password: &str,
    support: &str,
    sign_in_url: &str,
    reset_page: Option<&str>,
) -> OutgoingMail {
    let mut text = tr.t("Hello,").to_owned();
    text.push_str("\n\n");
    text.push_str(tr.t("your account has a new temporary password. Your username is:"));
    push_credentials(&mut text, tr, upn, password, sign_in_url);
    text.push_str("\n\n");
    text.push_str(tr.t("If you did not ask for this, contact support at once: someone with access to your mailbox asked for it."));
    push_reset_page(&mut text, tr, reset_page);
    push_support(&mut text, tr, support);
    mail(
        tr,
        to.address(),
        tr.t("Your new temporary password"),
        text,
        true,
    )
}

/// The username and the password, each on an indented line of its own (people copy them;
/// tests find them there), and where to sign in.
fn push_credentials(text: &mut String, tr: &Tr, upn: &str, password: &str, sign_in_url: &str) {
    text.push_str(&format!("\n\n    {upn}\n\n"));
    text.push_str(tr.t("Your temporary password is:"));
    text.push_str(&format!("\n\n    {password}\n\n"));
    text.push_str(&tr.tf(
        "Sign in at {url} with your username and this temporary password. You must then choose a new password of your own.",
        &[("url", sign_in_url)],
    ));
}

fn push_reset_page(text: &mut String, tr: &Tr, reset_page: Option<&str>) {
    if let Some(page) = reset_page {
        text.push_str("\n\n");
        text.push_str(&tr.tf(
            "If you lose this password before you have changed it, you can get a new one at {url}.",
            &[("url", page)],
        ));
    }
}

/// A queued account is ready and its password is shown on the page: the link leads there.
/// (When the password goes by mail, that mail is the one that says the account is ready.)
/// `pass`: the page shows a Temporary Access Pass rather than a password.
pub fn account_ready_mail(
    tr: &Tr,
    to: &Mailbox,
    first_name: &str,
    upn: &str,
    link: &str,
    support: &str,
    pass: bool,
) -> OutgoingMail {
    let mut text = tr.tf("Hello {name},", &[("name", first_name)]);
    text.push_str("\n\n");
    text.push_str(tr.t("your account has been created. Your username is:"));
    text.push_str(&format!("\n\n    {upn}\n\n"));
    text.push_str(match pass {
        true => tr.t("Open this link and press the button to get your Temporary Access Pass, with which you sign in the first time. It is shown only once."),
        false => tr.t("Open this link and press the button to see your temporary password. It is shown only once."),
    });
    text.push_str(&format!("\n\n{link}\n"));
    push_support(&mut text, tr, support);
    mail(
        tr,
        to.address(),
        tr.t("Your new account is ready"),
        text,
        false,
    )
}

/// A queued account could not be created, and waiting will not change that (a licence is
/// missing, say): the person is told whom to ask.
pub fn account_failed_mail(tr: &Tr, to: &Mailbox, first_name: &str, support: &str) -> OutgoingMail {
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
    mail(
        tr,
        to.address(),
        tr.t("Your account could not be created"),
        text,
        false,
    )
}

/// A queued confirm found that the mailbox has its account already (its tag is on a user in
/// the directory) and nobody saw the page saying so: the username, and where a lost
/// password (`pass`: a new Temporary Access Pass) is had (`reset_page`, when resets are on)
/// or whom to ask.
pub fn account_exists_mail(
    tr: &Tr,
    to: &Mailbox,
    first_name: &str,
    (upn, reset_page): (&str, Option<&str>),
    support: &str,
    pass: bool,
) -> OutgoingMail {
    let mut text = tr.tf("Hello {name},", &[("name", first_name)]);
    text.push_str("\n\n");
    text.push_str(tr.t(
        "this e-mail address already has an account, so no second one was created. Its username is:",
    ));
    text.push_str(&format!("\n\n    {upn}\n\n"));
    let (reset, ask) = match pass {
        true => (
            n_(
                "If you can no longer sign in with it, you can get a new Temporary Access Pass at {url}.",
            ),
            n_("If you can no longer sign in with it, please contact support."),
        ),
        false => (
            n_(
                "If you no longer have its password, you can get a new temporary password at {url}.",
            ),
            n_("If you no longer have its password, please contact support."),
        ),
    };
    match reset_page {
        Some(page) => text.push_str(&tr.tf(reset, &[("url", page)])),
        None => text.push_str(tr.t(ask)),
    }
    push_support(&mut text, tr, support);
    mail(
        tr,
        to.address(),
        tr.t("This address already has an account"),
        text,
        false,
    )
}

pub(super) fn push_support(text: &mut String, tr: &Tr, support: &str) {
    if !support.is_empty() {
        text.push_str("\n\n");
        text.push_str(&tr.tf("Questions? Write to {support}.", &[("support", support)]));
    }
    text.push('\n');
}

/// A mail in `tr`'s language; `carries_secret` when the text holds a password.
pub(super) fn mail(
    tr: &Tr,
    to: &EmailAddress,
    subject: &str,
    text: String,
    carries_secret: bool,
) -> OutgoingMail {
    OutgoingMail {
        to: to.clone(),
        subject: subject.to_owned(),
        text,
        lang: tr.lang().to_owned(),
        carries_secret,
    }
}
