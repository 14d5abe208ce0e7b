//! `gatehouse user create` profile flags (`--name`, `--given-name`, `--family-name`,
//! `--phone`, `--address`): stored, released by scope (OIDC Core §5.4), and checked before
//! anything is written.

use std::process::Output;

use gatehouse_core::ports::UserStore;

use crate::conformance_support::*;
use crate::support::*;

fn gatehouse(db_url: &str, args: &[&str]) -> Output {
    run_cli(db_url, args, Some(PASSWORD))
}

#[tokio::test]
async fn user_create_profile_flags_are_released_by_scope() {
    let s = TestServer::start().await;
    let out = gatehouse(
        &s.db_url,
        &[
            "user",
            "create",
            "--username",
            "alice",
            "--email",
            "alice@example.com",
            "--name",
            "Alice Liddell",
            "--phone",
            "+1 (425) 555-1212",
            "--address",
            "1 Main St, Springfield",
            "--password-stdin",
            "--json",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let created: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(created["name"], "Alice Liddell");
    assert_eq!(created["phone_number"], "+1 (425) 555-1212");

    let client = oidc_client(&s).await;
    let t = tokens(&s, &browser(), &client, "openid profile phone address", &[]).await;
    let info = userinfo(&s, t["access_token"].as_str().unwrap()).await;
    assert_eq!(info["name"], "Alice Liddell");
    assert_eq!(info["preferred_username"], "alice");
    assert_eq!(info["phone_number"], "+1 (425) 555-1212");
    assert_eq!(info["phone_number_verified"], false);
    assert_eq!(info["address"]["formatted"], "1 Main St, Springfield");
}

#[tokio::test]
async fn bad_profile_flags_name_the_field_and_write_nothing() {
    let s = TestServer::start().await;
    for (flag, value) in [
        ("--phone", "call me"),
        ("--name", ""),
        ("--given-name", "a\u{7}b"),
    ] {
        let out = gatehouse(
            &s.db_url,
            &[
                "user",
                "create",
                "--username",
                "bob",
                flag,
                value,
                "--password-stdin",
                "--json",
            ],
        );
        assert!(!out.status.success(), "{flag} {value:?} accepted");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(flag), "{flag}: {err}");
        assert!(s.store.find_users_named("bob", 1).await.unwrap().is_empty());
    }
}
