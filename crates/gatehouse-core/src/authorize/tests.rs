//! Step 2 scope rules, the implicit and hybrid opt-in, and the tenant binding of sessions (steps 3
//! and after).
use super::*;
use crate::user::User;
use crate::values::TenantId;

struct Users(Vec<User>);

impl UserStore for Users {
    async fn find_user(&self, id: &UserId) -> Result<Option<User>, StoreError> {
        Ok(self.0.iter().find(|u| &u.id == id).cloned())
    }
    async fn find_user_by_username(
        &self,
        _: &TenantId,
        _: &str,
    ) -> Result<Option<User>, StoreError> {
        Ok(None)
    }
    async fn find_users_named(&self, _: &str, _: u64) -> Result<Vec<User>, StoreError> {
        Ok(Vec::new())
    }
}

fn user(id: &str, tenant: &str, admin: &str) -> User {
    User {
        id: UserId::parse(id).unwrap(),
        tenant_id: TenantId::parse(tenant).unwrap(),
        username: id.into(),
        email: None,
        password_hash: String::new(),
        created_at: Utc::now(),
        profile: Default::default(),
        admin_scopes: scopes(admin),
    }
}

fn session_of(user: &str) -> Session {
    let now = Utc::now();
    Session {
        id_hash: Secret::generate().hash(),
        user_id: UserId::parse(user).unwrap(),
        auth_time: now,
        csrf_token: "t".into(),
        expires_at: now + chrono::Duration::hours(1),
        last_seen: now,
    }
}

/// A validated request of a client of `tenant` for `scope`, with `extra` parameters.
fn request(tenant: &str, scope: &str, extra: &str) -> AuthorizationRequest {
    let mut client = crate::fakes::client("app");
    client.tenant_id = TenantId::parse(tenant).unwrap();
    client.allowed_scopes = scopes("openid admin:all read:users");
    let redirect_uri = RedirectUri::parse("https://app.example/cb").unwrap();
    client.redirect_uris = vec![redirect_uri.clone()];
    let query = format!(
        "response_type=code&client_id=app&scope={scope}&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256{extra}"
    );
    let params = Params::from_query(&query).unwrap();
    let resolved = ResolvedClient {
        client,
        target: RedirectTarget {
            redirect_uri,
            state: None,
            mode: ResponseMode::Query,
        },
        redirect_uri_in_request: false,
    };
    validate(resolved, &params).unwrap()
}

#[tokio::test]
async fn a_session_of_another_tenants_user_counts_as_nobody_signed_in() {
    let store = Users(vec![user("root", "default", "admin:all")]);
    let now = Utc::now();
    let quiet = request("acme", "openid%20admin:all", "&prompt=none");
    let bound = bind_session(&store, Some(session_of("root")), &quiet)
        .await
        .unwrap();
    assert!(bound.is_none());
    match next_step(&quiet, bound.as_ref(), None, Interaction::default(), now) {
        Err(AuthorizeError::Redirect { error, .. }) => {
            assert_eq!(error.code, ErrorCode::LoginRequired)
        }
        other => panic!("expected login_required, got {other:?}"),
    }
    let plain = request("acme", "openid%20admin:all", "");
    let step = next_step(&plain, None, None, Interaction::default(), now).unwrap();
    assert_eq!(step, NextStep::Login);
    // A session whose user is gone counts as none too.
    let gone = bind_session(&store, Some(session_of("ghost")), &plain)
        .await
        .unwrap();
    assert!(gone.is_none());
}

#[tokio::test]
async fn a_session_of_the_clients_tenant_is_bound_and_gets_only_the_admin_scopes_held() {
    let store = Users(vec![user("ann", "acme", "read:users")]);
    let req = request("acme", "openid%20admin:all%20read:users", "");
    let bound = bind_session(&store, Some(session_of("ann")), &req)
        .await
        .unwrap()
        .expect("same tenant");
    let granted = req.for_user(&bound).unwrap();
    assert_eq!(granted.scope, scopes("openid read:users"));
    let covered = scopes("openid read:users");
    let step = next_step(
        &granted,
        Some(&bound),
        Some(&covered),
        Interaction::default(),
        Utc::now(),
    )
    .unwrap();
    assert!(matches!(step, NextStep::Issue { user_id, .. } if user_id.as_str() == "ann"));
}

#[test]
fn a_new_session_binds_only_at_a_client_of_the_users_tenant() {
    let root = user("root", "default", "admin:all");
    let at_acme = request("acme", "openid", "");
    let signed_in = Authenticated::for_test(root.clone());
    assert!(bind_new_session(session_of("root"), signed_in, &at_acme).is_none());
    let at_home = request("default", "openid", "");
    let signed_in = Authenticated::for_test(root);
    assert!(bind_new_session(session_of("root"), signed_in, &at_home).is_some());
}

fn scopes(s: &str) -> ScopeSet {
    ScopeSet::parse(s).unwrap()
}

#[test]
fn admin_scopes_are_granted_only_when_held() {
    let requested = scopes("openid profile admin:all read:users write:clients");
    // An ordinary user gets the non-admin scopes only.
    assert_eq!(
        granted_scope(&requested, &ScopeSet::default()),
        scopes("openid profile")
    );
    // A user holding some admin scopes gets those (and what they imply).
    assert_eq!(
        granted_scope(&requested, &scopes("write:users")),
        scopes("openid profile read:users")
    );
    assert_eq!(
        granted_scope(&requested, &scopes("write:clients")),
        scopes("openid profile write:clients")
    );
    // admin:all covers every admin scope.
    assert_eq!(granted_scope(&requested, &scopes("admin:all")), requested);
    // Scopes that only look like admin scopes are not touched.
    assert_eq!(
        granted_scope(&scopes("read:files"), &ScopeSet::default()),
        scopes("read:files")
    );
}

/// Validates `query` for client `app`, which has the grants `grants`; the error code if refused.
fn check_front_channel(
    grants: &[GrantType],
    query: &str,
) -> Result<AuthorizationRequest, ErrorCode> {
    let mut client = crate::fakes::client("app");
    client.grant_types = grants.to_vec();
    client.allowed_scopes = scopes("openid profile");
    let redirect_uri = RedirectUri::parse("https://app.example/cb").unwrap();
    client.redirect_uris = vec![redirect_uri.clone()];
    let params = Params::from_query(&format!("client_id=app&scope=openid&{query}")).unwrap();
    let resolved = ResolvedClient {
        client,
        target: RedirectTarget {
            redirect_uri,
            state: None,
            mode: ResponseMode::of_request(&params),
        },
        redirect_uri_in_request: true,
    };
    validate(resolved, &params).map_err(|e| match e {
        AuthorizeError::Redirect { error, target } => {
            // Errors of a request for tokens never go in the query.
            if params
                .get("response_type")
                .is_some_and(|r| r.contains("token"))
            {
                assert_ne!(target.mode, ResponseMode::Query);
            }
            error.code
        }
        other => panic!("{other:?}"),
    })
}

const PKCE: &str =
    "code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256";

#[test]
fn tokens_from_the_authorization_endpoint_need_the_implicit_opt_in_rfc9700_2_1_2() {
    let code_only = [GrantType::AuthorizationCode, GrantType::RefreshToken];
    for rt in ["id_token", "id_token%20token", "code%20id_token", "token"] {
        let q = format!("response_type={rt}&nonce=n&{PKCE}");
        assert_eq!(
            check_front_channel(&code_only, &q).err(),
            Some(ErrorCode::UnsupportedResponseType),
            "{rt}"
        );
    }
    let both = [GrantType::AuthorizationCode, GrantType::Implicit];
    let ok = check_front_channel(
        &both,
        &format!("response_type=id_token%20code&nonce=n&{PKCE}"),
    );
    let rt = ok.unwrap().response_type;
    assert!(rt.code && rt.id_token && !rt.token);
    // The hybrid flow's code needs the code grant too, and PKCE.
    let implicit_only = [GrantType::Implicit];
    let q = format!("response_type=code%20id_token&nonce=n&{PKCE}");
    assert_eq!(
        check_front_channel(&implicit_only, &q).err(),
        Some(ErrorCode::UnauthorizedClient)
    );
    assert_eq!(
        check_front_channel(&both, "response_type=code%20id_token&nonce=n").err(),
        Some(ErrorCode::InvalidRequest)
    );
    // The implicit flow has no code, so no PKCE.
    assert!(check_front_channel(&implicit_only, "response_type=id_token&nonce=n").is_ok());
}

#[test]
fn id_token_responses_need_a_nonce_and_openid_and_never_use_the_query_oidc_core_3_2_2_1() {
    let g = [GrantType::AuthorizationCode, GrantType::Implicit];
    let refused = |q: &str| check_front_channel(&g, q).err();
    assert_eq!(
        refused("response_type=id_token"),
        Some(ErrorCode::InvalidRequest)
    );
    assert_eq!(
        refused(&format!("response_type=code%20id_token&{PKCE}")),
        Some(ErrorCode::InvalidRequest)
    );
    assert_eq!(
        refused("response_type=id_token%20token&nonce=n&response_mode=query"),
        Some(ErrorCode::InvalidRequest)
    );
    assert_eq!(
        refused("response_type=id_token&nonce=n&response_mode=form_post"),
        None
    );
    assert_eq!(
        refused("response_type=id_token&nonce=n&response_mode=fragment"),
        None
    );
    // `code token` carries no ID token from here: no nonce needed.
    assert_eq!(refused(&format!("response_type=code%20token&{PKCE}")), None);
}
