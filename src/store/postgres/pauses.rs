//! Pauses announced by any instance: a connection of its own that `LISTEN`s on the budget's
//! channel, so that a writer already given its turn hears of another instance's 429 before
//! it sends. Started by the first subscriber; it stops once every subscriber and the store
//! are gone, and connects again (with a growing wait) whenever the database goes away.
//! Meanwhile a pause still reaches this instance with its next write's turn, which counts
//! it in (`write_budget.rs`).

use std::sync::OnceLock;
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;
use tokio_postgres::AsyncMessage;
use tokio_postgres_rustls::MakeRustlsConnect;

/// What is left of the pause now, for a connection that starts listening.
const CURRENT: &str =
    "SELECT paused_until - (extract(epoch FROM clock_timestamp()) * 1000000)::bigint
    FROM graph_budget";

/// The budget's channel and the means to listen on it.
pub(super) struct Pauses {
    config: tokio_postgres::Config,
    tls: MakeRustlsConnect,
    channel: String,
    receiver: OnceLock<watch::Receiver<Option<Instant>>>,
}

impl Pauses {
    /// Listens with `config` on the channel of `schema` (tests: one each), lazily.
    pub(super) fn new(
        config: tokio_postgres::Config,
        tls: MakeRustlsConnect,
        schema: Option<&str>,
    ) -> Self {
        let channel = match schema {
            Some(schema) => format!("graph_budget_pause_{schema}"),
            None => "graph_budget_pause".to_owned(),
        };
        Pauses {
            config,
            tls,
            channel,
            receiver: OnceLock::new(),
        }
    }

    /// The channel pauses are announced on.
    pub(super) fn channel(&self) -> &str {
        &self.channel
    }

    /// The end of the latest pause announced, on this process's clock. The first call
    /// starts listening, on the current tokio runtime.
    pub(super) fn subscribe(&self) -> watch::Receiver<Option<Instant>> {
        self.receiver
            .get_or_init(|| {
                let (sender, receiver) = watch::channel(None);
                match tokio::runtime::Handle::try_current() {
                    Ok(runtime) => {
                        let (config, tls) = (self.config.clone(), self.tls.clone());
                        runtime.spawn(listen(config, tls, self.channel.clone(), sender));
                    }
                    Err(_) => tracing::warn!(
                        "no runtime to listen for the Graph pauses of other instances on; this one learns of them with its next write"
                    ),
                }
                receiver
            })
            .clone()
    }
}

impl std::fmt::Debug for Pauses {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pauses")
            .field("channel", &self.channel)
            .finish_non_exhaustive()
    }
}

/// Listens until nobody subscribes any more, connecting again after every failure.
async fn listen(
    config: tokio_postgres::Config,
    tls: MakeRustlsConnect,
    channel: String,
    sender: watch::Sender<Option<Instant>>,
) {
    let mut wait = Duration::from_millis(250);
    loop {
        let ended = tokio::select! {
            () = sender.closed() => return,
            ended = listen_once(&config, tls.clone(), &channel, &sender) => ended,
        };
        let reason = match ended {
            Ok(()) => "the database closed the connection".to_owned(),
            Err(err) => crate::store::StoreError::from(err).to_string(),
        };
        tracing::warn!(
            %reason,
            retry_in = ?wait,
            "not listening for the Graph throttling pauses of other instances; until this is back, this instance learns of them with its next write"
        );
        tokio::select! {
            () = sender.closed() => return,
            () = tokio::time::sleep(wait) => {}
        }
        wait = (wait * 2).min(Duration::from_secs(30));
    }
}

/// One connection: `LISTEN`, the pause under way now, then every announcement until the
/// connection ends.
async fn listen_once(
    config: &tokio_postgres::Config,
    tls: MakeRustlsConnect,
    channel: &str,
    sender: &watch::Sender<Option<Instant>>,
) -> Result<(), tokio_postgres::Error> {
    let (client, mut connection) = config.connect(tls).await?;
    // The connection delivers the notifications, and must be polled for `client` to work.
    let mut messages = std::pin::pin!(async {
        while let Some(message) = std::future::poll_fn(|cx| connection.poll_message(cx)).await {
            if let AsyncMessage::Notification(note) = message? {
                if let Ok(micros) = note.payload().parse::<i64>() {
                    announce(sender, micros);
                }
            }
        }
        Ok(())
    });
    let listening = async {
        let quoted = channel.replace('"', "\"\"");
        client
            .batch_execute(&format!("LISTEN \"{quoted}\""))
            .await?;
        // Not there before the schema is migrated; the next announcement will do then.
        if let Ok(row) = client.query_one(CURRENT, &[]).await {
            announce(sender, row.get(0));
        }
        Ok::<(), tokio_postgres::Error>(())
    };
    tokio::select! {
        ended = &mut messages => return ended,
        listened = listening => listened?,
    }
    messages.await
}

/// A pause of `micros` from now, unless a longer one is known already.
fn announce(sender: &watch::Sender<Option<Instant>>, micros: i64) {
    let Ok(micros) = u64::try_from(micros) else {
        return;
    };
    let until = Instant::now() + Duration::from_micros(micros);
    sender.send_if_modified(|latest| {
        let later = latest.is_none_or(|latest| latest < until);
        if later {
            *latest = Some(until);
        }
        later
    });
}
