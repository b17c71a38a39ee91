//! The sign-up form and its validation (PRODUCT.md §3). Errors are kinds, translated when
//! they are rendered, so the same checks serve the page, the fragment and the API.

use serde::Deserialize;

use crate::domain::{
    EmailAddressError, EmailFilter, MailNickname, Mailbox, PersonName, PersonNameError,
    SubaddressSeparator, VoucherRefusal,
};
use crate::i18n::n_;

/// The fields as posted (`application/x-www-form-urlencoded`).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct SignupForm {
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub consent_email: Option<String>,
    #[serde(default)]
    pub consent_name: Option<String>,
    #[serde(default)]
    pub first_name: String,
    #[serde(default)]
    pub last_name: String,
    #[serde(default)]
    pub lang: Option<String>,
    /// The voucher's code as typed (`VOUCHERS` optional or required); ignored when off.
    #[serde(default)]
    pub voucher: String,
}

impl SignupForm {
    /// Nothing entered yet.
    pub const EMPTY: SignupForm = SignupForm {
        email: String::new(),
        consent_email: None,
        consent_name: None,
        first_name: String::new(),
        last_name: String::new(),
        lang: None,
        voucher: String::new(),
    };
}

/// A form field, for placing an error next to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Field {
    /// First: with JavaScript, the voucher is the step before the address.
    Voucher,
    Email,
    ConsentEmail,
    ConsentName,
    FirstName,
    LastName,
}

/// What is wrong with a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldError {
    EmailMissing,
    EmailTooLong,
    EmailInvalid,
    /// A quoted local part (`"st20"@…`): the API's "Email illegal".
    EmailQuoted,
    /// A comment in parentheses (`st20(x)@…`): the API's "Email illegal".
    EmailComment,
    EmailNotAllowed,
    EmailAlreadyUsed,
    ConsentMissing,
    NameMissing,
    NameTooLong,
    NameControlCharacters,
    /// Invisible format characters (zero-width, direction marks, soft hyphen, tags).
    NameFormatCharacters,
    NameFillers,
    NameCombiningMarks,
    NameNoLetter,
    NameMixedScripts,
    /// No username can be built from the name (the API's "Name format not supported").
    NameUnsupported,
    /// `VOUCHERS = required` and none was entered.
    VoucherMissing,
    /// No voucher has this code, or it was revoked (the public is not told which).
    VoucherInvalid,
    VoucherExpired,
    VoucherUsedUp,
}

impl From<VoucherRefusal> for FieldError {
    fn from(refusal: VoucherRefusal) -> Self {
        match refusal {
            VoucherRefusal::Missing => FieldError::VoucherMissing,
            VoucherRefusal::Unknown | VoucherRefusal::Revoked => FieldError::VoucherInvalid,
            VoucherRefusal::Expired => FieldError::VoucherExpired,
            VoucherRefusal::UsedUp => FieldError::VoucherUsedUp,
        }
    }
}

impl FieldError {
    /// The catalogue message for this error.
    pub fn msgid(self, field: Field) -> &'static str {
        match (self, field) {
            (FieldError::EmailMissing, _) => n_("Please enter your e-mail address."),
            (FieldError::EmailTooLong, _) => {
                n_("This e-mail address is too long (at most 190 characters).")
            }
            (FieldError::EmailInvalid, _) => n_("This is not a valid e-mail address."),
            (FieldError::EmailQuoted, _) => n_(
                "An address in quotation marks cannot be used. Please enter it without the quotation marks.",
            ),
            (FieldError::EmailComment, _) => n_(
                "An address with a comment in parentheses cannot be used. Please enter it without the parentheses and their content.",
            ),
            (FieldError::EmailNotAllowed, _) => n_(
                "This e-mail address cannot be used here. Please use your institutional address.",
            ),
            (FieldError::EmailAlreadyUsed, _) => {
                n_("An account has already been created for this e-mail address.")
            }
            (FieldError::ConsentMissing, Field::ConsentEmail) => {
                n_("Please agree to your e-mail address being stored.")
            }
            (FieldError::ConsentMissing, _) => {
                n_("Please agree to your name being sent to Microsoft.")
            }
            (FieldError::NameMissing, Field::LastName) => n_("Please enter your family name."),
            (FieldError::NameMissing, _) => n_("Please enter your first name."),
            (FieldError::NameTooLong, _) => n_("A name can have at most 64 characters."),
            (FieldError::NameControlCharacters, _) => {
                n_("The name contains characters that cannot be used.")
            }
            (FieldError::NameFormatCharacters, _) => n_(
                "The name contains invisible formatting characters, often carried along when text is copied. Please type the name in again.",
            ),
            (FieldError::NameFillers, _) => {
                n_("The name contains blank filler characters, which cannot be used.")
            }
            (FieldError::NameCombiningMarks, _) => {
                n_("The name has too many accents stacked on one letter.")
            }
            (FieldError::NameNoLetter, _) => n_("A name must contain at least one letter."),
            (FieldError::NameMixedScripts, _) => n_(
                "A word in the name mixes letters of different alphabets (such as Latin and Cyrillic). Please write each word in one alphabet.",
            ),
            (FieldError::NameUnsupported, _) => n_(
                "No username can be made from this name. Please write it in Latin letters, as in your passport.",
            ),
            (FieldError::VoucherMissing, _) => n_("Please enter your voucher code."),
            (FieldError::VoucherInvalid, _) => {
                n_("This voucher code is not valid. Please check it for typing errors.")
            }
            (FieldError::VoucherExpired, _) => n_("This voucher is no longer valid."),
            (FieldError::VoucherUsedUp, _) => n_(
                "This voucher has been used up. Please ask whoever gave it to you for another one.",
            ),
        }
    }
}

/// The errors of one submission, in field order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldErrors(Vec<(Field, FieldError)>);

impl FieldErrors {
    /// No errors.
    pub const NONE: FieldErrors = FieldErrors(Vec::new());

    pub fn add(&mut self, field: Field, error: FieldError) {
        if self.get(field).is_none() {
            self.0.push((field, error));
            self.0.sort_by_key(|(field, _)| *field);
        }
    }
    pub fn get(&self, field: Field) -> Option<FieldError> {
        self.0.iter().find(|(f, _)| *f == field).map(|(_, e)| *e)
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn iter(&self) -> impl Iterator<Item = (Field, FieldError)> + '_ {
        self.0.iter().copied()
    }
}

/// A submission that passed every check except the store's.
#[derive(Debug, Clone)]
pub struct ValidSignup {
    /// The mailbox: the key, the filter's input and the verification mail's recipient.
    pub email: Mailbox,
    pub first_name: PersonName,
    pub last_name: PersonName,
    pub nickname: MailNickname,
}

/// Checks the address alone (the inline check and the API's `email-verification`) and
/// gives its mailbox.
pub fn check_email(
    raw: &str,
    filter: &EmailFilter,
    separator: SubaddressSeparator,
) -> Result<Mailbox, FieldError> {
    let email = Mailbox::parse(raw, separator).map_err(|err| match err {
        EmailAddressError::Empty => FieldError::EmailMissing,
        EmailAddressError::TooLong => FieldError::EmailTooLong,
        EmailAddressError::Quoted => FieldError::EmailQuoted,
        EmailAddressError::Comment => FieldError::EmailComment,
        EmailAddressError::Syntax => FieldError::EmailInvalid,
    })?;
    if !filter.is_match(&email) {
        return Err(FieldError::EmailNotAllowed);
    }
    Ok(email)
}

fn check_name(raw: &str) -> Result<PersonName, FieldError> {
    PersonName::parse(raw).map_err(|err| match err {
        PersonNameError::Empty => FieldError::NameMissing,
        PersonNameError::TooLong => FieldError::NameTooLong,
        PersonNameError::ControlCharacters => FieldError::NameControlCharacters,
        PersonNameError::FormatCharacters => FieldError::NameFormatCharacters,
        PersonNameError::Fillers => FieldError::NameFillers,
        PersonNameError::TooManyCombiningMarks => FieldError::NameCombiningMarks,
        PersonNameError::NoLetter => FieldError::NameNoLetter,
        PersonNameError::MixedScripts => FieldError::NameMixedScripts,
    })
}

/// Checks the names and that a username can be built from them.
pub fn check_names(
    first: &str,
    last: &str,
) -> Result<(PersonName, PersonName, MailNickname), FieldErrors> {
    let mut errors = FieldErrors::default();
    let first = check_name(first)
        .map_err(|e| errors.add(Field::FirstName, e))
        .ok();
    let last = check_name(last)
        .map_err(|e| errors.add(Field::LastName, e))
        .ok();
    let (Some(first), Some(last)) = (first, last) else {
        return Err(errors);
    };
    match MailNickname::derive(&first, &last) {
        Ok(nickname) => Ok((first, last, nickname)),
        Err(err) => {
            if err.first_name_unusable() {
                errors.add(Field::FirstName, FieldError::NameUnsupported);
            }
            if err.last_name_unusable() {
                errors.add(Field::LastName, FieldError::NameUnsupported);
            }
            Err(errors)
        }
    }
}

impl SignupForm {
    fn consented(value: &Option<String>) -> bool {
        value
            .as_deref()
            .is_some_and(|v| !v.is_empty() && v != "false" && v != "off")
    }

    /// Every check of §3 that needs no store; all errors at once.
    pub fn validate(
        &self,
        filter: &EmailFilter,
        separator: SubaddressSeparator,
    ) -> Result<ValidSignup, FieldErrors> {
        let mut errors = FieldErrors::default();
        let email = check_email(&self.email, filter, separator)
            .map_err(|e| errors.add(Field::Email, e))
            .ok();
        if !Self::consented(&self.consent_email) {
            errors.add(Field::ConsentEmail, FieldError::ConsentMissing);
        }
        if !Self::consented(&self.consent_name) {
            errors.add(Field::ConsentName, FieldError::ConsentMissing);
        }
        let names = check_names(&self.first_name, &self.last_name)
            .map_err(|name_errors| name_errors.iter().for_each(|(f, e)| errors.add(f, e)))
            .ok();
        match (email, names) {
            (Some(email), Some((first_name, last_name, nickname))) if errors.is_empty() => {
                Ok(ValidSignup {
                    email,
                    first_name,
                    last_name,
                    nickname,
                })
            }
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLUS: SubaddressSeparator = SubaddressSeparator::PLUS;

    fn form(email: &str, first: &str, last: &str) -> SignupForm {
        SignupForm {
            email: email.into(),
            consent_email: Some("yes".into()),
            consent_name: Some("yes".into()),
            first_name: first.into(),
            last_name: last.into(),
            lang: None,
            voucher: String::new(),
        }
    }

    #[test]
    fn a_complete_form_is_valid() {
        let filter = EmailFilter::parse(r".*@uni\.example").unwrap();
        let valid = form(" Ada@Uni.Example ", "Ada", "Lovelace")
            .validate(&filter, PLUS)
            .unwrap();
        assert_eq!(valid.email.as_str(), "ada@uni.example");
        assert_eq!(valid.nickname.as_str(), "ada.lovelace");
    }

    #[test]
    fn every_error_is_reported_at_once() {
        let filter = EmailFilter::parse(".*").unwrap();
        let errors = SignupForm::default().validate(&filter, PLUS).unwrap_err();
        let fields: Vec<Field> = errors.iter().map(|(f, _)| f).collect();
        assert_eq!(
            fields,
            vec![
                Field::Email,
                Field::ConsentEmail,
                Field::ConsentName,
                Field::FirstName,
                Field::LastName
            ]
        );
    }

    #[test]
    fn the_filter_is_applied_to_the_lower_cased_address() {
        let filter = EmailFilter::parse(r"st[0-9]+@uni\.example").unwrap();
        assert_eq!(
            check_email("ST12@UNI.EXAMPLE", &filter, PLUS)
                .unwrap()
                .as_str(),
            "st12@uni.example"
        );
        assert_eq!(
            check_email("prof@uni.example", &filter, PLUS),
            Err(FieldError::EmailNotAllowed)
        );
    }

    #[test]
    fn the_filter_is_applied_to_the_mailbox() {
        let filter = EmailFilter::parse(r"st[0-9]+@uni\.example").unwrap();
        assert_eq!(
            check_email("ST12+Tag@uni.example", &filter, PLUS)
                .unwrap()
                .as_str(),
            "st12@uni.example"
        );
        assert_eq!(
            check_email("prof+st12@uni.example", &filter, PLUS),
            Err(FieldError::EmailNotAllowed)
        );
    }

    #[test]
    fn quoted_and_commented_addresses_have_their_own_errors() {
        let filter = EmailFilter::parse(".*").unwrap();
        let cases = [
            ("\"st20\"@uni.example", FieldError::EmailQuoted),
            ("st20(x)@uni.example", FieldError::EmailComment),
            ("+x@uni.example", FieldError::EmailInvalid),
        ];
        for (raw, expected) in cases {
            assert_eq!(check_email(raw, &filter, PLUS), Err(expected), "{raw:?}");
            let errors = form(raw, "Ada", "Lovelace")
                .validate(&filter, PLUS)
                .unwrap_err();
            assert_eq!(errors.get(Field::Email), Some(expected), "{raw:?}");
        }
    }

    #[test]
    fn a_name_without_latin_letters_is_unsupported() {
        let filter = EmailFilter::parse(".*").unwrap();
        let errors = form("a@b.example", "李", "王")
            .validate(&filter, PLUS)
            .unwrap_err();
        assert_eq!(
            errors.get(Field::FirstName),
            Some(FieldError::NameUnsupported)
        );
    }

    #[test]
    fn each_name_that_gives_no_username_is_marked() {
        let marked = |first: &str, last: &str| -> Vec<(Field, FieldError)> {
            check_names(first, last).unwrap_err().iter().collect()
        };
        let unsupported = FieldError::NameUnsupported;
        assert_eq!(
            marked("李", "王"),
            vec![
                (Field::FirstName, unsupported),
                (Field::LastName, unsupported)
            ]
        );
        assert_eq!(marked("Li", "王"), vec![(Field::LastName, unsupported)]);
        assert_eq!(marked("王", "Li"), vec![(Field::FirstName, unsupported)]);
    }
}
