//! The OpenAPI document as served: poem-openapi's, with what the configuration decides about
//! the request fields written in. Every `email` property (the fields in `format: email`)
//! gets the address syntax the service takes and, when it translates, `EMAIL_ADDRESS_FILTER`
//! as its patterns (see `email_pattern`).

use poem::{Endpoint, Response, endpoint::make_sync};
use serde_json::{Value, json};

use super::email_pattern::{self, Untranslatable};
use crate::domain::{EmailFilter, SubaddressSeparator};
use crate::web::AppState;

/// The document for `state`'s configuration, written once.
pub fn spec_endpoint(state: &AppState) -> impl Endpoint + 'static {
    let settings = state.flow.settings();
    let spec = document(&settings.filter, settings.separator);
    make_sync(move |_| {
        Response::builder()
            .content_type("application/json")
            .body(spec.clone())
    })
}

/// The document with `filter` and `separator` written into the `email` properties.
pub fn document(filter: &EmailFilter, separator: SubaddressSeparator) -> String {
    let mut spec: Value =
        serde_json::from_str(&super::service().spec()).expect("poem-openapi writes JSON");
    let rules = EmailRules::new(filter, separator);
    let schemas = spec["components"]["schemas"].as_object_mut();
    for schema in schemas.into_iter().flat_map(|schemas| schemas.values_mut()) {
        let properties = schema["properties"].as_object_mut();
        for property in properties.into_iter().flat_map(|p| p.values_mut()) {
            if property["format"] == "email" {
                rules.apply(property);
            }
        }
    }
    serde_json::to_string_pretty(&spec).expect("a JSON value serializes")
}

/// What the configuration says about an address, ready to be written into a property.
struct EmailRules {
    syntax: String,
    filter: Result<Option<String>, Untranslatable>,
}

impl EmailRules {
    fn new(filter: &EmailFilter, separator: SubaddressSeparator) -> Self {
        let translated = email_pattern::filter(filter, separator);
        if let Err(reason) = &translated {
            tracing::warn!(
                %reason,
                "EMAIL_ADDRESS_FILTER cannot be written as a JSON Schema pattern; the API spec says so in words instead"
            );
        }
        EmailRules {
            syntax: email_pattern::syntax(separator),
            filter: translated,
        }
    }

    /// The filter is the `pattern`, the syntax a second one beside it; without a filter the
    /// syntax is the `pattern`.
    fn apply(&self, property: &mut Value) {
        let note = match &self.filter {
            Ok(Some(filter)) => {
                property["pattern"] = json!(filter);
                property["allOf"] = json!([{ "pattern": self.syntax }]);
                "`pattern` is the service's address filter, for the address as typed: it \
                 ignores case and allows a sub-address tag, as the service does. `allOf` \
                 holds the address syntax the service takes."
                    .to_owned()
            }
            Ok(None) => {
                property["pattern"] = json!(self.syntax);
                "`pattern` is the address syntax the service takes.".to_owned()
            }
            Err(reason) => {
                property["pattern"] = json!(self.syntax);
                format!(
                    "`pattern` is the address syntax the service takes. The service's address \
                     filter is not published here, as {reason}: an address it refuses is \
                     answered `Email illegal`."
                )
            }
        };
        let described = property["description"].as_str().unwrap_or_default();
        property["description"] = json!(format!(
            "{described} {note} Addresses with characters outside ASCII, which the service \
             takes too, are not described."
        ));
    }
}
