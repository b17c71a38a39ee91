//! Users: the free-name query, the lookup by UPN, the create and the changes (`PATCH`).

use std::collections::HashSet;

use reqwest::StatusCode;
use reqwest::header::CONTENT_TYPE;
use secrecy::ExposeSecret;
use url::Url;

use super::GraphClient;
use super::error::CallError;
use super::retry::{Attempt, Retrier, Retry, Stop};
use super::types::{CreateUser, PasswordProfile, UpdatePassword, User, UserPage};
use crate::directory::{DirectoryError, DirectoryUser, FreeName, MailboxTag, NameQuery, NewUser};
use crate::domain::MailNickname;

/// Lookups repeated while a user that Graph just said exists still reads as 404 (replication
/// lag). Few, because a lookup that really finds nothing should not keep the person waiting.
const LOOKUP_LAG_RETRIES: u32 = 3;

/// How far our clock may be from Graph's when Graph's answer has no `Date` (it always has
/// one; this only keeps a missing header from failing the sign-up).
const CLOCK_MARGIN_SECS: u64 = 300;

/// What the lookups read of a user: enough to adopt it, and its mailbox tag.
const USER_FIELDS: &str =
    "id,userPrincipalName,givenName,surname,createdDateTime,onPremisesExtensionAttributes";

impl GraphClient {
    /// The user carrying `tag`, else the first of `nick@domain`, `nick.2@domain`, … no user
    /// has: one query for both (following paging), instead of one GET per candidate.
    /// Filtering on an extension attribute is an advanced query (`ConsistencyLevel:
    /// eventual`, `$count=true`), answered from an index that may lag seconds behind: a
    /// same-named user made moments ago is caught by the create's "already exists", a
    /// tagged one by the store's registry.
    pub(super) async fn free_upn(
        &self,
        nickname: &MailNickname,
        known_taken: &[String],
        tag: &MailboxTag,
    ) -> Result<NameQuery, CallError> {
        let deadline = self.deadline();
        // OData string literals escape a quote by doubling it (o'brien → 'o''brien').
        let literal = |text: &str| format!("'{}'", text.replace('\'', "''"));
        let filter = format!(
            "startswith(userPrincipalName,{}) or {} eq {}",
            literal(nickname.as_str()),
            self.tag_attribute.path(),
            literal(tag.as_str()),
        );
        let mut first = self.url("users")?;
        first
            .query_pairs_mut()
            .append_pair("$filter", &filter)
            .append_pair("$select", USER_FIELDS)
            .append_pair("$count", "true")
            .append_pair("$top", "999");
        let mut taken: HashSet<String> = known_taken.iter().map(|upn| upn.to_lowercase()).collect();
        let mut tagged: Vec<User> = Vec::new();
        let mut next = Some(first);
        let mut as_of = None;
        while let Some(page_url) = next.take() {
            let reply = self
                .send(&deadline, "list users", |http| {
                    http.get(page_url.clone())
                        .header("ConsistencyLevel", "eventual")
                })
                .await?;
            as_of = as_of.or(reply.date);
            let page: UserPage = reply.json()?;
            for user in page.value {
                let held = self
                    .tag_attribute
                    .read(user.on_premises_extension_attributes.as_ref());
                if held.is_some_and(|held| tag.matches(&held)) {
                    tagged.push(user);
                } else {
                    taken.insert(user.user_principal_name.to_lowercase());
                }
            }
            next = page
                .next_link
                .map(|link| self.same_origin(&link))
                .transpose()?;
        }
        if let Some(user) = self.oldest(tagged) {
            return Ok(NameQuery::Tagged(user));
        }
        // Exact comparison of whole UPNs: `ada.lovelaceb@` and `ada.lovelace.2x@` match the
        // prefix query but take no candidate.
        let free = (1..=MailNickname::MAX_COLLISION_NUMBER)
            .map(|n| format!("{}@{}", nickname.numbered(n), self.domain))
            .find(|upn| !taken.contains(&upn.to_lowercase()))
            .ok_or_else(|| {
                CallError::Unexpected(format!(
                    "every username from {nickname} to {nickname}.{} is taken",
                    MailNickname::MAX_COLLISION_NUMBER
                ))
            })?;
        Ok(NameQuery::Free(FreeName {
            user_principal_name: free,
            as_of: as_of.unwrap_or_else(|| unix_now().saturating_sub(CLOCK_MARGIN_SECS)),
        }))
    }

    /// Of the users carrying one mailbox's tag, the first made (there should be one; more
    /// mean somebody copied a tag, which is logged).
    fn oldest(&self, tagged: Vec<User>) -> Option<DirectoryUser> {
        let count = tagged.len();
        let oldest = tagged
            .into_iter()
            .map(|user| self.directory_user(user))
            .min_by_key(|user| user.created_at.unwrap_or(u64::MAX))?;
        if count > 1 {
            tracing::warn!(count, object_id = %oldest.object_id, "several users carry the same mailbox tag; the oldest is taken as the mailbox's account");
        }
        Some(oldest)
    }

    /// A `@odata.nextLink`, accepted only on Graph's own origin: the bearer token goes with it.
    fn same_origin(&self, link: &str) -> Result<Url, CallError> {
        match Url::parse(link) {
            Ok(url) if url.origin() == self.v1.origin() => Ok(url),
            _ => Err(CallError::Unexpected(format!(
                "Graph's @odata.nextLink points elsewhere: {link}"
            ))),
        }
    }

    /// The user with this UPN, or `None`. Asked right after a create said the name is
    /// taken, so a 404 is repeated a few times: the user may exist but not be readable yet.
    pub(super) async fn get_user(&self, upn: &str) -> Result<Option<DirectoryUser>, CallError> {
        let deadline = self.deadline();
        let mut url = self.user_url(upn)?;
        url.query_pairs_mut().append_pair("$select", USER_FIELDS);
        let found = Retrier::new("get user", &self.net.policy, deadline)
            .max_lag(LOOKUP_LAG_RETRIES)
            .run(|| async {
                match self
                    .send(&deadline, "get user", |http| http.get(url.clone()))
                    .await
                {
                    Err(err) => Attempt::GiveUp(err),
                    Ok(reply) if reply.status == StatusCode::NOT_FOUND => {
                        Attempt::Retry(Retry::lagging("Graph does not know the user (yet)"))
                    }
                    Ok(reply) => Attempt::Done(reply),
                }
            })
            .await;
        match found {
            Ok(reply) => Ok(Some(self.directory_user(reply.json()?))),
            Err(Stop::GaveUp(err)) => Err(err),
            Err(Stop::Exhausted { .. }) => Ok(None),
        }
    }

    /// `{GRAPH_API_URL}/v1.0/users/{key}`, the key (an id or a UPN) escaped as one segment.
    pub(super) fn user_url(&self, key: &str) -> Result<Url, CallError> {
        let mut url = self.url("users/")?;
        url.path_segments_mut()
            .map_err(|()| CallError::Unexpected("GRAPH_API_URL cannot take a path".into()))?
            .pop_if_empty()
            .push(key);
        Ok(url)
    }

    /// Sets a new temporary password (`PATCH /users/{id}`, 204 on success), waiting out
    /// replication lag as [`patch_user`](Self::patch_user) does.
    pub(super) async fn patch_password(
        &self,
        object_id: &str,
        password: &secrecy::SecretString,
    ) -> Result<(), CallError> {
        let payload = UpdatePassword {
            password_profile: PasswordProfile {
                password: password.expose_secret(),
                force_change_password_next_sign_in: true,
            },
        };
        let body = bytes::Bytes::from(serde_json::to_vec(&payload).map_err(|err| {
            CallError::Unexpected(format!("cannot encode the password change: {err}"))
        })?);
        self.patch_user("set password", object_id, body).await?;
        tracing::info!(object_id, "set a new temporary password in Entra ID");
        Ok(())
    }

    /// Changes the user with `body` (`PATCH /users/{id}`, 204 on success), one write, named
    /// `operation` in the log and the write budget. A 404 is repeated a few times: the user
    /// may have been created moments ago on another replica, and a lagging replica is no
    /// reason to fail a sign-up or a reset.
    pub(super) async fn patch_user(
        &self,
        operation: &'static str,
        object_id: &str,
        body: bytes::Bytes,
    ) -> Result<(), CallError> {
        let deadline = self.deadline();
        let url = self.user_url(object_id)?;
        let patched = Retrier::new(operation, &self.net.policy, deadline)
            .run(|| async {
                let sent = self
                    .send_writes(&deadline, operation, 1, |http| {
                        http.patch(url.clone())
                            .header(CONTENT_TYPE, "application/json")
                            .body(body.clone())
                    })
                    .await;
                match sent {
                    Err(err) => Attempt::GiveUp(err),
                    Ok(reply) if reply.is_success() => Attempt::Done(()),
                    Ok(reply) if reply.status == StatusCode::NOT_FOUND => {
                        Attempt::Retry(Retry::lagging(reply.error()))
                    }
                    Ok(reply) => Attempt::GiveUp(CallError::Api(reply.error())),
                }
            })
            .await;
        match patched {
            Ok(()) => Ok(()),
            Err(Stop::GaveUp(err)) => Err(err),
            Err(Stop::Exhausted { problem, .. }) => Err(CallError::Api(problem)),
        }
    }

    /// Creates the user with the original program's payload. A taken UPN is
    /// [`DirectoryError::AlreadyExists`], so provisioning can adopt it or pick the next name.
    pub(super) async fn post_user(
        &self,
        user: &NewUser<'_>,
    ) -> Result<DirectoryUser, DirectoryError> {
        let deadline = self.deadline();
        let upn = user.user_principal_name;
        let local_part = upn.split_once('@').map_or(upn, |(local, _)| local);
        let payload = CreateUser {
            account_enabled: true,
            display_name: format!("{} {}", user.given_name, user.surname),
            given_name: user.given_name,
            surname: user.surname,
            mail_nickname: local_part,
            user_principal_name: upn,
            mail: upn,
            usage_location: &self.usage_location,
            password_policies: "DisablePasswordExpiration",
            password_profile: PasswordProfile {
                password: user.password.expose_secret(),
                force_change_password_next_sign_in: true,
            },
            tag: self.tag_attribute.payload(user.tag),
        };
        let body =
            bytes::Bytes::from(serde_json::to_vec(&payload).map_err(|err| {
                DirectoryError::Failed(format!("cannot encode the new user: {err}"))
            })?);
        let url = self
            .url("users")
            .map_err(|err| err.into_directory_error("creating the user"))?;
        let reply = self
            .send_writes(&deadline, "create user", 1, |http| {
                http.post(url.clone())
                    .header(CONTENT_TYPE, "application/json")
                    .body(body.clone())
            })
            .await
            .map_err(|err| err.into_directory_error("creating the user"))?;
        if !reply.is_success() {
            let err = reply.error();
            if err.is_upn_taken() {
                tracing::info!(
                    upn,
                    request_id = err.request_id.as_deref().unwrap_or(""),
                    "Graph: the username is taken"
                );
                return Err(DirectoryError::AlreadyExists);
            }
            return Err(CallError::Api(err).into_directory_error("creating the user"));
        }
        let created: User = reply
            .json()
            .map_err(|err| err.into_directory_error("creating the user"))?;
        tracing::info!(upn = %created.user_principal_name, object_id = %created.id, "created the user in Entra ID");
        let mut created = self.directory_user(created);
        // A create's answer lists no extension attributes unless asked; what was sent is set.
        created.tag = Some(user.tag.as_str().to_owned());
        Ok(created)
    }

    fn directory_user(&self, user: User) -> DirectoryUser {
        let created_at = user
            .created_date_time
            .as_deref()
            .and_then(|when| humantime::parse_rfc3339_weak(when).ok())
            .and_then(|when| when.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|since| since.as_secs());
        DirectoryUser {
            object_id: user.id,
            user_principal_name: user.user_principal_name,
            given_name: user.given_name,
            surname: user.surname,
            created_at,
            tag: self
                .tag_attribute
                .read(user.on_premises_extension_attributes.as_ref()),
        }
    }
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_secs())
}
