//! Users (resource owners, and admin users when they hold admin scopes): create with an
//! Argon2id-hashed password, list, read, update, disable and enable, reset the password,
//! delete. Admin scopes are handed on only by callers who hold them, and a user is changed
//! only by callers holding every admin scope it holds (core `Operation::ActOnUser`).

use gatehouse_core::admin::{Access, Grantee, Operation, Resource, parse_admin_scopes};
use gatehouse_core::field::{Field, FieldError};
use gatehouse_core::user::{self, User, UserProfile};
use gatehouse_core::{TenantId, UserId};
use gatehouse_store::StoredUser;
use serde_json::json;

use crate::actor::{Context, Precondition};
use crate::error::{Object, OpError};
use crate::password::PasswordHasher;
use crate::views::{DeletedUser, UserChange, UserList, UserView};

/// Optional profile fields of a new user, as the operator typed them.
#[derive(Debug, Clone, Default)]
pub struct ProfileInput {
    pub name: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub phone: Option<String>,
    /// A postal address on one line (or with `\n`), released as the `formatted` member of
    /// the OIDC address claim (Core §5.1.1).
    pub address: Option<String>,
    /// Admin scopes; each value may hold several, space-separated.
    pub admin_scopes: Vec<String>,
}

impl ProfileInput {
    /// Checks every field, naming the one at fault.
    fn validate(self) -> Result<UserProfile, FieldError> {
        let text = |field: Field, v: Option<String>| -> Result<Option<String>, FieldError> {
            if let Some(v) = &v {
                user::validate_profile_text(field, v)?;
            }
            Ok(v)
        };
        if let Some(p) = &self.phone {
            user::validate_phone(p)?;
        }
        let address = self.address.as_deref().map(address_claim).transpose()?;
        Ok(UserProfile {
            name: text(Field::Name, self.name)?,
            given_name: text(Field::GivenName, self.given_name)?,
            family_name: text(Field::FamilyName, self.family_name)?,
            phone_number: self.phone,
            address,
        })
    }
}

/// The OIDC address claim (Core §5.1.1) of a postal address typed on one line.
fn address_claim(a: &str) -> Result<serde_json::Value, FieldError> {
    let n = a.chars().count();
    if !(1..=512).contains(&n) || a.chars().any(|c| c.is_control() && c != '\n') {
        return Err(FieldError::new(
            Field::Address,
            "must be 1 to 512 characters",
        ));
    }
    Ok(json!({ "formatted": a }))
}

/// A user to create.
#[derive(Clone, Default)]
pub struct NewUser {
    pub username: String,
    pub email: Option<String>,
    /// The plaintext password; only its Argon2id hash is stored.
    pub password: String,
    pub profile: ProfileInput,
}

impl std::fmt::Debug for NewUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewUser")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

/// Creates a user of `tenant`.
pub async fn create(
    ctx: &Context<'_>,
    tenant: &TenantId,
    new: NewUser,
    hasher: &impl PasswordHasher,
) -> Result<UserView, OpError> {
    ctx.require(Resource::Users, Access::Write)?;
    ctx.authorize_in(Operation::Write(Resource::Users, tenant), tenant)?;
    let admin_scopes = parse_admin_scopes(&new.profile.admin_scopes)?;
    ctx.authorize_global(Operation::Grant(Grantee::User, &admin_scopes))?;
    user::validate_username(&new.username)?;
    if let Some(e) = &new.email {
        user::validate_email(e)?;
    }
    let profile = new.profile.validate()?;
    user::validate_password(&new.password)?;
    ctx.existing_tenant(tenant).await?;
    let password_hash = hasher.hash(&new.password).await?;
    let u = User {
        id: UserId::generate(),
        tenant_id: tenant.clone(),
        username: new.username,
        email: new.email,
        password_hash,
        created_at: ctx.now,
        profile,
        admin_scopes,
    };
    ctx.store.insert_user(&u).await?;
    let details = json!({ "username": u.username, "admin_scopes": u.admin_scopes.to_string() });
    ctx.audit(
        Some(u.tenant_id.as_str()),
        "user.create",
        u.id.as_str(),
        details,
    )
    .await?;
    Ok(UserView::from(&u))
}

/// Up to `limit` users of `tenant` with an id greater than `after`, by id.
pub async fn page(
    ctx: &Context<'_>,
    tenant: &TenantId,
    after: Option<&str>,
    limit: u64,
) -> Result<Vec<UserView>, OpError> {
    ctx.require(Resource::Users, Access::Read)?;
    ctx.authorize_in(Operation::Read(Resource::Users, tenant), tenant)?;
    let users = ctx.store.list_stored_users(tenant, after, limit).await?;
    Ok(users.iter().map(UserView::from).collect())
}

/// A page of `tenant`'s users (`limit` 1 to 1000) after the id `after`, with the cursor of the
/// next page.
pub async fn list(
    ctx: &Context<'_>,
    tenant: &TenantId,
    after: Option<&str>,
    limit: u64,
) -> Result<UserList, OpError> {
    if !(1..=1000).contains(&limit) {
        return Err(FieldError::new(Field::Limit, "must be between 1 and 1000").into());
    }
    let mut users = page(ctx, tenant, after, limit + 1).await?;
    let more = users.len() as u64 > limit;
    users.truncate(limit as usize);
    let next_after = more
        .then(|| users.last().map(|u| u.id.to_string()))
        .flatten();
    Ok(UserList {
        tenant: tenant.clone(),
        users,
        next_after,
    })
}

/// The user `id`, after the policy allowed `access` to users of its tenant; for a change,
/// also only when the caller holds every admin scope the user holds.
pub(crate) async fn visible(
    ctx: &Context<'_>,
    id: &str,
    access: Access,
) -> Result<StoredUser, OpError> {
    ctx.require(Resource::Users, access)?;
    let not_found = || OpError::NotFound {
        what: Object::User,
        id: id.to_owned(),
    };
    let u = ctx.store.get_stored_user(id).await?.ok_or_else(not_found)?;
    let op = match access {
        Access::Read => Operation::Read(Resource::Users, &u.user.tenant_id),
        Access::Write => Operation::Write(Resource::Users, &u.user.tenant_id),
    };
    ctx.authorize(op, Object::User, id)?;
    if access == Access::Write {
        ctx.authorize_global(Operation::ActOnUser(&u.user.admin_scopes))?;
    }
    Ok(u)
}

/// One user.
pub async fn get(ctx: &Context<'_>, id: &str) -> Result<UserView, OpError> {
    visible(ctx, id, Access::Read)
        .await
        .map(|u| UserView::from(&u))
}

/// Changes to a user; absent fields stay, an empty text clears an optional field.
#[derive(Debug, Clone, Default)]
pub struct UserChanges {
    pub email: Option<String>,
    pub name: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub phone: Option<String>,
    pub address: Option<String>,
    /// Replaces the admin scopes (each value may hold several, space-separated; none clears).
    pub admin_scopes: Option<Vec<String>>,
}

impl UserChanges {
    /// The names of the fields this change sets, for the audit trail (never their values).
    fn fields(&self) -> Vec<&'static str> {
        let set = [
            ("email", self.email.is_some()),
            ("name", self.name.is_some()),
            ("given_name", self.given_name.is_some()),
            ("family_name", self.family_name.is_some()),
            ("phone_number", self.phone.is_some()),
            ("address", self.address.is_some()),
            ("admin_scopes", self.admin_scopes.is_some()),
        ];
        set.iter().filter(|(_, s)| *s).map(|(f, _)| *f).collect()
    }
}

/// `Some("")` clears, `Some(v)` sets after `check`, `None` keeps `current`.
fn merge(
    current: &Option<String>,
    change: Option<String>,
    check: impl Fn(&str) -> Result<(), FieldError>,
) -> Result<Option<String>, FieldError> {
    match change {
        None => Ok(current.clone()),
        Some(v) if v.is_empty() => Ok(None),
        Some(v) => check(&v).map(|()| Some(v)),
    }
}

/// Applies validated changes to a copy of `u`.
fn changed(u: &User, c: UserChanges) -> Result<User, FieldError> {
    let mut n = u.clone();
    n.email = merge(&u.email, c.email, user::validate_email)?;
    let text = |f: Field| move |v: &str| user::validate_profile_text(f, v);
    let p = &u.profile;
    n.profile.name = merge(&p.name, c.name, text(Field::Name))?;
    n.profile.given_name = merge(&p.given_name, c.given_name, text(Field::GivenName))?;
    n.profile.family_name = merge(&p.family_name, c.family_name, text(Field::FamilyName))?;
    n.profile.phone_number = merge(&p.phone_number, c.phone, user::validate_phone)?;
    n.profile.address = match c.address {
        None => p.address.clone(),
        Some(a) if a.is_empty() => None,
        Some(a) => Some(address_claim(&a)?),
    };
    if let Some(s) = c.admin_scopes {
        n.admin_scopes = parse_admin_scopes(&s)?;
    }
    Ok(n)
}

/// Changes a user's email, profile or admin scopes. Everything is validated, and new admin
/// scopes checked against the caller's own, before the write.
pub async fn update(
    ctx: &Context<'_>,
    id: &str,
    changes: UserChanges,
    precondition: Precondition<'_, UserView>,
) -> Result<UserView, OpError> {
    let current = visible(ctx, id, Access::Write).await?;
    if precondition.is_some_and(|p| !p(&UserView::from(&current))) {
        return Err(OpError::Stale);
    }
    let fields = changes.fields();
    let next = changed(&current.user, changes)?;
    ctx.authorize_global(Operation::Grant(Grantee::User, &next.admin_scopes))?;
    if fields.is_empty() {
        return Ok(UserView::from(&current));
    }
    ctx.store.update_user_profile(&next).await?;
    let mut details = json!({ "username": next.username, "fields": fields });
    if next.admin_scopes != current.user.admin_scopes {
        details["admin_scopes"] = next.admin_scopes.to_string().into();
    }
    ctx.audit(Some(next.tenant_id.as_str()), "user.update", id, details)
        .await?;
    let stored = StoredUser {
        user: next,
        disabled_at: current.disabled_at,
    };
    Ok(UserView::from(&stored))
}

/// Disables a user: it can no longer sign in, and its sessions and grants end at once.
/// Disabling a disabled user changes nothing.
pub async fn disable(ctx: &Context<'_>, id: &str) -> Result<UserChange, OpError> {
    let u = visible(ctx, id, Access::Write).await?;
    let Some(ended) = ctx.store.disable_user(id, ctx.now).await? else {
        return Ok(unchanged(&u));
    };
    let details = json!({
        "username": u.user.username,
        "sessions_ended": ended.sessions,
        "grants_revoked": ended.grants,
    });
    let t = u.user.tenant_id.as_str();
    ctx.audit(Some(t), "user.disable", id, details).await?;
    let now = StoredUser {
        user: u.user,
        disabled_at: Some(ctx.now),
    };
    Ok(UserChange {
        user: UserView::from(&now),
        sessions_ended: ended.sessions,
        grants_revoked: ended.grants,
    })
}

fn unchanged(u: &StoredUser) -> UserChange {
    UserChange {
        user: UserView::from(u),
        sessions_ended: 0,
        grants_revoked: 0,
    }
}

/// Lets a disabled user sign in again. Enabling an enabled user changes nothing.
pub async fn enable(ctx: &Context<'_>, id: &str) -> Result<UserChange, OpError> {
    let u = visible(ctx, id, Access::Write).await?;
    if !ctx.store.enable_user(id).await? {
        return Ok(unchanged(&u));
    }
    let details = json!({ "username": u.user.username });
    let t = u.user.tenant_id.as_str();
    ctx.audit(Some(t), "user.enable", id, details).await?;
    let now = StoredUser {
        user: u.user,
        disabled_at: None,
    };
    Ok(unchanged(&now))
}

/// Gives a user a new password and ends its sessions and grants (whoever held the old one is
/// signed out). The password is validated before it is hashed; it is never audited.
pub async fn reset_password(
    ctx: &Context<'_>,
    id: &str,
    password: &str,
    hasher: &impl PasswordHasher,
) -> Result<UserChange, OpError> {
    let u = visible(ctx, id, Access::Write).await?;
    user::validate_password(password)?;
    let phc = hasher.hash(password).await?;
    ctx.store.set_user_password_hash(id, &phc).await?;
    let ended = ctx.store.end_user_access(id, ctx.now).await?;
    let details = json!({
        "username": u.user.username,
        "sessions_ended": ended.sessions,
        "grants_revoked": ended.grants,
    });
    let t = u.user.tenant_id.as_str();
    ctx.audit(Some(t), "user.reset_password", id, details)
        .await?;
    Ok(UserChange {
        user: UserView::from(&u),
        sessions_ended: ended.sessions,
        grants_revoked: ended.grants,
    })
}

/// Deletes a user; its sessions, consents, codes and refresh tokens go with it.
pub async fn delete(
    ctx: &Context<'_>,
    id: &str,
    precondition: Precondition<'_, UserView>,
) -> Result<DeletedUser, OpError> {
    let u = visible(ctx, id, Access::Write).await?;
    if precondition.is_some_and(|p| !p(&UserView::from(&u))) {
        return Err(OpError::Stale);
    }
    if !ctx.store.delete_user(id).await? {
        return Err(OpError::NotFound {
            what: Object::User,
            id: id.to_owned(),
        });
    }
    let details = json!({ "username": u.user.username });
    ctx.audit(
        Some(u.user.tenant_id.as_str()),
        "user.delete",
        u.user.id.as_str(),
        details,
    )
    .await?;
    Ok(DeletedUser {
        id: u.user.id,
        username: u.user.username,
        deleted: true,
    })
}
