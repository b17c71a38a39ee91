//! One test binary for every integration test (each extra binary costs a link on 2 cores).

mod helpers;

mod debug_flow;
mod fake_graph;
mod graph;
mod pages;
mod signup_form;
