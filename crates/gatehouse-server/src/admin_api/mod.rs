//! The admin HTTP API `/admin/v1` (issue 4): JSON resources for tenants, users, clients, API
//! keys, signing keys and the audit trail, authenticated with `Authorization: Bearer` (RFC 6750
//! §2.1) carrying an API key or one of our access tokens, authorised by the admin scopes of
//! [`gatehouse_core::admin`]. Every change goes through the operator actions of
//! [`crate::admin`] / [`crate::admin_apikeys`], which validate, write and audit.
//!
//! Conventions: errors are `{"error", "error_description", "field"?}`; objects of tenants the
//! caller may not see answer 404; lists are keyset-paginated (`after` + `limit`, answered with
//! `next_after` and a `next` link); single resources carry an `ETag` (RFC 9110 §8.8.3) that
//! `If-Match` on PATCH/DELETE must match (412 otherwise, RFC 9110 §13.1.1). The OpenAPI 3.1
//! description is generated from the handlers (`/admin/openapi.json`), with Swagger UI served
//! from the binary at `/admin/docs/`.

mod api_keys;
mod audit;
pub mod auth;
mod clients;
mod keys;
mod schemas;
mod tenants;
mod users;

use std::collections::HashMap;
use std::fmt;
use std::sync::OnceLock;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, ResponseError, get, web};
use gatehouse_core::TenantId;
use gatehouse_core::admin::AdminPrincipal;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::SwaggerUi;

use crate::admin::{Actor, AdminError};
use crate::request_meta::RequestMeta;

/// The API version reported at `GET /admin/v1`.
pub const API_VERSION: &str = "v1";
/// Default and largest page size of list endpoints.
pub const DEFAULT_LIMIT: u64 = 50;
pub const MAX_LIMIT: u64 = 200;

/// An error answer of the admin API.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    error: &'static str,
    description: String,
    field: Option<String>,
    /// For 401/403: the `WWW-Authenticate` challenge (RFC 6750 §3).
    challenge: Option<String>,
    /// For 429: seconds until the next request may succeed.
    retry_after: Option<u64>,
}

impl ApiError {
    /// 429: the API key's rate-limit class allows no more calls of this kind right now.
    pub fn rate_limited(retry_after: u64) -> Self {
        let mut e = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "too many requests with this API key; retry later",
        );
        e.retry_after = Some(retry_after);
        e
    }

    fn new(status: StatusCode, error: &'static str, description: impl Into<String>) -> Self {
        Self {
            status,
            error,
            description: description.into(),
            field: None,
            challenge: None,
            retry_after: None,
        }
    }

    /// 401: missing, malformed, unknown, expired or revoked credentials (RFC 6750 §3.1).
    pub fn invalid_token() -> Self {
        let mut e = Self::new(
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "a valid API key or access token is required (Authorization: Bearer)",
        );
        e.challenge = Some(
            "Bearer realm=\"gatehouse-admin\", error=\"invalid_token\", error_description=\"missing or invalid credentials\""
                .into(),
        );
        e
    }

    /// 403: the caller lacks `scope` (RFC 6750 §3.1 `insufficient_scope`).
    pub fn insufficient_scope(scope: &str) -> Self {
        let mut e = Self::new(
            StatusCode::FORBIDDEN,
            "insufficient_scope",
            format!("this request needs the scope {scope}"),
        );
        e.challenge = Some(format!(
            "Bearer realm=\"gatehouse-admin\", error=\"insufficient_scope\", scope=\"{scope}\""
        ));
        e
    }

    pub fn not_found(what: &str, id: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no {what} with id {id:?}"),
        )
    }

    /// 422 naming the field at fault.
    pub fn invalid(field: Option<&str>, description: impl Into<String>) -> Self {
        let mut e = Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_request",
            description,
        );
        e.field = field.map(str::to_owned);
        e
    }

    pub fn bad_request(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", description)
    }

    pub fn conflict(error: &'static str, description: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, error, description)
    }

    pub fn precondition_failed() -> Self {
        Self::new(
            StatusCode::PRECONDITION_FAILED,
            "precondition_failed",
            "If-Match does not match the current ETag of the resource; fetch it again",
        )
    }

    pub fn server(detail: impl fmt::Display) -> Self {
        tracing::error!(error = %detail, "admin API storage error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            "the server could not complete the request",
        )
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.error, self.description)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut b = HttpResponse::build(self.status);
        b.insert_header((header::CACHE_CONTROL, "no-store"));
        if let Some(c) = &self.challenge {
            b.insert_header((header::WWW_AUTHENTICATE, c.as_str()));
        }
        if let Some(secs) = self.retry_after {
            b.insert_header((header::RETRY_AFTER, secs.to_string()));
        }
        let mut body = json!({ "error": self.error, "error_description": self.description });
        if let Some(f) = &self.field {
            body["field"] = Value::from(f.as_str());
        }
        b.json(body)
    }
}

impl From<AdminError> for ApiError {
    fn from(e: AdminError) -> Self {
        match e {
            AdminError::Invalid(m) => {
                // The operator actions name the CLI flag at fault ("--name: …"); report it as
                // the JSON field.
                let field = m
                    .split_once(':')
                    .map(|(f, _)| f.trim())
                    .filter(|f| f.starts_with("--"))
                    .map(|f| api_field(f.trim_start_matches('-')));
                ApiError::invalid(field.as_deref(), m)
            }
            AdminError::Conflict(m) => ApiError::conflict("conflict", m),
            AdminError::LimitReached(m) => ApiError::conflict("api_key_limit_reached", m),
            AdminError::Store(m) => ApiError::server(m),
        }
    }
}

impl From<gatehouse_store::Error> for ApiError {
    fn from(e: gatehouse_store::Error) -> Self {
        AdminError::from(e).into()
    }
}

/// The JSON field of a CLI flag named in an operator action's message.
fn api_field(flag: &str) -> String {
    match flag {
        "env" => "environment".into(),
        "allow-ip" => "allowed_ips".into(),
        "grant-type" => "grant_types".into(),
        "redirect-uri" => "redirect_uris".into(),
        "post-logout-redirect-uri" => "post_logout_redirect_uris".into(),
        other => other.replace('-', "_"),
    }
}

pub type ApiResult = Result<HttpResponse, ApiError>;

/// A JSON answer that is never cached.
pub(crate) fn json_response(status: StatusCode, v: &Value) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(v)
}

/// The strong entity tag of a representation: a digest of its canonical JSON.
pub(crate) fn etag_of(v: &Value) -> String {
    let bytes = serde_json::to_vec(v).unwrap_or_default();
    let d = Sha256::digest(&bytes);
    let hex: String = d.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("\"{hex}\"")
}

/// A single resource with its `ETag`.
pub(crate) fn with_etag(status: StatusCode, v: &Value, tag_source: &Value) -> HttpResponse {
    let mut r = json_response(status, v);
    if let Ok(h) = HeaderValue::from_str(&etag_of(tag_source)) {
        r.headers_mut().insert(header::ETAG, h);
    }
    r
}

/// Checks `If-Match` (RFC 9110 §13.1.1) against the current representation: absent or `*`
/// passes; otherwise one listed tag must equal the current one.
pub(crate) fn check_if_match(req: &HttpRequest, tag_source: &Value) -> Result<(), ApiError> {
    let Some(h) = req.headers().get(header::IF_MATCH) else {
        return Ok(());
    };
    let h = h.to_str().map_err(|_| ApiError::precondition_failed())?;
    if h.trim() == "*" {
        return Ok(());
    }
    let current = etag_of(tag_source);
    if h.split(',').any(|t| t.trim() == current) {
        Ok(())
    } else {
        Err(ApiError::precondition_failed())
    }
}

/// Parses a JSON request body, reporting the problem (and field, when serde names one).
pub(crate) fn parse_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| {
        let msg = e.to_string();
        let field = msg
            .split('`')
            .nth(1)
            .filter(|_| msg.starts_with("unknown field") || msg.starts_with("missing field"))
            .map(str::to_owned);
        let mut err = ApiError::bad_request(format!("request body: {msg}"));
        err.field = field;
        err
    })
}

/// The query parameters of a request.
pub(crate) fn query(req: &HttpRequest) -> Result<HashMap<String, String>, ApiError> {
    serde_urlencoded::from_str(req.query_string())
        .map_err(|e| ApiError::bad_request(format!("query string: {e}")))
}

/// `after` + `limit` of a list request.
pub(crate) struct PageRequest {
    pub after: Option<String>,
    pub limit: u64,
}

impl PageRequest {
    pub fn from_query(q: &HashMap<String, String>) -> Result<Self, ApiError> {
        let limit = match q.get("limit") {
            None => DEFAULT_LIMIT,
            Some(s) => s
                .parse::<u64>()
                .ok()
                .filter(|n| (1..=MAX_LIMIT).contains(n))
                .ok_or_else(|| {
                    ApiError::invalid(
                        Some("limit"),
                        format!("limit must be an integer between 1 and {MAX_LIMIT}"),
                    )
                })?,
        };
        let after = q.get("after").filter(|a| !a.is_empty()).cloned();
        if after.as_ref().is_some_and(|a| a.len() > 256) {
            return Err(ApiError::invalid(Some("after"), "after is too long"));
        }
        Ok(Self { after, limit })
    }

    /// Answers a page: `items` are at most `limit + 1` rows fetched after the cursor; the
    /// extra one only tells that there is a next page.
    pub fn respond(
        &self,
        mut items: Vec<(String, Value)>,
        path: &str,
        tenant: Option<&TenantId>,
    ) -> HttpResponse {
        let more = items.len() as u64 > self.limit;
        items.truncate(self.limit as usize);
        let next_after = if more {
            items.last().map(|(id, _)| id.clone())
        } else {
            None
        };
        let next = next_after.as_ref().map(|a| {
            let mut q = vec![("after", a.as_str())];
            let limit = self.limit.to_string();
            q.push(("limit", &limit));
            if let Some(t) = tenant {
                q.push(("tenant", t.as_str()));
            }
            format!(
                "{path}?{}",
                serde_urlencoded::to_string(&q).unwrap_or_default()
            )
        });
        let body = json!({
            "items": items.into_iter().map(|(_, v)| v).collect::<Vec<_>>(),
            "next_after": next_after,
            "next": next,
        });
        json_response(StatusCode::OK, &body)
    }
}

/// The tenant a request acts on: the `tenant` parameter or field when given, else the caller's.
/// A tenant the caller may not see is answered as absent.
pub(crate) fn target_tenant(p: &AdminPrincipal, given: Option<&str>) -> Result<TenantId, ApiError> {
    let Some(t) = given else {
        return Ok(p.tenant.clone());
    };
    let id = TenantId::parse(t).map_err(|e| ApiError::invalid(Some("tenant"), e))?;
    if !p.may_access_tenant(&id) {
        return Err(ApiError::not_found("tenant", t));
    }
    Ok(id)
}

/// The audit actor of a request.
pub(crate) fn actor(p: &AdminPrincipal, meta: &RequestMeta) -> Actor {
    Actor {
        kind: p.actor_kind,
        name: Some(p.actor.clone()),
        source_ip: meta.ip_string(),
        request_id: Some(meta.request_id.clone()),
    }
}

/// The version document.
#[utoipa::path(
    tag = "meta",
    responses((status = 200, description = "The API version", body = schemas::VersionDoc))
)]
#[get("")]
async fn version() -> HttpResponse {
    json_response(
        StatusCode::OK,
        &json!({ "api": "gatehouse-admin", "version": API_VERSION }),
    )
}

fn register(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(version)
        .service(tenants::own_tenant)
        .service(tenants::list)
        .service(tenants::create)
        .service(tenants::get_one)
        .service(tenants::patch)
        .service(users::list)
        .service(users::create)
        .service(users::get_one)
        .service(users::remove)
        .service(clients::list)
        .service(clients::create)
        .service(clients::get_one)
        .service(clients::remove)
        .service(clients::rotate_secret)
        .service(api_keys::list)
        .service(api_keys::create)
        .service(api_keys::get_one)
        .service(api_keys::remove)
        .service(keys::list)
        .service(keys::rotate)
        .service(audit::list);
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Gatehouse admin API",
        version = "v1",
        description = "Administration of tenants, users, clients, API keys, signing keys and the audit trail. Authenticate with `Authorization: Bearer <API key or access token>` carrying admin scopes."
    ),
    security(("bearer" = [])),
    components(schemas(schemas::ErrorBody))
)]
struct BaseDoc;

/// The OpenAPI 3.1 description of `/admin/v1`, generated once from the handlers.
pub fn openapi() -> &'static utoipa::openapi::OpenApi {
    static DOC: OnceLock<utoipa::openapi::OpenApi> = OnceLock::new();
    DOC.get_or_init(|| {
        let (_, paths) = actix_web::App::new()
            .into_utoipa_app()
            .service(utoipa_actix_web::scope("/admin/v1").configure(register))
            .split_for_parts();
        let mut doc = BaseDoc::openapi();
        doc.merge(paths);
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An API key or a Gatehouse access token"))
                    .build(),
            ),
        );
        doc
    })
}

/// Mounts the API, its OpenAPI document and Swagger UI.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(utoipa_actix_web::scope("/admin/v1").configure(register))
        .service(
            SwaggerUi::new("/admin/docs/{_:.*}").url("/admin/openapi.json", openapi().clone()),
        );
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn operator_errors_name_the_json_field() {
        let e = ApiError::from(AdminError::Invalid("--env: expected live or test".into()));
        assert_eq!(e.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(e.field.as_deref(), Some("environment"));
        let e = ApiError::from(AdminError::Invalid("--refresh-idle-ttl: too long".into()));
        assert_eq!(e.field.as_deref(), Some("refresh_idle_ttl"));
        let e = ApiError::from(AdminError::Invalid("no colon here".into()));
        assert_eq!(e.field, None);
        let e = ApiError::from(AdminError::Conflict("username taken".into()));
        assert_eq!(e.status, StatusCode::CONFLICT);
    }

    #[test]
    fn if_match_accepts_the_current_tag_or_star_only() {
        let v = json!({"id": "t1", "name": "A"});
        let tag = etag_of(&v);
        let with = |h: &str| {
            TestRequest::default()
                .insert_header(("If-Match", h))
                .to_http_request()
        };
        assert!(check_if_match(&TestRequest::default().to_http_request(), &v).is_ok());
        assert!(check_if_match(&with("*"), &v).is_ok());
        assert!(check_if_match(&with(&tag), &v).is_ok());
        assert!(check_if_match(&with(&format!("\"x\", {tag}")), &v).is_ok());
        let e = check_if_match(&with("\"stale\""), &v).unwrap_err();
        assert_eq!(e.status, StatusCode::PRECONDITION_FAILED);
        assert_ne!(etag_of(&json!({"id": "t1", "name": "B"})), tag);
    }

    #[test]
    fn page_limits_are_checked_and_next_is_given_only_when_more_exist() {
        let q = |s: &str| -> HashMap<String, String> { serde_urlencoded::from_str(s).unwrap() };
        for bad in ["limit=0", "limit=201", "limit=x", "limit=-1"] {
            let e = PageRequest::from_query(&q(bad)).err().unwrap();
            assert_eq!(e.field.as_deref(), Some("limit"), "{bad}");
        }
        let p = PageRequest::from_query(&q("limit=2")).unwrap();
        let items = |n: usize| (0..n).map(|i| (format!("id{i}"), json!(i))).collect();
        let body = |r: HttpResponse| {
            let b = actix_web::body::to_bytes(r.into_body());
            let b = block_on(b).unwrap();
            serde_json::from_slice::<Value>(&b).unwrap()
        };
        let full = body(p.respond(items(3), "/x", None));
        assert_eq!(full["items"].as_array().unwrap().len(), 2);
        assert_eq!(full["next_after"], "id1");
        assert_eq!(full["next"], "/x?after=id1&limit=2");
        let last = body(p.respond(items(2), "/x", None));
        assert!(last["next"].is_null() && last["next_after"].is_null());
    }

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        actix_web::rt::System::new().block_on(f)
    }
}
