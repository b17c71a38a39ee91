//! What the tests stand on: the server on a random port (`helpers`, started by `spawn`,
//! driven through `routes`, its kept mails read by `mails`), the fake Microsoft Graph and the
//! fake OpenID provider beside it, a directory that fails on request, the loopback SMTP sink,
//! the server as a child process, a small disk, and the browser.

pub mod browser_support;
pub mod fake_graph;
pub mod fake_oidc;
pub mod flaky_directory;
pub mod helpers;
pub mod mails;
pub mod postgres;
pub mod process;
pub mod routes;
pub mod small_disk;
pub mod smtp;
pub mod spawn;
pub mod tools;
