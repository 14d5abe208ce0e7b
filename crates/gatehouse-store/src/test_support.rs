//! Throw-away databases for tests, here and in the crates that use the store.
//!
//! [`TestDb::new`] makes a fresh, empty database: a SQLite file in a new temporary directory by
//! default, or, when `GATEHOUSE_TEST_DATABASE_URL` names a PostgreSQL server, a new database
//! `gh_test_<uuid>` on it. Each test gets its own, so tests run in parallel on either backend.
//! Dropping the [`TestDb`] deletes the database.

use std::path::PathBuf;

use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection};

use crate::{Error, Store};

/// The environment variable naming a PostgreSQL server for tests, e.g.
/// `postgres://postgres@127.0.0.1:5432/test` (the database in it is used only to connect).
pub const TEST_DATABASE_URL_ENV: &str = "GATEHOUSE_TEST_DATABASE_URL";

enum Backing {
    Sqlite { dir: PathBuf },
    Postgres { admin_url: String, name: String },
}

/// A fresh database that is deleted on drop.
pub struct TestDb {
    /// The URL to give [`Store::connect`].
    pub url: String,
    backing: Backing,
}

impl std::fmt::Debug for TestDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestDb")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

async fn admin_connection(url: &str) -> Result<DatabaseConnection, Error> {
    let mut opts = ConnectOptions::new(url.to_owned());
    opts.sqlx_logging(false).max_connections(1);
    Ok(Database::connect(opts).await?)
}

/// `url` with its database name (the last path segment) replaced by `name`, query kept.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let server = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    match query {
        Some(q) => format!("{server}/{name}?{q}"),
        None => format!("{server}/{name}"),
    }
}

impl TestDb {
    /// Creates a fresh empty database (not yet migrated: [`Store::connect`] does that).
    ///
    /// # Panics
    /// If the database cannot be created: tests cannot run without one.
    pub async fn new() -> TestDb {
        let id = uuid::Uuid::new_v4().simple().to_string();
        match std::env::var(TEST_DATABASE_URL_ENV) {
            Ok(admin_url) if !admin_url.trim().is_empty() => {
                let admin_url = admin_url.trim().to_owned();
                let name = format!("gh_test_{id}");
                let admin = admin_connection(&admin_url)
                    .await
                    .unwrap_or_else(|e| panic!("cannot connect to {TEST_DATABASE_URL_ENV}: {e}"));
                admin
                    .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                    .await
                    .unwrap_or_else(|e| panic!("cannot create test database {name}: {e}"));
                let _ = admin.close().await;
                TestDb {
                    url: with_database(&admin_url, &name),
                    backing: Backing::Postgres { admin_url, name },
                }
            }
            _ => {
                let dir = std::env::temp_dir().join(format!("gatehouse-test-{id}"));
                std::fs::create_dir_all(&dir)
                    .unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
                let url = format!("sqlite://{}?mode=rwc", dir.join("gh.db").display());
                TestDb {
                    url,
                    backing: Backing::Sqlite { dir },
                }
            }
        }
    }

    /// Connects a [`Store`] to this database (migrating it).
    ///
    /// # Panics
    /// If connecting fails.
    pub async fn store(&self) -> Store {
        Store::connect(&self.url)
            .await
            .unwrap_or_else(|e| panic!("cannot connect to the test database: {e}"))
    }

    /// Whether this is a PostgreSQL database.
    pub fn is_postgres(&self) -> bool {
        matches!(self.backing, Backing::Postgres { .. })
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match &self.backing {
            Backing::Sqlite { dir } => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Backing::Postgres { admin_url, name } => {
                // Drop may run inside an async runtime, where blocking on another future is not
                // allowed; a separate thread with its own runtime sidesteps that.
                let (admin_url, name) = (admin_url.clone(), name.clone());
                let dropper = std::thread::spawn(move || {
                    let runtime = match tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                    {
                        Ok(rt) => rt,
                        Err(e) => return eprintln!("cannot drop test database {name}: {e}"),
                    };
                    runtime.block_on(async {
                        let result = async {
                            let admin = admin_connection(&admin_url).await?;
                            admin
                                .execute_unprepared(&format!(
                                    "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                                ))
                                .await?;
                            admin.close().await?;
                            Ok::<_, Error>(())
                        }
                        .await;
                        if let Err(e) = result {
                            eprintln!("cannot drop test database {name}: {e}");
                        }
                    });
                });
                let _ = dropper.join();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn replaces_the_database_name() {
        assert_eq!(
            with_database("postgres://u@h:5432/test", "x"),
            "postgres://u@h:5432/x"
        );
        assert_eq!(
            with_database("postgres://u@h/test?sslmode=disable", "x"),
            "postgres://u@h/x?sslmode=disable"
        );
        assert_eq!(with_database("postgres://u@h", "x"), "postgres://u@h/x");
    }
}
