//! A flood of wrong sign-ins against the real `gatehouse serve` process (issue 8): password
//! hashing is bounded by the pool (`[password_hashing]`), whose slots reuse their Argon2
//! memory, so the server's peak resident size (`VmHWM`) stays under 150 MB through two waves of
//! 64 concurrent wrong sign-ins; requests beyond the pool's queue are answered 503 with
//! `Retry-After` at once, none fails otherwise or hangs.

use std::io::Write;
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};

use gatehouse_store::test_support::TestDb;

use crate::support::{browser, hidden, http};

/// The server process, killed when dropped.
struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// A `/proc/<pid>/status` field in KiB.
    fn status_kib(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let line = status
            .lines()
            .find(|l| l.starts_with(field))
            .unwrap_or_else(|| panic!("{field} in /proc/<pid>/status"));
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    }
}

/// Starts `gatehouse serve` on a free port with `config`, and waits until it answers.
async fn serve(db: &TestDb, config: &str) -> Server {
    let dir = std::env::temp_dir().join(format!("gatehouse-flood-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("gatehouse.toml");
    std::fs::File::create(&path)
        .unwrap()
        .write_all(config.as_bytes())
        .unwrap();
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let child = Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .args(["--config", path.to_str().unwrap(), "serve"])
        .env("GATEHOUSE_DATABASE_URL", &db.url)
        .env("GATEHOUSE_LISTEN", format!("127.0.0.1:{port}"))
        .env("GATEHOUSE_ISSUER", &base)
        .env("GATEHOUSE_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start gatehouse serve");
    let server = Server { child, base };
    for _ in 0..600 {
        if let Ok(r) = http().get(format!("{}/health", server.base)).send().await
            && r.status().is_success()
        {
            // The configuration is read at start only.
            let _ = std::fs::remove_dir_all(&dir);
            return server;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("gatehouse serve did not come up");
}

/// Fires `n` concurrent wrong console sign-ins, each from its own address (so the throttle
/// stays out of the way); returns their statuses, asserting `Retry-After` on every 503.
async fn wave(server: &Server, n: usize, wave: usize) -> Vec<u16> {
    let b = browser();
    let form_url = format!("{}/admin/console/sign-in", server.base);
    let page = b.get(&form_url).send().await.unwrap().text().await.unwrap();
    let csrf = hidden(&page, "csrf_token").unwrap();
    let attempts = (0..n).map(|i| {
        let (b, url, csrf) = (b.clone(), form_url.clone(), csrf.clone());
        async move {
            let resp = b
                .post(&url)
                .header(
                    "x-forwarded-for",
                    format!("10.{wave}.{}.{}", i / 250, i % 250 + 1),
                )
                .form(&[
                    ("username", format!("nobody{i}")),
                    ("password", "wrong password".to_owned()),
                    ("csrf_token", csrf),
                ])
                .send()
                .await
                .unwrap();
            let status = resp.status().as_u16();
            if status == 503 {
                let retry = resp
                    .headers()
                    .get("retry-after")
                    .map(|v| v.to_str().unwrap().to_owned());
                assert!(retry.is_some_and(|r| r.parse::<u64>().is_ok_and(|s| s >= 1)));
            }
            status
        }
    });
    futures::future::join_all(attempts).await
}

#[tokio::test]
async fn concurrent_wrong_sign_ins_keep_memory_bounded_and_overflow_gets_503() {
    let db = TestDb::new().await;
    let config = "[network]\ntrusted_proxies = [\"127.0.0.1\"]\n\n[password_hashing]\nconcurrency = 2\nqueue = 16\n";
    let server = serve(&db, config).await;
    let before = server.status_kib("VmRSS:");
    let mut statuses = wave(&server, 64, 1).await;
    statuses.extend(wave(&server, 64, 2).await);
    let after = server.status_kib("VmRSS:");
    let peak = server.status_kib("VmHWM:");
    eprintln!(
        "gatehouse serve RSS: before {} KiB, after {} KiB, peak {} KiB",
        before, after, peak
    );
    assert!(
        statuses.iter().all(|s| *s == 401 || *s == 503),
        "only refusals and sheds: {statuses:?}"
    );
    assert!(statuses.contains(&401), "some were checked");
    assert!(statuses.contains(&503), "some were shed: {statuses:?}");
    assert!(peak < 150 * 1024, "peak RSS {peak} KiB");
}
