//! The sign-up page: introduction and the form in three steps. Without JavaScript all steps
//! show at once; with it, CSS opens each step when the previous one is done.

use maud::{Markup, html};

use crate::domain::VoucherMode;
use crate::i18n::Tr;
use crate::signup::form::{Field, FieldError, FieldErrors, SignupForm};
use crate::web::paths::Links;

/// What the form shows: entered values, errors, and whether the address passed the check.
pub struct FormView<'a> {
    pub values: &'a SignupForm,
    pub errors: &'a FieldErrors,
    pub email_ok: bool,
    /// A problem not tied to one field (mail could not be sent, form unreadable).
    pub general_error: Option<String>,
    pub pattern: Option<&'a str>,
    /// `VOUCHERS`: whether the form has a voucher field, and whether it must be filled.
    pub vouchers: VoucherMode,
    /// The voucher entered admits the person (a voucher's link, a form sent back).
    pub voucher_ok: bool,
}

/// The introduction above the form; `reset_page` links to the password reset when it is
/// enabled; `pass`: people get a Temporary Access Pass rather than a temporary password.
pub fn intro(tr: &Tr, support_email: &str, reset_page: Option<&str>, pass: bool) -> Markup {
    html! {
        h1 { (tr.t("Get your Microsoft 365 account")) }
        p.lead { (tr.t("Students and staff of our institution can create a Microsoft 365 account here, with Teams, Outlook and the Office apps.")) }
        @if pass {
            p { (tr.t("You need your institutional e-mail address: we send a confirmation link to it. After you confirm, your account is created and you receive a Temporary Access Pass for your first sign-in.")) }
        } @else {
            p { (tr.t("You need your institutional e-mail address: we send a confirmation link to it. After you confirm, your account is created and you receive a temporary password.")) }
        }
        @if let Some(page) = reset_page {
            @if pass {
                p.reset-link { a href=(page) { (tr.t("Lost your Temporary Access Pass? Get a new one.")) } }
            } @else {
                p.reset-link { a href=(page) { (tr.t("Lost your temporary password? Get a new one.")) } }
            }
        }
        @if !support_email.is_empty() {
            p.support {
                (tr.t("Questions or problems? Write to")) " "
                a href={ "mailto:" (support_email) } { (support_email) } "."
            }
        }
    }
}

fn error_id(field: Field) -> &'static str {
    match field {
        Field::Voucher => "voucher-error",
        Field::Email => "email-error",
        Field::ConsentEmail => "consent_email-error",
        Field::ConsentName => "consent_name-error",
        Field::FirstName => "first_name-error",
        Field::LastName => "last_name-error",
    }
}

fn field_error(tr: &Tr, errors: &FieldErrors, field: Field) -> Markup {
    html! {
        @if let Some(error) = errors.get(field) {
            p.field-error id=(error_id(field)) { (tr.t(error.msgid(field))) }
        }
    }
}

fn described_by(errors: &FieldErrors, field: Field, hint: Option<&str>) -> Option<String> {
    let ids: Vec<&str> = hint
        .into_iter()
        .chain(errors.get(field).map(|_| error_id(field)))
        .collect();
    (!ids.is_empty()).then(|| ids.join(" "))
}

/// The result of the inline address check, swapped in under the input (inside a live region
/// that stays, so that screen readers announce the new result).
pub fn email_status(tr: &Tr, error: Option<FieldError>, ok: bool) -> Markup {
    match error {
        Some(error) => email_status_message(tr.t(error.msgid(Field::Email))),
        None => html! {
            div #email-status .field-status {
                @if ok {
                    p.field-ok data-email-ok { (tr.t("This address can be used.")) }
                }
            }
        },
    }
}

/// The result of the inline voucher check, swapped in under its input. A voucher that
/// admits the person says only that; never how many uses it has left.
pub fn voucher_status(tr: &Tr, error: Option<FieldError>, ok: bool) -> Markup {
    html! {
        div #voucher-status .field-status {
            @if let Some(error) = error {
                p.field-error id=(error_id(Field::Voucher)) { (tr.t(error.msgid(Field::Voucher))) }
            } @else if ok {
                p.field-ok data-voucher-ok { (tr.t("This voucher can be used.")) }
            }
        }
    }
}

/// The status line with a translated problem, in the place of the address's error.
pub fn email_status_message(message: &str) -> Markup {
    html! {
        div #email-status .field-status {
            p.field-error id=(error_id(Field::Email)) { (message) }
        }
    }
}

/// The form with values and errors: the whole page's body without JavaScript, the swapped
/// fragment with HTMX. Three steps, each its own fieldset.
pub fn form(tr: &Tr, links: &Links, view: &FormView<'_>) -> Markup {
    let steps = Steps { tr, view };
    html! {
        form #signup .signup method="post" action=(links.signup()) data-hx-post=(links.signup()) data-hx-target="this" data-hx-swap="outerHTML" {
            input type="hidden" name="lang" value=(tr.lang());
            (steps.alert())
            @if view.vouchers.is_on() {
                (steps.voucher(links))
            }
            (steps.email(links))
            (steps.consent())
            (steps.name())
        }
    }
}

/// What every step of the form needs.
struct Steps<'a> {
    tr: &'a Tr,
    view: &'a FormView<'a>,
}

impl Steps<'_> {
    /// Focus lands on the first field to correct (page load or HTMX swap alike); a problem
    /// with no field takes the focus itself (see [`Steps::alert`]).
    fn focus(&self, field: Field) -> bool {
        self.view.errors.iter().next().map(|(first, _)| first) == Some(field)
    }

    fn invalid(&self, field: Field) -> Option<&'static str> {
        self.view.errors.get(field).map(|_| "true")
    }

    /// The summary above the steps, announced when there is anything to correct.
    fn alert(&self) -> Markup {
        let (tr, view) = (self.tr, self.view);
        let no_field = view.errors.is_empty();
        html! {
            @if !view.errors.is_empty() || view.general_error.is_some() {
                div.form-alert role="alert" tabindex=[no_field.then_some("-1")]
                    autofocus[no_field] {
                    @if let Some(message) = &view.general_error {
                        p { (message) }
                    } @else {
                        p { (tr.t("Please correct the marked fields.")) }
                    }
                }
            }
        }
    }

    fn email(&self, links: &Links) -> Markup {
        let (tr, view) = (self.tr, self.view);
        let expected = view.pattern.map(|_| {
            // Translators: shown by the browser, without JavaScript, under "Please match the
            // requested format." when the address does not fit EMAIL_ADDRESS_FILTER; a
            // deployment may name its form here, e.g. "st123456@stud.example.edu".
            tr.t("Enter the e-mail address your institution gave you.")
        });
        html! {
            fieldset.step.step-email {
                legend { span.step-number { "1" } " " (tr.t("Your e-mail address")) }
                label for="email" { (tr.t("Institutional e-mail address")) }
                input #email type="email" name="email" value=(view.values.email) autocomplete="email" required
                    maxlength="190" pattern=[view.pattern] title=[expected] spellcheck="false" autocapitalize="off"
                    autofocus[self.focus(Field::Email)]
                    aria-invalid=[self.invalid(Field::Email)]
                    // Only elements present; the inline check's error is added by app.js.
                    aria-describedby=(described_by(view.errors, Field::Email, Some("email-hint")).unwrap_or_default())
                    // Checks queue rather than replace one another: htmx reports an aborted
                    // request as a console error.
                    data-hx-post=(links.check_email()) data-hx-trigger="change, keyup changed delay:600ms"
                    data-hx-target="#email-status" data-hx-swap="outerHTML" data-hx-sync="this:queue last";
                p #email-hint .hint { (tr.t("We send a confirmation link to this address.")) }
                div.field-status-live aria-live="polite" {
                    (email_status(tr, view.errors.get(Field::Email), view.email_ok))
                }
                // With JavaScript only (CSS), until the address passes: something to press,
                // and a place in the page for the focus when Tab leaves the address field.
                div.step-next {
                    button #email-next .button type="button" data-hx-post=(links.check_email())
                        data-hx-target="#email-status" data-hx-swap="outerHTML" data-hx-sync="#email:queue last" {
                        (tr.t("Check address and continue"))
                    }
                }
            }
        }
    }

    /// The voucher, before the address: its filter may decide which addresses are allowed.
    fn voucher(&self, links: &Links) -> Markup {
        let (tr, view) = (self.tr, self.view);
        let required = view.vouchers == VoucherMode::Required;
        let hint = if required {
            tr.t("Sign-up here needs a voucher code, such as 7KQ4-MX2C-9HPR-TWZE, from whoever invited you.")
        } else {
            tr.t("If you were given a voucher code, enter it here. Without one, the usual conditions apply.")
        };
        html! {
            fieldset.step.step-voucher {
                legend { (tr.t("Your voucher")) }
                label for="voucher" { (tr.t("Voucher code")) }
                input #voucher type="text" name="voucher" value=(view.values.voucher) required[required]
                    maxlength="64" autocomplete="off" spellcheck="false" autocapitalize="characters"
                    autofocus[self.focus(Field::Voucher)]
                    aria-invalid=[self.invalid(Field::Voucher)]
                    aria-describedby=(described_by(view.errors, Field::Voucher, Some("voucher-hint")).unwrap_or_default())
                    data-hx-post=(links.check_voucher()) data-hx-trigger="change"
                    data-hx-target="#voucher-status" data-hx-swap="outerHTML" data-hx-sync="this:queue last";
                p #voucher-hint .hint { (hint) }
                div.field-status-live aria-live="polite" {
                    (voucher_status(tr, view.errors.get(Field::Voucher), view.voucher_ok))
                }
            }
        }
    }

    fn consent(&self) -> Markup {
        let tr = self.tr;
        html! {
            fieldset.step.step-consent {
                legend { span.step-number { "2" } " " (tr.t("Your consent")) }
                (self.checkbox(Field::ConsentEmail, "consent_email", tr.t("I agree that my e-mail address is stored so that only one account is created for it.")))
                (self.checkbox(Field::ConsentName, "consent_name", tr.t("I agree that my name is sent to Microsoft to create the account.")))
            }
        }
    }

    fn checkbox(&self, field: Field, name: &str, label: &str) -> Markup {
        let values = self.view.values;
        let value = match field {
            Field::ConsentEmail => &values.consent_email,
            _ => &values.consent_name,
        };
        let checked = value.as_deref().is_some_and(|v| !v.is_empty());
        html! {
            div.check {
                input #(name) type="checkbox" name=(name) value="yes" required
                    checked[checked] autofocus[self.focus(field)]
                    aria-invalid=[self.invalid(field)]
                    aria-describedby=[described_by(self.view.errors, field, None)];
                label for=(name) { (label) }
            }
            (field_error(self.tr, self.view.errors, field))
        }
    }

    fn name(&self) -> Markup {
        let (tr, view) = (self.tr, self.view);
        html! {
            fieldset.step.step-name {
                legend { span.step-number { "3" } " " (tr.t("Your name")) }
                p #name-hint .hint { (tr.t("Your username is made from your name, for example ada.lovelace.")) }
                div.field {
                    label for="first_name" { (tr.t("First name")) }
                    input #first_name type="text" name="first_name" value=(view.values.first_name) autocomplete="given-name"
                        required maxlength="64" autofocus[self.focus(Field::FirstName)]
                        aria-invalid=[self.invalid(Field::FirstName)]
                        aria-describedby=(described_by(view.errors, Field::FirstName, Some("name-hint")).unwrap_or_default());
                    (field_error(tr, view.errors, Field::FirstName))
                }
                div.field {
                    label for="last_name" { (tr.t("Family name")) }
                    input #last_name type="text" name="last_name" value=(view.values.last_name) autocomplete="family-name"
                        required maxlength="64" autofocus[self.focus(Field::LastName)]
                        aria-invalid=[self.invalid(Field::LastName)]
                        aria-describedby=[described_by(view.errors, Field::LastName, None)];
                    (field_error(tr, view.errors, Field::LastName))
                }
                div.actions {
                    button.button type="submit" { (tr.t("Send confirmation link")) }
                }
            }
        }
    }
}

/// After a successful submission: check your mailbox.
pub fn check_mailbox(tr: &Tr, links: &Links, email: &str, valid_hours: u64) -> Markup {
    html! {
        section #signup .panel .panel--success role="status" tabindex="-1" autofocus {
            h2 { (tr.t("Check your mailbox")) }
            p { (tr.tf("We have sent a confirmation link to {email}.", &[("email", email)])) }
            // Translators: {count} is the number of hours the mailed link stays valid.
            p { (tr.nf("Open the link within {count} hour and confirm to create your account.", "Open the link within {count} hours and confirm to create your account.", valid_hours, &[])) }
            p.hint { (tr.t("No mail after a few minutes? Look in your spam folder, or send the form again: every link you get works until you confirm one.")) }
            p { a href=(links.home_in(tr.lang())) { (tr.t("Start over")) } }
        }
    }
}
