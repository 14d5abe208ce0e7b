//! HTML pages (askama templates under `templates/`, autoescaped as `.html`), and the security
//! headers every page carries: no framing, no caching, a strict CSP, no referrer.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::http::header;
use askama::Template;

#[derive(Template)]
#[template(path = "login.html")]
pub struct LoginPage<'a> {
    pub client_name: &'a str,
    pub csrf_token: &'a str,
    pub request: &'a str,
    pub username: &'a str,
    pub error: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "consent.html")]
pub struct ConsentPage<'a> {
    pub client_name: &'a str,
    pub username: &'a str,
    pub csrf_token: &'a str,
    pub request: &'a str,
    /// (scope, description) pairs.
    pub scopes: Vec<(String, String)>,
}

/// The auto-submitting form of `response_mode=form_post` (Form Post Response Mode §2).
#[derive(Template)]
#[template(path = "form_post.html")]
pub struct FormPostPage<'a> {
    pub client_name: &'a str,
    pub action: &'a str,
    pub fields: &'a [(String, String)],
    pub nonce: &'a str,
}

/// The logout confirmation (`confirm`) or its outcome (RP-Initiated Logout 1.0 §2).
#[derive(Template)]
#[template(path = "logout.html")]
pub struct LogoutPage<'a> {
    pub confirm: bool,
    pub client_name: Option<&'a str>,
    pub username: &'a str,
    pub csrf_token: &'a str,
    pub request: &'a str,
    pub message: &'a str,
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    code: &'a str,
    description: &'a str,
}

/// Renders a page with the security headers.
pub fn page(status: StatusCode, t: &impl Template) -> HttpResponse {
    match t.render() {
        Ok(body) => secure(HttpResponse::build(status))
            .content_type("text/html; charset=utf-8")
            .body(body),
        Err(e) => {
            tracing::error!(error = %e, "template rendering failed");
            HttpResponse::InternalServerError().finish()
        }
    }
}

/// The form-post response page. Its CSP lets exactly this page's script run (by nonce) and
/// its form post only to the redirect URI's origin.
pub fn form_post(client_name: &str, action: &str, fields: &[(String, String)]) -> HttpResponse {
    let nonce = gatehouse_core::secret::Secret::generate()
        .expose()
        .to_owned();
    let target = match url::Url::parse(action) {
        Ok(u) if u.origin().is_tuple() => u.origin().ascii_serialization(),
        // A private-use scheme (com.example.app:/cb) has no origin: allow that scheme.
        Ok(u) => format!("{}:", u.scheme()),
        Err(_) => "'none'".to_owned(),
    };
    let csp = format!(
        "default-src 'none'; script-src 'nonce-{nonce}'; style-src 'unsafe-inline'; form-action {target}; frame-ancestors 'none'; base-uri 'none'"
    );
    let page = FormPostPage {
        client_name,
        action,
        fields,
        nonce: &nonce,
    };
    match page.render() {
        Ok(body) => {
            let mut b = secure(HttpResponse::Ok());
            b.insert_header((header::CONTENT_SECURITY_POLICY, csp))
                .content_type("text/html; charset=utf-8")
                .body(body)
        }
        Err(e) => {
            tracing::error!(error = %e, "template rendering failed");
            HttpResponse::InternalServerError().finish()
        }
    }
}

/// The error page.
pub fn error(status: StatusCode, code: &str, description: &str) -> HttpResponse {
    page(status, &ErrorPage { code, description })
}

/// Adds the page security headers.
pub fn secure(mut b: actix_web::HttpResponseBuilder) -> actix_web::HttpResponseBuilder {
    b.insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::X_FRAME_OPTIONS, "DENY"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'",
        ));
    b
}
