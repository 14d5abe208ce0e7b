//! The `gatehouse user …` and `gatehouse tenant show|delete` verbs of the operator contract
//! (shared/contract.md, "Additions, December 2026"), as scripts run them: one JSON object per
//! command, errors naming the flag or argument, nothing written on refusal. Disabling a user
//! or resetting its password ends its sessions and refresh tokens; tenants are named by id or
//! by name.

use std::process::Output;

use crate::support::*;

fn gatehouse(s: &TestServer, args: &[&str], stdin: Option<&str>) -> Output {
    run_cli(&s.db_url, args, stdin)
}

fn ok(s: &TestServer, args: &[&str]) -> serde_json::Value {
    cli_json(&gatehouse(s, args, None))
}

/// Runs a command that must fail; returns its stderr.
fn fails(s: &TestServer, args: &[&str], stdin: Option<&str>) -> String {
    let out = gatehouse(s, args, stdin);
    assert!(!out.status.success(), "{args:?} succeeded");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn create_user(s: &TestServer, username: &str, tenant: &str) -> String {
    let out = gatehouse(
        s,
        &[
            "user",
            "create",
            "--username",
            username,
            "--email",
            &format!("{username}@example.com"),
            "--tenant",
            tenant,
            "--password-stdin",
            "--json",
        ],
        Some(&format!("{PASSWORD}\n")),
    );
    str_of(&cli_json(&out), "id").to_owned()
}

/// Whether `username` can sign in with `password` through the authorization endpoint.
async fn signs_in(s: &TestServer, c: &TestClient, username: &str, password: &str) -> bool {
    let (url, _) = authorize_url(s, c, "openid", &[]);
    matches!(
        run_flow(&browser(), s, &url, username, password, "allow").await,
        Outcome::Redirect(loc) if loc.contains("code=")
    )
}

#[tokio::test]
async fn users_are_listed_shown_updated_and_deleted() {
    let s = TestServer::start().await;
    let ada = create_user(&s, "ada", "default");
    let bob = create_user(&s, "bob", "default");

    let list = ok(&s, &["user", "list", "--json"]);
    let names: Vec<&str> = list["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"ada") && names.contains(&"bob"), "{list}");
    assert!(list["users"][0]["disabled"] == false);
    let page = ok(&s, &["user", "list", "--limit", "1", "--json"]);
    assert_eq!(page["users"].as_array().unwrap().len(), 1);
    let after = str_of(&page, "next_after").to_owned();
    let rest = ok(&s, &["user", "list", "--after", &after, "--json"]);
    assert_eq!(rest["users"].as_array().unwrap().len(), 1);
    assert!(rest["next_after"].is_null());

    let shown = ok(&s, &["user", "show", &ada, "--json"]);
    assert_eq!(shown["username"], "ada");
    assert_eq!(shown["email"], "ada@example.com");

    let updated = ok(
        &s,
        &[
            "user",
            "update",
            &ada,
            "--name",
            "Ada Lovelace",
            "--email",
            "",
            "--admin-scope",
            "read:audit",
            "--json",
        ],
    );
    assert_eq!(updated["name"], "Ada Lovelace");
    assert!(
        updated["email"].is_null(),
        "an empty value clears: {updated}"
    );
    assert_eq!(updated["admin_scopes"], serde_json::json!(["read:audit"]));
    let cleared = ok(&s, &["user", "update", &ada, "--no-admin-scopes", "--json"]);
    assert_eq!(cleared["admin_scopes"], serde_json::json!([]));

    // A bad value names its flag and changes nothing.
    let err = fails(&s, &["user", "update", &ada, "--phone", "call me"], None);
    assert!(err.contains("--phone"), "{err}");
    let err = fails(
        &s,
        &["user", "update", &ada, "--admin-scope", "files:read"],
        None,
    );
    assert!(err.contains("--admin-scope"), "{err}");
    assert_eq!(
        ok(&s, &["user", "show", &ada, "--json"])["name"],
        "Ada Lovelace"
    );

    let deleted = ok(&s, &["user", "delete", &bob, "--json"]);
    assert_eq!(deleted["deleted"], true);
    assert_eq!(deleted["username"], "bob");
    let err = fails(&s, &["user", "show", &bob, "--json"], None);
    assert!(err.contains("ID: no user"), "{err}");
    let err = fails(&s, &["user", "delete", "no-such-user", "--json"], None);
    assert!(err.contains("ID: no user"), "{err}");
}

#[tokio::test]
async fn disabling_ends_sessions_and_refresh_tokens_and_enabling_restores_sign_in() {
    let s = TestServer::start().await;
    let c = s.client(|_| {}).await;
    let id = s.user("carol").await;
    let t = issue_tokens(&s, &c, "carol", "openid offline_access").await;
    let refresh = str_of(&t, "refresh_token").to_owned();
    let access = str_of(&t, "access_token").to_owned();

    let sessions = ok(&s, &["user", "sessions", &id, "--json"]);
    let listed = sessions["sessions"].as_array().unwrap();
    assert_eq!(listed.len(), 1, "{sessions}");
    let handle = listed[0]["id"].as_str().unwrap();
    assert_eq!(handle.len(), 32);

    let out = ok(&s, &["user", "disable", &id, "--json"]);
    assert_eq!(out["disabled"], true);
    assert_eq!(out["sessions_ended"], 1);
    assert_eq!(out["grants_revoked"], 1);
    assert!(out["disabled_at"].is_string());

    let (status, body) = refresh_with(&s, &c, &refresh).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    assert_eq!(introspect_token(&s, &c, &access).await["active"], false);
    assert_eq!(userinfo_status(&s, &access).await, 401);
    assert!(!signs_in(&s, &c, "carol", PASSWORD).await);
    let sessions = ok(&s, &["user", "sessions", &id, "--json"]);
    assert_eq!(sessions["sessions"], serde_json::json!([]));
    // Disabling twice changes nothing more.
    let again = ok(&s, &["user", "disable", &id, "--json"]);
    assert_eq!(again["sessions_ended"], 0);

    let out = ok(&s, &["user", "enable", &id, "--json"]);
    assert_eq!(out["disabled"], false);
    assert!(signs_in(&s, &c, "carol", PASSWORD).await);
}

#[tokio::test]
async fn sessions_are_ended_one_by_one_or_all_at_once() {
    let s = TestServer::start().await;
    let c = s.client(|_| {}).await;
    let id = s.user("dora").await;
    for _ in 0..3 {
        assert!(signs_in(&s, &c, "dora", PASSWORD).await);
    }
    let listed = ok(&s, &["user", "sessions", &id, "--json"]);
    let sessions = listed["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 3);
    let one = sessions[0]["id"].as_str().unwrap().to_owned();

    let out = ok(
        &s,
        &["user", "end-sessions", &id, "--session", &one, "--json"],
    );
    assert_eq!(out["ended"], 1);
    let left = ok(&s, &["user", "sessions", &id, "--json"]);
    assert_eq!(left["sessions"].as_array().unwrap().len(), 2);
    assert!(
        !left["sessions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["id"] == one.as_str())
    );
    let err = fails(
        &s,
        &["user", "end-sessions", &id, "--session", &one, "--json"],
        None,
    );
    assert!(err.contains("ID: no session"), "{err}");
    let out = ok(&s, &["user", "end-sessions", &id, "--json"]);
    assert_eq!(out["ended"], 2);
}

#[tokio::test]
async fn reset_password_reads_stdin_only_when_asked_and_ends_sessions() {
    let s = TestServer::start().await;
    let c = s.client(|_| {}).await;
    let id = s.user("erin").await;
    let t = issue_tokens(&s, &c, "erin", "openid offline_access").await;
    let new_password = "a much newer passphrase";

    // Standard input is not a terminal here: without the flag the command says so, at once.
    let err = fails(
        &s,
        &["user", "reset-password", &id],
        Some(&format!("{new_password}\n")),
    );
    assert!(err.contains("--password-stdin"), "{err}");
    let err = fails(
        &s,
        &["user", "reset-password", &id, "--password-stdin"],
        Some("short\n"),
    );
    assert!(err.contains("password"), "{err}");
    assert!(signs_in(&s, &c, "erin", PASSWORD).await);

    let out = gatehouse(
        &s,
        &["user", "reset-password", &id, "--password-stdin", "--json"],
        Some(&format!("{new_password}\n")),
    );
    let v = cli_json(&out);
    assert_eq!(v["id"], id.as_str());
    assert!(v["sessions_ended"].as_u64().unwrap() >= 1, "{v}");
    // The refresh token's grant, and the grant of the unredeemed code of the sign-in above.
    assert_eq!(v["grants_revoked"], 2);
    let (status, _) = refresh_with(&s, &c, str_of(&t, "refresh_token")).await;
    assert_eq!(status, 400);
    assert!(!signs_in(&s, &c, "erin", PASSWORD).await);
    assert!(signs_in(&s, &c, "erin", new_password).await);

    // `user create` without the flag off a terminal fails at once instead of waiting.
    let err = fails(
        &s,
        &["user", "create", "--username", "frank", "--json"],
        None,
    );
    assert!(err.contains("--password-stdin"), "{err}");
}

#[tokio::test]
async fn tenants_are_shown_and_deleted_by_id_or_name() {
    let s = TestServer::start().await;
    let acme = ok(&s, &["tenant", "create", "--name", "Acme", "--json"]);
    let acme_id = str_of(&acme, "id").to_owned();

    let shown = ok(&s, &["tenant", "show", "Acme", "--json"]);
    assert_eq!(shown["id"], acme_id.as_str());
    let shown = ok(&s, &["tenant", "show", &acme_id, "--json"]);
    assert_eq!(shown["name"], "Acme");
    // `--tenant` takes the name too.
    let user = create_user(&s, "gus", "Acme");
    let listed = ok(&s, &["user", "list", "--tenant", "Acme", "--json"]);
    assert_eq!(listed["tenant"], acme_id.as_str());
    assert_eq!(listed["users"][0]["id"], user.as_str());
    let renamed = ok(
        &s,
        &["tenant", "rename", "Acme", "--name", "Acme Corp", "--json"],
    );
    assert_eq!(renamed["id"], acme_id.as_str());

    let err = fails(&s, &["tenant", "show", "Nobody", "--json"], None);
    assert!(err.contains("ID: no tenant with id or name"), "{err}");
    let err = fails(&s, &["user", "list", "--tenant", "Nobody", "--json"], None);
    assert!(err.contains("--tenant: no tenant"), "{err}");
    // Names are not unique: a shared name is refused with the ids to choose from.
    let twin = ok(&s, &["tenant", "create", "--name", "Acme Corp", "--json"]);
    let err = fails(&s, &["tenant", "show", "Acme Corp", "--json"], None);
    assert!(
        err.contains(&acme_id) && err.contains(str_of(&twin, "id")),
        "{err}"
    );

    let err = fails(&s, &["tenant", "delete", "default", "--json"], None);
    assert!(err.contains("cannot be deleted"), "{err}");
    // Nor disabled: it holds the platform administrators.
    let err = fails(&s, &["tenant", "disable", "default", "--json"], None);
    assert!(err.contains("cannot be disabled"), "{err}");
    let default = ok(&s, &["tenant", "show", "default", "--json"]);
    assert_eq!(default["disabled"], false);
    let deleted = ok(&s, &["tenant", "delete", &acme_id, "--json"]);
    assert_eq!(deleted["deleted"], true);
    assert_eq!(deleted["users"], 1);
    let err = fails(&s, &["user", "show", &user, "--json"], None);
    assert!(err.contains("ID: no user"), "{err}");
    fails(&s, &["tenant", "show", &acme_id, "--json"], None);
    // The audit trail keeps the deleted tenant's events.
    let audit = ok(&s, &["audit", "list", "--limit", "1000", "--json"]);
    let has = |action: &str, target: &str| {
        audit["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == action && e["target"] == target)
    };
    assert!(has("tenant.delete", &acme_id), "{audit}");
    assert!(has("user.create", &user), "{audit}");
}
