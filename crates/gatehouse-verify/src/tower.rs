//! tower adapter (feature `tower`), for axum, hyper and any `tower::Service` over `http` types.
//!
//! - [`ProtectLayer`]: serves the RFC 9728 metadata document, authenticates and rate-limits
//!   every other request, puts the claims in the request's extensions as `Arc<Claims>` (axum:
//!   `Extension<Arc<Claims>>`) and adds the rate-limit headers to the response.
//! - [`RequireScopeLayer`]: refuses requests whose credential lacks a scope (403
//!   `insufficient_scope`). Apply it inside a [`ProtectLayer`].
//!
//! The response body type only needs `From<String>` (axum's `Body`, `String`, `Full<Bytes>`).
//! The caller's address is not part of an `http::Request`; give [`ProtectLayer::client_ip`] a
//! function that finds it (e.g. in axum's `ConnectInfo`) to enforce API-key IP allowlists.

use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::header::{HeaderName, HeaderValue};
use http::{Extensions, HeaderMap, Request, Response, StatusCode};
use tower_layer::Layer;
use tower_service::Service;

use crate::{Claims, Rejection, RequestInfo, ResourceServer, Scheme, VerifyError};

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// Finds the caller's address in a request.
pub type ClientIpFn = fn(&HeaderMap, &Extensions) -> Option<IpAddr>;

/// A layer protecting every route it wraps.
#[derive(Clone)]
pub struct ProtectLayer {
    rs: ResourceServer,
    client_ip: Option<ClientIpFn>,
}

impl ProtectLayer {
    pub fn new(rs: ResourceServer) -> Self {
        Self {
            rs,
            client_ip: None,
        }
    }

    /// How to find the caller's address (for API-key IP allowlists).
    pub fn client_ip(mut self, f: ClientIpFn) -> Self {
        self.client_ip = Some(f);
        self
    }
}

impl<S> Layer<S> for ProtectLayer {
    type Service = Protect<S>;
    fn layer(&self, inner: S) -> Protect<S> {
        Protect {
            inner,
            rs: self.rs.clone(),
            client_ip: self.client_ip,
        }
    }
}

/// The service of [`ProtectLayer`].
#[derive(Clone)]
pub struct Protect<S> {
    inner: S,
    rs: ResourceServer,
    client_ip: Option<ClientIpFn>,
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for Protect<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send,
    ReqBody: Send + 'static,
    ResBody: From<String> + Send + 'static,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = BoxFuture<Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<ReqBody>) -> Self::Future {
        // The clone that was polled ready handles this request (tower's usual pattern).
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let rs = self.rs.clone();
        let client_ip = self
            .client_ip
            .and_then(|f| f(req.headers(), req.extensions()));
        Box::pin(async move {
            if req.method() == http::Method::GET && req.uri().path() == rs.metadata_path() {
                return Ok(json_response(
                    StatusCode::OK,
                    &[],
                    rs.metadata_json().to_owned(),
                ));
            }
            let access = {
                let authorization = header_values(req.headers(), "authorization");
                let dpop = header_values(req.headers(), "dpop");
                let info = RequestInfo {
                    method: req.method().as_str(),
                    path: req.uri().path(),
                    authorization: &authorization,
                    dpop: &dpop,
                    client_ip,
                };
                rs.authorize(&info).await
            };
            match access {
                Err(r) => Ok(rejection_response(r)),
                Ok(access) => {
                    req.extensions_mut().insert(access.claims);
                    let mut res = inner.call(req).await?;
                    append(res.headers_mut(), &access.headers);
                    Ok(res)
                }
            }
        })
    }
}

/// A layer letting through only credentials that carry `scope` (all of a space-separated list).
#[derive(Clone)]
pub struct RequireScopeLayer {
    rs: ResourceServer,
    scope: Arc<str>,
}

impl RequireScopeLayer {
    pub fn new(rs: &ResourceServer, scope: &str) -> Self {
        Self {
            rs: rs.clone(),
            scope: scope.into(),
        }
    }
}

impl<S> Layer<S> for RequireScopeLayer {
    type Service = RequireScope<S>;
    fn layer(&self, inner: S) -> RequireScope<S> {
        RequireScope {
            inner,
            layer: self.clone(),
        }
    }
}

/// The service of [`RequireScopeLayer`].
#[derive(Clone)]
pub struct RequireScope<S> {
    inner: S,
    layer: RequireScopeLayer,
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for RequireScope<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send,
    ReqBody: Send + 'static,
    ResBody: From<String> + Send + 'static,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = BoxFuture<Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        let rs = &self.layer.rs;
        let verdict = match req.extensions().get::<Arc<Claims>>() {
            Some(c) => rs.require_scope(c, &self.layer.scope),
            None => Err(rs.reject(&VerifyError::Missing, Scheme::Bearer)),
        };
        match verdict {
            Ok(()) => {
                let clone = self.inner.clone();
                let mut inner = std::mem::replace(&mut self.inner, clone);
                Box::pin(async move { inner.call(req).await })
            }
            Err(r) => Box::pin(async move { Ok(rejection_response(r)) }),
        }
    }
}

fn header_values<'a>(headers: &'a HeaderMap, name: &str) -> Vec<&'a str> {
    headers
        .get_all(name)
        .iter()
        .map(|v| v.to_str().unwrap_or(""))
        .collect()
}

fn rejection_response<B: From<String>>(r: Rejection) -> Response<B> {
    let status = StatusCode::from_u16(r.status).unwrap_or(StatusCode::UNAUTHORIZED);
    let mut res = json_response(status, &r.headers, r.body);
    res.headers_mut().insert(
        http::header::CACHE_CONTROL,
        HeaderValue::from_static("no-store"),
    );
    res
}

fn json_response<B: From<String>>(
    status: StatusCode,
    headers: &[(&'static str, String)],
    body: String,
) -> Response<B> {
    let mut res = Response::new(B::from(body));
    *res.status_mut() = status;
    res.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    append(res.headers_mut(), headers);
    res
}

fn append(map: &mut HeaderMap, extra: &[(&'static str, String)]) {
    for (name, value) in extra {
        if let (Ok(n), Ok(v)) = (HeaderName::try_from(*name), HeaderValue::from_str(value)) {
            map.append(n, v);
        }
    }
}
