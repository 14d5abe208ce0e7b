//! Schema migrations (sea-orm-migration). [`Migrator`] lists them in order; [`crate::Store::connect`]
//! applies the pending ones at start-up, serialised across nodes (see [`crate::Store::connect`]).
//!
//! Migrations are frozen history: they spell out their tables with explicit column types and do not
//! derive anything from the current entities, so editing an entity never changes an applied
//! migration. Every statement is `IF NOT EXISTS` / `ON CONFLICT DO NOTHING`, so a re-run is harmless.

use sea_orm_migration::prelude::*;

mod m20261123_000001_initial;
mod m20261123_000002_token_lifecycle;
mod m20261123_000003_signed_client_auth;
mod m20261123_000004_sessions_profiles_claims;
mod m20261123_000005_key_lifecycle;
mod m20261123_000006_api_keys;
mod m20261201_000007_admin_users;
mod m20261201_000010_rotation_salts_hmac_secrets;
mod m20261204_000020_per_tenant_usernames;
mod m20261204_000030_cache_generations;
mod m20261204_000050_user_disabled;
mod m20261204_000060_resource_indicators;
mod m20261204_000061_pushed_requests;
mod m20261204_000080_device_authorizations;
mod m20261204_000100_dpop;
mod m20261204_000110_dynamic_registration;
mod m20261204_000120_may_act;
mod m20261204_000130_option_generations;

/// The ordered list of Gatehouse migrations.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261123_000001_initial::Migration),
            Box::new(m20261123_000002_token_lifecycle::Migration),
            Box::new(m20261123_000003_signed_client_auth::Migration),
            Box::new(m20261123_000004_sessions_profiles_claims::Migration),
            Box::new(m20261123_000005_key_lifecycle::Migration),
            Box::new(m20261123_000006_api_keys::Migration),
            Box::new(m20261201_000007_admin_users::Migration),
            Box::new(m20261201_000010_rotation_salts_hmac_secrets::Migration),
            Box::new(m20261204_000020_per_tenant_usernames::Migration),
            Box::new(m20261204_000030_cache_generations::Migration),
            Box::new(m20261204_000050_user_disabled::Migration),
            Box::new(m20261204_000060_resource_indicators::Migration),
            Box::new(m20261204_000061_pushed_requests::Migration),
            Box::new(m20261204_000080_device_authorizations::Migration),
            Box::new(m20261204_000100_dpop::Migration),
            Box::new(m20261204_000110_dynamic_registration::Migration),
            Box::new(m20261204_000120_may_act::Migration),
            Box::new(m20261204_000130_option_generations::Migration),
        ]
    }
}
