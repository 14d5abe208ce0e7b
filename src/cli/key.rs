//! `gatehouse key rotate|list`: the server's signing keys.

use clap::Subcommand;
use gatehouse_admin::Context;
use gatehouse_admin::signing_keys;

use super::{Env, Flagged, json_wanted, print, print_table};

#[derive(Subcommand)]
pub enum KeyCmd {
    /// Create a new signing key: published at once, it signs from `activates_at`
    /// ([keys] propagation_delay later, when every node has loaded it); the old one stays
    /// published. Needs GATEHOUSE_MASTER_KEY when the stored keys are encrypted.
    Rotate {
        /// RS256 or ES256.
        #[arg(long)]
        alg: String,
        #[arg(long)]
        json: bool,
    },
    /// List signing keys.
    List {
        #[arg(long)]
        json: bool,
    },
}

pub async fn run(env: &Env, cmd: KeyCmd) -> anyhow::Result<()> {
    let store = env.store().await?;
    let ctx = Context::new(&store, &env.operator, env.now);
    let master = env.settings.master_key.as_ref();
    match cmd {
        KeyCmd::Rotate { alg, json } => {
            let delay = env.settings.keys.propagation();
            let out = signing_keys::rotate(&ctx, &alg, master, delay)
                .await
                .flagged()?;
            print(&out, json, &["kid", "alg"])
        }
        KeyCmd::List { json } => {
            if master.is_some() {
                // Say so now if the configured master key would stop the server.
                signing_keys::check_master(&ctx, master).await.flagged()?;
            }
            let out = signing_keys::list(&ctx).await.flagged()?;
            if json_wanted(json) {
                return print(&out, true, &[]);
            }
            let rows = serde_json::to_value(&out.keys)?;
            print_table(
                rows.as_array().map_or(&[][..], Vec::as_slice),
                &[
                    ("KID", "kid"),
                    ("ALG", "alg"),
                    ("STATUS", "status"),
                    ("CREATED", "created_at"),
                    ("SIGNS FROM", "activates_at"),
                    ("RETIRED", "retired_at"),
                    ("ENCRYPTED", "encrypted"),
                ],
                "no signing keys yet (the server creates them at its first start)",
            )
        }
    }
}
