//! `POST /oauth/token` (RFC 6749 §3.2, §5): client authentication (RFC 6749 §2.3.1, with the
//! form-urlencoding of Basic credentials, or a `private_key_jwt` assertion, OIDC Core §9), then
//! the grant in `gatehouse-core` (including the RFC 7523 §2.1 JWT bearer grant and the RFC 8693
//! exchange of an API key, whose IP allowlist is checked against the request's source address
//! from [`RequestMeta`]). Every issuance is written to the audit trail (ids only).

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use gatehouse_core::audit::{ActorKind, Outcome};
use gatehouse_core::jwt_bearer::{self, JwtBearerRequest};
use gatehouse_core::params::Params;
use gatehouse_core::token::{self, ClientCredentials, TokenRequest};
use gatehouse_core::token_exchange::{
    self, ExchangeResponse, ExchangeRules, GRANT_TYPE_TOKEN_EXCHANGE, TokenExchangeRequest,
};
use gatehouse_core::{Error, OAuthError, SigningAlg};
use serde::Serialize;
use serde_json::json;

use crate::audit_sink::RequestAudit;
use crate::error::{no_store, token_error};
use crate::request_meta::RequestMeta;
use crate::state::AppState;

/// What the token endpoint answers: an RFC 6749 §5.1 response, or an RFC 8693 §2.2.1 one.
#[derive(Serialize)]
#[serde(untagged)]
enum Answer {
    Token(token::TokenResponse),
    Exchange(ExchangeResponse),
}

#[tracing::instrument(skip_all)]
pub async fn token(
    req: HttpRequest,
    state: web::Data<AppState>,
    meta: RequestMeta,
    body: web::Bytes,
) -> HttpResponse {
    let audit = RequestAudit::new(&state.store, &meta);
    match handle(&req, &state, &meta, &audit, &body).await {
        Ok(answer) => {
            record_issue(&state, &audit, &answer).await;
            let mut b = HttpResponse::Ok();
            no_store(&mut b);
            b.json(answer)
        }
        Err(e) => token_error(&e),
    }
}

/// One audit event per issuance: ids only, never a token.
async fn record_issue(state: &AppState, audit: &RequestAudit<'_>, answer: &Answer) {
    let now = state.now();
    match answer {
        Answer::Token(t) => {
            audit
                .event(
                    now,
                    Some(t.issued.tenant.clone()),
                    ActorKind::Client,
                    Some(t.issued.client_id.clone()),
                    "token.issue",
                    Some(t.issued.jti.clone()),
                    Outcome::Success,
                    json!({
                        "grant_type": t.issued.grant_type,
                        "jti": t.issued.jti,
                        "sub": t.issued.sub,
                        "grant_id": t.issued.grant_id,
                        "refresh_token": t.refresh_token.is_some(),
                        "id_token": t.id_token.is_some(),
                        "scope": t.scope,
                    }),
                )
                .await;
        }
        Answer::Exchange(x) => {
            audit
                .event(
                    now,
                    Some(x.issued.tenant.clone()),
                    ActorKind::ApiKey,
                    Some(x.issued.key_name.clone()),
                    "token.exchange",
                    Some(x.issued.key_id.clone()),
                    Outcome::Success,
                    json!({
                        "grant_type": GRANT_TYPE_TOKEN_EXCHANGE,
                        "jti": x.issued.jti,
                        "client_id": x.issued.client_id,
                        "scope": x.scope,
                    }),
                )
                .await;
        }
    }
}

async fn handle(
    req: &HttpRequest,
    state: &AppState,
    meta: &RequestMeta,
    audit: &RequestAudit<'_>,
    body: &[u8],
) -> Result<Answer, Error> {
    let params = crate::routes::form_params(req, body)?;
    let basic = basic_credentials(req)?;
    if TokenExchangeRequest::matches(&params) {
        return exchange_api_key(state, meta, basic, &params)
            .await
            .map(Answer::Exchange);
    }
    let creds = ClientCredentials::parse(basic, &params)?;
    let client = state.authenticate_client(&creds).await?;
    let ring = state.keys.current();
    if JwtBearerRequest::matches(&params) {
        let grant = JwtBearerRequest::parse(&params)?;
        return jwt_bearer::exchange(
            &state.store,
            &*state.key_verifier,
            &*ring,
            &state.policy,
            &state.assertion_rules,
            &client,
            grant,
            state.now(),
        )
        .await
        .map(Answer::Token);
    }
    let grant = TokenRequest::parse(&params)?;
    token::exchange(
        &state.store,
        &*ring,
        &state.policy,
        &client,
        grant,
        audit,
        state.now(),
    )
    .await
    .map(Answer::Token)
}

/// RFC 8693 with an API key as the subject token. Client authentication is optional (the key
/// is the credential); credentials that are presented must be valid.
async fn exchange_api_key(
    state: &AppState,
    meta: &RequestMeta,
    basic: Option<(String, String)>,
    params: &Params,
) -> Result<ExchangeResponse, Error> {
    let presented = basic.is_some()
        || [
            "client_id",
            "client_secret",
            "client_assertion",
            "client_assertion_type",
        ]
        .iter()
        .any(|p| params.get(p).is_some());
    let client = if presented {
        let creds = ClientCredentials::parse(basic, params)?;
        Some(state.authenticate_client(&creds).await?)
    } else {
        None
    };
    let grant = TokenExchangeRequest::parse(params)?;
    let rules = ExchangeRules {
        ttl: state.settings.api_keys.exchange_token_ttl,
        default_alg: SigningAlg::RS256,
    };
    let ring = state.keys.current();
    token_exchange::exchange_api_key(
        &state.store,
        &*ring,
        &state.policy,
        &rules,
        client.as_ref(),
        grant,
        meta.ip,
        Some(&meta.request_id),
        state.now(),
    )
    .await
}

/// Decodes `Authorization: Basic` into (client_id, secret), each form-urldecoded
/// (RFC 6749 §2.3.1). A second Authorization header or a malformed one is `invalid_client`.
pub(crate) fn basic_credentials(req: &HttpRequest) -> Result<Option<(String, String)>, OAuthError> {
    let mut values = req.headers().get_all(header::AUTHORIZATION);
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(OAuthError::invalid_request(
            "more than one Authorization header",
        ));
    }
    let bad = || OAuthError::invalid_client("malformed Basic credentials");
    let value = value.to_str().map_err(|_| bad())?;
    let (scheme, rest) = value.split_once(' ').ok_or_else(bad)?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(OAuthError::invalid_client(
            "use HTTP Basic client authentication",
        ));
    }
    let decoded = STANDARD.decode(rest.trim()).map_err(|_| bad())?;
    let decoded = String::from_utf8(decoded).map_err(|_| bad())?;
    let (id, secret) = decoded.split_once(':').ok_or_else(bad)?;
    let dec = |s: &str| -> Result<String, OAuthError> {
        let s = s.replace('+', " ");
        percent_encoding::percent_decode_str(&s)
            .decode_utf8()
            .map(|v| v.into_owned())
            .map_err(|_| bad())
    };
    Ok(Some((dec(id)?, dec(secret)?)))
}
