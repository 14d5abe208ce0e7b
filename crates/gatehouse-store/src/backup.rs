//! `gatehouse backup`: an online copy of a SQLite database. `VACUUM INTO` writes a consistent
//! snapshot of the database as of one read transaction, while the server keeps reading and
//! writing (WAL). PostgreSQL databases are backed up with `pg_dump`, not here.

use std::path::Path;

use sea_orm::{ConnectionTrait, DbBackend, Statement};

use crate::{Error, Store};

impl Store {
    /// Whether this store is on PostgreSQL (else SQLite).
    pub fn is_postgres(&self) -> bool {
        self.db().get_database_backend() == DbBackend::Postgres
    }

    /// Writes a copy of this SQLite database to the new file `to` (SQLite refuses a file that
    /// exists and is not empty). `Conflict` on PostgreSQL.
    pub async fn backup_sqlite(&self, to: &Path) -> Result<(), Error> {
        if self.is_postgres() {
            return Err(Error::Conflict("not a SQLite database".into()));
        }
        let target = to
            .to_str()
            .ok_or_else(|| Error::Db(format!("{} is not valid UTF-8", to.display())))?;
        self.db()
            .execute_raw(Statement::from_sql_and_values(
                DbBackend::Sqlite,
                "VACUUM INTO ?",
                [target.into()],
            ))
            .await?;
        Ok(())
    }
}
