//! Where the provisioning of one registration stands.
//!
//! The state machine that moves it on lives in `signup` (which re-exports [`Step`]); the type
//! sits here because the store persists it inside each registration, and the store may import
//! only `domain` (`signup → store → domain`): kept in `signup`, the store's import would run
//! back up.

use serde::{Deserialize, Serialize};

/// Where the provisioning of one registration stands (PRODUCT.md §4). Each step is saved
/// before the next starts, so a retry resumes at the first step not yet done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Step {
    /// The address is taken by this sign-up; nothing exists in the directory yet.
    Claimed,
    /// A user with `upn` may have been created: check before creating another.
    Creating,
    UserCreated,
    LicencesAssigned,
    GroupsAdded,
    PasswordDelivered,
    Done,
}
