//! The sign-up form as posted: URL-encoded bytes → the strict reader → `SignupForm` →
//! `validate` / `check_email`.
//! Nothing may panic, and whatever is accepted must satisfy the §3 rules.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use ms365_accountcreator::domain::{EmailFilter, MailNickname, SubaddressSeparator};
use ms365_accountcreator::signup::form::{Field, SignupForm, check_email};
use ms365_accountcreator::web::form::{FormError, decode};
use ms365_accountcreator_fuzz::{
    assert_normalized_email, assert_valid_name, assert_valid_nickname,
};

/// Allow-all (the default) and a typical institutional filter.
static FILTERS: LazyLock<[EmailFilter; 2]> = LazyLock::new(|| {
    [".*", r"st[0-9]+@uni\.example"].map(|f| EmailFilter::parse(f).expect("a valid filter"))
});

/// The default (`+`) and sub-addressing off.
const SEPARATORS: [SubaddressSeparator; 2] = [SubaddressSeparator::PLUS, SubaddressSeparator::OFF];

fuzz_target!(|data: &[u8]| {
    // The raw bytes as a lone address too: the inline check takes the field as typed.
    let raw = String::from_utf8_lossy(data);
    for separator in SEPARATORS {
        if let Ok(email) = check_email(&raw, &FILTERS[0], separator) {
            assert_normalized_email(&email, separator);
        }
    }

    // As the server reads the form: strictly.
    let form = match decode::<SignupForm>(data) {
        Ok(form) => {
            // Clean input: form_urlencoded reads it alike, with nothing to repair.
            let lenient = serde_urlencoded::from_bytes::<SignupForm>(data)
                .expect("form_urlencoded reads what the strict reader reads");
            assert_eq!(format!("{form:?}"), format!("{lenient:?}"));
            form
        }
        // The clean fields are shown again, and their address checked.
        Err(FormError::Damaged(clean)) => clean,
        Err(FormError::Unreadable(_)) => return,
    };
    for (filter, separator) in FILTERS.iter().flat_map(|f| SEPARATORS.map(|s| (f, s))) {
        let email = check_email(&form.email, filter, separator);
        match form.validate(filter, separator) {
            Ok(valid) => {
                assert_eq!(email.as_ref(), Ok(&valid.email));
                assert_normalized_email(&valid.email, separator);
                assert!(filter.is_match(&valid.email));
                assert_valid_name(&valid.first_name);
                assert_valid_name(&valid.last_name);
                assert_valid_nickname(&valid.nickname);
                assert_eq!(
                    MailNickname::derive(&valid.first_name, &valid.last_name).as_ref(),
                    Ok(&valid.nickname)
                );
            }
            Err(errors) => {
                assert!(!errors.is_empty(), "refused without a reason");
                // The page's inline check and the submission judge an address alike.
                assert_eq!(errors.get(Field::Email), email.err());
            }
        }
    }
});
