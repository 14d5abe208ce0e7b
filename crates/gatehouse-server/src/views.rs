//! HTML pages (askama templates under `templates/`, autoescaped as `.html`), and the security
//! headers every page carries: no framing, no caching, a strict CSP, no referrer. The sign-in
//! forms (login page, console sign-in) come with a fresh double-submit CSRF token and its
//! cookie ([`crate::session`]).

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::http::header;
use askama::Template;

#[derive(Template)]
#[template(path = "login.html")]
pub struct LoginPage<'a> {
    /// Where the form posts: `/login`, or `/device/login` for the device verification page.
    pub action: &'a str,
    pub client_name: &'a str,
    pub csrf_token: &'a str,
    pub request: &'a str,
    pub username: &'a str,
    pub error: Option<&'a str>,
}

/// What the login page shows besides its CSRF token: the client, the original request (carried
/// through the form) and the username typed so far.
#[derive(Debug, Clone)]
pub struct LoginForm {
    /// Where the form posts (`/login` or `/device/login`).
    pub action: &'static str,
    pub client_name: String,
    pub request: String,
    pub username: String,
}

/// The login page with a fresh CSRF token and its cookie.
pub fn login_page(
    status: StatusCode,
    form: &LoginForm,
    error: Option<&str>,
    secure: bool,
) -> HttpResponse {
    let (csrf, cookie) = crate::session::LOGIN.form_csrf(secure);
    let mut resp = page(
        status,
        &LoginPage {
            action: form.action,
            client_name: &form.client_name,
            csrf_token: &csrf,
            request: &form.request,
            username: &form.username,
            error,
        },
    );
    let _ = resp.add_cookie(&cookie);
    resp
}

/// The console's CSP: the login pages' policy plus same-origin scripts and form posts.
const CONSOLE_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Renders a console page with the security headers and the console's CSP.
pub fn console_page(status: StatusCode, t: &impl Template) -> HttpResponse {
    match t.render() {
        Ok(body) => secure(HttpResponse::build(status))
            .insert_header((header::CONTENT_SECURITY_POLICY, CONSOLE_CSP))
            .content_type("text/html; charset=utf-8")
            .body(body),
        Err(e) => {
            tracing::error!(error = %e, "console template rendering failed");
            HttpResponse::InternalServerError().finish()
        }
    }
}

/// The console's sign-in page with a fresh CSRF token and its cookie.
pub fn console_sign_in_page(
    status: StatusCode,
    username: &str,
    error: Option<&str>,
    secure: bool,
) -> HttpResponse {
    let (token, cookie) = crate::session::CONSOLE.form_csrf(secure);
    let mut resp = console_page(
        status,
        &crate::console::views::SignInPage {
            csrf_token: &token,
            username,
            error,
        },
    );
    let _ = resp.add_cookie(&cookie);
    resp
}

#[derive(Template)]
#[template(path = "consent.html")]
pub struct ConsentPage<'a> {
    /// Where the form posts: `/consent`, or `/device/consent`.
    pub action: &'a str,
    pub client_name: &'a str,
    pub username: &'a str,
    pub csrf_token: &'a str,
    pub request: &'a str,
    /// (scope, description) pairs.
    pub scopes: Vec<(String, String)>,
    /// The user code, on the device flow's consent screen: the user compares it with the
    /// device's (RFC 8628 §5.4).
    pub device_code: Option<&'a str>,
}

/// The consent page for `areq` (already narrowed to what the user may get), in the session
/// `b`, with the scopes described by `descriptions` (`[scopes]`; others show their name).
pub fn consent_page(
    areq: &gatehouse_core::authorize::AuthorizationRequest,
    b: &gatehouse_core::session::BoundSession,
    descriptions: &std::collections::BTreeMap<String, String>,
) -> HttpResponse {
    let request = areq.params.to_query();
    page(
        StatusCode::OK,
        &ConsentPage {
            action: "/consent",
            scopes: described(&areq.scope, descriptions),
            device_code: None,
            client_name: &areq.client.name,
            username: &b.user().username,
            csrf_token: &b.session().csrf_token,
            request: &request,
        },
    )
}

/// `(scope, description)` pairs: `[scopes]` descriptions, else the scope's name.
fn described(
    scope: &gatehouse_core::ScopeSet,
    descriptions: &std::collections::BTreeMap<String, String>,
) -> Vec<(String, String)> {
    scope
        .iter()
        .map(|s| {
            let description = descriptions.get(s).cloned();
            (
                s.to_owned(),
                description.unwrap_or_else(|| format!("Use {s}")),
            )
        })
        .collect()
}

/// The consent screen of the device verification page (RFC 8628 §3.3): the client, the
/// scopes, and the user code carried in the form (shown, so the user can compare it with the
/// device's screen).
pub fn device_consent_page(
    client_name: &str,
    user_code: &str,
    scope: &gatehouse_core::ScopeSet,
    b: &gatehouse_core::session::BoundSession,
    descriptions: &std::collections::BTreeMap<String, String>,
) -> HttpResponse {
    let request = format!("user_code={user_code}");
    page(
        StatusCode::OK,
        &ConsentPage {
            action: "/device/consent",
            scopes: described(scope, descriptions),
            device_code: Some(user_code),
            client_name,
            username: &b.user().username,
            csrf_token: &b.session().csrf_token,
            request: &request,
        },
    )
}

/// The device verification page (RFC 8628 §3.3): the form to type a user code (`done` is
/// `None`), or the outcome of a decision.
#[derive(Template)]
#[template(path = "device.html")]
pub struct DevicePage<'a> {
    pub user_code: &'a str,
    pub error: Option<&'a str>,
    pub done: Option<&'a str>,
}

/// The device verification page with `status`.
pub fn device_page(status: StatusCode, t: &DevicePage<'_>) -> HttpResponse {
    page(status, t)
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

/// The CSP of the admin API's Swagger UI (`/admin/docs/`): its own scripts and styles (it sets
/// inline styles), its icons as data URIs, calls to this origin only ("Try it out"), no
/// framing.
pub const DOCS_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'";

/// Middleware: the Swagger UI files (served by utoipa-swagger-ui, which sets no headers of its
/// own) get the security headers of every other page, with [`DOCS_CSP`].
pub async fn docs_headers(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<
    actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody + 'static>,
    actix_web::Error,
> {
    let docs = req.path().starts_with("/admin/docs");
    let mut res = next.call(req).await?;
    if docs {
        let h = res.headers_mut();
        for (name, value) in [
            (header::CONTENT_SECURITY_POLICY, DOCS_CSP),
            (header::X_FRAME_OPTIONS, "DENY"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::REFERRER_POLICY, "no-referrer"),
        ] {
            h.insert(name, header::HeaderValue::from_static(value));
        }
    }
    Ok(res)
}
