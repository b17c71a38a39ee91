//! The operator console (issue 25): its sign-in with Microsoft against the fake OpenID
//! provider, its session, its pages and actions, the audit log every action writes, and
//! the commands beside it.

mod audit_export;
