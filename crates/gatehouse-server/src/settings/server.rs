//! `[server]`: how the HTTP listener treats connections — deadlines for a request's head and
//! body, idle keep-alive, a cap on open connections, and the drain on shutdown. Together they
//! keep a slow or idle client from holding a connection (and its memory) for long.

use serde::{Deserialize, Serialize};

/// `[server]`: connection limits and timeouts, in seconds unless named otherwise.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerSettings {
    /// Time a client has to send the request line and headers.
    pub header_timeout: u64,
    /// Time a client has to send the whole body, counted from the end of its headers, whatever
    /// size it declared. A request still sending then gets 408 and the connection is closed.
    pub body_timeout: u64,
    /// How long an idle keep-alive connection stays open (0: one request per connection).
    pub keep_alive: u64,
    /// The most connections served at once across all workers; further clients wait in the
    /// operating system's listen backlog until one closes.
    pub max_connections: usize,
    /// On SIGTERM/SIGINT: new connections are refused at once, and requests in flight get this
    /// long to finish before the process exits.
    pub shutdown_timeout: u64,
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            header_timeout: 5,
            body_timeout: 10,
            keep_alive: 5,
            max_connections: 10_000,
            // Below the 10 s a container runtime waits after SIGTERM before it kills.
            shutdown_timeout: 8,
        }
    }
}

impl ServerSettings {
    /// Checks the ranges.
    pub fn check(&self) -> Result<(), String> {
        for (name, v, max) in [
            ("server.header_timeout", self.header_timeout, 300),
            ("server.body_timeout", self.body_timeout, 3600),
            ("server.shutdown_timeout", self.shutdown_timeout, 3600),
        ] {
            if !(1..=max).contains(&v) {
                return Err(format!("{name} must be between 1 and {max} seconds"));
            }
        }
        if self.keep_alive > 3600 {
            return Err("server.keep_alive must be between 0 and 3600 seconds".into());
        }
        if !(1..=1_000_000).contains(&self.max_connections) {
            return Err("server.max_connections must be between 1 and 1000000".into());
        }
        Ok(())
    }

    /// The cap per worker thread (actix counts connections per worker): the total spread
    /// evenly, rounded up, so the workers together never hold fewer than `max_connections`.
    pub fn max_connections_per_worker(&self, workers: usize) -> usize {
        self.max_connections.div_ceil(workers.max(1))
    }
}
