//! The command line: clap definitions, one module per noun, each a thin front over the
//! operator actions of `gatehouse_admin`, run as the local operator
//! ([`Actor::operator`]: every right, audited under the OS login name). This module also holds
//! what every command shares: opening the store, printing a view, and turning an operator
//! action's error into a message that names the flag at fault.

mod apikey;
mod audit;
mod client;
mod key;
mod tenant;
mod trust;
mod user;

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use clap::{Parser, Subcommand};
use gatehouse_admin::{Actor, Field, OpError};
use gatehouse_server::Settings;
use gatehouse_store::Store;
use serde::Serialize;

#[derive(Parser)]
#[command(
    name = "gatehouse",
    version,
    about = "A standalone OAuth 2.0 / OpenID Connect authorization server"
)]
pub struct Cli {
    /// Configuration file (default: config/gatehouse.toml when present).
    #[arg(long, global = true, value_name = "PATH")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

impl Cli {
    /// Whether this run serves (it logs at `info` then).
    pub fn serves(&self) -> bool {
        matches!(self.command, Command::Serve)
    }
}

// Parsed once per process: the size of the largest variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum Command {
    /// Run the authorization server.
    Serve,
    /// Manage OAuth clients.
    #[command(subcommand)]
    Client(client::ClientCmd),
    /// Manage users.
    #[command(subcommand)]
    User(user::UserCmd),
    /// Manage signing keys.
    #[command(subcommand)]
    Key(key::KeyCmd),
    /// Manage JWT bearer grant trusts (service accounts, RFC 7523).
    #[command(subcommand)]
    Trust(trust::TrustCmd),
    /// Manage tenants.
    #[command(subcommand)]
    Tenant(tenant::TenantCmd),
    /// Manage tenants' API keys.
    #[command(subcommand)]
    Apikey(apikey::ApikeyCmd),
    /// Read the audit trail.
    #[command(subcommand)]
    Audit(audit::AuditCmd),
}

/// What a command runs with: the settings, the local operator, the time of the command.
pub(crate) struct Env {
    pub settings: Settings,
    pub operator: Actor,
    pub now: DateTime<Utc>,
}

impl Env {
    /// Opens the database (running pending migrations, as every admin command does).
    pub async fn store(&self) -> anyhow::Result<Store> {
        let url = &self.settings.database_url;
        Store::connect(url)
            .await
            .map_err(|e| anyhow::anyhow!("database {}: {e}", redact(url)))
    }
}

/// Runs one command.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let settings = Settings::load(cli.config.as_deref()).map_err(anyhow::Error::msg)?;
    crate::init_tracing(cli.serves(), settings.log.format);
    if let Command::Serve = cli.command {
        return crate::serve(settings).await;
    }
    let env = Env {
        settings,
        operator: Actor::operator(),
        // Each command acts at one instant, read once from the system clock.
        now: gatehouse_core::ports::Clock::now(&gatehouse_core::ports::SystemClock),
    };
    match cli.command {
        Command::Serve => Ok(()),
        Command::Client(c) => client::run(&env, c).await,
        Command::User(c) => user::run(&env, c).await,
        Command::Key(c) => key::run(&env, c).await,
        Command::Trust(c) => trust::run(&env, c).await,
        Command::Tenant(c) => tenant::run(&env, c).await,
        Command::Apikey(c) => apikey::run(&env, c).await,
        Command::Audit(c) => audit::run(&env, c).await,
    }
}

/// The flag (or argument) that carries a field of an operator's request.
pub(crate) fn flag(field: Field) -> &'static str {
    match field {
        Field::Tenant => "--tenant",
        Field::Name => "--name",
        Field::Scope | Field::AllowedScopes => "--scope",
        Field::GrantTypes => "--grant-type",
        Field::RedirectUris => "--redirect-uri",
        Field::PostLogoutRedirectUris => "--post-logout-redirect-uri",
        Field::AuthMethod => "--auth-method",
        Field::IdTokenAlg => "--id-token-alg",
        Field::AccessTokenAlg => "--access-token-alg",
        Field::AccessTokenTtl => "--access-token-ttl",
        Field::PkceOptional => "--pkce-optional",
        Field::RefreshGraceSeconds => "--refresh-grace-seconds",
        Field::RefreshIdleTtl => "--refresh-idle-ttl",
        Field::RefreshAbsoluteTtl => "--refresh-absolute-ttl",
        Field::Jwks => "--jwks-file",
        Field::JwksUri => "--jwks-uri",
        Field::Username => "--username",
        Field::Email => "--email",
        Field::Password => "password (stdin)",
        Field::GivenName => "--given-name",
        Field::FamilyName => "--family-name",
        Field::Phone => "--phone",
        Field::Address => "--address",
        Field::AdminScopes => "--admin-scope",
        Field::ApiAccess => "--api-access",
        Field::MaxApiKeys => "--max-api-keys",
        Field::ValidityDays => "--validity-days",
        Field::Environment => "--env",
        Field::AllowedIps => "--allow-ip",
        Field::RateLimitClass => "--rate-limit-class",
        Field::Alg => "--alg",
        Field::Issuer => "--issuer",
        Field::Subject => "--subject",
        Field::After => "--after",
        Field::Limit => "--limit",
    }
}

/// An operator action's error as the CLI says it: the flag (via `flags`) or the `ID`
/// argument at fault first.
pub(crate) fn op_error(e: OpError, flags: impl Fn(Field) -> &'static str) -> anyhow::Error {
    match e {
        OpError::Invalid(f) => anyhow::anyhow!("{}: {}", flags(f.field), f.reason),
        e @ OpError::UnknownTenant(_) => anyhow::anyhow!("{}: {e}", flags(Field::Tenant)),
        e @ (OpError::NotFound { .. } | OpError::OtherTenant { .. }) => {
            anyhow::anyhow!("ID: {e}")
        }
        e => anyhow::Error::new(e),
    }
}

/// Names the flag at fault in an operator action's error.
pub(crate) trait Flagged<T> {
    fn flagged(self) -> anyhow::Result<T>;
}

impl<T> Flagged<T> for Result<T, OpError> {
    fn flagged(self) -> anyhow::Result<T> {
        self.map_err(|e| op_error(e, flag))
    }
}

/// Prints a view: its JSON (`--json`, one object on one line), else `field: value` lines.
pub(crate) fn print(out: &impl Serialize, json: bool, fields: &[&str]) -> anyhow::Result<()> {
    let out = serde_json::to_value(out)?;
    if json {
        println!("{out}");
    } else {
        for f in fields {
            println!("{f}: {}", out[f].as_str().unwrap_or("-"));
        }
    }
    Ok(())
}

/// Reads a JWKS (or a single JWK, wrapped into a set) of at most 64 KiB; errors name the flag.
pub(crate) fn read_jwks_file(path: &std::path::Path) -> anyhow::Result<serde_json::Value> {
    let bytes = std::fs::read(path)
        .map_err(|e| anyhow::anyhow!("--jwks-file: cannot read {}: {e}", path.display()))?;
    if bytes.len() > 64 * 1024 {
        anyhow::bail!("--jwks-file: {} is larger than 64 KiB", path.display());
    }
    let v: serde_json::Value = serde_json::from_slice(&bytes)
        .map_err(|e| anyhow::anyhow!("--jwks-file: {} is not JSON: {e}", path.display()))?;
    Ok(if v.get("kty").is_some() {
        serde_json::json!({ "keys": [v] })
    } else {
        v
    })
}

/// Parses `--tenant`.
pub(crate) fn tenant_flag(env: &Env, tenant: &str) -> anyhow::Result<gatehouse_core::TenantId> {
    env.operator.tenant_or_home(Some(tenant)).flagged()
}

/// A database URL without its password, for messages.
fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_owned(),
    }
}
