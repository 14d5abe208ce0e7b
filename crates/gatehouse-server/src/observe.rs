//! What every request leaves behind: a request id, one access-log event, and its metrics.
//!
//! - The request id is the caller's `X-Request-Id` when it is short and plain (so one id can
//!   be followed through a proxy's logs and ours), else a fresh UUID. It is kept in the
//!   request (for [`crate::request_meta::RequestMeta`] and so the audit trail), returned in
//!   the response's `X-Request-Id`, and carried by the `request` span every log event of the
//!   request is recorded in.
//! - The access log (target `gatehouse::access`, level INFO; probes and `/metrics` at DEBUG)
//!   has the method, the path, the *names* of the query parameters — never their values,
//!   which carry `id_token_hint`, `login_hint`, `state`, codes — the status and the duration.
//!   Nothing is formatted when the level is off.
//! - Metrics: requests by route pattern, method and status; latency by route and method
//!   ([`crate::telemetry`]).

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage};
use tracing::Instrument;

/// The request id header, read and returned.
pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// Longest accepted incoming `X-Request-Id`.
const MAX_REQUEST_ID: usize = 128;
/// Most query parameter names written to the access log.
const MAX_LOGGED_NAMES: usize = 16;
/// Longest query parameter name written as is.
const MAX_NAME_LEN: usize = 40;

/// The id of the request being served (in the request's extensions).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(pub String);

impl RequestId {
    /// The caller's id when it is plain, else a new one.
    pub fn from_header(value: Option<&HeaderValue>) -> Self {
        let given = value
            .and_then(|v| v.to_str().ok())
            .filter(|v| valid_request_id(v));
        Self(match given {
            Some(v) => v.to_owned(),
            None => uuid::Uuid::new_v4().to_string(),
        })
    }
}

/// Whether `v` is acceptable as a request id: 1 to 128 of `A-Z a-z 0-9 - _ . :`.
pub fn valid_request_id(v: &str) -> bool {
    !v.is_empty()
        && v.len() <= MAX_REQUEST_ID
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

/// The middleware (outermost): id, span, access log, metrics.
pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody + 'static>, Error> {
    let started = Instant::now();
    let id = RequestId::from_header(req.headers().get(&REQUEST_ID_HEADER));
    req.extensions_mut().insert(id.clone());
    let span = tracing::info_span!("request", request_id = %id.0);
    let probe = is_probe(req.path());
    let line = access_line(&req, probe);
    let method = req.method().clone();
    let mut res = match next.call(req).instrument(span.clone()).await {
        Ok(res) => res,
        Err(e) => {
            // Only a middleware fails this way (handlers' errors are responses by now).
            let status = e.as_response_error().status_code().as_u16();
            crate::telemetry::http_request(None, &method, status, started.elapsed());
            return Err(e);
        }
    };
    if let Ok(v) = HeaderValue::from_str(&id.0) {
        res.headers_mut().insert(REQUEST_ID_HEADER, v);
    }
    let elapsed = started.elapsed();
    let status = res.status().as_u16();
    crate::telemetry::http_request(res.request().match_pattern(), &method, status, elapsed);
    if let Some(line) = line {
        let ms = elapsed.as_secs_f64() * 1000.0;
        span.in_scope(|| line.emit(status, ms, probe));
    }
    Ok(res)
}

/// The parts of an access-log line known before the request runs; `None` when the level is
/// off (then nothing is formatted).
fn access_line(req: &ServiceRequest, probe: bool) -> Option<AccessLine> {
    let wanted = if probe {
        tracing::enabled!(target: "gatehouse::access", tracing::Level::DEBUG)
    } else {
        tracing::enabled!(target: "gatehouse::access", tracing::Level::INFO)
    };
    wanted.then(|| AccessLine {
        method: req.method().to_string(),
        path: req.path().to_owned(),
        query: query_names(req.query_string()),
        peer: req
            .peer_addr()
            .map(|a| a.ip().to_string())
            .unwrap_or_default(),
    })
}

struct AccessLine {
    method: String,
    path: String,
    query: String,
    peer: String,
}

impl AccessLine {
    fn emit(&self, status: u16, ms: f64, probe: bool) {
        macro_rules! line {
            ($level:expr) => {
                tracing::event!(
                    target: "gatehouse::access",
                    $level,
                    method = %self.method,
                    path = %self.path,
                    query = %self.query,
                    status,
                    duration_ms = ms,
                    peer = %self.peer,
                    "request"
                )
            };
        }
        if probe {
            line!(tracing::Level::DEBUG);
        } else {
            line!(tracing::Level::INFO);
        }
    }
}

/// Liveness, readiness and metrics scrapes: frequent and uninteresting.
fn is_probe(path: &str) -> bool {
    path == "/health" || path.starts_with("/health/") || path == "/metrics"
}

/// The names of the query parameters, comma-separated, in order, without their values. A
/// name that is long or not plain (it could be a value sent without `=`) is shown as `?`.
pub fn query_names(query: &str) -> String {
    let mut out = String::new();
    for (i, pair) in query.split('&').filter(|p| !p.is_empty()).enumerate() {
        if i == MAX_LOGGED_NAMES {
            out.push_str(",…");
            break;
        }
        if i > 0 {
            out.push(',');
        }
        let name = pair.split('=').next().unwrap_or_default();
        let plain = !name.is_empty()
            && name.len() <= MAX_NAME_LEN
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
        out.push_str(if plain { name } else { "?" });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_query_log_names_parameters_and_never_shows_values() {
        let q = "response_type=code&id_token_hint=eyJhbGciOi.eyJzdWIi.sig&login_hint=alice%40example.com&state=s3cr3t";
        let names = query_names(q);
        assert_eq!(names, "response_type,id_token_hint,login_hint,state");
        for value in ["eyJ", "alice", "s3cr3t", "code"] {
            assert!(!names.contains(value), "{names}");
        }
        // A bare value (no `=`) that does not look like a name is hidden as well.
        assert_eq!(
            query_names("eyJhbGciOiJSUzI1NiJ9eyJzdWIiOiIxMjM0NTY3ODkwIn0"),
            "?"
        );
        assert_eq!(query_names("a%20b=1&=x&&c"), "?,?,c");
        assert_eq!(query_names(""), "");
        let many = (0..40).map(|i| format!("p{i}=v")).collect::<Vec<_>>();
        assert!(query_names(&many.join("&")).ends_with(",…"));
    }

    #[test]
    fn request_ids_are_taken_when_plain_else_generated() {
        let given = HeaderValue::from_static("abc-123");
        assert_eq!(RequestId::from_header(Some(&given)).0, "abc-123");
        let bad = HeaderValue::from_static("bad id\"<script>");
        let id = RequestId::from_header(Some(&bad)).0;
        assert!(uuid::Uuid::parse_str(&id).is_ok());
        let long = HeaderValue::from_str(&"a".repeat(129)).unwrap();
        assert_ne!(RequestId::from_header(Some(&long)).0.len(), 129);
    }
}
