//! Who performs an operator action ([`Actor`]: the policy's principal plus the facts the audit
//! trail records) and the [`Context`] every operation runs in.

use chrono::{DateTime, Utc};
use gatehouse_core::TenantId;
use gatehouse_core::admin::{
    Access, AdminPrincipal, Denied, Operation, Principal, Resource, authorize,
};
use gatehouse_core::audit::{ActorKind, NewAuditEvent};
use gatehouse_core::field::{Field, FieldError};
use gatehouse_store::Store;

use crate::error::{Object, OpError};

/// Who performs an action: the principal the policy judges, and where the request came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub principal: Principal,
    pub source_ip: Option<String>,
    pub request_id: Option<String>,
}

impl Actor {
    /// The operator at the local CLI, named by their login name (`USER`, else `LOGNAME`, else
    /// `cli`).
    pub fn operator() -> Self {
        let login = std::env::var("USER")
            .or_else(|_| std::env::var("LOGNAME"))
            .ok()
            .filter(|u| !u.is_empty())
            .unwrap_or_else(|| "cli".to_owned());
        Self {
            principal: Principal::LocalOperator { login },
            source_ip: None,
            request_id: None,
        }
    }

    /// A caller of the admin API or the console.
    pub fn admin(
        principal: AdminPrincipal,
        source_ip: Option<String>,
        request_id: Option<String>,
    ) -> Self {
        Self {
            principal: Principal::Admin(principal),
            source_ip,
            request_id,
        }
    }

    /// The tenant named by a request, or the actor's own when none is named.
    pub fn tenant_or_home(&self, given: Option<&str>) -> Result<TenantId, OpError> {
        match given {
            None => Ok(self.principal.home_tenant()),
            Some(t) => {
                TenantId::parse(t).map_err(|e| OpError::Invalid(FieldError::new(Field::Tenant, e)))
            }
        }
    }

    /// How the audit trail names the actor.
    fn identity(&self) -> (ActorKind, Option<String>) {
        match &self.principal {
            Principal::LocalOperator { login } => (ActorKind::Operator, Some(login.clone())),
            Principal::Admin(p) => (p.actor_kind, Some(p.actor.clone())),
        }
    }
}

/// An optimistic-concurrency check on the object as currently stored (for example an HTTP
/// `If-Match`): `false` refuses the change with [`OpError::Stale`] before anything is written.
pub type Precondition<'a, T> = Option<&'a dyn Fn(&T) -> bool>;

/// What every operation runs with: the storage, the actor and the time of the request.
#[derive(Clone, Copy)]
pub struct Context<'a> {
    pub store: &'a Store,
    pub actor: &'a Actor,
    pub now: DateTime<Utc>,
}

impl<'a> Context<'a> {
    pub fn new(store: &'a Store, actor: &'a Actor, now: DateTime<Utc>) -> Self {
        Self { store, actor, now }
    }

    /// Asks the core policy; an object of another tenant is reported as `what` `id`.
    pub(crate) fn authorize(
        &self,
        op: Operation<'_>,
        what: Object,
        id: &str,
    ) -> Result<(), OpError> {
        authorize(&self.actor.principal, op).map_err(|d| match d {
            Denied::OtherTenant => OpError::OtherTenant {
                what,
                id: id.to_owned(),
            },
            d => OpError::Denied(d),
        })
    }

    /// Asks the policy about an operation in `tenant` (reported as the tenant when refused).
    pub(crate) fn authorize_in(&self, op: Operation<'_>, tenant: &TenantId) -> Result<(), OpError> {
        self.authorize(op, Object::Tenant, tenant.as_str())
    }

    /// Asks the policy about an operation that addresses no tenant.
    pub(crate) fn authorize_global(&self, op: Operation<'_>) -> Result<(), OpError> {
        self.authorize(op, Object::Tenant, "")
    }

    /// The caller's right on `resource` at all, asked in its own tenant: checked before an
    /// object is looked up, so a caller without the right learns nothing about which ids exist.
    pub(crate) fn require(&self, resource: Resource, access: Access) -> Result<(), OpError> {
        let home = self.actor.principal.home_tenant();
        let op = match access {
            Access::Read => Operation::Read(resource, &home),
            Access::Write => Operation::Write(resource, &home),
        };
        self.authorize_in(op, &home)
    }

    /// Fails with [`OpError::UnknownTenant`] unless `tenant` exists.
    pub(crate) async fn existing_tenant(&self, tenant: &TenantId) -> Result<(), OpError> {
        if self.store.tenant_exists(tenant).await? {
            Ok(())
        } else {
            Err(OpError::UnknownTenant(tenant.to_string()))
        }
    }

    /// Appends a successful action of the actor to the audit trail. Details never hold
    /// secrets.
    pub async fn audit(
        &self,
        tenant: Option<&str>,
        action: &str,
        target: &str,
        details: serde_json::Value,
    ) -> Result<(), OpError> {
        let mut e = NewAuditEvent::operator(self.now, tenant, action, target, details);
        let (kind, name) = self.actor.identity();
        e.actor_kind = kind;
        e.actor = name;
        e.source_ip = self.actor.source_ip.clone();
        e.request_id = self.actor.request_id.clone();
        self.store.audit().append(&e).await?;
        Ok(())
    }
}
