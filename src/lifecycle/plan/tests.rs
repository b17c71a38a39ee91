use secrecy::SecretString;

use super::*;
use crate::directory::MailboxTagger;
use crate::domain::DAY_SECS;
use crate::store::{Ending, Reverification};

const DAY: u64 = DAY_SECS;
/// When Ada's account was made.
const MADE: u64 = 1_800_000_000;

fn settings(lifetime_days: u32, reverify_after_days: u32) -> LifecycleSettings {
    LifecycleSettings {
        lifetime_days,
        reverify_after_days,
        reverify_grace_days: 30,
        delete_after_days: 30,
        warn_days: 14,
        run_hour: 3,
        support_email: String::new(),
        mailbox_tags: MailboxTagger::new(&SecretString::from("test")),
    }
}

fn ada() -> Registration {
    Registration {
        email: RegistryKey::as_recorded("ada@uni.example"),
        signup_id: "s1".into(),
        first_name: "Ada".into(),
        last_name: "Lovelace".into(),
        lang: "en".into(),
        consent_email_at: MADE,
        consent_name_at: MADE,
        claimed_at: MADE,
        step: Step::Done,
        upn: Some("ada.lovelace@tenant.example".into()),
        upn_free_at: None,
        object_id: Some("00000000-0000-4000-8000-000000000001".into()),
        password_version: 1,
        updated_at: MADE,
        last_error: None,
        imported: false,
        existing_account: false,
        voucher: None,
        end: None,
    }
}

/// The actions due, with the day (from the account's making) each fell due.
fn actions(due: &[Due]) -> Vec<(Action, u64)> {
    due.iter()
        .map(|due| (due.action, due.at.saturating_sub(MADE) / DAY))
        .collect()
}

fn on_day(
    registration: &Registration,
    life: Option<&AccountLife>,
    settings: &LifecycleSettings,
    day: u64,
) -> Vec<(Action, u64)> {
    actions(&due(registration, life, settings, MADE + day * DAY))
}

#[test]
fn without_an_end_or_re_verification_nothing_is_ever_due() {
    let settings = settings(0, 0);
    for day in [0, 365, 3650] {
        assert_eq!(on_day(&ada(), None, &settings, day), [], "day {day}");
    }
}

#[test]
fn a_lifetime_warns_fourteen_days_before_and_ends_the_account_on_its_day() {
    let settings = settings(365, 0);
    assert_eq!(on_day(&ada(), None, &settings, 350), []);
    assert_eq!(on_day(&ada(), None, &settings, 351), [(Action::Warn, 351)]);
    let mut warned = fresh_life(&ada());
    warned.warned_for = Some(MADE + 365 * DAY);
    assert_eq!(on_day(&ada(), Some(&warned), &settings, 360), []);
    let due = due(&ada(), Some(&warned), &settings, MADE + 365 * DAY);
    assert_eq!(actions(&due), [(Action::Disable, 365)]);
    assert_eq!(due[0].reason, Some(EndReason::Expired));
    assert_eq!(due[0].upn, "ada.lovelace@tenant.example");
}

#[test]
fn an_end_recorded_at_creation_wins_over_the_setting() {
    let settings = settings(365, 0);
    let mut never = ada();
    never.end = Some(AccountEnd::Never);
    assert_eq!(
        on_day(&never, None, &settings, 1000),
        [],
        "recorded: no end"
    );
    let mut voucher = ada();
    voucher.end = Some(AccountEnd::At(MADE + 90 * DAY));
    assert_eq!(
        on_day(&voucher, None, &settings, 90),
        [(Action::Disable, 90)]
    );
    let mut older = ada();
    older.end = None;
    assert_eq!(
        on_day(&older, None, &settings, 365),
        [(Action::Disable, 365)],
        "made before ends were recorded: the setting from its creation"
    );
}

#[test]
fn a_moved_end_replaces_the_recorded_one_and_is_warned_of_again() {
    let settings = settings(365, 0);
    let mut life = fresh_life(&ada());
    life.warned_for = Some(MADE + 365 * DAY);
    life.end_moved_to = Some(MADE + 400 * DAY);
    assert_eq!(on_day(&ada(), Some(&life), &settings, 380), []);
    assert_eq!(
        on_day(&ada(), Some(&life), &settings, 386),
        [(Action::Warn, 386)]
    );
    assert_eq!(
        on_day(&ada(), Some(&life), &settings, 400),
        [(Action::Disable, 400)]
    );
    let mut quiet = settings;
    quiet.warn_days = 0;
    assert_eq!(on_day(&ada(), Some(&life), &quiet, 399), [], "no warnings");
}

#[test]
fn a_mailbox_is_asked_again_and_no_answer_in_the_grace_ends_the_account() {
    let settings = settings(0, 180);
    assert_eq!(on_day(&ada(), None, &settings, 179), []);
    assert_eq!(
        on_day(&ada(), None, &settings, 180),
        [(Action::Reverify, 180)]
    );
    let mut asked = fresh_life(&ada());
    asked.reverify = Some(Reverification {
        sent_at: MADE + 180 * DAY,
        answer_by: MADE + 210 * DAY,
    });
    assert_eq!(on_day(&ada(), Some(&asked), &settings, 209), [], "waiting");
    let due = due(&ada(), Some(&asked), &settings, MADE + 210 * DAY);
    assert_eq!(actions(&due), [(Action::Disable, 210)]);
    assert_eq!(due[0].reason, Some(EndReason::Unverified));
    let mut kept = fresh_life(&ada());
    kept.verified_at = MADE + 200 * DAY;
    assert_eq!(on_day(&ada(), Some(&kept), &settings, 379), []);
    assert_eq!(
        on_day(&ada(), Some(&kept), &settings, 380),
        [(Action::Reverify, 380)]
    );
}

#[test]
fn no_re_verification_is_asked_when_the_account_ends_before_an_answer_is_due() {
    let settings = settings(200, 180);
    assert_eq!(
        on_day(&ada(), None, &settings, 186),
        [(Action::Warn, 186)],
        "ends on day 200, before day 186 + 30"
    );
    let both = crate::lifecycle::plan::tests::settings(400, 180);
    assert_eq!(on_day(&ada(), None, &both, 180), [(Action::Reverify, 180)]);
    assert_eq!(
        on_day(&ada(), None, &both, 386),
        [(Action::Warn, 386)],
        "a warning, and no second question before the end"
    );
}

#[test]
fn an_ending_goes_on_until_told_and_is_deleted_after_the_wait() {
    let settings = settings(365, 0);
    let mut life = fresh_life(&ada());
    let mut ending = Ending {
        reason: EndReason::Expired,
        step: EndStep::Disabled,
        started_at: MADE + 365 * DAY,
        disabled_at: Some(MADE + 366 * DAY),
        removed_licences: Vec::new(),
        deleted_at: None,
    };
    life.ending = Some(ending.clone());
    let due = due(&ada(), Some(&life), &settings, MADE + 366 * DAY);
    assert_eq!(
        actions(&due),
        [(Action::Disable, 365)],
        "unfinished: resumed"
    );
    assert_eq!(due[0].step, Some(EndStep::Disabled));
    ending.step = EndStep::Told;
    life.ending = Some(ending.clone());
    assert_eq!(on_day(&ada(), Some(&life), &settings, 395), []);
    assert_eq!(
        on_day(&ada(), Some(&life), &settings, 396),
        [(Action::Delete, 396)]
    );
    ending.step = EndStep::Deleted;
    life.ending = Some(ending);
    assert_eq!(on_day(&ada(), Some(&life), &settings, 5000), []);
}

#[test]
fn registrations_without_an_account_are_left_alone() {
    let settings = settings(1, 1);
    let mut unfinished = ada();
    unfinished.step = Step::GroupsAdded;
    let mut imported_without_user = ada();
    imported_without_user.object_id = None;
    for registration in [unfinished, imported_without_user] {
        assert_eq!(on_day(&registration, None, &settings, 100), []);
    }
}
