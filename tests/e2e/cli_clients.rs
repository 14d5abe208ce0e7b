//! The operator CLI for clients, trusts, API keys and signing keys (issue 11), run as a script
//! runs it: `client list|show|update|delete|rotate-secret`, `trust list|delete`, `apikey show`,
//! the global `--output json|table`, and `client create` refusing a client that names neither
//! its grants nor a redirect URI. Every change takes effect on the running server at once and
//! is audited; refused input names the flag and writes nothing.

use std::process::Output;

use gatehouse_core::SigningAlg;
use serde_json::{Value, json};

use crate::private_key_jwt::{assertion_claims, jwks_of, new_key};
use crate::support::{REDIRECT, TestClient, TestServer, cli_json, run_cli, str_of, token_request};

fn gatehouse(db_url: &str, args: &[&str]) -> Output {
    run_cli(db_url, args, None)
}

fn ok_json(out: &Output) -> Value {
    cli_json(out)
}

fn stdout(out: &Output) -> String {
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

/// Asserts failure with an error naming `what` and nothing on standard output.
fn fails_naming(out: &Output, what: &str) -> String {
    assert!(!out.status.success(), "should fail");
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(err.contains(what), "error names {what}: {err}");
    assert!(out.stdout.is_empty());
    err
}

/// A machine client made by the CLI: (id, secret).
fn machine_client(db: &str, name: &str) -> (String, String) {
    let v = ok_json(&gatehouse(
        db,
        &[
            "client",
            "create",
            "--name",
            name,
            "--grant-type",
            "client_credentials",
            "--scope",
            "api:read api:write",
            "--json",
        ],
    ));
    (
        str_of(&v, "client_id").to_owned(),
        str_of(&v, "client_secret").to_owned(),
    )
}

async fn client_credentials(s: &TestServer, id: &str, secret: &str) -> (u16, Value) {
    let c = TestClient {
        id: id.to_owned(),
        secret: Some(secret.to_owned()),
    };
    token_request(
        s,
        &c,
        &[("grant_type", "client_credentials"), ("scope", "api:read")],
    )
    .await
}

async fn audit_actions(db: &str) -> Vec<String> {
    let v = ok_json(&gatehouse(db, &["audit", "list", "--json"]));
    v["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test]
async fn client_list_show_update_rotate_and_delete_act_on_the_running_server_at_once() {
    let s = TestServer::start().await;
    let db = s.db_url.as_str();
    let (id, secret) = machine_client(db, "Billing job");
    let web = ok_json(&gatehouse(
        db,
        &[
            "client",
            "create",
            "--name",
            "Portal",
            "--redirect-uri",
            REDIRECT,
            "--json",
        ],
    ));
    let web_id = str_of(&web, "client_id").to_owned();

    // list: one JSON object naming the tenant, the clients by name.
    let list = ok_json(&gatehouse(db, &["client", "list", "--json"]));
    assert_eq!(list["tenant"], "default");
    let names: Vec<&str> = list["clients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Billing job", "Portal"]);
    assert!(!list.to_string().contains("\"client_secret\""), "{list}");

    // show: the registration, never the secret.
    let shown = ok_json(&gatehouse(db, &["client", "show", &id, "--json"]));
    assert_eq!(shown["grant_types"], json!(["client_credentials"]));
    assert_eq!(shown["scope"], "api:read api:write");
    assert!(shown.get("client_secret").is_none());

    // update: validated like create, effective at once.
    let updated = ok_json(&gatehouse(
        db,
        &[
            "client",
            "update",
            &id,
            "--name",
            "Billing",
            "--scope",
            "api:write",
            "--json",
        ],
    ));
    assert_eq!(updated["name"], "Billing");
    assert_eq!(updated["scope"], "api:write");
    let (status, body) = client_credentials(&s, &id, &secret).await;
    assert_eq!(status, 400, "api:read is no longer allowed: {body}");
    assert_eq!(body["error"], "invalid_scope");
    let other = "http://127.0.0.1:9/other";
    let u = ok_json(&gatehouse(
        db,
        &[
            "client",
            "update",
            &web_id,
            "--redirect-uri",
            other,
            "--redirect-uri",
            REDIRECT,
            "--json",
        ],
    ));
    assert_eq!(u["redirect_uris"], json!([other, REDIRECT]));
    assert_eq!(u["grant_types"], web["grant_types"], "grants unchanged");

    // rotate-secret: the new secret once; the old one fails at once.
    gatehouse(
        db,
        &["client", "update", &id, "--scope", "api:read", "--json"],
    );
    assert_eq!(client_credentials(&s, &id, &secret).await.0, 200);
    let rotated = ok_json(&gatehouse(db, &["client", "rotate-secret", &id, "--json"]));
    let new_secret = str_of(&rotated, "client_secret").to_owned();
    assert_ne!(new_secret, secret);
    let (status, body) = client_credentials(&s, &id, &secret).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );
    assert_eq!(client_credentials(&s, &id, &new_secret).await.0, 200);
    // A public client has no secret to rotate.
    let spa = ok_json(&gatehouse(
        db,
        &[
            "client",
            "create",
            "--name",
            "SPA",
            "--redirect-uri",
            REDIRECT,
            "--auth-method",
            "none",
            "--json",
        ],
    ));
    let err = fails_naming(
        &gatehouse(db, &["client", "rotate-secret", str_of(&spa, "client_id")]),
        "no secret",
    );
    assert!(!err.contains("panicked"), "{err}");

    // delete: gone, its credentials refused.
    let deleted = ok_json(&gatehouse(db, &["client", "delete", &id, "--json"]));
    assert_eq!(deleted, json!({"id": id, "deleted": true}));
    assert_eq!(client_credentials(&s, &id, &new_secret).await.0, 401);
    fails_naming(&gatehouse(db, &["client", "show", &id]), "ID");
    fails_naming(&gatehouse(db, &["client", "delete", &id]), "ID");

    let actions = audit_actions(db).await;
    for a in ["client.update", "client.secret_rotate", "client.delete"] {
        assert!(actions.iter().any(|x| x == a), "{a} in {actions:?}");
    }
}

#[tokio::test]
async fn refused_client_commands_name_the_flag_and_change_nothing() {
    let s = TestServer::start().await;
    let db = s.db_url.as_str();
    // No grant and no redirect URI: refused, not silently a client_credentials client.
    let err = fails_naming(
        &gatehouse(db, &["client", "create", "--name", "X", "--json"]),
        "--grant-type",
    );
    assert!(err.contains("--redirect-uri"), "{err}");
    let list = ok_json(&gatehouse(db, &["client", "list", "--json"]));
    assert_eq!(list["clients"], json!([]));
    let help = stdout(&gatehouse(db, &["client", "create", "--help"]));
    assert!(help.contains("refused"), "{help}");

    let web = ok_json(&gatehouse(
        db,
        &[
            "client",
            "create",
            "--name",
            "Portal",
            "--redirect-uri",
            REDIRECT,
            "--json",
        ],
    ));
    let id = str_of(&web, "client_id").to_owned();
    let cases: &[(&[&str], &str)] = &[
        (
            &["--redirect-uri", "http://evil.example/cb"],
            "--redirect-uri",
        ),
        (&["--grant-type", "password"], "--grant-type"),
        (&["--scope", "a\"b"], "--scope"),
        (&["--name", "  "], "--name"),
        (&["--id-token-alg", "HS256"], "--id-token-alg"),
        (&["--access-token-ttl", "5"], "--access-token-ttl"),
        (
            &["--refresh-grace-seconds", "301"],
            "--refresh-grace-seconds",
        ),
        (&[], "nothing to change"),
    ];
    for (extra, what) in cases {
        let mut args = vec!["client", "update", id.as_str()];
        args.extend_from_slice(extra);
        args.push("--json");
        fails_naming(&gatehouse(db, &args), what);
    }
    // The code flow cannot lose its last redirect URI by switching grants away... and back.
    fails_naming(
        &gatehouse(
            db,
            &[
                "client",
                "update",
                &id,
                "--grant-type",
                "authorization_code",
                "--redirect-uri",
                "https://app.example/cb#frag",
            ],
        ),
        "--redirect-uri",
    );
    let after = ok_json(&gatehouse(db, &["client", "show", &id, "--json"]));
    assert_eq!(web_view(&after), web_view(&web), "nothing was written");
    fails_naming(
        &gatehouse(db, &["client", "update", "no-such-client", "--name", "x"]),
        "ID",
    );
    let actions = audit_actions(db).await;
    assert!(!actions.iter().any(|a| a == "client.update"), "{actions:?}");
}

/// A client's registration as printed, without the one-time members of a creation and
/// without the time (which the database may round).
fn web_view(created: &Value) -> Value {
    let mut v = created.clone();
    let o = v.as_object_mut().unwrap();
    for k in ["client_secret", "jwks_uri", "created_at"] {
        o.remove(k);
    }
    v
}

#[tokio::test]
async fn output_flag_prints_json_or_readable_tables() {
    let s = TestServer::start().await;
    let db = s.db_url.as_str();
    let (id, _) = machine_client(db, "Nightly export");
    // --output json is the same object as --json.
    let a = ok_json(&gatehouse(db, &["--output", "json", "client", "show", &id]));
    let b = ok_json(&gatehouse(db, &["client", "show", &id, "--json"]));
    assert_eq!(a, b);
    let c = ok_json(&gatehouse(db, &["client", "show", &id, "--output", "json"]));
    assert_eq!(a, c, "the flag is global");
    // Tables: booleans as yes/no, lists joined, absent values as "-".
    let text = stdout(&gatehouse(db, &["client", "show", &id]));
    let line = |name: &str| {
        text.lines()
            .find(|l| l.starts_with(&format!("{name}:")))
            .unwrap_or_else(|| panic!("{name} in {text}"))
            .split_once(':')
            .unwrap()
            .1
            .trim()
            .to_owned()
    };
    assert_eq!(line("require_pkce"), "yes");
    assert_eq!(line("grant_types"), "client_credentials");
    assert_eq!(line("access_token_ttl"), "-");
    assert_eq!(line("name"), "Nightly export");
    let table = stdout(&gatehouse(db, &["--output", "table", "client", "list"]));
    let mut lines = table.lines();
    let header = lines.next().unwrap();
    assert!(
        header.starts_with("NAME") && header.contains("CLIENT ID"),
        "{table}"
    );
    let row = lines.next().unwrap();
    assert!(
        row.starts_with("Nightly export") && row.contains(&id),
        "{table}"
    );
    assert!(row.contains("yes"), "PKCE shown as yes: {table}");
    let keys = stdout(&gatehouse(db, &["key", "list"]));
    assert!(keys.starts_with("KID"), "{keys}");
    assert!(keys.contains("active"), "{keys}");
    assert!(
        keys.lines()
            .skip(1)
            .all(|l| l.ends_with("yes") || l.ends_with("no")),
        "{keys}"
    );
    fails_naming(&gatehouse(db, &["--output", "yaml", "key", "list"]), "yaml");
}

#[tokio::test]
async fn trust_list_and_delete_and_apikey_show() {
    let s = TestServer::start().await;
    let db = s.db_url.as_str();
    let key = new_key(SigningAlg::ES256);
    let dir = std::env::temp_dir().join(format!(
        "gatehouse-e2e-trust-{}-{}",
        std::process::id(),
        gatehouse_core::token::new_jti()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let jwks = dir.join("jwks.json");
    std::fs::write(&jwks, jwks_of(&[&key]).to_string()).unwrap();
    let trust = ok_json(&gatehouse(
        db,
        &[
            "trust",
            "create",
            "--issuer",
            "https://ci.example",
            "--subject",
            "deploy-bot",
            "--jwks-file",
            jwks.to_str().unwrap(),
            "--scope",
            "api:read",
            "--json",
        ],
    ));
    let trust_id = str_of(&trust, "id").to_owned();
    let list = ok_json(&gatehouse(db, &["trust", "list", "--json"]));
    assert_eq!(list["trusts"].as_array().unwrap().len(), 1);
    assert_eq!(list["trusts"][0]["subject"], "deploy-bot");
    assert!(list["trusts"][0].get("jwks").is_none(), "no keys listed");
    let table = stdout(&gatehouse(db, &["trust", "list"]));
    assert!(
        table.starts_with("ISSUER") && table.contains("deploy-bot"),
        "{table}"
    );

    // The trust works, then is deleted and refused at once.
    let client = s
        .client(|r| {
            r.grant_types = vec!["urn:ietf:params:oauth:grant-type:jwt-bearer".into()];
            r.redirect_uris.clear();
            r.scope = Some("api:read".into());
        })
        .await;
    let exchange = |key: &gatehouse_jose::SigningKey| {
        let a = key
            .sign_jws(
                "JWT",
                &assertion_claims(&s, "https://ci.example", "deploy-bot"),
            )
            .unwrap();
        ("urn:ietf:params:oauth:grant-type:jwt-bearer".to_owned(), a)
    };
    let (g, a) = exchange(&key);
    let form = [("grant_type", g.as_str()), ("assertion", a.as_str())];
    assert_eq!(token_request(&s, &client, &form).await.0, 200);
    let out = ok_json(&gatehouse(db, &["trust", "delete", &trust_id, "--json"]));
    assert_eq!(out, json!({"id": trust_id, "deleted": true}));
    let (g, a) = exchange(&key);
    let form = [("grant_type", g.as_str()), ("assertion", a.as_str())];
    let (status, body) = token_request(&s, &client, &form).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let list = ok_json(&gatehouse(db, &["trust", "list", "--json"]));
    assert_eq!(list["trusts"], json!([]));
    fails_naming(&gatehouse(db, &["trust", "delete", &trust_id]), "ID");
    assert!(audit_actions(db).await.iter().any(|a| a == "trust.delete"));

    // apikey show: the key as listed, never its secret.
    let t = ok_json(&gatehouse(
        db,
        &[
            "tenant",
            "create",
            "--name",
            "Acme",
            "--api-access",
            "enabled",
            "--json",
        ],
    ));
    let tenant = str_of(&t, "id").to_owned();
    let created = ok_json(&gatehouse(
        db,
        &[
            "apikey",
            "create",
            "--tenant",
            &tenant,
            "--name",
            "ci-deploy",
            "--json",
        ],
    ));
    let key_id = str_of(&created, "id").to_owned();
    let secret = str_of(&created, "secret").to_owned();
    let shown = ok_json(&gatehouse(db, &["apikey", "show", &key_id, "--json"]));
    assert_eq!(shown["name"], "ci-deploy");
    assert_eq!(shown["revoked"], false);
    assert!(shown.get("secret").is_none());
    assert!(!shown.to_string().contains(&secret));
    let text = stdout(&gatehouse(db, &["apikey", "show", &key_id]));
    assert!(text.contains("revoked:") && text.contains("no"), "{text}");
    assert!(!text.contains(&secret));
    fails_naming(&gatehouse(db, &["apikey", "show", "nope"]), "ID");
    let _ = std::fs::remove_dir_all(&dir);
}
