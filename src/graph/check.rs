//! `ms365-accountcreator check` for Graph: is the key readable and the certificate's, can we
//! get a token, does the tenant have every SKU with free units and every group, and — with
//! Temporary Access Passes — may the app make them and does the tenant's policy allow them.
//! One result per check, so an operator sees everything wrong at once.

mod owners;
mod pass;

pub use owners::GrantOwner;

use super::credentials::{Certificate, PrivateKey, Thumbprint};

use super::types::{Group, SubscribedSku, SubscribedSkus};
use super::{GraphClient, GraphSettings, SetupError};
use crate::directory::{PASSWORD_ROLES, PassRequest};

/// The outcome of one check, as one line for a person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckResult {
    /// What was checked, e.g. `Graph token`.
    pub name: String,
    pub ok: bool,
    /// What was found, or what is wrong and what to do.
    pub detail: String,
}

impl CheckResult {
    pub fn pass(name: impl Into<String>, detail: impl Into<String>) -> Self {
        CheckResult {
            name: name.into(),
            ok: true,
            detail: detail.into(),
        }
    }

    pub fn fail(name: impl Into<String>, detail: impl Into<String>) -> Self {
        CheckResult {
            name: name.into(),
            ok: false,
            detail: detail.into(),
        }
    }
}

impl std::fmt::Display for CheckResult {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mark = if self.ok { "ok  " } else { "FAIL" };
        write!(f, "{mark} {}: {}", self.name, self.detail)
    }
}

/// What the rest of the configuration asks of the tenant.
#[derive(Debug, Clone, Copy, Default)]
pub struct Needs {
    /// `PASSWORD_RESET_ENABLED`.
    pub password_reset: bool,
    /// `CREDENTIAL = temporary_access_pass`: how passes are made.
    pub pass: Option<PassRequest>,
}

/// Checks the Graph settings and the tenant: the credential files first (each on its own,
/// for precise messages), then, with a client, the token, its roles, the SKUs and the
/// groups, the pass policy when passes are the credential, and the licences and groups
/// of each of `owners` (who else names them: each voucher with its own) like the
/// configured ones.
pub async fn check(
    settings: &GraphSettings,
    needs: Needs,
    owners: &[GrantOwner<'_>],
) -> Vec<CheckResult> {
    let mut results = Vec::new();
    let key = match PrivateKey::load(&settings.privkey_path) {
        Ok(key) => {
            results.push(CheckResult::pass(
                "Graph private key",
                format!(
                    "{}: RSA {} bits, {}",
                    settings.privkey_path.display(),
                    key.bits(),
                    key.format
                ),
            ));
            Some(key)
        }
        Err(err) => {
            results.push(CheckResult::fail("Graph private key", err.to_string()));
            None
        }
    };
    if let Some(cert_path) = &settings.cert_path {
        match (Certificate::load(cert_path), &key) {
            (Err(err), _) => results.push(CheckResult::fail("Graph certificate", err.to_string())),
            (Ok(cert), Some(key)) if cert.public_key != key.public_key => {
                results.push(CheckResult::fail(
                    "Graph certificate",
                    format!(
                        "{} is not the certificate of the private key {}",
                        cert_path.display(),
                        settings.privkey_path.display()
                    ),
                ))
            }
            (Ok(cert), _) => results.push(CheckResult::pass(
                "Graph certificate",
                format!(
                    "{}: thumbprint {}{}",
                    cert_path.display(),
                    cert.thumbprint.to_hex(),
                    if key.is_some() {
                        ", matches the private key"
                    } else {
                        ""
                    }
                ),
            )),
        }
    }
    if let Some(raw) = &settings.pubkey_thumbprint {
        match Thumbprint::parse(raw) {
            Ok(thumbprint) => {
                results.push(CheckResult::pass("Graph thumbprint", thumbprint.to_hex()))
            }
            Err(err) => results.push(CheckResult::fail("Graph thumbprint", err.to_string())),
        }
    }
    match GraphClient::from_settings(settings) {
        Ok(client) => results.extend(client.check(needs, owners).await),
        // The credential problems are reported above already.
        Err(SetupError::Credentials(_)) if results.iter().any(|r| !r.ok) => {}
        Err(err) => results.push(CheckResult::fail("Graph settings", err.to_string())),
    }
    results
}

impl GraphClient {
    /// The checks that need the tenant: a token and its roles, the SKUs, the groups (the
    /// configured ones, then each owner's), the pass policy.
    pub async fn check(&self, needs: Needs, owners: &[GrantOwner<'_>]) -> Vec<CheckResult> {
        let deadline = self.deadline();
        let token = match self.auth.token(&self.net, &deadline).await {
            Ok(token) => token,
            Err(err) => return vec![CheckResult::fail("Graph token", err.to_string())],
        };
        let roles = roles_of(token.expose());
        // With passes, a reset issues a pass: no password is ever set.
        let resets_set_passwords = needs.password_reset && needs.pass.is_none();
        let mut results = vec![
            CheckResult::pass("Graph token", "obtained an app-only access token"),
            password_permission(roles.as_deref(), resets_set_passwords),
            pass::pass_permission(roles.as_deref(), needs.pass.is_some()),
        ];
        if let Some(request) = &needs.pass {
            results.extend(self.check_pass_policy(request).await);
        }
        if !self.skus.is_empty() {
            results.extend(self.check_skus().await);
        }
        for group in &self.groups {
            results.push(self.check_group(group).await);
        }
        if !owners.is_empty() {
            results.extend(self.check_owners(owners).await);
        }
        results
    }

    async fn check_skus(&self) -> Vec<CheckResult> {
        let skus = match self.subscribed_skus().await {
            Ok(skus) => skus,
            Err(failed) => return vec![failed],
        };
        self.skus
            .iter()
            .map(|wanted| judge_sku(&skus, wanted, "licence SKU", "GRAPH_API_LICENSE_SKUS"))
            .collect()
    }

    /// The tenant's subscribed SKUs, or the failed check saying why not.
    pub(super) async fn subscribed_skus(&self) -> Result<Vec<SubscribedSku>, CheckResult> {
        let deadline = self.deadline();
        let skus = match self.url("subscribedSkus") {
            Ok(url) => self
                .send(&deadline, "list SKUs", |http| http.get(url.clone()))
                .await
                .and_then(|reply| reply.json::<SubscribedSkus>()),
            Err(err) => Err(err),
        };
        skus.map(|skus| skus.value).map_err(|err| {
            CheckResult::fail(
                "licence SKUs",
                format!("cannot list the tenant's subscribed SKUs: {err}"),
            )
        })
    }

    async fn check_group(&self, group: &str) -> CheckResult {
        self.check_named_group(group, "group", "GRAPH_API_GROUPS_FOR_NEW_USERS")
            .await
    }

    /// Whether the group `group` exists; the result is named `{label} {group}`, and a
    /// missing group says to correct `fix`.
    pub(super) async fn check_named_group(
        &self,
        group: &str,
        label: &str,
        fix: &str,
    ) -> CheckResult {
        let name = format!("{label} {group}");
        let deadline = self.deadline();
        let mut url = match self.url(&format!("groups/{group}")) {
            Ok(url) => url,
            Err(err) => return CheckResult::fail(name, err.to_string()),
        };
        url.query_pairs_mut()
            .append_pair("$select", "id,displayName");
        let reply = match self
            .send(&deadline, "get group", |http| http.get(url.clone()))
            .await
        {
            Ok(reply) => reply,
            Err(err) => return CheckResult::fail(name, err.to_string()),
        };
        if reply.status == reqwest::StatusCode::NOT_FOUND {
            return CheckResult::fail(
                name,
                format!("no group with this object id in the tenant: correct {fix}"),
            );
        }
        match reply.json::<Group>() {
            Ok(found) => CheckResult::pass(
                name,
                format!("{} ({})", found.display_name.unwrap_or_default(), found.id),
            ),
            Err(err) => CheckResult::fail(name, err.to_string()),
        }
    }
}

/// Whether the tenant has `wanted` among `skus` with a licence free; the result is named
/// `{label} {wanted}`, and a missing SKU says to correct `fix`.
pub(super) fn judge_sku(
    skus: &[SubscribedSku],
    wanted: &str,
    label: &str,
    fix: &str,
) -> CheckResult {
    let name = format!("{label} {wanted}");
    match skus.iter().find(|s| s.sku_id.eq_ignore_ascii_case(wanted)) {
        None => CheckResult::fail(
            name,
            format!("the tenant has no subscription with this SKU id: correct {fix}"),
        ),
        Some(sku) => {
            let (prepaid, consumed) = (sku.prepaid_units.enabled, sku.consumed_units);
            let free = (prepaid - consumed).max(0);
            let detail = format!(
                "{}: {prepaid} prepaid, {consumed} consumed, {free} free",
                sku.sku_part_number
            );
            if free > 0 {
                CheckResult::pass(name, detail)
            } else {
                CheckResult::fail(
                    name,
                    format!(
                        "{detail}; new sign-ups wait in the queue (\"waiting for a licence\") until seats are added in the Microsoft 365 admin centre under Billing → Licenses"
                    ),
                )
            }
        }
    }
}

/// The `roles` claim of an access token (a JWT whose payload we read, not verify: Entra
/// just issued it to us). `None` when the token is not readable as one.
fn roles_of(token: &str) -> Option<Vec<String>> {
    use base64::Engine;
    #[derive(serde::Deserialize)]
    struct Payload {
        #[serde(default)]
        roles: Vec<String>,
    }
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    serde_json::from_slice::<Payload>(&bytes)
        .ok()
        .map(|payload| payload.roles)
}

/// Whether the token's roles allow setting passwords; a failure only when password resets
/// are enabled and need it.
fn password_permission(roles: Option<&[String]>, password_reset: bool) -> CheckResult {
    const NAME: &str = "Graph password permission";
    let wanted = PASSWORD_ROLES.join(" or ");
    let found = roles.and_then(|roles| {
        PASSWORD_ROLES
            .iter()
            .find(|wanted| roles.iter().any(|role| role == *wanted))
    });
    match (found, password_reset) {
        (Some(role), _) => CheckResult::pass(
            NAME,
            format!("the token carries {role}: password resets can set passwords"),
        ),
        (None, false) => CheckResult::pass(
            NAME,
            format!(
                "the token carries neither {wanted}; needed only with PASSWORD_RESET_ENABLED and CREDENTIAL=password"
            ),
        ),
        (None, true) if roles.is_none() => CheckResult::fail(
            NAME,
            format!("cannot read the token's roles; PASSWORD_RESET_ENABLED needs {wanted}"),
        ),
        (None, true) => CheckResult::fail(
            NAME,
            format!(
                "the token carries neither {wanted}, so password resets (PASSWORD_RESET_ENABLED) will be refused: add one under API permissions → Microsoft Graph → Application permissions in the app registration, grant admin consent, and run check again"
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    fn token_with(payload: &str) -> String {
        let encode = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        format!("{}.{}.sig", encode(r#"{"alg":"RS256"}"#), encode(payload))
    }

    #[test]
    fn the_roles_are_read_from_the_tokens_payload() {
        let token = token_with(r#"{"roles":["User.ReadWrite.All","Group.Read.All"]}"#);
        assert_eq!(
            roles_of(&token),
            Some(vec!["User.ReadWrite.All".into(), "Group.Read.All".into()])
        );
        assert_eq!(roles_of(&token_with(r#"{"aud":"x"}"#)), Some(vec![]));
        assert_eq!(roles_of("not-a-jwt"), None);
    }

    #[test]
    fn a_missing_password_role_fails_only_when_resets_are_enabled() {
        let narrow = vec!["User-PasswordProfile.ReadWrite.All".to_owned()];
        let none = vec!["Group.Read.All".to_owned()];
        assert!(password_permission(Some(&narrow), true).ok);
        assert!(password_permission(Some(&none), false).ok);
        let missing = password_permission(Some(&none), true);
        assert!(!missing.ok);
        assert!(
            missing
                .detail
                .contains("User-PasswordProfile.ReadWrite.All")
        );
        assert!(!password_permission(None, true).ok);
    }
}
