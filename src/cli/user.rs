//! `gatehouse user create`: the password is read from standard input.

use std::io::Read;

use anyhow::Context as _;
use clap::{Args, Subcommand};
use gatehouse_admin::Context;
use gatehouse_admin::users::{self, NewUser, ProfileInput};

use super::{Env, Flagged, print, tenant_flag};

#[derive(Subcommand)]
pub enum UserCmd {
    /// Create a user; the password is read from standard input.
    Create(UserCreate),
}

#[derive(Args)]
pub struct UserCreate {
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

/// The password on standard input, without one trailing newline (`\n` or `\r\n`).
fn read_password() -> anyhow::Result<String> {
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
    Ok(password)
}

pub async fn run(env: &Env, cmd: UserCmd) -> anyhow::Result<()> {
    let UserCmd::Create(u) = cmd;
    let _ = u.password_stdin;
    let tenant = tenant_flag(env, &u.tenant)?;
    let new = NewUser {
        username: u.username,
        email: u.email,
        password: read_password()?,
        profile: ProfileInput {
            name: u.name,
            given_name: u.given_name,
            family_name: u.family_name,
            phone: u.phone,
            address: u.address,
            admin_scopes: u.admin_scope,
        },
    };
    let store = env.store().await?;
    let ctx = Context::new(&store, &env.operator, env.now);
    let out = users::create(&ctx, &tenant, new).await.flagged()?;
    print(&out, u.json, &["id", "username"])
}
