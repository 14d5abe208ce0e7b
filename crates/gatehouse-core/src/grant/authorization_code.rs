//! The authorization code grant at the token endpoint (RFC 6749 §4.1.3) with PKCE
//! (RFC 7636 §4.5–4.6; RFC 9700 §2.1.1) and the ID token of OIDC Core §3.1.3.
//!
//! The code is redeemed first, in one atomic step of the [`CodeStore`] port, so of two
//! concurrent redemptions one wins, and a failed check afterwards still burns the code
//! (RFC 6749 §4.1.2: single use). A code presented again revokes everything issued from it
//! (RFC 6749 §4.1.2, RFC 9700 §4.5) and is reported as [`Incident::CodeReplay`]. With
//! `offline_access` the response starts the grant's refresh-token family (RFC 6749 §6, see
//! [`crate::grant::rotation`]).

use chrono::{DateTime, Utc};

use crate::client::{Client, GrantType};
use crate::error::OAuthError;
use crate::grant::mint::{Issued, Minter, TokenResponse, UserGrant, live_user, new_jti};
use crate::grant::outcome::{Incident, Refusal};
use crate::grant::rotation::{Family, RefreshLifetimes};
use crate::params::Params;
use crate::ports::{CodeRecord, CodeStore, GrantStore, Redemption, TokenSigner, UserStore};
use crate::resource::{self, ResourceStore, ResourceUri};
use crate::secret::Secret;
use crate::tenant::TenantStore;
use crate::values::{PkceVerifier, RedirectUri, ScopeSet};

/// `grant_type=authorization_code` (RFC 6749 §4.1.3). Holds the code: no `Debug`.
pub struct CodeRequest {
    pub code: Secret,
    pub redirect_uri: Option<RedirectUri>,
    pub code_verifier: Option<PkceVerifier>,
    /// The resource the access token is for (RFC 8707 §2.2).
    pub resource: Option<ResourceUri>,
}

impl CodeRequest {
    pub fn parse(p: &Params) -> Result<Self, OAuthError> {
        Ok(Self {
            code: Secret::from_presented(p.require("code")?),
            redirect_uri: p
                .get("redirect_uri")
                .map(RedirectUri::parse)
                .transpose()
                .map_err(OAuthError::invalid_request)?,
            // RFC 7636 §4.6: a malformed verifier cannot match, so the grant is invalid.
            code_verifier: p
                .get("code_verifier")
                .map(PkceVerifier::parse)
                .transpose()
                .map_err(OAuthError::invalid_grant)?,
            resource: resource::requested_one(p)?,
        })
    }
}

/// What the grant reads and writes.
pub trait CodeGrantStore: UserStore + CodeStore + GrantStore + ResourceStore {}
impl<T: UserStore + CodeStore + GrantStore + ResourceStore> CodeGrantStore for T {}

/// Redeems a code for the authenticated `client`.
pub async fn redeem<S, T, K>(
    store: &S,
    tenants: &T,
    mint: &Minter<'_, K>,
    client: &Client,
    req: CodeRequest,
    now: DateTime<Utc>,
) -> Result<TokenResponse, Refusal>
where
    S: CodeGrantStore,
    T: TenantStore,
    K: TokenSigner,
{
    let invalid = |d: &'static str| OAuthError::invalid_grant(d);
    let (record, terms) = match store.redeem_code(&req.code.hash(), now).await? {
        Redemption::Redeemed(r, terms) => (r, terms),
        Redemption::AlreadyRedeemed(r) => {
            store.revoke_grant(&r.grant_id, now).await?;
            let incident = Incident::CodeReplay {
                grant: r.grant_id,
                user: r.user_id,
            };
            let error = invalid("the authorization code has already been used");
            return Err(Refusal::with_incident(error, incident));
        }
        Redemption::NotFound => return Err(invalid("the authorization code is invalid").into()),
    };
    check(&record, client, &req, now)?;
    // A code bound with `dpop_jkt` is redeemed only with a proof of that key (RFC 9449 §10).
    crate::dpop::check_binding(record.dpop_jkt.as_deref(), mint.dpop_jkt)?;
    let user = live_user(store, tenants, &record.user_id)
        .await?
        .ok_or_else(|| invalid("the user no longer exists or is disabled"))?;
    let target =
        resource::token_target(store, client, Some(&terms.resources), req.resource.as_ref())
            .await?;
    let access_scope = resource::access_scope(&record.scope, target.as_ref())?;
    let grant = UserGrant {
        user: &user,
        grant_id: &record.grant_id,
        scope: &record.scope,
        access_scope: &access_scope,
        resource: target.as_ref(),
        auth_time: record.auth_time,
        nonce: record.nonce.clone(),
        claims: terms.claims.as_ref(),
    };
    let jti = new_jti();
    let (access_token, id_token) = mint.user_tokens(client, &grant, &jti, now)?;
    let refresh_token = if wants_refresh(client, &record.scope) {
        let life = RefreshLifetimes::for_client(mint.policy, client);
        let family = Family {
            grant_id: &record.grant_id,
            client_id: &client.id,
            user_id: &user.id,
            granted_scope: &record.scope,
            auth_time: record.auth_time,
            expires_at: life.family_deadline(None, now),
            // Public clients' refresh tokens are bound to the proof's key (RFC 9449 §5);
            // confidential clients authenticate anyway, so theirs are not.
            dpop_jkt: mint.dpop_jkt.filter(|_| client.is_public()),
        };
        let token = Secret::generate();
        store
            .insert_refresh(&life.new_record(&token, &family, &record.scope, now))
            .await?;
        Some(token.expose().to_owned())
    } else {
        None
    };
    let issued = Issued {
        grant_type: GrantType::AuthorizationCode.as_str(),
        client_id: client.id.to_string(),
        jti,
        sub: user.id.to_string(),
        tenant: user.tenant_id.to_string(),
        grant_id: Some(record.grant_id.to_string()),
    };
    let ttl = mint.access_ttl_for(client, target.as_ref());
    Ok(TokenResponse {
        refresh_token,
        id_token,
        ..TokenResponse::bearer(access_token, ttl, &access_scope, issued)
    })
}

/// The checks of a redeemed code: lifetime, client, redirect URI (RFC 6749 §4.1.3) and PKCE
/// (RFC 7636 §4.6). The code is already burnt whatever they find.
fn check(
    record: &CodeRecord,
    client: &Client,
    req: &CodeRequest,
    now: DateTime<Utc>,
) -> Result<(), OAuthError> {
    let invalid = |d: &'static str| Err(OAuthError::invalid_grant(d));
    if record.expires_at <= now {
        return invalid("the authorization code has expired");
    }
    if record.client_id != client.id {
        return invalid("the authorization code was issued to another client");
    }
    match (&req.redirect_uri, record.redirect_uri_in_request) {
        (Some(r), _) if r.as_str() != record.redirect_uri.as_str() => {
            return invalid("redirect_uri does not match the authorization request");
        }
        (None, true) => {
            return invalid("redirect_uri is required: it was in the authorization request");
        }
        _ => {}
    }
    match (&record.code_challenge, &req.code_verifier) {
        (Some(ch), Some(v)) if ch.verify(v) => Ok(()),
        (Some(_), Some(_)) => invalid("code_verifier does not match the code_challenge"),
        (Some(_), None) => invalid("code_verifier is required"),
        // RFC 9700 §2.1.1: a verifier without a challenge is a downgrade attempt.
        (None, Some(_)) => invalid("code_verifier sent but no code_challenge was used"),
        (None, None) => Ok(()),
    }
}

/// Refresh tokens go to clients allowed the grant that asked for `offline_access`.
fn wants_refresh(client: &Client, scope: &ScopeSet) -> bool {
    client.allows_grant(GrantType::RefreshToken) && scope.contains("offline_access")
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use crate::ErrorCode;
    use crate::audit::Outcome;
    use crate::claims_request::{ClaimsRequest, ClaimsRequestStore};
    use crate::fakes::{self, Registered, TokenHarness, VERIFIER, answer, claims_of};
    use crate::ports::GrantStore;
    use crate::values::GrantId;

    const REDIRECT: &str = "https://app.example/cb";

    /// A harness with user `u1` and client `c1`, and a code of `c1` in grant `g1`.
    fn setup(scope: &str) -> (TokenHarness, Registered, String) {
        let h = TokenHarness::default();
        h.store.add_user("u1");
        let c = fakes::client("c1");
        let creds = h.register(c.clone());
        let (code, record) = fakes::code(&c, "g1", scope, true, chrono::Utc::now());
        h.store.add_code(record);
        (h, creds, code)
    }

    fn redeem<'a>(code: &'a str, verifier: &'a str) -> Vec<(&'a str, &'a str)> {
        vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", verifier),
        ]
    }

    /// The ID token releases what the grant's `claims` request names beyond the scope
    /// (OIDC Core §5.5), read with the code.
    #[tokio::test]
    async fn the_id_token_carries_the_claims_the_grant_requested_oidc_core_5_5() {
        let (h, creds, code) = setup("openid");
        let now = chrono::Utc::now();
        let asked = ClaimsRequest::parse(r#"{"id_token":{"preferred_username":null}}"#).unwrap();
        let g1 = GrantId::parse("g1").unwrap();
        h.store.save_claims_request(&g1, &asked, now).await.unwrap();
        let out = h.token(creds.creds(), &redeem(&code, VERIFIER), now).await;
        let id = claims_of(answer(&out).unwrap()["id_token"].as_str().unwrap());
        assert_eq!(id["preferred_username"], "u1");

        // Without a request, the `openid` scope alone releases no profile claim.
        let (h, creds, code) = setup("openid");
        let out = h.token(creds.creds(), &redeem(&code, VERIFIER), now).await;
        let id = claims_of(answer(&out).unwrap()["id_token"].as_str().unwrap());
        assert!(id.get("preferred_username").is_none(), "{id}");
    }

    #[tokio::test]
    async fn a_code_with_its_verifier_gives_tokens_and_an_issue_event_rfc6749_4_1_3() {
        let (h, creds, code) = setup("openid offline_access");
        let now = chrono::Utc::now();
        let out = h.token(creds.creds(), &redeem(&code, VERIFIER), now).await;
        let body = answer(&out).unwrap();
        assert_eq!(body["token_type"], "Bearer");
        assert_eq!(body["scope"], "offline_access openid");
        assert!(body["refresh_token"].is_string());
        let id = claims_of(body["id_token"].as_str().unwrap());
        assert_eq!(
            (id["sub"].as_str(), id["nonce"].as_str()),
            (Some("u1"), Some("n-1"))
        );
        let at = claims_of(body["access_token"].as_str().unwrap());
        assert_eq!(
            (at["gid"].as_str(), at["client_id"].as_str()),
            (Some("g1"), Some("c1"))
        );
        assert_eq!(out.events.len(), 1);
        let e = &out.events[0];
        assert_eq!(
            (e.action.as_str(), e.outcome),
            ("token.issue", Outcome::Success)
        );
        assert_eq!(e.details["grant_type"], "authorization_code");
        assert_eq!(e.details["jti"], at["jti"]);
        assert_eq!(e.details["refresh_token"], true);
    }

    #[tokio::test]
    async fn a_wrong_or_missing_verifier_is_invalid_grant_and_burns_the_code_rfc7636_4_6() {
        let (h, creds, code) = setup("openid");
        let now = chrono::Utc::now();
        let wrong = "x".repeat(43);
        let out = h.token(creds.creds(), &redeem(&code, &wrong), now).await;
        assert_eq!(answer(&out), Err(ErrorCode::InvalidGrant));
        assert!(out.events.is_empty());
        let (h, creds, code) = setup("openid");
        let missing = [
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT),
        ];
        let out = h.token(creds.creds(), &missing, now).await;
        assert_eq!(answer(&out), Err(ErrorCode::InvalidGrant));
    }

    #[tokio::test]
    async fn a_replayed_code_revokes_its_grant_and_is_audited_rfc6749_4_1_2() {
        let (h, creds, code) = setup("openid offline_access");
        let now = chrono::Utc::now();
        let again = || creds.creds();
        let first = answer(&h.token(again(), &redeem(&code, VERIFIER), now).await).unwrap();
        let replay = h.token(again(), &redeem(&code, VERIFIER), now).await;
        assert_eq!(answer(&replay), Err(ErrorCode::InvalidGrant));
        let grant = GrantId::parse("g1").unwrap();
        assert!(h.store.is_grant_revoked(&grant).await.unwrap());
        assert_eq!(replay.events.len(), 1);
        let e = &replay.events[0];
        assert_eq!(
            (e.action.as_str(), e.outcome),
            ("token.code_replay", Outcome::Denied)
        );
        assert_eq!(e.target.as_deref(), Some("g1"));
        assert_eq!(e.actor.as_deref(), Some("c1"));
        assert_eq!(
            e.details,
            serde_json::json!({"user_id": "u1", "grant_revoked": true})
        );
        // The refresh token issued from the first redemption is dead.
        let rt = first["refresh_token"].as_str().unwrap();
        let refresh = [("grant_type", "refresh_token"), ("refresh_token", rt)];
        let out = h.token(again(), &refresh, now).await;
        assert_eq!(answer(&out), Err(ErrorCode::InvalidGrant));
    }

    #[tokio::test]
    async fn a_code_is_bound_to_its_client_redirect_uri_and_lifetime_rfc6749_4_1_3() {
        let now = chrono::Utc::now();
        // Another client.
        let (h, _, code) = setup("openid");
        let mut other = fakes::client("c2");
        other.grant_types = vec![crate::client::GrantType::AuthorizationCode];
        let other = h.register(other);
        let out = h.token(other.creds(), &redeem(&code, VERIFIER), now).await;
        assert_eq!(answer(&out), Err(ErrorCode::InvalidGrant));
        // Another redirect URI.
        let (h, creds, code) = setup("openid");
        let mut form = redeem(&code, VERIFIER);
        form[2].1 = "https://app.example/other";
        let out = h.token(creds.creds(), &form, now).await;
        assert_eq!(answer(&out), Err(ErrorCode::InvalidGrant));
        // Expired.
        let (h, creds, code) = setup("openid");
        let later = now + Duration::seconds(61);
        let out = h
            .token(creds.creds(), &redeem(&code, VERIFIER), later)
            .await;
        assert_eq!(answer(&out), Err(ErrorCode::InvalidGrant));
    }

    #[tokio::test]
    async fn a_client_not_registered_for_the_grant_is_unauthorized_client_rfc6749_5_2() {
        let (h, _, code) = setup("openid");
        let mut cc = fakes::client("svc");
        cc.grant_types = vec![crate::client::GrantType::ClientCredentials];
        let creds = h.register(cc);
        let out = h
            .token(creds.creds(), &redeem(&code, VERIFIER), chrono::Utc::now())
            .await;
        assert_eq!(answer(&out), Err(ErrorCode::UnauthorizedClient));
    }
}
