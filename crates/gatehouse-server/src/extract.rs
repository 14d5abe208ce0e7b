//! The edge: actix extractors that turn the wire into the core's typed requests, in one place.
//!
//! - Form parameters (RFC 6749 §3.2: `application/x-www-form-urlencoded`; §3.1: no repeated
//!   parameter, empty values omitted; bounded) → [`Params`].
//! - Client credentials (RFC 6749 §2.3.1: HTTP Basic with each part form-urldecoded, or the
//!   body; OIDC Core §9 assertions) → [`ClientCredentials`]. At most one `Authorization`
//!   header; one method per request (checked by the core's parser).
//! - Bearer tokens (RFC 6750 §2.1 `Authorization: Bearer`, §2.2 the form body of a POST) →
//!   [`BearerToken`]; [`bearer_header`] is the one parser of the header, also used by the admin
//!   API.
//!
//! A request that cannot be parsed is answered here, through [`crate::error`]: RFC 6749 §5.2
//! for client-authenticated endpoints ([`TokenRejection`]), RFC 6750 §3 for protected
//! resources ([`BearerRejection`]).

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::{Method, header};
use actix_web::{FromRequest, HttpRequest, web};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use gatehouse_core::OAuthError;
use gatehouse_core::client_auth::{BasicCredentials, ClientCredentials};
use gatehouse_core::introspection::IntrospectionRequest;
use gatehouse_core::params::Params;
use gatehouse_core::revocation::PresentedToken;
use gatehouse_core::secret::Secret;
use gatehouse_core::token::TokenRequest;

use crate::error::{BearerRejection, TokenRejection};

type Extracted<T> = Pin<Box<dyn Future<Output = Result<T, actix_web::Error>>>>;

/// Parses an `application/x-www-form-urlencoded` body (RFC 6749 §3.2 requires that type).
pub fn form_params(req: &HttpRequest, body: &[u8]) -> Result<Params, OAuthError> {
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(';').next().is_some_and(|t| {
                t.trim()
                    .eq_ignore_ascii_case("application/x-www-form-urlencoded")
            })
        });
    if !is_form {
        return Err(OAuthError::invalid_request(
            "the body must be application/x-www-form-urlencoded",
        ));
    }
    Params::new(url::form_urlencoded::parse(body).into_owned().collect())
}

/// The one `Authorization` header of a request, if any; a second one is `invalid_request`
/// (which credentials would count is ambiguous).
fn authorization(req: &HttpRequest) -> Result<Option<&str>, OAuthError> {
    let mut values = req.headers().get_all(header::AUTHORIZATION);
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(OAuthError::invalid_request(
            "more than one Authorization header",
        ));
    }
    value
        .to_str()
        .map(Some)
        .map_err(|_| OAuthError::invalid_request("malformed Authorization header"))
}

/// `Authorization: Basic`, decoded into the client id and secret, each form-urldecoded
/// (RFC 6749 §2.3.1). Another scheme or a malformed value is `invalid_client`.
pub fn basic_credentials(req: &HttpRequest) -> Result<Option<BasicCredentials>, OAuthError> {
    let Some(value) = authorization(req)? else {
        return Ok(None);
    };
    let bad = || OAuthError::invalid_client("malformed Basic credentials");
    let (scheme, rest) = value.split_once(' ').ok_or_else(bad)?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(OAuthError::invalid_client(
            "use HTTP Basic client authentication",
        ));
    }
    let decoded = STANDARD.decode(rest.trim()).map_err(|_| bad())?;
    let decoded = String::from_utf8(decoded).map_err(|_| bad())?;
    let (id, secret) = decoded.split_once(':').ok_or_else(bad)?;
    let form_decode = |s: &str| -> Result<String, OAuthError> {
        let s = s.replace('+', " ");
        percent_encoding::percent_decode_str(&s)
            .decode_utf8()
            .map(|v| v.into_owned())
            .map_err(|_| bad())
    };
    Ok(Some(BasicCredentials {
        client_id: form_decode(id)?,
        secret: Secret::from_presented(&form_decode(secret)?),
    }))
}

/// `Authorization: Bearer <token>` (RFC 6750 §2.1), the scheme matched case-insensitively
/// (RFC 7235 §2.1). Another scheme or an empty token is `invalid_request`.
pub fn bearer_header(req: &HttpRequest) -> Result<Option<String>, OAuthError> {
    let Some(value) = authorization(req)? else {
        return Ok(None);
    };
    match value.split_once(' ') {
        Some((scheme, t)) if scheme.eq_ignore_ascii_case("bearer") && !t.trim().is_empty() => {
            Ok(Some(t.trim().to_owned()))
        }
        _ => Err(OAuthError::invalid_request(
            "use the Bearer authorization scheme",
        )),
    }
}

/// A request type of a client-authenticated endpoint, parsed from its form parameters.
pub trait FromForm: Sized {
    fn from_form(p: &Params) -> Result<Self, OAuthError>;
}

impl FromForm for TokenRequest {
    fn from_form(p: &Params) -> Result<Self, OAuthError> {
        TokenRequest::parse(p)
    }
}

impl FromForm for IntrospectionRequest {
    fn from_form(p: &Params) -> Result<Self, OAuthError> {
        IntrospectionRequest::parse(p)
    }
}

impl FromForm for gatehouse_core::par::PushRequest {
    fn from_form(p: &Params) -> Result<Self, OAuthError> {
        gatehouse_core::par::PushRequest::parse(p)
    }
}

impl FromForm for gatehouse_core::device::DeviceRequest {
    fn from_form(p: &Params) -> Result<Self, OAuthError> {
        gatehouse_core::device::DeviceRequest::parse(p)
    }
}

impl FromForm for PresentedToken {
    fn from_form(p: &Params) -> Result<Self, OAuthError> {
        PresentedToken::parse(p)
    }
}

/// A form request to a client-authenticated endpoint (token, introspection, revocation): the
/// credentials the client presented (if any) and the request. Whether credentials are needed
/// is the core's decision.
pub struct ClientRequest<T> {
    pub credentials: Option<ClientCredentials>,
    pub request: T,
}

impl<T: FromForm> ClientRequest<T> {
    fn parse(req: &HttpRequest, body: &[u8]) -> Result<Self, OAuthError> {
        let params = form_params(req, body)?;
        let credentials = ClientCredentials::parse(basic_credentials(req)?, &params)?;
        Ok(Self {
            credentials,
            request: T::from_form(&params)?,
        })
    }
}

impl<T: FromForm + 'static> FromRequest for ClientRequest<T> {
    type Error = actix_web::Error;
    type Future = Extracted<Self>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        // The body limit of the app's `PayloadConfig` applies (an oversized body is a 413).
        let body = web::Bytes::from_request(&req, payload);
        Box::pin(async move {
            let body = body.await?;
            Ok(Self::parse(&req, &body).map_err(TokenRejection)?)
        })
    }
}

/// The bearer token of a request to a protected resource: the `Authorization` header
/// (RFC 6750 §2.1) or, on a form POST, the `access_token` body parameter (§2.2); not both.
pub struct BearerToken(pub String);

impl BearerToken {
    fn parse(req: &HttpRequest, body: Option<&[u8]>) -> Result<Self, BearerRejection> {
        let header = bearer_header(req);
        // A body that is not a form carries no token (§2.2 applies to forms only).
        let form = body
            .and_then(|b| form_params(req, b).ok())
            .and_then(|p| p.get("access_token").map(str::to_owned));
        let token = match (header, form) {
            (Ok(Some(_)), Some(_)) => {
                return Err(BearerRejection::Invalid(OAuthError::invalid_request(
                    "send the token in one place only",
                )));
            }
            (Err(e), _) => return Err(BearerRejection::Invalid(e)),
            (Ok(h), f) => h.or(f),
        };
        token.map(Self).ok_or(BearerRejection::Missing)
    }
}

impl FromRequest for BearerToken {
    type Error = actix_web::Error;
    type Future = Extracted<Self>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let body = (req.method() == Method::POST).then(|| web::Bytes::from_request(&req, payload));
        Box::pin(async move {
            let body = match body {
                Some(b) => Some(b.await?),
                None => None,
            };
            Ok(Self::parse(&req, body.as_deref())?)
        })
    }
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    fn basic(raw: &str) -> String {
        format!("Basic {}", STANDARD.encode(raw))
    }

    #[test]
    fn basic_credentials_are_form_urldecoded_rfc6749_2_3_1() {
        let req = TestRequest::default()
            .insert_header((header::AUTHORIZATION, basic("my%20app:s%3Acr+t")))
            .to_http_request();
        let b = basic_credentials(&req).unwrap().unwrap();
        assert_eq!(
            (b.client_id.as_str(), b.secret.expose()),
            ("my app", "s:cr t")
        );
        for bad in ["Basic !!!", "Bearer x", &basic("no-colon")] {
            let req = TestRequest::default()
                .insert_header((header::AUTHORIZATION, bad))
                .to_http_request();
            let e = basic_credentials(&req).unwrap_err();
            assert_eq!(e.code, gatehouse_core::ErrorCode::InvalidClient, "{bad}");
        }
    }

    #[test]
    fn a_second_authorization_header_is_refused() {
        let req = TestRequest::default()
            .append_header((header::AUTHORIZATION, basic("a:b")))
            .append_header((header::AUTHORIZATION, "Bearer t"))
            .to_http_request();
        let e = basic_credentials(&req).unwrap_err();
        assert_eq!(e.code, gatehouse_core::ErrorCode::InvalidRequest);
        assert_eq!(
            bearer_header(&req).unwrap_err().code,
            gatehouse_core::ErrorCode::InvalidRequest
        );
    }

    #[test]
    fn bearer_tokens_come_from_the_header_or_the_form_not_both_rfc6750_2() {
        let form = (header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        let req = TestRequest::post()
            .insert_header((header::AUTHORIZATION, "bearer abc"))
            .to_http_request();
        assert_eq!(BearerToken::parse(&req, None).ok().unwrap().0, "abc");
        let req = TestRequest::post()
            .insert_header(form.clone())
            .to_http_request();
        let t = BearerToken::parse(&req, Some(b"access_token=xyz"))
            .ok()
            .unwrap();
        assert_eq!(t.0, "xyz");
        let req = TestRequest::post()
            .insert_header((header::AUTHORIZATION, "Bearer abc"))
            .insert_header(form)
            .to_http_request();
        assert!(matches!(
            BearerToken::parse(&req, Some(b"access_token=xyz")),
            Err(BearerRejection::Invalid(_))
        ));
        let req = TestRequest::get().to_http_request();
        assert!(matches!(
            BearerToken::parse(&req, None),
            Err(BearerRejection::Missing)
        ));
        let req = TestRequest::get()
            .insert_header((header::AUTHORIZATION, "Basic abc"))
            .to_http_request();
        assert!(matches!(
            BearerToken::parse(&req, None),
            Err(BearerRejection::Invalid(_))
        ));
    }
}
