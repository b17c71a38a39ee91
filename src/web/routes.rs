//! The route table's machinery. The table itself (`web::table`) is one line per route — its
//! pattern from `paths` and its handlers — and everything else is derived from it here:
//! poem's router, the route names in logs (poem's matched `PathPattern`, written with braces
//! as the table writes it, never the caller's path with its token), and the `Allow` header
//! of a 405.

use std::borrow::Cow;
use std::collections::HashMap;

use poem::PathPattern;
use poem::endpoint::{BoxEndpoint, DynEndpoint, make_sync};
use poem::http::{HeaderValue, Method, StatusCode, Uri};
use poem::{Endpoint, EndpointExt, IntoEndpoint, Request, Response, Route, RouteMethod};

/// The route name of paths no route answers.
pub const NO_ROUTE: &str = "(other)";

/// One line of the table: a pattern and what answers it.
pub struct Line {
    pattern: &'static str,
    answer: Answer,
    enabled: bool,
}

enum Answer {
    /// Handlers by method.
    Methods(RouteMethod, Vec<Method>),
    /// Not found, whatever the method.
    NotFound,
    /// Another router under a prefix (the JSON API), with its own routes' names and methods.
    Nest(BoxEndpoint<'static>, Vec<(String, Vec<Method>)>),
}

/// A line for `pattern` (see `paths`); add its handlers with [`Line::get`] and [`Line::post`].
pub fn route(pattern: &'static str) -> Line {
    Line {
        pattern,
        answer: Answer::Methods(RouteMethod::new(), Vec::new()),
        enabled: true,
    }
}

/// A line for a router nested under `prefix`, whose routes are `routes` (full paths, no
/// parameters) with their methods.
pub fn nest(
    prefix: &'static str,
    endpoint: impl Endpoint<Output = Response> + 'static,
    routes: Vec<(String, Vec<Method>)>,
) -> Line {
    Line {
        pattern: prefix,
        answer: Answer::Nest(endpoint.boxed(), routes),
        enabled: true,
    }
}

impl Line {
    pub fn get<E>(self, handler: E) -> Self
    where
        E: IntoEndpoint,
        E::Endpoint: 'static,
    {
        self.on(Method::GET, handler)
    }

    pub fn post<E>(self, handler: E) -> Self
    where
        E: IntoEndpoint,
        E::Endpoint: 'static,
    {
        self.on(Method::POST, handler)
    }

    fn on<E>(mut self, method: Method, handler: E) -> Self
    where
        E: IntoEndpoint,
        E::Endpoint: 'static,
    {
        self.answer = match self.answer {
            Answer::Methods(handlers, mut methods) => {
                methods.push(method.clone());
                Answer::Methods(handlers.method(method, handler), methods)
            }
            other => other,
        };
        self
    }

    /// Not found, whatever the method: a path that must not even answer 405, which would
    /// tell that something is there.
    pub fn not_found(mut self) -> Self {
        self.answer = Answer::NotFound;
        self
    }

    /// The line counts only when `enabled` (a setting turns its route on).
    pub fn when(mut self, enabled: bool) -> Self {
        self.enabled = self.enabled && enabled;
        self
    }
}

/// A route as the log and a 405 see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteInfo {
    /// The pattern as the table writes it (`/verify/{token}`).
    pub name: Cow<'static, str>,
    /// The methods it answers, for a 405 (`HEAD` wherever `GET` is: the front door answers
    /// it); `None` for a route that answers none.
    pub allow: Option<HeaderValue>,
}

impl RouteInfo {
    fn new(name: impl Into<Cow<'static, str>>, methods: &[Method]) -> Self {
        let mut allowed = Vec::new();
        for method in methods {
            allowed.push(method.as_str());
            if *method == Method::GET {
                allowed.push(Method::HEAD.as_str());
            }
        }
        let allow = (!allowed.is_empty()).then(|| {
            HeaderValue::from_str(&allowed.join(", ")).expect("method names are header text")
        });
        RouteInfo {
            name: name.into(),
            allow,
        }
    }
}

/// The router built from the table, and what it knows about each route.
pub struct RouteTable {
    router: BoxEndpoint<'static>,
    /// The same patterns answering nothing: names a request refused before routing.
    names: Route,
    /// By poem's spelling of the pattern (`/verify/:token`).
    routes: HashMap<String, RouteInfo>,
}

/// How poem spells a pattern: `/verify/:token` for `/verify/{token}`.
fn poem_pattern(pattern: &str) -> String {
    pattern.replace('{', ":").replace('}', "")
}

impl RouteTable {
    /// The enabled lines, in order. Panics on a pattern poem refuses or a path given twice,
    /// which is the table's mistake, found at start-up by every test.
    pub fn new(lines: Vec<Line>) -> Self {
        let (mut router, mut names) = (Route::new(), Route::new());
        let mut routes = HashMap::new();
        let nothing = || make_sync(|_| StatusCode::NO_CONTENT);
        for line in lines.into_iter().filter(|line| line.enabled) {
            let pattern = poem_pattern(line.pattern);
            let methods = match line.answer {
                Answer::Methods(handlers, methods) => {
                    router = router.at(&pattern, handlers);
                    methods
                }
                Answer::NotFound => {
                    router = router.at(&pattern, make_sync(|_| StatusCode::NOT_FOUND));
                    Vec::new()
                }
                Answer::Nest(endpoint, nested) => {
                    router = router.nest(&pattern, endpoint);
                    for (path, methods) in nested {
                        names = names.at(&path, nothing());
                        routes.insert(path.clone(), RouteInfo::new(path, &methods));
                    }
                    continue;
                }
            };
            names = names.at(&pattern, nothing());
            routes.insert(pattern, RouteInfo::new(line.pattern, &methods));
        }
        RouteTable {
            router: router.boxed(),
            names,
            routes,
        }
    }

    /// Routes `req`: the answer, and the route that gave it (`None`: no route matched).
    pub async fn call(&self, req: Request) -> (poem::Result<Response>, Option<&RouteInfo>) {
        let result = DynEndpoint::call(self.router.as_ref(), req).await;
        let pattern = match &result {
            Ok(response) => response.data::<PathPattern>(),
            Err(err) => err.data::<PathPattern>(),
        };
        let route = pattern.and_then(|pattern| self.routes.get(&*pattern.0));
        (result, route)
    }

    /// The route a request for `uri` would take, for one refused before it was routed.
    pub async fn route_of(&self, uri: &Uri) -> Option<&RouteInfo> {
        let probe = Request::builder().uri(uri.clone()).finish();
        let answer = self.names.call(probe).await.ok()?;
        let pattern = answer.data::<PathPattern>()?;
        self.routes.get(&*pattern.0)
    }
}

/// The name of `route` for the log: its pattern, or [`NO_ROUTE`].
pub fn name(route: Option<&RouteInfo>) -> &str {
    route.map_or(NO_ROUTE, |route| &route.name)
}

#[cfg(test)]
mod tests;
