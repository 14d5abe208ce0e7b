//! The command line: clap definitions, one module per noun, each a thin front over the
//! operator actions of `gatehouse_admin`, run as the local operator
//! ([`Actor::operator`]: every right, audited under the OS login name). This module also holds
//! what every command shares: opening the store, printing a view, and turning an operator
//! action's error into a message that names the flag at fault.

mod apikey;
mod audit;
mod client;
mod completions;
mod config;
mod key;
mod ops;
mod perform;
mod registration;
mod resource;
mod tenant;
mod trust;
mod user;

use std::path::PathBuf;
use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use clap::{Parser, Subcommand, ValueEnum};
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
    /// How results are printed: `table` (default; yes/no for booleans) or `json` (one JSON
    /// object, as each command's `--json`).
    #[arg(long, global = true, value_enum, value_name = "FORMAT")]
    output: Option<Output>,
    #[command(subcommand)]
    command: Command,
}

impl Cli {
    /// Whether this run serves (it logs at `info` then).
    pub fn serves(&self) -> bool {
        matches!(self.command, Command::Serve { .. })
    }
}

// Parsed once per process: the size of the largest variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum Command {
    /// Run the authorization server.
    #[command(after_help = SERVE_ENVIRONMENT)]
    Serve {
        /// Do not apply pending migrations; refuse to start while any are pending.
        #[arg(long)]
        no_migrate: bool,
    },
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
    /// Check the configuration without serving.
    #[command(subcommand)]
    Config(config::ConfigCmd),
    /// Run an OAuth flow as a client would (a loopback redirect listener, PKCE).
    #[command(subcommand)]
    Perform(perform::PerformCmd),
    /// Print a shell completion script (e.g. `gatehouse completions bash > /etc/bash_completion.d/gatehouse`).
    Completions(completions::CompletionsArgs),
    /// Manage resource servers (RFC 8707 resource indicators).
    #[command(subcommand)]
    Resource(resource::ResourceCmd),
    /// Initial access tokens of dynamic client registration (RFC 7591).
    #[command(subcommand, name = "registration-token")]
    RegistrationToken(registration::RegistrationTokenCmd),
    /// Apply pending database migrations without serving (--check: list them, exit non-zero
    /// when any is pending).
    Migrate {
        #[arg(long)]
        check: bool,
        #[arg(long)]
        json: bool,
    },
    /// Copy a SQLite database to a new file while it is in use (PostgreSQL: use pg_dump).
    Backup {
        /// The new file to write (must not exist).
        #[arg(long, value_name = "PATH")]
        to: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Manage the master key that seals private keys and client secrets.
    #[command(subcommand, name = "master-key")]
    MasterKey(ops::MasterKeyCmd),
    /// Delete expired codes, tokens, sessions and replay entries, and audit events past
    /// [audit] retention_days, in bounded batches (the server also does this periodically).
    Purge {
        #[arg(long)]
        json: bool,
    },
}

/// The output format of `--output`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub(crate) enum Output {
    #[default]
    Table,
    Json,
}

/// The `--output` of this process, set once before the command runs.
static OUTPUT: OnceLock<Output> = OnceLock::new();

/// Whether to print JSON: the command's own `--json`, or `--output json`.
pub(crate) fn json_wanted(json_flag: bool) -> bool {
    json_flag || OUTPUT.get() == Some(&Output::Json)
}

/// The environment variables `serve` reads (also listed in `docs/configuration.md`).
const SERVE_ENVIRONMENT: &str = "\
Environment variables (they win over the configuration file):
  GATEHOUSE_ISSUER        issuer identifier and public base URL [default: follows the listen address]
  GATEHOUSE_LISTEN        address to bind [default: 127.0.0.1:8080]
  GATEHOUSE_DATABASE_URL  sqlite://PATH?mode=rwc or postgres://user:pass@host/db
                          [default: sqlite://data/gatehouse.db?mode=rwc, relative to the working directory]
  GATEHOUSE_MASTER_KEY    master key sealing private signing keys (64 hex digits or base64)
  GATEHOUSE_LOG           log filter, e.g. info or info,gatehouse::access=warn [default: info]
  GATEHOUSE_LOG_FORMAT    text or json [default: text]
  GATEHOUSE_REDIS_URL     redis://host:port, rate limits shared by the nodes [default: none]
The configuration file is --config PATH, else config/gatehouse.toml when it exists.
Check a configuration with: gatehouse config check";

/// What a command runs with: the settings, the local operator, the time of the command.
pub(crate) struct Env {
    pub settings: Settings,
    pub operator: Actor,
    pub now: DateTime<Utc>,
    /// The database, opened once on first use.
    store: tokio::sync::OnceCell<Store>,
}

impl Env {
    /// Opens the database on first use (running pending migrations, as every admin command
    /// does); later calls share its pool.
    pub async fn store(&self) -> anyhow::Result<Store> {
        let s = &self.settings;
        self.store
            .get_or_try_init(|| async {
                if let Some(path) = s.sqlite_path().filter(|p| !p.exists()) {
                    // A command run from another directory than the server's would otherwise
                    // work on a new, empty database without a word.
                    eprintln!(
                        "warning: database_url: {} does not exist, creating a new empty database (run from the server's directory or set GATEHOUSE_DATABASE_URL)",
                        path.display()
                    );
                }
                let timeout = s.database.connect_timeout();
                Store::connect_within(&s.database_url, timeout)
                    .await
                    .map_err(|e| {
                        let cause = match e {
                            gatehouse_store::Error::Db(m) => m,
                            e => e.to_string(),
                        };
                        anyhow::anyhow!(
                            "database_url: cannot open {}: {cause}",
                            s.database_display()
                        )
                    })
            })
            .await
            .cloned()
    }
}

/// Runs one command.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let _ = OUTPUT.set(cli.output.unwrap_or_default());
    match cli.command {
        Command::Config(c) => return config::run(cli.config.as_deref(), c),
        Command::Completions(c) => return completions::run(c),
        _ => {}
    }
    let (mut settings, report) = Settings::load_reported(cli.config.as_deref())?;
    crate::init_tracing(cli.serves(), settings.log.format)?;
    if let Command::Serve { no_migrate } = cli.command {
        settings.database.migrate_on_start &= !no_migrate;
        return crate::serve(settings, report).await;
    }
    if let Command::Perform(c) = cli.command {
        return perform::run(&settings, c).await;
    }
    let env = Env {
        settings,
        operator: Actor::operator(),
        // Each command acts at one instant, read once from the system clock.
        now: gatehouse_core::ports::Clock::now(&gatehouse_core::ports::SystemClock),
        store: tokio::sync::OnceCell::new(),
    };
    match cli.command {
        Command::Serve { .. } => Ok(()),
        Command::Client(c) => client::run(&env, c).await,
        Command::User(c) => user::run(&env, c).await,
        Command::Key(c) => key::run(&env, c).await,
        Command::Trust(c) => trust::run(&env, c).await,
        Command::Tenant(c) => tenant::run(&env, c).await,
        Command::Apikey(c) => apikey::run(&env, c).await,
        Command::Audit(c) => audit::run(&env, c).await,
        Command::Config(_) | Command::Completions(_) | Command::Perform(_) => Ok(()),
        Command::Resource(c) => resource::run(&env, c).await,
        Command::RegistrationToken(c) => registration::run(&env, c).await,
        Command::Migrate { check, json } => ops::migrate(&env, check, json_wanted(json)).await,
        Command::Backup { to, json } => ops::backup(&env, &to, json_wanted(json)).await,
        Command::MasterKey(c) => ops::master_key(&env, c).await,
        Command::Purge { json } => ops::purge(&env, json_wanted(json)).await,
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
        Field::MayAct => "--may-act",
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
        Field::Identifier => "--identifier",
        Field::Resources => "--resource",
        Field::After => "--after",
        Field::Limit => "--limit",
        Field::Ttl => "--ttl",
        Field::MaxUses => "--max-uses",
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

/// Prints a view: its JSON (`--json` or `--output json`: one object on one line), else aligned
/// `field: value` lines of `fields`.
pub(crate) fn print(out: &impl Serialize, json: bool, fields: &[&str]) -> anyhow::Result<()> {
    let out = serde_json::to_value(out)?;
    if json_wanted(json) {
        println!("{out}");
    } else {
        let width = fields.iter().map(|f| f.len()).max().unwrap_or(0) + 1;
        for f in fields {
            println!("{:width$} {}", format!("{f}:"), cell(&out[f]));
        }
    }
    Ok(())
}

/// A JSON value as a table shows it: booleans as yes/no, lists joined, absence as `-`.
pub(crate) fn cell(v: &serde_json::Value) -> String {
    use serde_json::Value;
    match v {
        Value::Null => "-".to_owned(),
        Value::Bool(true) => "yes".to_owned(),
        Value::Bool(false) => "no".to_owned(),
        Value::String(s) => s.clone(),
        Value::Array(a) if a.is_empty() => "-".to_owned(),
        Value::Array(a) => a.iter().map(cell).collect::<Vec<_>>().join(", "),
        v => v.to_string(),
    }
}

/// Prints `rows` as a table with a header line: `columns` are (heading, field) pairs;
/// `empty` is printed instead when there are no rows.
pub(crate) fn print_table(
    rows: &[serde_json::Value],
    columns: &[(&str, &str)],
    empty: &str,
) -> anyhow::Result<()> {
    if rows.is_empty() {
        println!("{empty}");
        return Ok(());
    }
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| columns.iter().map(|(_, f)| cell(&r[f])).collect())
        .collect();
    let widths: Vec<usize> = columns
        .iter()
        .enumerate()
        .map(|(i, (h, _))| {
            cells
                .iter()
                .map(|r| r[i].chars().count())
                .chain([h.len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |values: Vec<&str>| {
        let padded: Vec<String> = values
            .iter()
            .zip(&widths)
            .map(|(v, w)| format!("{v:w$}"))
            .collect();
        println!("{}", padded.join("  ").trim_end());
    };
    line(columns.iter().map(|(h, _)| *h).collect());
    for r in &cells {
        line(r.iter().map(String::as_str).collect());
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

/// Resolves `--tenant` (a tenant's id or its name) through the operator layer's one resolver.
pub(crate) async fn tenant_flag(
    env: &Env,
    tenant: &str,
) -> anyhow::Result<gatehouse_core::TenantId> {
    let store = env.store().await?;
    let ctx = gatehouse_admin::Context::new(&store, &env.operator, env.now);
    gatehouse_admin::tenants::resolve(&ctx, tenant)
        .await
        .flagged()
}
