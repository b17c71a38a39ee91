//! Name → nickname: `first\nlast` (one line each; a newline is a control character that
//! no name may hold, so nothing is lost by splitting on it).
#![no_main]

use libfuzzer_sys::fuzz_target;
use ms365_accountcreator::domain::{MailNickname, PersonName};
use ms365_accountcreator_fuzz::assert_valid_nickname;
use unicode_normalization::UnicodeNormalization;

fn derive(first: &str, last: &str) -> Option<Result<MailNickname, ()>> {
    let first = PersonName::parse(first).ok()?;
    let last = PersonName::parse(last).ok()?;
    Some(MailNickname::derive(&first, &last).map_err(drop))
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (first, last) = text.split_once('\n').unwrap_or((&text, &text));
    let Some(nickname) = derive(first, last) else {
        return;
    };
    if let Ok(nickname) = &nickname {
        assert_valid_nickname(nickname);
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
