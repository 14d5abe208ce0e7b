//! Verification throughput on one core, caches warm (criterion):
//! `cargo bench -p gatehouse-verify --bench verify`. The keys, the JWKS and the introspection
//! answer come from a loopback authorization server (the tests' harness) and are fetched once
//! before measuring; nothing is fetched inside the loops.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::too_many_lines,
    clippy::disallowed_methods
)]

#[path = "../tests/support/mod.rs"]
mod support;

use criterion::{Criterion, criterion_group, criterion_main};
use gatehouse_verify::{ManualClock, Verifier, VerifierConfig};
use std::sync::Arc;
use support::{MockAs, RS_CLIENT, RS_SECRET, TestKey, api_key, claims, key_answer, now_secs};

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (rsa, ec) = (TestKey::rsa("r1"), TestKey::ec("e1"));
    let server = rt.block_on(MockAs::start(&[&rsa, &ec]));
    // A clock that stands still keeps the tokens valid however long criterion runs.
    let clock = ManualClock::default();
    let cfg = VerifierConfig::new(&server.issuer).introspection_client(RS_CLIENT, RS_SECRET);
    let v = Verifier::with_clock(cfg, Arc::new(clock.clone())).unwrap();
    let now = now_secs(&clock);
    let cl = claims(&server.issuer, now, "instances:read instances:write");
    let (rs_token, es_token) = (rsa.token(&cl), ec.token(&cl));
    let key = api_key("gh_live_", 42);
    let answer = key_answer(&server.issuer, "key-1", "instances:read", None);
    server.add_key(&key, answer);
    rt.block_on(async {
        v.verify_access_token(&rs_token).await.unwrap();
        v.verify_access_token(&es_token).await.unwrap();
        v.verify_api_key(&key, None).await.unwrap();
    });

    let mut g = c.benchmark_group("verify");
    g.bench_function("RS256 access token, cached key", |b| {
        b.to_async(&rt)
            .iter(|| async { v.verify_access_token(&rs_token).await.unwrap() })
    });
    g.bench_function("ES256 access token, cached key", |b| {
        b.to_async(&rt)
            .iter(|| async { v.verify_access_token(&es_token).await.unwrap() })
    });
    g.bench_function("API key, cached introspection", |b| {
        b.to_async(&rt)
            .iter(|| async { v.verify_api_key(&key, None).await.unwrap() })
    });
    g.finish();
    assert_eq!(server.introspections(), 1, "the loops never left the cache");
}

criterion_group!(benches, bench);
criterion_main!(benches);
