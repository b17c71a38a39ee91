//! The one way a console action (a POST) gets its form: [`Action`] hands a handler the
//! signed-in operator and the posted form together, or the answer for anyone else, so an
//! action cannot read its form without the same-origin and session checks having passed.

use poem::http::StatusCode;
use poem::{FromRequest, Request, RequestBody, Response};
use serde::de::DeserializeOwned;

use super::Granted;
use crate::web::context::RequestContext;
use crate::web::form::read_form;
use crate::web::front_door::guard;
use crate::web::{AppState, response};

/// A console action's request.
pub(super) enum Action<F> {
    /// The signed-in operator and the form `F`: its fields as posted, missing or damaged
    /// ones at their default.
    Granted(Granted, F),
    /// The answer to give instead: a cross-site post refused, a session that has ended.
    Refused(Response),
}

/// A form without fields (signing out).
#[derive(Debug, Default, serde::Deserialize)]
pub(super) struct NoFields {}

impl<'a, F: DeserializeOwned + Default> FromRequest<'a> for Action<F> {
    async fn from_request(req: &'a Request, body: &mut RequestBody) -> poem::Result<Self> {
        let ctx = <&RequestContext>::from_request(req, body).await?;
        let state = req.data::<AppState>().ok_or_else(|| {
            poem::Error::from_string(
                "the front door attaches the state to every request",
                StatusCode::INTERNAL_SERVER_ERROR,
            )
        })?;
        // The front door refuses cross-site posts already; checked here too, so an action
        // stays safe whatever the way in.
        let origin = state.public_url.origin().ascii_serialization();
        if guard::refuses(req, &origin) {
            let refused = response::error(ctx, state, StatusCode::FORBIDDEN);
            return Ok(Action::Refused(refused));
        }
        let granted = match Granted::check(req, ctx, state).await {
            Ok(granted) => granted,
            Err(answer) => return Ok(Action::Refused(answer)),
        };
        let form = read_form(body.take()?).await.unwrap_or_default();
        Ok(Action::Granted(granted, form))
    }
}
