//! The device authorization grant at the token endpoint (RFC 8628 §3.4–3.5).
//!
//! The device polls with its `device_code` (stored only as a SHA-256); the answers are, in
//! this order: unknown or another client's code `invalid_grant`; past its lifetime
//! `expired_token`; already redeemed `invalid_grant` (single use); denied `access_denied`;
//! approved: tokens, exactly as the authorization code grant issues them (access token, ID
//! token with `openid`, refresh token with `offline_access` for a client allowed the refresh
//! grant), after one conditional update marked it consumed. While pending, a poll sooner than
//! the interval after the previous one is `slow_down` and adds [`SLOW_DOWN_STEP`] seconds to
//! the interval for every later poll (§3.5); otherwise `authorization_pending`. Every poll
//! of a pending request is recorded.

use chrono::{DateTime, Utc};

use crate::client::{Client, GrantType};
use crate::device::{DeviceAuthorization, DeviceStatus, DeviceStore, SLOW_DOWN_STEP};
use crate::error::{ErrorCode, OAuthError};
use crate::grant::mint::{Issued, Minter, TokenResponse, UserGrant, live_user, new_jti};
use crate::grant::outcome::Refusal;
use crate::grant::rotation::{Family, RefreshLifetimes};
use crate::params::Params;
use crate::ports::{GrantStore, TokenSigner, UserStore};
use crate::secret::Secret;
use crate::tenant::TenantStore;
use crate::values::GrantId;

/// `grant_type=urn:ietf:params:oauth:grant-type:device_code` (RFC 8628 §3.4). Holds the
/// device code: no `Debug`.
pub struct DeviceCodeRequest {
    pub device_code: Secret,
}

impl DeviceCodeRequest {
    pub fn parse(p: &Params) -> Result<Self, OAuthError> {
        Ok(Self {
            device_code: Secret::from_presented(p.require("device_code")?),
        })
    }
}

/// What the grant reads and writes.
pub trait DeviceGrantStore: DeviceStore + UserStore + GrantStore {}
impl<T: DeviceStore + UserStore + GrantStore> DeviceGrantStore for T {}

/// One poll of `client` with its device code.
pub async fn poll<S, T, K>(
    store: &S,
    tenants: &T,
    mint: &Minter<'_, K>,
    client: &Client,
    req: DeviceCodeRequest,
    now: DateTime<Utc>,
) -> Result<TokenResponse, Refusal>
where
    S: DeviceGrantStore,
    T: TenantStore,
    K: TokenSigner,
{
    let hash = req.device_code.hash();
    let invalid = |d: &'static str| Refusal::from(OAuthError::invalid_grant(d));
    let record = store
        .find_device(&hash)
        .await?
        .filter(|r| r.client_id == client.id)
        .ok_or_else(|| invalid("the device code is invalid"))?;
    if record.expires_at <= now {
        return Err(code(ErrorCode::ExpiredToken, "the device code has expired"));
    }
    match record.status {
        DeviceStatus::Consumed => Err(invalid("the device code has already been used")),
        DeviceStatus::Denied => Err(code(ErrorCode::AccessDenied, "the user denied the request")),
        DeviceStatus::Pending => Err(pending(store, &record, now).await),
        DeviceStatus::Approved => {
            if !store.consume_device(&hash).await? {
                return Err(invalid("the device code has already been used"));
            }
            issue(store, tenants, mint, client, record, now).await
        }
    }
}

fn code(c: ErrorCode, d: &'static str) -> Refusal {
    OAuthError::new(c, d).into()
}

/// The answer to a poll of a pending request: `slow_down` (and a longer interval) when it
/// came sooner than the interval after the previous one, else `authorization_pending`.
async fn pending<S: DeviceStore>(
    store: &S,
    record: &DeviceAuthorization,
    now: DateTime<Utc>,
) -> Refusal {
    let too_fast = record
        .last_polled_at
        .is_some_and(|last| now < last + chrono::Duration::seconds(record.interval));
    let interval = if too_fast {
        record.interval + SLOW_DOWN_STEP
    } else {
        record.interval
    };
    if let Err(e) = store
        .record_device_poll(&record.device_code_hash, now, interval)
        .await
    {
        return e.into();
    }
    if too_fast {
        code(
            ErrorCode::SlowDown,
            "polling too fast: wait 5 more seconds between requests",
        )
    } else {
        code(
            ErrorCode::AuthorizationPending,
            "the user has not yet approved the request",
        )
    }
}

/// The tokens of an approved (and now consumed) device authorization.
async fn issue<S, T, K>(
    store: &S,
    tenants: &T,
    mint: &Minter<'_, K>,
    client: &Client,
    record: DeviceAuthorization,
    now: DateTime<Utc>,
) -> Result<TokenResponse, Refusal>
where
    S: DeviceGrantStore,
    T: TenantStore,
    K: TokenSigner,
{
    let gone = || {
        Refusal::from(OAuthError::invalid_grant(
            "the user no longer exists or is disabled",
        ))
    };
    let user_id = record.user_id.as_ref().ok_or_else(gone)?;
    let user = live_user(store, tenants, user_id).await?.ok_or_else(gone)?;
    let auth_time = record.auth_time.unwrap_or(now);
    let grant_id = GrantId::generate();
    let grant = UserGrant {
        user: &user,
        grant_id: &grant_id,
        scope: &record.scope,
        access_scope: &record.scope,
        resource: None,
        auth_time,
        nonce: None,
        // A device authorization request carries no `claims` parameter (RFC 8628 §3.1).
        claims: None,
    };
    let jti = new_jti();
    let (access_token, id_token) = mint.user_tokens(client, &grant, &jti, now)?;
    let refresh_token = if client.allows_grant(GrantType::RefreshToken)
        && record.scope.contains("offline_access")
    {
        let life = RefreshLifetimes::for_client(mint.policy, client);
        let family = Family {
            grant_id: &grant_id,
            client_id: &client.id,
            user_id: &user.id,
            granted_scope: &record.scope,
            auth_time,
            expires_at: life.family_deadline(None, now),
            // As for codes: public clients' refresh tokens are bound to the proof's key
            // (RFC 9449 §5).
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
        grant_type: GrantType::DeviceCode.as_str(),
        client_id: client.id.to_string(),
        jti,
        sub: user.id.to_string(),
        tenant: user.tenant_id.to_string(),
        grant_id: Some(grant_id.to_string()),
    };
    let ttl = mint.access_ttl(client);
    Ok(TokenResponse {
        refresh_token,
        id_token,
        ..TokenResponse::bearer(access_token, ttl, &record.scope, issued)
    })
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;
    use crate::ErrorCode;
    use crate::device::Decision;
    use crate::fakes::{self, Registered, TokenHarness, answer, claims_of};
    use crate::values::{ScopeSet, UserId};

    /// A harness with user `u1`, device client `tv` and one pending authorization of it.
    fn setup(now: DateTime<Utc>) -> (TokenHarness, Registered, Secret) {
        let h = TokenHarness::default();
        h.store.add_user("u1");
        let mut c = fakes::client("tv");
        c.grant_types = vec![GrantType::DeviceCode, GrantType::RefreshToken];
        let creds = h.register(c);
        let code = Secret::generate();
        h.store.devices.lock().unwrap().push(DeviceAuthorization {
            device_code_hash: code.hash(),
            user_code_hash: Secret::generate().hash(),
            client_id: crate::ClientId::parse("tv").unwrap(),
            scope: ScopeSet::parse("openid offline_access").unwrap(),
            status: DeviceStatus::Pending,
            user_id: None,
            auth_time: None,
            interval: 5,
            last_polled_at: None,
            expires_at: now + Duration::seconds(600),
        });
        (h, creds, code)
    }

    fn form(code: &Secret) -> [(&'static str, &str); 2] {
        [
            ("grant_type", crate::client::GRANT_TYPE_DEVICE_CODE),
            ("device_code", code.expose()),
        ]
    }

    async fn decide(h: &TokenHarness, code: &Secret, approved: bool, now: DateTime<Utc>) {
        let d = Decision {
            approved,
            user_id: UserId::parse("u1").unwrap(),
            auth_time: now,
            scope: ScopeSet::parse("openid offline_access").unwrap(),
        };
        assert!(h.store.decide_device(&code.hash(), &d, now).await.unwrap());
    }

    #[tokio::test]
    async fn pending_then_slow_down_then_tokens_once_rfc8628_3_5() {
        let now = chrono::Utc::now();
        let (h, creds, code) = setup(now);
        let f = form(&code);
        let poll = |at| h.token(creds.creds(), &f, at);
        assert_eq!(
            answer(&poll(now).await),
            Err(ErrorCode::AuthorizationPending)
        );
        let fast = now + Duration::seconds(2);
        assert_eq!(answer(&poll(fast).await), Err(ErrorCode::SlowDown));
        // The interval is 10 s now, counted from the last poll.
        assert_eq!(
            answer(&poll(fast + Duration::seconds(7)).await),
            Err(ErrorCode::SlowDown)
        );
        let later = fast + Duration::seconds(30);
        assert_eq!(
            answer(&poll(later).await),
            Err(ErrorCode::AuthorizationPending)
        );
        decide(&h, &code, true, later).await;
        let out = poll(later).await;
        let body = answer(&out).unwrap();
        assert!(body["refresh_token"].is_string());
        assert_eq!(claims_of(body["id_token"].as_str().unwrap())["sub"], "u1");
        assert_eq!(
            out.events[0].details["grant_type"],
            GrantType::DeviceCode.as_str()
        );
        assert_eq!(answer(&poll(later).await), Err(ErrorCode::InvalidGrant));
    }

    #[tokio::test]
    async fn denied_expired_and_foreign_codes_rfc8628_3_5() {
        let now = chrono::Utc::now();
        let (h, creds, code) = setup(now);
        decide(&h, &code, false, now).await;
        let out = h.token(creds.creds(), &form(&code), now).await;
        assert_eq!(answer(&out), Err(ErrorCode::AccessDenied));
        let (h, creds, code) = setup(now);
        let late = now + Duration::seconds(601);
        let out = h.token(creds.creds(), &form(&code), late).await;
        assert_eq!(answer(&out), Err(ErrorCode::ExpiredToken));
        let mut other = fakes::client("other");
        other.grant_types = vec![GrantType::DeviceCode];
        let other = h.register(other);
        let out = h.token(other.creds(), &form(&code), now).await;
        assert_eq!(answer(&out), Err(ErrorCode::InvalidGrant));
    }
}
