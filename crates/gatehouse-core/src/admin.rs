//! Who may do what on the admin surface (issue 4): the admin scopes carried by API keys and
//! OAuth access tokens (and held by admin users of the console), the rights they grant, and
//! the tenant isolation rule. Pure policy; the admin API and the console both ask it.
//!
//! - `admin:all` grants every right;
//! - `read:<resource>` / `write:<resource>` grant reading / changing one resource; `write`
//!   implies `read` of the same resource;
//! - a caller is confined to its own tenant, except a *platform administrator*: a caller of
//!   the `default` tenant (the operator's home tenant) holding `admin:all`, who may act on every
//!   tenant and on the server-wide signing keys.

use crate::audit::ActorKind;
use crate::values::{ScopeSet, TenantId};

/// The resources of the admin API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Resource {
    Organizations,
    Users,
    Clients,
    ApiKeys,
    Keys,
    Audit,
}

impl Resource {
    pub const ALL: [Resource; 6] = [
        Resource::Organizations,
        Resource::Users,
        Resource::Clients,
        Resource::ApiKeys,
        Resource::Keys,
        Resource::Audit,
    ];

    /// The scope suffix: `read:<this>` / `write:<this>`.
    pub fn as_str(self) -> &'static str {
        match self {
            Resource::Organizations => "organizations",
            Resource::Users => "users",
            Resource::Clients => "clients",
            Resource::ApiKeys => "api_keys",
            Resource::Keys => "keys",
            Resource::Audit => "audit",
        }
    }
}

/// Reading or changing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
}

/// The scope that grants everything.
pub const ADMIN_ALL: &str = "admin:all";

/// Every admin scope, for discovery and validation.
pub fn admin_scopes() -> Vec<String> {
    let mut v = vec![ADMIN_ALL.to_owned()];
    for r in Resource::ALL {
        v.push(format!("read:{}", r.as_str()));
        v.push(format!("write:{}", r.as_str()));
    }
    v
}

/// Whether `scope` is one of the admin scopes.
pub fn is_admin_scope(scope: &str) -> bool {
    scope == ADMIN_ALL
        || Resource::ALL.iter().any(|r| {
            scope
                .strip_prefix("read:")
                .or_else(|| scope.strip_prefix("write:"))
                == Some(r.as_str())
        })
}

/// An authenticated caller of the admin surface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminPrincipal {
    /// The caller's home tenant.
    pub tenant: TenantId,
    pub actor_kind: ActorKind,
    /// For the audit trail: a user or client id, or the API key's name.
    pub actor: String,
    pub scopes: ScopeSet,
}

impl AdminPrincipal {
    /// Whether the caller's scopes grant `access` to `resource`.
    pub fn can(&self, resource: Resource, access: Access) -> bool {
        if self.scopes.contains(ADMIN_ALL) {
            return true;
        }
        let write = format!("write:{}", resource.as_str());
        match access {
            Access::Write => self.scopes.contains(&write),
            Access::Read => {
                self.scopes.contains(&write)
                    || self.scopes.contains(&format!("read:{}", resource.as_str()))
            }
        }
    }

    /// Whether the caller holds any admin scope at all.
    pub fn is_admin(&self) -> bool {
        self.scopes.iter().any(is_admin_scope)
    }

    /// A platform administrator: `admin:all` in the `default` tenant.
    pub fn is_platform_admin(&self) -> bool {
        self.tenant.as_str() == TenantId::DEFAULT && self.scopes.contains(ADMIN_ALL)
    }

    /// Whether the caller may see or touch objects of `tenant`.
    pub fn may_access_tenant(&self, tenant: &TenantId) -> bool {
        self.is_platform_admin() || &self.tenant == tenant
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(tenant: &str, scopes: &str) -> AdminPrincipal {
        AdminPrincipal {
            tenant: TenantId::parse(tenant).unwrap(),
            actor_kind: ActorKind::ApiKey,
            actor: "ci-deploy".into(),
            scopes: ScopeSet::parse(scopes).unwrap(),
        }
    }

    #[test]
    fn admin_all_grants_everything() {
        let p = principal("acme", "admin:all");
        for r in Resource::ALL {
            assert!(p.can(r, Access::Read) && p.can(r, Access::Write), "{r:?}");
        }
    }

    #[test]
    fn write_implies_read_of_the_same_resource_only() {
        let p = principal("acme", "write:users read:audit");
        assert!(p.can(Resource::Users, Access::Read));
        assert!(p.can(Resource::Users, Access::Write));
        assert!(p.can(Resource::Audit, Access::Read));
        assert!(!p.can(Resource::Audit, Access::Write));
        assert!(!p.can(Resource::Clients, Access::Read));
        assert!(!p.can(Resource::ApiKeys, Access::Read));
    }

    #[test]
    fn only_default_tenant_admin_all_crosses_tenants() {
        let acme = TenantId::parse("acme").unwrap();
        let other = TenantId::parse("other").unwrap();
        let tenant_admin = principal("acme", "admin:all");
        assert!(tenant_admin.may_access_tenant(&acme));
        assert!(!tenant_admin.may_access_tenant(&other));
        let reader = principal(TenantId::DEFAULT, "read:users");
        assert!(!reader.is_platform_admin());
        assert!(!reader.may_access_tenant(&other));
        let platform = principal(TenantId::DEFAULT, "admin:all");
        assert!(platform.may_access_tenant(&other));
    }

    #[test]
    fn admin_scope_recognition() {
        assert!(is_admin_scope("admin:all"));
        assert!(is_admin_scope("read:organizations"));
        assert!(is_admin_scope("write:api_keys"));
        assert!(!is_admin_scope("read:files"));
        assert!(!is_admin_scope("openid"));
        assert_eq!(admin_scopes().len(), 13);
        assert!(!principal("acme", "openid profile").is_admin());
    }
}
