//! End-to-end tests: the real server on a random port with a fresh database (SQLite, or
//! PostgreSQL when `GATEHOUSE_TEST_DATABASE_URL` is set), driven as a relying party and a
//! browser would drive it. One module per protocol area.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::too_many_lines,
    clippy::disallowed_methods
)]

mod ops_support;
mod support;

mod admin_api;
mod admin_api_callers;
mod admin_api_clients;
mod admin_rights;
mod apikey_use;
mod apikeys_cli;
mod audit_events;
mod cli;
mod cli_clients;
mod cli_users;
mod client_secret_jwt;
mod cluster;
mod code_flow;
mod conformance_code_flow;
mod conformance_discovery;
mod conformance_logout;
mod conformance_prompt;
mod conformance_support;
mod connections;
mod console;
mod console_access;
mod console_browser;
mod console_browser_clients;
mod console_browser_users;
mod console_clients;
mod console_resources;
mod console_users;
mod day_one;
mod device_flow;
mod discovery;
mod dpop;
mod dpop_endpoints;
mod dpop_registration;
mod durability;
mod dynamic_registration;
mod es256_access_tokens;
mod hash_flood;
mod health_metrics;
mod implicit_hybrid;
mod introspection;
mod jwt_bearer;
mod keys;
mod log_scan;
mod login_limits;
mod mcp_client;
mod node_caches;
mod operations_cli;
mod par;
mod private_key_jwt;
mod refresh;
mod refresh_concurrency;
mod refresh_policy;
mod request_objects;
mod resource_indicators;
mod resource_server;
mod resources_admin_api;
mod revocation;
mod tenant_sessions;
mod tenant_tokens;
mod tenant_usernames;
mod tls;
mod token_endpoint;
mod token_exchange;
mod user_profile_cli;
mod userinfo;
