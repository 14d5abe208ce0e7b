//! actix-web adapter (feature `actix`).
//!
//! - [`Protect`]: middleware that serves the RFC 9728 metadata document, authenticates and
//!   rate-limits every other request through [`ResourceServer::authorize`], stores the claims in
//!   the request and adds the rate-limit headers to the response.
//! - [`Authenticated`]: an extractor for the claims of a request that passed [`Protect`].
//! - [`RequireScope`]: middleware refusing requests whose credential lacks a scope (403
//!   `insufficient_scope`); or call [`ResourceServer::require_scope`] in a handler — a
//!   [`Rejection`] is an actix `ResponseError`, so `?` works.

use std::future::{Future, Ready, ready};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use actix_web::http::StatusCode;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse, ResponseError};

use crate::{Claims, Rejection, RequestInfo, ResourceServer};

type LocalBoxFuture<T> = Pin<Box<dyn Future<Output = T>>>;

impl ResponseError for Rejection {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::UNAUTHORIZED)
    }

    fn error_response(&self) -> HttpResponse {
        let mut b = HttpResponse::build(self.status_code());
        for (name, value) in &self.headers {
            b.append_header((*name, value.as_str()));
        }
        b.insert_header(("cache-control", "no-store"));
        b.content_type("application/json").body(self.body.clone())
    }
}

/// The claims of an authenticated request. Use as a handler argument under [`Protect`].
#[derive(Debug, Clone)]
pub struct Authenticated(pub Arc<Claims>);

impl std::ops::Deref for Authenticated {
    type Target = Claims;
    fn deref(&self) -> &Claims {
        &self.0
    }
}

impl FromRequest for Authenticated {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(match req.extensions().get::<Authenticated>() {
            Some(a) => Ok(a.clone()),
            // A wiring mistake (the route is not under `Protect`), never a client's fault.
            None => Err(actix_web::error::ErrorInternalServerError(
                "route is not wrapped by gatehouse_verify::actix::Protect",
            )),
        })
    }
}

/// Middleware protecting everything it wraps.
#[derive(Clone)]
pub struct Protect {
    rs: ResourceServer,
}

impl Protect {
    pub fn new(rs: ResourceServer) -> Self {
        Self { rs }
    }
}

impl<S, B> Transform<S, ServiceRequest> for Protect
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Transform = ProtectService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(ProtectService {
            service: Rc::new(service),
            rs: self.rs.clone(),
        }))
    }
}

pub struct ProtectService<S> {
    service: Rc<S>,
    rs: ResourceServer,
}

impl<S, B> Service<ServiceRequest> for ProtectService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<Result<Self::Response, Self::Error>>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let service = self.service.clone();
        let rs = self.rs.clone();
        Box::pin(async move {
            if req.path() == rs.metadata_path() && req.method() == actix_web::http::Method::GET {
                let resp = HttpResponse::Ok()
                    .content_type("application/json")
                    .body(rs.metadata_json().to_owned());
                return Ok(req.into_response(resp).map_into_right_body());
            }
            let access = {
                let authorization = header_values(&req, "authorization");
                let dpop = header_values(&req, "dpop");
                let info = RequestInfo {
                    method: req.method().as_str(),
                    path: req.path(),
                    authorization: &authorization,
                    dpop: &dpop,
                    client_ip: req.peer_addr().map(|a| a.ip()),
                };
                rs.authorize(&info).await
            };
            match access {
                Err(rejection) => Ok(req
                    .into_response(rejection.error_response())
                    .map_into_right_body()),
                Ok(access) => {
                    req.extensions_mut().insert(Authenticated(access.claims));
                    let mut res = service.call(req).await?;
                    append(res.headers_mut(), &access.headers);
                    Ok(res.map_into_left_body())
                }
            }
        })
    }
}

/// Header values as text; a value that is not visible ASCII is kept as an empty string, which
/// no check accepts.
fn header_values<'a>(req: &'a ServiceRequest, name: &str) -> Vec<&'a str> {
    req.headers()
        .get_all(name)
        .map(|v| v.to_str().unwrap_or(""))
        .collect()
}

fn append(headers: &mut actix_web::http::header::HeaderMap, extra: &[(&'static str, String)]) {
    for (name, value) in extra {
        // `from_bytes` lowercases the crate's mixed-case names.
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            headers.append(n, v);
        }
    }
}

/// Middleware that lets through only credentials carrying `scope` (space-separated: all of
/// them). Wrap it inside [`Protect`].
#[derive(Clone)]
pub struct RequireScope {
    rs: ResourceServer,
    scope: Rc<str>,
}

impl RequireScope {
    pub fn new(rs: &ResourceServer, scope: &str) -> Self {
        Self {
            rs: rs.clone(),
            scope: scope.into(),
        }
    }
}

impl<S, B> Transform<S, ServiceRequest> for RequireScope
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Transform = RequireScopeService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(RequireScopeService {
            service: Rc::new(service),
            guard: self.clone(),
        }))
    }
}

pub struct RequireScopeService<S> {
    service: Rc<S>,
    guard: RequireScope,
}

impl<S, B> Service<ServiceRequest> for RequireScopeService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<Result<Self::Response, Self::Error>>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let service = self.service.clone();
        let claims = req.extensions().get::<Authenticated>().cloned();
        let verdict = match &claims {
            Some(a) => self.guard.rs.require_scope(&a.0, &self.guard.scope),
            None => Err(self
                .guard
                .rs
                .reject(&crate::VerifyError::Missing, crate::Scheme::Bearer)),
        };
        Box::pin(async move {
            match verdict {
                Ok(()) => Ok(service.call(req).await?.map_into_left_body()),
                Err(r) => Ok(req.into_response(r.error_response()).map_into_right_body()),
            }
        })
    }
}
