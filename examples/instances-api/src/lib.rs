//! An example infrastructure API — instances you can list, create and delete — protected by
//! `gatehouse-verify`: Gatehouse JWT access tokens and API keys, per-key rate limits with the
//! IETF headers, RFC 6750 challenges and RFC 9728 metadata. Instances belong to the caller's
//! tenant; nobody sees another tenant's.
//!
//! | method | path | scope |
//! |---|---|---|
//! | GET | `/v1/instances` | `instances:read` |
//! | POST | `/v1/instances` | `instances:write` |
//! | DELETE | `/v1/instances/{id}` | `instances:write` |
// Unit tests may read the system clock and run long; shipped code may not.
#![cfg_attr(test, allow(clippy::disallowed_methods, clippy::too_many_lines))]

use std::collections::HashMap;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::{App, HttpResponse, HttpServer, web};
use gatehouse_verify::actix::{Authenticated, Protect, RequireScope};
use gatehouse_verify::{
    Clock, RateLimitConfig, RateLimiter, ResourceConfig, ResourceServer, SystemClock, Verifier,
    VerifierConfig,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// Most instances one tenant may have (memory stays bounded).
const MAX_PER_TENANT: usize = 1000;

/// What the API needs to know.
#[derive(Debug, Clone)]
pub struct Config {
    /// Gatehouse's issuer, e.g. `http://127.0.0.1:8080`.
    pub issuer: String,
    /// This API's resource identifier, e.g. `http://127.0.0.1:8081`.
    pub resource: String,
    /// The API's own confidential client at Gatehouse (to introspect API keys).
    pub client_id: String,
    pub client_secret: String,
    /// Share rate limits between instances of this API.
    pub redis_url: Option<String>,
    /// How long an API key's introspection answer is reused.
    pub api_key_cache_ttl: Duration,
}

impl Config {
    /// From `GATEHOUSE_ISSUER`, `INSTANCES_RESOURCE`, `INSTANCES_CLIENT_ID`,
    /// `INSTANCES_CLIENT_SECRET`, `INSTANCES_REDIS_URL`, `INSTANCES_KEY_CACHE_SECONDS`.
    pub fn from_env() -> Result<Self, String> {
        let var = |k: &str| std::env::var(k).map_err(|_| format!("{k} is not set"));
        let ttl = match std::env::var("INSTANCES_KEY_CACHE_SECONDS") {
            Ok(s) => s
                .parse()
                .map_err(|_| "INSTANCES_KEY_CACHE_SECONDS: not a number of seconds".to_owned())?,
            Err(_) => 60,
        };
        Ok(Self {
            issuer: std::env::var("GATEHOUSE_ISSUER")
                .unwrap_or_else(|_| "http://127.0.0.1:8080".into()),
            resource: std::env::var("INSTANCES_RESOURCE")
                .unwrap_or_else(|_| "http://127.0.0.1:8081".into()),
            client_id: var("INSTANCES_CLIENT_ID")?,
            client_secret: var("INSTANCES_CLIENT_SECRET")?,
            redis_url: std::env::var("INSTANCES_REDIS_URL").ok(),
            api_key_cache_ttl: Duration::from_secs(ttl),
        })
    }
}

#[derive(Debug, Clone, Serialize)]
struct Instance {
    id: String,
    name: String,
    size: String,
}

#[derive(Deserialize)]
struct NewInstance {
    name: String,
    size: Option<String>,
}

/// Instances by tenant.
#[derive(Default)]
struct Inventory(Mutex<HashMap<String, Vec<Instance>>>);

/// The protection: verifier, per-key limits and metadata, on `clock`.
pub fn protection(config: &Config, clock: Arc<dyn Clock>) -> Result<ResourceServer, String> {
    let mut vc = VerifierConfig::new(&config.issuer)
        .introspection_client(&config.client_id, &config.client_secret);
    vc.api_key_cache_ttl = config.api_key_cache_ttl;
    let verifier = Verifier::with_clock(vc, clock.clone()).map_err(|e| e.to_string())?;
    let limits = RateLimitConfig {
        redis_url: config.redis_url.clone(),
        ..RateLimitConfig::default()
    };
    let limiter = RateLimiter::with_clock(limits, clock).map_err(|e| e.to_string())?;
    let mut rc = ResourceConfig::new(&config.resource);
    rc.scopes_supported = vec!["instances:read".into(), "instances:write".into()];
    rc.resource_name = Some("Instances API (example)".into());
    ResourceServer::new(verifier, Some(limiter), rc).map_err(|e| e.to_string())
}

/// Starts the API on `listener` (system clock).
pub fn serve(config: &Config, listener: TcpListener) -> Result<Server, String> {
    serve_with_clock(config, listener, Arc::new(SystemClock))
}

/// Starts the API on `listener`, reading time from `clock` (tests move it).
pub fn serve_with_clock(
    config: &Config,
    listener: TcpListener,
    clock: Arc<dyn Clock>,
) -> Result<Server, String> {
    let rs = protection(config, clock)?;
    let inventory = web::Data::new(Inventory::default());
    let server = HttpServer::new(move || {
        App::new()
            .app_data(inventory.clone())
            .service(
                web::resource("/v1/instances")
                    .route(
                        web::get()
                            .to(list)
                            .wrap(RequireScope::new(&rs, "instances:read")),
                    )
                    .route(
                        web::post()
                            .to(create)
                            .wrap(RequireScope::new(&rs, "instances:write")),
                    ),
            )
            .service(
                web::resource("/v1/instances/{id}").route(
                    web::delete()
                        .to(delete)
                        .wrap(RequireScope::new(&rs, "instances:write")),
                ),
            )
            .wrap(Protect::new(rs.clone()))
    })
    .workers(2)
    .listen(listener)
    .map_err(|e| e.to_string())?
    .run();
    Ok(server)
}

fn tenant(auth: &Authenticated) -> String {
    auth.tenant.clone().unwrap_or_else(|| "default".into())
}

async fn list(auth: Authenticated, inv: web::Data<Inventory>) -> HttpResponse {
    let map = inv.0.lock().unwrap_or_else(|e| e.into_inner());
    let items = map.get(&tenant(&auth)).cloned().unwrap_or_default();
    HttpResponse::Ok().json(json!({ "instances": items }))
}

async fn create(auth: Authenticated, inv: web::Data<Inventory>, body: web::Bytes) -> HttpResponse {
    let Ok(req) = serde_json::from_slice::<NewInstance>(&body) else {
        return bad_request("body: expected JSON {\"name\": ..., \"size\": ...}");
    };
    let name_ok = (1..=63).contains(&req.name.len())
        && req
            .name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !name_ok {
        return bad_request("name: 1 to 63 of a-z, 0-9 and -");
    }
    let size = req.size.unwrap_or_else(|| "small".into());
    if !["small", "medium", "large"].contains(&size.as_str()) {
        return bad_request("size: small, medium or large");
    }
    let mut map = inv.0.lock().unwrap_or_else(|e| e.into_inner());
    let list = map.entry(tenant(&auth)).or_default();
    if list.len() >= MAX_PER_TENANT {
        return HttpResponse::Conflict().json(json!({"error": "too many instances"}));
    }
    let instance = Instance {
        id: uuid::Uuid::new_v4().to_string(),
        name: req.name,
        size,
    };
    list.push(instance.clone());
    HttpResponse::Created().json(instance)
}

async fn delete(
    auth: Authenticated,
    inv: web::Data<Inventory>,
    id: web::Path<String>,
) -> HttpResponse {
    let mut map = inv.0.lock().unwrap_or_else(|e| e.into_inner());
    let list = map.entry(tenant(&auth)).or_default();
    match list.iter().position(|i| i.id == *id) {
        Some(pos) => {
            list.remove(pos);
            HttpResponse::NoContent().finish()
        }
        None => HttpResponse::NotFound().json(json!({"error": "no such instance"})),
    }
}

fn bad_request(why: &str) -> HttpResponse {
    HttpResponse::BadRequest().json(json!({ "error": "invalid_request", "error_description": why }))
}
