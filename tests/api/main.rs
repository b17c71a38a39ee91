//! One test binary for every integration test (each extra binary costs a link on 2 cores).

mod support;

mod browser;
mod cli;
mod compression;
mod console;
mod damaged_store;
mod debug_flow;
mod faults;
mod folded_names;
mod front_door;
mod graph;
mod home_page;
mod html_validity;
mod http;
mod json_api;
mod limits;
mod links;
mod logs;
mod mailbox;
mod mailbox_tag;
mod metrics;
mod one_account;
mod opaque_links;
mod openapi;
mod operator_sign_in;
mod pages;
mod password_reset;
mod provisioning;
mod refusals;
mod shared_budget;
mod shared_store;
mod signup_form;
mod slow_clients;
mod smtp_mail;
mod vouchers;
