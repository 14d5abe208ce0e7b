//! `gatehouse registration-token create`: initial access tokens of dynamic client
//! registration (RFC 7591 §3). `POST /oauth/register` is closed without one unless
//! `[registration] open` is set.

use clap::{Args, Subcommand};
use gatehouse_admin::Context;
use gatehouse_admin::registration_tokens;

use super::{Env, Flagged, print, tenant_flag};

#[derive(Subcommand)]
pub enum RegistrationTokenCmd {
    /// Create an initial access token: its bearer may register clients in the tenant at
    /// POST /oauth/register until it expires or is used up. Shown once.
    Create(TokenCreate),
}

#[derive(Args)]
pub struct TokenCreate {
    /// The tenant (name or id) the registered clients belong to.
    #[arg(long, default_value = "default")]
    tenant: String,
    /// Lifetime in seconds (60..7776000; default 86400).
    #[arg(long, value_name = "SECONDS")]
    ttl: Option<i64>,
    /// How many clients it may register (default: any number until it expires).
    #[arg(long = "max-uses", value_name = "N")]
    max_uses: Option<u32>,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

pub async fn run(env: &Env, cmd: RegistrationTokenCmd) -> anyhow::Result<()> {
    let store = env.store().await?;
    let ctx = Context::new(&store, &env.operator, env.now);
    match cmd {
        RegistrationTokenCmd::Create(c) => {
            let tenant = tenant_flag(env, &c.tenant).await?;
            let out = registration_tokens::create(&ctx, &tenant, c.ttl, c.max_uses)
                .await
                .flagged()?;
            print(
                &out,
                c.json,
                &["token", "tenant_id", "expires_at", "max_uses"],
            )
        }
    }
}
