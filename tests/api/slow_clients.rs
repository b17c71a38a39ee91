//! Clients that send slowly, too much, or nothing at all: each is cut off or refused within
//! its limit, and the server goes on serving everyone else.

use std::time::{Duration, Instant};

use ms365_accountcreator::startup::Overrides;
use ms365_accountcreator::web::BodyLimits;
use ms365_accountcreator::web::ConnectionLimits;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::helpers::{TestApp, spawn_app, texts};
use crate::support::routes::paths;

const TIMEOUT: Duration = Duration::from_secs(1);

/// Connections and bodies that must arrive within [`TIMEOUT`].
fn short_timeouts() -> Overrides {
    Overrides {
        connection_limits: Some(ConnectionLimits {
            header_read_timeout: TIMEOUT,
            ..ConnectionLimits::default()
        }),
        body_limits: Some(BodyLimits {
            read_timeout: TIMEOUT,
            ..BodyLimits::default()
        }),
        ..Overrides::default()
    }
}

async fn connect(app: &TestApp) -> TcpStream {
    let address = app.address.trim_start_matches("http://");
    TcpStream::connect(address).await.expect("a connection")
}

/// Reads until the server closes the connection (or `limit` passes); what it sent, and when.
async fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> (String, Option<Instant>) {
    let mut received = Vec::new();
    let mut buffer = [0u8; 4096];
    let deadline = Instant::now() + limit;
    loop {
        match tokio::time::timeout_at(deadline.into(), stream.read(&mut buffer)).await {
            Err(_) => return (String::from_utf8_lossy(&received).into_owned(), None),
            Ok(Ok(0) | Err(_)) => {
                return (
                    String::from_utf8_lossy(&received).into_owned(),
                    Some(Instant::now()),
                );
            }
            Ok(Ok(n)) => received.extend_from_slice(&buffer[..n]),
        }
    }
}

async fn still_serves(app: &TestApp) {
    let response = app.get_home().await;
    assert_eq!(response.status(), 200, "the server stopped serving");
}

#[tokio::test]
async fn a_request_head_trickled_in_byte_by_byte_is_cut_off() {
    let app = TestApp::builder().overrides(short_timeouts()).spawn().await;
    let mut stream = connect(&app).await;
    let started = Instant::now();
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    // A header byte every 100 ms keeps the connection busy but never finishes the head.
    let mut cut_off = None;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if stream.write_all(b"X").await.is_err() {
            cut_off = Some(started.elapsed());
            break;
        }
        let mut probe = [0u8; 1024];
        if let Ok(Ok(0) | Err(_)) =
            tokio::time::timeout(Duration::from_millis(1), stream.read(&mut probe)).await
        {
            cut_off = Some(started.elapsed());
            break;
        }
    }
    let cut_off = cut_off.expect("the connection was still open after 5 s of trickling");
    assert!(
        cut_off >= TIMEOUT && cut_off < TIMEOUT * 3,
        "cut off after {cut_off:?}, the limit is {TIMEOUT:?}"
    );
    still_serves(&app).await;
}

#[tokio::test]
async fn a_kept_alive_connection_that_sends_nothing_more_is_closed() {
    let app = TestApp::builder().overrides(short_timeouts()).spawn().await;
    let mut stream = connect(&app).await;
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut first = [0u8; 1024];
    let n = stream.read(&mut first).await.unwrap();
    assert!(String::from_utf8_lossy(&first[..n]).starts_with("HTTP/1.1 200"));
    let answered = Instant::now();
    let (_, closed) = read_until_closed(&mut stream, TIMEOUT * 5).await;
    let closed = closed.expect("the idle connection stayed open");
    assert!(closed - answered < TIMEOUT * 3, "{:?}", closed - answered);
}

#[tokio::test]
async fn an_oversized_request_head_is_refused_at_once() {
    let app = spawn_app().await;
    let limit = ConnectionLimits::default().max_head_bytes;
    let started = Instant::now();
    let response = app
        .get_with(paths::HOME, &[("x-padding", &"a".repeat(limit + 1))])
        .await;
    assert_eq!(response.status(), 431);
    assert!(started.elapsed() < Duration::from_secs(2));

    let many: Vec<(String, String)> = (0..ConnectionLimits::default().max_headers + 1)
        .map(|n| (format!("x-field-{n}"), "1".to_owned()))
        .collect();
    let mut request = app.client.get(app.url(paths::HOME));
    for (name, value) in &many {
        request = request.header(name, value);
    }
    assert_eq!(request.send().await.unwrap().status(), 431);

    // A head just under the cap is fine: the cap is not set below what browsers send.
    let response = app
        .get_with(paths::HOME, &[("x-padding", &"a".repeat(8 * 1024))])
        .await;
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn a_form_body_that_trickles_in_gets_a_localized_timeout_page() {
    let app = TestApp::builder().overrides(short_timeouts()).spawn().await;
    let mut stream = connect(&app).await;
    let started = Instant::now();
    stream
        .write_all(
            b"POST /signup HTTP/1.1\r\nHost: x\r\nAccept-Language: de\r\nConnection: close\r\n\
              Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nemail=",
        )
        .await
        .unwrap();
    let (response, _) = read_until_closed(&mut stream, TIMEOUT * 5).await;
    let elapsed = started.elapsed();
    assert!(
        response.starts_with("HTTP/1.1 408"),
        "{}",
        response.lines().next().unwrap_or("nothing")
    );
    assert!(elapsed >= TIMEOUT && elapsed < TIMEOUT * 3, "{elapsed:?}");
    let body = response.split("\r\n\r\n").nth(1).unwrap_or_default();
    assert_eq!(texts(body, "h1"), ["Die Anfrage hat zu lange gedauert"]);
    still_serves(&app).await;
}

#[tokio::test]
async fn a_body_without_a_declared_length_is_cut_at_the_cap() {
    let app = spawn_app().await;
    let mut stream = connect(&app).await;
    let head = "POST /signup HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\
                Content-Type: application/x-www-form-urlencoded\r\n\
                Transfer-Encoding: chunked\r\n\r\n";
    stream.write_all(head.as_bytes()).await.unwrap();
    let chunk = "a".repeat(4096);
    // Far more than the cap, in chunks; the server answers once the cap is passed.
    for _ in 0..((BodyLimits::default().max_bytes / 4096) + 2) {
        let framed = format!("{:x}\r\n{chunk}\r\n", chunk.len());
        if stream.write_all(framed.as_bytes()).await.is_err() {
            break;
        }
    }
    let (response, _) = read_until_closed(&mut stream, Duration::from_secs(5)).await;
    assert!(
        response.starts_with("HTTP/1.1 413"),
        "{}",
        response.lines().next().unwrap_or("nothing")
    );
    still_serves(&app).await;
}
