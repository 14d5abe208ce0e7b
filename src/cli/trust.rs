//! `gatehouse trust create`: JWT bearer grant trusts (RFC 7523 §2.1).

use std::path::PathBuf;

use clap::{Args, Subcommand};
use gatehouse_admin::Context;
use gatehouse_admin::trusts::{self, NewTrust};

use super::{Env, Flagged, print, read_jwks_file, tenant_flag};

#[derive(Subcommand)]
pub enum TrustCmd {
    /// Trust assertions by an issuer about one subject, signed with the given keys.
    Create(TrustCreate),
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
    let TrustCmd::Create(t) = cmd;
    let new = NewTrust {
        issuer: t.issuer,
        subject: t.subject,
        jwks: read_jwks_file(&t.jwks_file)?,
        scope: t.scope,
    };
    let tenant = tenant_flag(env, &t.tenant).await?;
    let store = env.store().await?;
    let ctx = Context::new(&store, &env.operator, env.now);
    let out = trusts::create(&ctx, &tenant, new).await.flagged()?;
    print(&out, t.json, &["id", "issuer", "subject"])
}
