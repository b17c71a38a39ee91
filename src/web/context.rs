//! What a handler needs to know about its request, worked out once in the front door: the
//! language and where it came from, HTMX or not, API or page, the client after proxy
//! resolution, and the links the layout needs. Handlers take it as an extractor
//! (`ctx: &RequestContext`); error pages render from it after the route has consumed the
//! request.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use poem::http::Method;
use poem::{FromRequest, Request, RequestBody};

use super::front_door::proxy::ClientInfo;
use super::paths::{self, Links, SwitchTo};
use crate::i18n::{Catalogs, LanguageSource, Tr};

/// One request, as the handlers and the renderer see it.
#[derive(Debug, Clone)]
pub struct RequestContext {
    tr: Tr,
    language_source: LanguageSource,
    /// The `lang` and `Accept-Language` headers, for languages chosen later (a form field).
    lang_header: Option<String>,
    accept_language: Option<String>,
    /// Sent by HTMX: answer with the fragment alone.
    pub htmx: bool,
    /// Under `/api/`: errors are JSON.
    pub api: bool,
    pub method: Method,
    /// The page region an HTMX error replaces: the reset request's form on its page, the
    /// console's region on its pages, the sign-up form everywhere else.
    pub form_region: &'static str,
    pub client: ClientInfo,
    pub switch_to: SwitchTo,
}

#[derive(serde::Deserialize)]
struct LangQuery {
    lang: Option<String>,
}

impl RequestContext {
    /// Works the context out from the request's head (the body is not read).
    pub fn new(req: &Request, catalogs: &Catalogs, client: ClientInfo) -> Self {
        let header = |name: &str| {
            req.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let path = req.uri().path();
        // `/de` and `/de/password` name the page's language; so does `?lang=de` on any page.
        // A query that is not `key=value` pairs simply names none.
        let lang_in_path = paths::lang_in_path(path).filter(|code| catalogs.get(code).is_some());
        let lang_in_query = req.params::<LangQuery>().ok().and_then(|query| query.lang);
        let lang_header = header("lang");
        let accept_language = header("accept-language");
        let (tr, language_source) = catalogs.negotiate_with_source(
            lang_in_path.or(lang_in_query.as_deref()),
            lang_header.as_deref(),
            accept_language.as_deref(),
        );
        let switch_to = SwitchTo::for_path(path);
        RequestContext {
            tr,
            language_source,
            lang_header,
            accept_language,
            htmx: req.headers().get("hx-request").is_some_and(|v| v == "true"),
            api: path.starts_with(paths::API_PREFIX),
            method: req.method().clone(),
            form_region: if path == paths::PASSWORD {
                "#password"
            } else if paths::is_console(path) {
                "#console"
            } else {
                "#signup"
            },
            client,
            switch_to,
        }
    }

    /// The request's language.
    pub fn tr(&self) -> &Tr {
        &self.tr
    }

    pub fn language_source(&self) -> LanguageSource {
        self.language_source
    }

    /// The language when the request also chose one in its body (the form's `lang`): that
    /// choice wins over the headers, as the URL's does.
    pub fn tr_with(&self, catalogs: &Catalogs, chosen: Option<&str>) -> Tr {
        chosen
            .and_then(|code| catalogs.get(code.trim()))
            .unwrap_or_else(|| self.tr.clone())
    }

    /// The language for a page about something stored in a language (a sign-up link): the
    /// URL's choice first, then the stored one, then the headers.
    pub fn tr_preferring(&self, catalogs: &Catalogs, stored: Option<&str>) -> Tr {
        if self.language_source == LanguageSource::Chosen {
            return self.tr.clone();
        }
        catalogs.negotiate(
            stored,
            self.lang_header.as_deref(),
            self.accept_language.as_deref(),
        )
    }

    /// Links under the prefix the service is reached at.
    pub fn links(&self) -> &Links {
        &self.client.links
    }

    /// The client's address (unspecified when unknown), the key of per-client limits.
    pub fn client_ip(&self) -> IpAddr {
        self.client.ip.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
    }
}

/// The context the front door attached; every routed request has one.
impl<'a> FromRequest<'a> for &'a RequestContext {
    async fn from_request(req: &'a Request, _body: &mut RequestBody) -> poem::Result<Self> {
        req.extensions()
            .get::<Arc<RequestContext>>()
            .map(Arc::as_ref)
            .ok_or_else(|| {
                poem::Error::from_string(
                    "the front door attaches a request context to every request",
                    poem::http::StatusCode::INTERNAL_SERVER_ERROR,
                )
            })
    }
}
