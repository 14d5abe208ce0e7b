//! `gatehouse client create|list|show|update|delete|rotate-secret`: OAuth clients.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use gatehouse_admin::Context;
use gatehouse_admin::clients::{self, NewClientOptions, NewClientRequest};
use gatehouse_admin::views::{ClientList, Deleted};
use gatehouse_core::client::{ClientChanges, ClientRegistration};
use gatehouse_core::client_auth::KeySource;

use super::{Env, Flagged, json_wanted, print, print_table, read_jwks_file, tenant_flag};

#[derive(Subcommand)]
pub enum ClientCmd {
    /// Register a client; its secret is printed once.
    ///
    /// Name its grants: `--redirect-uri` for a web or native application (authorization_code
    /// and refresh_token unless --grant-type says otherwise), or `--grant-type
    /// client_credentials` (and `--scope`) for a machine client. A client with neither is
    /// refused.
    Create(ClientCreate),
    /// List a tenant's clients (never their secrets).
    List {
        #[arg(long, default_value = "default")]
        tenant: String,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Show one client (never its secret).
    Show {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Change a client's registration, checked as a registration is.
    ///
    /// A repeated flag (--redirect-uri, --grant-type, --post-logout-redirect-uri) replaces the
    /// whole list; the auth method and secret are not changed here (see rotate-secret).
    Update(ClientUpdate),
    /// Delete a client with its codes, refresh tokens and consents.
    Delete {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Replace a client's secret: printed once; the old one stops working at once.
    RotateSecret {
        id: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args)]
pub struct ClientCreate {
    #[arg(long)]
    name: String,
    /// authorization_code, client_credentials, refresh_token, implicit,
    /// urn:ietf:params:oauth:grant-type:jwt-bearer or
    /// urn:ietf:params:oauth:grant-type:device_code (RFC 8628; needs no redirect URI) or
    /// urn:ietf:params:oauth:grant-type:token-exchange (RFC 8693: exchange the tokens of
    /// clients that name this one with --may-act, to act for their users; confidential
    /// clients only) (repeatable). Default with --redirect-uri: authorization_code and
    /// refresh_token.
    ///
    /// `implicit` is an opt-in, off by default, for legacy OpenID Connect clients: it allows
    /// response_type `id_token` and `id_token token` (implicit flow) and, together with
    /// authorization_code, `code id_token`, `code token` and `code id_token token` (hybrid
    /// flow; PKCE still applies to the code), with a nonce, to exactly registered redirect URIs
    /// only. RFC 9700 §2.1.2 advises against it: tokens travel in the URL fragment, where
    /// browser history and Referer headers can leak them, and they cannot be sender-constrained.
    /// Prefer the code flow with PKCE; see docs/security.md.
    #[arg(long = "grant-type", value_name = "T")]
    grant_types: Vec<String>,
    /// An exact redirect URI (repeatable).
    #[arg(long = "redirect-uri", value_name = "U")]
    redirect_uris: Vec<String>,
    /// A post-logout redirect URI (repeatable).
    #[arg(long = "post-logout-redirect-uri", value_name = "U")]
    post_logout_redirect_uris: Vec<String>,
    /// The client's allowed scopes, space separated (default: openid profile email
    /// offline_access).
    #[arg(long)]
    scope: Option<String>,
    /// client_secret_basic (default), client_secret_post, client_secret_jwt, private_key_jwt
    /// or none.
    #[arg(long = "auth-method")]
    auth_method: Option<String>,
    /// A JWKS file with the client's public keys (private_key_jwt); they also verify the
    /// client's signed request objects (RFC 9101).
    #[arg(long = "jwks-file", value_name = "F", conflicts_with = "jwks_uri")]
    jwks_file: Option<PathBuf>,
    /// The URL of the client's JWKS (private_key_jwt; also verifies its request objects):
    /// https, or http to a loopback address.
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
    /// A registered resource (RFC 8707) this client may target (repeatable); without it, any
    /// of its tenant's.
    #[arg(long = "resource", value_name = "URI")]
    resources: Vec<String>,
    /// Authorization requests of this client must be pushed first (RFC 9126 PAR).
    #[arg(long = "require-par")]
    require_par: bool,
    /// Every request this client authenticates (token, PAR, introspection, revocation) must
    /// carry a DPoP proof (RFC 9449): its access tokens are then always bound to the client's
    /// key (`cnf.jkt`, `token_type: DPoP`).
    #[arg(long = "dpop-required")]
    dpop_required: bool,
    /// The id of the client (same tenant) that may act for this client's users: this client's
    /// tokens carry `may_act` naming it, and that client, registered for the token-exchange
    /// grant, may exchange them for tokens of its own with an `act` claim (RFC 8693).
    #[arg(long = "may-act", value_name = "CLIENT_ID")]
    may_act: Option<String>,
    #[arg(long, default_value = "default")]
    tenant: String,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct ClientUpdate {
    id: String,
    #[arg(long)]
    name: Option<String>,
    /// The grants (repeatable; replaces the list).
    #[arg(long = "grant-type", value_name = "T")]
    grant_types: Vec<String>,
    /// An exact redirect URI (repeatable; replaces the list).
    #[arg(long = "redirect-uri", value_name = "U")]
    redirect_uris: Vec<String>,
    /// A post-logout redirect URI (repeatable; replaces the list).
    #[arg(long = "post-logout-redirect-uri", value_name = "U")]
    post_logout_redirect_uris: Vec<String>,
    /// The client's allowed scopes, space separated.
    #[arg(long)]
    scope: Option<String>,
    /// RS256 or ES256.
    #[arg(long = "id-token-alg")]
    id_token_alg: Option<String>,
    /// Access-token lifetime in seconds (60..86400).
    #[arg(long = "access-token-ttl", value_name = "SECONDS")]
    access_token_ttl: Option<i64>,
    /// Whether this confidential client may skip PKCE.
    #[arg(long = "pkce-optional", value_name = "true|false")]
    pkce_optional: Option<bool>,
    /// Refresh rotation grace period in seconds (0..300).
    #[arg(long = "refresh-grace-seconds", value_name = "SECONDS")]
    refresh_grace_seconds: Option<i64>,
    /// Refresh-token idle lifetime in seconds.
    #[arg(long = "refresh-idle-ttl", value_name = "SECONDS")]
    refresh_idle_ttl: Option<i64>,
    /// Refresh-token family lifetime in seconds.
    #[arg(long = "refresh-absolute-ttl", value_name = "SECONDS")]
    refresh_absolute_ttl: Option<i64>,
    /// The client that may act for this client's users (RFC 8693); "" removes it.
    #[arg(long = "may-act", value_name = "CLIENT_ID")]
    may_act: Option<String>,
    #[arg(long)]
    json: bool,
}

/// The fields `client show` prints as a table.
const SHOW: &[&str] = &[
    "client_id",
    "name",
    "tenant",
    "auth_method",
    "grant_types",
    "redirect_uris",
    "post_logout_redirect_uris",
    "scope",
    "id_token_alg",
    "access_token_ttl",
    "require_pkce",
    "refresh_grace_seconds",
    "refresh_idle_ttl",
    "refresh_absolute_ttl",
    "may_act",
    "created_at",
];

pub async fn run(env: &Env, cmd: ClientCmd) -> anyhow::Result<()> {
    let store = env.store().await?;
    let ctx = Context::new(&store, &env.operator, env.now);
    match cmd {
        ClientCmd::Create(c) => create(env, &ctx, c).await,
        ClientCmd::Update(u) => update(&ctx, u).await,
        ClientCmd::List { tenant, json } => {
            let tenant = tenant_flag(env, &tenant).await?;
            let clients = clients::list_by_name(&ctx, &tenant).await.flagged()?;
            list(&ClientList { tenant, clients }, json)
        }
        ClientCmd::Show { id, json } => {
            let out = clients::get(&ctx, &id).await.flagged()?;
            print(&out, json, SHOW)
        }
        ClientCmd::Delete { id, json } => {
            clients::delete(&ctx, &id, None).await.flagged()?;
            let out = Deleted { id, deleted: true };
            print(&out, json, &["id", "deleted"])
        }
        ClientCmd::RotateSecret { id, json } => {
            let out = clients::rotate_secret(&ctx, &id, None, env.settings.master_key.as_ref())
                .await
                .flagged()?;
            print(&out, json, &["client_id", "client_secret"])
        }
    }
}

fn list(out: &ClientList, json: bool) -> anyhow::Result<()> {
    if json_wanted(json) {
        return print(out, true, &[]);
    }
    let rows = serde_json::to_value(&out.clients)?;
    print_table(
        rows.as_array().map_or(&[][..], Vec::as_slice),
        &[
            ("NAME", "name"),
            ("CLIENT ID", "client_id"),
            ("AUTH METHOD", "auth_method"),
            ("GRANT TYPES", "grant_types"),
            ("REDIRECT URIS", "redirect_uris"),
            ("PKCE", "require_pkce"),
        ],
        "this tenant has no clients",
    )
}

async fn create(env: &Env, ctx: &Context<'_>, c: ClientCreate) -> anyhow::Result<()> {
    // Without either flag the registration would silently become a client_credentials client
    // with the default (OpenID) scopes: make the operator say which kind of client this is.
    if c.grant_types.is_empty() && c.redirect_uris.is_empty() {
        anyhow::bail!(
            "--grant-type: say which grants the client uses: --redirect-uri URI for an application that signs users in (authorization_code and refresh_token), or --grant-type client_credentials (with --scope) for a machine client"
        );
    }
    let keys = match (&c.jwks_file, c.jwks_uri) {
        (Some(f), _) => Some(KeySource::Jwks(read_jwks_file(f)?)),
        (None, Some(u)) => Some(KeySource::Uri(u)),
        (None, None) => None,
    };
    let registration = ClientRegistration {
        name: c.name,
        tenant_id: tenant_flag(env, &c.tenant).await?,
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
        may_act: c.may_act,
    };
    let req = NewClientRequest { registration, keys };
    let options = NewClientOptions {
        resources: c.resources,
        require_par: c.require_par,
        dpop_required: c.dpop_required,
    };
    let master = env.settings.master_key.as_ref();
    let out = clients::create_with_options(ctx, req, master, options)
        .await
        .flagged()?;
    print(&out, c.json, &["client_id", "client_secret"])
}

async fn update(ctx: &Context<'_>, u: ClientUpdate) -> anyhow::Result<()> {
    let list = |v: Vec<String>| (!v.is_empty()).then_some(v);
    let changes = ClientChanges {
        name: u.name,
        grant_types: list(u.grant_types),
        redirect_uris: list(u.redirect_uris),
        post_logout_redirect_uris: list(u.post_logout_redirect_uris),
        scope: u.scope,
        id_token_alg: u.id_token_alg,
        access_token_ttl: u.access_token_ttl,
        pkce_optional: u.pkce_optional,
        refresh_grace_seconds: u.refresh_grace_seconds,
        refresh_idle_ttl: u.refresh_idle_ttl,
        refresh_absolute_ttl: u.refresh_absolute_ttl,
        may_act: u.may_act,
    };
    if changes.is_empty() {
        anyhow::bail!(
            "nothing to change: give at least one of --name, --redirect-uri, --grant-type, --post-logout-redirect-uri, --scope, --id-token-alg, --access-token-ttl, --pkce-optional, --refresh-grace-seconds, --refresh-idle-ttl, --refresh-absolute-ttl"
        );
    }
    let out = clients::update(ctx, &u.id, changes, None).await.flagged()?;
    print(&out, u.json, SHOW)
}
