//! A fake Microsoft Graph and Entra token endpoint, served over real HTTP on 127.0.0.1:0.
//! It behaves like the real services where our client depends on it: the token endpoint
//! verifies the client assertion (RS256 signature against the test certificate, `x5t`,
//! `aud`, `iss`/`sub`, `nbf`/`exp`, `jti` reuse) and answers with Entra's error bodies;
//! Graph checks the bearer token, keeps users, groups and licences in memory, answers with
//! Graph's error envelopes and `request-id` headers, and can throttle, fail, lag and slow
//! down on request. Every round trip is counted per endpoint.

mod directory;
mod lifecycle;
mod members;
pub mod passes;
pub mod token;
mod users;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use base64::Engine;
use poem::http::StatusCode;
use poem::listener::{Acceptor, Listener, TcpListener};
use poem::{Request, Response, Server};
use ring::rand::SecureRandom;
use serde_json::{Value, json};

pub const TENANT: &str = "7f3c0a52-9f0e-4a8e-b1c2-0d1e2f3a4b5c";
pub const CLIENT_ID: &str = "0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9";
pub const DOMAIN: &str = "tenant.example";

/// Where a request went; round trips are counted per endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    Token,
    ListUsers,
    CreateUser,
    GetUser,
    /// `PATCH /users/{id}` (a new temporary password).
    UpdateUser,
    Batch,
    SubscribedSkus,
    GetGroup,
    /// `POST /users/{id}/checkMemberGroups` (the operator sign-in's overage path).
    CheckMemberGroups,
    /// `POST /users/{id}/assignLicense` on its own (not in a `$batch`).
    AssignLicense,
    /// `DELETE /users/{id}`.
    DeleteUser,
    /// `POST /directory/deletedItems/{id}/restore`.
    RestoreUser,
    /// `POST /users/{id}/authentication/temporaryAccessPassMethods`.
    CreatePass,
    /// `GET /policies/authenticationMethodsPolicy/authenticationMethodConfigurations/TemporaryAccessPass`.
    PassPolicy,
}

/// A user as the fake directory holds it; `payload` is the create request as received.
#[derive(Debug, Clone)]
pub struct FakeUser {
    pub id: String,
    pub upn: String,
    pub given_name: Option<String>,
    pub surname: Option<String>,
    pub mail: Option<String>,
    pub usage_location: Option<String>,
    pub payload: Value,
    pub licences: Vec<String>,
    /// Whether the user may sign in (`accountEnabled`).
    pub enabled: bool,
    /// The password the user signs in with now: from the create, or the latest change.
    pub password: Option<String>,
    /// Whether the password must be changed at the next sign-in.
    pub must_change_password: bool,
    /// `createdDateTime`, in Unix seconds.
    pub created_at: u64,
    /// `onPremisesExtensionAttributes` that hold a value (`extensionAttribute15` → …).
    pub extension_attributes: BTreeMap<String, String>,
    /// The user's Temporary Access Pass (the latest: a new one replaces it).
    pub pass: Option<passes::FakePass>,
    /// Temporary Access Passes made for this user so far.
    pub passes_made: usize,
    /// Requests about this user that still 404 (replication lag).
    lag: usize,
}

#[derive(Debug, Clone)]
struct FakeGroup {
    name: String,
    members: Vec<String>,
}

#[derive(Debug, Clone)]
struct FakeSku {
    id: String,
    part: String,
    enabled: i64,
    consumed: i64,
}

#[derive(Debug, Clone, Copy)]
enum FaultKind {
    /// 429 with `Retry-After` seconds.
    Throttle(u64),
    /// 503, with or without `Retry-After`.
    Unavailable(Option<u64>),
    /// Answer normally, but this much later (the work is done first, as on a slow server).
    Delay(Duration),
    /// An error Graph gives no retry hint for (a 500, say).
    Fail(u16),
}

#[derive(Debug)]
struct Fault {
    endpoint: Option<Endpoint>,
    kind: FaultKind,
    remaining: usize,
}

/// Everything the fake knows; locked only briefly, never across an await.
struct State {
    base: String,
    cert_key: jsonwebtoken::DecodingKey,
    x5t: String,
    token_lifetime: u64,
    tokens: HashMap<String, std::time::Instant>,
    used_jti: HashSet<String>,
    users: Vec<FakeUser>,
    /// Deleted users, restorable (Entra's `directory/deletedItems`).
    deleted: Vec<FakeUser>,
    groups: BTreeMap<String, FakeGroup>,
    skus: Vec<FakeSku>,
    faults: Vec<Fault>,
    item_throttles: usize,
    item_retry_after: u64,
    lag_for_new_users: usize,
    race: Option<(String, String, String)>,
    /// How many requests the raced user stays invisible to (replication lag).
    race_lag: usize,
    /// An extension attribute the raced user carries (another mailbox's tag, say).
    race_attribute: Option<(String, String)>,
    page_size: usize,
    counts: HashMap<Endpoint, usize>,
    /// Every request to Graph (not the token endpoint): when it arrived, where, the status.
    log: Vec<(std::time::Instant, Endpoint, u16)>,
    /// Microsoft's write limit, when set: at most `.0` writes in any `.1`.
    write_budget: Option<(usize, Duration)>,
    /// When each write within the budget's window was accepted.
    writes: std::collections::VecDeque<std::time::Instant>,
    /// Writes accepted in total (a `$batch` counts its parts).
    writes_total: usize,
    filters: Vec<String>,
    next_id: u64,
    /// The application roles the issued tokens carry (the app's Graph permissions).
    roles: Vec<String>,
    /// Password changes refused with 403 (`None`: all of them), as Graph refuses an app
    /// without the permission, or any app for a user holding an administrator role.
    forbidden_passwords: Option<Option<String>>,
    /// The tenant's Temporary Access Pass policy.
    pass_policy: passes::PassPolicy,
}

/// An HTTP answer before it becomes a poem response.
pub struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Option<Value>,
}

impl Reply {
    fn json(status: u16, body: Value) -> Self {
        let id = guid();
        Reply {
            status,
            headers: vec![
                ("request-id".into(), id.clone()),
                ("client-request-id".into(), id),
            ],
            body: Some(body),
        }
    }

    fn empty(status: u16) -> Self {
        let mut reply = Reply::json(status, Value::Null);
        reply.body = None;
        reply
    }

    fn with_header(mut self, name: &str, value: String) -> Self {
        self.headers.push((name.into(), value));
        self
    }

    pub fn into_response(self) -> Response {
        let mut builder =
            Response::builder().status(StatusCode::from_u16(self.status).expect("a valid status"));
        // Graph dates every answer; provisioning compares it with `createdDateTime`.
        builder = builder.header(
            "date",
            httpdate::fmt_http_date(std::time::SystemTime::now()),
        );
        for (name, value) in &self.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        match self.body {
            Some(body) => builder
                .content_type("application/json")
                .body(body.to_string()),
            None => builder.finish(),
        }
    }
}

/// Graph's error envelope, with the request id in the header and in `innerError`.
pub fn graph_error(status: u16, code: &str, message: &str) -> Reply {
    let id = guid();
    let body = json!({ "error": {
        "code": code,
        "message": message,
        "innerError": { "date": iso_now(), "request-id": id, "client-request-id": id }
    }});
    Reply {
        status,
        headers: vec![
            ("request-id".into(), id.clone()),
            ("client-request-id".into(), id),
        ],
        body: Some(body),
    }
}

/// The running fake; the server stops when this is dropped.
pub struct FakeGraph {
    pub base: String,
    state: Arc<Mutex<State>>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for FakeGraph {
    fn drop(&mut self) {
        self.server.abort();
    }
}

pub fn fixture(name: &str) -> String {
    format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// The test certificate's thumbprint as openssl printed it (`8E:D5:…`), independent of our
/// own thumbprint code.
pub fn openssl_thumbprint() -> String {
    let line = std::fs::read_to_string(fixture("graph-test-cert.sha1.txt")).expect("fixture");
    line.trim()
        .split_once('=')
        .expect("openssl's format")
        .1
        .to_owned()
}

impl FakeGraph {
    pub async fn start() -> FakeGraph {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let cert = std::fs::read(fixture("graph-test-cert.pem")).expect("test certificate");
        let cert_key = jsonwebtoken::DecodingKey::from_rsa_pem(&cert).expect("an RSA certificate");
        let digest: Vec<u8> = openssl_thumbprint()
            .split(':')
            .map(|byte| u8::from_str_radix(byte, 16).expect("hex"))
            .collect();
        let x5t = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest);
        let acceptor = TcpListener::bind("127.0.0.1:0")
            .into_acceptor()
            .await
            .expect("a port for the fake");
        let addr = *acceptor.local_addr()[0]
            .as_socket_addr()
            .expect("a TCP address");
        let base = format!("http://{addr}");
        let state = Arc::new(Mutex::new(State {
            base: base.clone(),
            cert_key,
            x5t,
            token_lifetime: 3599,
            tokens: HashMap::new(),
            used_jti: HashSet::new(),
            users: Vec::new(),
            deleted: Vec::new(),
            groups: BTreeMap::new(),
            skus: Vec::new(),
            faults: Vec::new(),
            item_throttles: 0,
            item_retry_after: 1,
            lag_for_new_users: 0,
            race_lag: 0,
            race_attribute: None,
            race: None,
            page_size: 999,
            counts: HashMap::new(),
            log: Vec::new(),
            write_budget: None,
            writes: std::collections::VecDeque::new(),
            writes_total: 0,
            filters: Vec::new(),
            next_id: 1,
            roles: [
                "User.ReadWrite.All",
                "GroupMember.ReadWrite.All",
                "Organization.Read.All",
                "UserAuthenticationMethod.ReadWrite.All",
                "Policy.Read.All",
            ]
            .map(str::to_owned)
            .to_vec(),
            forbidden_passwords: None,
            pass_policy: passes::PassPolicy::default(),
        }));
        let shared = state.clone();
        let app = poem::endpoint::make(move |req: Request| {
            let shared = shared.clone();
            async move { handle(shared, req).await }
        });
        let server = tokio::spawn(async move {
            let _ = Server::new_with_acceptor(acceptor).run(app).await;
        });
        FakeGraph {
            base,
            state,
            server,
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap()
    }

    /// `GRAPH_API_AUTH_AUTHORITY`.
    pub fn authority(&self) -> String {
        format!("{}/{TENANT}", self.base)
    }

    /// This fake's token endpoint checks, for another fake answering for the same tenant
    /// (the fake OpenID provider): one certificate, one set of used `jti`s, tokens Graph takes.
    pub fn token_service(&self) -> token::TokenService {
        token::TokenService::new(self.state.clone())
    }

    // --- the directory's contents ---

    pub fn add_group(&self, name: &str) -> String {
        let mut state = self.state();
        let id = state.new_id();
        let group = FakeGroup {
            name: name.into(),
            members: Vec::new(),
        };
        state.groups.insert(id.clone(), group);
        id
    }

    /// A subscription with `enabled` units, none used.
    pub fn add_sku(&self, part: &str, enabled: i64) -> String {
        let mut state = self.state();
        let id = state.new_id();
        state.skus.push(FakeSku {
            id: id.clone(),
            part: part.into(),
            enabled,
            consumed: 0,
        });
        id
    }

    /// Sets a SKU's prepaid units (an administrator buys or cancels seats).
    pub fn set_sku_units(&self, sku: &str, enabled: i64) {
        let mut state = self.state();
        let sku = state.skus.iter_mut().find(|s| s.id == sku).expect("a SKU");
        sku.enabled = enabled;
    }

    /// A user someone else made a day ago (an administrator, another tool).
    pub fn add_user(&self, upn: &str, given: &str, surname: &str) -> String {
        let mut state = self.state();
        let id = state.insert_user(upn, Some(given), Some(surname), json!({}));
        state.user_mut(&id).created_at -= 86_400;
        id
    }

    /// As [`add_user`](Self::add_user), and the user stays out of the next `lag` name
    /// queries and lookups (replication lag): a create will find the name taken.
    pub fn add_user_lagging(&self, upn: &str, given: &str, surname: &str, lag: usize) -> String {
        let id = self.add_user(upn, given, surname);
        self.state().user_mut(&id).lag = lag;
        id
    }

    /// As [`add_user`](Self::add_user), with a value in one extension attribute (a mailbox
    /// tag, or whatever an administrator keeps there).
    pub fn add_user_with_attribute(
        &self,
        upn: &str,
        given: &str,
        surname: &str,
        (attribute, value): (&str, &str),
    ) -> String {
        let id = self.add_user(upn, given, surname);
        let mut state = self.state();
        let user = state.user_mut(&id);
        user.extension_attributes
            .insert(attribute.to_owned(), value.to_owned());
        id
    }

    /// The user stays out of the next `lag` name queries and lookups (replication lag).
    pub fn lag_user(&self, id: &str, lag: usize) {
        self.state().user_mut(id).lag = lag;
    }

    pub fn add_member(&self, group: &str, user: &str) {
        let mut state = self.state();
        let group = state.groups.get_mut(group).expect("a group");
        group.members.push(user.to_owned());
    }

    // --- faults ---

    /// The next `times` requests to `endpoint` (`None`: any Graph endpoint) get 429.
    pub fn throttle(&self, endpoint: Option<Endpoint>, times: usize, retry_after: u64) {
        self.fault(endpoint, times, FaultKind::Throttle(retry_after));
    }

    /// The next `times` requests to `endpoint` get 503.
    pub fn unavailable(&self, endpoint: Option<Endpoint>, times: usize, retry_after: Option<u64>) {
        self.fault(endpoint, times, FaultKind::Unavailable(retry_after));
    }

    /// The next `times` requests to `endpoint` fail with `status` (`generalException`).
    pub fn fail(&self, endpoint: Endpoint, times: usize, status: u16) {
        self.fault(Some(endpoint), times, FaultKind::Fail(status));
    }

    /// The next `times` requests to `endpoint` are answered `delay` late.
    pub fn delay(&self, endpoint: Endpoint, times: usize, delay: Duration) {
        self.fault(Some(endpoint), times, FaultKind::Delay(delay));
    }

    fn fault(&self, endpoint: Option<Endpoint>, remaining: usize, kind: FaultKind) {
        self.state().faults.push(Fault {
            endpoint,
            kind,
            remaining,
        });
    }

    /// Enforces a write budget as Microsoft does per application and tenant: beyond `limit`
    /// writes (the create, a password change, each part of a `$batch`) in any `window`,
    /// a write request is answered 429 with `Retry-After` until the window has room.
    pub fn write_budget(&self, limit: usize, window: Duration) {
        self.state().write_budget = Some((limit, window));
    }

    /// Writes accepted so far (a `$batch` counts its parts).
    pub fn writes(&self) -> usize {
        self.state().writes_total
    }

    /// Requests answered 429 so far.
    pub fn throttled(&self) -> usize {
        self.state()
            .log
            .iter()
            .filter(|(_, _, status)| *status == 429)
            .count()
    }

    /// The next `times` sub-requests of batches get 429 with `Retry-After`.
    pub fn throttle_batch_items(&self, times: usize, retry_after: u64) {
        let mut state = self.state();
        state.item_throttles = times;
        state.item_retry_after = retry_after;
    }

    /// Users created from now on are unknown to the next `requests` requests about them.
    pub fn replication_lag(&self, requests: usize) {
        self.state().lag_for_new_users = requests;
    }

    /// Just before the next create of `upn`, another sign-up creates it (a lost race).
    pub fn race_create(&self, upn: &str, given: &str, surname: &str) {
        self.state().race = Some((upn.into(), given.into(), surname.into()));
    }

    /// As [`race_create`](Self::race_create), and the rival carries `attribute` (an
    /// extension attribute's name and value).
    pub fn race_create_with_attribute(
        &self,
        upn: &str,
        given: &str,
        surname: &str,
        (attribute, value): (&str, &str),
    ) {
        let mut state = self.state();
        state.race = Some((upn.into(), given.into(), surname.into()));
        state.race_attribute = Some((attribute.into(), value.into()));
    }

    /// A valid access token, for requests a test sends to the fake itself (to see what it
    /// refuses), as the token endpoint would issue it.
    pub fn bearer(&self) -> String {
        let token = format!("fake-token-for-tests-{}", guid());
        let expiry = std::time::Instant::now() + Duration::from_secs(3600);
        self.state().tokens.insert(token.clone(), expiry);
        token
    }

    /// As [`race_create`](Self::race_create), and the rival stays invisible to the next
    /// `lag` lookups and name queries about it.
    pub fn race_create_lagging(&self, upn: &str, given: &str, surname: &str, lag: usize) {
        let mut state = self.state();
        state.race = Some((upn.into(), given.into(), surname.into()));
        state.race_lag = lag;
    }

    pub fn page_size(&self, size: usize) {
        self.state().page_size = size;
    }

    /// Every token issued so far stops working (as after a key rollover).
    pub fn revoke_tokens(&self) {
        let now = std::time::Instant::now();
        for expiry in self.state().tokens.values_mut() {
            *expiry = now;
        }
    }

    pub fn token_lifetime(&self, seconds: u64) {
        self.state().token_lifetime = seconds;
    }

    /// The roles (application permissions) tokens issued from now on carry.
    pub fn set_roles(&self, roles: &[&str]) {
        self.state().roles = roles.iter().map(|role| (*role).to_owned()).collect();
    }

    /// Turns the tenant's Temporary Access Pass policy on for all users, with lifetimes
    /// from `min` to `max` minutes.
    pub fn enable_passes(&self, min: u32, max: u32) {
        let mut state = self.state();
        state.pass_policy.enabled = true;
        state.pass_policy.min_minutes = min;
        state.pass_policy.max_minutes = max;
    }

    /// Turns the tenant's Temporary Access Pass policy off (as Entra ships it).
    pub fn disable_passes(&self) {
        self.state().pass_policy.enabled = false;
    }

    /// The Temporary Access Pass `upn` signs in with now, if any.
    pub fn pass_of(&self, upn: &str) -> Option<passes::FakePass> {
        self.user(upn).and_then(|user| user.pass)
    }

    /// Every password change is refused with Graph's 403 (the app lacks the permission).
    pub fn forbid_password_changes(&self) {
        self.state().forbidden_passwords = Some(None);
    }

    /// Password changes of this user are refused with Graph's 403 (an administrator).
    pub fn protect_user(&self, upn: &str) {
        self.state().forbidden_passwords = Some(Some(upn.to_lowercase()));
    }

    pub fn clear_faults(&self) {
        let mut state = self.state();
        state.faults.clear();
        state.item_throttles = 0;
    }

    // --- what happened ---

    pub fn count(&self, endpoint: Endpoint) -> usize {
        self.state().counts.get(&endpoint).copied().unwrap_or(0)
    }

    /// Every Graph request so far (token requests not included): arrival, endpoint, status.
    pub fn requests(&self) -> Vec<(std::time::Instant, Endpoint, u16)> {
        self.state().log.clone()
    }

    /// Round trips to Graph, token requests not included.
    pub fn graph_round_trips(&self) -> usize {
        let state = self.state();
        state
            .counts
            .iter()
            .filter(|(endpoint, _)| **endpoint != Endpoint::Token)
            .map(|(_, n)| n)
            .sum()
    }

    pub fn users(&self) -> Vec<FakeUser> {
        self.state().users.clone()
    }

    /// The password `upn` signs in with now (the test seam for "the mailed password works").
    pub fn password_of(&self, upn: &str) -> Option<String> {
        self.user(upn).and_then(|user| user.password)
    }

    pub fn user(&self, upn: &str) -> Option<FakeUser> {
        self.state()
            .users
            .iter()
            .find(|u| u.upn.eq_ignore_ascii_case(upn))
            .cloned()
    }

    pub fn members(&self, group: &str) -> Vec<String> {
        self.state().groups[group].members.clone()
    }

    /// Deleted users, restorable.
    pub fn deleted_users(&self) -> Vec<FakeUser> {
        self.state().deleted.clone()
    }

    /// Gives `upn` the licence `sku` (a seat taken), as an administrator would.
    pub fn assign_licence(&self, upn: &str, sku: &str) {
        let mut state = self.state();
        let seat = state.skus.iter_mut().find(|s| s.id == sku).expect("a SKU");
        seat.consumed += 1;
        let user = state
            .users
            .iter_mut()
            .find(|u| u.upn.eq_ignore_ascii_case(upn))
            .expect("a user");
        user.licences.push(sku.to_owned());
    }

    /// Gives the user a usage location, which Graph needs to assign it a licence.
    pub fn set_usage_location(&self, upn: &str, location: &str) {
        let mut state = self.state();
        let user = state
            .users
            .iter_mut()
            .find(|u| u.upn.eq_ignore_ascii_case(upn))
            .expect("a user");
        user.usage_location = Some(location.to_owned());
    }

    /// The user is deleted for good (30 days after its deletion, Entra does this).
    pub fn purge_deleted(&self, id: &str) {
        self.state().deleted.retain(|user| user.id != id);
    }

    pub fn consumed(&self, sku: &str) -> i64 {
        self.state()
            .skus
            .iter()
            .find(|s| s.id == sku)
            .expect("a SKU")
            .consumed
    }

    /// The `$filter` of every user list request.
    pub fn filters(&self) -> Vec<String> {
        self.state().filters.clone()
    }
}

impl State {
    fn new_id(&mut self) -> String {
        self.next_id += 1;
        let mut random = [0u8; 4];
        ring::rand::SystemRandom::new().fill(&mut random).unwrap();
        format!(
            "{:08x}-0000-4000-8000-{:012x}",
            u32::from_le_bytes(random),
            self.next_id
        )
    }

    fn insert_user(
        &mut self,
        upn: &str,
        given: Option<&str>,
        surname: Option<&str>,
        payload: Value,
    ) -> String {
        let id = self.new_id();
        let enabled = payload["accountEnabled"].as_bool().unwrap_or(true);
        let profile = &payload["passwordProfile"];
        self.users.push(FakeUser {
            id: id.clone(),
            upn: upn.to_owned(),
            given_name: given.map(str::to_owned),
            surname: surname.map(str::to_owned),
            mail: payload["mail"].as_str().map(str::to_owned),
            usage_location: payload["usageLocation"].as_str().map(str::to_owned),
            password: profile["password"].as_str().map(str::to_owned),
            must_change_password: profile["forceChangePasswordNextSignIn"]
                .as_bool()
                .unwrap_or(false),
            created_at: unix_now(),
            extension_attributes: BTreeMap::new(),
            payload,
            licences: Vec::new(),
            enabled,
            pass: None,
            passes_made: 0,
            lag: 0,
        });
        id
    }

    pub(crate) fn user_mut(&mut self, id: &str) -> &mut FakeUser {
        self.users
            .iter_mut()
            .find(|u| u.id == id)
            .expect("a user the fake holds")
    }

    /// The fault for this request, if any: a replacement answer and/or a delay.
    fn take_fault(&mut self, endpoint: Endpoint) -> (Option<Reply>, Duration) {
        let mut delay = Duration::ZERO;
        let mut reply = None;
        for fault in &mut self.faults {
            let applies = fault.remaining > 0
                && match fault.endpoint {
                    Some(e) => e == endpoint,
                    None => endpoint != Endpoint::Token,
                };
            if !applies {
                continue;
            }
            match fault.kind {
                FaultKind::Delay(d) => delay += d,
                FaultKind::Throttle(_) | FaultKind::Unavailable(_) | FaultKind::Fail(_)
                    if reply.is_some() =>
                {
                    continue;
                }
                FaultKind::Fail(status) => {
                    reply = Some(graph_error(
                        status,
                        "generalException",
                        "General exception while processing.",
                    ));
                }
                FaultKind::Throttle(seconds) => {
                    reply =
                        Some(throttled(endpoint).with_header("Retry-After", seconds.to_string()));
                }
                FaultKind::Unavailable(retry_after) => {
                    let r = graph_error(503, "serviceNotAvailable", "Service unavailable");
                    reply = Some(match retry_after {
                        Some(seconds) => r.with_header("Retry-After", seconds.to_string()),
                        None => r,
                    });
                }
            }
            fault.remaining -= 1;
        }
        (reply, delay)
    }

    /// Counts a write against the budget, or answers 429 when it has no room for it.
    fn over_budget(&mut self, endpoint: Endpoint, body: &[u8]) -> Option<Reply> {
        let cost = match endpoint {
            Endpoint::CreateUser
            | Endpoint::UpdateUser
            | Endpoint::AssignLicense
            | Endpoint::DeleteUser
            | Endpoint::RestoreUser
            | Endpoint::CreatePass => 1,
            Endpoint::Batch => serde_json::from_slice::<Value>(body)
                .ok()
                .and_then(|batch| batch["requests"].as_array().map(Vec::len))
                .unwrap_or(1),
            _ => return None,
        };
        let Some((limit, window)) = self.write_budget else {
            self.writes_total += cost;
            return None;
        };
        let now = std::time::Instant::now();
        while self
            .writes
            .front()
            .is_some_and(|at| now.duration_since(*at) >= window)
        {
            self.writes.pop_front();
        }
        if self.writes.len() + cost > limit {
            // Room again once enough of the oldest writes have left the window.
            let frees = self
                .writes
                .get(self.writes.len() + cost - limit - 1)
                .copied();
            let wait = frees.map_or(window, |at| window.saturating_sub(now.duration_since(at)));
            let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            return Some(
                throttled(endpoint).with_header("Retry-After", seconds.max(1).to_string()),
            );
        }
        for _ in 0..cost {
            self.writes.push_back(now);
        }
        self.writes_total += cost;
        None
    }

    /// Checks the bearer token as Graph does.
    fn authorize(&self, header: Option<&str>) -> Result<(), Reply> {
        let Some(token) = header.and_then(|h| h.strip_prefix("Bearer ")) else {
            return Err(graph_error(
                401,
                "InvalidAuthenticationToken",
                "Access token is empty.",
            ));
        };
        match self.tokens.get(token) {
            Some(expiry) if std::time::Instant::now() < *expiry => Ok(()),
            Some(_) => Err(graph_error(
                401,
                "InvalidAuthenticationToken",
                "Access token has expired or is not yet valid.",
            )),
            None => Err(graph_error(
                401,
                "InvalidAuthenticationToken",
                "Access token validation failure.",
            )),
        }
    }
}

fn throttled(endpoint: Endpoint) -> Reply {
    if endpoint == Endpoint::Token {
        let mut reply = Reply::json(429, json!({ "error": "temporarily_unavailable" }));
        reply.headers.clear();
        return reply;
    }
    graph_error(
        429,
        "TooManyRequests",
        "Too many requests. Please retry after the time in the Retry-After header.",
    )
}

fn classify(method: &poem::http::Method, path: &str) -> Option<Endpoint> {
    use poem::http::Method;
    // Any tenant: a wrong one gets Entra's AADSTS90002 from the token endpoint.
    if path.ends_with("/oauth2/v2.0/token") && *method == Method::POST {
        return Some(Endpoint::Token);
    }
    let rest = path.strip_prefix("/v1.0/")?;
    let segments: Vec<&str> = rest.split('/').collect();
    match (method.as_str(), segments.as_slice()) {
        ("GET", ["users"]) => Some(Endpoint::ListUsers),
        ("POST", ["users"]) => Some(Endpoint::CreateUser),
        ("GET", ["users", _]) => Some(Endpoint::GetUser),
        ("PATCH", ["users", _]) => Some(Endpoint::UpdateUser),
        ("POST", ["$batch"]) => Some(Endpoint::Batch),
        ("GET", ["subscribedSkus"]) => Some(Endpoint::SubscribedSkus),
        ("GET", ["groups", _]) => Some(Endpoint::GetGroup),
        ("POST", ["users", _, "checkMemberGroups"]) => Some(Endpoint::CheckMemberGroups),
        ("POST", ["users", _, "assignLicense"]) => Some(Endpoint::AssignLicense),
        ("DELETE", ["users", _]) => Some(Endpoint::DeleteUser),
        ("POST", ["directory", "deletedItems", _, "restore"]) => Some(Endpoint::RestoreUser),
        ("POST", ["users", _, "authentication", "temporaryAccessPassMethods"]) => {
            Some(Endpoint::CreatePass)
        }
        (
            "GET",
            [
                "policies",
                "authenticationMethodsPolicy",
                "authenticationMethodConfigurations",
                "TemporaryAccessPass",
            ],
        ) => Some(Endpoint::PassPolicy),
        _ => None,
    }
}

async fn handle(shared: Arc<Mutex<State>>, mut req: Request) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let query = req.uri().query().unwrap_or("").to_owned();
    let authorization = req.header("authorization").map(str::to_owned);
    let eventual = req
        .header("consistencylevel")
        .is_some_and(|level| level.eq_ignore_ascii_case("eventual"));
    let body = req.take_body().into_bytes().await.unwrap_or_default();
    let (reply, delay) = {
        let mut state = shared.lock().unwrap();
        match classify(&method, &path) {
            None => (
                graph_error(
                    400,
                    "BadRequest",
                    &format!("Resource not found for the segment '{path}'."),
                ),
                Duration::ZERO,
            ),
            Some(endpoint) => {
                *state.counts.entry(endpoint).or_default() += 1;
                let (fault, delay) = state.take_fault(endpoint);
                let reply = match fault {
                    Some(reply) => reply,
                    None if endpoint == Endpoint::Token => token::issue(&mut state, &path, &body),
                    None => match state.authorize(authorization.as_deref()) {
                        Err(reply) => reply,
                        Ok(()) => match state.over_budget(endpoint, &body) {
                            Some(reply) => reply,
                            None => directory::handle(
                                &mut state,
                                endpoint,
                                directory::Request {
                                    path: &path,
                                    query: &query,
                                    body: &body,
                                    eventual,
                                },
                            ),
                        },
                    },
                };
                if endpoint != Endpoint::Token {
                    state
                        .log
                        .push((std::time::Instant::now(), endpoint, reply.status));
                }
                (reply, delay)
            }
        }
    };
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    reply.into_response()
}

/// A random GUID, for request ids and trace ids.
pub fn guid() -> String {
    let mut b = [0u8; 16];
    ring::rand::SystemRandom::new().fill(&mut b).unwrap();
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// `2026-11-28T13:48:00`, as in Graph's `innerError.date`.
pub fn iso_now() -> String {
    iso(unix_now())
}

/// Unix seconds as `2026-11-28T13:48:00` (add `Z` for `createdDateTime`).
pub fn iso(secs: u64) -> String {
    let (days, rest) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}
