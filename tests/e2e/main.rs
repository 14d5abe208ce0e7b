//! End-to-end tests: the real server on a random port with a fresh database (SQLite, or
//! PostgreSQL when `GATEHOUSE_TEST_DATABASE_URL` is set), driven as a relying party and a
//! browser would drive it. One module per protocol area.

mod support;

mod apikeys_cli;
mod cli;
mod code_flow;
mod discovery;
mod refresh;
mod token_endpoint;
mod userinfo;
