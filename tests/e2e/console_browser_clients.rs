//! The console's Clients and Signing keys pages in a real browser (issue 11), with the helpers
//! of `console_browser`: register a client (the secret is shown once), edit its redirect URIs,
//! rotate its secret through the confirmation dialog, then rotate a signing key; screenshots
//! of both pages go to `target/screenshots/` (kept as CI artifacts).
//!
//! Skips like `console_browser` where Chromium or chromedriver is not installed, unless
//! `GATEHOUSE_REQUIRE_BROWSER=1` (CI) makes that a failure.

use std::path::{Path, PathBuf};

use fantoccini::{Client, Locator};

use crate::console_browser::{browser, by_id, require_browser, start_driver};
use crate::support::{PASSWORD, TestServer, admin_user};

fn screenshot(name: &str) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    target.join("screenshots").join(name)
}

async fn save_screenshot(c: &Client, name: &str) {
    let png = c.screenshot().await.unwrap();
    let path = screenshot(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, &png).unwrap();
    println!("screenshot: {}", path.display());
}

async fn value_of(c: &Client, id: &str) -> String {
    by_id(c, id)
        .await
        .prop("value")
        .await
        .unwrap()
        .unwrap_or_default()
}

#[tokio::test]
#[cfg_attr(
    not(gatehouse_test_browser),
    ignore = "needs headless Chromium and chromedriver (apt-get install chromium chromium-driver), or GATEHOUSE_REQUIRE_BROWSER=1"
)]
async fn console_clients_and_signing_keys_in_headless_chromium() {
    require_browser();
    let server = TestServer::start().await;
    admin_user(&server, "root", "default", "admin:all").await;
    let (_driver, driver_url) = start_driver().await;
    let c = browser(&driver_url).await;
    c.goto(&server.url("/admin/console/sign-in")).await.unwrap();
    by_id(&c, "username").await.send_keys("root").await.unwrap();
    by_id(&c, "password")
        .await
        .send_keys(PASSWORD)
        .await
        .unwrap();
    by_id(&c, "sign-in").await.click().await.unwrap();
    by_id(&c, "no-keys").await;

    // Register a web client: the secret is shown once.
    c.goto(&server.url("/admin/console/clients")).await.unwrap();
    by_id(&c, "no-clients").await;
    by_id(&c, "create-client").await.click().await.unwrap();
    by_id(&c, "client-name")
        .await
        .send_keys("Billing Portal")
        .await
        .unwrap();
    by_id(&c, "client-kind")
        .await
        .select_by_value("web")
        .await
        .unwrap();
    by_id(&c, "client-redirects")
        .await
        .send_keys("https://billing.example/callback")
        .await
        .unwrap();
    by_id(&c, "create-submit").await.click().await.unwrap();
    by_id(&c, "secret-dialog").await;
    let secret = value_of(&c, "new-secret").await;
    assert!(secret.len() >= 43, "{secret}");
    by_id(&c, "secret-done").await.click().await.unwrap();
    by_id(&c, "clients").await;
    // The click leaves the page that showed the secret; the next one must not show it.
    let mut shown = true;
    for _ in 0..100 {
        let source = c.source().await.unwrap();
        shown = source.contains(&secret);
        if !shown && source.contains("id=\"clients\"") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(!shown, "shown only once");

    // Edit the redirect URIs.
    c.find(Locator::Css("#clients a.edit"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let uris = by_id(&c, "edit-redirects").await;
    uris.send_keys("\nhttps://billing.example/alt")
        .await
        .unwrap();
    by_id(&c, "edit-submit").await.click().await.unwrap();
    by_id(&c, "notice").await;
    let source = c.source().await.unwrap();
    assert!(source.contains("https://billing.example/alt"), "saved");
    save_screenshot(&c, "console-clients.png").await;

    // Rotate the secret through the confirmation dialog.
    c.find(Locator::Css("#clients a.rotate"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    by_id(&c, "confirm-rotate").await;
    by_id(&c, "confirm-rotate-button")
        .await
        .click()
        .await
        .unwrap();
    by_id(&c, "secret-dialog").await;
    let rotated = value_of(&c, "new-secret").await;
    assert!(rotated.len() >= 43 && rotated != secret);
    by_id(&c, "secret-done").await.click().await.unwrap();

    // Signing keys: listed, then rotated with pre-publication.
    c.goto(&server.url("/admin/console/signing-keys"))
        .await
        .unwrap();
    by_id(&c, "signing-keys").await;
    by_id(&c, "prepublication").await;
    by_id(&c, "rotate-alg")
        .await
        .select_by_value("ES256")
        .await
        .unwrap();
    by_id(&c, "rotate-key").await.click().await.unwrap();
    // The answer page may take a moment to replace this one.
    let mut notice = String::new();
    for _ in 0..100 {
        if let Ok(e) = c.find(Locator::Id("notice")).await
            && let Ok(text) = e.text().await
        {
            notice = text;
            if notice.contains("published in the JWKS now") {
                break;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(notice.contains("published in the JWKS now"), "{notice}");
    save_screenshot(&c, "console-signing-keys.png").await;
    c.close().await.unwrap();
}
