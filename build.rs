//! Turns on the end-to-end tests that need a service when CI names it at build time:
//! `GATEHOUSE_TEST_REDIS_URL` (shared rate limits) and `GATEHOUSE_TEST_DATABASE_URL`
//! (PostgreSQL-only cluster tests). Without it they are compiled as `#[ignore]`d, so
//! `cargo test` lists them as ignored with the reason instead of passing them silently.
//!
//! The console's browser test runs when headless Chromium and chromedriver are installed at
//! build time, or when `GATEHOUSE_REQUIRE_BROWSER=1` (CI), where a missing browser then fails
//! it; otherwise it is listed as ignored.
//!
//! Release builds of the `gatehouse` binary hand the linker the list of functions that serving
//! runs (`layout/serve-functions.txt`, recorded by `scripts/layout/record.py`), so that they
//! are laid out first and together: see `link_order`.

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
    link_order();
}

/// `--symbol-ordering-file` for the release link of the server. The kernel maps executable
/// code in 64 KiB windows around each page fault; with the functions a serving process runs
/// spread over the whole code segment, most of it becomes resident. Listed first and
/// together, they fill a few megabytes (docs/benchmarks.md, idle RSS).
///
/// Only where the linker is known to be LLD: Rust's default for x86_64 Linux since 1.90 (the
/// toolchain is pinned in rust-toolchain.toml). Any linker configured through `RUSTFLAGS` or
/// `CARGO_TARGET_<triple>_LINKER`, or `GATEHOUSE_LINK_ORDER=0`, turns it off. A listed function
/// that no longer exists is skipped by the linker; one missing from the list only lands among
/// the cold code.
fn link_order() {
    const LIST: &str = "layout/serve-functions.txt";
    println!("cargo::rerun-if-changed={LIST}");
    for var in [
        "GATEHOUSE_LINK_ORDER",
        "CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_LINKER",
    ] {
        println!("cargo::rerun-if-env-changed={var}");
    }
    let env = |var: &str| std::env::var(var).unwrap_or_default();
    let rustflags = env("CARGO_ENCODED_RUSTFLAGS");
    let default_linker = env("CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_LINKER").is_empty()
        && !rustflags.contains("linker")
        && !rustflags.contains("link-self-contained")
        && !rustflags.contains("fuse-ld");
    let path = std::path::Path::new(&env("CARGO_MANIFEST_DIR")).join(LIST);
    let path = path.display().to_string();
    if env("GATEHOUSE_LINK_ORDER") == "0"
        || env("PROFILE") != "release"
        || env("TARGET") != "x86_64-unknown-linux-gnu"
        || !default_linker
        || path.contains(',')
        || !std::path::Path::new(&path).is_file()
    {
        return;
    }
    println!("cargo::rustc-link-arg-bin=gatehouse=-Wl,--symbol-ordering-file={path}");
    println!("cargo::rustc-link-arg-bin=gatehouse=-Wl,--no-warn-symbol-ordering");
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
