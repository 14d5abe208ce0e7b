//! Users (resource owners) and the OpenID Connect claims they expose by scope (OIDC Core §5.4).

use std::fmt;

use crate::field::{Field, FieldError};
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
    /// Optional profile claims (OIDC Core §5.1).
    pub profile: UserProfile,
    /// The admin scopes this user holds (`crate::admin`): they make the user an admin of the
    /// console, and only these admin scopes can be granted to the user's tokens. Empty for
    /// ordinary users.
    pub admin_scopes: ScopeSet,
}

/// The optional standard claims of a user (OIDC Core §5.1). `None` fields are never released.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct UserProfile {
    /// Full name; when absent, `name` is the username.
    pub name: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    /// E.164 is recommended (OIDC Core §5.1), e.g. `+1 (425) 555-1212`.
    pub phone_number: Option<String>,
    /// The address claim (OIDC Core §5.1.1): a JSON object such as `{"formatted": "..."}`.
    pub address: Option<serde_json::Value>,
}

/// The claims each scope releases (OIDC Core §5.4), limited to what Gatehouse stores.
pub const SCOPE_CLAIMS: &[(&str, &[&str])] = &[
    (
        "profile",
        &[
            "name",
            "given_name",
            "family_name",
            "preferred_username",
            "updated_at",
        ],
    ),
    ("email", &["email", "email_verified"]),
    ("address", &["address"]),
    ("phone", &["phone_number", "phone_number_verified"]),
];

/// Every user claim Gatehouse can release (besides `sub`).
pub fn supported_claims() -> impl Iterator<Item = &'static str> {
    SCOPE_CLAIMS.iter().flat_map(|(_, c)| c.iter().copied())
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
    /// The value of one standard claim, if the user has it (OIDC Core §5.1).
    pub fn claim(&self, name: &str) -> Option<serde_json::Value> {
        let p = &self.profile;
        let text = |v: &Option<String>| v.clone().map(serde_json::Value::from);
        match name {
            "name" => Some(
                p.name
                    .clone()
                    .unwrap_or_else(|| self.username.clone())
                    .into(),
            ),
            "given_name" => text(&p.given_name),
            "family_name" => text(&p.family_name),
            "preferred_username" => Some(self.username.clone().into()),
            "updated_at" => Some(self.created_at.timestamp().into()),
            "email" => text(&self.email),
            // Gatehouse does not verify addresses or numbers yet; say so rather than claim it.
            "email_verified" => self.email.as_ref().map(|_| false.into()),
            "phone_number" => text(&p.phone_number),
            "phone_number_verified" => p.phone_number.as_ref().map(|_| false.into()),
            "address" => p.address.clone(),
            _ => None,
        }
    }

    /// The claims released for `scope`, besides `sub` (OIDC Core §5.4).
    pub fn claims_for(&self, scope: &ScopeSet) -> serde_json::Map<String, serde_json::Value> {
        self.claims_for_request(scope, std::iter::empty())
    }

    /// The claims released for `scope` plus the individually requested `extra` claims
    /// (the `claims` request parameter, OIDC Core §5.5), besides `sub`.
    pub fn claims_for_request<'a>(
        &self,
        scope: &ScopeSet,
        extra: impl IntoIterator<Item = &'a str>,
    ) -> serde_json::Map<String, serde_json::Value> {
        let by_scope = SCOPE_CLAIMS
            .iter()
            .filter(|(s, _)| scope.contains(s))
            .flat_map(|(_, c)| c.iter().copied());
        let mut m = serde_json::Map::new();
        for name in by_scope.chain(extra) {
            if m.contains_key(name) {
                continue;
            }
            if let Some(v) = self.claim(name) {
                m.insert(name.to_owned(), v);
            }
        }
        m
    }
}

/// Checks a username: 1 to 128 characters, no whitespace or control characters.
pub fn validate_username(u: &str) -> Result<(), FieldError> {
    if u.is_empty()
        || u.chars().count() > 128
        || u.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(FieldError::new(
            Field::Username,
            "must be 1 to 128 characters without spaces",
        ));
    }
    Ok(())
}

/// Checks an e-mail address loosely: one `@` with text on both sides, no spaces.
pub fn validate_email(e: &str) -> Result<(), FieldError> {
    let ok = e.len() <= 254
        && e.split_once('@')
            .is_some_and(|(l, d)| !l.is_empty() && d.contains('.') && !d.contains('@'))
        && !e.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok {
        Ok(())
    } else {
        Err(FieldError::new(
            Field::Email,
            format!("{e:?} is not an e-mail address"),
        ))
    }
}

/// Checks an optional profile text field (name, given name, family name): 1 to 256
/// characters, no control characters. `field` is the field the value was given in.
pub fn validate_profile_text(field: Field, v: &str) -> Result<(), FieldError> {
    let n = v.chars().count();
    if !(1..=256).contains(&n) || v.chars().any(char::is_control) {
        return Err(FieldError::new(
            field,
            "must be 1 to 256 characters without control characters",
        ));
    }
    Ok(())
}

/// Checks a phone number loosely: an optional `+`, then digits, spaces and `()-.`, with 3 to 20
/// digits, and an optional `;ext=` extension (RFC 3966 style, OIDC Core §5.1).
pub fn validate_phone(p: &str) -> Result<(), FieldError> {
    let (main, ext) = match p.split_once(";ext=") {
        Some((m, e)) => (m, Some(e)),
        None => (p, None),
    };
    let body = main.strip_prefix('+').unwrap_or(main);
    let digits = body.chars().filter(char::is_ascii_digit).count();
    let ok = (3..=20).contains(&digits)
        && body
            .chars()
            .all(|c| c.is_ascii_digit() || " ()-.".contains(c))
        && ext.is_none_or(|e| {
            !e.is_empty() && e.len() <= 10 && e.chars().all(|c| c.is_ascii_digit())
        });
    if ok {
        Ok(())
    } else {
        Err(FieldError::new(
            Field::Phone,
            format!("{p:?} is not a phone number"),
        ))
    }
}

/// Checks a new password: 8 to 1024 characters.
pub fn validate_password(p: &str) -> Result<(), FieldError> {
    let n = p.chars().count();
    if !(8..=1024).contains(&n) {
        return Err(FieldError::new(
            Field::Password,
            "must be 8 to 1024 characters",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alice() -> User {
        User {
            id: UserId::generate(),
            tenant_id: TenantId::parse("default").unwrap(),
            username: "alice".into(),
            email: Some("alice@example.com".into()),
            password_hash: String::new(),
            created_at: chrono::Utc::now(),
            profile: UserProfile {
                phone_number: Some("+1 555 0100".into()),
                ..UserProfile::default()
            },
            admin_scopes: ScopeSet::default(),
        }
    }

    #[test]
    fn scopes_release_their_claims_and_requests_add_single_claims() {
        let u = alice();
        let by_scope = u.claims_for(&ScopeSet::parse("openid phone").unwrap());
        assert_eq!(by_scope["phone_number"], "+1 555 0100");
        assert_eq!(by_scope["phone_number_verified"], false);
        assert!(by_scope.get("email").is_none());
        // `name` falls back to the username; claims the user lacks are never released.
        let asked = u.claims_for_request(
            &ScopeSet::parse("openid").unwrap(),
            ["name", "family_name", "email", "unknown"],
        );
        assert_eq!(asked["name"], "alice");
        assert_eq!(asked["email"], "alice@example.com");
        assert!(asked.get("family_name").is_none() && asked.get("unknown").is_none());
    }

    #[test]
    fn phone_numbers_are_checked_loosely() {
        for ok in ["+1 (425) 555-1212", "+44 1865 270000", "555.0100;ext=42"] {
            assert!(validate_phone(ok).is_ok(), "{ok}");
        }
        for bad in ["call me", "12", "+1 555 0100;ext=", "+1 555 0100 x5"] {
            assert!(validate_phone(bad).is_err(), "{bad}");
        }
    }
}
