//! Users (resource owners) and the OpenID Connect claims they expose by scope (OIDC Core §5.4).

use std::fmt;

use crate::values::{ScopeSet, TenantId, UserId};

#[derive(Clone)]
pub struct User {
    pub id: UserId,
    pub tenant_id: TenantId,
    pub username: String,
    pub email: Option<String>,
    /// Argon2id PHC string.
    pub password_hash: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl fmt::Debug for User {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

impl User {
    /// The claims released for `scope`, besides `sub` (OIDC Core §5.4).
    pub fn claims_for(&self, scope: &ScopeSet) -> serde_json::Map<String, serde_json::Value> {
        let mut m = serde_json::Map::new();
        if scope.contains("profile") {
            m.insert("preferred_username".into(), self.username.clone().into());
            m.insert("name".into(), self.username.clone().into());
        }
        if let Some(e) = self.email.as_ref().filter(|_| scope.contains("email")) {
            m.insert("email".into(), e.clone().into());
            // Gatehouse does not verify addresses yet; say so rather than claim it.
            m.insert("email_verified".into(), false.into());
        }
        m
    }
}

/// Checks a username: 1 to 128 characters, no whitespace or control characters.
pub fn validate_username(u: &str) -> Result<(), String> {
    if u.is_empty()
        || u.chars().count() > 128
        || u.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err("--username must be 1 to 128 characters without spaces".into());
    }
    Ok(())
}

/// Checks an e-mail address loosely: one `@` with text on both sides, no spaces.
pub fn validate_email(e: &str) -> Result<(), String> {
    let ok = e.len() <= 254
        && e.split_once('@')
            .is_some_and(|(l, d)| !l.is_empty() && d.contains('.') && !d.contains('@'))
        && !e.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok {
        Ok(())
    } else {
        Err(format!("--email: {e:?} is not an e-mail address"))
    }
}

/// Checks a new password: 8 to 1024 characters.
pub fn validate_password(p: &str) -> Result<(), String> {
    let n = p.chars().count();
    if !(8..=1024).contains(&n) {
        return Err("password (stdin) must be 8 to 1024 characters".into());
    }
    Ok(())
}
