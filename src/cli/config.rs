//! `gatehouse config check`: loads the settings exactly as `serve` does (defaults, the file,
//! the environment) and reports every problem, one line each naming the setting and where its
//! value came from; a short summary when there is none. Touches no database.

use std::net::ToSocketAddrs;
use std::path::Path;

use clap::Subcommand;
use gatehouse_server::Settings;
use gatehouse_server::settings::{LoadReport, Origin, Problem, env_var_of};

#[derive(Subcommand)]
pub enum ConfigCmd {
    /// Check the configuration (`--config PATH`, else config/gatehouse.toml, and the
    /// environment): one line per problem and a non-zero exit, or a summary.
    Check,
}

/// The configuration has problems (each already printed).
#[derive(Debug, thiserror::Error)]
#[error("the configuration has {0} problem(s)")]
pub struct ConfigProblems(usize);

pub fn run(config: Option<&Path>, cmd: ConfigCmd) -> anyhow::Result<()> {
    match cmd {
        ConfigCmd::Check => check(config),
    }
}

fn check(config: Option<&Path>) -> anyhow::Result<()> {
    let mut problems = Vec::new();
    if let Err(p) = crate::log_filter(true) {
        problems.push(p);
    }
    let loaded = match Settings::load_reported(config) {
        Ok(loaded) => Some(loaded),
        Err(e) => {
            problems.extend(e.problems);
            None
        }
    };
    if let Some((settings, _)) = &loaded {
        problems.extend(beyond_the_settings(settings));
    }
    if !problems.is_empty() {
        for p in &problems {
            eprintln!("error: {p}");
        }
        return Err(ConfigProblems(problems.len()).into());
    }
    if let Some((settings, report)) = loaded {
        summary(&settings, &report);
    }
    Ok(())
}

/// What the settings name outside themselves: the listen addresses resolve, TLS files exist.
fn beyond_the_settings(s: &Settings) -> Vec<Problem> {
    let origin = |field: &str| match env_var_of(field) {
        Some(var) if std::env::var_os(var).is_some() => Origin::Env(var.into()),
        _ => Origin::Unknown,
    };
    let mut out = Vec::new();
    let mut addresses = vec![("listen", s.listen.as_str())];
    if s.metrics.enabled && !s.metrics.listen.is_empty() {
        addresses.push(("metrics.listen", s.metrics.listen.as_str()));
    }
    for (field, addr) in addresses {
        if let Err(e) = addr.to_socket_addrs() {
            let msg = format!("{addr:?} is not a host:port address ({e})");
            out.push(Problem::new(field, origin(field), msg));
        }
    }
    for (field, file) in [
        ("tls.cert_file", &s.tls.cert_file),
        ("tls.key_file", &s.tls.key_file),
    ] {
        if !file.is_empty() && !Path::new(file).is_file() {
            let msg = format!("{file} does not exist or is not a file");
            out.push(Problem::new(field, Origin::Unknown, msg));
        }
    }
    out
}

fn summary(s: &Settings, report: &LoadReport) {
    println!("configuration OK");
    match &report.file {
        Some(f) => println!("file:     {}", f.display()),
        None => println!("file:     none (built-in defaults and environment)"),
    }
    let follows = if report.issuer_follows_listen {
        " (follows listen)"
    } else {
        ""
    };
    println!("issuer:   {}{follows}", s.issuer);
    println!("listen:   {}", s.listen);
    let database = s.database_display();
    match s.sqlite_path() {
        Some(p) if p.exists() => println!("database: {database} (exists)"),
        Some(_) => println!("database: {database} (created on first start)"),
        None => println!("database: {database}"),
    }
    let master = if s.master_key.is_some() {
        "set"
    } else {
        "none"
    };
    println!("master key: {master}");
}
