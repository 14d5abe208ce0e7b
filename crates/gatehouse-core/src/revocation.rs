//! Token revocation (RFC 7009).
//!
//! - §2.1: the client authenticates as at the token endpoint and names a `token`, optionally
//!   with a `token_type_hint`. The hint only decides which type is looked up first; when the
//!   token is not found as that type, the other one is tried.
//! - Revoking a **refresh token** revokes its whole grant ([`GrantStore::revoke_grant`]): every
//!   refresh token of the family and every access token carrying the grant's `gid` (§2.1: the
//!   server SHOULD also invalidate the access tokens of the same grant).
//! - Revoking an **access token** (our RFC 9068 JWT) records its `jti` until its `exp` in the
//!   revoked-token list ([`RevokedTokenStore`]). It does not revoke the grant: the refresh token
//!   keeps working (§2.1 allows either; a client dropping one short-lived token should not lose
//!   the user's long-lived consent).
//! - §2.2: unknown, malformed, expired and already revoked tokens are answered with success, and
//!   so is a token of another client (nothing is revoked): the answer never tells a client
//!   whether a token it does not own exists.
//!
//! - DPoP (RFC 9449): a proof sent with the request is verified at the edge by
//!   [`crate::dpop::verify`] for this endpoint's URL, as at the token endpoint. A client
//!   registered "DPoP required" must send one ([`crate::dpop::check_required`], §5). A public
//!   client proves possession of the key its own token is bound to — a refresh token bound by
//!   the proof of its issue (§5), an access token by its `cnf.jkt` (§6.1) — or the request is
//!   `invalid_dpop_proof` and nothing is revoked: its `client_id` alone authenticates nothing,
//!   so the key is what shows the token is the caller's. Confidential clients authenticate, and
//!   their access tokens are revoked without a proof of the key.
//!
//! [`revoke_request`] is the endpoint's entry: client authentication (required, as at the token
//! endpoint), the DPoP rules, then [`revoke`], and the `token.revoke` audit event when something
//! was revoked.

// Used only by our own generic code on actix workers; see `ports`.
#![allow(async_fn_in_trait)]

use chrono::{DateTime, Utc};

use crate::audit::NewAuditEvent;
use crate::claims::AccessTokenClaims;
use crate::client::Client;
use crate::client_auth::{
    AssertionVerifier, ClientAuthContext, ClientCredentials, ClientDirectory, ReplayStore,
    authenticate_required,
};
use crate::dpop::{self, DpopClientStore, ProofKey};
use crate::error::{Error, OAuthError, StoreError};
use crate::params::Params;
use crate::ports::GrantStore;
use crate::secret::Secret;
use crate::token_events;

/// Verifies one of our access tokens: signature with a key of the server, `typ`, `iss` and
/// `aud`. Implemented by the server over its key ring, by fakes in tests.
pub trait AccessTokenVerifier {
    /// The claims of a genuine access token of this server, or `None` (malformed, foreign key
    /// or issuer, wrong type). Expiry is checked by the caller against the injected clock.
    fn verify_access_token(&self, token: &str) -> Option<AccessTokenClaims>;
}

/// The list of revoked access tokens, by `jti`.
pub trait RevokedTokenStore {
    /// Records `jti` as revoked; the entry may be forgotten after `expires_at` (the token's
    /// `exp`), when the token is refused anyway. Revoking twice is harmless.
    async fn revoke_access_token(
        &self,
        jti: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    async fn is_access_token_revoked(&self, jti: &str) -> Result<bool, StoreError>;
}

/// A token presented to the revocation or introspection endpoint. Holds a secret: no `Debug`
/// with content.
pub struct PresentedToken {
    pub token: Secret,
}

impl std::fmt::Debug for PresentedToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PresentedToken").finish_non_exhaustive()
    }
}

impl PresentedToken {
    /// Reads `token` (required). `token_type_hint` (RFC 7009 §2.1, RFC 7662 §2.1) is accepted
    /// whatever its value and not needed: the token's shape tells its type
    /// ([`Self::is_refresh_shaped`]).
    pub fn parse(p: &Params) -> Result<Self, OAuthError> {
        Ok(Self {
            token: Secret::from_presented(p.require("token")?),
        })
    }

    /// Whether the token can only be one of our refresh tokens, from its shape: access tokens
    /// are compact JWS (parts joined by `.`), refresh tokens 43 base64url characters, which
    /// never contain one. The shapes are disjoint, so exactly one lookup runs whatever the hint
    /// says (RFC 7009 §2.1 has the server search all its token types when the hint is wrong;
    /// here only one type can match) and a JWT never costs a database read.
    pub(crate) fn is_refresh_shaped(&self) -> bool {
        !self.token.expose().contains('.')
    }
}

/// What a revocation request did (the wire answer is 200 in every case).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Revoked {
    /// A refresh token of the client: its grant (this id) is revoked.
    Grant(String),
    /// An access token of the client: its `jti` (this one) is revoked.
    AccessToken(String),
    /// Unknown, malformed, expired, or another client's token.
    Nothing,
}

/// Answers a revocation request: authenticates the client, applies the DPoP rules to the
/// request's verified proof (`proof`, if it had one), revokes, and returns the audit events
/// (none when nothing was revoked). The wire answer is 200 whenever this is `Ok`.
pub async fn revoke_request<C, S, V, T>(
    auth: &ClientAuthContext<'_, C, S, V>,
    tokens: &T,
    presented: Option<&ClientCredentials>,
    req: &PresentedToken,
    proof: Option<&ProofKey>,
) -> Result<Vec<NewAuditEvent>, Error>
where
    C: ClientDirectory,
    S: GrantStore + RevokedTokenStore + ReplayStore + DpopClientStore,
    V: AssertionVerifier,
    T: AccessTokenVerifier,
{
    let client = authenticate_required(auth, presented).await?;
    dpop::check_required(auth.store, &client.id, proof).await?;
    let revoked = revoke(auth.store, tokens, &client, req, proof, auth.now).await?;
    let (kind, target) = match revoked {
        Revoked::Grant(g) => ("refresh_token", g),
        Revoked::AccessToken(j) => ("access_token", j),
        Revoked::Nothing => return Ok(Vec::new()),
    };
    Ok(vec![token_events::revoked(&client, kind, target, auth.now)])
}

/// Revokes a token for an authenticated client (RFC 7009 §2.1); `proof` is the key of the
/// request's verified DPoP proof, which a public client's bound token needs (RFC 9449 §5).
pub async fn revoke<S: GrantStore + RevokedTokenStore, V: AccessTokenVerifier>(
    store: &S,
    verifier: &V,
    client: &Client,
    req: &PresentedToken,
    proof: Option<&ProofKey>,
    now: DateTime<Utc>,
) -> Result<Revoked, Error> {
    let proof = proof.map(|k| k.jkt.as_str());
    let done = if req.is_refresh_shaped() {
        revoke_refresh(store, client, req, proof, now).await?
    } else {
        revoke_access(store, verifier, client, req, proof, now).await?
    };
    Ok(done.unwrap_or(Revoked::Nothing))
}

/// `None` when the value is not one of our refresh tokens.
async fn revoke_refresh<S: GrantStore>(
    store: &S,
    client: &Client,
    req: &PresentedToken,
    proof: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Option<Revoked>, Error> {
    let Some(record) = store.find_refresh(&req.token.hash()).await? else {
        return Ok(None);
    };
    if record.client_id != client.id {
        return Ok(Some(Revoked::Nothing));
    }
    // Only public clients' refresh tokens are bound (RFC 9449 §5): the key is their proof.
    dpop::check_binding(record.dpop_jkt.as_deref(), proof)?;
    // Even an already rotated or expired token of the family ends the grant: the client says
    // it is done with it.
    store.revoke_grant(&record.grant_id, now).await?;
    Ok(Some(Revoked::Grant(record.grant_id.to_string())))
}

/// `None` when the value is not one of our access tokens.
async fn revoke_access<S: RevokedTokenStore, V: AccessTokenVerifier>(
    store: &S,
    verifier: &V,
    client: &Client,
    req: &PresentedToken,
    proof: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Option<Revoked>, Error> {
    let Some(claims) = verifier.verify_access_token(req.token.expose()) else {
        return Ok(None);
    };
    if claims.client_id != client.id.as_str() || claims.exp <= now.timestamp() {
        return Ok(Some(Revoked::Nothing));
    }
    if client.is_public() {
        dpop::check_binding(claims.cnf.as_ref().map(|c| c.jkt.as_str()), proof)?;
    }
    let Some(exp) = DateTime::from_timestamp(claims.exp, 0) else {
        return Ok(Some(Revoked::Nothing));
    };
    store.revoke_access_token(&claims.jti, exp, now).await?;
    Ok(Some(Revoked::AccessToken(claims.jti)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fakes::{self, FakeStore, FakeVerifier};
    use crate::ports::GrantStore;
    use crate::values::GrantId;

    fn presented(token: &str, hint: Option<&str>) -> PresentedToken {
        let mut pairs = vec![("token".to_owned(), token.to_owned())];
        if let Some(h) = hint {
            pairs.push(("token_type_hint".to_owned(), h.to_owned()));
        }
        PresentedToken::parse(&Params::new(pairs).unwrap()).unwrap()
    }

    #[test]
    fn token_is_required_and_unknown_hints_are_ignored() {
        let err = PresentedToken::parse(&Params::new(vec![]).unwrap()).unwrap_err();
        assert_eq!(err.code, crate::ErrorCode::InvalidRequest);
        assert_eq!(presented("x", Some("id_token")).token.expose(), "x");
        assert_eq!(presented("x", Some("access_token")).token.expose(), "x");
    }

    #[tokio::test]
    async fn revoking_a_refresh_token_revokes_its_grant_whatever_the_hint() {
        let now = Utc::now();
        let store = FakeStore::default();
        let c = fakes::client("c1");
        let token = store.add_refresh("c1", "g1", now);
        let r = revoke(
            &store,
            &FakeVerifier,
            &c,
            &presented(&token, Some("access_token")),
            None,
            now,
        )
        .await
        .unwrap();
        assert!(matches!(r, Revoked::Grant(_)));
        assert!(
            store
                .is_grant_revoked(&GrantId::parse("g1").unwrap())
                .await
                .unwrap()
        );
    }

    #[tokio::test]
    async fn another_clients_tokens_are_left_alone() {
        let now = Utc::now();
        let store = FakeStore::default();
        let token = store.add_refresh("c1", "g1", now);
        let at = fakes::access_token("c1", Some("g1"), now);
        let other = fakes::client("c2");
        for t in [&token, &at] {
            let r = revoke(
                &store,
                &FakeVerifier,
                &other,
                &presented(t, None),
                None,
                now,
            )
            .await
            .unwrap();
            assert_eq!(r, Revoked::Nothing);
        }
        assert!(
            !store
                .is_grant_revoked(&GrantId::parse("g1").unwrap())
                .await
                .unwrap()
        );
        assert!(store.revoked_jtis().is_empty());
    }

    #[tokio::test]
    async fn revoking_an_access_token_records_its_jti_only() {
        let now = Utc::now();
        let store = FakeStore::default();
        let c = fakes::client("c1");
        let at = fakes::access_token("c1", Some("g1"), now);
        let r = revoke(
            &store,
            &FakeVerifier,
            &c,
            &presented(&at, Some("refresh_token")),
            None,
            now,
        )
        .await
        .unwrap();
        assert!(matches!(r, Revoked::AccessToken(_)));
        assert_eq!(store.revoked_jtis().len(), 1);
        assert!(
            !store
                .is_grant_revoked(&GrantId::parse("g1").unwrap())
                .await
                .unwrap()
        );
    }

    #[tokio::test]
    async fn unknown_and_expired_tokens_revoke_nothing() {
        let now = Utc::now();
        let store = FakeStore::default();
        let c = fakes::client("c1");
        let r = revoke(
            &store,
            &FakeVerifier,
            &c,
            &presented("nope", None),
            None,
            now,
        )
        .await
        .unwrap();
        assert_eq!(r, Revoked::Nothing);
        let old = fakes::access_token("c1", None, now - chrono::Duration::hours(2));
        let r = revoke(&store, &FakeVerifier, &c, &presented(&old, None), None, now)
            .await
            .unwrap();
        assert_eq!(r, Revoked::Nothing);
        assert!(store.revoked_jtis().is_empty());
    }

    #[tokio::test]
    async fn revocation_authenticates_the_client_and_audits_what_it_revoked_rfc7009_2_1() {
        let now = Utc::now();
        let h = fakes::TokenHarness::default();
        let c1 = h.register(fakes::client("c1"));
        let rules = h.rules.clone();
        let auth = ClientAuthContext {
            clients: &h.store,
            store: &h.store,
            verifier: &fakes::TrustingVerifier,
            rules: &rules,
            now,
        };
        let rt = h.store.add_refresh("c1", "g1", now);
        let at = fakes::access_token("c1", None, now);
        let run = |creds: Option<crate::client_auth::ClientCredentials>, t: &str| {
            let req = presented(t, None);
            let auth = &auth;
            async move { revoke_request(auth, &FakeVerifier, creds.as_ref(), &req, None).await }
        };
        let e = run(None, &rt).await.unwrap_err();
        assert_eq!(e.to_oauth().code, crate::ErrorCode::InvalidClient);
        let events = run(c1.creds(), &rt).await.unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].action, "token.revoke");
        assert_eq!(events[0].target.as_deref(), Some("g1"));
        assert_eq!(events[0].details["token_type"], "refresh_token");
        let events = run(c1.creds(), &at).await.unwrap();
        assert_eq!(events[0].details["token_type"], "access_token");
        assert!(!serde_json::to_string(&events).unwrap().contains(&at));
        // Nothing revoked, nothing audited.
        assert!(run(c1.creds(), "unknown").await.unwrap().is_empty());
    }

    fn key(jkt: &str) -> ProofKey {
        ProofKey { jkt: jkt.into() }
    }

    /// An access token of `client` bound to the DPoP key `jkt` (`cnf.jkt`).
    fn bound_access_token(client: &str, jkt: &str, now: DateTime<Utc>) -> String {
        use crate::ports::TokenSigner;
        let mut claims = FakeVerifier
            .verify_access_token(&fakes::access_token(client, None, now))
            .unwrap();
        claims.cnf = Some(crate::claims::Confirmation { jkt: jkt.into() });
        let typ = crate::claims::ACCESS_TOKEN_TYP;
        fakes::FakeSigner
            .sign(crate::SigningAlg::RS256, typ, &claims)
            .unwrap()
    }

    #[tokio::test]
    async fn a_dpop_required_client_revokes_only_with_a_proof_rfc9449_5() {
        let now = Utc::now();
        let h = fakes::TokenHarness::default();
        let c1 = h.register(fakes::client("c1"));
        h.store.dpop_required.lock().unwrap().insert("c1".into());
        let rules = h.rules.clone();
        let auth = ClientAuthContext {
            clients: &h.store,
            store: &h.store,
            verifier: &fakes::TrustingVerifier,
            rules: &rules,
            now,
        };
        let rt = h.store.add_refresh("c1", "g1", now);
        let req = presented(&rt, None);
        let e = revoke_request(&auth, &FakeVerifier, c1.creds().as_ref(), &req, None)
            .await
            .unwrap_err();
        assert_eq!(e.to_oauth().code, crate::ErrorCode::InvalidDpopProof);
        let g1 = GrantId::parse("g1").unwrap();
        assert!(!h.store.is_grant_revoked(&g1).await.unwrap());
        let k = key("k1");
        let events = revoke_request(&auth, &FakeVerifier, c1.creds().as_ref(), &req, Some(&k))
            .await
            .unwrap();
        assert_eq!(events.len(), 1);
        assert!(h.store.is_grant_revoked(&g1).await.unwrap());
    }

    /// Revokes `token` for `client` with a proof of the key `jkt`, if any.
    async fn revoke_with(
        store: &FakeStore,
        client: &Client,
        token: &str,
        jkt: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Revoked, Error> {
        let proof = jkt.map(key);
        let req = presented(token, None);
        revoke(store, &FakeVerifier, client, &req, proof.as_ref(), now).await
    }

    #[tokio::test]
    async fn a_public_clients_bound_tokens_need_a_proof_of_their_key_rfc9449_5() {
        let now = Utc::now();
        let store = FakeStore::default();
        let mut spa = fakes::client("spa");
        spa.auth_method = crate::client::AuthMethod::None;
        spa.secret_hash = None;
        let g1 = GrantId::parse("g1").unwrap();
        let rt = store.add_bound_refresh("spa", "g1", "k1", now);
        let at = bound_access_token("spa", "k1", now);
        for t in [&rt, &at] {
            for jkt in [None, Some("other")] {
                let e = revoke_with(&store, &spa, t, jkt, now).await.unwrap_err();
                assert_eq!(e.to_oauth().code, crate::ErrorCode::InvalidDpopProof);
            }
        }
        assert!(!store.is_grant_revoked(&g1).await.unwrap());
        assert!(store.revoked_jtis().is_empty());
        let r = revoke_with(&store, &spa, &rt, Some("k1"), now).await;
        assert_eq!(r.unwrap(), Revoked::Grant("g1".into()));
        let r = revoke_with(&store, &spa, &at, Some("k1"), now).await;
        assert!(matches!(r.unwrap(), Revoked::AccessToken(_)));
        // A confidential client authenticates: its bound access token needs no proof.
        let c1 = fakes::client("c1");
        let at = bound_access_token("c1", "k1", now);
        let r = revoke_with(&store, &c1, &at, None, now).await;
        assert!(matches!(r.unwrap(), Revoked::AccessToken(_)));
    }
}
