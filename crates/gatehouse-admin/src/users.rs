//! Users (resource owners, and admin users when they hold admin scopes): create with an
//! Argon2id-hashed password, list, read, delete. Admin scopes are handed on only by callers
//! who hold them.

use gatehouse_core::admin::{Access, Grantee, Operation, Resource, parse_admin_scopes};
use gatehouse_core::field::{Field, FieldError};
use gatehouse_core::user::{self, User, UserProfile};
use gatehouse_core::{TenantId, UserId};
use serde_json::json;

use crate::actor::{Context, Precondition};
use crate::error::{Object, OpError};
use crate::views::UserView;

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
        let address = match self.address {
            Some(a) => {
                let n = a.chars().count();
                if !(1..=512).contains(&n) || a.chars().any(|c| c.is_control() && c != '\n') {
                    return Err(FieldError::new(
                        Field::Address,
                        "must be 1 to 512 characters",
                    ));
                }
                Some(json!({ "formatted": a }))
            }
            None => None,
        };
        Ok(UserProfile {
            name: text(Field::Name, self.name)?,
            given_name: text(Field::GivenName, self.given_name)?,
            family_name: text(Field::FamilyName, self.family_name)?,
            phone_number: self.phone,
            address,
        })
    }
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
    // Argon2id is deliberately slow: off the async workers.
    let password = new.password;
    let password_hash =
        tokio::task::spawn_blocking(move || gatehouse_core::password::hash_password(&password))
            .await
            .map_err(|e| OpError::Storage(e.to_string()))?
            .map_err(|e| OpError::Storage(e.to_string()))?;
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
    let users = ctx.store.list_users_page(tenant, after, limit).await?;
    Ok(users.iter().map(UserView::from).collect())
}

/// The user `id`, after the policy allowed `access` to users of its tenant.
async fn visible(ctx: &Context<'_>, id: &str, access: Access) -> Result<User, OpError> {
    ctx.require(Resource::Users, access)?;
    let not_found = || OpError::NotFound {
        what: Object::User,
        id: id.to_owned(),
    };
    let u = ctx.store.get_user_by_id(id).await?.ok_or_else(not_found)?;
    let op = match access {
        Access::Read => Operation::Read(Resource::Users, &u.tenant_id),
        Access::Write => Operation::Write(Resource::Users, &u.tenant_id),
    };
    ctx.authorize(op, Object::User, id)?;
    Ok(u)
}

/// One user.
pub async fn get(ctx: &Context<'_>, id: &str) -> Result<UserView, OpError> {
    visible(ctx, id, Access::Read)
        .await
        .map(|u| UserView::from(&u))
}

/// Deletes a user; its sessions, consents, codes and refresh tokens go with it.
pub async fn delete(
    ctx: &Context<'_>,
    id: &str,
    precondition: Precondition<'_, UserView>,
) -> Result<(), OpError> {
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
    let details = json!({ "username": u.username });
    ctx.audit(
        Some(u.tenant_id.as_str()),
        "user.delete",
        u.id.as_str(),
        details,
    )
    .await
}
