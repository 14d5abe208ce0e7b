//! Token exchange for delegation (RFC 8693), end to end: a user signs in to a web app whose
//! tokens name the orders service in `may_act` (`client create --may-act`); the orders service
//! (registered for the token-exchange grant) exchanges the user's access or ID token for a
//! token of its own, for a registered resource (`audience` / `resource`), carrying `act`.
//! Attacks: a client not named, a revoked grant, an actor token of another client, a scope
//! beyond the subject's, a `may_act` naming a client of another tenant.

use serde_json::{Value, json};

use crate::conformance_support::jwt_claims;
use crate::support::*;

const EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const ACCESS_TOKEN: &str = "urn:ietf:params:oauth:token-type:access_token";
const ID_TOKEN: &str = "urn:ietf:params:oauth:token-type:id_token";
const ORDERS_API: &str = "https://orders.example/api";

fn cli(s: &TestServer, args: &[&str]) -> Value {
    cli_json(&run_cli(&s.db_url, args, None))
}

fn client_of(v: &Value) -> TestClient {
    TestClient {
        id: str_of(v, "client_id").to_owned(),
        secret: v["client_secret"].as_str().map(str::to_owned),
    }
}

/// A confidential service registered for the exchange through the CLI.
fn service(s: &TestServer, name: &str) -> TestClient {
    client_of(&cli(
        s,
        &[
            "client",
            "create",
            "--name",
            name,
            "--grant-type",
            EXCHANGE,
            "--scope",
            "orders:read orders:write profile",
            "--json",
        ],
    ))
}

/// The orders resource, the orders service, and the web app naming it in `may_act`.
async fn setup() -> (TestServer, TestClient, TestClient) {
    let s = TestServer::start().await;
    cli(
        &s,
        &[
            "resource",
            "create",
            "--identifier",
            ORDERS_API,
            "--scope",
            "orders:read orders:write",
            "--json",
        ],
    );
    let orders = service(&s, "Orders");
    let web = client_of(&cli(
        &s,
        &[
            "client",
            "create",
            "--name",
            "Web",
            "--redirect-uri",
            REDIRECT,
            "--scope",
            "openid profile offline_access orders:read",
            "--may-act",
            &orders.id,
            "--json",
        ],
    ));
    s.user("alice").await;
    (s, web, orders)
}

fn exchange_form<'a>(
    subject: &'a str,
    kind: &'a str,
    more: &[(&'a str, &'a str)],
) -> Vec<(&'a str, &'a str)> {
    let mut f = vec![
        ("grant_type", EXCHANGE),
        ("subject_token", subject),
        ("subject_token_type", kind),
    ];
    f.extend_from_slice(more);
    f
}

#[tokio::test]
async fn a_service_named_by_may_act_acts_for_the_user_at_a_resource_rfc8693_2_4_1() {
    let (s, web, orders) = setup().await;
    let tokens = issue_tokens(&s, &web, "alice", "openid offline_access orders:read").await;
    let subject = str_of(&tokens, "access_token");
    let subject_claims = jwt_claims(subject);
    // The web app's tokens say who may act for its users (RFC 8693 §4.4).
    assert_eq!(subject_claims["may_act"], json!({ "sub": orders.id }));
    assert_eq!(
        jwt_claims(str_of(&tokens, "id_token"))["may_act"],
        json!({ "sub": orders.id })
    );

    let form = exchange_form(subject, ACCESS_TOKEN, &[("audience", ORDERS_API)]);
    let (status, body) = token_request(&s, &orders, &form).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["issued_token_type"], ACCESS_TOKEN);
    assert_eq!(body["token_type"], "Bearer");
    assert!(body.get("refresh_token").is_none());
    assert_eq!(body["scope"], "orders:read");
    let delegated = str_of(&body, "access_token").to_owned();
    let claims = jwt_claims(&delegated);
    assert_eq!(claims["sub"], subject_claims["sub"]);
    assert_eq!(claims["client_id"], orders.id.as_str());
    assert_eq!(claims["aud"], ORDERS_API);
    assert_eq!(claims["act"], json!({ "sub": orders.id }));
    assert!(claims["exp"].as_i64() <= subject_claims["exp"].as_i64());

    // Resource servers see the delegation at introspection too.
    let info = introspect_token(&s, &orders, &delegated).await;
    assert_eq!(info["active"], true, "{info}");
    assert_eq!(info["act"], json!({ "sub": orders.id }));
    assert_eq!(info["sub"], subject_claims["sub"]);

    // Audited as an exchange by the service, for the user, from the web app's token.
    s.flush_audit().await;
    let events = s.store.audit().list_after(0, 1000, None).await.unwrap();
    let e = events
        .iter()
        .find(|e| e.event.action == "token.exchange")
        .expect("a token.exchange event");
    assert_eq!(e.event.actor.as_deref(), Some(orders.id.as_str()));
    assert_eq!(e.event.details["subject_client_id"], web.id.as_str());
    assert_eq!(e.event.details["resource"], ORDERS_API);
    assert!(
        !serde_json::to_string(&e.event.details)
            .unwrap()
            .contains(subject)
    );

    // The user's grant revoked (sign-out of the web app): the delegated token dies with it,
    // and the subject token can no longer be exchanged.
    assert_eq!(
        revoke_token(&s, &web, str_of(&tokens, "refresh_token"), None).await,
        200
    );
    let info = introspect_token(&s, &orders, &delegated).await;
    assert_eq!(info, json!({ "active": false }));
    let (status, err) = token_request(&s, &orders, &form).await;
    assert_eq!((status, str_of(&err, "error")), (400, "invalid_grant"));
}

#[tokio::test]
async fn clients_not_named_cannot_exchange_and_scope_only_shrinks_rfc8693_2_2_2() {
    let (s, web, orders) = setup().await;
    let tokens = issue_tokens(&s, &web, "alice", "openid orders:read").await;
    let subject = str_of(&tokens, "access_token");
    // Another service registered for the exchange, but not named by the web app.
    let intruder = service(&s, "Intruder");
    let form = exchange_form(subject, ACCESS_TOKEN, &[]);
    let (status, err) = token_request(&s, &intruder, &form).await;
    assert_eq!(
        (status, str_of(&err, "error")),
        (400, "invalid_grant"),
        "{err}"
    );
    // The web app itself is not registered for the exchange grant.
    let (status, err) = token_request(&s, &web, &form).await;
    assert_eq!(
        (status, str_of(&err, "error")),
        (400, "unauthorized_client"),
        "{err}"
    );
    // Without client authentication there is no exchange of a user's token.
    let anonymous = TestClient {
        id: orders.id.clone(),
        secret: None,
    };
    let (status, err) = token_request(&s, &anonymous, &form).await;
    assert_eq!(
        (status, str_of(&err, "error")),
        (401, "invalid_client"),
        "{err}"
    );
    // Scope beyond the subject token's is refused; a target not registered too.
    let wider = exchange_form(
        subject,
        ACCESS_TOKEN,
        &[("scope", "orders:read orders:write")],
    );
    let (status, err) = token_request(&s, &orders, &wider).await;
    assert_eq!(
        (status, str_of(&err, "error")),
        (400, "invalid_scope"),
        "{err}"
    );
    let elsewhere = exchange_form(
        subject,
        ACCESS_TOKEN,
        &[("audience", "https://billing.example/")],
    );
    let (status, err) = token_request(&s, &orders, &elsewhere).await;
    assert_eq!(
        (status, str_of(&err, "error")),
        (400, "invalid_target"),
        "{err}"
    );
    // A forged token (the signature changed) is no subject.
    let forged = format!("{}x", subject.trim_end_matches('x'));
    let form = exchange_form(&forged, ACCESS_TOKEN, &[]);
    let (status, err) = token_request(&s, &orders, &form).await;
    assert_eq!(
        (status, str_of(&err, "error")),
        (400, "invalid_grant"),
        "{err}"
    );
}

#[tokio::test]
async fn an_id_token_and_an_actor_token_name_who_acts_rfc8693_4_1() {
    let (s, web, orders) = setup().await;
    let tokens = issue_tokens(&s, &web, "alice", "openid orders:read").await;
    let id_token = str_of(&tokens, "id_token");
    // The service's own token (client credentials would do too) as the actor: here a user
    // token of the service itself, for bob, the operator acting through it.
    cli(
        &s,
        &[
            "client",
            "update",
            &orders.id,
            "--grant-type",
            EXCHANGE,
            "--grant-type",
            "client_credentials",
            "--json",
        ],
    );
    let (status, own) = token_request(
        &s,
        &orders,
        &[
            ("grant_type", "client_credentials"),
            ("scope", "orders:read"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{own}");
    let actor = str_of(&own, "access_token");
    let more = [
        ("actor_token", actor),
        ("actor_token_type", ACCESS_TOKEN),
        ("scope", "orders:read"),
    ];
    let form = exchange_form(id_token, ID_TOKEN, &more);
    let (status, body) = token_request(&s, &orders, &form).await;
    assert_eq!(status, 200, "{body}");
    let claims = jwt_claims(str_of(&body, "access_token"));
    assert_eq!(claims["sub"], jwt_claims(id_token)["sub"]);
    assert_eq!(claims["act"], json!({ "sub": orders.id }));
    // An actor token of another client is refused: nobody can name an actor they are not.
    let more = [
        ("actor_token", str_of(&tokens, "access_token")),
        ("actor_token_type", ACCESS_TOKEN),
    ];
    let form = exchange_form(id_token, ID_TOKEN, &more);
    let (status, err) = token_request(&s, &orders, &form).await;
    assert_eq!(
        (status, str_of(&err, "error")),
        (400, "invalid_grant"),
        "{err}"
    );
    // Missing actor_token_type is a malformed request.
    let form = exchange_form(id_token, ID_TOKEN, &[("actor_token", actor)]);
    let (status, err) = token_request(&s, &orders, &form).await;
    assert_eq!(
        (status, str_of(&err, "error")),
        (400, "invalid_request"),
        "{err}"
    );
}

#[tokio::test]
async fn may_act_names_a_client_of_the_same_tenant_and_can_be_removed() {
    let (s, web, orders) = setup().await;
    let shown = cli(&s, &["client", "show", &web.id, "--json"]);
    assert_eq!(shown["may_act"], orders.id.as_str());
    // A client of another tenant cannot be named; the error names the flag.
    cli(&s, &["tenant", "create", "--name", "Acme", "--json"]);
    let foreign = client_of(&cli(
        &s,
        &[
            "client",
            "create",
            "--name",
            "Acme svc",
            "--grant-type",
            EXCHANGE,
            "--tenant",
            "Acme",
            "--json",
        ],
    ));
    let out = run_cli(
        &s.db_url,
        &["client", "update", &web.id, "--may-act", &foreign.id],
        None,
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--may-act"), "{err}");
    // Nobody, or the client itself (it always acts for its own users), cannot be named.
    let out = run_cli(
        &s.db_url,
        &[
            "client",
            "create",
            "--name",
            "X",
            "--redirect-uri",
            REDIRECT,
            "--may-act",
            "nobody",
        ],
        None,
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("--may-act"));
    let out = run_cli(
        &s.db_url,
        &["client", "update", &web.id, "--may-act", &web.id],
        None,
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("--may-act"));
    // Removed: the web app's next tokens name nobody, and the service is refused.
    let updated = cli(
        &s,
        &["client", "update", &web.id, "--may-act", "", "--json"],
    );
    assert_eq!(updated["may_act"], Value::Null);
    let tokens = issue_tokens(&s, &web, "alice", "openid orders:read").await;
    let subject = str_of(&tokens, "access_token");
    assert!(jwt_claims(subject).get("may_act").is_none());
    let (status, err) =
        token_request(&s, &orders, &exchange_form(subject, ACCESS_TOKEN, &[])).await;
    assert_eq!(
        (status, str_of(&err, "error")),
        (400, "invalid_grant"),
        "{err}"
    );
    // Discovery advertises the grant and the token types it accepts are documented.
    let meta = openid_configuration(&s).await;
    assert!(lists(&meta, "grant_types_supported", EXCHANGE));
}
