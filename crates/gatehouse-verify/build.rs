//! Turns on the Redis tests when `GATEHOUSE_TEST_REDIS_URL` is set at build time: without it
//! they are compiled as `#[ignore]`d, so `cargo test` lists them as ignored (with the reason)
//! instead of passing them silently.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(gatehouse_test_redis)");
    println!("cargo::rerun-if-env-changed=GATEHOUSE_TEST_REDIS_URL");
    if std::env::var_os("GATEHOUSE_TEST_REDIS_URL").is_some_and(|v| !v.is_empty()) {
        println!("cargo::rustc-cfg=gatehouse_test_redis");
    }
}
