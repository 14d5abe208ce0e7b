//! The actix-web and tower adapters: RFC 9728 metadata served unauthenticated, RFC 6750
//! challenges with `resource_metadata`, claims handed to handlers, scope guards, and the
//! rate-limit headers on responses.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::too_many_lines,
    clippy::disallowed_methods
)]

mod support;

use std::convert::Infallible;
use std::sync::Arc;

use actix_web::{App, HttpResponse, test as atest, web};
use gatehouse_verify::actix::{Authenticated, Protect, RequireScope};
use gatehouse_verify::tower::{ProtectLayer, RequireScopeLayer};
use gatehouse_verify::{
    Claims, RateLimitConfig, RateLimiter, ResourceConfig, ResourceServer, Verifier, VerifierConfig,
};
use serde_json::{Value, json};
use support::{MockAs, TestKey, claims};
use tower::{Layer, ServiceExt};

const API: &str = "http://127.0.0.1:9/api";

async fn resource_server(server: &MockAs) -> ResourceServer {
    let v = Verifier::new(VerifierConfig::new(&server.issuer)).unwrap();
    let limiter = RateLimiter::new(RateLimitConfig::default()).unwrap();
    let mut cfg = ResourceConfig::new(API);
    cfg.scopes_supported = vec!["instances:read".into(), "instances:write".into()];
    cfg.resource_name = Some("Instances".into());
    ResourceServer::new(v, Some(limiter), cfg).unwrap()
}

fn token(key: &TestKey, issuer: &str, scope: &str) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    key.token(&claims(issuer, now, scope))
}

fn hdr<'a, B>(res: &'a actix_web::dev::ServiceResponse<B>, name: &str) -> &'a str {
    res.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

const METADATA_PATH: &str = "/.well-known/oauth-protected-resource/api";
const CHALLENGE: &str =
    "Bearer resource_metadata=\"http://127.0.0.1:9/.well-known/oauth-protected-resource/api\"";

#[actix_web::test]
async fn actix_serves_metadata_challenges_and_guards_scopes() {
    let key = TestKey::ec("e1");
    let server = MockAs::start(&[&key]).await;
    let rs = resource_server(&server).await;
    let app = atest::init_service(
        App::new()
            .service(
                web::resource("/api/instances")
                    .wrap(RequireScope::new(&rs, "instances:write"))
                    .route(web::post().to(|a: Authenticated| async move {
                        HttpResponse::Created().body(a.subject.clone())
                    })),
            )
            .route(
                "/api/me",
                web::get().to(|a: Authenticated| async move {
                    HttpResponse::Ok().body(a.tenant.clone().unwrap_or_default())
                }),
            )
            .wrap(Protect::new(rs.clone())),
    )
    .await;

    let res = atest::call_service(
        &app,
        atest::TestRequest::get().uri(METADATA_PATH).to_request(),
    )
    .await;
    assert_eq!(res.status(), 200);
    let doc: Value = atest::read_body_json(res).await;
    assert_eq!(doc["resource"], API);
    assert_eq!(doc["authorization_servers"], json!([server.issuer]));
    assert_eq!(
        doc["scopes_supported"],
        json!(["instances:read", "instances:write"])
    );
    assert_eq!(doc["bearer_methods_supported"], json!(["header"]));

    let res =
        atest::call_service(&app, atest::TestRequest::get().uri("/api/me").to_request()).await;
    assert_eq!(res.status(), 401);
    assert_eq!(hdr(&res, "www-authenticate"), CHALLENGE);

    let read = token(&key, &server.issuer, "instances:read");
    let req = atest::TestRequest::get()
        .uri("/api/me")
        .insert_header(("authorization", format!("Bearer {read}")))
        .to_request();
    let res = atest::call_service(&app, req).await;
    assert_eq!(res.status(), 200);
    assert_eq!(hdr(&res, "ratelimit-policy"), "\"read\";q=1200;w=60");
    assert_eq!(atest::read_body(res).await, "t1");

    let req = atest::TestRequest::post()
        .uri("/api/instances")
        .insert_header(("authorization", format!("Bearer {read}")))
        .to_request();
    let res = atest::call_service(&app, req).await;
    assert_eq!(res.status(), 403);
    let c = hdr(&res, "www-authenticate").to_owned();
    assert!(c.starts_with(CHALLENGE));
    assert!(c.contains("error=\"insufficient_scope\""));
    assert!(c.ends_with("scope=\"instances:write\""));

    let write = token(&key, &server.issuer, "instances:write");
    let req = atest::TestRequest::post()
        .uri("/api/instances")
        .insert_header(("authorization", format!("Bearer {write}")))
        .to_request();
    let res = atest::call_service(&app, req).await;
    assert_eq!(res.status(), 201);
    // The refused POST above counted too (limits apply to every authenticated request).
    assert_eq!(hdr(&res, "ratelimit-policy"), "\"create\";q=120;w=60");
    assert!(hdr(&res, "ratelimit").starts_with("\"create\";r=11"));

    let req = atest::TestRequest::get()
        .uri("/api/me")
        .insert_header(("authorization", "Bearer not-a-token"))
        .to_request();
    let res = atest::call_service(&app, req).await;
    assert_eq!(res.status(), 401);
    let c = hdr(&res, "www-authenticate");
    assert!(c.contains("error=\"invalid_token\""));
}

#[tokio::test]
async fn tower_layers_protect_a_service() {
    let key = TestKey::rsa("r1");
    let server = MockAs::start(&[&key]).await;
    let rs = resource_server(&server).await;
    let handler = tower::service_fn(|req: http::Request<String>| async move {
        let claims = req.extensions().get::<Arc<Claims>>().cloned();
        Ok::<_, Infallible>(http::Response::new(
            claims.map(|c| c.subject.clone()).unwrap_or_default(),
        ))
    });
    let svc = ProtectLayer::new(rs.clone())
        .layer(RequireScopeLayer::new(&rs, "instances:read").layer(handler));
    let get = |uri: &str, auth: Option<String>| {
        let mut b = http::Request::get(uri);
        if let Some(a) = auth {
            b = b.header("authorization", a);
        }
        b.body(String::new()).unwrap()
    };

    let res = svc.clone().oneshot(get(METADATA_PATH, None)).await.unwrap();
    assert_eq!(res.status(), 200);
    let doc: Value = serde_json::from_str(res.body()).unwrap();
    assert_eq!(doc["resource_name"], "Instances");

    let res = svc
        .clone()
        .oneshot(get("/api/instances", None))
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert_eq!(res.headers()["www-authenticate"], CHALLENGE);

    let t = token(&key, &server.issuer, "instances:read");
    let res = svc
        .clone()
        .oneshot(get("/api/instances", Some(format!("Bearer {t}"))))
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.body(), "user-1");
    assert_eq!(res.headers()["ratelimit"], "\"read\";r=1199;t=1");

    let t = token(&key, &server.issuer, "other");
    let res = svc
        .clone()
        .oneshot(get("/api/instances", Some(format!("Bearer {t}"))))
        .await
        .unwrap();
    assert_eq!(res.status(), 403);

    let two = http::Request::get("/api/instances")
        .header("authorization", format!("Bearer {t}"))
        .header("authorization", format!("Bearer {t}"))
        .body(String::new())
        .unwrap();
    let res = svc.oneshot(two).await.unwrap();
    assert_eq!(res.status(), 400);
    assert!(
        res.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("invalid_request")
    );
}
