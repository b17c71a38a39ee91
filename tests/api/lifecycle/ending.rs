//! A lifetime account's end, from the plan to the deletion; a run killed in the middle of a
//! step; a user not made for the mailbox.

use std::time::Duration;

use super::*;
use crate::support::fake_graph::Endpoint;

async fn a_lifetime_account_ends_once_each_step_and_strangers_are_never_touched(kind: Kind) {
    crate::support::tools::require_tool!(Aiosmtpd);
    // Arrange: Ada's account, and Bob's registration whose user carries another mailbox's
    // tag (an administrator's account the store was told about by mistake).
    let tenant = Tenant::new(kind).await;
    let other = tag_of("someone@else.example");
    let bob = tenant.fake.add_user_with_attribute(
        BOB,
        "Bob",
        "Baker",
        ("extensionAttribute15", other.as_str()),
    );
    tenant.fake.assign_licence(BOB, &tenant.sku);
    tenant
        .register(&[("ada@uni.example", ADA), ("bob@uni.example", BOB)])
        .await;
    let (fake, sku) = (&tenant.fake, tenant.sku.as_str());
    assert_eq!(fake.consumed(sku), 2);

    // The plan at several days changes nothing.
    assert_eq!(tenant.plan("2027-02-06").await, []);
    let warned = [
        line(ADA, "warn", "2027-02-07"),
        line(BOB, "warn", "2027-02-07"),
    ];
    assert_eq!(tenant.plan("2027-02-07").await, warned);
    let ending = [
        line(ADA, "disable", "2027-02-14"),
        line(BOB, "disable", "2027-02-14"),
    ];
    assert_eq!(tenant.plan("2027-02-14").await, ending);
    assert_eq!(fake.writes(), 0, "plans write nothing");
    assert!(tenant.smtp.received().is_empty(), "plans mail nothing");

    // Act 1: the warning, once.
    stdout(&tenant.lifecycle(&["run", "--as-of", "2027-02-07"]).await);
    stdout(&tenant.lifecycle(&["run", "--as-of", "2027-02-08"]).await);
    assert_eq!(
        tenant.mails_to("ada@uni.example"),
        ["Your account ends soon"]
    );
    assert_eq!(fake.writes(), 0);
    assert_eq!(tenant.plan("2027-02-13").await, []);

    // Act 2: the end, twice.
    let first = failed(&tenant.lifecycle(&["run", "--as-of", "2027-02-14"]).await);
    let writes = fake.writes();
    let second = failed(&tenant.lifecycle(&["run", "--as-of", "2027-02-14"]).await);

    // Assert: Ada disabled, her seat free, told once; two writes, none on the second run.
    let user = fake.user(ADA).expect("Ada's user, disabled, not deleted");
    assert!(!user.enabled);
    assert!(user.licences.is_empty());
    assert_eq!(
        fake.consumed(sku),
        1,
        "Ada's seat is free again, Bob's is not"
    );
    assert_eq!(writes, 2, "one PATCH accountEnabled, one assignLicense");
    assert_eq!(fake.writes(), writes, "the second run writes nothing");
    let ended = tenant.mails_to("ada@uni.example");
    assert_eq!(
        ended,
        ["Your account ends soon", "Your account has been disabled"]
    );
    let notice = tenant.smtp.received().pop().unwrap();
    assert!(notice.text.contains("2027-03-16"), "{}", notice.text);
    assert!(notice.text.contains("30 days"), "{}", notice.text);
    // Bob's user carries another mailbox's tag: listed as failed, never written.
    for run in [&first, &second] {
        assert!(run.contains(BOB), "{run}");
        assert!(run.contains("does not carry this mailbox's tag"), "{run}");
    }
    let bob_now = fake.user(BOB).unwrap();
    assert!(bob_now.enabled && bob_now.licences == [sku.to_owned()]);
    assert_eq!(bob_now.id, bob);
    assert!(
        tenant.mails_to("bob@uni.example").len() == 1,
        "only the warning"
    );

    // Act 3: the deletion, after DELETE_AFTER_DAYS, once.
    let plan = tenant.plan("2027-03-15").await;
    assert!(plan.iter().all(|(upn, _, _)| upn != ADA), "{plan:?}");
    assert!(
        tenant
            .plan("2027-03-16")
            .await
            .contains(&line(ADA, "delete", "2027-03-16"))
    );
    failed(&tenant.lifecycle(&["run", "--as-of", "2027-03-16"]).await);
    failed(&tenant.lifecycle(&["run", "--as-of", "2027-03-17"]).await);
    assert!(fake.user(ADA).is_none(), "deleted");
    assert_eq!(
        fake.deleted_users().len(),
        1,
        "restorable from the deleted items"
    );
    assert_eq!(fake.count(Endpoint::DeleteUser), 1);
    assert_eq!(fake.writes(), writes + 1);
    assert!(fake.user(BOB).unwrap().enabled);
    // Each change once in the audit log, by the lifecycle, naming the user, not the address.
    let ada = format!("{ADA} ({})", user.id);
    let logged: Vec<_> = audit(&tenant).await;
    let expected: Vec<_> = ["disable", "remove_licences", "delete"]
        .map(|action| ("lifecycle".to_owned(), action.to_owned(), ada.clone()))
        .into();
    assert_eq!(logged, expected);
}

#[tokio::test]
async fn on_sled_a_lifetime_account_ends_once_each_step_and_strangers_are_never_touched() {
    a_lifetime_account_ends_once_each_step_and_strangers_are_never_touched(Kind::Sled).await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL: run tests/run, which starts a throwaway cluster"]
async fn on_postgres_a_lifetime_account_ends_once_each_step_and_strangers_are_never_touched() {
    a_lifetime_account_ends_once_each_step_and_strangers_are_never_touched(Kind::Postgres).await;
}

/// The licence removal went through in the directory, but the run was killed (SIGKILL)
/// before it could save so: the next run finds the licence gone and writes nothing twice.
async fn a_run_killed_in_the_middle_of_a_step_resumes_without_writing_twice(kind: Kind) {
    crate::support::tools::require_tool!(Aiosmtpd);
    let tenant = Tenant::new(kind).await;
    tenant.register(&[("ada@uni.example", ADA)]).await;
    let fake = &tenant.fake;
    fake.delay(Endpoint::AssignLicense, 1, Duration::from_secs(60));

    // Act: kill the run while the licence removal's answer is on its way.
    let mut child = killable(&tenant, &["run", "--as-of", "2027-02-14"]).await;
    for _ in 0..600 {
        if fake.count(Endpoint::AssignLicense) == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        fake.count(Endpoint::AssignLicense),
        1,
        "the removal was sent"
    );
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        tenant.mails_to("ada@uni.example").is_empty(),
        "killed before the mail"
    );
    let resumed = run_when_free(&tenant, "2027-02-14").await;

    // Assert
    stdout(&resumed);
    assert_eq!(fake.count(Endpoint::UpdateUser), 1, "disabled once");
    assert_eq!(
        fake.count(Endpoint::AssignLicense),
        1,
        "licence removed once"
    );
    assert_eq!(fake.consumed(&tenant.sku), 0);
    assert_eq!(
        tenant.mails_to("ada@uni.example"),
        ["Your account has been disabled"]
    );
}

#[tokio::test]
async fn on_sled_a_run_killed_in_the_middle_of_a_step_resumes_without_writing_twice() {
    a_run_killed_in_the_middle_of_a_step_resumes_without_writing_twice(Kind::Sled).await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL: run tests/run, which starts a throwaway cluster"]
async fn on_postgres_a_run_killed_in_the_middle_of_a_step_resumes_without_writing_twice() {
    a_run_killed_in_the_middle_of_a_step_resumes_without_writing_twice(Kind::Postgres).await;
}

/// A `lifecycle` command started and left running.
async fn killable(tenant: &Tenant, args: &[&str]) -> std::process::Child {
    let mut env = crate::graph::env(&tenant.fake, &[], &[]);
    env.extend(tenant.smtp.app_settings());
    env.push(("ACCOUNT_LIFETIME_DAYS".into(), "30".into()));
    env.push(("LIFECYCLE_WARN_DAYS".into(), "0".into()));
    std::process::Command::new(env!("CARGO_BIN_EXE_ms365-accountcreator"))
        .arg("lifecycle")
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("MODE", "test")
        .env("LOG_LEVEL", "warn")
        .env("GRAPH_API_USER_MAIL_DOMAIN", "tenant.example")
        .env(&tenant.store.0, &tenant.store.1)
        .envs(env)
        .current_dir(std::env::temp_dir())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("the binary runs")
}

/// `lifecycle run` once the killed run's right to run has lapsed (PostgreSQL keeps it for
/// its lease; sled's goes with the process).
async fn run_when_free(tenant: &Tenant, day: &str) -> Output {
    for _ in 0..30 {
        let output = tenant.lifecycle(&["run", "--as-of", day]).await;
        if !String::from_utf8_lossy(&output.stderr).contains("another lifecycle run") {
            return output;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    panic!("the killed run's right to run never lapsed");
}
