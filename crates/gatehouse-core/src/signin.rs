//! Password sign-in, decided once for every audience: the login page of the authorization
//! endpoint (OIDC Core §3.1.2.3 "authenticate the End-User", for an OAuth client of a tenant)
//! and the admin console.
//!
//! One attempt runs in this order, and each step is a rule of its own:
//! 1. throttling ([`crate::throttle`]): an address that has been failing waits, and is refused
//!    *before* any password hash is computed;
//! 2. the user is looked up by username, which is unique only within a tenant
//!    ([`lookup`]). For a client audience the name is resolved in the client's tenant, so
//!    another tenant's user is exactly like an unknown one: checked against the dummy hash,
//!    refused as `invalid_credentials` (a tenant's client never confirms a password of another
//!    tenant's user). For the console the form may name the tenant; when it does not, the
//!    `default` (platform) tenant is asked first, then a name that exactly one tenant has —
//!    a name several tenants share, without a tenant on the form, is unknown;
//! 3. the password is verified through the [`PasswordCheck`] port (the server's bounded
//!    hashing pool, which may answer "busy"); an unknown user is checked against
//!    [`crate::password::dummy_hash`] so that timing does not reveal which usernames exist;
//! 4. the audience's rules: the user's tenant is enabled, and for the console the user holds an
//!    admin scope ([`crate::admin::is_admin_scope`]);
//! 5. the outcome is counted (a failure under both throttle keys, a success clears the
//!    username-at-address key) and audited.
//!
//! Audit events: action `login` (for the login page) or `console.sign_in`; success, failure
//! with its reason, and throttled (`denied`, reason `rate_limited`). The username tried is
//! recorded at most [`MAX_TRIED_USERNAME`] characters long; the password never.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use serde_json::json;

use crate::admin::is_admin_scope;
use crate::audit::{ActorKind, AuditSink, NewAuditEvent, Outcome};
use crate::client::Client;
use crate::error::StoreError;
use crate::password::dummy_hash;
use crate::ports::UserStore;
use crate::tenant::{TenantStore, tenant_enabled};
use crate::throttle::{self, FailureStore, Subject, ThrottlePolicy};
use crate::user::{User, validate_username};
use crate::values::TenantId;

/// Longest username kept in the audit trail, in characters.
pub const MAX_TRIED_USERNAME: usize = 256;

/// Who the user signs in to.
#[derive(Debug, Clone, Copy)]
pub enum Audience<'a> {
    /// The login page of the authorization endpoint, for this client: the user must belong to
    /// the client's tenant.
    Client(&'a Client),
    /// The admin console: the user must hold an admin scope. The tenant named on the
    /// sign-in form, if any (see [`lookup`]).
    Console(Option<&'a TenantId>),
}

impl Audience<'_> {
    /// The audit action.
    pub fn action(&self) -> &'static str {
        match self {
            Audience::Client(_) => "login",
            Audience::Console(_) => "console.sign_in",
        }
    }

    /// Whether a user of this tenant can sign in here at all (else: as if unknown).
    fn admits_tenant_of(&self, user: &User) -> bool {
        match self {
            Audience::Client(c) => c.tenant_id == user.tenant_id,
            Audience::Console(None) => true,
            Audience::Console(Some(t)) => *t == &user.tenant_id,
        }
    }
}

/// One sign-in attempt as the form posted it.
pub struct Attempt<'a> {
    pub username: &'a str,
    pub password: &'a str,
    /// The client address (behind trusted proxies only); `None` when unknown.
    pub address: Option<IpAddr>,
    pub audience: Audience<'a>,
    pub now: DateTime<Utc>,
}

/// Why a sign-in was refused (the audit `reason`). The user is told only "invalid username or
/// password", whatever the reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Unknown user (or another tenant's, for a client), or a wrong password.
    InvalidCredentials,
    /// Right password, but the console needs an admin scope.
    NotAdmin,
    /// Right password, but the user's tenant is disabled.
    TenantDisabled,
}

impl Refusal {
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::InvalidCredentials => "invalid_credentials",
            Refusal::NotAdmin => "not_admin",
            Refusal::TenantDisabled => "tenant_disabled",
        }
    }
}

/// The failure of a sign-in attempt.
#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    /// Too many recent failures from this address (for this username, or for any): wait.
    #[error("too many failed sign-ins; retry in {retry_after} s")]
    Throttled { retry_after: u64 },
    /// Every password-hashing slot is taken and the queue is full: retry soon.
    #[error("password checks are at capacity; retry in {retry_after} s")]
    Busy { retry_after: u64 },
    /// Refused; see [`Refusal`].
    #[error("sign-in refused: {}", .0.as_str())]
    Refused(Refusal),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The password check is at capacity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Overloaded {
    /// Seconds after which a retry is likely to be served.
    pub retry_after: u64,
}

/// Verifies a password against a stored PHC string; the server supplies a bounded pool. A
/// malformed stored hash verifies nothing (`Ok(false)`).
pub trait PasswordCheck {
    #[allow(async_fn_in_trait)]
    async fn verify(&self, password: &str, phc: &str) -> Result<bool, Overloaded>;
}

/// A user who has just proven their password to an audience and passed its rules. Only
/// [`SignIn::attempt`] makes one.
#[derive(Debug)]
pub struct Authenticated {
    user: User,
}

impl Authenticated {
    pub fn user(&self) -> &User {
        &self.user
    }
    pub fn into_user(self) -> User {
        self.user
    }

    #[cfg(test)]
    pub(crate) fn for_test(user: User) -> Self {
        Self { user }
    }
}

/// What a sign-in needs from the outside world.
pub struct SignIn<'a, S, P, F, A> {
    pub store: &'a S,
    pub passwords: &'a P,
    pub failures: &'a F,
    pub audit: &'a A,
    pub policy: &'a ThrottlePolicy,
}

impl<S, P, F, A> SignIn<'_, S, P, F, A>
where
    S: UserStore + TenantStore,
    P: PasswordCheck,
    F: FailureStore,
    A: AuditSink,
{
    /// Decides one attempt (see the module documentation for the steps).
    pub async fn attempt(&self, a: &Attempt<'_>) -> Result<Authenticated, SignInError> {
        let subject = Subject::new(a.username, a.address);
        if let Some(retry_after) = throttle::check(self.failures, &subject, a.now).await? {
            self.audit.record(throttled_event(a, retry_after)).await;
            return Err(SignInError::Throttled { retry_after });
        }
        // A username no account can have is neither looked up nor hashed (the rule is public).
        let plausible = validate_username(a.username).is_ok();
        let found = match plausible {
            true => lookup(self.store, a).await?,
            false => None,
        };
        let candidate = found.as_ref().filter(|u| a.audience.admits_tenant_of(u));
        let verified = plausible && {
            let phc = candidate.map_or(dummy_hash(), |u| u.password_hash.as_str());
            self.passwords
                .verify(a.password, phc)
                .await
                .map_err(|o| SignInError::Busy {
                    retry_after: o.retry_after,
                })?
        };
        let decision = match candidate {
            Some(u) if verified => self.audience_rules(a, u).await?.map(|()| u),
            _ => Err(Refusal::InvalidCredentials),
        };
        match decision {
            Ok(user) => {
                throttle::record_success(self.failures, &subject).await?;
                self.audit.record(success_event(a, user)).await;
                Ok(Authenticated { user: user.clone() })
            }
            Err(refusal) => {
                throttle::record_failure(self.failures, self.policy, &subject, a.now).await?;
                self.audit
                    .record(failure_event(a, found.as_ref(), refusal))
                    .await;
                Err(SignInError::Refused(refusal))
            }
        }
    }

    /// The rules after a verified password ([`admitted`]).
    async fn audience_rules(
        &self,
        a: &Attempt<'_>,
        user: &User,
    ) -> Result<Result<(), Refusal>, StoreError> {
        admitted(self.store, a.audience, user).await
    }
}

/// Whether `user` may be signed in to `audience` now: their tenant is enabled, and for the
/// console they hold an admin scope. Checked at sign-in, and again on every use of a console
/// session, so a disabled tenant or withdrawn admin rights end access at once — one rule for
/// both.
pub async fn admitted<S: TenantStore>(
    store: &S,
    audience: Audience<'_>,
    user: &User,
) -> Result<Result<(), Refusal>, StoreError> {
    if !audience.admits_tenant_of(user) {
        return Ok(Err(Refusal::InvalidCredentials));
    }
    if !tenant_enabled(store, &user.tenant_id).await? {
        return Ok(Err(Refusal::TenantDisabled));
    }
    if matches!(audience, Audience::Console(_)) && !user.admin_scopes.iter().any(is_admin_scope) {
        return Ok(Err(Refusal::NotAdmin));
    }
    Ok(Ok(()))
}

/// The user an attempt names (see the module documentation, step 2).
async fn lookup<S: UserStore>(store: &S, a: &Attempt<'_>) -> Result<Option<User>, StoreError> {
    let tenant = match a.audience {
        Audience::Client(c) => &c.tenant_id,
        Audience::Console(Some(t)) => t,
        Audience::Console(None) => {
            let platform = TenantId::default_tenant();
            if let Some(u) = store.find_user_by_username(&platform, a.username).await? {
                return Ok(Some(u));
            }
            let mut named = store.find_users_named(a.username, 2).await?;
            return Ok(if named.len() == 1 { named.pop() } else { None });
        }
    };
    store.find_user_by_username(tenant, a.username).await
}

/// The username as typed, bounded.
fn tried(a: &Attempt<'_>) -> String {
    a.username.chars().take(MAX_TRIED_USERNAME).collect()
}

fn throttled_event(a: &Attempt<'_>, retry_after: u64) -> NewAuditEvent {
    let action = a.audience.action();
    match a.audience {
        Audience::Client(c) => NewAuditEvent::protocol(
            a.now,
            Some(c.tenant_id.to_string()),
            ActorKind::User,
            Some(tried(a)),
            action,
            None,
            Outcome::Denied,
            json!({ "client_id": c.id.as_str(), "reason": "rate_limited", "retry_after": retry_after }),
        ),
        Audience::Console(_) => NewAuditEvent::protocol(
            a.now,
            None,
            ActorKind::Anonymous,
            None,
            action,
            None,
            Outcome::Denied,
            json!({ "username": tried(a), "reason": "rate_limited", "retry_after": retry_after }),
        ),
    }
}

/// A refusal. For a client it is recorded in the client's tenant; for the console in the
/// tenant of the named user, when there is one.
fn failure_event(a: &Attempt<'_>, found: Option<&User>, refusal: Refusal) -> NewAuditEvent {
    let action = a.audience.action();
    match a.audience {
        Audience::Client(c) => NewAuditEvent::protocol(
            a.now,
            Some(c.tenant_id.to_string()),
            ActorKind::User,
            Some(tried(a)),
            action,
            None,
            Outcome::Failure,
            json!({ "client_id": c.id.as_str(), "reason": refusal.as_str() }),
        ),
        Audience::Console(_) => NewAuditEvent::protocol(
            a.now,
            found.map(|u| u.tenant_id.to_string()),
            ActorKind::Anonymous,
            None,
            action,
            found.map(|u| u.id.to_string()),
            Outcome::Failure,
            json!({ "username": tried(a), "reason": refusal.as_str() }),
        ),
    }
}

fn success_event(a: &Attempt<'_>, user: &User) -> NewAuditEvent {
    let details = match a.audience {
        Audience::Client(c) => json!({ "client_id": c.id.as_str(), "username": user.username }),
        Audience::Console(_) => json!({ "username": user.username }),
    };
    NewAuditEvent::protocol(
        a.now,
        Some(user.tenant_id.to_string()),
        ActorKind::User,
        Some(user.id.to_string()),
        a.audience.action(),
        Some(user.id.to_string()),
        Outcome::Success,
        details,
    )
}

#[cfg(test)]
mod tests;
