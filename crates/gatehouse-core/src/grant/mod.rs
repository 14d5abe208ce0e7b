//! The grants of the token endpoint, one module each, as plain functions over the ports:
//!
//! - [`authorization_code`] — RFC 6749 §4.1.3 with PKCE (RFC 7636 §4.5–4.6), OIDC Core §3.1.3;
//!   a replayed code revokes its grant (RFC 6749 §4.1.2);
//! - [`client_credentials`] — RFC 6749 §4.4;
//! - [`refresh_token`] — RFC 6749 §6 with rotation and reuse detection (RFC 9700 §4.14.2);
//!   its lifetimes and grace period are the policy of [`rotation`];
//! - [`jwt_bearer`] — RFC 7523 §2.1, assertions from registered trusts;
//! - [`token_exchange`] — RFC 8693, an API key for a JWT access token;
//! - [`delegation`] — RFC 8693, a user's access or ID token for a token of another client
//!   acting for the user (`act`, `may_act`);
//! - [`device_code`] — RFC 8628 §3.4–3.5, polling for the user's decision.
//!
//! [`mint`] signs what they issue (RFC 9068 access tokens, OIDC ID tokens) and shapes the
//! RFC 6749 §5.1 response; [`outcome`] is how a grant says why it refused and what it detected.
//! The token endpoint's entry ([`crate::token`]) authenticates the client, picks the grant and
//! turns outcomes into audit events; grants never write audit events themselves.

pub mod authorization_code;
pub mod client_credentials;
pub mod delegation;
pub mod device_code;
pub mod jwt_bearer;
pub mod mint;
pub mod outcome;
pub mod refresh_token;
pub mod rotation;
pub mod token_exchange;
