//! `emails tag-existing`: gives the users of registrations made before mailbox tags (or
//! imported with their object ids) their tag, so that the directory knows them too. Each user
//! is read first and written only when its tag is missing, so the command can be stopped and
//! run again at any time; every write waits for the Graph write budget.

use anyhow::Context;

use crate::config::Settings;
use crate::directory::{Directory, DirectoryError, MailboxTag, MailboxTagger};
use crate::graph::GraphClient;
use crate::store::{Registration, Store};

/// Print a progress line after this many users (and after the last).
const PROGRESS_EVERY: usize = 10;

/// What became of one user.
enum Outcome {
    Written,
    /// It carried this mailbox's tag already (an earlier run, or made with one).
    Already,
    /// No user with the recorded object id (deleted in Entra ID?).
    Missing,
    /// Its tag attribute holds something this server did not write: left alone.
    Occupied,
    Failed(DirectoryError),
}

/// The registrations to go through, and the ones that cannot be.
struct Plan {
    /// Address and object id of each registration whose user is known.
    users: Vec<(String, String)>,
    /// Imported addresses without an object id: their users are unknown, and not guessed.
    imported_unknown: Vec<String>,
}

pub async fn tag_existing(store: &Store, settings: &Settings) -> anyhow::Result<()> {
    anyhow::ensure!(
        !settings.debug_dont_connect_to_api,
        "DEBUG_DONT_CONNECT_TO_API is set: there is no directory to tag; unset it to tag the users in Entra ID"
    );
    // On PostgreSQL the servers may be running: their budget is this command's too.
    let graph = GraphClient::from_settings(&settings.graph)
        .context("cannot set up the Microsoft Graph client")?
        .with_shared_budget(crate::shared_budget::shared_budget(store));
    let tagger = MailboxTagger::new(&settings.mailbox_tag_secret);
    let plan = plan(store).await?;
    let total = plan.users.len();
    let attribute = settings.graph.mailbox_tag_attribute.name();
    let (mut written, mut already) = (0usize, 0usize);
    let (mut missing, mut occupied, mut failed) = (Vec::new(), Vec::new(), Vec::new());
    for (done, (email, object_id)) in plan.users.iter().enumerate() {
        match tag_one(&graph, object_id, &tagger.tag(email)).await {
            Outcome::Written => written += 1,
            Outcome::Already => already += 1,
            Outcome::Missing => missing.push(format!("{email} (object id {object_id})")),
            Outcome::Occupied => occupied.push(format!("{email} (object id {object_id})")),
            Outcome::Failed(err) => failed.push(format!("{email} (object id {object_id}): {err}")),
        }
        if (done + 1) % PROGRESS_EVERY == 0 || done + 1 == total {
            println!("tagged {}/{total}", done + 1);
        }
    }
    println!("{written} written, {already} had their tag already");
    list(
        "not found in the directory (deleted?), not tagged",
        &missing,
    );
    list(
        &format!(
            "{attribute} holds a value this server did not write, left alone (choose another attribute with GRAPH_API_MAILBOX_TAG_ATTRIBUTE)"
        ),
        &occupied,
    );
    list(
        "imported without an object id, not tagged (which user is theirs is not known; import an `emails export` that names it, then run this again)",
        &plan.imported_unknown,
    );
    list("failed", &failed);
    anyhow::ensure!(
        failed.is_empty(),
        "{} users could not be tagged; run the command again: users tagged already are skipped",
        failed.len()
    );
    Ok(())
}

async fn plan(store: &Store) -> anyhow::Result<Plan> {
    let mut plan = Plan {
        users: Vec::new(),
        imported_unknown: Vec::new(),
    };
    for registration in store.registrations().await? {
        let Registration {
            email,
            object_id,
            imported,
            ..
        } = registration?;
        match object_id {
            Some(object_id) => plan.users.push((email.as_str().to_owned(), object_id)),
            None if imported => plan.imported_unknown.push(email.as_str().to_owned()),
            // Not created yet: the create writes the tag.
            None => {}
        }
    }
    Ok(plan)
}

/// Reads the user's tag attribute and writes the tag when it is missing (or a tag of
/// another secret); never overwrites what somebody else put there.
async fn tag_one(directory: &dyn Directory, object_id: &str, tag: &MailboxTag) -> Outcome {
    let user = match directory.find_user(object_id).await {
        Ok(Some(user)) => user,
        Ok(None) => return Outcome::Missing,
        Err(err) => return Outcome::Failed(err),
    };
    match user.tag.as_deref() {
        Some(held) if tag.matches(held) => Outcome::Already,
        Some(held) if !MailboxTag::is_a_tag(held) => Outcome::Occupied,
        _ => match directory.set_tag(object_id, tag).await {
            Ok(()) => Outcome::Written,
            Err(err) => Outcome::Failed(err),
        },
    }
}

fn list(heading: &str, items: &[String]) {
    if items.is_empty() {
        return;
    }
    println!("{} {heading}:", items.len());
    for item in items {
        println!("  {item}");
    }
}
