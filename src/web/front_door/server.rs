//! Accepts TCP connections and serves a poem endpoint over HTTP/1.1 with hyper directly.
//!
//! poem's own `Server` exposes no header-read timeout and no head size cap (its builder sets
//! only an idle timeout: <https://github.com/poem-web/poem/blob/master/poem/src/server.rs>),
//! so a client trickling a request line a byte at a time (slowloris) kept a connection, a
//! task and a file descriptor for as long as it liked. hyper has both limits; this loop turns
//! them on, and keeps what poem's server gave us: client and local addresses on each
//! request, graceful shutdown that lets running requests finish.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use poem::http::uri::Scheme;
use poem::web::{LocalAddr, RemoteAddr};
use poem::{Addr, Endpoint, IntoEndpoint};
use tokio::net::TcpListener;

/// Limits on what a client may make the server hold.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    /// A request's head (request line and headers) must arrive within this time; it also ends
    /// a kept-alive connection that sends nothing.
    pub header_read_timeout: Duration,
    /// Largest request head; a larger one is answered `431` and the connection closed.
    pub max_head_bytes: usize,
    /// Most header fields in one request.
    pub max_headers: usize,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits {
            header_read_timeout: Duration::from_secs(20),
            // Browsers send well under 2 KiB to this site (no cookies are set).
            max_head_bytes: 16 * 1024,
            max_headers: 64,
        }
    }
}

/// Serves `endpoint` on `listener` until `shutdown` completes, then stops accepting, waits up
/// to `grace` for running requests, and returns.
pub async fn serve<E>(
    listener: TcpListener,
    endpoint: E,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()>,
    grace: Duration,
) where
    E: IntoEndpoint,
    E::Endpoint: 'static,
{
    let endpoint = Arc::new(endpoint.into_endpoint());
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        // hyper refuses buffers under 8 KiB.
        .max_buf_size(limits.max_head_bytes.max(8192))
        .max_headers(limits.max_headers);
    let graceful = GracefulShutdown::new();
    let local_addr = listener.local_addr().ok();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    // Out of file descriptors or a connection reset before accept: a pause
                    // instead of a busy loop; the listener itself is fine.
                    tracing::warn!(error = %err, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Pages go out in one write; waiting for an ACK would only add latency.
        let _ = stream.set_nodelay(true);
        let addresses = (
            LocalAddr(local_addr.map_or(Addr::Custom("tcp", "".into()), Addr::SocketAddr)),
            RemoteAddr(Addr::SocketAddr(peer)),
        );
        let endpoint = endpoint.clone();
        let service = service_fn(move |request| {
            let endpoint = endpoint.clone();
            let (local, remote) = addresses.clone();
            async move {
                let request = poem::Request::from((request, local, remote, Scheme::HTTP));
                let response = endpoint.get_response(request).await;
                Ok::<_, Infallible>(hyper::Response::from(response))
            }
        });
        let connection = graceful.watch(builder.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(err) = connection.await {
                log_connection_error(peer, &err);
            }
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(grace) => {
            tracing::warn!(grace_secs = grace.as_secs(), "requests still running after the grace period; stopping anyway");
        }
    }
}

/// Timeouts, oversized heads and clients that hang up are the limits and the network doing
/// their job: worth a debug line, not a warning per connection.
fn log_connection_error(peer: SocketAddr, err: &hyper::Error) {
    tracing::debug!(%peer, error = %err, "connection ended with an error");
}
