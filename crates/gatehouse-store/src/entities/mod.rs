//! SeaORM entities: one module per table, mirroring the schema created by
//! [`crate::migration`]. Rows are plain data; conversion to the typed values of
//! `gatehouse-core` happens in [`crate::ports`] and [`crate::admin`].

pub mod api_key;
pub mod assertion_replay;
pub mod audit_event;
pub mod authorization_code;
pub mod client;
pub mod client_options;
pub mod client_registration;
pub mod consent;
pub mod device_authorization;
pub mod grant_claims;
pub mod grant_resources;
pub mod jwt_bearer_trust;
pub mod pushed_request;
pub mod refresh_token;
pub mod registration_token;
pub mod resource_server;
pub mod revoked_grant;
pub mod revoked_token;
pub mod session;
pub mod signing_key;
pub mod tenant;
pub mod user;
