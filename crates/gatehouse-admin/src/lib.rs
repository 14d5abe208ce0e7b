//! # gatehouse-admin: the operator layer
//!
//! Every operator action of Gatehouse (issues 4, 8 and 11) — tenants, users and their
//! sessions, clients, JWT bearer trusts, API keys, signing keys, the audit trail — as one typed function, shared by the three
//! surfaces: the `gatehouse` CLI, the admin API (`/admin/v1`) and the admin console. Each
//! operation
//!
//! 1. asks the core policy ([`gatehouse_core::admin::authorize`]) whether its [`Actor`] may do
//!    it — rights, tenant isolation, platform-only actions, "grant only what you hold";
//! 2. validates everything it was given (typed [`FieldError`]s that name the field, never a
//!    surface's spelling of it);
//! 3. writes;
//! 4. appends the audit event (same action names and details on every surface).
//!
//! Results are typed, serializable views ([`views`]); secrets shown once are [`ShownOnce`],
//! which never prints in `Debug`. The surfaces only translate: parse their input, call the
//! operation with their principal, render the view or the [`OpError`] their own way.
//!
//! Invariants (stated as absences): no HTTP and no CLI vocabulary (no flag, no status code);
//! no `serde_json::Value` as a result; no write before the policy and the validation agreed.
// Unit tests may read the system clock and run long; shipped code may not.
#![cfg_attr(test, allow(clippy::disallowed_methods, clippy::too_many_lines))]

pub mod actor;
pub mod api_keys;
pub mod audit;
pub mod clients;
pub mod error;
pub mod master_key;
pub mod password;
pub mod registration_tokens;
pub mod resources;
pub mod sessions;
pub mod signing_keys;
pub mod tenants;
pub mod trusts;
pub mod users;
pub mod views;

pub use actor::{Actor, Context, Precondition};
pub use error::{Object, OpError};
pub use gatehouse_core::admin::{Denied, Grantee, Principal};
pub use gatehouse_core::field::{Field, FieldError};
pub use password::{BlockingHasher, PasswordHasher};
pub use views::ShownOnce;
