//! The admin HTTP API `/admin/v1` (issue 4): JSON resources for tenants, users, clients, API
//! keys, signing keys and the audit trail, authenticated with `Authorization: Bearer` (RFC 6750
//! §2.1) carrying an API key or one of our access tokens, authorised by the admin scopes of
//! [`gatehouse_core::admin`]. Handlers only translate: every read and change is an operator
//! action of `gatehouse_admin`, which asks the core policy, validates, writes and audits; this
//! module renders its views and errors (a refused field as the JSON member `field`).
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
mod registration_tokens;
mod resources;
mod schemas;
mod tenants;
mod user_schemas;
mod users;

use std::collections::HashMap;
use std::fmt;
use std::sync::OnceLock;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, ResponseError, get, web};
use gatehouse_admin::{Actor, Context, Denied, Field, Grantee, OpError};
use gatehouse_core::TenantId;
use gatehouse_core::admin::{ADMIN_ALL, AdminPrincipal};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::SwaggerUi;

use crate::request_meta::RequestMeta;
use crate::state::AppState;

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

    /// 503: password hashing is at capacity; retry after `secs`.
    pub fn busy(secs: u64) -> Self {
        let mut e = Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "temporarily_unavailable",
            format!("password hashing is at capacity; retry in {secs} s"),
        );
        e.retry_after = Some(secs);
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

impl From<OpError> for ApiError {
    fn from(e: OpError) -> Self {
        match e {
            OpError::Denied(d) => d.into(),
            // Another tenant's object is answered as absent.
            OpError::NotFound { what, id } | OpError::OtherTenant { what, id } => {
                ApiError::not_found(what.as_str(), &id)
            }
            OpError::UnknownTenant(t) => ApiError::invalid(
                Some(json_member(Field::Tenant)),
                format!("tenant: no tenant with id or name {t:?}"),
            ),
            OpError::Invalid(f) => {
                let member = json_member(f.field);
                ApiError::invalid(Some(member), format!("{member}: {}", f.reason))
            }
            OpError::Refused(m) => ApiError::invalid(None, m),
            OpError::Conflict(m) => ApiError::conflict("conflict", m),
            OpError::LimitReached(m) => ApiError::conflict("api_key_limit_reached", m),
            OpError::Stale => ApiError::precondition_failed(),
            OpError::Busy(secs) => ApiError::busy(secs),
            OpError::Storage(m) => ApiError::server(m),
        }
    }
}

impl From<Denied> for ApiError {
    fn from(d: Denied) -> Self {
        let description = d.to_string();
        let mut e = match &d {
            Denied::MissingScope(scope) => return ApiError::insufficient_scope(scope),
            Denied::PlatformAdminOnly => ApiError::insufficient_scope(ADMIN_ALL),
            Denied::CannotGrant { grantee, scope } => {
                let mut e = ApiError::insufficient_scope(scope);
                e.field = Some(
                    match grantee {
                        Grantee::User => json_member(Field::AdminScopes),
                        Grantee::ApiKey | Grantee::Client | Grantee::Trust => {
                            json_member(Field::Scope)
                        }
                    }
                    .to_owned(),
                );
                e
            }
            Denied::OtherTenant => {
                ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such object")
            }
            Denied::Outranked { scope } => ApiError::insufficient_scope(scope),
        };
        e.description = description;
        e
    }
}

impl From<gatehouse_store::Error> for ApiError {
    fn from(e: gatehouse_store::Error) -> Self {
        OpError::from(e).into()
    }
}

/// The JSON member of the admin API that carries a field of an operator's request.
fn json_member(field: Field) -> &'static str {
    match field {
        Field::Tenant => "tenant",
        Field::Name => "name",
        Field::Scope => "scope",
        Field::GrantTypes => "grant_types",
        Field::RedirectUris => "redirect_uris",
        Field::PostLogoutRedirectUris => "post_logout_redirect_uris",
        Field::AuthMethod => "auth_method",
        Field::IdTokenAlg => "id_token_alg",
        Field::AccessTokenAlg => "access_token_alg",
        Field::AccessTokenTtl => "access_token_ttl",
        Field::PkceOptional => "pkce_optional",
        Field::RefreshGraceSeconds => "refresh_grace_seconds",
        Field::RefreshIdleTtl => "refresh_idle_ttl",
        Field::RefreshAbsoluteTtl => "refresh_absolute_ttl",
        Field::MayAct => "may_act",
        Field::Jwks => "jwks",
        Field::JwksUri => "jwks_uri",
        Field::Username => "username",
        Field::Email => "email",
        Field::Password => "password",
        Field::GivenName => "given_name",
        Field::FamilyName => "family_name",
        Field::Phone => "phone",
        Field::Address => "address",
        Field::AdminScopes => "admin_scopes",
        Field::ApiAccess => "api_access",
        Field::AllowedScopes => "allowed_scopes",
        Field::MaxApiKeys => "max_api_keys",
        Field::ValidityDays => "validity_days",
        Field::Environment => "environment",
        Field::AllowedIps => "allowed_ips",
        Field::RateLimitClass => "rate_limit_class",
        Field::Alg => "alg",
        Field::Issuer => "issuer",
        Field::Subject => "subject",
        Field::Identifier => "identifier",
        Field::Resources => "resources",
        Field::After => "after",
        Field::Limit => "limit",
        Field::Ttl => "ttl",
        Field::MaxUses => "max_uses",
    }
}

pub type ApiResult = Result<HttpResponse, ApiError>;

/// A JSON answer that is never cached.
pub(crate) fn json_response(status: StatusCode, v: &impl Serialize) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(v)
}

/// The strong entity tag of a representation: a digest of its canonical JSON (object members
/// sorted, so the tag does not depend on how the value was built).
pub(crate) fn etag_of(v: &impl Serialize) -> String {
    let bytes = serde_json::to_value(v)
        .and_then(|v| serde_json::to_vec(&v))
        .unwrap_or_default();
    let d = Sha256::digest(&bytes);
    let hex: String = d.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("\"{hex}\"")
}

/// A single resource with its `ETag`.
pub(crate) fn with_etag(
    status: StatusCode,
    v: &impl Serialize,
    tag_source: &impl Serialize,
) -> HttpResponse {
    let mut r = json_response(status, v);
    if let Ok(h) = HeaderValue::from_str(&etag_of(tag_source)) {
        r.headers_mut().insert(header::ETAG, h);
    }
    r
}

/// Whether `If-Match` (RFC 9110 §13.1.1) allows a change of the current representation:
/// absent or `*` passes; otherwise one listed tag must equal the current one.
pub(crate) fn if_match(req: &HttpRequest, tag_source: &impl Serialize) -> bool {
    let Some(h) = req.headers().get(header::IF_MATCH) else {
        return true;
    };
    let Ok(h) = h.to_str() else {
        return false;
    };
    if h.trim() == "*" {
        return true;
    }
    let current = etag_of(tag_source);
    h.split(',').any(|t| t.trim() == current)
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

    /// How many rows to fetch: one more than the page, which only tells that there is a next
    /// page.
    pub fn fetch(&self) -> u64 {
        self.limit + 1
    }

    /// Answers a page: `items` are at most `limit + 1` rows fetched after the cursor, each
    /// with its id.
    pub fn respond<T: Serialize>(
        &self,
        mut items: Vec<T>,
        id: impl Fn(&T) -> String,
        path: &str,
        tenant: Option<&TenantId>,
    ) -> HttpResponse {
        let more = items.len() as u64 > self.limit;
        items.truncate(self.limit as usize);
        let next_after = if more { items.last().map(&id) } else { None };
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
        json_response(
            StatusCode::OK,
            &PageBody {
                items,
                next_after,
                next,
            },
        )
    }
}

/// A page of a list.
#[derive(Serialize)]
struct PageBody<T> {
    items: Vec<T>,
    next_after: Option<String>,
    next: Option<String>,
}

/// The audit actor of a request.
pub(crate) fn actor(p: &AdminPrincipal, meta: &RequestMeta) -> Actor {
    Actor::admin(p.clone(), meta.ip_string(), Some(meta.request_id.clone()))
}

/// The context of an operator action by `actor` now.
pub(crate) fn context<'a>(state: &'a AppState, actor: &'a Actor) -> Context<'a> {
    Context::new(&state.store, actor, state.now())
}

/// The API-key settings the operator actions need.
pub(crate) fn key_policy(
    state: &AppState,
) -> Result<gatehouse_admin::api_keys::ApiKeyPolicy, ApiError> {
    state.settings.api_keys.policy().map_err(ApiError::server)
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

/// The API's handlers, listed once. Serving mounts them with plain actix-web (`mount`); only
/// the OpenAPI document goes through utoipa-actix-web (`register`), whose scope builds each
/// handler's path item as it registers it: a few MiB of allocations per HTTP worker, kept by
/// that worker's malloc arena, and the largest function run at start-up.
macro_rules! admin_services {
    ($cfg:expr) => {
        $cfg.service(version)
            .service(tenants::own_tenant)
            .service(tenants::list)
            .service(tenants::create)
            .service(tenants::get_one)
            .service(tenants::patch)
            .service(tenants::remove)
            .service(users::list)
            .service(users::create)
            .service(users::get_one)
            .service(users::remove)
            .service(users::patch_one)
            .service(users::disable)
            .service(users::enable)
            .service(users::reset_password)
            .service(users::list_sessions)
            .service(users::end_sessions)
            .service(users::end_session)
            .service(clients::list)
            .service(clients::create)
            .service(clients::get_one)
            .service(clients::patch)
            .service(clients::remove)
            .service(clients::rotate_secret)
            .service(api_keys::list)
            .service(api_keys::create)
            .service(api_keys::get_one)
            .service(api_keys::remove)
            .service(resources::list)
            .service(resources::create)
            .service(resources::remove)
            .service(registration_tokens::create)
            .service(keys::list)
            .service(keys::rotate)
            .service(audit::list);
    };
}

fn register(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    admin_services!(cfg);
}

fn mount(cfg: &mut web::ServiceConfig) {
    admin_services!(cfg);
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

/// The OpenAPI 3.1 description of `/admin/v1`, generated from the handlers.
pub fn openapi() -> utoipa::openapi::OpenApi {
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
}

/// `GET /admin/openapi.json`: the document, generated and serialized on the first request and
/// kept only as JSON text, so a server that never serves it never builds it (the document's
/// tree is a few MiB; its JSON a small part of that).
async fn openapi_json() -> HttpResponse {
    static JSON: OnceLock<web::Bytes> = OnceLock::new();
    let json = JSON.get_or_init(|| match serde_json::to_vec(&openapi()) {
        Ok(v) => web::Bytes::from(v),
        Err(e) => {
            tracing::error!(error = %e, "the OpenAPI document cannot be serialized");
            web::Bytes::new()
        }
    });
    if json.is_empty() {
        return HttpResponse::InternalServerError().finish();
    }
    HttpResponse::Ok()
        .content_type(actix_web::http::header::ContentType::json())
        .body(json.clone())
}

/// Mounts the API, its OpenAPI document and Swagger UI (which reads the document by URL).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::scope("/admin/v1").configure(mount))
        .route("/admin/openapi.json", web::get().to(openapi_json))
        .service(
            SwaggerUi::new("/admin/docs/{_:.*}")
                .config(utoipa_swagger_ui::Config::new(["/admin/openapi.json"])),
        );
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn operator_errors_name_the_json_field() {
        use gatehouse_admin::FieldError;
        let e = ApiError::from(OpError::Invalid(FieldError::new(
            Field::Environment,
            "expected live or test",
        )));
        assert_eq!(e.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(e.field.as_deref(), Some("environment"));
        assert_eq!(e.description, "environment: expected live or test");
        let e = ApiError::from(OpError::Invalid(FieldError::new(
            Field::AllowedScopes,
            "bad",
        )));
        assert_eq!(e.field.as_deref(), Some("allowed_scopes"));
        let e = ApiError::from(OpError::Refused("API access is off".into()));
        assert_eq!(e.field, None);
        let e = ApiError::from(OpError::Conflict("username taken".into()));
        assert_eq!(e.status, StatusCode::CONFLICT);
        let e = ApiError::from(OpError::UnknownTenant("nope".into()));
        assert_eq!(e.field.as_deref(), Some("tenant"));
    }

    #[test]
    fn refusals_of_the_policy_are_403_naming_the_scope_and_the_field() {
        let e = ApiError::from(OpError::Denied(Denied::CannotGrant {
            grantee: Grantee::User,
            scope: "admin:all".into(),
        }));
        assert_eq!(e.status, StatusCode::FORBIDDEN);
        assert_eq!(e.error, "insufficient_scope");
        assert_eq!(e.field.as_deref(), Some("admin_scopes"));
        assert!(e.challenge.unwrap().contains("scope=\"admin:all\""));
        let e = ApiError::from(OpError::OtherTenant {
            what: gatehouse_admin::Object::User,
            id: "u1".into(),
        });
        assert_eq!(e.status, StatusCode::NOT_FOUND);
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
        assert!(if_match(&TestRequest::default().to_http_request(), &v));
        assert!(if_match(&with("*"), &v));
        assert!(if_match(&with(&tag), &v));
        assert!(if_match(&with(&format!("\"x\", {tag}")), &v));
        assert!(!if_match(&with("\"stale\""), &v));
        let e = ApiError::from(OpError::Stale);
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
        let items = |n: usize| (0..n).map(|i| format!("id{i}")).collect::<Vec<_>>();
        let body = |r: HttpResponse| {
            let b = actix_web::body::to_bytes(r.into_body());
            let b = block_on(b).unwrap();
            serde_json::from_slice::<Value>(&b).unwrap()
        };
        let full = body(p.respond(items(3), String::clone, "/x", None));
        assert_eq!(full["items"].as_array().unwrap().len(), 2);
        assert_eq!(full["next_after"], "id1");
        assert_eq!(full["next"], "/x?after=id1&limit=2");
        let last = body(p.respond(items(2), String::clone, "/x", None));
        assert!(last["next"].is_null() && last["next_after"].is_null());
    }

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        actix_web::rt::System::new().block_on(f)
    }
}
