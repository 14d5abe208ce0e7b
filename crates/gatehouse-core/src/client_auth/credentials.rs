//! What a request presents to authenticate its client (RFC 6749 §2.3.1, OIDC Core §9,
//! RFC 7523 §2.2), parsed once. A request uses one method or none; two at once are refused.

use std::fmt;

use crate::client_auth::assertion::{CLIENT_ASSERTION_TYPE_JWT, peek_claim};
use crate::error::OAuthError;
use crate::params::Params;
use crate::secret::Secret;

/// An HTTP Basic `Authorization` header, decoded by the server: the id and the secret are
/// already form-urldecoded (RFC 6749 §2.3.1). Holds a secret: no `Debug` with content.
pub struct BasicCredentials {
    pub client_id: String,
    pub secret: Secret,
}

impl fmt::Debug for BasicCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BasicCredentials(..)")
    }
}

/// How the client authenticates (RFC 6749 §2.3.1, OIDC Core §9). One method only: a request
/// that uses two (a Basic header and `client_secret` in the body, or an assertion alongside
/// either) is refused when parsed.
pub enum ClientCredentials {
    /// HTTP Basic (`client_secret_basic`).
    Basic { client_id: String, secret: Secret },
    /// `client_id` and `client_secret` in the form body (`client_secret_post`).
    Post { client_id: String, secret: Secret },
    /// A public client: `client_id` only (`none`).
    None { client_id: String },
    /// A signed JWT (`private_key_jwt` / `client_secret_jwt`, RFC 7523 §2.2). `client_id` is the
    /// body's `client_id`, or else the assertion's unverified `sub` (verification checks both).
    Assertion {
        client_id: String,
        assertion: String,
    },
}

impl fmt::Debug for ClientCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Basic { .. } => "ClientCredentials::Basic(..)",
            Self::Post { .. } => "ClientCredentials::Post(..)",
            Self::None { .. } => "ClientCredentials::None(..)",
            Self::Assertion { .. } => "ClientCredentials::Assertion(..)",
        })
    }
}

impl ClientCredentials {
    /// Reads the credentials of a request from its decoded Basic header (if any) and its body.
    /// `Ok(None)` when the request presents none at all; whether that is acceptable is decided
    /// by [`crate::client_auth::authenticate`].
    pub fn parse(
        basic: Option<BasicCredentials>,
        body: &Params,
    ) -> Result<Option<Self>, OAuthError> {
        if body.get("client_assertion").is_some() || body.get("client_assertion_type").is_some() {
            return Self::parse_assertion(basic.is_some(), body).map(Some);
        }
        let body_id = body.get("client_id");
        let body_secret = body.get("client_secret");
        match basic {
            Some(BasicCredentials { client_id, secret }) => {
                if body_secret.is_some() {
                    return Err(OAuthError::invalid_request(
                        "use one client authentication method, not two",
                    ));
                }
                if body_id.is_some_and(|b| b != client_id) {
                    return Err(OAuthError::invalid_request(
                        "client_id in the body differs from the Basic header",
                    ));
                }
                Ok(Some(Self::Basic { client_id, secret }))
            }
            None => match (body_id, body_secret) {
                (Some(id), Some(secret)) => Ok(Some(Self::Post {
                    client_id: id.into(),
                    secret: Secret::from_presented(secret),
                })),
                (Some(id), None) => Ok(Some(Self::None {
                    client_id: id.into(),
                })),
                (None, Some(_)) => Err(OAuthError::invalid_client(
                    "client_secret without client_id",
                )),
                (None, None) => Ok(None),
            },
        }
    }

    /// RFC 7523 §2.2: `client_assertion_type` must be the JWT bearer URN, and no other method
    /// may be used alongside.
    fn parse_assertion(basic: bool, body: &Params) -> Result<Self, OAuthError> {
        if basic || body.get("client_secret").is_some() {
            return Err(OAuthError::invalid_request(
                "use one client authentication method, not two",
            ));
        }
        if body.get("client_assertion_type") != Some(CLIENT_ASSERTION_TYPE_JWT) {
            return Err(OAuthError::invalid_client(
                "client_assertion_type must be urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ));
        }
        let assertion = body
            .get("client_assertion")
            .ok_or_else(|| OAuthError::invalid_client("client_assertion is missing"))?;
        let client_id = match body.get("client_id") {
            Some(id) => id.to_owned(),
            None => peek_claim(assertion, "sub")
                .ok_or_else(|| OAuthError::invalid_client("client authentication failed"))?,
        };
        Ok(Self::Assertion {
            client_id,
            assertion: assertion.to_owned(),
        })
    }

    pub fn is_basic(&self) -> bool {
        matches!(self, Self::Basic { .. })
    }

    /// The client the credentials claim to be (not yet authenticated).
    pub fn client_id(&self) -> &str {
        match self {
            Self::Basic { client_id, .. }
            | Self::Post { client_id, .. }
            | Self::None { client_id }
            | Self::Assertion { client_id, .. } => client_id,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;

    fn p(pairs: &[(&str, &str)]) -> Params {
        Params::new(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
        .unwrap()
    }

    fn basic(id: &str) -> Option<BasicCredentials> {
        Some(BasicCredentials {
            client_id: id.into(),
            secret: Secret::from_presented("s"),
        })
    }

    #[test]
    fn assertions_need_the_jwt_bearer_type_and_no_second_method_rfc7523_2_2() {
        let e = ClientCredentials::parse(
            None,
            &p(&[
                ("client_assertion_type", "urn:other"),
                ("client_assertion", "x.y.z"),
            ]),
        )
        .unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidClient);
        let e = ClientCredentials::parse(None, &p(&[("client_assertion", "x.y.z")])).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidClient);
        let e = ClientCredentials::parse(
            basic("a"),
            &p(&[
                ("client_assertion_type", CLIENT_ASSERTION_TYPE_JWT),
                ("client_assertion", "x.y.z"),
            ]),
        )
        .unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidRequest);
        // Without client_id the (unverified) sub names the client.
        let c = ClientCredentials::parse(
            None,
            &p(&[
                ("client_assertion_type", CLIENT_ASSERTION_TYPE_JWT),
                ("client_assertion", "e30.eyJzdWIiOiJjMSJ9.c2ln"),
            ]),
        )
        .unwrap();
        assert!(
            matches!(c, Some(ClientCredentials::Assertion { ref client_id, .. }) if client_id == "c1")
        );
    }

    #[test]
    fn one_method_per_request_rfc6749_2_3() {
        let e = ClientCredentials::parse(basic("a"), &p(&[("client_secret", "s")])).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidRequest);
        let e = ClientCredentials::parse(basic("a"), &p(&[("client_id", "b")])).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidRequest);
        let c = ClientCredentials::parse(basic("a"), &p(&[("client_id", "a")])).unwrap();
        assert!(c.is_some_and(|c| c.is_basic() && c.client_id() == "a"));
    }

    #[test]
    fn nothing_presented_is_none_and_a_lone_secret_is_refused() {
        assert!(ClientCredentials::parse(None, &p(&[])).unwrap().is_none());
        let e = ClientCredentials::parse(None, &p(&[("client_secret", "s")])).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidClient);
        let c = ClientCredentials::parse(None, &p(&[("client_id", "pub")])).unwrap();
        assert!(matches!(c, Some(ClientCredentials::None { .. })));
        let c = ClientCredentials::parse(None, &p(&[("client_id", "a"), ("client_secret", "s")]))
            .unwrap();
        assert!(matches!(c, Some(ClientCredentials::Post { .. })));
    }
}
