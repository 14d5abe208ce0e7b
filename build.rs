//! Turns on the end-to-end tests that need a service when CI names it at build time:
//! `GATEHOUSE_TEST_REDIS_URL` (shared rate limits) and `GATEHOUSE_TEST_DATABASE_URL`
//! (PostgreSQL-only cluster tests). Without it they are compiled as `#[ignore]`d, so
//! `cargo test` lists them as ignored with the reason instead of passing them silently.

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    for (var, cfg) in [
        ("GATEHOUSE_TEST_REDIS_URL", "gatehouse_test_redis"),
        ("GATEHOUSE_TEST_DATABASE_URL", "gatehouse_test_postgres"),
    ] {
        println!("cargo::rustc-check-cfg=cfg({cfg})");
        println!("cargo::rerun-if-env-changed={var}");
        if std::env::var(var).is_ok_and(|v| !v.trim().is_empty()) {
            println!("cargo::rustc-cfg={cfg}");
        }
    }
}
