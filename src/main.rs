//! The `gatehouse` binary: a thin clap front over the crates ([`cli`]). The flags, environment
//! variables and JSON fields are the operator contract (`shared/contract.md`): keep them exact.

mod cli;

use std::process::ExitCode;

use anyhow::Context as _;
use clap::Parser;
use gatehouse_server::settings::{LoadReport, LogFormat, Origin, Problem, SettingsError};
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
            // One line per problem (settings may report several).
            for line in format!("{e:#}").lines() {
                eprintln!("error: {line}");
            }
            ExitCode::from(2)
        }
    }
}

/// The log filter variable (tracing's `EnvFilter` syntax).
pub(crate) const LOG_ENV: &str = "GATEHOUSE_LOG";

/// The log filter: `GATEHOUSE_LOG`, else `info` when serving and `warn` otherwise. A filter
/// that does not parse, or a bare word that is not a level (`verbose`), is an error rather
/// than silently logging nothing.
pub(crate) fn log_filter(serving: bool) -> Result<tracing_subscriber::EnvFilter, Problem> {
    let default = if serving {
        "info,sqlx=warn,sea_orm=warn"
    } else {
        "warn,sqlx=warn,sea_orm=warn"
    };
    let text = match std::env::var(LOG_ENV) {
        Ok(v) if v.trim().is_empty() => return Ok(tracing_subscriber::EnvFilter::new(default)),
        Ok(v) => v,
        Err(std::env::VarError::NotPresent) => {
            return Ok(tracing_subscriber::EnvFilter::new(default));
        }
        Err(std::env::VarError::NotUnicode(_)) => {
            return Err(log_problem("is not valid UTF-8".into()));
        }
    };
    const LEVELS: [&str; 6] = ["off", "error", "warn", "info", "debug", "trace"];
    if let Some(word) = text.split(',').map(str::trim).find(|d| {
        !d.is_empty()
            && !d.contains('=')
            && !d.contains('[')
            && !LEVELS.contains(&d.to_ascii_lowercase().as_str())
    }) {
        return Err(log_problem(format!(
            "{word:?} is not a level ({}) nor target=level",
            LEVELS.join(", ")
        )));
    }
    tracing_subscriber::EnvFilter::try_new(&text)
        .map_err(|e| log_problem(format!("{text:?} does not parse: {e}")))
}

fn log_problem(what: String) -> Problem {
    Problem::new(
        LOG_ENV,
        Origin::Env(LOG_ENV.into()),
        format!("{what} (e.g. GATEHOUSE_LOG=info or GATEHOUSE_LOG=info,gatehouse::access=warn)"),
    )
}

/// Logging to standard error: [`log_filter`] chooses what, `[log] format` /
/// `GATEHOUSE_LOG_FORMAT` the line format. Events of a request carry its `request_id` (the
/// `request` span).
pub(crate) fn init_tracing(serving: bool, format: LogFormat) -> Result<(), SettingsError> {
    let filter = log_filter(serving).map_err(SettingsError::one)?;
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
    Ok(())
}

/// `gatehouse serve`: logs where its settings came from, the database and the issuer.
async fn serve(settings: Settings, report: LoadReport) -> anyhow::Result<()> {
    let issuer = settings.issuer.clone();
    match &report.file {
        Some(f) => tracing::info!(file = %f.display(), "configuration file read"),
        None => tracing::info!("no configuration file (built-in defaults and environment)"),
    }
    if let Some(relative) = &report.relative_database_path {
        tracing::info!(
            relative = %relative,
            database = %settings.database_display(),
            "the SQLite path is relative: resolved against the working directory"
        );
    }
    if report.issuer_follows_listen {
        tracing::info!(
            issuer = %issuer,
            "issuer follows the listen address (set GATEHOUSE_ISSUER or issuer for a public URL)"
        );
    }
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
