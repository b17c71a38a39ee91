//! The sign-up service, callable without HTTP (the `signups retry` command uses it too), in
//! three parts built together ([`Signups::build`]):
//! - [`flow`]: the form's checks, submitting (a pending sign-up and its mail), the link's
//!   page and its confirm button;
//! - [`provision`]: the provisioning state machine and the queue worker that runs it;
//! - [`reset`]: a lost temporary password replaced through a mailed link;
//! - [`outbox`]: the worker that sends the mails the flow and resets store in the outbox.
//!
//! They share a [`Context`] (store, mailer, catalogues, clock, metrics), the [`Links`] in
//! mails, the hourly mail caps and the [`credential`] generator.

mod caps;
mod context;
pub mod credential;
pub mod flow;
pub mod form;
mod keep;
mod links;
pub mod outbox;
pub mod provision;
pub mod reset;
mod services;
mod settings;
pub mod token;

pub use crate::domain::Step;
pub use context::{Clock, Context, system_clock};
pub use flow::{Flow, FlowError, LinkState, SubmitError};
pub use keep::KeepLinks;
pub use links::{LinkError, Links};
pub use provision::{
    ConfirmError, Confirmed, PassOutcome, ProvisionError, Provisioned, Provisioning,
};
pub use reset::{PasswordReset, ResetError, ResetRequestError, Resets};
pub use services::{Parts, Signups};
pub use settings::{
    FlowSettings, MailLinks, PasswordDelivery, ProvisionSettings, ResetSettings, SignupSettings,
    UnknownDelivery,
};
