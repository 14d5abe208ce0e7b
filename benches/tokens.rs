//! Criterion benchmarks of the hot paths: JWT signing and verification (RS256, ES256) on the
//! in-memory key ring, and whole client_credentials token requests (RS256 and ES256 access
//! tokens) and introspections of our own JWT through the actix service, in process.
//! Run with `cargo bench --bench tokens`; `scripts/bench/check.sh` compares a run with the
//! committed baseline (`benches/baseline/`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::too_many_lines,
    clippy::disallowed_methods
)]

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::{App, test};
use criterion::{Criterion, criterion_group, criterion_main};
use gatehouse_admin::clients::NewClientRequest;
use gatehouse_admin::{Actor, Context};
use gatehouse_core::SigningAlg;
use gatehouse_core::client::ClientRegistration;
use gatehouse_core::ports::{SystemClock, TokenSigner};
use gatehouse_jose::{KeyEntry, KeyRing, SigningKey, generate_key};
use gatehouse_server::{Application, Settings, routes_config};

fn ring() -> KeyRing {
    let entries = SigningAlg::ALL
        .iter()
        .map(|alg| {
            let g = generate_key(*alg).expect("keygen");
            let key = SigningKey::from_pkcs8(*alg, &g.private_pkcs8_der).expect("parse");
            KeyEntry {
                key: Arc::new(key),
                active: true,
            }
        })
        .collect();
    KeyRing::new(entries)
}

fn claims() -> serde_json::Value {
    let now = chrono::Utc::now().timestamp();
    serde_json::json!({
        "iss": "http://127.0.0.1:8080", "sub": "2d1f6b8e-0c47-4a43-9d0e-5b7a0f0f5f8a",
        "aud": "http://127.0.0.1:8080", "client_id": "c0ffee00-1234-4321-8888-000000000001",
        "scope": "api:read api:write", "jti": "Vb2xq0m3l6fYc5B0wZQm1g", "iat": now, "exp": now + 3600,
    })
}

fn jwt(c: &mut Criterion) {
    let ring = ring();
    let claims = claims();
    for alg in SigningAlg::ALL {
        c.bench_function(&format!("sign {alg}"), |b| {
            b.iter(|| ring.sign(alg, "at+jwt", &claims).expect("sign"));
        });
        let token = ring.sign(alg, "at+jwt", &claims).expect("sign");
        c.bench_function(&format!("verify {alg}"), |b| {
            b.iter(|| {
                ring.verify(
                    &token,
                    "at+jwt",
                    "http://127.0.0.1:8080",
                    Some("http://127.0.0.1:8080"),
                )
                .expect("verify")
            });
        });
    }
}

/// A confidential client-credentials client of the default tenant: (id, Basic credentials).
async fn bench_client(
    state: &gatehouse_server::AppState,
    access_token_alg: Option<&str>,
) -> (String, String) {
    let mut reg =
        ClientRegistration::named("bench", gatehouse_core::TenantId::parse("default").unwrap());
    reg.grant_types = vec!["client_credentials".into()];
    reg.scope = Some("api:read".into());
    reg.access_token_alg = access_token_alg.map(str::to_owned);
    let actor = Actor::operator();
    let ctx = Context::new(&state.store, &actor, chrono::Utc::now());
    let req = NewClientRequest {
        registration: reg,
        keys: None,
    };
    let out = gatehouse_admin::clients::create(&ctx, req, None)
        .await
        .expect("client");
    let id = out.client.client_id.to_string();
    let secret = out
        .client_secret
        .map(|s| s.expose().to_owned())
        .unwrap_or_default();
    let basic = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"))
    };
    (id, basic)
}

fn post(path: &str, basic: &str, body: String) -> actix_http::Request {
    test::TestRequest::post()
        .uri(path)
        .insert_header(("authorization", format!("Basic {basic}")))
        .insert_header(("content-type", "application/x-www-form-urlencoded"))
        .set_payload(body)
        .to_request()
}

/// The token and introspection endpoints through the actix service, in process, on SQLite
/// (no socket): what a request costs besides the network.
fn endpoints(c: &mut Criterion) {
    let rt = actix_web::rt::Runtime::new().expect("runtime");
    let dir = std::env::temp_dir().join(format!("gatehouse-bench-{}", std::process::id()));
    let settings = Settings {
        database_url: format!("sqlite://{}/bench.db?mode=rwc", dir.display()),
        ..Settings::default()
    };
    let (app, rs256, es256) = rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let application =
            Application::build_with_listener(settings, listener, Arc::new(SystemClock))
                .await
                .expect("build");
        let state = application.state();
        let rs256 = bench_client(&state, None).await.1;
        let es256 = bench_client(&state, Some("ES256")).await.1;
        let app =
            test::init_service(App::new().app_data(state.clone()).configure(routes_config)).await;
        (app, rs256, es256)
    });
    let token = |basic: &str| {
        let basic = basic.to_owned();
        rt.block_on(async {
            let req = post(
                "/oauth/token",
                &basic,
                "grant_type=client_credentials".into(),
            );
            let body: serde_json::Value = test::call_and_read_body_json(&app, req).await;
            body["access_token"].as_str().expect("token").to_owned()
        })
    };
    for (name, basic) in [("RS256", &rs256), ("ES256", &es256)] {
        c.bench_function(
            &format!("client_credentials token request {name} (in process, SQLite)"),
            |b| {
                b.iter(|| {
                    rt.block_on(async {
                        let req = post(
                            "/oauth/token",
                            basic,
                            "grant_type=client_credentials".into(),
                        );
                        let resp = test::call_service(&app, req).await;
                        assert!(resp.status().is_success());
                    })
                });
            },
        );
    }
    let access = token(&es256);
    c.bench_function("introspection of our JWT (in process, SQLite)", |b| {
        b.iter(|| {
            rt.block_on(async {
                let req = post("/oauth/introspect", &rs256, format!("token={access}"));
                let body: serde_json::Value = test::call_and_read_body_json(&app, req).await;
                assert_eq!(body["active"], true);
            })
        });
    });
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, jwt, endpoints);
criterion_main!(benches);
