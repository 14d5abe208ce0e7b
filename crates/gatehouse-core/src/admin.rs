//! Who may do what on the admin surface (issues 4 and 8): the admin scopes carried by API keys
//! and OAuth access tokens (and held by admin users of the console), the rights they grant,
//! and the one decision every operator action asks for: [`authorize`]. The CLI, the admin API
//! and the console all act through `gatehouse-admin`, which asks this policy before it
//! validates or writes anything, so the three surfaces cannot grant different rights.
//!
//! - `admin:all` grants every right;
//! - `read:<resource>` / `write:<resource>` grant reading / changing one resource; `write`
//!   implies `read` of the same resource;
//! - a caller is confined to its own tenant, except a *platform administrator*: a caller of
//!   the `default` tenant (the operator's home tenant) holding `admin:all`, who may act on every
//!   tenant; creating and governing tenants and rotating the server's signing keys are theirs
//!   alone;
//! - nobody hands on an admin scope they do not hold themselves: not to an API key, not to a
//!   client (its `client_credentials` tokens would carry it), not to a user, not to a trust
//!   (its JWT bearer tokens would carry it);
//! - the operator at the local CLI ([`Principal::LocalOperator`]) holds every right: whoever
//!   can run the binary against the database already holds all of the deployment's secrets.

use crate::audit::ActorKind;
use crate::field::{Field, FieldError};
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

/// Parses admin scopes given for a user (each value may hold several, space-separated): only
/// admin scopes are accepted.
pub fn parse_admin_scopes(values: &[String]) -> Result<ScopeSet, FieldError> {
    let set =
        ScopeSet::parse(&values.join(" ")).map_err(|e| FieldError::new(Field::AdminScopes, e))?;
    let bad: Vec<&str> = set.iter().filter(|s| !is_admin_scope(s)).collect();
    if !bad.is_empty() {
        return Err(FieldError::new(
            Field::AdminScopes,
            format!(
                "not an admin scope: {} (admin scopes are admin:all, read:<resource> and write:<resource> for organizations, users, clients, api_keys, keys, audit)",
                bad.join(" ")
            ),
        ));
    }
    Ok(set)
}

/// Who acts on the admin surface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// The operator at the local command line, named by their login name. Holds every right on
    /// every tenant: whoever runs the binary against the database holds its secrets anyway.
    LocalOperator { login: String },
    /// A caller of the admin API or the console, with the rights of its admin scopes.
    Admin(AdminPrincipal),
}

impl Principal {
    /// The tenant the caller acts in when it names none: its own; the operator's is `default`.
    pub fn home_tenant(&self) -> TenantId {
        match self {
            Principal::LocalOperator { .. } => TenantId::default_tenant(),
            Principal::Admin(p) => p.tenant.clone(),
        }
    }
}

/// What may receive scopes from the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grantee {
    /// A new API key: its scopes.
    ApiKey,
    /// A new client: its allowed scopes, which its `client_credentials` tokens carry.
    Client,
    /// A new user: its admin scopes.
    User,
    /// A new JWT bearer trust: the most its tokens may carry.
    Trust,
}

/// What a caller asks to do, as the policy sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation<'a> {
    /// Read (list, show) objects of a resource in a tenant.
    Read(Resource, &'a TenantId),
    /// Create, change or delete objects of a resource in a tenant.
    Write(Resource, &'a TenantId),
    /// Read objects of a resource of every tenant at once (the whole audit trail).
    ReadEveryTenant(Resource),
    /// Read the caller's own tenant: any admin scope allows it.
    ReadOwnTenant,
    /// Create a tenant.
    CreateTenant,
    /// Disable, enable or delete a tenant, or change its API access, key limit or allowed
    /// scopes.
    GovernTenant(&'a TenantId),
    /// Read the public parts of the server's signing keys.
    ReadSigningKeys,
    /// Make a new signing key active for the whole server.
    RotateSigningKey,
    /// Hand scopes to a new object.
    Grant(Grantee, &'a ScopeSet),
    /// Change, disable, delete, reset the password of, or end the sessions of a user holding
    /// these admin scopes: the caller must hold every one of them, or it could take over an
    /// account stronger than its own.
    ActOnUser(&'a ScopeSet),
}

/// Why the policy refuses an operation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    /// The caller lacks this scope (RFC 6750 §3.1 `insufficient_scope`).
    #[error("this request needs the scope {0}")]
    MissingScope(String),
    /// The object belongs to a tenant the caller may not see; surfaces answer as if it did
    /// not exist, so tenants cannot probe each other.
    #[error("the object belongs to another tenant")]
    OtherTenant,
    /// Only a platform administrator may do this.
    #[error(
        "this request needs the scope {ADMIN_ALL} held by a caller of the {} tenant (platform administrator)",
        TenantId::DEFAULT
    )]
    PlatformAdminOnly,
    /// The caller would hand on an admin scope it does not hold.
    #[error("cannot grant {scope}: the caller does not hold it")]
    CannotGrant { grantee: Grantee, scope: String },
    /// The user acted on holds an admin scope the caller does not hold.
    #[error("the user holds {scope}, which the caller does not hold")]
    Outranked { scope: String },
}

/// The one decision of the admin surface: may `principal` do `op`?
pub fn authorize(principal: &Principal, op: Operation<'_>) -> Result<(), Denied> {
    match principal {
        Principal::LocalOperator { .. } => Ok(()),
        Principal::Admin(p) => p.authorize(op),
    }
}

fn need(p: &AdminPrincipal, resource: Resource, access: Access) -> Result<(), Denied> {
    if p.can(resource, access) {
        return Ok(());
    }
    let verb = match access {
        Access::Read => "read",
        Access::Write => "write",
    };
    Err(Denied::MissingScope(format!(
        "{verb}:{}",
        resource.as_str()
    )))
}

fn platform(p: &AdminPrincipal) -> Result<(), Denied> {
    if p.is_platform_admin() {
        Ok(())
    } else {
        Err(Denied::PlatformAdminOnly)
    }
}

impl AdminPrincipal {
    /// [`authorize`] for an authenticated caller. Rights are checked before tenants, so a
    /// caller lacking the right learns nothing about other tenants' objects.
    pub fn authorize(&self, op: Operation<'_>) -> Result<(), Denied> {
        let tenant = |t: &TenantId| {
            if self.may_access_tenant(t) {
                Ok(())
            } else {
                Err(Denied::OtherTenant)
            }
        };
        match op {
            Operation::Read(r, t) => need(self, r, Access::Read).and_then(|()| tenant(t)),
            Operation::Write(r, t) => need(self, r, Access::Write).and_then(|()| tenant(t)),
            Operation::ReadEveryTenant(r) => {
                need(self, r, Access::Read).and_then(|()| platform(self))
            }
            Operation::ReadOwnTenant if self.is_admin() => Ok(()),
            Operation::ReadOwnTenant => Err(Denied::MissingScope(format!(
                "read:{}",
                Resource::Organizations.as_str()
            ))),
            Operation::CreateTenant | Operation::RotateSigningKey => platform(self),
            Operation::GovernTenant(t) => platform(self).and_then(|()| tenant(t)),
            Operation::ReadSigningKeys => need(self, Resource::Keys, Access::Read),
            Operation::Grant(grantee, scopes) => self.may_grant(grantee, scopes),
            Operation::ActOnUser(held) => {
                self.may_grant(Grantee::User, held).map_err(|d| match d {
                    Denied::CannotGrant { scope, .. } => Denied::Outranked { scope },
                    d => d,
                })
            }
        }
    }

    /// Every admin scope in `scopes` must be one the caller could use itself. Other scopes
    /// (`openid`, `files:read`) are no rights of the admin surface; the tenant's policy governs
    /// them.
    fn may_grant(&self, grantee: Grantee, scopes: &ScopeSet) -> Result<(), Denied> {
        for sc in scopes.iter() {
            let held = if sc == ADMIN_ALL {
                self.scopes.contains(ADMIN_ALL)
            } else {
                match sc.split_once(':') {
                    Some(("read", res)) => resource(res).is_none_or(|r| self.can(r, Access::Read)),
                    Some(("write", res)) => {
                        resource(res).is_none_or(|r| self.can(r, Access::Write))
                    }
                    _ => true,
                }
            };
            if !held {
                return Err(Denied::CannotGrant {
                    grantee,
                    scope: sc.to_owned(),
                });
            }
        }
        Ok(())
    }
}

fn resource(name: &str) -> Option<Resource> {
    Resource::ALL.into_iter().find(|r| r.as_str() == name)
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
    fn only_a_caller_holding_every_admin_scope_of_a_user_acts_on_it() {
        let users_admin = admin("acme", "write:users read:audit");
        let act = |p: &Principal, held: &str| authorize(p, Operation::ActOnUser(&set(held)));
        assert_eq!(act(&users_admin, ""), Ok(()));
        assert_eq!(act(&users_admin, "read:audit"), Ok(()));
        assert_eq!(
            act(&users_admin, "admin:all"),
            Err(Denied::Outranked {
                scope: "admin:all".into()
            })
        );
        assert_eq!(
            act(&users_admin, "write:audit"),
            Err(Denied::Outranked {
                scope: "write:audit".into()
            })
        );
        assert_eq!(act(&admin("acme", "admin:all"), "admin:all"), Ok(()));
        let operator = Principal::LocalOperator {
            login: "root".into(),
        };
        assert_eq!(act(&operator, "admin:all"), Ok(()));
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
    fn admin(tenant: &str, scopes: &str) -> Principal {
        Principal::Admin(principal(tenant, scopes))
    }

    fn set(s: &str) -> ScopeSet {
        ScopeSet::parse(s).unwrap()
    }

    fn grant(p: &Principal, g: Grantee, scopes: &str) -> Result<(), Denied> {
        authorize(p, Operation::Grant(g, &set(scopes)))
    }

    #[test]
    fn nobody_grants_an_admin_scope_they_do_not_hold_to_any_grantee() {
        let keys_only = admin("acme", "write:api_keys");
        for g in [
            Grantee::ApiKey,
            Grantee::Client,
            Grantee::User,
            Grantee::Trust,
        ] {
            for escalation in ["admin:all", "write:keys", "read:users", "write:clients"] {
                assert_eq!(
                    grant(&keys_only, g, escalation),
                    Err(Denied::CannotGrant {
                        grantee: g,
                        scope: escalation.into()
                    }),
                    "{g:?} {escalation}"
                );
            }
            // What it holds it may hand on, read implied by write included.
            assert_eq!(grant(&keys_only, g, "write:api_keys read:api_keys"), Ok(()));
        }
    }

    #[test]
    fn grant_rule_for_api_keys_checks_every_scope_of_the_set() {
        let p = admin("acme", "write:api_keys read:audit");
        assert_eq!(grant(&p, Grantee::ApiKey, "read:audit files:read"), Ok(()));
        assert!(grant(&p, Grantee::ApiKey, "read:audit write:audit").is_err());
    }

    #[test]
    fn grant_rule_for_clients_covers_their_allowed_scopes() {
        let p = admin("acme", "write:clients read:users");
        assert_eq!(
            grant(&p, Grantee::Client, "openid profile read:users"),
            Ok(())
        );
        assert!(matches!(
            grant(&p, Grantee::Client, "openid admin:all"),
            Err(Denied::CannotGrant { scope, .. }) if scope == "admin:all"
        ));
    }

    #[test]
    fn grant_rule_for_users_covers_their_admin_scopes() {
        let p = admin("acme", "write:users");
        assert_eq!(grant(&p, Grantee::User, "write:users read:users"), Ok(()));
        assert!(grant(&p, Grantee::User, "write:organizations").is_err());
        // admin:all holders may make other admin:all holders (of their own tenant).
        assert_eq!(
            grant(&admin("acme", "admin:all"), Grantee::User, "admin:all"),
            Ok(())
        );
    }

    #[test]
    fn non_admin_scopes_are_no_matter_of_admin_rights() {
        let p = admin("acme", "write:api_keys");
        assert_eq!(
            grant(&p, Grantee::ApiKey, "openid files:write read:unknown_thing"),
            Ok(())
        );
    }

    #[test]
    fn a_tenant_admin_is_confined_to_its_own_tenant() {
        let acme = TenantId::parse("acme").unwrap();
        let other = TenantId::parse("other").unwrap();
        let p = admin("acme", "admin:all");
        for r in Resource::ALL {
            assert_eq!(authorize(&p, Operation::Read(r, &acme)), Ok(()));
            assert_eq!(authorize(&p, Operation::Write(r, &acme)), Ok(()));
            assert_eq!(
                authorize(&p, Operation::Read(r, &other)),
                Err(Denied::OtherTenant)
            );
            assert_eq!(
                authorize(&p, Operation::Write(r, &other)),
                Err(Denied::OtherTenant)
            );
        }
        // The right is checked first: lacking it says so, whatever the tenant.
        let reader = admin("acme", "read:users");
        assert_eq!(
            authorize(&reader, Operation::Write(Resource::Users, &other)),
            Err(Denied::MissingScope("write:users".into()))
        );
        let platform = admin(TenantId::DEFAULT, "admin:all");
        assert_eq!(
            authorize(&platform, Operation::Write(Resource::Users, &other)),
            Ok(())
        );
    }

    #[test]
    fn only_a_platform_admin_creates_governs_tenants_rotates_keys_and_reads_every_tenant() {
        let acme = TenantId::parse("acme").unwrap();
        let tenant_admin = admin("acme", "admin:all");
        let default_writer = admin(
            TenantId::DEFAULT,
            "write:organizations write:keys read:audit",
        );
        let platform = admin(TenantId::DEFAULT, "admin:all");
        for op in [
            Operation::CreateTenant,
            Operation::GovernTenant(&acme),
            Operation::RotateSigningKey,
            Operation::ReadEveryTenant(Resource::Audit),
        ] {
            assert_eq!(
                authorize(&tenant_admin, op),
                Err(Denied::PlatformAdminOnly),
                "{op:?}"
            );
            assert_eq!(
                authorize(&default_writer, op),
                Err(Denied::PlatformAdminOnly),
                "{op:?}"
            );
            assert_eq!(authorize(&platform, op), Ok(()), "{op:?}");
        }
        // A tenant admin may still rename (write) its own tenant.
        assert_eq!(
            authorize(
                &tenant_admin,
                Operation::Write(Resource::Organizations, &acme)
            ),
            Ok(())
        );
    }

    #[test]
    fn write_implies_read_in_the_policy() {
        let t = TenantId::parse("acme").unwrap();
        let p = admin("acme", "write:clients");
        assert_eq!(
            authorize(&p, Operation::Read(Resource::Clients, &t)),
            Ok(())
        );
        assert_eq!(
            authorize(&p, Operation::Read(Resource::Users, &t)),
            Err(Denied::MissingScope("read:users".into()))
        );
        let keys = admin("acme", "write:keys");
        assert_eq!(authorize(&keys, Operation::ReadSigningKeys), Ok(()));
    }

    #[test]
    fn any_admin_scope_reads_the_own_tenant() {
        assert_eq!(
            authorize(&admin("acme", "read:audit"), Operation::ReadOwnTenant),
            Ok(())
        );
        assert_eq!(
            authorize(&admin("acme", "openid"), Operation::ReadOwnTenant),
            Err(Denied::MissingScope("read:organizations".into()))
        );
    }

    #[test]
    fn the_local_operator_holds_every_right_in_every_tenant() {
        let op = Principal::LocalOperator {
            login: "root".into(),
        };
        let t = TenantId::parse("anywhere").unwrap();
        let everything = set("admin:all write:keys");
        for o in [
            Operation::Write(Resource::ApiKeys, &t),
            Operation::CreateTenant,
            Operation::GovernTenant(&t),
            Operation::RotateSigningKey,
            Operation::ReadEveryTenant(Resource::Audit),
            Operation::Grant(Grantee::ApiKey, &everything),
        ] {
            assert_eq!(authorize(&op, o), Ok(()), "{o:?}");
        }
        assert_eq!(op.home_tenant().as_str(), TenantId::DEFAULT);
    }

    #[test]
    fn admin_scopes_of_users_must_be_admin_scopes() {
        let ok = parse_admin_scopes(&["read:users write:audit".into(), "admin:all".into()]);
        assert_eq!(ok.unwrap().iter().count(), 3);
        let e = parse_admin_scopes(&["read:users openid".into()]).unwrap_err();
        assert_eq!(e.field, Field::AdminScopes);
        assert!(e.reason.contains("openid"), "{e}");
    }
}
