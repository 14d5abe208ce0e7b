//! Turns on the end-to-end tests that need a service when CI names it at build time:
//! `GATEHOUSE_TEST_REDIS_URL` (shared rate limits) and `GATEHOUSE_TEST_DATABASE_URL`
//! (PostgreSQL-only cluster tests). Without it they are compiled as `#[ignore]`d, so
//! `cargo test` lists them as ignored with the reason instead of passing them silently.
//!
//! The console's browser test runs when headless Chromium and chromedriver are installed at
//! build time, or when `GATEHOUSE_REQUIRE_BROWSER=1` (CI), where a missing browser then fails
//! it; otherwise it is listed as ignored.

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
    browser_cfg();
}

/// `gatehouse_test_browser`: run the headless-Chromium test (see `tests/e2e/console_browser.rs`).
fn browser_cfg() {
    println!("cargo::rustc-check-cfg=cfg(gatehouse_test_browser)");
    println!("cargo::rerun-if-env-changed=GATEHOUSE_REQUIRE_BROWSER");
    let mut present = true;
    for (var, default) in [
        ("GATEHOUSE_CHROMEDRIVER", "/usr/bin/chromedriver"),
        ("GATEHOUSE_CHROMIUM", "/usr/bin/chromium"),
    ] {
        println!("cargo::rerun-if-env-changed={var}");
        let path = std::env::var(var).unwrap_or_else(|_| default.to_owned());
        let path = std::path::Path::new(&path);
        // An install or removal changes the directory, which reruns this script.
        if let Some(dir) = path.parent().filter(|d| d.is_dir()) {
            println!("cargo::rerun-if-changed={}", dir.display());
        }
        present &= path.exists();
    }
    let required = std::env::var("GATEHOUSE_REQUIRE_BROWSER").is_ok_and(|v| v == "1");
    if present || required {
        println!("cargo::rustc-cfg=gatehouse_test_browser");
    }
}
