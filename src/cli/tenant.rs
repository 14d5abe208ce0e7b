//! `gatehouse tenant create|list|rename|disable|enable|api-access`.

use clap::Subcommand;
use gatehouse_admin::tenants::{self, TenantChanges};
use gatehouse_admin::{Context, Field};
use gatehouse_core::tenant::TenantRegistration;

use super::{Env, Flagged, flag, op_error, print};

#[derive(Subcommand)]
pub enum TenantCmd {
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

const FIELDS: &[&str] = &["id", "name", "api_access", "disabled"];

pub async fn run(env: &Env, cmd: TenantCmd) -> anyhow::Result<()> {
    let store = env.store().await?;
    let ctx = Context::new(&store, &env.operator, env.now);
    let (id, changes, json) = match cmd {
        TenantCmd::Create {
            name,
            api_access,
            scope,
            max_api_keys,
            json,
        } => {
            let reg = TenantRegistration {
                name,
                api_access,
                scope,
                max_api_keys,
            };
            let out = tenants::create(&ctx, reg).await.flagged()?;
            return print(&out, json, FIELDS);
        }
        TenantCmd::List { json } => return list(&ctx, json).await,
        TenantCmd::Rename { id, name, json } => (id, changes(|c| c.name = Some(name)), json),
        TenantCmd::Disable { id, json } => (id, changes(|c| c.disabled = Some(true)), json),
        TenantCmd::Enable { id, json } => (id, changes(|c| c.disabled = Some(false)), json),
        TenantCmd::ApiAccess { id, value, json } => {
            let changes = changes(|c| c.api_access = Some(value));
            let out = tenants::update(&ctx, &id, changes, None)
                .await
                // Here the value is the positional argument, not `--api-access`.
                .map_err(|e| {
                    op_error(e, |f| match f {
                        Field::ApiAccess => "API_ACCESS",
                        f => flag(f),
                    })
                })?;
            return print(&out, json, FIELDS);
        }
    };
    let out = tenants::update(&ctx, &id, changes, None).await.flagged()?;
    print(&out, json, FIELDS)
}

fn changes(set: impl FnOnce(&mut TenantChanges)) -> TenantChanges {
    let mut c = TenantChanges::default();
    set(&mut c);
    c
}

async fn list(ctx: &Context<'_>, json: bool) -> anyhow::Result<()> {
    let out = tenants::list(ctx).await.flagged()?;
    if super::json_wanted(json) {
        return print(&out, true, &[]);
    }
    for t in &out.tenants {
        let disabled = if t.disabled { "  DISABLED" } else { "" };
        println!(
            "{}  {}  api access {}{disabled}",
            t.id, t.name, t.api_access
        );
    }
    Ok(())
}
