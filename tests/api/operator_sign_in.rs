//! The operator sign-in client against the fake OpenID provider and the fake Graph over real
//! sockets: the whole code flow as the console will drive it (begin → the browser at the
//! provider → the callback → complete), with the provider on `localhost` and the console's
//! redirect URI on 127.0.0.1, as two sites.

mod flow;
mod membership;
mod tokens;

use std::sync::Arc;
use std::time::Duration;

use ms365_accountcreator::graph::signin::{
    AdminGroups, Callback, Operator, SignInClient, SignInError, SignInSettings, SignInStart,
};
use url::Url;

use crate::graph::{client, settings};
use crate::support::fake_graph::{DOMAIN, FakeGraph};
use crate::support::fake_oidc::{FakeOidc, Groups, Person};

/// The console's callback, on the server's site (nothing needs to listen there: the test
/// plays the browser and reads where the provider sends it).
const REDIRECT_URI: &str = "http://127.0.0.1:8080/admin/callback";

/// The fakes, an operator group, and a client configured as the server would be.
struct World {
    graph: FakeGraph,
    oidc: FakeOidc,
    admins: String,
    client: SignInClient,
}

impl World {
    async fn start() -> World {
        World::with_authority(|oidc| oidc.authority()).await
    }

    /// As [`start`](Self::start), with `GRAPH_API_AUTH_AUTHORITY` chosen from the provider.
    async fn with_authority(authority: impl Fn(&FakeOidc) -> String) -> World {
        let graph = FakeGraph::start().await;
        let oidc = FakeOidc::start(&graph).await;
        oidc.register_redirect_uri(REDIRECT_URI);
        let admins = graph.add_group("Account creator operators");
        let mut graph_settings = settings(&graph, &[], &[]);
        graph_settings.authority = Url::parse(&authority(&oidc)).unwrap();
        let client = SignInClient::new(
            Arc::new(client(&graph_settings, Duration::from_secs(2))),
            SignInSettings {
                groups: AdminGroups::parse(std::slice::from_ref(&admins)).unwrap(),
                redirect_uri: Url::parse(REDIRECT_URI).unwrap(),
            },
        )
        .unwrap();
        World {
            graph,
            oidc,
            admins,
            client,
        }
    }

    /// A user of the fake directory whose id_token lists `groups`.
    fn person(&self, upn: &str, groups: Groups) -> Person {
        let oid = self.graph.add_user(upn, "Grace", "Hopper");
        Person {
            oid,
            upn: upn.to_owned(),
            name: "Grace Hopper".into(),
            groups,
        }
    }

    /// A member of the operator group, with the group in her token.
    fn member(&self) -> Person {
        let person = self.person(
            &format!("grace.hopper@{DOMAIN}"),
            Groups::Listed(vec![self.admins.clone()]),
        );
        self.graph.add_member(&self.admins, &person.oid);
        person
    }

    /// Begins a sign-in and follows the browser to the provider and back.
    async fn sign_in(&self) -> (SignInStart, Callback) {
        let start = self.client.begin().unwrap();
        let back = self.oidc.authorize(start.authorize_url.as_str()).await;
        assert!(
            back.as_str().starts_with(REDIRECT_URI),
            "back at the callback: {back}"
        );
        (start, callback(&back))
    }

    /// Completes a callback in the browser whose cookie holds `state`.
    async fn complete(&self, callback: &Callback, state: &str) -> Result<Operator, SignInError> {
        self.client.complete(callback, Some(state)).await
    }

    /// The whole sign-in, start to end.
    async fn sign_in_fully(&self) -> Result<Operator, SignInError> {
        let (start, callback) = self.sign_in().await;
        self.complete(&callback, &start.state).await
    }
}

/// The callback's query, as the console's route would extract it.
fn callback(url: &Url) -> Callback {
    let query = url.query().unwrap_or("");
    serde_urlencoded::from_str(query).unwrap()
}

/// A shorter floor between key fetches, for tests of a rotation.
fn quick_refetch(client: SignInClient) -> SignInClient {
    client.with_key_refetch_floor(Duration::ZERO)
}
