//! Request parameters as received (query string or form body), before typing.
//!
//! RFC 6749 §3.1 and §3.2: parameters sent without a value are treated as omitted, and a
//! parameter must not be included more than once. [`Params`] enforces both and bounds sizes,
//! so the typed parsers downstream never see a repeated or oversized value.

use crate::error::OAuthError;
use crate::values::MAX_PARAM_LEN;

/// At most this many parameters in one request.
const MAX_PARAMS: usize = 64;

#[derive(Debug, Clone, Default)]
pub struct Params(Vec<(String, String)>);

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
            if out.iter().any(|(ek, _)| *ek == k) {
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

    /// A required parameter, or `invalid_request` naming it.
    pub fn require(&self, name: &str) -> Result<&str, OAuthError> {
        self.get(name)
            .ok_or_else(|| OAuthError::invalid_request(format!("missing parameter {name}")))
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
    fn empty_values_count_as_omitted() {
        let p = Params::new(vec![("a".into(), "".into()), ("a".into(), "2".into())]).unwrap();
        assert_eq!(p.get("a"), Some("2"));
        assert!(p.require("b").is_err());
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
