//! One mailbox, one key (PRODUCT.md §3): sub-address tags and letter case name the same
//! person; quoted local parts and comments are refused.

use serde_json::json;

use crate::support::helpers::{ListedMail, TestApp, attr, spawn_app, texts};

const QUOTED: &str =
    "An address in quotation marks cannot be used. Please enter it without the quotation marks.";
const COMMENT: &str = "An address with a comment in parentheses cannot be used. Please enter it without the parentheses and their content.";
const ALREADY_USED: &str = "An account has already been created for this e-mail address.";

#[tokio::test]
async fn tagged_and_upper_case_spellings_are_one_person_and_the_mail_goes_to_the_mailbox() {
    // Arrange
    let app = spawn_app().await;

    // Act: two spellings of one mailbox before anything is confirmed.
    assert_eq!(
        app.sign_up("st20@uni.example", "Ada", "Lovelace")
            .await
            .status(),
        200
    );
    let tagged = app.sign_up("ST20+x@uni.example", "Ada", "Lovelace").await;
    assert_eq!(tagged.status(), 200);
    let page = tagged.text().await.unwrap();

    // Assert: both mails went to the mailbox, and the answer names it.
    assert!(
        texts(&page, "#signup p")[0].contains("st20@uni.example"),
        "{page}"
    );
    let mails = app.mails().await;
    let recipients: Vec<&str> = mails.iter().map(ListedMail::recipient).collect();
    assert_eq!(recipients, vec!["st20@uni.example", "st20@uni.example"]);

    // Once confirmed, any spelling of the mailbox is "already used", never "illegal".
    let path = app.verification_path("st20@uni.example").await;
    assert_eq!(app.confirm(&path).await.status(), 200);
    let again = app.sign_up("st20+y@uni.example", "Ada", "Lovelace").await;
    assert_eq!(again.status(), 422);
    assert_eq!(
        texts(&again.text().await.unwrap(), "#email-error"),
        vec![ALREADY_USED]
    );
    assert_eq!(
        app.post_email_verification(&json!({"email": "St20+Z@Uni.Example"}), &[])
            .await,
        (200, json!({"valid": false, "reason": "Email already used"}))
    );
    let body = json!({"firstName": "Ada", "lastName": "Lovelace", "email": "st20+w@uni.example"});
    assert_eq!(
        app.post_account_creation(&body, &[]).await,
        (400, json!({"message": "Email already used"}))
    );
}

#[tokio::test]
async fn the_mail_limit_counts_every_spelling_of_a_mailbox_together() {
    // Arrange
    let app = TestApp::builder()
        .env("RATE_LIMIT_MAILS_PER_ADDRESS_PER_HOUR", "2")
        .spawn()
        .await;

    // Act
    let first = app.sign_up("st20@uni.example", "Ada", "Lovelace").await;
    let second = app.sign_up("ST20+x@uni.example", "Ada", "Lovelace").await;
    let third = app.sign_up("st20+y@uni.example", "Ada", "Lovelace").await;

    // Assert
    assert_eq!(
        (first.status().as_u16(), second.status().as_u16()),
        (200, 200)
    );
    assert_eq!(
        third.status(),
        429,
        "the third mail to one mailbox is refused"
    );
    assert!(third.headers().contains_key("retry-after"));
    assert_eq!(app.mails().await.len(), 2);
    // Another mailbox has its own budget.
    assert_eq!(
        app.sign_up("st21+y@uni.example", "Bob", "Byron")
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn quoted_and_commented_addresses_are_refused_with_their_own_message_and_values_kept() {
    // Arrange
    let app = spawn_app().await;
    let cases = [
        ("\"st20\"@uni.example", QUOTED),
        ("\"st 20\"@uni.example", QUOTED),
        ("st20(x)@uni.example", COMMENT),
        ("(x)st20@uni.example", COMMENT),
        ("st20@uni.example(x)", COMMENT),
    ];
    for (email, message) in cases {
        // Act
        let response = app.sign_up(email, "Ada", "Lovelace").await;

        // Assert
        assert_eq!(response.status(), 422, "{email}");
        let page = response.text().await.unwrap();
        assert_eq!(texts(&page, "#email-error"), vec![message], "{email}");
        assert_eq!(attr(&page, "#email", "value").as_deref(), Some(email));
        assert_eq!(attr(&page, "#first_name", "value").as_deref(), Some("Ada"));
        assert_eq!(
            app.post_email_verification(&json!({"email": email}), &[])
                .await,
            (200, json!({"valid": false, "reason": "Email illegal"})),
            "{email}"
        );
        let body = json!({"firstName": "Ada", "lastName": "Lovelace", "email": email});
        assert_eq!(
            app.post_account_creation(&body, &[]).await,
            (400, json!({"message": "Email illegal"})),
            "{email}"
        );
    }
    assert!(app.mails().await.is_empty());

    // The German page says the same.
    let german = app
        .post_signup(&[("email", "\"st20\"@uni.example"), ("lang", "de")])
        .await;
    assert_eq!(
        texts(&german.text().await.unwrap(), "#email-error"),
        vec![
            "Eine Adresse in Anführungszeichen kann nicht verwendet werden. Bitte geben Sie sie ohne die Anführungszeichen ein."
        ]
    );
}

#[tokio::test]
async fn a_tag_that_leaves_no_local_part_is_not_an_address() {
    let app = spawn_app().await;
    let response = app.sign_up("+x@uni.example", "Ada", "Lovelace").await;
    assert_eq!(response.status(), 422);
    assert_eq!(
        texts(&response.text().await.unwrap(), "#email-error"),
        vec!["This is not a valid e-mail address."]
    );
}

#[tokio::test]
async fn with_the_separator_off_a_plus_is_part_of_the_address() {
    // Arrange
    let app = TestApp::builder()
        .env("EMAIL_SUBADDRESS_SEPARATOR", "")
        .spawn()
        .await;
    assert_eq!(
        app.sign_up("st20@uni.example", "Ada", "Lovelace")
            .await
            .status(),
        200
    );
    let path = app.verification_path("st20@uni.example").await;
    assert_eq!(app.confirm(&path).await.status(), 200);

    // Act
    let tagged = app.sign_up("St20+X@uni.example", "Bob", "Byron").await;

    // Assert
    assert_eq!(tagged.status(), 200, "another address");
    let mails = app.mails().await;
    assert_eq!(mails[0].recipient(), "st20+x@uni.example");
}

#[tokio::test]
async fn another_separator_strips_its_own_tags_only() {
    let app = TestApp::builder()
        .env("EMAIL_SUBADDRESS_SEPARATOR", "-")
        .spawn()
        .await;
    assert_eq!(
        app.sign_up("st20-x@uni.example", "Ada", "Lovelace")
            .await
            .status(),
        200
    );
    assert_eq!(
        app.sign_up("st20+x@uni.example", "Ada", "Lovelace")
            .await
            .status(),
        200
    );
    let mails = app.mails().await;
    let recipients: Vec<&str> = mails.iter().map(ListedMail::recipient).collect();
    assert_eq!(recipients, vec!["st20+x@uni.example", "st20@uni.example"]);
}

#[tokio::test]
async fn the_filter_judges_the_mailbox() {
    // Arrange: a filter without room for a tag.
    let app = TestApp::builder()
        .env("EMAIL_ADDRESS_FILTER", r"st[0-9]+@uni\.example")
        .spawn()
        .await;

    // Act
    let tagged = app
        .sign_up("st20+lectures@uni.example", "Ada", "Lovelace")
        .await;
    let outsider = app.sign_up("prof+st20@uni.example", "Bob", "Byron").await;

    // Assert
    assert_eq!(tagged.status(), 200, "the mailbox st20@uni.example matches");
    assert_eq!(
        outsider.status(),
        422,
        "the mailbox prof@uni.example does not"
    );
    assert_eq!(
        texts(&outsider.text().await.unwrap(), "#email-error"),
        vec!["This e-mail address cannot be used here. Please use your institutional address."]
    );
}
