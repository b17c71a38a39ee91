use poem::endpoint::make_sync;
use poem::http::{Method, StatusCode};
use poem::{Request, Route, post};

use super::*;

fn request(method: Method, path: &str) -> Request {
    Request::builder()
        .method(method)
        .uri(path.parse::<Uri>().expect("a path"))
        .finish()
}

fn table() -> RouteTable {
    let api = Route::new()
        .at("/", poem::get(make_sync(|_| "links")))
        .at("/ops", post(make_sync(|_| "done")));
    let api_routes = vec![
        ("/api/v1/".to_owned(), vec![Method::GET]),
        ("/api/v1/ops".to_owned(), vec![Method::POST]),
    ];
    RouteTable::new(vec![
        route("/").get(make_sync(|_| "home")),
        route("/{lang}").get(make_sync(|_| "home")),
        route("/verify/{token}")
            .get(make_sync(|_| "page"))
            .post(make_sync(|_| "done")),
        route("/check").post(make_sync(|_| "checked")),
        route("/password").not_found(),
        route("/metrics").get(make_sync(|_| "metrics")).when(false),
        nest("/api/v1", api, api_routes),
    ])
}

#[tokio::test]
async fn routes_are_named_by_their_pattern_never_by_the_path() {
    let table = table();
    for (path, name) in [
        ("/", "/"),
        ("/de", "/{lang}"),
        ("/verify/eyJ.secret.sig", "/verify/{token}"),
        ("/password", "/password"),
        ("/api/v1/", "/api/v1/"),
        ("/api/v1/ops", "/api/v1/ops"),
        ("/some/probe/../etc/passwd", NO_ROUTE),
        ("/de/password/x", NO_ROUTE),
        ("/metrics", "/{lang}"),
    ] {
        let (_, route) = table.call(request(Method::GET, path)).await;
        assert_eq!(super::name(route), name, "{path}");
        let before_routing = table.route_of(&path.parse().expect("a path")).await;
        assert_eq!(before_routing, route, "{path}, named before routing");
    }
}

#[tokio::test]
async fn a_405_knows_the_methods_of_its_route_from_the_table() {
    let table = table();
    for (method, path, allow) in [
        (Method::DELETE, "/verify/t", "GET, HEAD, POST"),
        (Method::GET, "/check", "POST"),
        (Method::POST, "/de", "GET, HEAD"),
        (Method::PUT, "/api/v1/ops", "POST"),
    ] {
        let (answer, route) = table.call(request(method.clone(), path)).await;
        let status = answer.err().map(|err| err.status());
        assert_eq!(
            status,
            Some(StatusCode::METHOD_NOT_ALLOWED),
            "{method} {path}"
        );
        let allowed = route.and_then(|route| route.allow.as_ref());
        assert_eq!(
            allowed.map(|v| v.to_str().ok()),
            Some(Some(allow)),
            "{path}"
        );
    }
}

#[tokio::test]
async fn a_route_that_is_not_there_answers_404_to_every_method() {
    let table = table();
    for method in [Method::GET, Method::POST, Method::DELETE] {
        let (answer, route) = table.call(request(method.clone(), "/password")).await;
        let status = answer.map_or_else(|err| err.status(), |response| response.status());
        assert_eq!(status, StatusCode::NOT_FOUND, "{method}");
        assert_eq!(route.and_then(|route| route.allow.as_ref()), None);
    }
}
