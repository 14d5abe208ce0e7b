//! `gatehouse client create`.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use gatehouse_admin::Context;
use gatehouse_admin::clients::{self, NewClientRequest};
use gatehouse_core::client::ClientRegistration;
use gatehouse_core::client_auth::KeySource;

use super::{Env, Flagged, print, read_jwks_file, tenant_flag};

#[derive(Subcommand)]
pub enum ClientCmd {
    /// Register a client; its secret is printed once.
    Create(ClientCreate),
}

#[derive(Args)]
pub struct ClientCreate {
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
    /// RS256 or ES256 for this client's access tokens (default: the server's
    /// `[tokens] access_token_alg`).
    #[arg(long = "access-token-alg")]
    access_token_alg: Option<String>,
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

pub async fn run(env: &Env, cmd: ClientCmd) -> anyhow::Result<()> {
    let ClientCmd::Create(c) = cmd;
    let keys = match (&c.jwks_file, c.jwks_uri) {
        (Some(f), _) => Some(KeySource::Jwks(read_jwks_file(f)?)),
        (None, Some(u)) => Some(KeySource::Uri(u)),
        (None, None) => None,
    };
    let registration = ClientRegistration {
        name: c.name,
        tenant_id: tenant_flag(env, &c.tenant)?,
        grant_types: c.grant_types,
        redirect_uris: c.redirect_uris,
        post_logout_redirect_uris: c.post_logout_redirect_uris,
        scope: c.scope,
        auth_method: c.auth_method,
        id_token_alg: c.id_token_alg,
        access_token_alg: c.access_token_alg,
        access_token_ttl: c.access_token_ttl,
        pkce_optional: c.pkce_optional,
        refresh_grace_seconds: c.refresh_grace_seconds,
        refresh_idle_ttl: c.refresh_idle_ttl,
        refresh_absolute_ttl: c.refresh_absolute_ttl,
    };
    let store = env.store().await?;
    let ctx = Context::new(&store, &env.operator, env.now);
    let req = NewClientRequest { registration, keys };
    let out = clients::create(&ctx, req, env.settings.master_key.as_ref())
        .await
        .flagged()?;
    print(&out, c.json, &["client_id", "client_secret"])
}
