//! Client authentication at the token, introspection and revocation endpoints (RFC 6749 §2.3,
//! §2.3.1, §3.2.1; RFC 7009 §2.1; RFC 7662 §2.1; OIDC Core §9; RFC 7523 §2.2 and §3).
//!
//! All the rules live here, in one place:
//! - [`ClientCredentials`] (`credentials`): what a request presents, parsed once from a decoded
//!   HTTP Basic header and the form body. One method per request: a second method (Basic and a
//!   body secret, or an assertion alongside either) is `invalid_request`.
//! - [`authenticate`] (`authenticate`): the registered method must be the one used; a secret
//!   must match its SHA-256 in constant time; an assertion must verify with the client's keys
//!   and be used once; a client of a disabled tenant does not authenticate. Presented
//!   credentials must be valid even where authentication is optional ([`ClientAuth::Optional`],
//!   the API-key token exchange of RFC 8693 §2.1).
//! - `assertion`: `private_key_jwt` / `client_secret_jwt` assertions and the ports they need
//!   ([`AssertionVerifier`], [`ClientKeyStore`], [`ReplayStore`]), shared with the JWT bearer
//!   grant.

mod assertion;
mod authenticate;
mod credentials;

pub(crate) use assertion::replay_issuer;
pub use assertion::{
    AssertionRejected, AssertionRules, AssertionVerifier, CLIENT_ASSERTION_TYPE_JWT,
    ClientKeyStore, JtiUse, KeySource, ReplayStore, SealedSecret, VerifiedAssertion, peek_claim,
};
pub use authenticate::{
    ClientAuth, ClientAuthContext, ClientDirectory, authenticate, authenticate_required,
};
pub use credentials::{BasicCredentials, ClientCredentials};
