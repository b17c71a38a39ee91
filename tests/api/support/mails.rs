//! The mails a server kept at `/debug/mails` (DEBUG and TEST modes), read as a person reads
//! that page: one scraper for the server in the test process and for the server binary.

use scraper::{ElementRef, Html, Selector};

use crate::support::helpers::TestApp;
use crate::support::process::ServerProcess;
use crate::support::routes::paths;

/// A mail as `/debug/mails` lists it.
#[derive(Debug, Clone)]
pub struct ListedMail {
    pub subject: String,
    /// "To: address · date", in the page's language.
    pub meta: String,
    pub text: String,
    /// The links in the text, as written (absolute URLs).
    pub links: Vec<String>,
}

impl ListedMail {
    /// The recipient, from the meta line.
    pub fn recipient(&self) -> &str {
        let to = self.meta.split(" · ").next().unwrap_or_default();
        to.split_once(": ")
            .map_or(to, |(_, address)| address)
            .trim()
    }

    /// Whether the mail went to `email` (letter case aside).
    pub fn is_to(&self, email: &str) -> bool {
        self.recipient().eq_ignore_ascii_case(email.trim())
    }

    /// The path (from `prefix` on: `/verify/…`, `/password/…`) of the first link to it.
    pub fn link_path(&self, prefix: &str) -> Option<String> {
        self.links
            .iter()
            .find_map(|link| link.find(prefix).map(|at| link[at..].to_owned()))
    }
}

/// `GET {base}/debug/mails`, which must answer (without the page, every "no mail was sent"
/// would hold), parsed: newest first. Mails go out from the outbox a moment after the
/// answer that asked for them, so this waits (up to 20 s) until the page says none waits
/// there any more: the one place tests wait for mails, instead of sleeping.
pub async fn listed_mails(client: &reqwest::Client, base: &str) -> Vec<ListedMail> {
    let url = format!("{base}{}", paths::DEBUG_MAILS);
    for _ in 0..400 {
        let page = client.get(&url).send().await.expect("GET /debug/mails");
        assert_eq!(page.status(), 200, "{url} lists the kept mails");
        let page = page.text().await.expect("the page");
        if outbox_waiting(&page) == 0 {
            return parse(&page);
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("{url}: mails still wait in the outbox after 20 s");
}

/// How many mails the page says wait in the outbox.
fn outbox_waiting(page: &str) -> usize {
    let selector = Selector::parse("#outbox-waiting").expect("a valid selector");
    Html::parse_document(page)
        .select(&selector)
        .next()
        .and_then(|p| p.value().attr("data-waiting"))
        .and_then(|n| n.parse().ok())
        .expect("/debug/mails says how many mails wait in the outbox")
}

fn parse(page: &str) -> Vec<ListedMail> {
    let selector = |css: &str| Selector::parse(css).expect("a valid selector");
    let (article, h2, meta, pre, link) = (
        selector("article.mail"),
        selector("h2"),
        selector(".mail-meta"),
        selector("pre"),
        selector("pre a"),
    );
    let text = |mail: ElementRef<'_>, selector: &Selector| {
        mail.select(selector)
            .next()
            .map(|e| e.text().collect::<String>())
            .unwrap_or_default()
    };
    Html::parse_document(page)
        .select(&article)
        .map(|mail| ListedMail {
            subject: text(mail, &h2),
            meta: text(mail, &meta),
            text: text(mail, &pre),
            links: mail
                .select(&link)
                .filter_map(|a| a.value().attr("href").map(str::to_owned))
                .collect(),
        })
        .collect()
}

/// The path (`/verify/…`) of the verification link in the newest mail to `email` kept by
/// any of the servers at `bases`: instances sharing a database share one outbox, and the
/// instance whose worker sent a mail keeps it in its list.
pub async fn verification_path_among(bases: &[&str], email: &str) -> String {
    link_among(bases, email, paths::VERIFY).await
}

/// The path (`/password/…`) of the reset link in the newest mail to `email` kept by any of
/// the servers at `bases` (see [`verification_path_among`]).
pub async fn reset_path_among(bases: &[&str], email: &str) -> String {
    link_among(bases, email, paths::PASSWORD_LINK).await
}

/// The newest link under `prefix` to `email` in the lists of `bases`, asked again until one
/// is there: a mail another instance's worker has taken from the shared outbox waits no
/// more, yet reaches that instance's list only once sent.
async fn link_among(bases: &[&str], email: &str, prefix: &str) -> String {
    for _ in 0..200 {
        let mails = mails_among(bases).await;
        if mails
            .iter()
            .any(|mail| mail.is_to(email) && mail.link_path(prefix).is_some())
        {
            return newest_link(mails, email, prefix);
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("no mail to {email} with a {prefix} link on any of {bases:?} after 10 s");
}

async fn mails_among(bases: &[&str]) -> Vec<ListedMail> {
    let client = reqwest::Client::new();
    let mut mails = Vec::new();
    for base in bases {
        mails.extend(listed_mails(&client, base).await);
    }
    mails
}

/// The path under `prefix` of the link in the newest mail to `email`.
fn newest_link(mails: Vec<ListedMail>, email: &str, prefix: &str) -> String {
    let mail = mails
        .into_iter()
        .find(|mail| mail.is_to(email) && mail.link_path(prefix).is_some())
        .unwrap_or_else(|| panic!("no mail to {email} with a {prefix} link"));
    mail.link_path(prefix).expect("found with the link")
}

impl TestApp {
    /// The mails listed at `/debug/mails`, newest first.
    pub async fn mails(&self) -> Vec<ListedMail> {
        listed_mails(&self.client, &self.address).await
    }

    /// The mails to `email`, newest first.
    pub async fn mails_to(&self, email: &str) -> Vec<ListedMail> {
        let mut mails = self.mails().await;
        mails.retain(|mail| mail.is_to(email));
        mails
    }

    /// The path (`/verify/…`) of the verification link in the newest mail to `email` with one.
    pub async fn verification_path(&self, email: &str) -> String {
        newest_link(self.mails().await, email, paths::VERIFY)
    }

    /// The path (`/password/…`) of the reset link in the newest mail to `email` with one.
    pub async fn reset_path(&self, email: &str) -> String {
        newest_link(self.mails().await, email, paths::PASSWORD_LINK)
    }
}

impl ServerProcess {
    /// The mails the process lists at `/debug/mails`, newest first.
    pub async fn mails(&self) -> Vec<ListedMail> {
        listed_mails(&reqwest::Client::new(), &self.base).await
    }

    /// The path (`/verify/…`) of the verification link in the newest mail to `email`.
    pub async fn verification_path(&self, email: &str) -> String {
        newest_link(self.mails().await, email, paths::VERIFY)
    }
}
