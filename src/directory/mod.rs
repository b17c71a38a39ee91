//! The seam to the user directory (Microsoft Entra ID through Graph). The provisioning state
//! machine calls these steps one at a time and saves its progress between them; an
//! account's end calls those of [`AccountControl`] (`account.rs`) the same way.

mod account;
mod pass;
mod seats;
mod simulated;
mod tag;

pub use account::{AccountControl, AccountState, LicenceChange};

pub use pass::{PassRequest, TemporaryAccessPass};
pub use seats::LicenceSeats;
use secrecy::SecretString;
pub use simulated::SimulatedDirectory;
pub use tag::{MailboxTag, MailboxTagger};

use crate::domain::{DirectoryId, MailNickname};

/// The application roles (Graph application permissions) that let an app set a user's
/// password (`Directory::set_password`): the narrow one first. `check` looks for them, and
/// a refused password change names them.
pub const PASSWORD_ROLES: [&str; 2] = ["User-PasswordProfile.ReadWrite.All", "User.ReadWrite.All"];

/// A user to create.
#[derive(Debug)]
pub struct NewUser<'a> {
    pub given_name: &'a str,
    pub surname: &'a str,
    pub nickname: &'a MailNickname,
    /// The exact `nickname[.n]@domain` to create.
    pub user_principal_name: &'a str,
    pub password: &'a SecretString,
    /// The mailbox's tag, written into the user so the directory knows whose it is.
    pub tag: &'a MailboxTag,
}

/// A user that exists in the directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryUser {
    pub object_id: String,
    pub user_principal_name: String,
    pub given_name: Option<String>,
    pub surname: Option<String>,
    /// When the directory created the user (Unix seconds, by the directory's clock), when
    /// it says.
    pub created_at: Option<u64>,
    /// What the user's mailbox tag attribute holds (`None`: empty): a [`MailboxTag`] when
    /// this server wrote it, or whatever else somebody put there.
    pub tag: Option<String>,
}

/// What the query before a create found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameQuery {
    /// No user carries the mailbox's tag, and this username is free.
    Free(FreeName),
    /// A user carries the mailbox's tag: the mailbox has its account already (made before
    /// this store knew it, or forgotten by it). Nothing may be created.
    Tagged(DirectoryUser),
}

/// A username no user had when the directory was asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FreeName {
    pub user_principal_name: String,
    /// The directory's own time of the answer (Unix seconds): a user under this name created
    /// before it belongs to somebody else. The directory's clock, not ours, so that a
    /// server whose clock runs fast or slow still compares like with like.
    pub as_of: u64,
}

/// What went wrong in the directory. The person sees a generic message; this goes to the log.
#[derive(Debug, Clone, thiserror::Error)]
pub enum DirectoryError {
    /// Create refused: the UPN is taken (a race with another sign-up of the same name).
    #[error("a user with this userPrincipalName already exists")]
    AlreadyExists,
    /// Throttled or unavailable for longer than the step's deadline.
    #[error("the directory is busy or unavailable: {0}")]
    Unavailable(String),
    /// Refused for lack of rights (Graph's 403): the app lacks a permission, or the user is
    /// one Graph does not let an app change (an administrator). With what Graph said.
    #[error("the directory refused for lack of rights: {0}")]
    Forbidden(String),
    /// The licence of this SKU cannot be assigned: every seat the tenant paid for is
    /// taken. Waiting helps once somebody adds seats (or frees one).
    #[error("no free seat left for licence SKU {sku}: {said}")]
    NoSeat {
        /// The SKU's id, lower case.
        sku: String,
        /// What the directory said.
        said: String,
    },
    /// Any other refusal, with what Graph said.
    #[error("directory request failed: {0}")]
    Failed(String),
}

/// The directory operations provisioning needs. Each is safe to repeat.
#[async_trait::async_trait]
pub trait Directory: Send + Sync + std::fmt::Debug {
    /// The domain users are created in (`GRAPH_API_USER_MAIL_DOMAIN`).
    fn domain(&self) -> &str;

    /// In one query: the user carrying `tag`, if there is one, else the first UPN of
    /// `nickname`, `nickname.2`, `nickname.3`, … not in use. `known_taken` are UPNs a create
    /// just found taken, which the query may not list yet (replication lag); they are
    /// skipped too. When every number up to [`MailNickname::MAX_COLLISION_NUMBER`] is
    /// taken, this fails instead of counting on. The directory may answer from an index
    /// that lags seconds behind (Graph: an advanced query): a user made moments ago may be
    /// missing, which the store's registry covers.
    async fn free_user_principal_name(
        &self,
        nickname: &MailNickname,
        known_taken: &[String],
        tag: &MailboxTag,
    ) -> Result<NameQuery, DirectoryError>;

    /// Looks a user up by UPN or object id, with its tag attribute: after a crash, whether
    /// a create went through; for `emails tag-existing`, what a user carries.
    async fn find_user(&self, key: &str) -> Result<Option<DirectoryUser>, DirectoryError>;

    /// Creates the user with exactly `user.user_principal_name`.
    async fn create_user(&self, user: &NewUser<'_>) -> Result<DirectoryUser, DirectoryError>;

    /// Gives the user a new temporary password that must be changed at the next sign-in.
    /// Used when the password made at the create is lost (the process died before
    /// delivering it), since passwords are never stored.
    async fn set_password(
        &self,
        object_id: &str,
        password: &SecretString,
    ) -> Result<(), DirectoryError>;

    /// Assigns every configured licence and/or adds the user to every configured group, as
    /// `wanted` says, in as few round trips as possible (Graph: one `$batch`). Each part is
    /// idempotent: a licence already assigned or a membership that exists counts as done.
    async fn grant(&self, object_id: &str, wanted: Grants) -> GrantOutcome {
        self.grant_with(object_id, wanted, OwnGrants::CONFIGURED)
            .await
    }

    /// [`Directory::grant`] with `own` licences and groups (a voucher's) instead of the
    /// configured ones, where it has its own: in the same round trips.
    async fn grant_with(&self, object_id: &str, wanted: Grants, own: OwnGrants<'_>)
    -> GrantOutcome;

    /// Writes `tag` into the user's tag attribute (one directory write), for users made
    /// before tagging (`emails tag-existing`). Other attributes are left as they are.
    async fn set_tag(&self, object_id: &str, tag: &MailboxTag) -> Result<(), DirectoryError>;

    /// Gives the user a new Temporary Access Pass (one directory write). A user has at most
    /// one: a pass made earlier (and lost with the process that made it) is replaced.
    async fn create_temporary_access_pass(
        &self,
        object_id: &str,
        request: &PassRequest,
    ) -> Result<TemporaryAccessPass, DirectoryError>;

    /// The SKUs every new user gets (`GRAPH_API_LICENSE_SKUS`).
    fn licence_skus(&self) -> &[String];

    /// Prepaid and consumed units of each of `skus` the tenant subscribes to (a SKU it
    /// does not have is left out), from one read of all subscriptions that is kept for a
    /// minute: asking more often costs no round trip.
    async fn licence_seats(&self, skus: &[String]) -> Result<Vec<LicenceSeats>, DirectoryError>;
}

/// Which parts of [`Directory::grant`] are still to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grants {
    pub licences: bool,
    pub groups: bool,
}

/// Licences and groups that replace the configured ones (`GRAPH_API_LICENSE_SKUS`,
/// `GRAPH_API_GROUPS_FOR_NEW_USERS`) for one user: a voucher's own. `None`: the configured.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OwnGrants<'a> {
    pub licences: Option<&'a [DirectoryId]>,
    pub groups: Option<&'a [DirectoryId]>,
}

impl OwnGrants<'_> {
    /// The configured licences and groups.
    pub const CONFIGURED: OwnGrants<'static> = OwnGrants {
        licences: None,
        groups: None,
    };
}

/// The result of each part of [`Directory::grant`]; a part not wanted is `Ok`.
#[derive(Debug, Clone)]
pub struct GrantOutcome {
    pub licences: Result<(), DirectoryError>,
    pub groups: Result<(), DirectoryError>,
}
