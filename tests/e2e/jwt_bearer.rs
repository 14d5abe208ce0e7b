//! The JWT bearer grant for service accounts (RFC 7523 §2.1, §3.1), trusts registered with
//! `gatehouse trust create`, and the CLI of `private_key_jwt` clients (`--jwks-file`,
//! `--jwks-uri`): JSON output, errors naming the flag, nothing written on error.

use std::process::Output;

use gatehouse_core::SigningAlg;
use gatehouse_jose::SigningKey;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

use crate::private_key_jwt::{assertion_claims, jwks_of, new_key};
use crate::support::*;

const GRANT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

fn gatehouse(db_url: &str, args: &[&str]) -> Output {
    run_cli(db_url, args, None)
}

fn one_json(out: &Output) -> Value {
    cli_json(out)
}

fn fails_naming(out: &Output, flag: &str) {
    assert!(!out.status.success(), "should fail");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(flag), "error names {flag}: {err}");
    assert!(out.stdout.is_empty());
}

async fn count(s: &TestServer, table: &str) -> i64 {
    let db = s.store.db();
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            format!("SELECT COUNT(*) AS n FROM {table}"),
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get::<i64>("", "n").unwrap()
}

fn write_temp(name: &str, v: &Value) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "gatehouse-e2e-{}-{}",
        std::process::id(),
        gatehouse_core::token::new_jti()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, v.to_string()).unwrap();
    p
}

async fn bearer_client(s: &TestServer) -> TestClient {
    s.client(|r| {
        r.grant_types = vec![GRANT.into()];
        r.redirect_uris.clear();
        r.scope = Some("api:read api:write reports".into());
    })
    .await
}

fn assertion(s: &TestServer, key: &SigningKey, iss: &str, sub: &str) -> String {
    key.sign_jws("JWT", &assertion_claims(s, iss, sub)).unwrap()
}

#[tokio::test]
async fn a_trusted_assertion_is_exchanged_for_an_access_token_once() {
    let s = TestServer::start().await;
    let key = new_key(SigningAlg::ES256);
    let file = write_temp("trust.json", &jwks_of(&[&key]));
    let out = one_json(&gatehouse(
        &s.db_url,
        &[
            "trust",
            "create",
            "--issuer",
            "https://ci.example",
            "--subject",
            "deploy-bot",
            "--jwks-file",
            file.to_str().unwrap(),
            "--scope",
            "api:read reports",
            "--json",
        ],
    ));
    assert!(out["id"].as_str().is_some_and(|id| !id.is_empty()));
    assert_eq!(out["issuer"], "https://ci.example");
    assert_eq!(out["subject"], "deploy-bot");
    let c = bearer_client(&s).await;

    let a = assertion(&s, &key, "https://ci.example", "deploy-bot");
    let (status, body) = token_request(&s, &c, &[("grant_type", GRANT), ("assertion", &a)]).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.get("refresh_token").is_none());
    assert!(body.get("id_token").is_none());
    // Trust scopes ∩ client scopes.
    assert_eq!(body["scope"], "api:read reports");
    let at = body["access_token"].as_str().unwrap();
    let claims: Value = {
        use base64::Engine;
        let p = at.split('.').nth(1).unwrap();
        serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(p)
                .unwrap(),
        )
        .unwrap()
    };
    assert_eq!(claims["sub"], "deploy-bot");
    assert_eq!(claims["client_id"], c.id.as_str());

    // Single use.
    let (status, body) = token_request(&s, &c, &[("grant_type", GRANT), ("assertion", &a)]).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );

    // A narrower scope is fine; one outside the trust is not.
    let a = assertion(&s, &key, "https://ci.example", "deploy-bot");
    let (status, body) = token_request(
        &s,
        &c,
        &[
            ("grant_type", GRANT),
            ("assertion", &a),
            ("scope", "reports"),
        ],
    )
    .await;
    assert_eq!((status, body["scope"].as_str()), (200, Some("reports")));
    let a = assertion(&s, &key, "https://ci.example", "deploy-bot");
    let (status, body) = token_request(
        &s,
        &c,
        &[
            ("grant_type", GRANT),
            ("assertion", &a),
            ("scope", "api:write"),
        ],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_scope"))
    );
}

#[tokio::test]
async fn untrusted_or_forged_assertions_and_unauthorised_clients_are_refused() {
    let s = TestServer::start().await;
    let key = new_key(SigningAlg::RS256);
    let file = write_temp("trust.json", &jwks_of(&[&key]));
    one_json(&gatehouse(
        &s.db_url,
        &[
            "trust",
            "create",
            "--issuer",
            "https://ci.example",
            "--subject",
            "bot",
            "--jwks-file",
            file.to_str().unwrap(),
            "--scope",
            "api:read",
            "--json",
        ],
    ));
    let c = bearer_client(&s).await;
    let other = new_key(SigningAlg::RS256);
    let mut wrong_aud = assertion_claims(&s, "https://ci.example", "bot");
    wrong_aud["aud"] = json!("https://elsewhere.example");
    let cases = [
        (
            "unknown subject",
            assertion(&s, &key, "https://ci.example", "other-bot"),
        ),
        (
            "unknown issuer",
            assertion(&s, &key, "https://evil.example", "bot"),
        ),
        (
            "signed by another key",
            assertion(&s, &other, "https://ci.example", "bot"),
        ),
        ("wrong aud", key.sign_jws("JWT", &wrong_aud).unwrap()),
        ("garbage", "garbage".to_owned()),
    ];
    for (what, a) in &cases {
        let (status, body) =
            token_request(&s, &c, &[("grant_type", GRANT), ("assertion", a)]).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_grant")),
            "{what}: {body}"
        );
    }
    // A client not registered for the grant.
    let cc = s
        .client(|r| {
            r.grant_types = vec!["client_credentials".into()];
            r.redirect_uris.clear();
        })
        .await;
    let a = assertion(&s, &key, "https://ci.example", "bot");
    let (status, body) = token_request(&s, &cc, &[("grant_type", GRANT), ("assertion", &a)]).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("unauthorized_client"))
    );
    // Client authentication is required.
    let resp = http()
        .post(s.url("/oauth/token"))
        .form(&[("grant_type", GRANT), ("assertion", &a)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 401);
}

#[tokio::test]
async fn cli_registers_private_key_jwt_clients_and_trusts_and_refuses_bad_flags() {
    let s = TestServer::start().await;
    let key = new_key(SigningAlg::ES256);
    let good = write_temp("jwks.json", &jwks_of(&[&key]));
    let good = good.to_str().unwrap();
    let out = one_json(&gatehouse(
        &s.db_url,
        &[
            "client",
            "create",
            "--grant-type",
            "client_credentials",
            "--name",
            "svc",
            "--auth-method",
            "private_key_jwt",
            "--jwks-file",
            good,
            "--json",
        ],
    ));
    assert_eq!(out["auth_method"], "private_key_jwt");
    assert!(out["client_secret"].is_null());
    let id = out["client_id"].as_str().unwrap().to_owned();
    // The registered client authenticates with its key.
    let a = key
        .sign_jws("JWT", &assertion_claims(&s, &id, &id))
        .unwrap();
    let resp = http()
        .post(s.url("/oauth/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            (
                "client_assertion_type",
                crate::private_key_jwt::ASSERTION_TYPE,
            ),
            ("client_assertion", &a),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let out = one_json(&gatehouse(
        &s.db_url,
        &[
            "client",
            "create",
            "--grant-type",
            "client_credentials",
            "--name",
            "svc2",
            "--auth-method",
            "private_key_jwt",
            "--jwks-uri",
            "http://127.0.0.1:9/jwks.json",
            "--json",
        ],
    ));
    assert_eq!(out["jwks_uri"], "http://127.0.0.1:9/jwks.json");

    let clients = count(&s, "clients").await;
    let trusts = count(&s, "jwt_bearer_trusts").await;
    let mut private = key.public_jwk().clone();
    private["d"] = json!("AAAA");
    let private = write_temp("private.json", &json!({"keys": [private]}));
    let private = private.to_str().unwrap();
    let not_json = write_temp("bad.json", &json!("x"));
    std::fs::write(&not_json, "{not json").unwrap();
    let not_json = not_json.to_str().unwrap();
    let pk = |extra: &[&'static str]| {
        let mut a = vec![
            "client",
            "create",
            "--grant-type",
            "client_credentials",
            "--name",
            "x",
            "--auth-method",
            "private_key_jwt",
        ];
        a.extend_from_slice(extra);
        a.push("--json");
        a
    };
    for (args, flag) in [
        (pk(&[]), "--jwks-file"),
        (
            pk(&["--jwks-uri", "http://client.example/jwks"]),
            "--jwks-uri",
        ),
        (
            pk(&[
                "--jwks-uri",
                "https://client.example/jwks",
                "--jwks-file",
                "/nonexistent",
            ]),
            "--jwks",
        ),
        (
            vec![
                "client",
                "create",
                "--grant-type",
                "client_credentials",
                "--name",
                "x",
                "--auth-method",
                "client_secret_jwt",
                "--json",
            ],
            "--auth-method",
        ),
        (
            vec![
                "client",
                "create",
                "--grant-type",
                "client_credentials",
                "--name",
                "x",
                "--jwks-file",
                "JWKS",
                "--json",
            ],
            "--jwks-file",
        ),
    ] {
        let args: Vec<&str> = args
            .iter()
            .map(|a| if *a == "JWKS" { good } else { a })
            .collect();
        fails_naming(&gatehouse(&s.db_url, &args), flag);
    }
    fails_naming(
        &gatehouse(&s.db_url, &pk(&["--jwks-file", "/nonexistent/jwks.json"])),
        "--jwks-file",
    );
    for (file, flag) in [(private, "--jwks-file"), (not_json, "--jwks-file")] {
        let args = [
            "client",
            "create",
            "--grant-type",
            "client_credentials",
            "--name",
            "x",
            "--auth-method",
            "private_key_jwt",
            "--jwks-file",
            file,
        ];
        fails_naming(&gatehouse(&s.db_url, &args), flag);
        let args = [
            "trust",
            "create",
            "--issuer",
            "i",
            "--subject",
            "s",
            "--jwks-file",
            file,
        ];
        fails_naming(&gatehouse(&s.db_url, &args), flag);
    }
    for (args, flag) in [
        (
            [
                "trust",
                "create",
                "--issuer",
                "",
                "--subject",
                "s",
                "--jwks-file",
                good,
                "--json",
            ],
            "--issuer",
        ),
        (
            [
                "trust",
                "create",
                "--issuer",
                "i",
                "--subject",
                "",
                "--jwks-file",
                good,
                "--json",
            ],
            "--subject",
        ),
        (
            [
                "trust",
                "create",
                "--issuer",
                "i",
                "--subject",
                "s",
                "--jwks-file",
                good,
                "--tenant=nope",
            ],
            "--tenant",
        ),
        (
            [
                "trust",
                "create",
                "--issuer",
                "i",
                "--subject",
                "s",
                "--jwks-file",
                good,
                "--scope=a\"b",
            ],
            "--scope",
        ),
    ] {
        fails_naming(&gatehouse(&s.db_url, &args), flag);
    }
    assert_eq!(count(&s, "clients").await, clients, "nothing written");
    assert_eq!(
        count(&s, "jwt_bearer_trusts").await,
        trusts,
        "nothing written"
    );
    // A duplicate trust is a conflict.
    let t = [
        "trust",
        "create",
        "--issuer",
        "i",
        "--subject",
        "s",
        "--jwks-file",
        good,
        "--json",
    ];
    one_json(&gatehouse(&s.db_url, &t));
    assert!(!gatehouse(&s.db_url, &t).status.success());
}
