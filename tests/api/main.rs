//! One test binary for every integration test (each extra binary costs a link on 2 cores).

mod helpers;
mod smtp;

mod debug_flow;
mod pages;
mod signup_form;
mod smtp_mail;
