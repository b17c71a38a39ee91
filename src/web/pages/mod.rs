//! Functions returning markup. A page is the layout around a fragment, so the HTMX path and
//! the no-JavaScript path share one renderer.

pub mod debug_mails;
pub mod existing;
pub mod layout;
pub mod pass;
pub mod progress;
pub mod reset;
pub mod signup;
pub mod status;
pub mod verify;
