//! Whole requests through the front door, in-process: arbitrary methods, request targets
//! (origin, absolute, authority, asterisk forms), headers and bodies, from a client or from
//! a trusted proxy. The first byte picks the peer; the rest is read as an HTTP/1.1 request
//! head (`METHOD TARGET`, then `name: value` lines, a blank line, the body).
//!
//! Every request gets an answer, none a panic or a 5xx, each with the security headers, and
//! no page links off-site (`href="//…"`).
#![no_main]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use ms365_accountcreator::config::{Layers, Locations, Settings};
use ms365_accountcreator::startup::{Application, Overrides};
use poem::http::{self, HeaderName, HeaderValue, Method, Uri};
use poem::web::{LocalAddr, RemoteAddr};
use poem::endpoint::BoxEndpoint;
use poem::{Addr, Body, Endpoint, EndpointExt, Request, RequestParts};

/// A client, the trusted proxy (loopback), and an IPv6 client.
const PEERS: [IpAddr; 3] = [
    IpAddr::V4(Ipv4Addr::new(203, 0, 113, 7)),
    IpAddr::V4(Ipv4Addr::LOCALHOST),
    IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 1, 0, 0, 0, 1)),
];

struct Server {
    runtime: tokio::runtime::Runtime,
    endpoint: BoxEndpoint<'static>,
}

static SERVER: LazyLock<Server> = LazyLock::new(|| {
    let store = std::env::temp_dir().join(format!("fuzz-front-door-{}", std::process::id()));
    let env = [
        ("MODE", "test"),
        ("BIND", "127.0.0.1:0"),
        ("DATABASE_PATH", store.to_str().expect("a UTF-8 temporary path")),
        ("REVERSE_PROXY_COUNT", "1"),
        ("TRUSTED_PROXIES", "127.0.0.1"),
        ("METRICS_ENABLED", "true"),
    ];
    let lookup = |name: &str| {
        env.iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| (*value).to_owned())
    };
    let nowhere = store.join("no-such.conf");
    let locations = Locations {
        system_file: nowhere.clone(),
        instance_file: nowhere,
    };
    let layers = Layers::load(&lookup, &locations).expect("the configuration loads");
    let settings = Settings::from_layers(&layers).expect("the configuration is valid");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let app = runtime
        .block_on(Application::build(&settings, Overrides::default()))
        .expect("the application builds");
    Server {
        endpoint: app.endpoint().boxed(),
        runtime,
    }
});

/// The request `data` describes, or `None` when hyper would refuse it before any route.
fn request(data: &[u8]) -> Option<Request> {
    let (&peer, rest) = data.split_first()?;
    let split = rest.windows(4).position(|w| w == b"\r\n\r\n");
    let (head, body) = match split {
        Some(at) => (&rest[..at], rest[at + 4..].to_vec()),
        None => (rest, Vec::new()),
    };
    let head = std::str::from_utf8(head).ok()?;
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next()?.split(' ');
    let method = Method::from_bytes(request_line.next()?.as_bytes()).ok()?;
    let uri: Uri = request_line.next()?.parse().ok()?;
    let mut builder = http::Request::builder().method(method).uri(uri);
    for line in lines {
        let (name, value) = line.split_once(':')?;
        let name = HeaderName::from_bytes(name.as_bytes()).ok()?;
        let value = HeaderValue::from_str(value.trim()).ok()?;
        builder = builder.header(name, value);
    }
    let (parts, ()) = builder.body(()).ok()?.into_parts();
    let peer = PEERS[usize::from(peer) % PEERS.len()];
    let addresses = (
        LocalAddr(Addr::SocketAddr(SocketAddr::from(([127, 0, 0, 1], 8080)))),
        RemoteAddr(Addr::SocketAddr(SocketAddr::new(peer, 40000))),
    );
    let parts = RequestParts::from((parts, addresses.0, addresses.1, http::uri::Scheme::HTTP));
    Some(Request::from_parts(parts, Body::from(body)))
}

fuzz_target!(|data: &[u8]| {
    let Some(req) = request(data) else { return };
    let server = &*SERVER;
    let response = server
        .runtime
        .block_on(server.endpoint.call(req))
        .expect("the front door answers every request");
    let status = response.status();
    assert!(!status.is_server_error(), "answered {status}");
    for header in ["x-content-type-options", "content-security-policy", "x-request-id"] {
        assert!(response.headers().contains_key(header), "no {header}");
    }
    let html = response
        .headers()
        .get(http::header::CONTENT_TYPE)
        .is_some_and(|value| value.as_bytes().starts_with(b"text/html"));
    if html {
        let body = server
            .runtime
            .block_on(response.into_body().into_bytes())
            .expect("an HTML body");
        let text = String::from_utf8_lossy(&body);
        assert!(!text.contains("href=\"//"), "a link off-site: {text}");
    }
});
