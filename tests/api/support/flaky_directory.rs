//! A directory that wraps the simulated one and fails on request: the provisioning state
//! machine is tested against it through the real server.

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use ms365_accountcreator::directory::{
    Directory, DirectoryError, DirectoryUser, GrantOutcome, Grants, LicenceSeats, MailboxTag,
    NameQuery, NewUser, OwnGrants, PassRequest, SimulatedDirectory, TemporaryAccessPass,
};
use ms365_accountcreator::domain::MailNickname;
use secrecy::SecretString;

/// Which operation to disturb.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    FreeName,
    Create,
    /// The user is created, but the answer is lost (a crash or timeout right after).
    CreateThenLoseAnswer,
    Licences,
    Groups,
    /// A new temporary password: Graph busy.
    SetPassword,
    /// A new temporary password: Graph's 403 (no permission, or an administrator).
    SetPasswordForbidden,
    /// A Temporary Access Pass: Graph busy.
    Pass,
}

#[derive(Debug)]
pub struct FlakyDirectory {
    inner: SimulatedDirectory,
    failures: Mutex<Vec<Op>>,
    pub creates: AtomicUsize,
    pub grants: AtomicUsize,
    /// New temporary passwords set after the create (a resumed delivery).
    pub password_sets: AtomicUsize,
    /// Temporary Access Passes made.
    pub passes: AtomicUsize,
    /// Slows every create down, so concurrent confirms overlap.
    pub create_delay: std::time::Duration,
}

impl FlakyDirectory {
    pub fn new() -> Arc<Self> {
        Self::with_delay(std::time::Duration::ZERO)
    }

    pub fn with_delay(create_delay: std::time::Duration) -> Arc<Self> {
        Arc::new(FlakyDirectory {
            inner: SimulatedDirectory::new("tenant.example"),
            failures: Mutex::new(Vec::new()),
            creates: AtomicUsize::new(0),
            grants: AtomicUsize::new(0),
            password_sets: AtomicUsize::new(0),
            passes: AtomicUsize::new(0),
            create_delay,
        })
    }

    /// The next call of `op` fails (once per call to this).
    pub fn fail_next(&self, op: Op) {
        self.failures.lock().unwrap().push(op);
    }

    fn take(&self, op: Op) -> bool {
        let mut failures = self.failures.lock().unwrap();
        match failures.iter().position(|o| *o == op) {
            Some(i) => {
                failures.remove(i);
                true
            }
            None => false,
        }
    }

    pub async fn users(&self, upn: &str) -> Option<DirectoryUser> {
        self.inner.find_user(upn).await.unwrap()
    }
}

fn injected() -> DirectoryError {
    DirectoryError::Unavailable("injected failure".into())
}

#[async_trait::async_trait]
impl Directory for FlakyDirectory {
    fn domain(&self) -> &str {
        self.inner.domain()
    }

    async fn free_user_principal_name(
        &self,
        nickname: &MailNickname,
        known_taken: &[String],
        tag: &MailboxTag,
    ) -> Result<NameQuery, DirectoryError> {
        if self.take(Op::FreeName) {
            return Err(injected());
        }
        self.inner
            .free_user_principal_name(nickname, known_taken, tag)
            .await
    }

    async fn find_user(&self, upn: &str) -> Result<Option<DirectoryUser>, DirectoryError> {
        self.inner.find_user(upn).await
    }

    async fn create_user(&self, user: &NewUser<'_>) -> Result<DirectoryUser, DirectoryError> {
        if self.take(Op::Create) {
            return Err(injected());
        }
        tokio::time::sleep(self.create_delay).await;
        let created = self.inner.create_user(user).await;
        if created.is_ok() {
            self.creates.fetch_add(1, Ordering::SeqCst);
        }
        if self.take(Op::CreateThenLoseAnswer) {
            return Err(injected());
        }
        created
    }

    async fn set_password(
        &self,
        object_id: &str,
        password: &SecretString,
    ) -> Result<(), DirectoryError> {
        if self.take(Op::SetPassword) {
            return Err(injected());
        }
        if self.take(Op::SetPasswordForbidden) {
            return Err(DirectoryError::Forbidden("injected refusal".into()));
        }
        self.password_sets.fetch_add(1, Ordering::SeqCst);
        self.inner.set_password(object_id, password).await
    }

    async fn grant_with(
        &self,
        object_id: &str,
        wanted: Grants,
        own: OwnGrants<'_>,
    ) -> GrantOutcome {
        self.grants.fetch_add(1, Ordering::SeqCst);
        let mut outcome = self.inner.grant_with(object_id, wanted, own).await;
        if wanted.licences && self.take(Op::Licences) {
            outcome.licences = Err(injected());
            outcome.groups = Err(injected());
        }
        if wanted.groups && self.take(Op::Groups) {
            outcome.groups = Err(injected());
        }
        outcome
    }

    async fn set_tag(&self, object_id: &str, tag: &MailboxTag) -> Result<(), DirectoryError> {
        self.inner.set_tag(object_id, tag).await
    }

    async fn create_temporary_access_pass(
        &self,
        object_id: &str,
        request: &PassRequest,
    ) -> Result<TemporaryAccessPass, DirectoryError> {
        if self.take(Op::Pass) {
            return Err(injected());
        }
        self.passes.fetch_add(1, Ordering::SeqCst);
        self.inner
            .create_temporary_access_pass(object_id, request)
            .await
    }

    fn licence_skus(&self) -> &[String] {
        self.inner.licence_skus()
    }

    async fn licence_seats(&self, skus: &[String]) -> Result<Vec<LicenceSeats>, DirectoryError> {
        self.inner.licence_seats(skus).await
    }
}
