//! The operator console (issue 25): its sign-in with Microsoft against the fake OpenID
//! provider, its session, its pages and actions, the audit log every action writes, and
//! the commands beside it.
//!
//! The server runs on 127.0.0.1 and the provider on `localhost`: two sites, as the server
//! and Entra are, so the callback is a cross-site navigation as in a browser.

mod actions;
mod audit_export;
mod extend;
mod pages;
mod session;
mod sheet;
mod sign_in;
mod vouchers;

use serde_json::Value;

use crate::support::fake_graph::{DOMAIN, FakeGraph};
use crate::support::fake_oidc::{FakeOidc, Groups, Person};
use crate::support::helpers::{TestApp, header};

/// Every console path the tests ask for.
pub mod paths {
    pub const ADMIN: &str = "/admin";
    pub const SIGN_IN: &str = "/admin/sign-in";
    pub const CALLBACK: &str = "/admin/callback";
    pub const SIGN_OUT: &str = "/admin/sign-out";
    pub const SIGNUPS: &str = "/admin/signups";
    pub const RETRY: &str = "/admin/signups/retry";
    pub const ACCOUNTS: &str = "/admin/accounts";
    pub const FORGET: &str = "/admin/accounts/forget";
    pub const EXTEND: &str = "/admin/accounts/extend";
    pub const AUDIT: &str = "/admin/audit";
    pub const VOUCHERS: &str = "/admin/vouchers";
    pub const VOUCHER_REVOKE: &str = "/admin/vouchers/revoke";
    pub const VOUCHER_SHEET: &str = "/admin/vouchers/sheet";
    pub const AUDIT_EXPORT: &str = "/admin/audit/export";
}

/// The fakes, an operator group, and a server with the console on.
pub struct Console {
    pub graph: FakeGraph,
    pub oidc: FakeOidc,
    pub admins: String,
    pub app: TestApp,
}

impl Console {
    pub async fn start() -> Console {
        Console::start_with(TestApp::builder()).await
    }

    /// The console on a server from `builder` (a directory, settings of the test's own).
    pub async fn start_with(builder: crate::support::spawn::AppBuilder) -> Console {
        Console::start_in(FakeGraph::start().await, builder, &[]).await
    }

    /// The console of a server that licenses new users with `skus` of `graph`.
    pub async fn start_in(
        graph: FakeGraph,
        builder: crate::support::spawn::AppBuilder,
        skus: &[String],
    ) -> Console {
        let oidc = FakeOidc::start(&graph).await;
        let admins = graph.add_group("Account creator operators");
        let mut env = crate::graph::env(&graph, &[], skus);
        env.extend([
            ("GRAPH_API_AUTH_AUTHORITY".to_owned(), oidc.authority()),
            ("ADMIN_ENABLED".to_owned(), "true".to_owned()),
            ("ADMIN_GROUP_IDS".to_owned(), admins.clone()),
        ]);
        let app = builder.envs(&env).spawn().await;
        oidc.register_redirect_uri(&app.url(paths::CALLBACK));
        Console {
            graph,
            oidc,
            admins,
            app,
        }
    }

    /// A person of the tenant whose id_token lists `groups`.
    pub fn person(&self, upn: &str, groups: Groups) -> Person {
        let oid = self.graph.add_user(upn, "Grace", "Hopper");
        Person {
            oid,
            upn: upn.to_owned(),
            name: "Grace Hopper".into(),
            groups,
        }
    }

    /// A member of the operator group, who signs in next.
    pub fn member(&self) -> Person {
        let person = self.person(
            &format!("grace.hopper@{DOMAIN}"),
            Groups::Listed(vec![self.admins.clone()]),
        );
        self.graph.add_member(&self.admins, &person.oid);
        self.oidc.sign_in_as(person.clone());
        person
    }

    /// Opens `/admin` without a session and follows the browser to the provider: the URL
    /// the provider sends it back to, and the sign-in's cookie (`name=value`).
    pub async fn to_provider_and_back(&self) -> (url::Url, String) {
        let start = self.app.get(paths::ADMIN).await;
        assert_eq!(start.status(), 303, "to Microsoft");
        let cookie = cookie(&start, "console_sign_in").expect("the sign-in's cookie");
        let authorize = header(&start, "location").unwrap();
        (self.oidc.authorize(&authorize).await, cookie)
    }

    /// The callback at `back`, in a browser holding `cookie`.
    pub async fn callback(&self, back: &url::Url, cookie: Option<&str>) -> reqwest::Response {
        let mut request = self.app.client.get(back.as_str());
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        request.send().await.expect("GET the callback")
    }

    /// Signs the member in: the session cookie (`name=value`).
    pub async fn sign_in(&self) -> String {
        let (back, cookie) = self.to_provider_and_back().await;
        let signed_in = self.callback(&back, Some(&cookie)).await;
        assert_eq!(signed_in.status(), 200, "signed in");
        session_cookie(&signed_in).expect("a session cookie")
    }

    /// GET `path` in a browser holding `cookie`.
    pub async fn get(&self, path: &str, cookie: &str) -> reqwest::Response {
        self.app.get_with(path, &[("cookie", cookie)]).await
    }

    /// POST a form to `path`, from a page of ours, in a browser holding `cookie`.
    pub async fn post(
        &self,
        path: &str,
        cookie: &str,
        fields: &[(&str, &str)],
    ) -> reqwest::Response {
        let headers = [("cookie", cookie), ("sec-fetch-site", "same-origin")];
        self.app.post_form_with(path, fields, &headers).await
    }

    /// The audit log as the console exports it (oldest first), from the running server.
    pub async fn audit(&self, cookie: &str) -> Vec<Value> {
        let export = self.get(paths::AUDIT_EXPORT, cookie).await;
        assert_eq!(export.status(), 200);
        export
            .text()
            .await
            .unwrap()
            .lines()
            .map(|line| serde_json::from_str(line).expect("every line is JSON"))
            .collect()
    }
}

/// The `Set-Cookie` headers of `response`.
pub fn set_cookies(response: &reqwest::Response) -> Vec<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|value| value.to_str().ok().map(str::to_owned))
        .collect()
}

/// The whole `Set-Cookie` line for the cookie `name`.
pub fn set_cookie(response: &reqwest::Response, name: &str) -> Option<String> {
    set_cookies(response)
        .into_iter()
        .find(|line| line.starts_with(&format!("{name}=")))
}

/// `name=value` of the cookie `name` the response sets (not a removal).
pub fn cookie(response: &reqwest::Response, name: &str) -> Option<String> {
    let line = set_cookie(response, name)?;
    let pair = line.split(';').next()?.trim().to_owned();
    (pair.len() > name.len() + 1).then_some(pair)
}

/// The session cookie the response sets.
pub fn session_cookie(response: &reqwest::Response) -> Option<String> {
    cookie(response, "console_session")
}
