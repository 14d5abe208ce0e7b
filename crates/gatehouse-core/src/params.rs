//! Request parameters as received (query string or form body), before typing.
//!
//! RFC 6749 §3.1 and §3.2: parameters sent without a value are treated as omitted, and a
//! parameter must not be included more than once. [`Params`] enforces both and bounds sizes,
//! so the typed parsers downstream never see a repeated or oversized value. The one exception
//! is `resource` (RFC 8707 §2: "may be used multiple times"), read with [`Params::get_all`].
//!
//! `Debug` shows the names of all parameters but the values of harmless ones only: passwords,
//! secrets, assertions, codes, verifiers and tokens print as `***` (RFC 6749 §10.3, §10.5:
//! credentials must not leak, and a request may be logged).

use crate::error::OAuthError;
use crate::values::{MAX_PARAM_LEN, ScopeSet};

/// At most this many parameters in one request.
const MAX_PARAMS: usize = 64;

#[derive(Clone, Default)]
pub struct Params(Vec<(String, String)>);

/// Parameters that may be repeated (RFC 8707 §2).
const REPEATABLE: &[&str] = &["resource"];

/// Parameters whose values are credentials or bearer secrets: never printed.
const SECRET_PARAMS: &[&str] = &[
    "password",
    "client_secret",
    "client_assertion",
    "assertion",
    "code",
    "code_verifier",
    "refresh_token",
    "access_token",
    "token",
    "subject_token",
    "actor_token",
    "id_token_hint",
    "id_token",
    "csrf_token",
    "request",
    "login_hint_token",
];

impl std::fmt::Debug for Params {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut m = f.debug_map();
        for (k, v) in &self.0 {
            if SECRET_PARAMS.contains(&k.as_str()) {
                m.entry(k, &"***");
            } else {
                m.entry(k, v);
            }
        }
        m.finish()
    }
}

impl Params {
    /// Builds from decoded pairs, refusing repeats and oversized input with `invalid_request`.
    pub fn new(pairs: Vec<(String, String)>) -> Result<Self, OAuthError> {
        if pairs.len() > MAX_PARAMS {
            return Err(OAuthError::invalid_request("too many parameters"));
        }
        let mut out: Vec<(String, String)> = Vec::with_capacity(pairs.len());
        for (k, v) in pairs {
            if v.is_empty() {
                continue;
            }
            if v.len() > MAX_PARAM_LEN * 4 {
                // An oversized client assertion is a failed client authentication (RFC 7523 §3.2).
                if k == "client_assertion" {
                    return Err(OAuthError::invalid_client("client_assertion is too large"));
                }
                return Err(OAuthError::invalid_request(format!(
                    "parameter {k} is too long"
                )));
            }
            if !REPEATABLE.contains(&k.as_str()) && out.iter().any(|(ek, _)| *ek == k) {
                return Err(OAuthError::invalid_request(format!(
                    "parameter {k} is repeated"
                )));
            }
            out.push((k, v));
        }
        Ok(Self(out))
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of a repeatable parameter, in the order sent.
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// A required parameter, or `invalid_request` naming it.
    pub fn require(&self, name: &str) -> Result<&str, OAuthError> {
        self.get(name)
            .ok_or_else(|| OAuthError::invalid_request(format!("missing parameter {name}")))
    }

    /// The optional `scope` parameter (RFC 6749 §3.3); a malformed one is `invalid_scope`.
    pub fn scope(&self) -> Result<Option<ScopeSet>, OAuthError> {
        self.get("scope")
            .map(ScopeSet::parse)
            .transpose()
            .map_err(OAuthError::invalid_scope)
    }

    /// A copy with `name` set to `value` (or removed when `value` is `None`).
    pub fn with(&self, name: &str, value: Option<String>) -> Params {
        let mut out: Vec<(String, String)> =
            self.0.iter().filter(|(k, _)| k != name).cloned().collect();
        if let Some(v) = value {
            out.push((name.to_owned(), v));
        }
        Params(out)
    }

    pub fn pairs(&self) -> &[(String, String)] {
        &self.0
    }

    /// The parameters as a URL-encoded string (to carry an authorization request through the
    /// login and consent forms; it is parsed and validated again when it comes back).
    pub fn to_query(&self) -> String {
        url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(self.0.iter())
            .finish()
    }

    /// Parses a URL-encoded string.
    pub fn from_query(q: &str) -> Result<Self, OAuthError> {
        Self::new(
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_parameters_are_invalid_request() {
        let e = Params::new(vec![("a".into(), "1".into()), ("a".into(), "2".into())]).unwrap_err();
        assert_eq!(e.code, crate::ErrorCode::InvalidRequest);
    }

    #[test]
    fn resource_may_be_repeated_rfc8707_2() {
        let p = Params::from_query("resource=https%3A%2F%2Fa&resource=https%3A%2F%2Fb").unwrap();
        assert_eq!(
            p.get_all("resource").collect::<Vec<_>>(),
            ["https://a", "https://b"]
        );
        let back = Params::from_query(&p.to_query()).unwrap();
        assert_eq!(back.get_all("resource").count(), 2);
    }

    #[test]
    fn empty_values_count_as_omitted() {
        let p = Params::new(vec![("a".into(), "".into()), ("a".into(), "2".into())]).unwrap();
        assert_eq!(p.get("a"), Some("2"));
        assert!(p.require("b").is_err());
    }

    #[test]
    fn debug_redacts_credentials_and_tokens_rfc6749_10_3() {
        let secrets = [
            "password",
            "client_secret",
            "client_assertion",
            "assertion",
            "code",
            "code_verifier",
            "refresh_token",
            "access_token",
            "token",
            "subject_token",
            "actor_token",
            "id_token_hint",
            "csrf_token",
        ];
        let mut pairs: Vec<(String, String)> = secrets
            .iter()
            .map(|k| (k.to_string(), format!("sekrit-{k}")))
            .collect();
        pairs.push(("grant_type".into(), "authorization_code".into()));
        let shown = format!("{:?}", Params::new(pairs).unwrap());
        assert!(!shown.contains("sekrit"), "{shown}");
        for k in secrets {
            assert!(shown.contains(&format!("\"{k}\": \"***\"")), "{shown}");
        }
        assert!(
            shown.contains("\"grant_type\": \"authorization_code\""),
            "{shown}"
        );
    }

    #[test]
    fn query_round_trip() {
        let p = Params::from_query("scope=openid%20profile&state=x%26y").unwrap();
        assert_eq!(p.get("scope"), Some("openid profile"));
        assert_eq!(
            Params::from_query(&p.to_query()).unwrap().get("state"),
            Some("x&y")
        );
    }
}
