#![forbid(unsafe_code)]
// Input, the network and the disk must not crash the server; tests may unwrap (clippy.toml).
#![deny(clippy::unwrap_used)]
//! ms365-accountcreator: self-service sign-up that creates Microsoft Entra ID accounts.

pub mod cli;
pub mod config;
pub mod directory;
pub mod domain;
pub mod graph;
pub mod housekeeping;
pub mod i18n;
pub mod ids;
pub mod jwt_crypto;
pub mod lifecycle;
pub mod limits;
pub mod mail;
pub mod metrics;
pub mod shared_budget;
pub mod signup;
pub mod startup;
pub mod store;
pub mod telemetry;
pub mod web;
