//! The `gatehouse` binary: a thin clap front over the crates. The flags, environment variables
//! and JSON fields here are the operator contract (`shared/contract.md`): keep them exact.

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use gatehouse_core::TenantId;
use gatehouse_core::client::ClientRegistration;
use gatehouse_core::client_auth::KeySource;
use gatehouse_server::{Application, Settings, admin};
use gatehouse_store::Store;

#[derive(Parser)]
#[command(
    name = "gatehouse",
    version,
    about = "A standalone OAuth 2.0 / OpenID Connect authorization server"
)]
struct Cli {
    /// Configuration file (default: config/gatehouse.toml when present).
    #[arg(long, global = true, value_name = "PATH")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

// Parsed once per process: the size of the largest variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum Command {
    /// Run the authorization server.
    Serve,
    /// Manage OAuth clients.
    #[command(subcommand)]
    Client(ClientCmd),
    /// Manage users.
    #[command(subcommand)]
    User(UserCmd),
    /// Manage signing keys.
    #[command(subcommand)]
    Key(KeyCmd),
    /// Manage JWT bearer grant trusts (service accounts, RFC 7523).
    #[command(subcommand)]
    Trust(TrustCmd),
    /// Manage tenants.
    #[command(subcommand)]
    Tenant(TenantCmd),
    /// Manage tenants' API keys.
    #[command(subcommand)]
    Apikey(ApikeyCmd),
    /// Read the audit trail.
    #[command(subcommand)]
    Audit(AuditCmd),
}

#[derive(Subcommand)]
enum TenantCmd {
    /// Create a tenant.
    Create {
        #[arg(long)]
        name: String,
        /// enabled (default) or disabled.
        #[arg(long = "api-access")]
        api_access: Option<String>,
        /// The scopes the tenant's API keys may carry, space separated (default: unrestricted).
        #[arg(long)]
        scope: Option<String>,
        /// The maximum number of active API keys (default 4).
        #[arg(long = "max-api-keys")]
        max_api_keys: Option<u32>,
        #[arg(long)]
        json: bool,
    },
    /// List tenants.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Rename a tenant.
    Rename {
        id: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// Disable a tenant: its API keys stop working at once.
    Disable {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Re-enable a disabled tenant.
    Enable {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Turn a tenant's API access on or off.
    ApiAccess {
        id: String,
        /// enabled or disabled.
        #[arg(value_name = "API_ACCESS")]
        value: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum ApikeyCmd {
    /// Create an API key; its secret is printed once.
    Create(ApikeyCreate),
    /// List a tenant's API keys (never the secrets).
    List {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        json: bool,
    },
    /// Revoke an API key, effective at once.
    Revoke {
        id: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args)]
struct ApikeyCreate {
    #[arg(long)]
    tenant: String,
    /// What the key is for (it appears in the audit trail).
    #[arg(long)]
    name: String,
    /// Scopes, space separated (a subset of the tenant's allowed scopes).
    #[arg(long)]
    scope: Option<String>,
    /// Validity in days, 10 to 365 (default 90).
    #[arg(
        long = "validity-days",
        value_name = "D",
        allow_negative_numbers = true
    )]
    validity_days: Option<i64>,
    /// live (default) or test.
    #[arg(long = "env")]
    env: Option<String>,
    /// An IP address or CIDR block allowed to use the key (repeatable; default: any).
    #[arg(long = "allow-ip", value_name = "CIDR")]
    allow_ip: Vec<String>,
    /// A rate-limit class name.
    #[arg(long = "rate-limit-class")]
    rate_limit_class: Option<String>,
    #[arg(long)]
    json: bool,
}

#[derive(Subcommand)]
enum AuditCmd {
    /// Print the events after an id, oldest first.
    List {
        /// Only events with an id greater than this.
        #[arg(long, default_value_t = 0, allow_negative_numbers = true)]
        after: i64,
        /// At most this many events (1 to 1000).
        #[arg(long, default_value_t = 100)]
        limit: u64,
        #[arg(long)]
        json: bool,
    },
    /// Follow the trail: print new events as JSON lines until interrupted.
    Tail {
        /// Start after this id (default: the newest event, so only new ones are printed).
        #[arg(long)]
        after: Option<i64>,
        /// Seconds between polls.
        #[arg(long, default_value_t = 2)]
        interval: u64,
    },
}

#[derive(Subcommand)]
enum TrustCmd {
    /// Trust assertions by an issuer about one subject, signed with the given keys.
    Create(TrustCreate),
}

#[derive(Args)]
struct TrustCreate {
    /// The assertions' `iss`.
    #[arg(long)]
    issuer: String,
    /// The assertions' `sub`; also the `sub` of the access tokens issued.
    #[arg(long)]
    subject: String,
    /// A JWK or JWKS file with the issuer's public keys.
    #[arg(long = "jwks-file", value_name = "F")]
    jwks_file: PathBuf,
    /// The most an access token may carry, space separated.
    #[arg(long)]
    scope: Option<String>,
    #[arg(long, default_value = "default")]
    tenant: String,
    #[arg(long)]
    json: bool,
}

#[derive(Subcommand)]
enum ClientCmd {
    /// Register a client; its secret is printed once.
    Create(ClientCreate),
}

#[derive(Args)]
struct ClientCreate {
    #[arg(long)]
    name: String,
    /// authorization_code, client_credentials or refresh_token (repeatable).
    #[arg(long = "grant-type", value_name = "T")]
    grant_types: Vec<String>,
    /// An exact redirect URI (repeatable).
    #[arg(long = "redirect-uri", value_name = "U")]
    redirect_uris: Vec<String>,
    /// A post-logout redirect URI (repeatable).
    #[arg(long = "post-logout-redirect-uri", value_name = "U")]
    post_logout_redirect_uris: Vec<String>,
    /// The client's allowed scopes, space separated.
    #[arg(long)]
    scope: Option<String>,
    /// client_secret_basic (default), client_secret_post, private_key_jwt or none.
    #[arg(long = "auth-method")]
    auth_method: Option<String>,
    /// A JWKS file with the client's public keys (private_key_jwt).
    #[arg(long = "jwks-file", value_name = "F", conflicts_with = "jwks_uri")]
    jwks_file: Option<PathBuf>,
    /// The URL of the client's JWKS (private_key_jwt): https, or http to a loopback address.
    #[arg(long = "jwks-uri", value_name = "URL")]
    jwks_uri: Option<String>,
    /// RS256 (default) or ES256.
    #[arg(long = "id-token-alg")]
    id_token_alg: Option<String>,
    /// Access-token lifetime in seconds (60..86400).
    #[arg(long = "access-token-ttl", value_name = "SECONDS")]
    access_token_ttl: Option<i64>,
    /// Let this confidential client skip PKCE (public clients always need it).
    #[arg(long = "pkce-optional")]
    pkce_optional: bool,
    /// Refresh rotation grace period in seconds (0..300; default 0 = strict rotation).
    #[arg(long = "refresh-grace-seconds", value_name = "SECONDS")]
    refresh_grace_seconds: Option<i64>,
    /// Refresh-token idle lifetime in seconds (default: tokens.refresh_token_idle_ttl).
    #[arg(long = "refresh-idle-ttl", value_name = "SECONDS")]
    refresh_idle_ttl: Option<i64>,
    /// Refresh-token family lifetime in seconds (default: tokens.refresh_token_absolute_ttl).
    #[arg(long = "refresh-absolute-ttl", value_name = "SECONDS")]
    refresh_absolute_ttl: Option<i64>,
    #[arg(long, default_value = "default")]
    tenant: String,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

#[derive(Subcommand)]
enum UserCmd {
    /// Create a user; the password is read from standard input.
    Create(UserCreate),
}

#[derive(Args)]
struct UserCreate {
    #[arg(long)]
    username: String,
    #[arg(long)]
    email: Option<String>,
    /// Full name (OIDC `name` claim; defaults to the username).
    #[arg(long)]
    name: Option<String>,
    /// Given name (OIDC `given_name`).
    #[arg(long = "given-name")]
    given_name: Option<String>,
    /// Family name (OIDC `family_name`).
    #[arg(long = "family-name")]
    family_name: Option<String>,
    /// Phone number, E.164 recommended (OIDC `phone_number`, released by the `phone` scope).
    #[arg(long)]
    phone: Option<String>,
    /// Postal address as one formatted string (OIDC `address`, released by the `address` scope).
    #[arg(long)]
    address: Option<String>,
    /// An admin scope the user holds (admin:all, read:/write: + organizations, users, clients,
    /// api_keys, keys, audit); repeatable. Admin users may sign in to the admin console.
    #[arg(long = "admin-scope")]
    admin_scope: Vec<String>,
    /// Read the password from standard input (one trailing newline is stripped).
    #[arg(long = "password-stdin", required = true)]
    password_stdin: bool,
    #[arg(long, default_value = "default")]
    tenant: String,
    #[arg(long)]
    json: bool,
}

#[derive(Subcommand)]
enum KeyCmd {
    /// Create a new active signing key at once; the old one stays published.
    /// Needs GATEHOUSE_MASTER_KEY when the stored keys are encrypted.
    Rotate {
        /// RS256 or ES256.
        #[arg(long)]
        alg: String,
        #[arg(long)]
        json: bool,
    },
    /// List signing keys.
    List {
        #[arg(long)]
        json: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing(matches!(cli.command, Command::Serve));
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn init_tracing(serving: bool) {
    let default = if serving {
        "info,sqlx=warn,sea_orm=warn"
    } else {
        "warn,sqlx=warn,sea_orm=warn"
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("GATEHOUSE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    use std::io::IsTerminal;
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .init();
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let settings = Settings::load(cli.config.as_deref()).map_err(anyhow::Error::msg)?;
    let now = chrono_now();
    match cli.command {
        Command::Serve => serve(settings).await,
        Command::Client(ClientCmd::Create(c)) => {
            let keys = match (&c.jwks_file, c.jwks_uri) {
                (Some(f), _) => Some(KeySource::Jwks(read_jwks_file(f)?)),
                (None, Some(u)) => Some(KeySource::Uri(u)),
                (None, None) => None,
            };
            let reg = ClientRegistration {
                name: c.name,
                tenant_id: TenantId::parse("default").map_err(anyhow::Error::msg)?,
                grant_types: c.grant_types,
                redirect_uris: c.redirect_uris,
                post_logout_redirect_uris: c.post_logout_redirect_uris,
                scope: c.scope,
                auth_method: c.auth_method,
                id_token_alg: c.id_token_alg,
                access_token_ttl: c.access_token_ttl,
                pkce_optional: c.pkce_optional,
                refresh_grace_seconds: c.refresh_grace_seconds,
                refresh_idle_ttl: c.refresh_idle_ttl,
                refresh_absolute_ttl: c.refresh_absolute_ttl,
            };
            // Validate flags before touching the database, so a typo writes nothing.
            let store = open_store(&settings).await?;
            let out = admin::create_client_with_keys(
                &store,
                &admin::Actor::operator(),
                reg,
                &c.tenant,
                keys,
                settings.master_key.as_ref(),
                now,
            )
            .await?;
            print(&out, c.json, &["client_id", "client_secret"])
        }
        Command::User(UserCmd::Create(u)) => {
            let _ = u.password_stdin;
            let mut password = String::new();
            std::io::stdin()
                .read_to_string(&mut password)
                .context("reading the password from stdin")?;
            if password.ends_with('\n') {
                password.pop();
                if password.ends_with('\r') {
                    password.pop();
                }
            }
            let store = open_store(&settings).await?;
            let profile = admin::ProfileInput {
                name: u.name,
                given_name: u.given_name,
                family_name: u.family_name,
                phone: u.phone,
                address: u.address,
                admin_scopes: u.admin_scope,
            };
            let out = admin::create_user_with_profile(
                &store,
                &admin::Actor::operator(),
                &u.username,
                u.email.as_deref(),
                &password,
                &u.tenant,
                profile,
                now,
            )
            .await?;
            print(&out, u.json, &["id", "username"])
        }
        Command::Key(KeyCmd::Rotate { alg, json }) => {
            gatehouse_core::SigningAlg::parse(&alg).map_err(|e| anyhow::anyhow!("--alg: {e}"))?;
            let store = open_store(&settings).await?;
            let out = admin::rotate_key(
                &store,
                &admin::Actor::operator(),
                &alg,
                settings.master_key.as_ref(),
                now,
            )
            .await?;
            print(&out, json, &["kid", "alg"])
        }
        Command::Trust(TrustCmd::Create(t)) => {
            let jwks = read_jwks_file(&t.jwks_file)?;
            let store = open_store(&settings).await?;
            let out = admin::create_trust(
                &store,
                &t.issuer,
                &t.subject,
                &jwks,
                t.scope.as_deref(),
                &t.tenant,
                now,
            )
            .await?;
            print(&out, t.json, &["id", "issuer", "subject"])
        }
        Command::Tenant(cmd) => tenant_cmd(&settings, cmd, now).await,
        Command::Apikey(cmd) => apikey_cmd(&settings, cmd, now).await,
        Command::Audit(cmd) => audit_cmd(&settings, cmd).await,
        Command::Key(KeyCmd::List { json }) => {
            let store = open_store(&settings).await?;
            if settings.master_key.is_some() {
                // Say so now if the configured master key would stop the server.
                gatehouse_server::keys::check_master_key(&store, settings.master_key.as_ref())
                    .await
                    .map_err(anyhow::Error::msg)?;
            }
            let out = admin::list_keys(&store).await?;
            if json {
                println!("{out}");
            } else if let Some(keys) = out["keys"].as_array() {
                for k in keys {
                    println!(
                        "{}  {}  {}{}",
                        k["kid"].as_str().unwrap_or_default(),
                        k["alg"].as_str().unwrap_or_default(),
                        k["status"].as_str().unwrap_or_default(),
                        if k["encrypted"].as_bool() == Some(true) {
                            ""
                        } else {
                            "  (unencrypted)"
                        }
                    );
                }
            }
            Ok(())
        }
    }
}

/// Reads a JWKS (or a single JWK, wrapped into a set) of at most 64 KiB; errors name the flag.
fn read_jwks_file(path: &std::path::Path) -> anyhow::Result<serde_json::Value> {
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

async fn tenant_cmd(
    settings: &Settings,
    cmd: TenantCmd,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<()> {
    use gatehouse_server::admin_apikeys as a;
    let fields = &["id", "name", "api_access", "disabled"];
    match cmd {
        TenantCmd::Create {
            name,
            api_access,
            scope,
            max_api_keys,
            json,
        } => {
            let reg = gatehouse_core::tenant::TenantRegistration {
                name,
                api_access,
                scope,
                max_api_keys,
            };
            // Validate before opening the database, so a typo writes nothing.
            reg.clone().validate(now).map_err(anyhow::Error::msg)?;
            let store = open_store(settings).await?;
            print(
                &a::create_tenant(&store, &a::Actor::operator(), reg, now).await?,
                json,
                fields,
            )
        }
        TenantCmd::List { json } => {
            let store = open_store(settings).await?;
            let out = a::list_tenants(&store).await?;
            if json {
                println!("{out}");
            } else {
                for t in out["tenants"].as_array().into_iter().flatten() {
                    println!(
                        "{}  {}  api access {}{}",
                        t["id"].as_str().unwrap_or_default(),
                        t["name"].as_str().unwrap_or_default(),
                        t["api_access"].as_str().unwrap_or_default(),
                        if t["disabled"].as_bool() == Some(true) {
                            "  DISABLED"
                        } else {
                            ""
                        }
                    );
                }
            }
            Ok(())
        }
        TenantCmd::Rename { id, name, json } => {
            let store = open_store(settings).await?;
            print(
                &a::rename_tenant(&store, &a::Actor::operator(), &id, &name, now).await?,
                json,
                fields,
            )
        }
        TenantCmd::Disable { id, json } => {
            let store = open_store(settings).await?;
            print(
                &a::set_tenant_disabled(&store, &a::Actor::operator(), &id, true, now).await?,
                json,
                fields,
            )
        }
        TenantCmd::Enable { id, json } => {
            let store = open_store(settings).await?;
            print(
                &a::set_tenant_disabled(&store, &a::Actor::operator(), &id, false, now).await?,
                json,
                fields,
            )
        }
        TenantCmd::ApiAccess { id, value, json } => {
            let store = open_store(settings).await?;
            print(
                &a::set_tenant_api_access(&store, &a::Actor::operator(), &id, &value, now).await?,
                json,
                fields,
            )
        }
    }
}

async fn apikey_cmd(
    settings: &Settings,
    cmd: ApikeyCmd,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<()> {
    use gatehouse_server::admin_apikeys as a;
    match cmd {
        ApikeyCmd::Create(c) => {
            let req = gatehouse_core::apikey::ApiKeyRequest {
                name: c.name,
                scope: c.scope,
                validity_days: c.validity_days,
                environment: c.env,
                allow_ips: c.allow_ip,
                rate_limit_class: c.rate_limit_class,
            };
            let store = open_store(settings).await?;
            let out = a::create_api_key(
                &store,
                &a::Actor::operator(),
                &settings.api_keys,
                &c.tenant,
                req,
                now,
            )
            .await?;
            print(
                &out,
                c.json,
                &["id", "name", "secret", "prefix", "expires_at"],
            )
        }
        ApikeyCmd::List { tenant, json } => {
            let store = open_store(settings).await?;
            let out = a::list_api_keys(&store, &settings.api_keys, &tenant, now).await?;
            if json {
                println!("{out}");
            } else {
                for k in out["api_keys"].as_array().into_iter().flatten() {
                    let warn = k["expiry_warning"].as_bool() == Some(true)
                        && k["revoked"].as_bool() != Some(true);
                    println!(
                        "{}{}  {}  {}  {}  {}  {}{}",
                        if warn { "! " } else { "  " },
                        k["name"].as_str().unwrap_or_default(),
                        k["masked"].as_str().unwrap_or_default(),
                        k["environment"].as_str().unwrap_or_default(),
                        k["created_at"].as_str().unwrap_or_default(),
                        k["expires"].as_str().unwrap_or_default(),
                        k["id"].as_str().unwrap_or_default(),
                        if k["revoked"].as_bool() == Some(true) {
                            "  revoked"
                        } else {
                            ""
                        }
                    );
                }
            }
            Ok(())
        }
        ApikeyCmd::Revoke { id, json } => {
            let store = open_store(settings).await?;
            print(
                &a::revoke_api_key(&store, &a::Actor::operator(), &id, now).await?,
                json,
                &["id", "revoked_at"],
            )
        }
    }
}

async fn audit_cmd(settings: &Settings, cmd: AuditCmd) -> anyhow::Result<()> {
    use gatehouse_server::admin_apikeys as a;
    match cmd {
        AuditCmd::List { after, limit, json } => {
            if after < 0 {
                anyhow::bail!("--after: must be 0 or more");
            }
            if !(1..=1000).contains(&limit) {
                anyhow::bail!("--limit: must be between 1 and 1000");
            }
            let store = open_store(settings).await?;
            let out = a::list_audit(&store, after, limit).await?;
            if json {
                println!("{out}");
            } else {
                for e in out["events"].as_array().into_iter().flatten() {
                    println!("{e}");
                }
            }
            Ok(())
        }
        AuditCmd::Tail { after, interval } => {
            if !(1..=3600).contains(&interval) {
                anyhow::bail!("--interval: must be between 1 and 3600 seconds");
            }
            let store = open_store(settings).await?;
            let mut cursor = match after {
                Some(n) if n < 0 => anyhow::bail!("--after: must be 0 or more"),
                Some(n) => n,
                None => store.audit().last_id().await?,
            };
            loop {
                let out = a::list_audit(&store, cursor, 1000).await?;
                for e in out["events"].as_array().into_iter().flatten() {
                    println!("{e}");
                }
                cursor = out["next_after"].as_i64().unwrap_or(cursor);
                let full = out["events"].as_array().is_some_and(|v| v.len() == 1000);
                if !full {
                    tokio::select! {
                        _ = shutdown_signal() => return Ok(()),
                        _ = tokio::time::sleep(std::time::Duration::from_secs(interval)) => {}
                    }
                }
            }
        }
    }
}

fn chrono_now() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now()
}

async fn open_store(settings: &Settings) -> anyhow::Result<Store> {
    Store::connect(&settings.database_url)
        .await
        .map_err(|e| anyhow::anyhow!("database {}: {e}", redact(&settings.database_url)))
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

fn print(out: &serde_json::Value, json: bool, fields: &[&str]) -> anyhow::Result<()> {
    if json {
        println!("{out}");
    } else {
        for f in fields {
            println!("{f}: {}", out[f].as_str().unwrap_or("-"));
        }
    }
    Ok(())
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    let issuer = settings.issuer.clone();
    let app = Application::build(settings)
        .await
        .map_err(anyhow::Error::msg)?;
    tracing::info!(issuer = %issuer, port = app.port(), "gatehouse is serving");
    app.run(shutdown_signal()).await.context("server")
}

/// Resolves on SIGINT or SIGTERM.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
