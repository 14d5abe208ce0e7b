//! The console's Users, Sessions, Tenants and audit pages (issue 11) in headless Chromium,
//! with the helpers of `console_browser`: a platform administrator creates a user with an
//! admin scope, disables it, opens its sessions, creates a tenant and filters the audit trail
//! by action. Screenshots of each page go to `target/screenshots/` (a CI artifact).
//!
//! Skips like `console_browser` where Chromium or chromedriver is missing, unless
//! `GATEHOUSE_REQUIRE_BROWSER=1` makes that a failure.

use std::path::{Path, PathBuf};

use fantoccini::{Client, Locator};

use crate::console_browser::{browser, by_id, chromedriver, chromium, start_driver};
use crate::support::{PASSWORD, TestServer, admin_user};

fn screenshot_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    target.join("screenshots")
}

async fn screenshot(c: &Client, name: &str) {
    let png = c.screenshot().await.unwrap();
    let dir = screenshot_dir();
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}.png"));
    std::fs::write(&path, &png).unwrap();
    println!("screenshot: {}", path.display());
}

async fn text_of(c: &Client, id: &str) -> String {
    by_id(c, id).await.text().await.unwrap()
}

/// Waits (up to 10 s) until the element `id` says `needle`: after a click the browser may
/// still show the page before it (whose element says something else, or goes stale).
async fn expect_text(c: &Client, id: &str, needle: &str) {
    let mut last = String::new();
    for _ in 0..100 {
        if let Ok(e) = c.find(Locator::Id(id)).await
            && let Ok(text) = e.text().await
        {
            if text.contains(needle) {
                return;
            }
            last = text;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("#{id} never said {needle:?}; last: {last:?}");
}

#[tokio::test]
async fn console_users_tenants_and_audit_in_headless_chromium() {
    let (driver_bin, chromium_bin) = (chromedriver(), chromium());
    if !(Path::new(&driver_bin).exists() && Path::new(&chromium_bin).exists()) {
        if std::env::var("GATEHOUSE_REQUIRE_BROWSER").as_deref() == Ok("1") {
            panic!("GATEHOUSE_REQUIRE_BROWSER=1 but {chromium_bin} or {driver_bin} is missing");
        }
        println!("skipped: no chromium/chromedriver ({chromium_bin}, {driver_bin})");
        return;
    }
    let server = TestServer::start().await;
    admin_user(&server, "root", "default", "admin:all").await;
    let (_driver, driver_url) = start_driver().await;
    let c = browser(&driver_url).await;

    c.goto(&server.url("/admin/console")).await.unwrap();
    by_id(&c, "username").await.send_keys("root").await.unwrap();
    by_id(&c, "password")
        .await
        .send_keys(PASSWORD)
        .await
        .unwrap();
    by_id(&c, "sign-in").await.click().await.unwrap();
    by_id(&c, "no-keys").await;

    // Users: create one holding read:audit.
    c.goto(&server.url("/admin/console/users")).await.unwrap();
    by_id(&c, "users").await;
    c.find(Locator::Css("#create-user summary"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    by_id(&c, "new-username")
        .await
        .send_keys("auditor")
        .await
        .unwrap();
    by_id(&c, "new-password")
        .await
        .send_keys(PASSWORD)
        .await
        .unwrap();
    c.find(Locator::Css("input[name=\"admin_scope.read:audit\"]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    by_id(&c, "create-user-submit").await.click().await.unwrap();
    expect_text(&c, "notice", "created").await;
    let row = c
        .find(Locator::XPath("//tr[td/span[text()='auditor']]"))
        .await
        .unwrap();
    assert!(row.text().await.unwrap().contains("read:audit"));
    screenshot(&c, "console-users").await;

    // Disable it from its row.
    row.find(Locator::XPath(".//button[text()='Disable']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    expect_text(&c, "notice", "disabled").await;
    let row = c
        .find(Locator::XPath("//tr[td/span[text()='auditor']]"))
        .await
        .unwrap();
    assert!(row.text().await.unwrap().contains("disabled"));

    // Sessions of root (this browser's own session is listed).
    let root_row = c
        .find(Locator::XPath("//tr[td/span[text()='root']]"))
        .await
        .unwrap();
    root_row
        .find(Locator::LinkText("Sessions"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    by_id(&c, "sessions").await;
    screenshot(&c, "console-user-sessions").await;

    // Tenants: create one.
    c.goto(&server.url("/admin/console/tenants")).await.unwrap();
    by_id(&c, "tenants").await;
    c.find(Locator::Css("#create-tenant summary"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    by_id(&c, "tenant-name")
        .await
        .send_keys("Initech")
        .await
        .unwrap();
    by_id(&c, "create-tenant-submit")
        .await
        .click()
        .await
        .unwrap();
    expect_text(&c, "notice", "created").await;
    expect_text(&c, "tenants", "Initech").await;
    screenshot(&c, "console-tenants").await;

    // Audit: names instead of ids, filtered by action.
    c.goto(&server.url("/admin/console/audit")).await.unwrap();
    by_id(&c, "f-action")
        .await
        .send_keys("user.")
        .await
        .unwrap();
    c.find(Locator::Css("#audit-filter button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    // The filter is a GET form: read the table only once the filtered page is the one shown
    // (the unfiltered page's table would go stale under the reader).
    for _ in 0..100 {
        let url = c.current_url().await.unwrap();
        if url
            .query_pairs()
            .any(|(k, v)| k == "action" && v == "user.")
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let table = text_of(&c, "audit").await;
    assert!(
        table.contains("user.disable") && table.contains("auditor"),
        "{table}"
    );
    assert!(!table.contains("tenant.create"), "{table}");
    screenshot(&c, "console-audit").await;
    c.close().await.unwrap();
}
