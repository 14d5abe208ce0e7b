//! # gatehouse-verify
//!
//! Protect an HTTP API with Gatehouse (or any authorization server that publishes the same
//! formats): verify JWT access tokens against the JWKS, accept Gatehouse API keys through
//! introspection, check DPoP proofs, enforce per-key rate limits with standard headers, answer
//! with RFC 6750 challenges, and publish RFC 9728 protected-resource metadata.
//!
//! This crate knows nothing of the server's internals; it depends only on published formats:
//! RFC 8414 / OIDC discovery, JWKS (RFC 7517), JWT access tokens (RFC 9068), introspection
//! (RFC 7662), DPoP (RFC 9449), protected-resource metadata (RFC 9728), the rate-limit header
//! fields (draft-ietf-httpapi-ratelimit-headers-10) and the API-key format of Gatehouse's
//! `docs/api-keys.md`.
//!
//! ```no_run
//! use gatehouse_verify::{RateLimitConfig, RateLimiter, ResourceConfig, ResourceServer, Verifier,
//!     VerifierConfig};
//! # fn main() -> Result<(), gatehouse_verify::BuildError> {
//! let verifier = Verifier::new(
//!     VerifierConfig::new("https://id.example.com")
//!         .introspection_client("my-api", "its-secret"),
//! )?;
//! let limiter = RateLimiter::new(RateLimitConfig::default())?;
//! let rs = ResourceServer::new(verifier, Some(limiter), ResourceConfig::new("https://api.example.com"))?;
//! # Ok(()) }
//! ```
//! Then wrap the app with `actix::Protect` (feature `actix`) or `tower::ProtectLayer`
//! (feature `tower`), or call [`ResourceServer::authorize`] yourself.
//!
//! ## Dependencies and why
//! - `jsonwebtoken` 11 (`aws_lc_rs` backend): signature verification with strict algorithm and
//!   key-family checks, JWK types and RFC 7638 thumbprints; the workspace's choice.
//! - `reqwest` 0.12 (rustls): discovery, JWKS and introspection with timeouts and no redirects;
//!   the workspace's choice.
//! - `redis` 1.8 (feature `redis`, `tokio-comp` + `connection-manager`): the official Rust
//!   client, actively released; the connection manager reconnects by itself. Only the GCRA
//!   Lua script runs on it.
//! - No cache or rate-limit crate: a bounded expiring map (~100 lines) and GCRA (~30 lines)
//!   give exactly the numbers the rate-limit headers need (remaining, reset), which `governor`
//!   does not expose per key, and let the same arithmetic run in Redis.
//! - `actix-web` 4 (feature `actix`), `tower-layer`/`tower-service` 0.3 and `http` 1 (feature
//!   `tower`, for axum and hyper): the adapters only.
// Unit tests may read the system clock and run long; shipped code may not.
#![cfg_attr(test, allow(clippy::disallowed_methods, clippy::too_many_lines))]

mod apikey;
mod cache;
mod claims;
mod clock;
mod config;
mod discovery;
mod dpop;
mod error;
mod fetch;
mod introspection;
mod jwt;
mod keys;
mod metadata;
mod ratelimit;
mod rejection;
mod resource;
mod scope;
mod verifier;

#[cfg(feature = "actix")]
pub mod actix;
#[cfg(feature = "tower")]
pub mod tower;

pub use apikey::{KeyForm, ip_allowed, key_form};
pub use claims::{ApiKeyInfo, Claims, CredentialKind};
pub use clock::{Clock, ManualClock, SystemClock};
pub use config::{DpopConfig, IntrospectionClient, VerifierConfig};
pub use dpop::{DPOP_ALGS, DpopRequest};
pub use error::{BuildError, VerifyError};
pub use metadata::ProtectedResourceMetadata;
pub use ratelimit::{
    ClassLimits, MethodClass, RateDecision, RateLimitConfig, RateLimiter, UpdatePolicy,
};
pub use rejection::{Rejection, Scheme};
pub use resource::{Access, RequestInfo, ResourceConfig, ResourceServer};
pub use scope::ScopeSet;
pub use verifier::Verifier;
