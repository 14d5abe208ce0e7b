//! The `gatehouse` binary: a thin clap front over the crates ([`cli`]). The flags, environment
//! variables and JSON fields are the operator contract (`shared/contract.md`): keep them exact.

mod cli;

use std::process::ExitCode;

use anyhow::Context as _;
use clap::Parser;
use gatehouse_server::settings::LogFormat;
use gatehouse_server::{Application, Settings};

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(cli::run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Logging to standard error: `GATEHOUSE_LOG` is the filter (`info` when serving, else
/// `warn`), `[log] format` / `GATEHOUSE_LOG_FORMAT` the line format. Events of a request
/// carry its `request_id` (the `request` span).
pub(crate) fn init_tracing(serving: bool, format: LogFormat) {
    let default = if serving {
        "info,sqlx=warn,sea_orm=warn"
    } else {
        "warn,sqlx=warn,sea_orm=warn"
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("GATEHOUSE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    use std::io::IsTerminal;
    let lines = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // Only fails when a subscriber is already set, which the binary never does twice.
    let _ = match format {
        LogFormat::Json => lines
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
        LogFormat::Text => lines.with_ansi(std::io::stderr().is_terminal()).try_init(),
    };
}

/// `gatehouse serve`.
async fn serve(settings: Settings) -> anyhow::Result<()> {
    let issuer = settings.issuer.clone();
    let app = Application::build(settings)
        .await
        .map_err(anyhow::Error::msg)?;
    tracing::info!(issuer = %issuer, port = app.port(), "gatehouse is serving");
    app.run(shutdown_signal()).await.context("server")
}

/// Resolves on SIGINT or SIGTERM.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
