//! Vouchers (issue 24): the operator's commands, the sign-up with a voucher in pages and
//! API, uses counted exactly, and what a voucher grants reaching Graph.

mod check;
mod cli;
mod graph;
mod guessing;
mod postgres;
mod signup;
