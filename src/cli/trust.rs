//! `gatehouse trust create|list|delete`: JWT bearer grant trusts (RFC 7523 §2.1).

use std::path::PathBuf;

use clap::{Args, Subcommand};
use gatehouse_admin::Context;
use gatehouse_admin::trusts::{self, NewTrust};

use super::{Env, Flagged, json_wanted, print, print_table, read_jwks_file, tenant_flag};

#[derive(Subcommand)]
pub enum TrustCmd {
    /// Trust assertions by an issuer about one subject, signed with the given keys.
    Create(TrustCreate),
    /// List a tenant's trusts (without their keys).
    List {
        #[arg(long, default_value = "default")]
        tenant: String,
        #[arg(long)]
        json: bool,
    },
    /// Delete a trust: its assertions are refused from now on.
    ///
    /// Access tokens already issued through it stay valid until they expire.
    Delete {
        id: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args)]
pub struct TrustCreate {
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

pub async fn run(env: &Env, cmd: TrustCmd) -> anyhow::Result<()> {
    match cmd {
        TrustCmd::Create(t) => create(env, t).await,
        TrustCmd::List { tenant, json } => {
            let tenant = tenant_flag(env, &tenant)?;
            let store = env.store().await?;
            let ctx = Context::new(&store, &env.operator, env.now);
            let out = trusts::list(&ctx, &tenant).await.flagged()?;
            if json_wanted(json) {
                return print(&out, true, &[]);
            }
            let rows = serde_json::to_value(&out.trusts)?;
            print_table(
                rows.as_array().map_or(&[][..], Vec::as_slice),
                &[
                    ("ISSUER", "issuer"),
                    ("SUBJECT", "subject"),
                    ("SCOPE", "scope"),
                    ("ID", "id"),
                    ("CREATED", "created_at"),
                ],
                "this tenant has no trusts",
            )
        }
        TrustCmd::Delete { id, json } => {
            let store = env.store().await?;
            let ctx = Context::new(&store, &env.operator, env.now);
            let out = trusts::delete(&ctx, &id).await.flagged()?;
            print(&out, json, &["id", "deleted"])
        }
    }
}

async fn create(env: &Env, t: TrustCreate) -> anyhow::Result<()> {
    let new = NewTrust {
        issuer: t.issuer,
        subject: t.subject,
        jwks: read_jwks_file(&t.jwks_file)?,
        scope: t.scope,
    };
    let tenant = tenant_flag(env, &t.tenant)?;
    let store = env.store().await?;
    let ctx = Context::new(&store, &env.operator, env.now);
    let out = trusts::create(&ctx, &tenant, new).await.flagged()?;
    print(&out, t.json, &["id", "issuer", "subject"])
}
