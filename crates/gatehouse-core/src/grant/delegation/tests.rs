//! The delegation rules over the fakes.

use serde_json::json;

use super::*;
use crate::ErrorCode;
use crate::audit::{ActorKind, Outcome};
use crate::claims::{ACCESS_TOKEN_TYP, ID_TOKEN_TYP};
use crate::client::GrantType;
use crate::fakes::{self, FakeSigner, Registered, TokenHarness, answer, claims_of};
use crate::grant::token_exchange::GRANT_TYPE_TOKEN_EXCHANGE;
use crate::ports::{GrantStore, TokenSigner};
use crate::values::GrantId;
use crate::values::{ClientId, SigningAlg};

const ISSUER: &str = "https://issuer.example";

/// A harness with user `alice`, the app `web` (whose tokens name `orders` in `may_act`) and
/// the service `orders`, registered for the exchange.
fn setup() -> (TokenHarness, Registered) {
    let h = TokenHarness::default();
    h.store.add_user("alice");
    let mut web = fakes::client("web");
    web.may_act = Some(ClientId::parse("orders").unwrap());
    h.register(web);
    (
        h,
        Registered {
            id: "web".into(),
            secret: None,
        },
    )
}

/// A confidential client registered for the exchange, with scopes `orders:read profile
/// offline_access`.
fn service(id: &str) -> Client {
    let mut c = fakes::client(id);
    c.grant_types = vec![GrantType::TokenExchange];
    c.allowed_scopes = ScopeSet::parse("orders:read profile offline_access").unwrap();
    c
}

fn register_service(h: &TokenHarness, c: Client) -> Registered {
    h.register(c)
}

/// An access token of `client` for alice's grant `g1`, as the fake signer signs it.
fn user_token(client: &str, now: DateTime<Utc>, extra: serde_json::Value) -> String {
    let mut claims = json!({
        "iss": ISSUER, "sub": "alice", "aud": ISSUER, "client_id": client,
        "scope": "openid orders:read orders:write offline_access", "jti": new_jti(),
        "iat": now.timestamp(), "exp": now.timestamp() + 600,
        "auth_time": now.timestamp() - 60, "gid": "g1", "tenant": "default",
    });
    for (k, v) in extra.as_object().unwrap() {
        claims[k] = v.clone();
    }
    FakeSigner
        .sign(SigningAlg::RS256, ACCESS_TOKEN_TYP, &claims)
        .unwrap()
}

fn form<'a>(subject: &'a str, more: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut f = vec![
        ("grant_type", GRANT_TYPE_TOKEN_EXCHANGE),
        ("subject_token", subject),
        ("subject_token_type", TOKEN_TYPE_ACCESS_TOKEN),
    ];
    f.extend_from_slice(more);
    f
}

fn params(v: &[(&str, &str)]) -> Params {
    Params::new(
        v.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    )
    .unwrap()
}

#[tokio::test]
async fn the_client_named_by_may_act_gets_a_token_acting_for_the_user_rfc8693_4_1_4_4() {
    let (h, _) = setup();
    let orders = register_service(&h, service("orders-2"));
    let now = Utc::now();
    // `orders-2` is not named: refused, whatever it asks.
    let subject = user_token("web", now, json!({"may_act": {"sub": "orders"}}));
    let out = h.token(orders.creds(), &form(&subject, &[]), now).await;
    assert_eq!(answer(&out), Err(ErrorCode::InvalidGrant));
    assert!(out.events.is_empty());
    let orders = h.register(service("orders"));
    let out = h.token(orders.creds(), &form(&subject, &[]), now).await;
    let body = answer(&out).unwrap();
    assert_eq!(body["issued_token_type"], TOKEN_TYPE_ACCESS_TOKEN);
    assert_eq!(body["token_type"], "Bearer");
    assert!(body.get("refresh_token").is_none());
    // At most the subject's scope and the client's; never offline_access.
    assert_eq!(body["scope"], "orders:read");
    let at = claims_of(body["access_token"].as_str().unwrap());
    assert_eq!(
        (at["sub"].as_str(), at["client_id"].as_str()),
        (Some("alice"), Some("orders"))
    );
    assert_eq!(at["act"], json!({"sub": "orders"}));
    assert_eq!(
        (at["gid"].as_str(), at["tenant"].as_str()),
        (Some("g1"), Some("default"))
    );
    assert!(at["exp"].as_i64().unwrap() <= now.timestamp() + 600);
    let e = &out.events[0];
    assert_eq!(
        (e.action.as_str(), e.outcome),
        ("token.exchange", Outcome::Success)
    );
    assert_eq!(
        (e.actor_kind, e.actor.as_deref()),
        (ActorKind::Client, Some("orders"))
    );
    assert_eq!(e.details["subject_client_id"], "web");
    assert_eq!(e.details["act"], json!({"sub": "orders"}));
    assert!(
        !serde_json::to_string(&out.events)
            .unwrap()
            .contains(&subject)
    );
}

fn orders(h: &TokenHarness, c: Client) -> Registered {
    h.register(c)
}

#[tokio::test]
async fn dead_subject_tokens_are_invalid_grant_rfc8693_2_2_2() {
    let (h, _) = setup();
    let o = orders(&h, service("orders"));
    let now = Utc::now();
    let named = json!({"may_act": {"sub": "orders"}});
    let expired = user_token("web", now - chrono::Duration::hours(1), named.clone());
    let from_key = user_token(
        "web",
        now,
        json!({"may_act": {"sub": "orders"}, "api_key": "k1"}),
    );
    let foreign = user_token(
        "web",
        now,
        json!({"may_act": {"sub": "orders"}, "iss": "https://evil.example"}),
    );
    let other_tenant = user_token(
        "web",
        now,
        json!({"may_act": {"sub": "orders"}, "tenant": "acme"}),
    );
    let gone_user = user_token(
        "web",
        now,
        json!({"may_act": {"sub": "orders"}, "sub": "bob"}),
    );
    for t in [
        &expired,
        &from_key,
        &foreign,
        &other_tenant,
        &gone_user,
        &"not-a-token".to_owned(),
    ] {
        let out = h.token(o.creds(), &form(t, &[]), now).await;
        assert_eq!(answer(&out), Err(ErrorCode::InvalidGrant), "{t}");
    }
    // Revoking the user's grant kills the subject token for exchange too.
    let live = user_token("web", now, named);
    assert!(answer(&h.token(o.creds(), &form(&live, &[]), now).await).is_ok());
    h.store
        .revoke_grant(&GrantId::parse("g1").unwrap(), now)
        .await
        .unwrap();
    let out = h.token(o.creds(), &form(&live, &[]), now).await;
    assert_eq!(answer(&out), Err(ErrorCode::InvalidGrant));
    // A disabled tenant stops its clients before their tokens are looked at.
    let (h, _) = setup();
    let o = orders(&h, service("orders"));
    h.store.disable_tenant("default");
    let live = user_token("web", now, json!({"may_act": {"sub": "orders"}}));
    let out = h.token(o.creds(), &form(&live, &[]), now).await;
    assert_eq!(answer(&out), Err(ErrorCode::InvalidClient));
}

#[tokio::test]
async fn only_registered_confidential_clients_exchange_rfc8693_2_1() {
    let (h, _) = setup();
    let now = Utc::now();
    let subject = user_token("web", now, json!({"may_act": {"sub": "orders"}}));
    // Named by may_act, but not registered for the grant.
    let mut plain = service("orders");
    plain.grant_types = vec![GrantType::ClientCredentials];
    let o = orders(&h, plain);
    let out = h.token(o.creds(), &form(&subject, &[]), now).await;
    assert_eq!(answer(&out), Err(ErrorCode::UnauthorizedClient));
    // No client at all: invalid_client (only an API key can be exchanged without one).
    let out = h.token(None, &form(&subject, &[]), now).await;
    assert_eq!(answer(&out), Err(ErrorCode::InvalidClient));
}

#[tokio::test]
async fn the_act_chain_is_nested_never_dropped_and_bounded_rfc8693_4_1() {
    let (h, _) = setup();
    let o = orders(&h, service("orders"));
    let now = Utc::now();
    let chained = user_token(
        "web",
        now,
        json!({"may_act": {"sub": "orders"}, "act": {"sub": "gateway"}}),
    );
    let body = answer(&h.token(o.creds(), &form(&chained, &[]), now).await).unwrap();
    let at = claims_of(body["access_token"].as_str().unwrap());
    assert_eq!(
        at["act"],
        json!({"sub": "orders", "act": {"sub": "gateway"}})
    );
    // The client's own delegated token, exchanged again without an actor token (say for
    // another audience), keeps its chain: delegation cannot be turned into impersonation.
    let own = user_token(
        "orders",
        now,
        json!({"act": {"sub": "orders", "act": {"sub": "gateway"}}}),
    );
    let body = answer(&h.token(o.creds(), &form(&own, &[]), now).await).unwrap();
    let at = claims_of(body["access_token"].as_str().unwrap());
    assert_eq!(
        at["act"],
        json!({"sub": "orders", "act": {"sub": "gateway"}})
    );
    // A client's own plain token, exchanged by itself: no delegation, no act.
    let plain = user_token("orders", now, json!({}));
    let body = answer(&h.token(o.creds(), &form(&plain, &[]), now).await).unwrap();
    assert!(
        claims_of(body["access_token"].as_str().unwrap())
            .get("act")
            .is_none()
    );
    // Five actors at most.
    let mut deep = json!({"sub": "a0"});
    for i in 1..MAX_CHAIN {
        deep = json!({"sub": format!("a{i}"), "act": deep});
    }
    let long = user_token(
        "web",
        now,
        json!({"may_act": {"sub": "orders"}, "act": deep}),
    );
    let out = h.token(o.creds(), &form(&long, &[]), now).await;
    assert_eq!(answer(&out), Err(ErrorCode::InvalidGrant));
}

#[tokio::test]
async fn an_actor_token_must_be_the_requesters_own_rfc8693_2_1() {
    let (h, _) = setup();
    let o = orders(&h, service("orders"));
    let now = Utc::now();
    h.store.add_user("bob");
    let subject = user_token("web", now, json!({"may_act": {"sub": "orders"}}));
    let bobs = user_token("orders", now, json!({"sub": "bob", "gid": "g2"}));
    let at = TOKEN_TYPE_ACCESS_TOKEN;
    let more = [("actor_token", bobs.as_str()), ("actor_token_type", at)];
    let body = answer(&h.token(o.creds(), &form(&subject, &more), now).await).unwrap();
    let claims = claims_of(body["access_token"].as_str().unwrap());
    assert_eq!(claims["act"], json!({"sub": "bob"}));
    assert_eq!(claims["sub"], "alice");
    // An actor token of another client names no actor of ours.
    let webs = user_token("web", now, json!({"sub": "bob", "gid": "g2"}));
    let more = [("actor_token", webs.as_str()), ("actor_token_type", at)];
    let out = h.token(o.creds(), &form(&subject, &more), now).await;
    assert_eq!(answer(&out), Err(ErrorCode::InvalidGrant));
}

#[tokio::test]
async fn scope_can_only_shrink_rfc8693_2_1() {
    let (h, _) = setup();
    let o = orders(&h, service("orders"));
    let now = Utc::now();
    let subject = user_token(
        "web",
        now,
        json!({"may_act": {"sub": "orders"}, "scope": "orders:read openid"}),
    );
    let body = answer(
        &h.token(o.creds(), &form(&subject, &[("scope", "orders:read")]), now)
            .await,
    )
    .unwrap();
    assert_eq!(body["scope"], "orders:read");
    for wider in ["orders:read orders:write", "profile", "offline_access"] {
        let out = h
            .token(o.creds(), &form(&subject, &[("scope", wider)]), now)
            .await;
        assert_eq!(answer(&out), Err(ErrorCode::InvalidScope), "{wider}");
    }
    let nothing = user_token(
        "web",
        now,
        json!({"may_act": {"sub": "orders"}, "scope": "openid"}),
    );
    let out = h.token(o.creds(), &form(&nothing, &[]), now).await;
    assert_eq!(answer(&out), Err(ErrorCode::InvalidScope));
}

#[tokio::test]
async fn an_id_token_is_a_subject_for_the_client_it_names_rfc8693_3() {
    let (h, _) = setup();
    let o = orders(&h, service("orders"));
    let now = Utc::now();
    let id_token = |aud: &str, sub: &str| {
        let claims = json!({
            "iss": ISSUER, "sub": sub, "aud": aud, "azp": aud, "iat": now.timestamp(),
            "exp": now.timestamp() + 300, "auth_time": now.timestamp(),
            "may_act": {"sub": "orders"},
        });
        FakeSigner
            .sign(SigningAlg::RS256, ID_TOKEN_TYP, &claims)
            .unwrap()
    };
    let idt = id_token("web", "alice");
    let f = [
        ("grant_type", GRANT_TYPE_TOKEN_EXCHANGE),
        ("subject_token", idt.as_str()),
        ("subject_token_type", TOKEN_TYPE_ID_TOKEN),
    ];
    let body = answer(&h.token(o.creds(), &f, now).await).unwrap();
    let at = claims_of(body["access_token"].as_str().unwrap());
    assert_eq!(
        (at["sub"].as_str(), at["client_id"].as_str()),
        (Some("alice"), Some("orders"))
    );
    assert_eq!(body["scope"], "orders:read profile");
    assert!(at.get("gid").is_none());
    // Declared as an access token, an ID token is not one.
    let wrong = form(&idt, &[]);
    assert_eq!(
        answer(&h.token(o.creds(), &wrong, now).await),
        Err(ErrorCode::InvalidGrant)
    );
    // A user who is gone cannot be acted for.
    let ghost = id_token("web", "ghost");
    let f = [
        ("grant_type", GRANT_TYPE_TOKEN_EXCHANGE),
        ("subject_token", ghost.as_str()),
        ("subject_token_type", TOKEN_TYPE_ID_TOKEN),
    ];
    assert_eq!(
        answer(&h.token(o.creds(), &f, now).await),
        Err(ErrorCode::InvalidGrant)
    );
}

#[test]
fn malformed_requests_are_invalid_request_or_invalid_target_rfc8693_2_2_2() {
    let base = [
        ("subject_token", "t"),
        ("subject_token_type", TOKEN_TYPE_ACCESS_TOKEN),
    ];
    let with = |more: &[(&'static str, &'static str)]| {
        let mut v = base.to_vec();
        v.extend_from_slice(more);
        DelegationRequest::parse(&params(&v)).err().map(|e| e.code)
    };
    assert_eq!(with(&[]), None);
    assert_eq!(
        with(&[("actor_token", "a")]),
        Some(ErrorCode::InvalidRequest)
    );
    assert_eq!(
        with(&[("actor_token_type", TOKEN_TYPE_ACCESS_TOKEN)]),
        Some(ErrorCode::InvalidRequest)
    );
    assert_eq!(
        with(&[(
            "requested_token_type",
            "urn:ietf:params:oauth:token-type:refresh_token"
        )]),
        Some(ErrorCode::InvalidRequest)
    );
    assert_eq!(
        with(&[
            ("resource", "https://a.example/"),
            ("audience", "https://b.example/")
        ]),
        Some(ErrorCode::InvalidTarget)
    );
    assert_eq!(
        with(&[("audience", "orders service")]),
        Some(ErrorCode::InvalidTarget)
    );
    assert_eq!(
        with(&[
            ("resource", "https://a.example/"),
            ("audience", "https://a.example/")
        ]),
        None
    );
    let saml = [
        ("subject_token", "t"),
        (
            "subject_token_type",
            "urn:ietf:params:oauth:token-type:saml2",
        ),
    ];
    let e = DelegationRequest::parse(&params(&saml)).err().unwrap();
    assert_eq!(e.code, ErrorCode::InvalidRequest);
}
