//! `gatehouse resource create|list|delete`: resource servers of RFC 8707 resource indicators.

use clap::{Args, Subcommand};
use gatehouse_admin::Context;
use gatehouse_admin::resources::{self, NewResource};

use super::{Env, Flagged, print, tenant_flag};

#[derive(Subcommand)]
pub enum ResourceCmd {
    /// Register a resource server: access tokens for it carry its identifier as `aud`.
    Create(ResourceCreate),
    /// List a tenant's resource servers.
    List(ResourceList),
    /// Delete a resource server (clients restricted to it can no longer target it).
    Delete(ResourceDelete),
}

#[derive(Args)]
pub struct ResourceCreate {
    /// The resource's URI (absolute, no fragment), e.g. https://mcp.example.com/mcp.
    #[arg(long, value_name = "URI")]
    identifier: String,
    /// The scopes the resource understands, space separated.
    #[arg(long)]
    scope: String,
    #[arg(long, default_value = "default")]
    tenant: String,
    /// Access-token lifetime for this resource in seconds (60..86400).
    #[arg(long = "access-token-ttl", value_name = "S")]
    access_token_ttl: Option<i64>,
    /// Access-token signing algorithm for this resource: RS256 or ES256.
    #[arg(long)]
    alg: Option<String>,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct ResourceList {
    #[arg(long, default_value = "default")]
    tenant: String,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct ResourceDelete {
    /// The resource's identifier.
    #[arg(value_name = "URI")]
    identifier: String,
    #[arg(long, default_value = "default")]
    tenant: String,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

pub async fn run(env: &Env, cmd: ResourceCmd) -> anyhow::Result<()> {
    let store = env.store().await?;
    let ctx = Context::new(&store, &env.operator, env.now);
    match cmd {
        ResourceCmd::Create(c) => {
            let tenant = tenant_flag(env, &c.tenant)?;
            let new = NewResource {
                identifier: c.identifier,
                scope: c.scope,
                access_token_ttl: c.access_token_ttl,
                alg: c.alg,
            };
            let out = resources::create(&ctx, &tenant, new).await.flagged()?;
            print(&out, c.json, &["identifier", "id", "scope"])
        }
        ResourceCmd::List(l) => {
            let tenant = tenant_flag(env, &l.tenant)?;
            let out = resources::list(&ctx, &tenant).await.flagged()?;
            if l.json {
                return print(&out, true, &[]);
            }
            for r in &out.resources {
                println!("{}\t{}", r.identifier, r.scope);
            }
            Ok(())
        }
        ResourceCmd::Delete(d) => {
            let tenant = tenant_flag(env, &d.tenant)?;
            let out = resources::delete(&ctx, &tenant, &d.identifier)
                .await
                .flagged()?;
            print(&out, d.json, &["identifier", "id"])
        }
    }
}
