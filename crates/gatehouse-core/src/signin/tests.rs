//! The sign-in decision with in-memory fakes: a user directory, a password check that records
//! what it was asked, the throttle counters and an audit sink that keeps the events.

use std::collections::HashSet;
use std::sync::Mutex;

use super::*;
use crate::audit::NoAudit;
use crate::fakes::{client, enabled_tenant};
use crate::tenant::Tenant;
use crate::throttle::Counters;
use crate::values::{ScopeSet, TenantId, UserId};

#[derive(Default)]
struct Directory {
    users: Vec<User>,
    disabled: HashSet<String>,
}

impl UserStore for Directory {
    async fn find_user(&self, id: &UserId) -> Result<Option<User>, StoreError> {
        Ok(self.users.iter().find(|u| &u.id == id).cloned())
    }
    async fn find_user_by_username(
        &self,
        tenant: &TenantId,
        name: &str,
    ) -> Result<Option<User>, StoreError> {
        Ok(self
            .users
            .iter()
            .find(|u| u.username == name && &u.tenant_id == tenant)
            .cloned())
    }
    async fn find_users_named(&self, name: &str, limit: u64) -> Result<Vec<User>, StoreError> {
        let named = self.users.iter().filter(|u| u.username == name);
        Ok(named.take(limit as usize).cloned().collect())
    }
}

impl TenantStore for Directory {
    async fn find_tenant(&self, id: &TenantId) -> Result<Option<Tenant>, StoreError> {
        let mut t = enabled_tenant(id);
        t.disabled = self.disabled.contains(id.as_str());
        Ok(Some(t))
    }
}

/// Stored "hashes" are `plain:<password>`; remembers every hash it was asked to check.
#[derive(Default)]
struct Passwords {
    asked: Mutex<Vec<String>>,
    busy: bool,
}

impl PasswordCheck for Passwords {
    async fn verify(&self, password: &str, phc: &str) -> Result<bool, Overloaded> {
        if self.busy {
            return Err(Overloaded { retry_after: 1 });
        }
        self.asked.lock().unwrap().push(phc.to_owned());
        Ok(phc == format!("plain:{password}"))
    }
}

#[derive(Default)]
struct Trail(Mutex<Vec<NewAuditEvent>>);

impl AuditSink for Trail {
    async fn record(&self, event: NewAuditEvent) {
        self.0.lock().unwrap().push(event);
    }
}

fn user(name: &str, tenant: &str, admin: &str) -> User {
    User {
        id: UserId::parse(&format!("id-{name}")).unwrap(),
        tenant_id: TenantId::parse(tenant).unwrap(),
        username: name.into(),
        email: None,
        password_hash: format!("plain:pw-{name}"),
        created_at: Utc::now(),
        profile: Default::default(),
        admin_scopes: ScopeSet::parse(admin).unwrap(),
    }
}

struct World {
    now: DateTime<Utc>,
    dir: Directory,
    passwords: Passwords,
    counters: Counters,
    trail: Trail,
    policy: ThrottlePolicy,
}

impl World {
    fn new() -> Self {
        let mut dir = Directory::default();
        dir.users.push(user("ann", "acme", ""));
        dir.users.push(user("root", "default", "admin:all"));
        dir.users.push(user("bob", "default", ""));
        dir.users.push(user("gone", "dead", "admin:all"));
        dir.disabled.insert("dead".into());
        Self {
            now: Utc::now(),
            dir,
            passwords: Passwords::default(),
            counters: Counters::default(),
            trail: Trail::default(),
            policy: ThrottlePolicy::default(),
        }
    }

    async fn try_as(
        &self,
        audience: Audience<'_>,
        username: &str,
        password: &str,
        from: &str,
    ) -> Result<Authenticated, SignInError> {
        let signin = SignIn {
            store: &self.dir,
            passwords: &self.passwords,
            failures: &self.counters,
            audit: &self.trail,
            policy: &self.policy,
        };
        let attempt = Attempt {
            username,
            password,
            address: Some(from.parse().unwrap()),
            audience,
            now: self.now,
        };
        signin.attempt(&attempt).await
    }

    fn last_event(&self) -> NewAuditEvent {
        self.trail.0.lock().unwrap().last().cloned().unwrap()
    }

    fn hashes_checked(&self) -> usize {
        self.passwords.asked.lock().unwrap().len()
    }
}

fn acme_app() -> Client {
    let mut c = client("acme-app");
    c.tenant_id = TenantId::parse("acme").unwrap();
    c
}

fn refusal(r: Result<Authenticated, SignInError>) -> Refusal {
    match r {
        Err(SignInError::Refused(r)) => r,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn the_right_password_at_a_client_of_the_users_tenant_signs_in_and_is_audited() {
    let w = World::new();
    let app = acme_app();
    let ok = w
        .try_as(Audience::Client(&app), "ann", "pw-ann", "192.0.2.1")
        .await
        .unwrap();
    assert_eq!(ok.user().username, "ann");
    let e = w.last_event();
    assert_eq!((e.action.as_str(), e.outcome), ("login", Outcome::Success));
    assert_eq!(e.actor.as_deref(), Some("id-ann"));
    assert_eq!(e.tenant_id.as_deref(), Some("acme"));
    assert_eq!(e.details["client_id"], "acme-app");
}

#[tokio::test]
async fn a_user_of_another_tenant_is_treated_as_unknown_at_a_client() {
    let w = World::new();
    let app = acme_app();
    // bob's own password, at acme's client: checked against the dummy hash, never bob's.
    let r = w
        .try_as(Audience::Client(&app), "bob", "pw-bob", "192.0.2.1")
        .await;
    assert_eq!(refusal(r), Refusal::InvalidCredentials);
    assert_eq!(*w.passwords.asked.lock().unwrap(), [dummy_hash()]);
    let e = w.last_event();
    assert_eq!(e.outcome, Outcome::Failure);
    assert_eq!(e.tenant_id.as_deref(), Some("acme"));
    assert_eq!(e.actor.as_deref(), Some("bob"));
    assert_eq!(e.details["reason"], "invalid_credentials");
}

/// A user named `name` in `tenant` whose password is `pw-<name>-<tenant>`.
fn namesake(name: &str, tenant: &str, admin: &str) -> User {
    let mut u = user(name, tenant, admin);
    u.id = UserId::parse(&format!("id-{name}-{tenant}")).unwrap();
    u.password_hash = format!("plain:pw-{name}-{tenant}");
    u
}

#[tokio::test]
async fn a_username_is_resolved_in_the_clients_tenant_when_another_tenant_has_it_too() {
    let mut w = World::new();
    w.dir.users.push(namesake("bob", "acme", ""));
    let app = acme_app();
    // acme's bob signs in at acme's client with acme's password ...
    let ok = w
        .try_as(Audience::Client(&app), "bob", "pw-bob-acme", "192.0.2.1")
        .await
        .unwrap();
    assert_eq!(ok.user().id.as_str(), "id-bob-acme");
    // ... and the default tenant's bob's password is only a wrong password there.
    let r = w
        .try_as(Audience::Client(&app), "bob", "pw-bob", "192.0.2.2")
        .await;
    assert_eq!(refusal(r), Refusal::InvalidCredentials);
}

#[tokio::test]
async fn the_console_resolves_a_name_in_the_named_tenant_then_the_platform_then_a_unique_one() {
    let mut w = World::new();
    w.dir.users.push(namesake("root", "acme", "admin:all"));
    w.dir.users.push(namesake("ops", "acme", "admin:all"));
    w.dir.users.push(namesake("ops", "beta", "admin:all"));
    w.dir.users.push(namesake("carol", "beta", "admin:all"));
    let acme = TenantId::parse("acme").unwrap();
    let beta = TenantId::parse("beta").unwrap();
    // No tenant on the form: the platform's root, not acme's.
    let ok = w
        .try_as(Audience::Console(None), "root", "pw-root", "192.0.2.1")
        .await
        .unwrap();
    assert_eq!(ok.user().tenant_id.as_str(), "default");
    // acme's root when the form names acme; the platform password is wrong there.
    let ok = w
        .try_as(
            Audience::Console(Some(&acme)),
            "root",
            "pw-root-acme",
            "192.0.2.1",
        )
        .await
        .unwrap();
    assert_eq!(ok.user().id.as_str(), "id-root-acme");
    let r = w
        .try_as(
            Audience::Console(Some(&acme)),
            "root",
            "pw-root",
            "192.0.2.2",
        )
        .await;
    assert_eq!(refusal(r), Refusal::InvalidCredentials);
    // A name only one tenant has needs no tenant; a shared one does, and fails like unknown.
    let ok = w
        .try_as(
            Audience::Console(None),
            "carol",
            "pw-carol-beta",
            "192.0.2.3",
        )
        .await
        .unwrap();
    assert_eq!(ok.user().tenant_id, beta);
    let asked = w.hashes_checked();
    let r = w
        .try_as(Audience::Console(None), "ops", "pw-ops-acme", "192.0.2.4")
        .await;
    assert_eq!(refusal(r), Refusal::InvalidCredentials);
    assert_eq!(w.passwords.asked.lock().unwrap()[asked], dummy_hash());
    let ok = w
        .try_as(
            Audience::Console(Some(&beta)),
            "ops",
            "pw-ops-beta",
            "192.0.2.4",
        )
        .await
        .unwrap();
    assert_eq!(ok.user().id.as_str(), "id-ops-beta");
}

#[tokio::test]
async fn an_unknown_user_costs_one_dummy_hash_and_a_wrong_password_fails_alike() {
    let w = World::new();
    let app = acme_app();
    let unknown = w
        .try_as(Audience::Client(&app), "nobody", "x", "192.0.2.1")
        .await;
    let wrong = w
        .try_as(Audience::Client(&app), "ann", "pw-bob", "192.0.2.1")
        .await;
    assert_eq!(refusal(unknown), Refusal::InvalidCredentials);
    assert_eq!(refusal(wrong), Refusal::InvalidCredentials);
    assert_eq!(
        *w.passwords.asked.lock().unwrap(),
        [dummy_hash(), "plain:pw-ann"]
    );
}

#[tokio::test]
async fn the_console_admits_only_holders_of_an_admin_scope() {
    let w = World::new();
    let r = w
        .try_as(Audience::Console(None), "bob", "pw-bob", "192.0.2.1")
        .await;
    assert_eq!(refusal(r), Refusal::NotAdmin);
    let e = w.last_event();
    assert_eq!(
        (e.action.as_str(), e.outcome),
        ("console.sign_in", Outcome::Failure)
    );
    assert_eq!(e.target.as_deref(), Some("id-bob"));
    assert_eq!(e.details["reason"], "not_admin");
    let ok = w
        .try_as(Audience::Console(None), "root", "pw-root", "192.0.2.1")
        .await
        .unwrap();
    assert_eq!(ok.into_user().username, "root");
    assert_eq!(w.last_event().outcome, Outcome::Success);
}

#[tokio::test]
async fn a_disabled_tenants_admin_is_refused_even_with_the_right_password() {
    let w = World::new();
    let r = w
        .try_as(Audience::Console(None), "gone", "pw-gone", "192.0.2.1")
        .await;
    assert_eq!(refusal(r), Refusal::TenantDisabled);
    assert_eq!(w.last_event().tenant_id.as_deref(), Some("dead"));
}

#[tokio::test]
async fn a_throttled_address_is_refused_before_any_password_is_hashed() {
    let w = World::new();
    for _ in 0..6 {
        let r = w
            .try_as(Audience::Console(None), "root", "guess", "203.0.113.9")
            .await;
        assert_eq!(refusal(r), Refusal::InvalidCredentials);
    }
    let hashed = w.hashes_checked();
    let r = w
        .try_as(Audience::Console(None), "root", "pw-root", "203.0.113.9")
        .await;
    assert!(
        matches!(r, Err(SignInError::Throttled { retry_after: 2 })),
        "{r:?}"
    );
    assert_eq!(w.hashes_checked(), hashed, "no hash while throttled");
    let e = w.last_event();
    assert_eq!(e.outcome, Outcome::Denied);
    assert_eq!(e.details["reason"], "rate_limited");
    // The same user from another address is not affected; nor is /login for the same address
    // and another user (its own key is clean, and the address key has free failures left).
    w.try_as(Audience::Console(None), "root", "pw-root", "198.51.100.1")
        .await
        .unwrap();
    let app = acme_app();
    w.try_as(Audience::Client(&app), "ann", "pw-ann", "203.0.113.9")
        .await
        .unwrap();
}

#[tokio::test]
async fn successes_are_never_counted() {
    let w = World::new();
    let app = acme_app();
    for _ in 0..100 {
        w.try_as(Audience::Client(&app), "ann", "pw-ann", "192.0.2.1")
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn a_busy_password_check_is_neither_a_failure_nor_a_success() {
    let mut w = World::new();
    w.passwords.busy = true;
    for _ in 0..10 {
        let r = w
            .try_as(Audience::Console(None), "root", "guess", "192.0.2.1")
            .await;
        assert!(
            matches!(r, Err(SignInError::Busy { retry_after: 1 })),
            "{r:?}"
        );
    }
    w.passwords.busy = false;
    w.try_as(Audience::Console(None), "root", "pw-root", "192.0.2.1")
        .await
        .unwrap();
}

#[tokio::test]
async fn impossible_usernames_are_not_hashed_and_the_trail_holds_a_bounded_name_and_no_password() {
    let w = World::new();
    let long = "x".repeat(10_000);
    let r = w
        .try_as(Audience::Console(None), &long, "secret-guess", "192.0.2.1")
        .await;
    assert_eq!(refusal(r), Refusal::InvalidCredentials);
    assert_eq!(w.hashes_checked(), 0);
    let text = serde_json::to_string(&*w.trail.0.lock().unwrap()).unwrap();
    assert!(!text.contains("secret-guess"));
    let e = w.last_event();
    assert_eq!(
        e.details["username"].as_str().unwrap().len(),
        MAX_TRIED_USERNAME
    );
}

#[tokio::test]
async fn the_no_audit_sink_is_accepted() {
    let w = World::new();
    let signin = SignIn {
        store: &w.dir,
        passwords: &w.passwords,
        failures: &w.counters,
        audit: &NoAudit,
        policy: &w.policy,
    };
    let attempt = Attempt {
        username: "root",
        password: "pw-root",
        address: None,
        audience: Audience::Console(None),
        now: Utc::now(),
    };
    assert!(signin.attempt(&attempt).await.is_ok());
}
