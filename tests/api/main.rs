//! One test binary for every integration test (each extra binary costs a link on 2 cores).

mod browser_support;
mod helpers;
mod smtp;

mod browser;
mod cli;
mod debug_flow;
mod flaky_directory;
mod json_api;
mod limits;
mod pages;
mod provisioning;
mod signup_form;
mod smtp_mail;
