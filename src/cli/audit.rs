//! `gatehouse audit list|tail`: the audit trail, oldest first after a cursor.

use clap::Subcommand;
use gatehouse_admin::{Context, audit};

use super::{Env, Flagged, print};

#[derive(Subcommand)]
pub enum AuditCmd {
    /// Print the events after an id, oldest first.
    List {
        /// Only events with an id greater than this.
        #[arg(long, default_value_t = 0, allow_negative_numbers = true)]
        after: i64,
        /// At most this many events (1 to 1000).
        #[arg(long, default_value_t = 100)]
        limit: u64,
        #[arg(long)]
        json: bool,
    },
    /// Follow the trail: print new events as JSON lines until interrupted.
    Tail {
        /// Start after this id (default: the newest event, so only new ones are printed).
        #[arg(long)]
        after: Option<i64>,
        /// Seconds between polls.
        #[arg(long, default_value_t = 2)]
        interval: u64,
    },
}

/// Most events one poll of `audit tail` reads.
const TAIL_BATCH: u64 = 1000;

pub async fn run(env: &Env, cmd: AuditCmd) -> anyhow::Result<()> {
    match cmd {
        AuditCmd::List { after, limit, json } => {
            let store = env.store().await?;
            let ctx = Context::new(&store, &env.operator, env.now);
            let out = audit::list(&ctx, None, after, limit).await.flagged()?;
            if super::json_wanted(json) {
                return print(&out, true, &[]);
            }
            for e in &out.events {
                println!("{}", serde_json::to_value(e)?);
            }
            Ok(())
        }
        AuditCmd::Tail { after, interval } => {
            if !(1..=3600).contains(&interval) {
                anyhow::bail!("--interval: must be between 1 and 3600 seconds");
            }
            let store = env.store().await?;
            let ctx = Context::new(&store, &env.operator, env.now);
            let mut cursor = match after {
                Some(n) if n < 0 => anyhow::bail!("--after: must be 0 or more"),
                Some(n) => n,
                None => audit::last_id(&ctx).await.flagged()?,
            };
            loop {
                let out = audit::list(&ctx, None, cursor, TAIL_BATCH)
                    .await
                    .flagged()?;
                for e in &out.events {
                    println!("{}", serde_json::to_value(e)?);
                }
                cursor = out.next_after;
                if (out.events.len() as u64) < TAIL_BATCH {
                    tokio::select! {
                        _ = crate::shutdown_signal() => return Ok(()),
                        _ = tokio::time::sleep(std::time::Duration::from_secs(interval)) => {}
                    }
                }
            }
        }
    }
}
