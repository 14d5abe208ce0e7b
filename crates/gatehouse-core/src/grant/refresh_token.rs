//! The refresh-token grant (RFC 6749 §6) with rotation and reuse detection (RFC 9700 §4.14.2),
//! under the lifetimes and grace period of [`crate::grant::rotation`].
//!
//! - A token works only for the client it was issued to; another client's attempt does not
//!   burn it. A token of a revoked grant, an expired one, or one whose user is gone or
//!   disabled is `invalid_grant`.
//! - The scope may be narrowed but never widened beyond what the user granted (§6); a refused
//!   widening does not consume the token.
//! - Rotation stores the successor, then marks the presented token used in one conditional
//!   write that links the successor ([`RotationStore`]): of concurrent rotations one wins.
//! - Reuse — a rotated token presented again outside the grace period, or a lost rotation
//!   race — revokes the whole family and is reported as [`Incident::RefreshReuse`].
//! - Within a client's grace period the immediately previous token gets the same pair again.

use chrono::{DateTime, Utc};

use crate::client::{Client, GrantType};
use crate::error::OAuthError;
use crate::grant::mint::{Issued, Minter, TokenResponse, UserGrant, live_user, new_jti};
use crate::grant::outcome::{Incident, Refusal};
use crate::grant::rotation::{
    Family, RefreshLifetimes, RotationStore, UsedToken, classify_used, successor_jti,
    successor_token,
};
use crate::params::Params;
use crate::ports::{GrantStore, GrantTerms, RefreshRecord, Rotation, TokenSigner, UserStore};
use crate::resource::{self, ResourceServer, ResourceStore, ResourceUri};
use crate::secret::{Secret, SecretHash};
use crate::tenant::TenantStore;
use crate::user::User;
use crate::values::ScopeSet;

/// `grant_type=refresh_token` (RFC 6749 §6). Holds the token: no `Debug`.
pub struct RefreshRequest {
    pub refresh_token: Secret,
    pub scope: Option<ScopeSet>,
    /// The resource the new access token is for: one of the grant's (RFC 8707 §2.2).
    pub resource: Option<ResourceUri>,
}

impl RefreshRequest {
    pub fn parse(p: &Params) -> Result<Self, OAuthError> {
        Ok(Self {
            refresh_token: Secret::from_presented(p.require("refresh_token")?),
            scope: p.scope()?,
            resource: resource::requested_one(p)?,
        })
    }
}

/// What the grant reads and writes.
pub trait RefreshGrantStore: UserStore + GrantStore + RotationStore + ResourceStore {}
impl<T: UserStore + GrantStore + RotationStore + ResourceStore> RefreshGrantStore for T {}

/// The refresh token a rotation issued, with the `jti` of its access token.
struct Successor {
    record: RefreshRecord,
    token: Secret,
    jti: String,
}

fn invalid(d: &'static str) -> Refusal {
    OAuthError::invalid_grant(d).into()
}

/// Exchanges a refresh token of the authenticated `client` for a new pair.
pub async fn refresh<S, T, K>(
    store: &S,
    tenants: &T,
    mint: &Minter<'_, K>,
    client: &Client,
    req: RefreshRequest,
    now: DateTime<Utc>,
) -> Result<TokenResponse, Refusal>
where
    S: RefreshGrantStore,
    T: TenantStore,
    K: TokenSigner,
{
    let (record, terms) = store
        .find_refresh_with_terms(&req.refresh_token.hash())
        .await?
        .ok_or_else(|| invalid("the refresh token is invalid"))?;
    // Check the client before touching the token, so another client cannot burn it.
    if record.client_id != client.id {
        return Err(invalid("the refresh token was issued to another client"));
    }
    // A bound token is refreshed only with a proof of its key (RFC 9449 §5), before it is used.
    crate::dpop::check_binding(record.dpop_jkt.as_deref(), mint.dpop_jkt)?;
    if !record.revoked && store.is_grant_revoked(&record.grant_id).await? {
        // A successor inserted while its grant was being revoked: the grant list is the truth.
        return Err(invalid("the refresh token has been revoked"));
    }
    if record.revoked {
        // Revoked with its grant: a copy of it is in use somewhere, so make sure the whole
        // grant is dead (idempotent).
        store.revoke_grant(&record.grant_id, now).await?;
        return Err(invalid("the refresh token has been revoked"));
    }
    let life = RefreshLifetimes::for_client(mint.policy, client);
    let retry_of = match record.used_at {
        None => None,
        Some(used_at) => match classify_used(&record, &life, now) {
            UsedToken::GraceRetry { current } => Some((used_at, current)),
            UsedToken::Replay => return Err(reuse(store, &record, now).await),
        },
    };
    if record.expires_at <= now {
        return Err(invalid("the refresh token has expired"));
    }
    let user = live_user(store, tenants, &record.user_id)
        .await?
        .ok_or_else(|| invalid("the user no longer exists or is disabled"))?;
    // The resource is checked before rotating, so a refused one does not consume the token.
    let target =
        resource::token_target(store, client, Some(&terms.resources), req.resource.as_ref())
            .await?;
    let rotated = match retry_of {
        Some((used_at, current)) => grace_successor(store, &req.refresh_token, &record, &current)
            .await?
            .map(|s| (s, used_at)),
        None => rotate(store, &life, &user, &req, &record, now)
            .await?
            .map(|s| (s, now)),
    };
    let Some((successor, rotated_at)) = rotated else {
        return Err(reuse(store, &record, now).await);
    };
    let target = target.as_ref();
    respond(
        mint,
        client,
        &user,
        (successor, target, &terms),
        rotated_at,
        now,
    )
}

/// RFC 9700 §4.14.2: a rotated token came back, so one of two parties holds a stolen copy.
/// Revokes the whole family.
async fn reuse<S: GrantStore>(store: &S, record: &RefreshRecord, now: DateTime<Utc>) -> Refusal {
    if let Err(e) = store.revoke_grant(&record.grant_id, now).await {
        return e.into();
    }
    Refusal::with_incident(
        OAuthError::invalid_grant("the refresh token has already been used; the grant is revoked"),
        Incident::RefreshReuse {
            grant: record.grant_id.clone(),
            user: record.user_id.clone(),
        },
    )
}

/// A grace-period retry: the same pair again, if the successor derived from the presented
/// token is still the unused, unrevoked current one. `None` means a second party holds the
/// token (reuse).
async fn grace_successor<S: GrantStore>(
    store: &S,
    presented: &Secret,
    record: &RefreshRecord,
    current: &SecretHash,
) -> Result<Option<Successor>, Refusal> {
    let Some(salt) = &record.rotation_salt else {
        return Ok(None);
    };
    let token = successor_token(presented, salt);
    if token.hash() != *current {
        return Ok(None);
    }
    let live = store
        .find_refresh(current)
        .await?
        .filter(|r| r.used_at.is_none() && !r.revoked);
    Ok(live.map(|record| Successor {
        record,
        jti: successor_jti(presented, salt),
        token,
    }))
}

/// Rotates `record` (the presented token) into a new successor; `None` when another use of
/// the same token won the race (reuse).
async fn rotate<S: GrantStore + RotationStore>(
    store: &S,
    life: &RefreshLifetimes,
    user: &User,
    req: &RefreshRequest,
    record: &RefreshRecord,
    now: DateTime<Utc>,
) -> Result<Option<Successor>, Refusal> {
    let scope = match &req.scope {
        Some(s) if !s.is_subset(&record.granted_scope) => {
            return Err(
                OAuthError::invalid_scope("a refresh cannot widen the granted scope").into(),
            );
        }
        Some(s) if !s.is_empty() => s.clone(),
        _ => record.scope.clone(),
    };
    // With a rotation salt the successor and its access token's `jti` are derived (so a
    // grace-period retry gets the same pair); without one they are random.
    let (token, jti) = match &record.rotation_salt {
        Some(salt) => (
            successor_token(&req.refresh_token, salt),
            successor_jti(&req.refresh_token, salt),
        ),
        None => (Secret::generate(), new_jti()),
    };
    let family = Family {
        grant_id: &record.grant_id,
        client_id: &record.client_id,
        user_id: &user.id,
        granted_scope: &record.granted_scope,
        auth_time: record.auth_time,
        expires_at: life.family_deadline(Some(record), now),
        dpop_jkt: record.dpop_jkt.as_deref(),
    };
    // The successor is stored before the old token is marked, so that its hash can be linked
    // in the same atomic step; if that step loses, revoking the grant kills the successor too.
    let successor = life.new_record(&token, &family, &scope, now);
    store.insert_refresh(&successor).await?;
    let rotation = store
        .rotate_refresh(&record.token_hash, &token.hash(), now)
        .await?;
    Ok(matches!(rotation, Rotation::Rotated).then_some(Successor {
        record: successor,
        token,
        jti,
    }))
}

/// The token response of a rotation that happened at `rotated_at`: the access token (and ID
/// token) are issued at that instant with the successor's `jti`, so a grace-period retry
/// answered later carries the same claims; `expires_in` counts from `now`.
fn respond<K: TokenSigner>(
    mint: &Minter<'_, K>,
    client: &Client,
    user: &User,
    (successor, target, terms): (Successor, Option<&ResourceServer>, &GrantTerms),
    rotated_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<TokenResponse, Refusal> {
    let Successor { record, token, jti } = successor;
    let access_scope = resource::access_scope(&record.scope, target)?;
    let grant = UserGrant {
        user,
        grant_id: &record.grant_id,
        scope: &record.scope,
        access_scope: &access_scope,
        resource: target,
        auth_time: record.auth_time,
        nonce: None,
        claims: terms.claims.as_ref(),
    };
    let (access_token, id_token) = mint.user_tokens(client, &grant, &jti, rotated_at)?;
    let issued = Issued {
        grant_type: GrantType::RefreshToken.as_str(),
        client_id: client.id.to_string(),
        jti,
        sub: user.id.to_string(),
        tenant: user.tenant_id.to_string(),
        grant_id: Some(record.grant_id.to_string()),
    };
    let ttl = mint.access_ttl_for(client, target);
    let expires_in = (ttl - (now - rotated_at).num_seconds()).max(0);
    Ok(TokenResponse {
        refresh_token: Some(token.expose().to_owned()),
        id_token,
        ..TokenResponse::bearer(access_token, expires_in, &access_scope, issued)
    })
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Duration, Utc};

    use crate::ErrorCode;
    use crate::audit::Outcome;
    use crate::claims_request::{ClaimsRequest, ClaimsRequestStore};
    use crate::fakes::{self, Registered, TokenHarness, answer, claims_of};
    use crate::ports::GrantStore;
    use crate::secret::Secret;
    use crate::token::TokenOutcome;
    use crate::values::GrantId;

    /// A harness with user `u1` and client `c1` (with `grace` seconds of grace).
    fn setup(grace: i64) -> (TokenHarness, Registered) {
        let h = TokenHarness::default();
        h.store.add_user("u1");
        let mut c = fakes::client("c1");
        c.refresh_grace_seconds = grace;
        let reg = h.register(c);
        (h, reg)
    }

    async fn refresh(
        h: &TokenHarness,
        c: &Registered,
        rt: &str,
        now: DateTime<Utc>,
    ) -> TokenOutcome {
        let form = [("grant_type", "refresh_token"), ("refresh_token", rt)];
        h.token(c.creds(), &form, now).await
    }

    /// The refresh token of a successful answer.
    fn rt(o: &TokenOutcome) -> String {
        let body = answer(o).expect("a token response");
        body["refresh_token"]
            .as_str()
            .expect("a refresh token")
            .to_owned()
    }

    async fn grant_revoked(h: &TokenHarness) -> bool {
        let g1 = GrantId::parse("g1").unwrap();
        h.store.is_grant_revoked(&g1).await.unwrap()
    }

    #[tokio::test]
    async fn rotation_issues_a_new_pair_and_an_issue_event_rfc9700_4_14_2() {
        let (h, c) = setup(0);
        let t0 = Utc::now();
        let first = h.store.add_refresh("c1", "g1", t0);
        let out = refresh(&h, &c, &first, t0).await;
        let second = rt(&out);
        assert_ne!(first, second);
        let body = answer(&out).unwrap();
        assert!(body["id_token"].is_string(), "openid was granted");
        assert_eq!(out.events[0].action, "token.issue");
        assert_eq!(out.events[0].details["grant_type"], "refresh_token");
        assert_eq!(out.events[0].details["grant_id"], "g1");
        let old = h.store.refresh_record(&first).unwrap();
        assert_eq!(
            old.replaced_by,
            Some(Secret::from_presented(&second).hash())
        );
    }

    /// The grant's `claims` request (OIDC Core §5.5) outlives the code: a refreshed ID token
    /// releases what it names, read with the refresh token.
    #[tokio::test]
    async fn a_refreshed_id_token_carries_the_claims_the_grant_requested() {
        let (h, c) = setup(0);
        let t0 = Utc::now();
        let first = h.store.add_refresh("c1", "g1", t0);
        let plain = answer(&refresh(&h, &c, &first, t0).await).unwrap();
        let id = claims_of(plain["id_token"].as_str().unwrap());
        assert!(id.get("preferred_username").is_none(), "{id}");

        let asked = ClaimsRequest::parse(r#"{"id_token":{"preferred_username":null}}"#).unwrap();
        let g1 = GrantId::parse("g1").unwrap();
        h.store.save_claims_request(&g1, &asked, t0).await.unwrap();
        let second = plain["refresh_token"].as_str().unwrap();
        let body = answer(&refresh(&h, &c, second, t0).await).unwrap();
        let id = claims_of(body["id_token"].as_str().unwrap());
        assert_eq!(id["preferred_username"], "u1");
    }

    #[tokio::test]
    async fn refresh_reuse_revokes_the_family_rfc9700_4_14_2() {
        let (h, c) = setup(0);
        let t0 = Utc::now();
        let first = h.store.add_refresh("c1", "g1", t0);
        let second = rt(&refresh(&h, &c, &first, t0).await);
        let reuse = refresh(&h, &c, &first, t0).await;
        assert_eq!(answer(&reuse), Err(ErrorCode::InvalidGrant));
        assert!(grant_revoked(&h).await);
        assert_eq!(reuse.events.len(), 1);
        let e = &reuse.events[0];
        assert_eq!(
            (e.action.as_str(), e.outcome),
            ("token.refresh_reuse", Outcome::Denied)
        );
        assert_eq!(
            (e.target.as_deref(), e.actor.as_deref()),
            (Some("g1"), Some("c1"))
        );
        assert_eq!(
            e.details,
            serde_json::json!({"user_id": "u1", "grant_revoked": true})
        );
        // The newest token of the family is dead too.
        let out = refresh(&h, &c, &second, t0).await;
        assert_eq!(answer(&out), Err(ErrorCode::InvalidGrant));
        assert!(h.store.family("g1").iter().all(|r| r.revoked));
    }

    #[tokio::test]
    async fn a_grace_period_retry_gets_the_same_pair_rfc9700_4_14_2() {
        let (h, c) = setup(30);
        let t0 = Utc::now();
        let first = h.store.add_refresh("c1", "g1", t0);
        let lost = answer(&refresh(&h, &c, &first, t0).await).unwrap();
        let retry = refresh(&h, &c, &first, t0 + Duration::seconds(5)).await;
        assert!(retry.events.iter().all(|e| e.action == "token.issue"));
        let retried = answer(&retry).unwrap();
        assert_eq!(lost["refresh_token"], retried["refresh_token"]);
        assert_eq!(lost["access_token"], retried["access_token"]);
        assert_eq!(
            retried["expires_in"],
            lost["expires_in"].as_i64().unwrap() - 5
        );
        assert!(!grant_revoked(&h).await);
        // The recovered token works; afterwards the first one is no longer the immediate
        // predecessor of a live token, so presenting it is reuse.
        let third = rt(&refresh(&h, &c, &rt(&retry), t0 + Duration::seconds(6)).await);
        let late = refresh(&h, &c, &first, t0 + Duration::seconds(7)).await;
        assert_eq!(answer(&late), Err(ErrorCode::InvalidGrant));
        assert!(grant_revoked(&h).await);
        assert!(answer(&refresh(&h, &c, &third, t0).await).is_err());
    }

    #[tokio::test]
    async fn a_retry_after_the_grace_period_revokes_the_family_rfc9700_4_14_2() {
        let (h, c) = setup(30);
        let t0 = Utc::now();
        let first = h.store.add_refresh("c1", "g1", t0);
        let second = rt(&refresh(&h, &c, &first, t0).await);
        let late = refresh(&h, &c, &first, t0 + Duration::seconds(30)).await;
        assert_eq!(answer(&late), Err(ErrorCode::InvalidGrant));
        assert_eq!(late.events[0].action, "token.refresh_reuse");
        assert!(grant_revoked(&h).await);
        assert!(answer(&refresh(&h, &c, &second, t0).await).is_err());
    }

    #[tokio::test]
    async fn a_token_without_rotation_salt_gets_no_grace_rfc9700_4_14_2() {
        // Issued before grace retries were derivable (or while the client had none).
        let (h, c) = setup(30);
        let t0 = Utc::now();
        let token = Secret::generate();
        let mut rec = fakes::refresh_record("c1", "g1", t0);
        rec.token_hash = token.hash();
        h.store.insert_refresh(&rec).await.unwrap();
        let second = rt(&refresh(&h, &c, token.expose(), t0).await);
        let again = refresh(&h, &c, token.expose(), t0 + Duration::seconds(1)).await;
        assert_eq!(answer(&again), Err(ErrorCode::InvalidGrant));
        assert!(grant_revoked(&h).await);
        assert!(answer(&refresh(&h, &c, &second, t0).await).is_err());
    }

    #[tokio::test]
    async fn a_token_of_a_revoked_grant_is_refused_even_if_not_marked_rfc7009_2_1() {
        let (h, c) = setup(0);
        let t0 = Utc::now();
        // As if it had been inserted by a refresh racing with the revocation.
        let g1 = GrantId::parse("g1").unwrap();
        h.store.revoke_grant(&g1, t0).await.unwrap();
        let late = h.store.add_refresh("c1", "g1", t0);
        assert!(!h.store.refresh_record(&late).unwrap().revoked);
        let out = refresh(&h, &c, &late, t0).await;
        assert_eq!(answer(&out), Err(ErrorCode::InvalidGrant));
    }

    #[tokio::test]
    async fn rotation_keeps_the_family_deadline_rfc9700_4_14_2() {
        let h = TokenHarness::default();
        h.store.add_user("u1");
        let mut client = fakes::client("c1");
        client.refresh_idle_ttl = Some(600);
        client.refresh_absolute_ttl = Some(1000);
        let c = h.register(client);
        let t0 = Utc::now();
        let mut rec = fakes::refresh_record("c1", "g1", t0);
        let token = Secret::generate();
        rec.token_hash = token.hash();
        rec.family_expires_at = Some(t0 + Duration::seconds(1000));
        rec.expires_at = t0 + Duration::seconds(600);
        h.store.insert_refresh(&rec).await.unwrap();
        let next = rt(&refresh(&h, &c, token.expose(), t0 + Duration::seconds(500)).await);
        let next_rec = h.store.refresh_record(&next).unwrap();
        assert_eq!(next_rec.expires_at, t0 + Duration::seconds(1000));
        assert_eq!(next_rec.family_expires_at, rec.family_expires_at);
        let out = refresh(&h, &c, &next, t0 + Duration::seconds(1000)).await;
        assert_eq!(answer(&out), Err(ErrorCode::InvalidGrant));
    }

    #[tokio::test]
    async fn scope_may_narrow_but_never_widen_and_a_refusal_keeps_the_token_rfc6749_6() {
        let (h, c) = setup(0);
        let t0 = Utc::now();
        let first = h.store.add_refresh("c1", "g1", t0);
        let wide = [
            ("grant_type", "refresh_token"),
            ("refresh_token", first.as_str()),
            ("scope", "openid offline_access email"),
        ];
        let out = h.token(c.creds(), &wide, t0).await;
        assert_eq!(answer(&out), Err(ErrorCode::InvalidScope));
        let narrow = [
            ("grant_type", "refresh_token"),
            ("refresh_token", first.as_str()),
            ("scope", "offline_access"),
        ];
        let out = h.token(c.creds(), &narrow, t0).await;
        assert_eq!(answer(&out).unwrap()["scope"], "offline_access");
        // Back up to the granted scope is allowed.
        let back = rt(&out);
        let again = [
            ("grant_type", "refresh_token"),
            ("refresh_token", back.as_str()),
            ("scope", "openid offline_access"),
        ];
        let out = h.token(c.creds(), &again, t0).await;
        assert_eq!(answer(&out).unwrap()["scope"], "offline_access openid");
    }

    #[tokio::test]
    async fn another_clients_attempt_does_not_burn_the_token_rfc6749_6() {
        let (h, c) = setup(0);
        let other = h.register(fakes::client("c2"));
        let t0 = Utc::now();
        let first = h.store.add_refresh("c1", "g1", t0);
        let out = refresh(&h, &other, &first, t0).await;
        assert_eq!(answer(&out), Err(ErrorCode::InvalidGrant));
        assert!(out.events.is_empty());
        assert!(answer(&refresh(&h, &c, &first, t0).await).is_ok());
    }
}
