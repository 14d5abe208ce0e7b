//! Opening the database, and saying clearly why it could not be opened.
//!
//! A pool alone is a poor diagnostician: it retries a refused connection until its acquire
//! timeout and then reports only "pool timed out". So before a PostgreSQL pool is built, one
//! connection is tried directly, within the connect timeout, and its failure is named:
//! the host and port, and the cause — refused, host name not found, no answer, authentication,
//! database missing. The password is never part of a message.
//!
//! After start-up the pool reconnects by itself: every request that needs a connection tries
//! to open one (with sqlx's backoff, within the same timeout), so a database that comes back
//! is used again without a restart, and readiness (`/health/ready`) says 503 meanwhile.

use std::str::FromStr;
use std::time::Duration;

use sea_orm::sqlx::postgres::{PgConnectOptions, PgConnection};
use sea_orm::sqlx::{Connection, Error as SqlxError};

use crate::Error;

/// The connect timeout when the caller names none.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Where a PostgreSQL URL points, for messages (no password).
struct Target {
    host: String,
    port: u16,
    user: String,
    database: String,
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "PostgreSQL at {}:{} (database {:?}, user {:?})",
            self.host, self.port, self.database, self.user
        )
    }
}

/// Tries one PostgreSQL connection within `timeout`; the error names the server and the cause.
pub(crate) async fn probe_postgres(url: &str, timeout: Duration) -> Result<(), Error> {
    // The parse error of sqlx never repeats the URL, so it cannot leak the password.
    let opts = PgConnectOptions::from_str(url)
        .map_err(|e| Error::Connect(format!("invalid PostgreSQL URL: {e}")))?;
    let target = Target {
        host: opts.get_host().to_owned(),
        port: opts.get_port(),
        user: opts.get_username().to_owned(),
        database: opts
            .get_database()
            .unwrap_or(opts.get_username())
            .to_owned(),
    };
    match tokio::time::timeout(timeout, PgConnection::connect_with(&opts)).await {
        Ok(Ok(conn)) => {
            let _ = conn.close().await;
            Ok(())
        }
        Ok(Err(e)) => Err(Error::Connect(format!(
            "cannot connect to {target}: {}",
            cause(&e, &target)
        ))),
        Err(_) => Err(Error::Connect(format!(
            "cannot connect to {target}: no answer within {} s (database.connect_timeout)",
            timeout.as_secs_f32()
        ))),
    }
}

/// The cause of a failed connection, in an operator's words.
fn cause(e: &SqlxError, target: &Target) -> String {
    match e {
        SqlxError::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => {
            "connection refused (is PostgreSQL running and listening on that port?)".into()
        }
        SqlxError::Io(io) if is_dns(io) => {
            format!("host name {:?} not found (DNS)", target.host)
        }
        SqlxError::Io(io) => format!("network error: {io}"),
        SqlxError::Tls(t) => format!("TLS: {t}"),
        SqlxError::Database(db) => match db.code().as_deref() {
            Some("28P01" | "28000") => {
                format!("authentication failed for user {:?}", target.user)
            }
            Some("3D000") => format!("database {:?} does not exist", target.database),
            _ => format!("the server refused: {}", db.message()),
        },
        other => other.to_string(),
    }
}

/// Whether an I/O error is a failed name lookup (the resolver gives no error kind for it).
fn is_dns(io: &std::io::Error) -> bool {
    let text = io.to_string();
    text.contains("lookup address") || text.contains("Name or service not known")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_refused_connection_names_host_port_and_cause_but_not_the_password() {
        // Port 9 (discard) on loopback: nothing listens there on a test machine.
        let err = probe_postgres(
            "postgres://app:s3cret-pw@127.0.0.1:9/gh",
            Duration::from_secs(3),
        )
        .await
        .unwrap_err()
        .to_string();
        assert!(err.contains("127.0.0.1:9"), "{err}");
        assert!(err.contains("refused"), "{err}");
        assert!(err.contains("\"gh\""), "{err}");
        assert!(!err.contains("s3cret-pw"), "{err}");
    }

    #[tokio::test]
    async fn an_unknown_host_is_named_as_a_dns_failure() {
        let err = probe_postgres(
            "postgres://app:pw@no-such-host.invalid:5432/gh",
            Duration::from_secs(3),
        )
        .await
        .unwrap_err()
        .to_string();
        assert!(err.contains("no-such-host.invalid:5432"), "{err}");
        assert!(
            err.contains("not found (DNS)") || err.contains("no answer"),
            "{err}"
        );
    }
}
