//! Direct HTTPS (`[tls]`): the binary serves TLS with the configured certificate, and on
//! SIGHUP swaps in the files' new certificate for new handshakes while open connections carry
//! on; a reload that fails keeps the certificate in use.

use std::time::{Duration, Instant};

use crate::ops_support::*;
use crate::support::http;

const HOST: &str = "gatehouse.test";

/// A self-signed certificate for [`HOST`]: (certificate PEM, private key PEM).
fn certificate() -> (String, String) {
    let c = rcgen::generate_simple_self_signed(vec![HOST.to_owned()]).unwrap();
    (c.cert.pem(), c.signing_key.serialize_pem())
}

/// A client that trusts only `cert_pem` and reaches [`HOST`] at the node.
fn client_trusting(cert_pem: &str, port: u16) -> reqwest::Client {
    reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(cert_pem.as_bytes()).unwrap())
        .tls_built_in_root_certs(false)
        .resolve(HOST, ([127, 0, 0, 1], port).into())
        .pool_idle_timeout(Duration::from_secs(60))
        .build()
        .unwrap()
}

async fn status(c: &reqwest::Client, port: u16, path: &str) -> Result<u16, reqwest::Error> {
    let r = c.get(format!("https://{HOST}:{port}{path}")).send().await?;
    Ok(r.status().as_u16())
}

#[tokio::test]
async fn https_with_the_configured_certificate_reloaded_on_sighup() {
    let db = gatehouse_store::test_support::TestDb::new().await;
    let dir = std::env::temp_dir().join(format!("gh-tls-{}", free_port()));
    std::fs::create_dir_all(&dir).unwrap();
    let (cert_a, key_a) = certificate();
    let (cert_b, key_b) = certificate();
    let (cert_file, key_file) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert_file, &cert_a).unwrap();
    std::fs::write(&key_file, &key_a).unwrap();
    let config = format!(
        "[tls]\ncert_file = {:?}\nkey_file = {:?}\n[server]\nkeep_alive = 60\n",
        cert_file.display().to_string(),
        key_file.display().to_string()
    );
    let mut node = Process::spawn(&db.url, Some(&format!("https://{HOST}")), &config, &[]);
    let port = node.port;
    let trusts_a = client_trusting(&cert_a, port);
    let deadline = Instant::now() + Duration::from_secs(60);
    while status(&trusts_a, port, "/health/ready").await.ok() != Some(200) {
        assert!(Instant::now() < deadline, "not ready: {}", node.log_text());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Plain HTTP is not spoken on the TLS port.
    assert!(
        http()
            .get(format!("http://127.0.0.1:{port}/health/live"))
            .send()
            .await
            .map(|r| r.status().as_u16())
            .ok()
            != Some(200)
    );
    let trusts_b = client_trusting(&cert_b, port);
    assert!(
        status(&trusts_b, port, "/health/live").await.is_err(),
        "B is not served yet"
    );

    // New files, then SIGHUP: new handshakes get B.
    std::fs::write(&cert_file, &cert_b).unwrap();
    std::fs::write(&key_file, &key_b).unwrap();
    node.signal("HUP");
    let deadline = Instant::now() + Duration::from_secs(10);
    while status(&trusts_b, port, "/health/live").await.ok() != Some(200) {
        assert!(
            Instant::now() < deadline,
            "B not served: {}",
            node.log_text()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The connection opened under A is still open: its client (which trusts only A, so could
    // not open a new one now) goes on using it.
    assert_eq!(status(&trusts_a, port, "/health/live").await.unwrap(), 200);
    assert!(
        status(&client_trusting(&cert_a, port), port, "/health/live")
            .await
            .is_err(),
        "a new connection gets B"
    );

    // A broken pair is refused and B stays.
    std::fs::write(&key_file, &key_a).unwrap();
    node.signal("HUP");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !node.log_text().contains("TLS certificate not reloaded") {
        assert!(Instant::now() < deadline, "{}", node.log_text());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let fresh_b = client_trusting(&cert_b, port);
    assert_eq!(status(&fresh_b, port, "/health/live").await.unwrap(), 200);
    let metrics = fresh_b
        .get(format!("https://{HOST}:{port}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(
        sample(
            &metrics,
            "gatehouse_tls_certificate_reloads_total{result=\"ok\"}"
        ),
        Some(1.0)
    );
    assert_eq!(
        sample(
            &metrics,
            "gatehouse_tls_certificate_reloads_total{result=\"error\"}"
        ),
        Some(1.0)
    );
    node.signal("TERM");
    assert!(node.exit_status(Duration::from_secs(15)).await.success());
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_bad_certificate_or_variable_stops_the_start_naming_the_setting() {
    let db = gatehouse_store::test_support::TestDb::new().await;
    let dir = std::env::temp_dir().join(format!("gh-tls-bad-{}", free_port()));
    std::fs::create_dir_all(&dir).unwrap();
    let (cert_a, _) = certificate();
    let (_, key_b) = certificate();
    std::fs::write(dir.join("cert.pem"), &cert_a).unwrap();
    std::fs::write(dir.join("key.pem"), &key_b).unwrap();
    let no_env: &[(&str, &str)] = &[];
    for (config, env, expected) in [
        (
            format!(
                "[tls]\ncert_file = {:?}\n",
                dir.join("cert.pem").display().to_string()
            ),
            no_env,
            "tls.key_file (from built-in default): must be set",
        ),
        (
            format!(
                "[tls]\ncert_file = {:?}\nkey_file = {:?}\n",
                dir.join("missing.pem").display().to_string(),
                dir.join("key.pem").display().to_string()
            ),
            no_env,
            "tls.cert_file: cannot read",
        ),
        (
            format!(
                "[tls]\ncert_file = {:?}\nkey_file = {:?}\n",
                dir.join("cert.pem").display().to_string(),
                dir.join("key.pem").display().to_string()
            ),
            no_env,
            "does not fit the certificate",
        ),
        // The variables of the new sections are read, and checked like the file.
        (
            String::new(),
            &[("GATEHOUSE_REDIS_URL", "http://:hunter2@redis:6379")],
            "redis.url (from environment variable GATEHOUSE_REDIS_URL): must start with redis://",
        ),
        (String::new(), &[("GATEHOUSE_LOG_FORMAT", "yaml")], "yaml"),
    ] {
        let mut node = Process::spawn(&db.url, None, &config, env);
        let status = node.exit_status(Duration::from_secs(30)).await;
        assert!(!status.success());
        let log = node.log_text();
        assert!(log.contains(expected), "{log}");
        assert!(!log.contains("hunter2"), "{log}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
