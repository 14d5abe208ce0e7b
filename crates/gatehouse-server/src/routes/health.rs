//! Probes and metrics for orchestrators and monitoring.
//!
//! - `/health/live` (and its older name `/health`): the process serves HTTP. Touches nothing
//!   else, so a database outage never gets healthy nodes restarted.
//! - `/health/ready`: this node can answer protocol requests — the database answers, the
//!   schema has every migration this build expects, and a signing key of every algorithm is
//!   loaded. 200 when all hold, else 503; the body names each check, never an error message.
//! - `/metrics`: the Prometheus text format ([`crate::telemetry`]).

use std::sync::atomic::Ordering;
use std::time::Duration;

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use gatehouse_core::SigningAlg;
use serde::Serialize;

use crate::state::AppState;

/// The longest a readiness probe waits for the database.
const READY_TIMEOUT: Duration = Duration::from_secs(2);

/// `GET /health/live`.
pub async fn live() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .content_type("text/plain; charset=utf-8")
        .body("ok")
}

/// The readiness checks, each `ok` or what is wrong.
#[derive(Debug, Serialize)]
struct Readiness {
    status: &'static str,
    database: &'static str,
    migrations: &'static str,
    signing_keys: &'static str,
}

/// `GET /health/ready`.
pub async fn ready(state: web::Data<AppState>) -> HttpResponse {
    let ring = state.keys.current();
    let signing_keys = if SigningAlg::ALL.iter().all(|a| ring.active(*a).is_some()) {
        "ok"
    } else {
        "missing"
    };
    let (database, migrations) = tokio::time::timeout(READY_TIMEOUT, database(&state))
        .await
        .unwrap_or(("timeout", "unknown"));
    let ok = database == "ok" && migrations == "ok" && signing_keys == "ok";
    let body = Readiness {
        status: if ok { "ready" } else { "not_ready" },
        database,
        migrations,
        signing_keys,
    };
    if !ok {
        tracing::warn!(database, migrations, signing_keys, "readiness check failed");
    }
    let mut res = if ok {
        HttpResponse::Ok()
    } else {
        HttpResponse::ServiceUnavailable()
    };
    res.insert_header((header::CACHE_CONTROL, "no-store"))
        .json(body)
}

/// The database checks: a round trip, and (until it has once held) the schema version.
async fn database(state: &AppState) -> (&'static str, &'static str) {
    if let Err(e) = state.store.ping().await {
        tracing::debug!(error = %e, "readiness: the database does not answer");
        return ("unavailable", "unknown");
    }
    // Once current, the schema stays current for this build: later probes skip the query.
    if state.schema_current.load(Ordering::Relaxed) {
        return ("ok", "ok");
    }
    match state.store.migrations_current().await {
        Ok(true) => {
            state.schema_current.store(true, Ordering::Relaxed);
            ("ok", "ok")
        }
        Ok(false) => ("ok", "pending"),
        Err(_) => ("unavailable", "unknown"),
    }
}

/// `GET /metrics`.
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    match crate::telemetry::render(&state) {
        Some(text) => HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .content_type("text/plain; version=0.0.4; charset=utf-8")
            .body(text),
        None => HttpResponse::NotFound().finish(),
    }
}
