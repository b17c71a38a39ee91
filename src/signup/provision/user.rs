//! Naming and creating the user: a free username reserved in the store, then the create,
//! which adopts a user only when it is provably this registration's own. The mailbox's tag
//! goes with both: a user already carrying it is the mailbox's account, and nothing is made.

use super::run::KnownPassword;
use super::{Handed, ProvisionError, Provisioning};
use crate::directory::{DirectoryError, DirectoryUser, MailboxTag, NameQuery, NewUser};
use crate::domain::{AccountEnd, MailNickname, PersonName, Step};
use crate::store::{Registration, VoucherUse};

/// Attempts at a free name before giving up (each is a race lost to a same-named person).
const MAX_NAME_ATTEMPTS: u32 = 10;

// How a lost create is recognised. When Graph answers "already exists" to our create, the
// user under that name is either ours — an earlier attempt of this registration got through
// but its answer was lost (a timeout, or the process died right after the create) — or
// somebody else's:
// - Every create writes the mailbox's tag (`directory::MailboxTag`), so the tag decides
//   first. A user carrying another tag is never ours. One carrying this mailbox's tag is this
//   mailbox's account: made by this registration's own lost create when it is younger than
//   the moment the name was found free (below), else by an earlier registration the store
//   lost — then it is recorded and nothing is made.
// - A user carrying no tag was made before tags, or by somebody else. For it the rule from
//   before tags holds: the username is reserved in the store, atomically, before the create
//   (`Store::reserve_username`), so no two registrations of this server ever try the same
//   one, and with it we keep the directory's own time at which the name was found free. Such
//   a user is adopted only when it has the reserved name, the same names, and was created
//   at or after that moment: nobody but this registration's own create can have made it
//   then. (Names alone adopted a same-named person's user: two people named Lena Gleich
//   signing up together once shared one account.) Only the directory's clocks are compared
//   (the `Date` of the name query, the user's `createdDateTime`), never ours against theirs.

/// Whose a user found under the reserved name after "already exists" is.
enum Found {
    /// Made by an earlier attempt of this registration: adopted.
    Own,
    /// This mailbox's account from before this registration: recorded, nothing is made.
    Mailbox,
    /// Somebody else's: the next free name is tried.
    Foreign,
}

impl Provisioning {
    /// Finds a free username and reserves it for `registration` (saved at
    /// [`Step::Creating`]), or — when a user carries the mailbox's tag — records that user
    /// and finishes the registration ([`Step::Done`]) without creating anything. Names other
    /// registrations reserved are skipped without asking the directory, so a crowd of
    /// same-named people costs one name query each. `taken` are names a create just found
    /// taken, which the query may not list yet.
    pub(super) async fn choose_username(
        &self,
        registration: &mut Registration,
        nickname: &MailNickname,
        taken: &mut Vec<String>,
    ) -> Result<(), ProvisionError> {
        let tag = self.mailbox_tag(registration);
        for _ in 0..MAX_NAME_ATTEMPTS {
            let mut skip = self
                .context
                .store
                .reserved_usernames(nickname.as_str())
                .await?;
            skip.extend(taken.iter().cloned());
            let free = match self
                .directory
                .free_user_principal_name(nickname, &skip, &tag)
                .await?
            {
                NameQuery::Free(free) => free,
                NameQuery::Tagged(user) => return self.record_existing(registration, user).await,
            };
            let mut reserving = registration.clone();
            reserving.upn = Some(free.user_principal_name.clone());
            reserving.upn_free_at = Some(free.as_of);
            reserving.step = Step::Creating;
            reserving.last_error = None;
            reserving.updated_at = self.now();
            if self.context.store.reserve_username(&reserving).await? {
                *registration = reserving;
                tracing::info!(signup = %registration.signup_id, step = ?Step::Creating, "username reserved");
                return Ok(());
            }
            // Reserved by a same-named person a moment ago, after the store was read.
            taken.push(free.user_principal_name);
        }
        Err(
            DirectoryError::Failed("no free username found after repeated collisions".into())
                .into(),
        )
    }

    /// The tag of the registration's mailbox.
    fn mailbox_tag(&self, registration: &Registration) -> MailboxTag {
        self.settings.mailbox_tags.tag(registration.email.as_str())
    }

    /// Whose `user`, found under the reserved name after "already exists", is (see the
    /// comment at the top of this file).
    fn whose(
        registration: &Registration,
        user: &DirectoryUser,
        tag: &MailboxTag,
        first: &PersonName,
        last: &PersonName,
    ) -> Found {
        let created_after_reserving = match (user.created_at, registration.upn_free_at) {
            (Some(created), Some(free_at)) => created >= free_at,
            _ => false,
        };
        let reserved_name = registration
            .upn
            .as_deref()
            .is_some_and(|upn| upn.eq_ignore_ascii_case(&user.user_principal_name));
        match user.tag.as_deref() {
            Some(held) if tag.matches(held) && created_after_reserving => Found::Own,
            Some(held) if tag.matches(held) => Found::Mailbox,
            Some(_) => Found::Foreign,
            None if created_after_reserving
                && reserved_name
                && user.given_name.as_deref() == Some(first.as_str())
                && user.surname.as_deref() == Some(last.as_str()) =>
            {
                Found::Own
            }
            None => Found::Foreign,
        }
    }

    /// Creates the user under the reserved username, adopts the user an earlier attempt of
    /// this registration created there, or — when somebody else has that name — reserves
    /// the next free one and tries again. Returns the user's password when this run knows
    /// it. The happy path costs one round trip.
    pub(super) async fn create_user(
        &self,
        registration: &mut Registration,
        first: &PersonName,
        last: &PersonName,
        nickname: &MailNickname,
        mut named_here: bool,
    ) -> Result<KnownPassword, ProvisionError> {
        let password = self.new_password()?;
        let tag = self.mailbox_tag(registration);
        // Names a create found taken: the name query may not list them yet (replication lag).
        let mut taken = Vec::new();
        for _ in 0..MAX_NAME_ATTEMPTS {
            let upn = registration.upn.clone().unwrap_or_default();
            let new_user = NewUser {
                given_name: first.as_str(),
                surname: last.as_str(),
                nickname,
                user_principal_name: &upn,
                password: &password,
                tag: &tag,
            };
            let (user, known) = match self.directory.create_user(&new_user).await {
                Ok(user) => (user, Some(password)),
                Err(DirectoryError::AlreadyExists) => {
                    let found = self.directory.find_user(&upn).await?;
                    let whose = found
                        .as_ref()
                        .map(|user| Self::whose(registration, user, &tag, first, last));
                    match (found, whose) {
                        (Some(user), Some(Found::Own)) => {
                            tracing::info!(signup = %registration.signup_id, "adopting the user an earlier attempt of this registration created");
                            // Made by this run's own create (its answer lost), or by an
                            // earlier run whose password is gone.
                            (user, named_here.then_some(password))
                        }
                        (Some(user), Some(Found::Mailbox)) => {
                            self.record_existing(registration, user).await?;
                            return Ok(None);
                        }
                        // Somebody else's (an administrator's, another tool's), or gone again.
                        _ => {
                            taken.push(upn);
                            self.choose_username(registration, nickname, &mut taken)
                                .await?;
                            if registration.step == Step::Done {
                                // The query found the mailbox's own account meanwhile.
                                return Ok(None);
                            }
                            named_here = true;
                            continue;
                        }
                    }
                }
                Err(err) => return Err(err.into()),
            };
            registration.object_id = Some(user.object_id);
            registration.upn = Some(user.user_principal_name);
            registration.password_version += 1;
            // Recorded now, so a later change of the setting moves no account's end.
            registration.end = Some(account_end(
                registration.voucher.as_ref(),
                self.now(),
                self.settings.lifetime_days,
            ));
            self.save_step(registration, Step::UserCreated).await?;
            if self.settings.pass.is_some() {
                // With passes nobody ever learns the password Graph required: it ends here,
                // with the create (zeroed as it is dropped).
                drop(known);
                return Ok(None);
            }
            return Ok(known.map(Handed::Password));
        }
        Err(
            DirectoryError::Failed("no free username found after repeated collisions".into())
                .into(),
        )
    }
}

/// The end of an account created at `now`: its voucher's (a lifetime in days, or the first
/// second after its end date) when the voucher sets one, else `lifetime_days` from the
/// settings (0: none).
fn account_end(voucher: Option<&VoucherUse>, now: u64, lifetime_days: u32) -> AccountEnd {
    match voucher {
        Some(VoucherUse {
            lifetime_days: Some(days),
            ..
        }) => AccountEnd::after_days(now, *days),
        Some(VoucherUse {
            ends_on: Some(day), ..
        }) => AccountEnd::At(day.after()),
        _ => AccountEnd::after_days(now, lifetime_days),
    }
}
