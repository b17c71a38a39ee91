//! The fake Graph holds the client to Graph's rules for the tag attribute: filtering on an
//! extension attribute is an advanced query, refused without `ConsistencyLevel: eventual`
//! and `$count=true` with Graph's own error; the attributes are returned only when selected;
//! an unknown attribute cannot be written. So a client that passes against it sends what
//! Graph requires.

use super::*;

const FILTER: &str = "startswith(userPrincipalName,'ada') or onPremisesExtensionAttributes/extensionAttribute15 eq 'mt1.tag'";

async fn list(
    fake: &FakeGraph,
    token: &str,
    count: bool,
    eventual: bool,
) -> (u16, serde_json::Value) {
    let mut query = vec![
        ("$filter", FILTER),
        (
            "$select",
            "id,userPrincipalName,onPremisesExtensionAttributes",
        ),
    ];
    if count {
        query.push(("$count", "true"));
    }
    let mut request = reqwest::Client::new()
        .get(format!("{}/v1.0/users", fake.base))
        .bearer_auth(token)
        .query(&query);
    if eventual {
        request = request.header("ConsistencyLevel", "eventual");
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

#[tokio::test]
async fn the_fake_graph_filters_on_the_tag_attribute_only_as_an_advanced_query() {
    // Arrange
    let fake = FakeGraph::start().await;
    let id = fake.add_user_with_attribute(
        "someone@tenant.example",
        "Some",
        "One",
        ("extensionAttribute15", "MT1.TAG"),
    );
    fake.add_user("ada.lovelace@tenant.example", "Ada", "Lovelace");
    fake.add_user("bob@tenant.example", "Bob", "Babbage");
    let token = fake.bearer();

    // Act / Assert: without either advanced query parameter, Graph's refusal.
    for (count, eventual) in [(false, false), (true, false), (false, true)] {
        let (status, body) = list(&fake, &token, count, eventual).await;
        assert_eq!(status, 400, "$count={count}, eventual={eventual}");
        assert_eq!(body["error"]["code"], "Request_UnsupportedQuery");
        assert_eq!(
            body["error"]["message"],
            "Property 'extensionAttribute15' does not exist as a declared property or extension property."
        );
    }
    // With both: the tagged user (compared without regard to case) and the name's.
    let (status, body) = list(&fake, &token, true, true).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["@odata.count"], 2);
    let found: Vec<&str> = body["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|user| user["userPrincipalName"].as_str().unwrap())
        .collect();
    assert_eq!(
        found,
        ["ada.lovelace@tenant.example", "someone@tenant.example"]
    );
    assert_eq!(
        body["value"][1]["onPremisesExtensionAttributes"]["extensionAttribute15"],
        "MT1.TAG"
    );

    // A user read without selecting them shows no extension attributes.
    let plain: serde_json::Value = reqwest::Client::new()
        .get(format!("{}/v1.0/users/{id}", fake.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(plain["userPrincipalName"], "someone@tenant.example");
    assert!(
        plain.get("onPremisesExtensionAttributes").is_none(),
        "{plain}"
    );

    // Only the fifteen attributes exist; an update of one leaves the others alone.
    let patch = |body: serde_json::Value| {
        reqwest::Client::new()
            .patch(format!("{}/v1.0/users/{id}", fake.base))
            .bearer_auth(&token)
            .json(&body)
            .send()
    };
    let unknown =
        patch(json!({ "onPremisesExtensionAttributes": { "extensionAttribute16": "x" } }))
            .await
            .unwrap();
    assert_eq!(unknown.status(), 400);
    let other = patch(json!({ "onPremisesExtensionAttributes": { "extensionAttribute1": "x" } }))
        .await
        .unwrap();
    assert_eq!(other.status(), 204);
    let user = fake.user("someone@tenant.example").unwrap();
    assert_eq!(
        user.extension_attributes.len(),
        2,
        "{:?}",
        user.extension_attributes
    );
}
