//! Minting what the grants issue: JWT access tokens (RFC 9068 §2), ID tokens (OIDC Core §2,
//! §3.1.3.6, claims by scope §5.4 and by name §5.5) and the response that carries them
//! (RFC 6749 §5.1). Times come from the caller (the injected clock), keys from the
//! [`TokenSigner`] port.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::claims::{
    ACCESS_TOKEN_TYP, AccessTokenClaims, Actor, Confirmation, ID_TOKEN_TYP, IdTokenClaims,
};
use crate::claims_request::ClaimsRequest;
use crate::client::Client;
use crate::error::Error;
use crate::policy::Policy;
use crate::ports::{TokenSigner, UserStore};
use crate::resource::ResourceServer;
use crate::secret::{left_half_hash, random_bytes};
use crate::tenant::{TenantStore, tenant_enabled};
use crate::user::User;
use crate::values::{GrantId, ScopeSet, SigningAlg, TenantId, UserId};

/// A successful token response (RFC 6749 §5.1). Holds secrets: no `Debug`.
#[derive(Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    pub scope: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    /// What was issued, for the audit trail (not sent).
    #[serde(skip)]
    pub issued: Issued,
}

impl TokenResponse {
    /// A `Bearer` response with an access token only.
    pub fn bearer(access_token: String, expires_in: i64, scope: &ScopeSet, issued: Issued) -> Self {
        Self {
            access_token,
            token_type: "Bearer",
            expires_in,
            scope: scope.to_string(),
            refresh_token: None,
            id_token: None,
            issued,
        }
    }
}

/// The ids of an issued access token, for the audit trail: never a token value.
#[derive(Debug, Clone, Default)]
pub struct Issued {
    pub grant_type: &'static str,
    pub client_id: String,
    pub jti: String,
    pub sub: String,
    pub tenant: String,
    pub grant_id: Option<String>,
}

/// What an access token is about (RFC 9068 §2.2).
pub struct AccessTokenSubject<'a> {
    pub sub: &'a str,
    pub tenant: &'a TenantId,
    pub scope: &'a ScopeSet,
    /// When the user authenticated; `None` for client-only tokens.
    pub auth_time: Option<DateTime<Utc>>,
    /// The grant the token belongs to (it dies with it); `None` for client-only tokens.
    pub grant_id: Option<&'a GrantId>,
    /// The resource the token is for (RFC 8707): its `aud`, lifetime and algorithm.
    pub resource: Option<&'a ResourceServer>,
    /// Who acts for `sub` (RFC 8693 §4.1): set by a delegation exchange only.
    pub act: Option<&'a Actor>,
}

/// A user's grant, for which an access token and (with `openid`) an ID token are minted.
pub struct UserGrant<'a> {
    pub user: &'a User,
    pub grant_id: &'a GrantId,
    pub scope: &'a ScopeSet,
    /// The access token's scope: `scope` limited to the resource's (RFC 8707).
    pub access_scope: &'a ScopeSet,
    /// The resource the access token is for.
    pub resource: Option<&'a ResourceServer>,
    pub auth_time: DateTime<Utc>,
    /// The authorization request's `nonce` (only when redeeming a code, OIDC Core §3.1.3.6).
    pub nonce: Option<String>,
    /// The grant's OIDC `claims` request (Core §5.5): its `id_token` part names claims the ID
    /// token releases beyond the scope's.
    pub claims: Option<&'a ClaimsRequest>,
}

/// Signs tokens: the signer port and the policy.
pub struct Minter<'a, K> {
    pub signer: &'a K,
    pub policy: &'a Policy,
    /// The DPoP key the access tokens are bound to (RFC 9449 §6.1), if a proof came with the
    /// request.
    pub dpop_jkt: Option<&'a str>,
}

impl<K: TokenSigner> Minter<'_, K> {
    /// The access-token lifetime of `client`, in seconds.
    pub fn access_ttl(&self, client: &Client) -> i64 {
        access_ttl(self.policy, client)
    }

    /// The access-token lifetime for `resource` (its own, else the client's), in seconds.
    pub fn access_ttl_for(&self, client: &Client, resource: Option<&ResourceServer>) -> i64 {
        resource
            .and_then(|r| r.access_token_ttl)
            .unwrap_or_else(|| self.access_ttl(client))
    }

    /// Signs an RFC 9068 access token of `client` with the `jti` given, issued at `now`.
    pub fn access_token(
        &self,
        client: &Client,
        subject: &AccessTokenSubject<'_>,
        jti: &str,
        now: DateTime<Utc>,
    ) -> Result<String, Error> {
        self.access_token_until(client, subject, jti, now, None)
            .map(|(token, _)| token)
    }

    /// Like [`Minter::access_token`], expiring no later than `not_after` (a Unix time) when
    /// given; returns the token and its `exp`.
    pub fn access_token_until(
        &self,
        client: &Client,
        subject: &AccessTokenSubject<'_>,
        jti: &str,
        now: DateTime<Utc>,
        not_after: Option<i64>,
    ) -> Result<(String, i64), Error> {
        let exp = now.timestamp() + self.access_ttl_for(client, subject.resource);
        let exp = not_after.map_or(exp, |n| exp.min(n));
        let aud = match subject.resource {
            Some(r) => r.identifier.to_string(),
            None => self.policy.access_token_audience.clone(),
        };
        let alg = subject
            .resource
            .and_then(|r| r.access_token_alg)
            .or(client.access_token_alg)
            .unwrap_or(self.policy.access_token_alg);
        let claims = AccessTokenClaims {
            iss: self.policy.issuer.clone(),
            sub: subject.sub.to_owned(),
            aud,
            client_id: client.id.to_string(),
            scope: subject.scope.to_string(),
            jti: jti.to_owned(),
            iat: now.timestamp(),
            exp,
            auth_time: subject.auth_time.map(|t| t.timestamp()),
            gid: subject.grant_id.map(|g| g.to_string()),
            tenant: Some(subject.tenant.to_string()),
            api_key: None,
            api_key_name: None,
            cnf: self.dpop_jkt.map(|jkt| Confirmation {
                jkt: jkt.to_owned(),
            }),
            act: subject.act.cloned(),
            may_act: may_act(client),
        };
        self.signer
            .sign(alg, ACCESS_TOKEN_TYP, &claims)
            .map(|token| (token, exp))
            .map_err(Error::Signing)
    }

    /// Signs an ID token for `grant.user`, bound to what it is issued with: the access token
    /// by `at_hash` and the authorization code by `c_hash` (OIDC Core §3.3.2.11).
    pub fn id_token(
        &self,
        client: &Client,
        grant: &UserGrant<'_>,
        with: IssuedWith<'_>,
        now: DateTime<Utc>,
    ) -> Result<String, Error> {
        let alg = client.id_token_alg;
        let claims = IdTokenClaims {
            iss: self.policy.issuer.clone(),
            sub: grant.user.id.to_string(),
            aud: client.id.to_string(),
            azp: client.id.to_string(),
            iat: now.timestamp(),
            exp: now.timestamp() + self.policy.id_token_ttl,
            auth_time: grant.auth_time.timestamp(),
            nonce: grant.nonce.clone(),
            at_hash: with.access_token.map(|t| token_hash(alg, t)),
            c_hash: with.code.map(|c| token_hash(alg, c)),
            may_act: may_act(client),
            // Scope claims, plus the claims asked for by name (OIDC Core §5.5).
            user_claims: grant.user.claims_for_request(
                grant.scope,
                grant
                    .claims
                    .into_iter()
                    .flat_map(|c| &c.id_token)
                    .map(String::as_str),
            ),
        };
        self.signer
            .sign(alg, ID_TOKEN_TYP, &claims)
            .map_err(Error::Signing)
    }

    /// The access token of a user's grant, and its ID token when the scope has `openid`.
    pub fn user_tokens(
        &self,
        client: &Client,
        grant: &UserGrant<'_>,
        jti: &str,
        now: DateTime<Utc>,
    ) -> Result<(String, Option<String>), Error> {
        let subject = AccessTokenSubject {
            sub: grant.user.id.as_str(),
            tenant: &grant.user.tenant_id,
            scope: grant.access_scope,
            auth_time: Some(grant.auth_time),
            grant_id: Some(grant.grant_id),
            resource: grant.resource,
            act: None,
        };
        let access_token = self.access_token(client, &subject, jti, now)?;
        if !grant.scope.contains("openid") {
            return Ok((access_token, None));
        }
        let with = IssuedWith {
            access_token: Some(&access_token),
            code: None,
        };
        let id_token = self.id_token(client, grant, with, now)?;
        Ok((access_token, Some(id_token)))
    }
}

/// What an ID token is issued together with, for its `at_hash` and `c_hash`.
#[derive(Clone, Copy, Default)]
pub struct IssuedWith<'a> {
    pub access_token: Option<&'a str>,
    pub code: Option<&'a str>,
}

/// `at_hash` / `c_hash` (OIDC Core §3.1.3.6, §3.3.2.11): the left half of the hash that the
/// ID token's `alg` uses, BASE64URL. Both of our algorithms, RS256 and ES256, hash with SHA-256
/// (so would PS256); an algorithm with another hash must add its arm here.
pub fn token_hash(alg: SigningAlg, value: &str) -> String {
    match alg {
        SigningAlg::RS256 | SigningAlg::ES256 => left_half_hash(value),
    }
}

/// The `may_act` claim of `client`'s tokens (RFC 8693 §4.4): the client it names.
fn may_act(client: &Client) -> Option<Actor> {
    client.may_act.as_ref().map(|c| Actor::new(c.as_str()))
}

/// The access-token lifetime of `client`: its own, else the server's.
pub(crate) fn access_ttl(policy: &Policy, client: &Client) -> i64 {
    client.access_token_ttl.unwrap_or(policy.access_token_ttl)
}

/// A new random `jti`: 128 bits, BASE64URL.
pub fn new_jti() -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random_bytes::<16>())
}

/// The user of a grant, if they still exist and their tenant is enabled.
pub(crate) async fn live_user<U: UserStore, T: TenantStore>(
    users: &U,
    tenants: &T,
    id: &UserId,
) -> Result<Option<User>, Error> {
    let Some(user) = users.find_user(id).await? else {
        return Ok(None);
    };
    if !tenant_enabled(tenants, &user.tenant_id).await? {
        return Ok(None);
    }
    Ok(Some(user))
}

#[cfg(test)]
mod tests {
    use base64::Engine;
    use sha2::{Digest, Sha256};

    use super::*;

    #[test]
    fn at_hash_and_c_hash_are_the_left_half_of_sha256_for_rs256_and_es256_oidc_core_3_3_2_11() {
        // OIDC Core Appendix A.3 (at_hash) and A.4 (c_hash), both RS256.
        let at = "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y";
        let code = "Qcb0Orv1zh30vL1MPRsbm-diHiMwcLyZvn1arpZv-Jxf_11jnpEX3Tgfvk";
        for alg in SigningAlg::ALL {
            assert_eq!(token_hash(alg, at), "77QmUPtjPfzWtF2AnpK9RQ", "{alg}");
            assert_eq!(token_hash(alg, code), "LDktKdoQak3Pk0cnXxCltA", "{alg}");
            let digest = Sha256::digest(b"any value");
            let half = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..16]);
            assert_eq!(token_hash(alg, "any value"), half, "{alg}");
            assert_eq!(token_hash(alg, "any value").len(), 22);
        }
    }
}
