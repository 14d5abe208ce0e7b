//! `instances-api`: runs the example API. Configuration from the environment (see README.md).

use std::net::TcpListener;

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let config = instances_api::Config::from_env().map_err(std::io::Error::other)?;
    let listen = std::env::var("INSTANCES_LISTEN").unwrap_or_else(|_| "127.0.0.1:8081".into());
    let listener = TcpListener::bind(&listen)?;
    tracing::info!(%listen, issuer = %config.issuer, "instances API listening");
    instances_api::serve(&config, listener)
        .map_err(std::io::Error::other)?
        .await
}
