//! Criterion benchmarks: JWT signing and verification (RS256, ES256) on the in-memory key ring,
//! and a whole client_credentials token request through the actix service, in process.
//! Run with `cargo bench --bench tokens`; numbers are recorded in docs/benchmarks.md.
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

fn token_endpoint(c: &mut Criterion) {
    let rt = actix_web::rt::Runtime::new().expect("runtime");
    let dir = std::env::temp_dir().join(format!("gatehouse-bench-{}", std::process::id()));
    let settings = Settings {
        database_url: format!("sqlite://{}/bench.db?mode=rwc", dir.display()),
        ..Settings::default()
    };
    let (app, client_id, secret) = rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let application =
            Application::build_with_listener(settings, listener, Arc::new(SystemClock))
                .await
                .expect("build");
        let state = application.state();
        let reg = ClientRegistration {
            name: "bench".into(),
            tenant_id: gatehouse_core::TenantId::parse("default").expect("tenant"),
            grant_types: vec!["client_credentials".into()],
            redirect_uris: vec![],
            post_logout_redirect_uris: vec![],
            scope: Some("api:read".into()),
            auth_method: None,
            id_token_alg: None,
            access_token_alg: None,
            access_token_ttl: None,
            pkce_optional: false,
            refresh_grace_seconds: None,
            refresh_idle_ttl: None,
            refresh_absolute_ttl: None,
            may_act: None,
        };
        let actor = Actor::operator();
        let ctx = Context::new(&state.store, &actor, chrono::Utc::now());
        let req = NewClientRequest {
            registration: reg,
            keys: None,
        };
        let out = gatehouse_admin::clients::create(&ctx, req, None)
            .await
            .expect("client");
        let app =
            test::init_service(App::new().app_data(state.clone()).configure(routes_config)).await;
        (
            app,
            out.client.client_id.to_string(),
            out.client_secret
                .map(|s| s.expose().to_owned())
                .unwrap_or_default(),
        )
    });
    let basic = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(format!("{client_id}:{secret}"))
    };
    c.bench_function(
        "client_credentials token request (in process, SQLite)",
        |b| {
            b.iter(|| {
                rt.block_on(async {
                    let req = test::TestRequest::post()
                        .uri("/oauth/token")
                        .insert_header(("authorization", format!("Basic {basic}")))
                        .insert_header(("content-type", "application/x-www-form-urlencoded"))
                        .set_payload("grant_type=client_credentials")
                        .to_request();
                    let resp = test::call_service(&app, req).await;
                    assert!(resp.status().is_success());
                })
            });
        },
    );
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, jwt, token_endpoint);
criterion_main!(benches);
