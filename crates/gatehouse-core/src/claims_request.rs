//! The `claims` request parameter (OIDC Core §5.5): individual claims asked for the UserInfo
//! response and the ID token, released even when no scope covers them.
//!
//! Gatehouse honours the claim names (essential or voluntary alike, §5.5.1); the `value` and
//! `values` constraints are accepted but not enforced. A request is kept per grant
//! ([`ClaimsRequestStore`]) so that the code exchange, refreshes and every UserInfo call of
//! that grant see it.

#![allow(async_fn_in_trait)]

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::StoreError;
use crate::user;
use crate::values::GrantId;

/// The longest `claims` parameter accepted, in bytes.
pub const MAX_CLAIMS_PARAM: usize = 4096;

/// The claim names requested for each target. Only claims Gatehouse can release are kept.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimsRequest {
    #[serde(default)]
    pub userinfo: BTreeSet<String>,
    #[serde(default)]
    pub id_token: BTreeSet<String>,
}

/// Why a `claims` parameter is refused (OIDC Core §5.5); the text is the `error_description`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClaimsError {
    #[error("the claims parameter is too long")]
    TooLong,
    #[error("the claims parameter is not valid JSON")]
    NotJson,
    #[error("the claims parameter must be a JSON object")]
    NotAnObject,
    #[error("claims.{0} must be an object")]
    BadTarget(&'static str),
    #[error("claims.{target}.{name} must be null or an object")]
    BadMember { target: &'static str, name: String },
}

impl From<ClaimsError> for std::borrow::Cow<'static, str> {
    fn from(e: ClaimsError) -> Self {
        std::borrow::Cow::Owned(e.to_string())
    }
}

impl ClaimsRequest {
    /// Parses the JSON of the `claims` parameter (OIDC Core §5.5). Unknown members and claims
    /// are ignored (§5.5: "not understood ... MUST be ignored"); malformed JSON is an error.
    pub fn parse(raw: &str) -> Result<ClaimsRequest, ClaimsError> {
        if raw.len() > MAX_CLAIMS_PARAM {
            return Err(ClaimsError::TooLong);
        }
        let v: Value = serde_json::from_str(raw).map_err(|_| ClaimsError::NotJson)?;
        let Value::Object(top) = v else {
            return Err(ClaimsError::NotAnObject);
        };
        let mut out = ClaimsRequest::default();
        for (target, set) in [
            ("userinfo", &mut out.userinfo),
            ("id_token", &mut out.id_token),
        ] {
            match top.get(target) {
                None | Some(Value::Null) => {}
                Some(Value::Object(members)) => {
                    for (name, spec) in members {
                        if !matches!(spec, Value::Null | Value::Object(_)) {
                            return Err(ClaimsError::BadMember {
                                target,
                                name: name.clone(),
                            });
                        }
                        if user::supported_claims().any(|c| c == name) {
                            set.insert(name.clone());
                        }
                    }
                }
                Some(_) => return Err(ClaimsError::BadTarget(target)),
            }
        }
        Ok(out)
    }

    pub fn is_empty(&self) -> bool {
        self.userinfo.is_empty() && self.id_token.is_empty()
    }

    /// The stored form (JSON).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{}".into())
    }

    /// Reads the stored form back.
    pub fn from_json(s: &str) -> Result<ClaimsRequest, serde_json::Error> {
        serde_json::from_str(s)
    }
}

/// Storage of claims requests, by grant.
pub trait ClaimsRequestStore {
    async fn save_claims_request(
        &self,
        grant: &GrantId,
        request: &ClaimsRequest,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    async fn find_claims_request(
        &self,
        grant: &GrantId,
    ) -> Result<Option<ClaimsRequest>, StoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_known_claims_per_target_and_ignores_the_rest() {
        let r = ClaimsRequest::parse(
            r#"{"userinfo":{"name":{"essential":true},"email":null,"x-custom":null},
                "id_token":{"phone_number":{"essential":true},"acr":{"values":["1"]}},
                "other":{}}"#,
        )
        .unwrap();
        assert_eq!(
            r.userinfo.iter().map(String::as_str).collect::<Vec<_>>(),
            ["email", "name"]
        );
        assert_eq!(
            r.id_token.iter().map(String::as_str).collect::<Vec<_>>(),
            ["phone_number"]
        );
        assert_eq!(ClaimsRequest::from_json(&r.to_json()).unwrap(), r);
    }

    #[test]
    fn rejects_malformed_requests() {
        for bad in [
            "not json",
            "[]",
            r#"{"userinfo":[]}"#,
            r#"{"id_token":{"name":true}}"#,
        ] {
            assert!(ClaimsRequest::parse(bad).is_err(), "{bad}");
        }
        assert!(ClaimsRequest::parse(&"x".repeat(MAX_CLAIMS_PARAM + 1)).is_err());
    }
}
