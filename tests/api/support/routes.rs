//! The server's routes as a client reaches them: each path spelled once here, and a
//! `TestApp` method per route, so a test says what it does (`app.post_signup(&fields)`) and
//! a moved route is one edit.

use serde_json::Value;

use crate::support::helpers::TestApp;

/// Every path the tests ask for.
pub mod paths {
    pub const HOME: &str = "/";
    pub const SIGNUP: &str = "/signup";
    pub const CHECK_EMAIL: &str = "/signup/check-email";
    pub const CHECK_VOUCHER: &str = "/signup/check-voucher";
    /// The verification link's path before its token.
    pub const VERIFY: &str = "/verify/";
    pub const PASSWORD: &str = "/password";
    /// The reset link's path before its token.
    pub const PASSWORD_LINK: &str = "/password/";
    pub const DEBUG_MAILS: &str = "/debug/mails";
    pub const HEALTHZ: &str = "/healthz";
    pub const READYZ: &str = "/readyz";
    pub const METRICS: &str = "/metrics";
    pub const FAVICON: &str = "/favicon.ico";
    pub const STYLE: &str = "/assets/style.css";
    pub const HTMX_SCRIPT: &str = "/assets/htmx.min.js";
    pub const API_SPEC: &str = "/api/api-spec.json";
    pub const API_ROOT: &str = "/api/v1/";
    pub const API_EMAIL_VERIFICATION: &str = "/api/v1/email-verification";
    pub const API_ACCOUNT_CREATION: &str = "/api/v1/account_creation";
    pub const API_PASSWORD_RESET: &str = "/api/v1/password_reset";

    /// The sign-up page in a language: `/de`.
    pub fn home_in(lang: &str) -> String {
        format!("/{lang}")
    }

    /// The reset page in a language: `/de/password`.
    pub fn password_in(lang: &str) -> String {
        format!("/{lang}{PASSWORD}")
    }

    /// A verification link's path: `/verify/{token}`.
    pub fn verify(token: &str) -> String {
        format!("{VERIFY}{token}")
    }

    /// A reset link's path: `/password/{token}`.
    pub fn password_link(token: &str) -> String {
        format!("{PASSWORD_LINK}{token}")
    }
}

/// The header HTMX sends with its requests.
pub const HTMX: &[(&str, &str)] = &[("hx-request", "true")];

/// The form fields of a complete sign-up (the language left to the server).
pub fn sign_up_fields<'a>(
    email: &'a str,
    first: &'a str,
    last: &'a str,
) -> [(&'a str, &'a str); 5] {
    [
        ("email", email),
        ("consent_email", "yes"),
        ("consent_name", "yes"),
        ("first_name", first),
        ("last_name", last),
    ]
}

/// A JSON answer's status and body (the body as a JSON string when it is not JSON).
pub async fn json_answer(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let text = response.text().await.expect("a body");
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, body)
}

impl TestApp {
    /// Any request without a body, for what the other methods do not cover.
    pub async fn send(&self, method: reqwest::Method, path: &str) -> reqwest::Response {
        let request = self.client.request(method, self.url(path));
        request.send().await.expect("a request")
    }

    /// `body` with the given content type, as it is: damaged forms, raw JSON.
    pub async fn post_bytes(
        &self,
        path: &str,
        content_type: &str,
        body: impl Into<reqwest::Body>,
        headers: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut request = self.client.post(self.url(path)).body(body);
        request = request.header("content-type", content_type);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send().await.expect("POST")
    }

    pub async fn post_json(
        &self,
        path: &str,
        body: &Value,
        headers: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut request = self.client.post(self.url(path)).json(body);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send().await.expect("POST")
    }

    /// The sign-up page (`/`).
    pub async fn get_home(&self) -> reqwest::Response {
        self.get(paths::HOME).await
    }

    /// The sign-up page in a language (`/de`).
    pub async fn get_home_in(&self, lang: &str) -> reqwest::Response {
        self.get(&paths::home_in(lang)).await
    }

    pub async fn post_signup(&self, fields: &[(&str, &str)]) -> reqwest::Response {
        self.post_form(paths::SIGNUP, fields).await
    }

    pub async fn post_signup_with(
        &self,
        fields: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> reqwest::Response {
        self.post_form_with(paths::SIGNUP, fields, headers).await
    }

    /// A complete, valid sign-up as a browser without JavaScript posts it.
    pub async fn sign_up(&self, email: &str, first: &str, last: &str) -> reqwest::Response {
        self.sign_up_in("en", email, first, last).await
    }

    /// As [`sign_up`](Self::sign_up), from the form in `lang`.
    pub async fn sign_up_in(
        &self,
        lang: &str,
        email: &str,
        first: &str,
        last: &str,
    ) -> reqwest::Response {
        let mut fields = sign_up_fields(email, first, last).to_vec();
        fields.push(("lang", lang));
        self.post_signup(&fields).await
    }

    /// Signs up and confirms the mailed link: the account exists, made by this server.
    pub async fn create_account(&self, email: &str, first: &str, last: &str) {
        let signed_up = self.sign_up(email, first, last).await;
        assert_eq!(signed_up.status(), 200, "the sign-up of {email} is taken");
        let path = self.verification_path(email).await;
        let result = self.confirm(&path).await;
        assert_eq!(result.status(), 200, "the account of {email} is created");
    }

    /// The address step's check (`/signup/check-email`), as HTMX sends it.
    pub async fn post_check_email(&self, email: &str, lang: &str) -> reqwest::Response {
        let fields = [("email", email), ("lang", lang)];
        self.post_check_email_with(&fields, HTMX).await
    }

    pub async fn post_check_email_with(
        &self,
        fields: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> reqwest::Response {
        self.post_form_with(paths::CHECK_EMAIL, fields, headers)
            .await
    }

    /// The page behind a verification link with `token` (`/verify/{token}`).
    pub async fn get_verify(&self, token: &str) -> reqwest::Response {
        self.get(&paths::verify(token)).await
    }

    /// Presses the button on the page behind a mailed link (`/verify/…`, `/password/…`).
    pub async fn confirm(&self, link_path: &str) -> reqwest::Response {
        self.confirm_in(link_path, "en").await
    }

    /// As [`confirm`](Self::confirm), from the page in `lang`.
    pub async fn confirm_in(&self, link_path: &str, lang: &str) -> reqwest::Response {
        self.post_form(link_path, &[("lang", lang)]).await
    }

    /// Asks for a reset link as a browser without JavaScript does (`POST /password`).
    pub async fn post_password(&self, email: &str, lang: &str) -> reqwest::Response {
        self.post_password_with(&[("email", email), ("lang", lang)], &[])
            .await
    }

    pub async fn post_password_with(
        &self,
        fields: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> reqwest::Response {
        self.post_form_with(paths::PASSWORD, fields, headers).await
    }

    pub async fn get_debug_mails(&self, headers: &[(&str, &str)]) -> reqwest::Response {
        self.get_with(paths::DEBUG_MAILS, headers).await
    }

    pub async fn get_metrics(&self) -> reqwest::Response {
        self.get(paths::METRICS).await
    }

    pub async fn get_healthz(&self) -> reqwest::Response {
        self.get(paths::HEALTHZ).await
    }

    pub async fn get_readyz(&self) -> reqwest::Response {
        self.get(paths::READYZ).await
    }

    /// The OpenAPI document, parsed.
    pub async fn api_spec(&self) -> Value {
        let response = self.get(paths::API_SPEC).await;
        assert_eq!(response.status(), 200, "the API spec");
        response.json().await.expect("the spec is JSON")
    }

    /// The API's root document, parsed.
    pub async fn api_root(&self) -> Value {
        let response = self.get(paths::API_ROOT).await;
        assert_eq!(response.status(), 200, "the API root");
        response.json().await.expect("the root is JSON")
    }

    /// `POST /api/v1/email-verification`: status and answer.
    pub async fn post_email_verification(
        &self,
        body: &Value,
        headers: &[(&str, &str)],
    ) -> (u16, Value) {
        let path = paths::API_EMAIL_VERIFICATION;
        json_answer(self.post_json(path, body, headers).await).await
    }

    /// `POST /api/v1/account_creation`: status and answer.
    pub async fn post_account_creation(
        &self,
        body: &Value,
        headers: &[(&str, &str)],
    ) -> (u16, Value) {
        let path = paths::API_ACCOUNT_CREATION;
        json_answer(self.post_json(path, body, headers).await).await
    }

    /// `POST /api/v1/password_reset`: status and answer.
    pub async fn post_password_reset(&self, body: &Value) -> (u16, Value) {
        let path = paths::API_PASSWORD_RESET;
        json_answer(self.post_json(path, body, &[]).await).await
    }
}
