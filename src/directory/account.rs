//! What ending an account, and undoing that, needs from the directory (PRODUCT.md §9.4):
//! read a user with its state, disable or enable it, remove or give back its licences,
//! delete it, and bring a deleted user back. Each call is one directory write at most and
//! safe to repeat, so a run that resumes after a crash does each step once.

use super::DirectoryError;

/// A user as ending and restoring it see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountState {
    pub object_id: String,
    pub user_principal_name: String,
    /// Whether the user may sign in (`accountEnabled`).
    pub enabled: bool,
    /// The SKU ids of the licences assigned to the user directly (not through a group:
    /// those cannot be removed per user).
    pub licences: Vec<String>,
    /// What the user's mailbox tag attribute holds (`None`: empty).
    pub tag: Option<String>,
}

/// Licences to give and to take in one change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LicenceChange<'a> {
    pub add: &'a [String],
    pub remove: &'a [String],
}

/// The directory operations of an account's end; `GraphClient` and the simulated directory
/// implement them. `Ok(false)` from a write: there is no such user (any more).
#[async_trait::async_trait]
pub trait AccountControl: Send + Sync + std::fmt::Debug {
    /// The user with `object_id`, with its state; `None` when there is none (deleted).
    async fn account(&self, object_id: &str) -> Result<Option<AccountState>, DirectoryError>;

    /// Lets the user sign in (`true`) or not (`false`).
    async fn set_enabled(&self, object_id: &str, enabled: bool) -> Result<bool, DirectoryError>;

    /// Assigns and removes licences in one write. Removing frees the seats at once.
    async fn change_licences(
        &self,
        object_id: &str,
        change: LicenceChange<'_>,
    ) -> Result<bool, DirectoryError>;

    /// Deletes the user. The directory keeps it restorable for 30 days (Entra's deleted
    /// items), then removes it for good.
    async fn delete_user(&self, object_id: &str) -> Result<bool, DirectoryError>;

    /// Brings a deleted user back from the deleted items. `Ok(false)`: no deleted user has
    /// this id (never deleted, or deleted for good).
    async fn restore_user(&self, object_id: &str) -> Result<bool, DirectoryError>;
}
