//! The token endpoint (RFC 6749 §3.2): one request type with a variant per grant, and one
//! entry, [`token`], which every token request goes through.
//!
//! The server parses the wire request once into the presented [`ClientCredentials`] (if any)
//! and a [`TokenRequest`]; [`token`] then
//! 1. authenticates the client as the grant requires ([`crate::client_auth`]: required for
//!    every grant, optional for the RFC 8693 exchange of an API key);
//! 2. checks that the client is registered for the grant (RFC 6749 §5.2 `unauthorized_client`);
//! 3. runs the grant ([`crate::grant`]);
//! 4. returns the answer with the audit events the request caused ([`crate::token_events`]):
//!    the issuance or exchange, or the code replay / refresh-token reuse a grant detected.
//!
//! Ports and request facts come in through [`TokenEndpoint`]; nothing here reads a clock or
//! writes the audit trail.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::apikey_auth::ApiKeyAuthStore;
use crate::audit::NewAuditEvent;
use crate::client::{Client, GRANT_TYPE_DEVICE_CODE, GRANT_TYPE_JWT_BEARER, GrantType};
use crate::client_auth::{
    AssertionRules, AssertionVerifier, ClientAuth, ClientAuthContext, ClientCredentials,
    ClientDirectory, ReplayStore, authenticate,
};
use crate::device::DeviceStore;
use crate::dpop::{self, DpopClientStore, ProofKey};
use crate::error::{Error, ErrorCode, OAuthError};
use crate::grant::authorization_code::{self, CodeGrantStore, CodeRequest};
use crate::grant::client_credentials::{self, ClientCredentialsRequest};
use crate::grant::delegation::{self, DelegationRequest, DelegationResponse, IssuedTokenVerifier};
use crate::grant::device_code::{self, DeviceCodeRequest};
use crate::grant::jwt_bearer::{self, JwtBearerRequest, TrustStore};
pub use crate::grant::mint::new_jti;
use crate::grant::mint::{Minter, TokenResponse};
use crate::grant::outcome::Refusal;
use crate::grant::refresh_token::{self, RefreshGrantStore, RefreshRequest};
use crate::grant::token_exchange::{
    self, Caller, ExchangeResponse, ExchangeRules, GRANT_TYPE_TOKEN_EXCHANGE, TOKEN_TYPE_API_KEY,
    TokenExchangeRequest,
};
use crate::introspection::IntrospectionStore;
use crate::params::Params;
use crate::policy::Policy;
use crate::ports::TokenSigner;
use crate::token_events;

/// A token request: one variant per grant (RFC 6749 §4.1.3, §4.4.2, §6; RFC 7523 §2.1;
/// RFC 8693 §2.1; RFC 8628 §3.4).
pub enum TokenRequest {
    AuthorizationCode(CodeRequest),
    ClientCredentials(ClientCredentialsRequest),
    RefreshToken(RefreshRequest),
    JwtBearer(JwtBearerRequest),
    TokenExchange(TokenExchangeRequest),
    /// RFC 8693 with an access or ID token as subject: delegation.
    Delegation(DelegationRequest),
    DeviceCode(DeviceCodeRequest),
}

impl TokenRequest {
    /// Parses the form parameters by `grant_type`; an unknown one is `unsupported_grant_type`.
    pub fn parse(p: &Params) -> Result<Self, OAuthError> {
        Ok(match p.require("grant_type")? {
            "authorization_code" => Self::AuthorizationCode(CodeRequest::parse(p)?),
            "client_credentials" => Self::ClientCredentials(ClientCredentialsRequest::parse(p)?),
            "refresh_token" => Self::RefreshToken(RefreshRequest::parse(p)?),
            GRANT_TYPE_JWT_BEARER => Self::JwtBearer(JwtBearerRequest::parse(p)?),
            GRANT_TYPE_TOKEN_EXCHANGE
                if p.get("subject_token_type") == Some(TOKEN_TYPE_API_KEY) =>
            {
                Self::TokenExchange(TokenExchangeRequest::parse(p)?)
            }
            GRANT_TYPE_TOKEN_EXCHANGE => Self::Delegation(DelegationRequest::parse(p)?),
            GRANT_TYPE_DEVICE_CODE => Self::DeviceCode(DeviceCodeRequest::parse(p)?),
            other => {
                return Err(OAuthError::new(
                    ErrorCode::UnsupportedGrantType,
                    format!(
                        "grant_type {:?} is not supported",
                        other.chars().take(64).collect::<String>()
                    ),
                ));
            }
        })
    }

    /// Whether the grant needs an authenticated client: all but the exchange of an API key
    /// (the key is the credential). The JWT bearer grant requires one
    /// although RFC 7523 §3.1 leaves it optional (see [`crate::grant::jwt_bearer`]).
    pub fn client_auth(&self) -> ClientAuth {
        match self {
            Self::TokenExchange(_) => ClientAuth::Optional,
            _ => ClientAuth::Required,
        }
    }
}

/// What the token endpoint answers: an RFC 6749 §5.1 response, or an RFC 8693 §2.2.1 one.
#[derive(Serialize)]
#[serde(untagged)]
pub enum TokenAnswer {
    Token(TokenResponse),
    Exchange(ExchangeResponse),
    Delegation(DelegationResponse),
}

impl TokenAnswer {
    /// The audit event of this answer: `token.issue` or `token.exchange`.
    fn event(&self, now: DateTime<Utc>) -> NewAuditEvent {
        match self {
            Self::Token(t) => token_events::issued(t, now),
            Self::Exchange(x) => token_events::exchanged(x, now),
            Self::Delegation(d) => token_events::delegated(d, now),
        }
    }
}

/// The result of a token request and the audit events it caused (write them all, in order,
/// whatever the answer).
pub struct TokenOutcome {
    pub answer: Result<TokenAnswer, Error>,
    pub events: Vec<NewAuditEvent>,
}

/// Everything the grants read and write, besides clients and tenants.
pub trait TokenStore:
    CodeGrantStore
    + RefreshGrantStore
    + TrustStore
    + ReplayStore
    + ApiKeyAuthStore
    + DeviceStore
    + DpopClientStore
    + IntrospectionStore
{
}
impl<
    T: CodeGrantStore
        + RefreshGrantStore
        + TrustStore
        + ReplayStore
        + ApiKeyAuthStore
        + DeviceStore
        + DpopClientStore
        + IntrospectionStore,
> TokenStore for T
{
}

/// The ports, settings and request facts of one token request.
pub struct TokenEndpoint<'a, C, S, K, V> {
    /// Clients, tenants and key sources: read on every request (a cache may serve them).
    pub clients: &'a C,
    /// Codes, refresh tokens, users, trusts, API keys, assertion ids.
    pub store: &'a S,
    /// Signs what is issued, and verifies the tokens presented for exchange.
    pub signer: &'a K,
    /// Verifies client assertions and JWT bearer grant assertions.
    pub assertions: &'a V,
    pub policy: &'a Policy,
    pub assertion_rules: &'a AssertionRules,
    pub exchange_rules: ExchangeRules,
    /// The injected clock's reading for this request.
    pub now: DateTime<Utc>,
    /// The request's source address (after trusted proxies), for API-key allowlists.
    pub client_ip: Option<IpAddr>,
    pub request_id: Option<&'a str>,
    /// The key of the request's verified DPoP proof (RFC 9449 §5), if it had one: the access
    /// tokens issued are bound to it and the response says `token_type: DPoP`.
    pub dpop: Option<ProofKey>,
}

impl<C, S, K, V> TokenEndpoint<'_, C, S, K, V> {
    fn client_auth(&self) -> ClientAuthContext<'_, C, S, V> {
        ClientAuthContext {
            clients: self.clients,
            store: self.store,
            verifier: self.assertions,
            rules: self.assertion_rules,
            now: self.now,
        }
    }

    fn minter(&self) -> Minter<'_, K> {
        Minter {
            signer: self.signer,
            policy: self.policy,
            dpop_jkt: self.dpop.as_ref().map(|k| k.jkt.as_str()),
        }
    }
}

/// Answers one token request: client authentication, the grant, the audit events.
pub async fn token<C, S, K, V>(
    ep: &TokenEndpoint<'_, C, S, K, V>,
    presented: Option<ClientCredentials>,
    req: TokenRequest,
) -> TokenOutcome
where
    C: ClientDirectory,
    S: TokenStore,
    K: TokenSigner + IssuedTokenVerifier,
    V: AssertionVerifier,
{
    let client = match authenticate(&ep.client_auth(), presented.as_ref(), req.client_auth()).await
    {
        Ok(client) => client,
        Err(e) => {
            return TokenOutcome {
                answer: Err(e),
                events: Vec::new(),
            };
        }
    };
    if let Some(c) = &client
        && let Err(e) = dpop::check_required(ep.store, &c.id, ep.dpop.as_ref()).await
    {
        return TokenOutcome {
            answer: Err(e),
            events: Vec::new(),
        };
    }
    match run(ep, client.as_ref(), req).await {
        Ok(mut answer) => TokenOutcome {
            events: vec![answer.event(ep.now)],
            answer: Ok({
                if let (TokenAnswer::Token(t), Some(_)) = (&mut answer, &ep.dpop) {
                    t.token_type = "DPoP";
                }
                answer
            }),
        },
        Err(Refusal { error, incident }) => TokenOutcome {
            answer: Err(error),
            events: match (client, incident) {
                (Some(c), Some(i)) => vec![token_events::incident(&c, &i, ep.now)],
                _ => Vec::new(),
            },
        },
    }
}

/// Picks and runs the grant for `client` (authenticated, or absent where allowed).
async fn run<C, S, K, V>(
    ep: &TokenEndpoint<'_, C, S, K, V>,
    client: Option<&Client>,
    req: TokenRequest,
) -> Result<TokenAnswer, Refusal>
where
    C: ClientDirectory,
    S: TokenStore,
    K: TokenSigner + IssuedTokenVerifier,
    V: AssertionVerifier,
{
    let (mint, store, now) = (ep.minter(), ep.store, ep.now);
    let issued = match req {
        TokenRequest::AuthorizationCode(r) => {
            let client = registered(client, GrantType::AuthorizationCode)?;
            authorization_code::redeem(store, ep.clients, &mint, client, r, now).await?
        }
        TokenRequest::ClientCredentials(r) => {
            let client = registered(client, GrantType::ClientCredentials)?;
            client_credentials::issue(store, &mint, client, r, now).await?
        }
        TokenRequest::RefreshToken(r) => {
            let client = registered(client, GrantType::RefreshToken)?;
            refresh_token::refresh(store, ep.clients, &mint, client, r, now).await?
        }
        TokenRequest::JwtBearer(r) => {
            let client = registered(client, GrantType::JwtBearer)?;
            let (v, rules) = (ep.assertions, ep.assertion_rules);
            jwt_bearer::issue(store, v, &mint, rules, client, r, now).await?
        }
        TokenRequest::DeviceCode(r) => {
            let client = registered(client, GrantType::DeviceCode)?;
            device_code::poll(store, ep.clients, &mint, client, r, now).await?
        }
        TokenRequest::Delegation(r) => {
            let client = registered(client, GrantType::TokenExchange)?;
            let d = delegation::delegate(store, &mint, client, r, now).await?;
            return Ok(TokenAnswer::Delegation(d));
        }
        TokenRequest::TokenExchange(r) => {
            let caller = Caller {
                ip: ep.client_ip,
                request_id: ep.request_id,
            };
            let rules = &ep.exchange_rules;
            // Exchanged tokens are not bound to a DPoP key (not built; see docs/conformance.md).
            let mint = Minter {
                dpop_jkt: None,
                ..mint
            };
            let x = token_exchange::exchange_api_key(store, &mint, rules, client, r, caller, now);
            return Ok(TokenAnswer::Exchange(x.await?));
        }
    };
    Ok(TokenAnswer::Token(issued))
}

/// The client, if it is registered for `grant` (RFC 6749 §5.2 `unauthorized_client`). Grants
/// other than the API-key exchange required a client; `authenticate` made sure there is one.
fn registered(client: Option<&Client>, grant: GrantType) -> Result<&Client, OAuthError> {
    let client =
        client.ok_or_else(|| OAuthError::invalid_client("client authentication failed"))?;
    if !client.allows_grant(grant) {
        return Err(OAuthError::unauthorized_client(format!(
            "this client may not use the {} grant",
            grant.as_str()
        )));
    }
    Ok(client)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(pairs: &[(&str, &str)]) -> Result<TokenRequest, OAuthError> {
        let pairs = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        TokenRequest::parse(&Params::new(pairs).unwrap())
    }

    #[test]
    fn a_missing_or_unknown_grant_type_is_refused_rfc6749_5_2() {
        let e = parse(&[("scope", "x")]).err().unwrap();
        assert_eq!(e.code, ErrorCode::InvalidRequest);
        let e = parse(&[("grant_type", "password"), ("username", "u")])
            .err()
            .unwrap();
        assert_eq!(e.code, ErrorCode::UnsupportedGrantType);
        // A grant's required parameter missing is `invalid_request` naming it.
        let e = parse(&[("grant_type", "authorization_code")])
            .err()
            .unwrap();
        assert_eq!(
            (e.code, e.description.as_ref()),
            (ErrorCode::InvalidRequest, "missing parameter code")
        );
    }

    #[test]
    fn every_grant_needs_a_client_but_the_api_key_exchange_rfc8693_2_1() {
        let grants: [&[(&str, &str)]; 5] = [
            &[("grant_type", "authorization_code"), ("code", "c")],
            &[("grant_type", "client_credentials")],
            &[("grant_type", "refresh_token"), ("refresh_token", "r")],
            &[
                ("grant_type", GRANT_TYPE_JWT_BEARER),
                ("assertion", "a.b.c"),
            ],
            &[
                ("grant_type", GRANT_TYPE_TOKEN_EXCHANGE),
                ("subject_token", "k"),
                ("subject_token_type", token_exchange::TOKEN_TYPE_API_KEY),
            ],
        ];
        let needs: Vec<ClientAuth> = grants
            .iter()
            .map(|g| parse(g).ok().unwrap().client_auth())
            .collect();
        assert_eq!(&needs[..4], &[ClientAuth::Required; 4]);
        assert_eq!(needs[4], ClientAuth::Optional);
    }
}
