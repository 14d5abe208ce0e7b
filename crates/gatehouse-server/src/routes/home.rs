//! `/`: a small landing page naming the issuer and linking what a visitor may look for (the
//! discovery documents of OpenID Connect Discovery 1.0 §4 and RFC 8414 §3, the JWKS, the
//! console, the admin API docs); and `/admin/docs` without its slash, sent to `/admin/docs/`.
//! Both carry the page security headers.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, web};

use crate::state::AppState;
use crate::views;

/// `GET /`.
pub async fn home(state: web::Data<AppState>) -> HttpResponse {
    let issuer = escape(&state.settings.issuer);
    let body = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Gatehouse</title></head>\n\
         <body><h1>Gatehouse</h1>\n<p>OAuth 2.0 / OpenID Connect authorization server. Issuer: <code>{issuer}</code></p>\n<ul>\n\
         <li><a href=\"/.well-known/openid-configuration\">OpenID Connect discovery</a></li>\n\
         <li><a href=\"/.well-known/oauth-authorization-server\">Authorization server metadata (RFC 8414)</a></li>\n\
         <li><a href=\"/jwks.json\">Signing keys (JWKS)</a></li>\n\
         <li><a href=\"/admin/console\">Admin console</a></li>\n\
         <li><a href=\"/admin/docs/\">Admin API documentation</a></li>\n</ul></body></html>\n"
    );
    views::secure(HttpResponse::build(StatusCode::OK))
        .content_type("text/html; charset=utf-8")
        .body(body)
}

/// `GET /admin/docs`: the Swagger UI lives under `/admin/docs/`.
pub async fn admin_docs() -> HttpResponse {
    views::secure(HttpResponse::build(StatusCode::PERMANENT_REDIRECT))
        .insert_header((header::LOCATION, "/admin/docs/"))
        .finish()
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
