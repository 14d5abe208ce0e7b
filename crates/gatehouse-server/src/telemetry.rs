//! Metrics in the Prometheus text exposition format (`/metrics`), through the `metrics` facade
//! and its Prometheus renderer.
//!
//! Label values come from closed sets only — route patterns (never raw paths), methods, status
//! codes, grant types, outcomes — so a client can neither grow the series without bound nor
//! read a secret, token or user name out of them. Token and sign-in counts are taken from the
//! audit events the core returns ([`audit_event`]), where the server writes them: the rule of
//! what was issued or refused stays in one place.
//!
//! Names (all prefixed `gatehouse_`) are listed in `docs/observability.md`; keep both in step.

use std::sync::OnceLock;
use std::time::Duration;

use actix_web::http::Method;
use gatehouse_core::audit::{NewAuditEvent, Outcome};
use metrics::{counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::state::AppState;

pub const HTTP_REQUESTS: &str = "gatehouse_http_requests_total";
pub const HTTP_DURATION: &str = "gatehouse_http_request_duration_seconds";
pub const HTTP_BODY_TIMEOUTS: &str = "gatehouse_http_body_timeouts_total";
pub const TOKENS_ISSUED: &str = "gatehouse_tokens_issued_total";
pub const REFRESH_REUSE: &str = "gatehouse_refresh_token_reuse_total";
pub const CODE_REPLAY: &str = "gatehouse_authorization_code_replay_total";
pub const SIGN_INS: &str = "gatehouse_sign_ins_total";
pub const RATE_LIMITED: &str = "gatehouse_rate_limited_total";
pub const SHARED_LIMITS_FALLBACK: &str = "gatehouse_shared_limits_fallback_total";
pub const REDIS_UP: &str = "gatehouse_redis_up";
pub const DB_CONNECTIONS: &str = "gatehouse_db_pool_connections";
pub const DB_MAX: &str = "gatehouse_db_pool_max_connections";
pub const KEY_AGE: &str = "gatehouse_signing_key_age_seconds";
pub const KEY_RELOADS: &str = "gatehouse_signing_key_reloads_total";
pub const TLS_RELOADS: &str = "gatehouse_tls_certificate_reloads_total";
pub const BUILD_INFO: &str = "gatehouse_build_info";

/// Request latency buckets, in seconds.
const LATENCY_BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// The process-wide recorder (one per process; a second application in the same process, as
/// in tests, shares it).
static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Installs the recorder once and returns its handle; `None` when another recorder was
/// installed first (then the facade's calls go there and `/metrics` says so).
pub fn install() -> Option<PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Full(HTTP_DURATION.into()), &LATENCY_BUCKETS)
                .ok()?;
            let recorder = builder.build_recorder();
            let handle = recorder.handle();
            metrics::set_global_recorder(recorder).ok()?;
            describe();
            gauge!(BUILD_INFO, "version" => env!("CARGO_PKG_VERSION")).set(1.0);
            Some(handle)
        })
        .clone()
}

fn describe() {
    describe_counter!(
        HTTP_REQUESTS,
        "HTTP requests by route pattern, method and status"
    );
    describe_histogram!(
        HTTP_DURATION,
        "HTTP request latency by route pattern and method"
    );
    describe_counter!(
        HTTP_BODY_TIMEOUTS,
        "Requests cut off by [server] body_timeout"
    );
    describe_counter!(TOKENS_ISSUED, "Access tokens issued, by grant type");
    describe_counter!(
        REFRESH_REUSE,
        "Refresh-token reuse detected (grant revoked)"
    );
    describe_counter!(
        CODE_REPLAY,
        "Authorization-code replay detected (grant revoked)"
    );
    describe_counter!(SIGN_INS, "Password sign-ins by audience and outcome");
    describe_counter!(
        RATE_LIMITED,
        "Requests refused by a rate limit or the sign-in throttle"
    );
    describe_counter!(
        SHARED_LIMITS_FALLBACK,
        "Limit checks answered locally because Redis was unreachable"
    );
    describe_gauge!(
        REDIS_UP,
        "1 when the shared-limits Redis answered last, else 0"
    );
    describe_gauge!(DB_CONNECTIONS, "Database pool connections by state");
    describe_gauge!(DB_MAX, "Most connections the database pool opens");
    describe_gauge!(
        KEY_AGE,
        "Seconds the signing key of each algorithm has been signing"
    );
    describe_counter!(
        KEY_RELOADS,
        "Forced signing-key reloads by trigger and result"
    );
    describe_counter!(TLS_RELOADS, "TLS certificate reloads (SIGHUP) by result");
    describe_gauge!(BUILD_INFO, "Always 1; the version as a label");
}

/// Counts one HTTP request. `route` is the matched pattern, or `None` for no route.
pub fn http_request(route: Option<String>, method: &Method, status: u16, elapsed: Duration) {
    let route = route.unwrap_or_else(|| "unmatched".to_owned());
    let method = method_label(method);
    counter!(HTTP_REQUESTS, "route" => route.clone(), "method" => method, "status" => status_label(status))
        .increment(1);
    histogram!(HTTP_DURATION, "route" => route, "method" => method).record(elapsed.as_secs_f64());
}

/// Counts a request cut off by the body deadline.
pub fn body_timeout() {
    counter!(HTTP_BODY_TIMEOUTS).increment(1);
}

/// Counts what an audit event says about tokens and sign-ins.
pub fn audit_event(e: &NewAuditEvent) {
    match e.action.as_str() {
        "token.issue" => {
            let grant = grant_label(e.details["grant_type"].as_str().unwrap_or_default());
            counter!(TOKENS_ISSUED, "grant_type" => grant).increment(1);
        }
        "token.exchange" => {
            counter!(TOKENS_ISSUED, "grant_type" => "token_exchange").increment(1);
        }
        "token.refresh_reuse" => counter!(REFRESH_REUSE).increment(1),
        "token.code_replay" => counter!(CODE_REPLAY).increment(1),
        "login" => sign_in("login_page", e),
        "console.sign_in" => sign_in("console", e),
        _ => {}
    }
}

fn sign_in(audience: &'static str, e: &NewAuditEvent) {
    let outcome = match e.outcome {
        Outcome::Success => "success",
        Outcome::Failure => match e.details["reason"].as_str() {
            Some("tenant_disabled") => "tenant_disabled",
            Some("not_admin") => "not_admin",
            _ => "invalid_credentials",
        },
        // The sign-in's only denial is the throttle.
        Outcome::Denied => {
            rate_limited("sign_in");
            "throttled"
        }
    };
    counter!(SIGN_INS, "audience" => audience, "outcome" => outcome).increment(1);
}

/// Counts a refusal by the limit named (`sign_in`, `api_key_read`, `api_key_write`).
pub fn rate_limited(limit: &'static str) {
    counter!(RATE_LIMITED, "limit" => limit).increment(1);
}

/// Counts a limit check answered locally because Redis failed (`use` names the limit).
pub fn shared_limits_fallback(used_for: &'static str) {
    counter!(SHARED_LIMITS_FALLBACK, "limit" => used_for).increment(1);
    gauge!(REDIS_UP).set(0.0);
}

/// Records that Redis answered.
pub fn redis_answered() {
    gauge!(REDIS_UP).set(1.0);
}

/// Counts a forced signing-key reload.
pub fn key_reload(trigger: &'static str, ok: bool) {
    counter!(KEY_RELOADS, "trigger" => trigger, "result" => result_label(ok)).increment(1);
}

/// Counts a TLS certificate reload.
pub fn tls_reload(ok: bool) {
    counter!(TLS_RELOADS, "result" => result_label(ok)).increment(1);
}

/// Drains histogram samples into their buckets, so memory stays bounded between scrapes.
pub fn upkeep() {
    if let Some(Some(h)) = HANDLE.get() {
        h.run_upkeep();
    }
}

/// The exposition text: the gauges sampled now (pool, key age), then everything recorded.
pub fn render(state: &AppState) -> Option<String> {
    let handle = HANDLE.get()?.as_ref()?;
    let pool = state.store.pool_status();
    gauge!(DB_CONNECTIONS, "state" => "in_use").set(f64::from(pool.in_use));
    gauge!(DB_CONNECTIONS, "state" => "idle").set(f64::from(pool.idle));
    gauge!(DB_MAX).set(f64::from(pool.max));
    let now = state.now();
    for (alg, since) in state.keys.signing_since() {
        let age = (now - since).num_seconds().max(0);
        gauge!(KEY_AGE, "alg" => alg.as_str()).set(age as f64);
    }
    Some(handle.render())
}

fn method_label(m: &Method) -> &'static str {
    match *m {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// Status codes as labels without allocating: the common ones by name, the rest by class
/// (the class arms come last on purpose and catch what the exact ones do not).
#[allow(clippy::match_overlapping_arm)]
fn status_label(status: u16) -> &'static str {
    match status {
        200 => "200",
        201 => "201",
        204 => "204",
        302 => "302",
        303 => "303",
        304 => "304",
        400 => "400",
        401 => "401",
        403 => "403",
        404 => "404",
        405 => "405",
        408 => "408",
        409 => "409",
        413 => "413",
        415 => "415",
        422 => "422",
        429 => "429",
        500 => "500",
        503 => "503",
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    }
}

/// The grant types the token endpoint knows, by short name; anything else is `other`.
fn grant_label(grant_type: &str) -> &'static str {
    match grant_type {
        "authorization_code" => "authorization_code",
        "refresh_token" => "refresh_token",
        "client_credentials" => "client_credentials",
        "implicit" => "implicit",
        "urn:ietf:params:oauth:grant-type:jwt-bearer" => "jwt_bearer",
        "urn:ietf:params:oauth:grant-type:token-exchange" => "token_exchange",
        "urn:ietf:params:oauth:grant-type:device_code" => "device_code",
        _ => "other",
    }
}

fn result_label(ok: bool) -> &'static str {
    if ok { "ok" } else { "error" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_come_from_closed_sets() {
        assert_eq!(grant_label("client_credentials"), "client_credentials");
        assert_eq!(
            grant_label("urn:ietf:params:oauth:grant-type:jwt-bearer"),
            "jwt_bearer"
        );
        assert_eq!(grant_label("eyJhbGciOiJSUzI1NiJ9.secret"), "other");
        assert_eq!(status_label(418), "4xx");
        assert_eq!(status_label(599), "5xx");
        assert_eq!(method_label(&Method::from_bytes(b"BREW").unwrap()), "other");
    }
}
