//! `gatehouse user create|list|show|update|delete|disable|enable|reset-password|sessions|
//! end-sessions`. Passwords are asked for without echo when standard input is a terminal, and
//! read from standard input with `--password-stdin` otherwise.

use std::io::{IsTerminal, Read};

use anyhow::Context as _;
use clap::{Args, Subcommand};
use gatehouse_admin::users::{self, NewUser, ProfileInput, UserChanges};
use gatehouse_admin::views::UserView;
use gatehouse_admin::{BlockingHasher, Context, sessions};

use super::{Env, Flagged, json_wanted, print, print_table, tenant_flag};

/// The fields printed without `--json`.
const FIELDS: &[&str] = &[
    "id",
    "username",
    "tenant",
    "email",
    "name",
    "disabled",
    "admin_scopes",
    "created_at",
];

#[derive(Subcommand)]
pub enum UserCmd {
    /// Create a user. The password is asked for on a terminal, or read from standard input
    /// with --password-stdin.
    Create(UserCreate),
    /// List a tenant's users by id.
    List {
        /// Tenant id or name.
        #[arg(long, default_value = "default")]
        tenant: String,
        /// Start after this user id (the `next_after` of the previous page).
        #[arg(long)]
        after: Option<String>,
        /// Page size, 1 to 1000.
        #[arg(long, default_value_t = 100)]
        limit: u64,
        #[arg(long)]
        json: bool,
    },
    /// Show one user.
    Show {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Change a user's email, profile or admin scopes ("" clears a field).
    Update(UserUpdate),
    /// Delete a user with its sessions, consents and refresh tokens.
    Delete {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Disable a user: it can no longer sign in; its sessions and refresh tokens end now.
    Disable {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Let a disabled user sign in again.
    Enable {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Set a new password (asked for on a terminal, or read with --password-stdin); the
    /// user's sessions and refresh tokens end.
    ResetPassword {
        id: String,
        /// Read the password from standard input (one trailing newline is stripped).
        #[arg(long = "password-stdin")]
        password_stdin: bool,
        #[arg(long)]
        json: bool,
    },
    /// List a user's live sessions (sign-in page and console).
    Sessions {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// End one session of a user (--session) or all of them.
    EndSessions {
        id: String,
        /// The session id shown by `user sessions`.
        #[arg(long)]
        session: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args)]
pub struct UserCreate {
    #[arg(long)]
    username: String,
    #[arg(long)]
    email: Option<String>,
    #[command(flatten)]
    profile: ProfileArgs,
    /// An admin scope the user holds (admin:all, read:/write: + organizations, users, clients,
    /// api_keys, keys, audit); repeatable. Admin users may sign in to the admin console.
    #[arg(long = "admin-scope")]
    admin_scope: Vec<String>,
    /// Read the password from standard input (one trailing newline is stripped). Without it
    /// the password is asked for on the terminal.
    #[arg(long = "password-stdin")]
    password_stdin: bool,
    /// Tenant id or name.
    #[arg(long, default_value = "default")]
    tenant: String,
    #[arg(long)]
    json: bool,
}

/// Profile flags shared by `create` and `update`.
#[derive(Args)]
pub struct ProfileArgs {
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
}

#[derive(Args)]
pub struct UserUpdate {
    id: String,
    #[arg(long)]
    email: Option<String>,
    #[command(flatten)]
    profile: ProfileArgs,
    /// Replace the user's admin scopes with these (repeatable).
    #[arg(long = "admin-scope", conflicts_with = "no_admin_scopes")]
    admin_scope: Vec<String>,
    /// Remove every admin scope of the user.
    #[arg(long = "no-admin-scopes")]
    no_admin_scopes: bool,
    #[arg(long)]
    json: bool,
}

/// The password on standard input, without one trailing newline (`\n` or `\r\n`).
fn read_stdin_password() -> anyhow::Result<String> {
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

/// The new password: asked for twice without echo on a terminal; read from standard input
/// with `--password-stdin`; otherwise an error that says how to give it (never a silent wait).
fn read_password(stdin_flag: bool) -> anyhow::Result<String> {
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("New password: ")
            .context("reading the password from the terminal")?;
        let again = rpassword::prompt_password("Repeat the password: ")
            .context("reading the password from the terminal")?;
        if first != again {
            anyhow::bail!("password: the two entries differ; nothing was changed");
        }
        return Ok(first);
    }
    if stdin_flag {
        return read_stdin_password();
    }
    anyhow::bail!(
        "password: standard input is not a terminal; pass --password-stdin and pipe the password in"
    )
}

pub async fn run(env: &Env, cmd: UserCmd) -> anyhow::Result<()> {
    let store = env.store().await?;
    let ctx = Context::new(&store, &env.operator, env.now);
    match cmd {
        UserCmd::Create(u) => create(env, &ctx, u).await,
        UserCmd::List {
            tenant,
            after,
            limit,
            json,
        } => {
            let tenant = tenant_flag(env, &tenant).await?;
            let out = users::list(&ctx, &tenant, after.as_deref(), limit)
                .await
                .flagged()?;
            if json_wanted(json) {
                return print(&out, true, &[]);
            }
            let rows = serde_json::to_value(&out.users)?;
            print_table(
                rows.as_array().map_or(&[][..], Vec::as_slice),
                &[
                    ("USERNAME", "username"),
                    ("EMAIL", "email"),
                    ("DISABLED", "disabled"),
                    ("ADMIN SCOPES", "admin_scopes"),
                    ("ID", "id"),
                ],
                "no users",
            )?;
            if let Some(next) = &out.next_after {
                eprintln!("more users: --after {next}");
            }
            Ok(())
        }
        UserCmd::Show { id, json } => {
            let out = users::get(&ctx, &id).await.flagged()?;
            show(&out, json)
        }
        UserCmd::Update(u) => update(&ctx, u).await,
        UserCmd::Delete { id, json } => {
            let out = users::delete(&ctx, &id, None).await.flagged()?;
            print(&out, json, &["id", "username"])
        }
        UserCmd::Disable { id, json } => {
            let out = users::disable(&ctx, &id).await.flagged()?;
            changed(&out, json, "disabled")
        }
        UserCmd::Enable { id, json } => {
            let out = users::enable(&ctx, &id).await.flagged()?;
            changed(&out, json, "enabled")
        }
        UserCmd::ResetPassword {
            id,
            password_stdin,
            json,
        } => {
            // The user must be visible before a password is asked for.
            users::get(&ctx, &id).await.flagged()?;
            let password = read_password(password_stdin)?;
            let out = users::reset_password(&ctx, &id, &password, &BlockingHasher)
                .await
                .flagged()?;
            changed(&out, json, "password reset")
        }
        UserCmd::Sessions { id, json } => sessions_list(&ctx, &id, json).await,
        UserCmd::EndSessions { id, session, json } => {
            let out = sessions::end(&ctx, &id, session.as_deref())
                .await
                .flagged()?;
            if json_wanted(json) {
                return print(&out, true, &[]);
            }
            println!("ended {} session(s) of {}", out.ended, out.user);
            Ok(())
        }
    }
}

async fn create(env: &Env, ctx: &Context<'_>, u: UserCreate) -> anyhow::Result<()> {
    let tenant = tenant_flag(env, &u.tenant).await?;
    let new = NewUser {
        username: u.username,
        email: u.email,
        password: read_password(u.password_stdin)?,
        profile: ProfileInput {
            name: u.profile.name,
            given_name: u.profile.given_name,
            family_name: u.profile.family_name,
            phone: u.profile.phone,
            address: u.profile.address,
            admin_scopes: u.admin_scope,
        },
    };
    let out = users::create(ctx, &tenant, new, &BlockingHasher)
        .await
        .flagged()?;
    print(&out, u.json, &["id", "username"])
}

async fn update(ctx: &Context<'_>, u: UserUpdate) -> anyhow::Result<()> {
    let admin_scopes = if u.no_admin_scopes {
        Some(Vec::new())
    } else {
        (!u.admin_scope.is_empty()).then_some(u.admin_scope)
    };
    let changes = UserChanges {
        email: u.email,
        name: u.profile.name,
        given_name: u.profile.given_name,
        family_name: u.profile.family_name,
        phone: u.profile.phone,
        address: u.profile.address,
        admin_scopes,
    };
    let out = users::update(ctx, &u.id, changes, None).await.flagged()?;
    show(&out, u.json)
}

async fn sessions_list(ctx: &Context<'_>, id: &str, json: bool) -> anyhow::Result<()> {
    let out = sessions::list(ctx, id).await.flagged()?;
    if json_wanted(json) {
        return print(&out, true, &[]);
    }
    let rows = serde_json::to_value(&out.sessions)?;
    print_table(
        rows.as_array().map_or(&[][..], Vec::as_slice),
        &[
            ("SESSION", "id"),
            ("SIGNED IN", "auth_time"),
            ("LAST SEEN", "last_seen_at"),
            ("EXPIRES", "expires_at"),
        ],
        &format!("{} has no live sessions", out.username),
    )
}

fn show(u: &UserView, json: bool) -> anyhow::Result<()> {
    print(u, json, FIELDS)
}

fn changed(out: &gatehouse_admin::views::UserChange, json: bool, what: &str) -> anyhow::Result<()> {
    if json_wanted(json) {
        return print(out, true, &[]);
    }
    println!(
        "{} {what}; {} session(s) ended, {} grant(s) revoked",
        out.user.username, out.sessions_ended, out.grants_revoked
    );
    Ok(())
}
