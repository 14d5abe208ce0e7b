//! `gatehouse apikey create|list|show|revoke`: tenants' API keys.

use chrono::SecondsFormat;
use clap::{Args, Subcommand};
use gatehouse_admin::Context;
use gatehouse_admin::api_keys;
use gatehouse_core::apikey::ApiKeyRequest;

use super::{Env, Flagged, json_wanted, print, tenant_flag};

#[derive(Subcommand)]
pub enum ApikeyCmd {
    /// Create an API key; its secret is printed once.
    Create(ApikeyCreate),
    /// List a tenant's API keys (never the secrets).
    List {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        json: bool,
    },
    /// Show one API key (never its secret).
    Show {
        id: String,
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
pub struct ApikeyCreate {
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

/// The fields `apikey show` prints as a table (never a secret: the view has none).
const SHOW: &[&str] = &[
    "id",
    "name",
    "tenant",
    "masked",
    "scopes",
    "environment",
    "allowed_ips",
    "rate_limit_class",
    "created_at",
    "expires_at",
    "expires",
    "expiry_warning",
    "last_used_at",
    "last_used_ip",
    "revoked",
    "revoked_at",
];

pub async fn run(env: &Env, cmd: ApikeyCmd) -> anyhow::Result<()> {
    let policy = env.settings.api_keys.policy().map_err(anyhow::Error::msg)?;
    match cmd {
        ApikeyCmd::Create(c) => {
            let tenant = tenant_flag(env, &c.tenant)?;
            let req = ApiKeyRequest {
                name: c.name,
                scope: c.scope,
                validity_days: c.validity_days,
                environment: c.env,
                allow_ips: c.allow_ip,
                rate_limit_class: c.rate_limit_class,
            };
            let store = env.store().await?;
            let ctx = Context::new(&store, &env.operator, env.now);
            let out = api_keys::create(&ctx, &policy, &tenant, req)
                .await
                .flagged()?;
            print(
                &out,
                c.json,
                &["id", "name", "secret", "prefix", "expires_at"],
            )
        }
        ApikeyCmd::List { tenant, json } => {
            let tenant = tenant_flag(env, &tenant)?;
            let store = env.store().await?;
            let ctx = Context::new(&store, &env.operator, env.now);
            let out = api_keys::list(&ctx, &policy, &tenant).await.flagged()?;
            if json_wanted(json) {
                return print(&out, true, &[]);
            }
            for k in &out.api_keys {
                let warn = if k.expiry_warning && !k.revoked {
                    "! "
                } else {
                    "  "
                };
                let revoked = if k.revoked { "  revoked" } else { "" };
                println!(
                    "{warn}{}  {}  {}  {}  {}  {}{revoked}",
                    k.name,
                    k.masked,
                    k.environment,
                    k.created_at.to_rfc3339_opts(SecondsFormat::Secs, true),
                    k.expires,
                    k.id,
                );
            }
            Ok(())
        }
        ApikeyCmd::Show { id, json } => {
            let store = env.store().await?;
            let ctx = Context::new(&store, &env.operator, env.now);
            let out = api_keys::get(&ctx, &policy, &id).await.flagged()?;
            print(&out, json, SHOW)
        }
        ApikeyCmd::Revoke { id, json } => {
            let store = env.store().await?;
            let ctx = Context::new(&store, &env.operator, env.now);
            let out = api_keys::revoke(&ctx, &id, None).await.flagged()?;
            print(&out, json, &["id", "revoked_at"])
        }
    }
}
