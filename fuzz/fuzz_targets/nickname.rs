//! Name → nickname: `first\nlast` (one line each; a newline is a control character that
//! no name may hold, so nothing is lost by splitting on it).
#![no_main]

use libfuzzer_sys::fuzz_target;
use ms365_accountcreator::domain::{MailNickname, PersonName};
use ms365_accountcreator_fuzz::{assert_valid_name, assert_valid_nickname};
use unicode_normalization::UnicodeNormalization;

/// The nickname, or which names gave nothing usable; `None` when the form refuses a name.
fn derive(first: &str, last: &str) -> Option<Result<MailNickname, (bool, bool)>> {
    let first = PersonName::parse(first).ok()?;
    let last = PersonName::parse(last).ok()?;
    assert_valid_name(&first);
    assert_valid_name(&last);
    Some(
        MailNickname::derive(&first, &last)
            .map_err(|err| (err.first_name_unusable(), err.last_name_unusable())),
    )
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (first, last) = text.split_once('\n').unwrap_or((&text, &text));
    let Some(nickname) = derive(first, last) else {
        return;
    };
    match &nickname {
        Ok(nickname) => assert_valid_nickname(nickname),
        // A refusal always names a field for the form to mark.
        Err(unusable) => assert!(unusable.0 || unusable.1, "{first:?} {last:?}"),
    }
    // Stable: again, and with whitespace around the names, gives the same result.
    assert_eq!(derive(first, last), Some(nickname.clone()));
    assert_eq!(
        derive(&format!(" \t{first}\u{3000}"), &format!("{last}\u{a0} ")),
        Some(nickname.clone())
    );
    // Canonically equivalent spellings (`ä` or `a` + U+0308, as some systems send) are the
    // same name; both must give the same nickname when both are accepted.
    let composed = derive(
        &first.nfc().collect::<String>(),
        &last.nfc().collect::<String>(),
    );
    let decomposed = derive(
        &first.nfd().collect::<String>(),
        &last.nfd().collect::<String>(),
    );
    if let (Some(composed), Some(decomposed)) = (composed, decomposed) {
        assert_eq!(composed, decomposed, "{first:?} {last:?}");
    }
});
