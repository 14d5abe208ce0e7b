//! Operations commands: `gatehouse migrate [--check]`, `backup --to PATH`, `master-key
//! rotate` and `purge` (operator contract, "Additions, December 2026"). None of them serves;
//! each connects within `[database] connect_timeout` and fails with one line naming the
//! database and the cause.

use std::path::{Path, PathBuf};

use clap::Subcommand;
use gatehouse_admin::{Context, master_key};
use gatehouse_jose::MasterKey;
use gatehouse_store::Store;

use super::{Env, Flagged};

/// The environment variable holding the new master key of `master-key rotate`.
pub const NEW_MASTER_KEY_ENV: &str = "GATEHOUSE_NEW_MASTER_KEY";

#[derive(Subcommand)]
pub enum MasterKeyCmd {
    /// Re-seal every private signing key and client_secret_jwt secret under a new master key,
    /// in one transaction. The current key comes from GATEHOUSE_MASTER_KEY or [keys]
    /// master_key_file; the new one from --new-key-file or GATEHOUSE_NEW_MASTER_KEY (32 bytes
    /// as 64 hex digits or base64). Restart every node with the new key afterwards.
    Rotate {
        /// A file holding the new master key.
        #[arg(long, value_name = "PATH")]
        new_key_file: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
}

/// Opens the database without migrating it.
async fn open(env: &Env) -> anyhow::Result<Store> {
    let url = &env.settings.database_url;
    let timeout = env.settings.database.connect_timeout();
    Store::open(url, timeout)
        .await
        .map_err(|e| anyhow::anyhow!("database {}: {e}", super::redact(url)))
}

/// `gatehouse migrate [--check]`.
pub async fn migrate(env: &Env, check: bool, json: bool) -> anyhow::Result<()> {
    let store = open(env).await?;
    let pending = store.pending_migrations().await?;
    if check {
        if json {
            println!("{}", serde_json::json!({ "pending": pending }));
        } else {
            pending.iter().for_each(|m| println!("pending: {m}"));
        }
        if !pending.is_empty() {
            anyhow::bail!(
                "{} migration(s) pending; run `gatehouse migrate`",
                pending.len()
            );
        }
        if !json {
            println!("database schema is up to date");
        }
        return Ok(());
    }
    store.migrate().await?;
    if json {
        println!("{}", serde_json::json!({ "applied": pending }));
    } else if pending.is_empty() {
        println!("database schema is up to date");
    } else {
        pending.iter().for_each(|m| println!("applied: {m}"));
    }
    Ok(())
}

/// `gatehouse backup --to PATH`: an online, consistent copy of a SQLite database.
pub async fn backup(env: &Env, to: &Path, json: bool) -> anyhow::Result<()> {
    if to.exists() {
        anyhow::bail!("--to: {} already exists; give a new file", to.display());
    }
    let store = open(env).await?;
    if store.is_postgres() {
        anyhow::bail!(
            "backup copies SQLite databases; this one is PostgreSQL: back it up with pg_dump \
             (see docs/operations.md, \"Backup and restore\")"
        );
    }
    // A consistent snapshot while other connections keep writing (WAL).
    store
        .backup_sqlite(to)
        .await
        .map_err(|e| anyhow::anyhow!("--to: cannot write {}: {e}", to.display()))?;
    let target = to.display().to_string();
    let bytes = std::fs::metadata(to).map(|m| m.len()).unwrap_or(0);
    if json {
        println!(
            "{}",
            serde_json::json!({ "backup": target, "bytes": bytes })
        );
    } else {
        println!("backup: {target} ({bytes} bytes)");
    }
    Ok(())
}

/// `gatehouse master-key rotate`.
pub async fn master_key(env: &Env, cmd: MasterKeyCmd) -> anyhow::Result<()> {
    let MasterKeyCmd::Rotate { new_key_file, json } = cmd;
    let json = super::json_wanted(json);
    let new = new_master_key(new_key_file.as_deref())?;
    let store = env.store().await?;
    let ctx = Context::new(&store, &env.operator, env.now);
    let current = env.settings.master_key.as_ref();
    let done = master_key::rotate(&ctx, current, &new).await.flagged()?;
    if json {
        println!("{}", serde_json::to_value(done)?);
    } else {
        println!("signing_keys: {}", done.signing_keys);
        println!("client_secrets: {}", done.client_secrets);
    }
    eprintln!("re-sealed; restart every node with the new master key now");
    Ok(())
}

/// The new master key: `--new-key-file`, else the environment; exactly one of them.
fn new_master_key(file: Option<&Path>) -> anyhow::Result<MasterKey> {
    let env = std::env::var(NEW_MASTER_KEY_ENV).ok();
    let (text, source) = match (file, env) {
        (Some(_), Some(_)) => anyhow::bail!(
            "--new-key-file: give the new master key either in a file or in {NEW_MASTER_KEY_ENV}, not both"
        ),
        (Some(p), None) => (
            std::fs::read_to_string(p)
                .map_err(|e| anyhow::anyhow!("--new-key-file: cannot read {}: {e}", p.display()))?,
            "--new-key-file",
        ),
        (None, Some(t)) => (t, NEW_MASTER_KEY_ENV),
        (None, None) => anyhow::bail!(
            "--new-key-file: the new master key is missing (a file, or {NEW_MASTER_KEY_ENV})"
        ),
    };
    MasterKey::parse(&text).map_err(|e| {
        anyhow::anyhow!("{source}: {e} (expected 32 bytes as 64 hex digits or base64)")
    })
}

/// `gatehouse purge`: what the housekeeping job does, once, now.
pub async fn purge(env: &Env, json: bool) -> anyhow::Result<()> {
    let store = env.store().await?;
    let policy = gatehouse_server::purge_policy(&env.settings, env.now);
    let report = store.purge(env.now, policy).await?;
    let v = serde_json::to_value(report)?;
    if json {
        println!("{v}");
    } else if let Some(fields) = v.as_object() {
        fields.iter().for_each(|(k, n)| println!("{k}: {n}"));
    }
    Ok(())
}
