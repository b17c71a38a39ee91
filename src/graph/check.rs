//! `ms365-accountcreator check` for Graph: is the key readable and the certificate's, can we
//! get a token, does the tenant have every SKU with free units and every group. One result
//! per check, so an operator sees everything wrong at once.

use super::credentials::{Certificate, PrivateKey, Thumbprint};
use super::types::{Group, SubscribedSkus};
use super::{GraphClient, GraphSettings, SetupError};

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

/// Checks the Graph settings and the tenant: the credential files first (each on its own,
/// for precise messages), then, with a client, the token, the SKUs and the groups.
pub async fn check(settings: &GraphSettings) -> Vec<CheckResult> {
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
        Ok(client) => results.extend(client.check().await),
        // The credential problems are reported above already.
        Err(SetupError::Credentials(_)) if results.iter().any(|r| !r.ok) => {}
        Err(err) => results.push(CheckResult::fail("Graph settings", err.to_string())),
    }
    results
}

impl GraphClient {
    /// The checks that need the tenant: a token, the SKUs, the groups.
    pub async fn check(&self) -> Vec<CheckResult> {
        let deadline = self.deadline();
        if let Err(err) = self.auth.token(&self.net, &deadline).await {
            return vec![CheckResult::fail("Graph token", err.to_string())];
        }
        let mut results = vec![CheckResult::pass(
            "Graph token",
            "obtained an app-only access token",
        )];
        if !self.skus.is_empty() {
            results.extend(self.check_skus().await);
        }
        for group in &self.groups {
            results.push(self.check_group(group).await);
        }
        results
    }

    async fn check_skus(&self) -> Vec<CheckResult> {
        let deadline = self.deadline();
        let skus = match self.url("subscribedSkus") {
            Ok(url) => self
                .send(&deadline, "list SKUs", |http| http.get(url.clone()))
                .await
                .and_then(|reply| reply.json::<SubscribedSkus>()),
            Err(err) => Err(err),
        };
        let skus = match skus {
            Ok(skus) => skus.value,
            Err(err) => {
                return vec![CheckResult::fail(
                    "licence SKUs",
                    format!("cannot list the tenant's subscribed SKUs: {err}"),
                )];
            }
        };
        self.skus
            .iter()
            .map(|wanted| {
                let name = format!("licence SKU {wanted}");
                match skus.iter().find(|s| s.sku_id.eq_ignore_ascii_case(wanted)) {
                    None => CheckResult::fail(
                        name,
                        "the tenant has no subscription with this SKU id: correct GRAPH_API_LICENSE_SKUS",
                    ),
                    Some(sku) => {
                        let free = sku.prepaid_units.enabled - sku.consumed_units;
                        let detail = format!(
                            "{}: {free} of {} licences free",
                            sku.sku_part_number, sku.prepaid_units.enabled
                        );
                        if free > 0 {
                            CheckResult::pass(name, detail)
                        } else {
                            CheckResult::fail(name, format!("{detail}; new users cannot get one"))
                        }
                    }
                }
            })
            .collect()
    }

    async fn check_group(&self, group: &str) -> CheckResult {
        let name = format!("group {group}");
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
                "no group with this object id in the tenant: correct GRAPH_API_GROUPS_FOR_NEW_USERS",
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
