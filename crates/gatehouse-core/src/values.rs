//! Typed protocol values, parsed once at the edge ("parse, don't validate").
//!
//! Each type has a private field and one fallible constructor, so holding a value proves it is
//! well formed: a [`RedirectUri`] is absolute and fragment-free, a [`Scope`] uses only the
//! characters of RFC 6749 §3.3, a [`PkceChallenge`] is an S256 challenge (RFC 7636 §4.2).

use std::collections::BTreeSet;
use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Longest identifier, scope token, state or nonce we accept; longer input is refused, not cut.
pub const MAX_PARAM_LEN: usize = 2048;

/// Why a protocol value does not parse. The text is the RFC rule, fit for an
/// `error_description` or a CLI message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValueError {
    #[error("{0} must be 1 to 255 visible ASCII characters")]
    Identifier(&'static str),
    #[error("redirect_uri is too long")]
    RedirectUriTooLong,
    #[error("redirect_uri is not an absolute URI: {0}")]
    RedirectUriNotAbsolute(String),
    #[error("redirect_uri must not contain a fragment")]
    RedirectUriFragment,
    #[error(
        "redirect URI {0} uses http on a non-loopback host; use https (http is allowed only for 127.0.0.1, [::1] and localhost)"
    )]
    RedirectUriPlainHttp(String),
    #[error(
        "redirect URI {uri} has scheme {scheme}: use https, loopback http, or a private-use scheme such as com.example.app"
    )]
    RedirectUriScheme { uri: String, scheme: String },
    #[error("invalid scope token {0:?}")]
    ScopeToken(String),
    #[error("scope is too long")]
    ScopeTooLong,
    #[error("unsupported signing algorithm {0:?} (use RS256 or ES256)")]
    SigningAlg(String),
    #[error("code_challenge_method must be S256 (plain is not allowed)")]
    PkcePlain,
    #[error("unsupported code_challenge_method {0:?}")]
    PkceMethod(String),
    #[error("code_challenge must be the 43-character BASE64URL of a SHA-256 digest")]
    PkceChallenge,
    #[error("code_verifier must be 43 to 128 characters of [A-Za-z0-9-._~]")]
    PkceVerifier,
}

/// Lets a value error become a field error's reason (`FieldError::new(field, e)`).
impl From<ValueError> for String {
    fn from(e: ValueError) -> Self {
        e.to_string()
    }
}

/// Lets a value error become an `error_description` (`OAuthError::invalid_request(e)`).
impl From<ValueError> for std::borrow::Cow<'static, str> {
    fn from(e: ValueError) -> Self {
        std::borrow::Cow::Owned(e.to_string())
    }
}

macro_rules! id_type {
    ($(#[$m:meta])* $name:ident, $what:literal) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Parses an identifier: 1 to 255 visible ASCII characters.
            pub fn parse(s: &str) -> Result<Self, ValueError> {
                if s.is_empty() || s.len() > 255 || !s.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
                    return Err(ValueError::Identifier($what));
                }
                Ok(Self(s.to_owned()))
            }
            /// A new random identifier (UUID v4).
            pub fn generate() -> Self {
                Self(uuid::Uuid::new_v4().to_string())
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl TryFrom<String> for $name {
            type Error = ValueError;
            fn try_from(s: String) -> Result<Self, ValueError> {
                Self::parse(&s)
            }
        }
        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.0
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

id_type!(
    /// A registered client's identifier (RFC 6749 §2.2).
    ClientId, "client_id");
id_type!(
    /// A user's stable identifier: the `sub` of its ID tokens.
    UserId, "user id");
id_type!(
    /// One authorization grant: the family of refresh and access tokens that stem from one
    /// authorization code (RFC 9700 §4.14.2 revokes a family as a whole).
    GrantId, "grant id");
id_type!(
    /// A tenant's identifier.
    TenantId, "tenant id");

impl TenantId {
    /// The tenant that exists from the first start and owns everything not given a tenant.
    pub const DEFAULT: &'static str = "default";

    /// The `default` tenant.
    pub fn default_tenant() -> Self {
        Self(Self::DEFAULT.to_owned())
    }
}

/// A redirect URI: absolute, no fragment (RFC 6749 §3.1.2). Compared by exact string match,
/// except that the port of a loopback `http` URI may vary (RFC 8252 §7.3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RedirectUri(String);

impl RedirectUri {
    /// Parses a redirect URI as sent in a request.
    pub fn parse(s: &str) -> Result<Self, ValueError> {
        if s.len() > MAX_PARAM_LEN {
            return Err(ValueError::RedirectUriTooLong);
        }
        let url =
            url::Url::parse(s).map_err(|e| ValueError::RedirectUriNotAbsolute(e.to_string()))?;
        if url.fragment().is_some() || s.contains('#') {
            return Err(ValueError::RedirectUriFragment);
        }
        Ok(Self(s.to_owned()))
    }

    /// Parses a redirect URI for registration, where RFC 9700 §2.1 and RFC 8252 §7 apply:
    /// `https`, `http` only on a loopback host, or a private-use scheme with a dot
    /// (`com.example.app:/callback`).
    pub fn parse_for_registration(s: &str) -> Result<Self, ValueError> {
        let uri = Self::parse(s)?;
        let url =
            url::Url::parse(s).map_err(|e| ValueError::RedirectUriNotAbsolute(e.to_string()))?;
        match url.scheme() {
            "https" => Ok(uri),
            "http" if is_loopback_host(&url) => Ok(uri),
            "http" => Err(ValueError::RedirectUriPlainHttp(s.to_owned())),
            scheme if scheme.contains('.') => Ok(uri),
            scheme => Err(ValueError::RedirectUriScheme {
                uri: s.to_owned(),
                scheme: scheme.to_owned(),
            }),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether a URI sent in a request matches this registered one: the exact string, or, for a
    /// loopback IP literal registered over `http`, the same URI on any port (RFC 8252 §7.3).
    pub fn matches(&self, requested: &RedirectUri) -> bool {
        if self.0 == requested.0 {
            return true;
        }
        let (Ok(reg), Ok(req)) = (url::Url::parse(&self.0), url::Url::parse(&requested.0)) else {
            return false;
        };
        let loopback_ip = matches!(reg.host(), Some(url::Host::Ipv4(ip)) if ip.is_loopback())
            || matches!(reg.host(), Some(url::Host::Ipv6(ip)) if ip.is_loopback());
        if reg.scheme() != "http" || !loopback_ip {
            return false;
        }
        let mut req_no_port = req.clone();
        let mut reg_no_port = reg.clone();
        if req_no_port.set_port(None).is_err() || reg_no_port.set_port(None).is_err() {
            return false;
        }
        // Compare the serialisations without the port; the request's own string must otherwise be
        // what was registered (no added userinfo, no normalisation tricks).
        req_no_port.as_str() == reg_no_port.as_str()
            && requested
                .0
                .starts_with(&format!("http://{}", reg.host_str().unwrap_or_default()))
    }
}

fn is_loopback_host(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

impl TryFrom<String> for RedirectUri {
    type Error = ValueError;
    fn try_from(s: String) -> Result<Self, ValueError> {
        Self::parse(&s)
    }
}
impl From<RedirectUri> for String {
    fn from(v: RedirectUri) -> String {
        v.0
    }
}
impl fmt::Display for RedirectUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One scope token (RFC 6749 §3.3: `%x21 / %x23-5B / %x5D-7E`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Scope(String);

impl Scope {
    pub fn parse(s: &str) -> Result<Self, ValueError> {
        let ok = !s.is_empty()
            && s.len() <= 256
            && s.bytes()
                .all(|b| b == 0x21 || (0x23..=0x5b).contains(&b) || (0x5d..=0x7e).contains(&b));
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(ValueError::ScopeToken(s.to_owned()))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A set of scopes, written space-separated on the wire (RFC 6749 §3.3).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ScopeSet(BTreeSet<Scope>);

impl ScopeSet {
    /// Parses a space-delimited scope string; empty input gives the empty set.
    pub fn parse(s: &str) -> Result<Self, ValueError> {
        if s.len() > MAX_PARAM_LEN * 4 {
            return Err(ValueError::ScopeTooLong);
        }
        s.split(' ')
            .filter(|t| !t.is_empty())
            .map(Scope::parse)
            .collect::<Result<BTreeSet<_>, _>>()
            .map(Self)
    }
    pub fn contains(&self, scope: &str) -> bool {
        self.0.iter().any(|s| s.0 == scope)
    }
    pub fn is_subset(&self, other: &ScopeSet) -> bool {
        self.0.is_subset(&other.0)
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|s| s.as_str())
    }
    /// The scopes of `self` that are not in `other`.
    pub fn difference(&self, other: &ScopeSet) -> Vec<String> {
        self.0.difference(&other.0).map(|s| s.0.clone()).collect()
    }
    /// The scopes in both sets.
    pub fn intersection(&self, other: &ScopeSet) -> ScopeSet {
        ScopeSet(self.0.intersection(&other.0).cloned().collect())
    }
    /// This set without the given scopes.
    pub fn without(&self, names: &[&str]) -> ScopeSet {
        ScopeSet(
            self.0
                .iter()
                .filter(|s| !names.contains(&s.as_str()))
                .cloned()
                .collect(),
        )
    }
}

impl fmt::Display for ScopeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for s in &self.0 {
            if !first {
                f.write_str(" ")?;
            }
            f.write_str(&s.0)?;
            first = false;
        }
        Ok(())
    }
}
impl TryFrom<String> for ScopeSet {
    type Error = ValueError;
    fn try_from(s: String) -> Result<Self, ValueError> {
        Self::parse(&s)
    }
}
impl From<ScopeSet> for String {
    fn from(v: ScopeSet) -> String {
        v.to_string()
    }
}

/// A JWS algorithm Gatehouse signs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SigningAlg {
    RS256,
    ES256,
}

impl SigningAlg {
    pub const ALL: [SigningAlg; 2] = [SigningAlg::RS256, SigningAlg::ES256];
    pub fn as_str(self) -> &'static str {
        match self {
            SigningAlg::RS256 => "RS256",
            SigningAlg::ES256 => "ES256",
        }
    }
    pub fn parse(s: &str) -> Result<Self, ValueError> {
        match s {
            "RS256" => Ok(SigningAlg::RS256),
            "ES256" => Ok(SigningAlg::ES256),
            other => Err(ValueError::SigningAlg(other.to_owned())),
        }
    }
}

impl fmt::Display for SigningAlg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A PKCE `code_challenge` with method S256 (RFC 7636 §4.2). `plain` is refused at parse time
/// (RFC 9700 §2.1.1), so holding one means S256.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PkceChallenge(String);

impl PkceChallenge {
    /// Parses `code_challenge` and `code_challenge_method`. A missing method means `plain`
    /// (RFC 7636 §4.3), which is refused.
    pub fn parse(challenge: &str, method: Option<&str>) -> Result<Self, ValueError> {
        match method {
            Some("S256") => {}
            Some("plain") | None => return Err(ValueError::PkcePlain),
            Some(other) => return Err(ValueError::PkceMethod(other.to_owned())),
        }
        // BASE64URL(SHA-256) is 43 characters.
        if challenge.len() != 43 || !challenge.bytes().all(is_b64url) {
            return Err(ValueError::PkceChallenge);
        }
        Ok(Self(challenge.to_owned()))
    }
    /// Rebuilds a stored challenge.
    pub fn from_stored(s: String) -> Self {
        Self(s)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// RFC 7636 §4.6: BASE64URL(SHA256(verifier)) == challenge, compared in constant time.
    pub fn verify(&self, verifier: &PkceVerifier) -> bool {
        let digest = Sha256::digest(verifier.0.as_bytes());
        let computed = URL_SAFE_NO_PAD.encode(digest);
        computed.as_bytes().ct_eq(self.0.as_bytes()).into()
    }
}

fn is_b64url(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

/// A PKCE `code_verifier`: 43 to 128 unreserved characters (RFC 7636 §4.1).
pub struct PkceVerifier(String);

impl PkceVerifier {
    pub fn parse(s: &str) -> Result<Self, ValueError> {
        let ok = (43..=128).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(ValueError::PkceVerifier)
        }
    }
}

impl fmt::Debug for PkceVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PkceVerifier(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uri(s: &str) -> RedirectUri {
        RedirectUri::parse(s).unwrap()
    }

    #[test]
    fn redirect_uri_matches_exact_string_only() {
        let reg = uri("https://app.example.com/cb");
        assert!(reg.matches(&uri("https://app.example.com/cb")));
        assert!(!reg.matches(&uri("https://app.example.com/cb/")));
        assert!(!reg.matches(&uri("https://app.example.com/cb?x=1")));
        assert!(!reg.matches(&uri("https://APP.example.com/cb")));
        assert!(!reg.matches(&uri("https://app.example.com.evil.com/cb")));
        assert!(!reg.matches(&uri("https://app.example.com:443/cb")));
    }

    #[test]
    fn loopback_redirect_uri_may_change_port_rfc8252() {
        let reg = uri("http://127.0.0.1/callback");
        assert!(reg.matches(&uri("http://127.0.0.1:51234/callback")));
        assert!(!reg.matches(&uri("http://127.0.0.1:51234/other")));
        assert!(!reg.matches(&uri("http://localhost:51234/callback")));
        let reg6 = uri("http://[::1]:8000/cb");
        assert!(reg6.matches(&uri("http://[::1]:9000/cb")));
        // https on loopback and domain names keep exact matching.
        assert!(!uri("http://localhost/cb").matches(&uri("http://localhost:1/cb")));
    }

    #[test]
    fn redirect_uri_rejects_fragments_and_relative() {
        assert!(RedirectUri::parse("https://a.example/cb#x").is_err());
        assert!(RedirectUri::parse("/cb").is_err());
        assert!(RedirectUri::parse_for_registration("http://evil.example/cb").is_err());
        assert!(RedirectUri::parse_for_registration("http://localhost:3000/cb").is_ok());
        assert!(RedirectUri::parse_for_registration("com.example.app:/cb").is_ok());
        assert!(RedirectUri::parse_for_registration("javascript:alert(1)").is_err());
    }

    #[test]
    fn scope_set_parses_rfc6749_tokens() {
        let s = ScopeSet::parse("openid  profile api:read").unwrap();
        assert_eq!(s.to_string(), "api:read openid profile");
        assert!(ScopeSet::parse("bad\"scope").is_err());
        assert!(ScopeSet::parse("bad\\scope").is_err());
        assert!(ScopeSet::parse("").unwrap().is_empty());
        let narrow = ScopeSet::parse("openid").unwrap();
        assert!(narrow.is_subset(&s));
        assert!(!s.is_subset(&narrow));
    }

    #[test]
    fn pkce_s256_round_trip_rfc7636_appendix_b() {
        // The example of RFC 7636 Appendix B.
        let verifier = PkceVerifier::parse("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk").unwrap();
        let challenge =
            PkceChallenge::parse("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", Some("S256"))
                .unwrap();
        assert!(challenge.verify(&verifier));
        let other = PkceVerifier::parse(&"a".repeat(43)).unwrap();
        assert!(!challenge.verify(&other));
    }

    #[test]
    fn pkce_plain_and_missing_method_are_refused() {
        let c = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(PkceChallenge::parse(c, Some("plain")).is_err());
        assert!(PkceChallenge::parse(c, None).is_err());
        assert!(PkceChallenge::parse("short", Some("S256")).is_err());
        assert!(PkceVerifier::parse("short").is_err());
        assert!(PkceVerifier::parse(&"a".repeat(129)).is_err());
    }
}
