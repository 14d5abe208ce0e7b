//! The end of a code-flow request: the authorization code issued and delivered (RFC 6749
//! §4.1.2, RFC 9207), or the access-denied answer when the user declines (§4.1.2.1).

use super::*;

/// Issues an authorization code and returns the response that delivers it (RFC 6749 §4.1.2,
/// RFC 9207 `iss`). The code is 256 random bits, stored only as a hash. A `claims` request and
/// the `resource` values are stored with the code's grant.
pub async fn issue_code<S: CodeStore + ClaimsRequestStore + ResourceStore>(
    store: &S,
    policy: &Policy,
    req: &AuthorizationRequest,
    user_id: UserId,
    auth_time: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<AuthorizationResponse, Error> {
    let grant_id = GrantId::generate();
    save_grant_request(store, req, &grant_id, now).await?;
    let code = save_code(store, policy, req, user_id, auth_time, grant_id, now).await?;
    Ok(req
        .target
        .respond(&policy.issuer, &[("code", code.expose())]))
}

/// Keeps what the request asked for with its grant: a `claims` request and the `resource`
/// values.
pub(crate) async fn save_grant_request<S: ClaimsRequestStore + ResourceStore>(
    store: &S,
    req: &AuthorizationRequest,
    grant_id: &GrantId,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    if let Some(claims) = &req.claims {
        store.save_claims_request(grant_id, claims, now).await?;
    }
    if !req.resources.is_empty() {
        store
            .save_grant_resources(grant_id, &req.resources, now)
            .await?;
    }
    Ok(())
}

/// Stores a new code of `grant_id` (its hash only) and returns its value.
pub(crate) async fn save_code<S: CodeStore>(
    store: &S,
    policy: &Policy,
    req: &AuthorizationRequest,
    user_id: UserId,
    auth_time: DateTime<Utc>,
    grant_id: GrantId,
    now: DateTime<Utc>,
) -> Result<Secret, Error> {
    let code = Secret::generate();
    let record = CodeRecord {
        code_hash: code.hash(),
        client_id: req.client.id.clone(),
        user_id,
        redirect_uri: req.target.redirect_uri.clone(),
        redirect_uri_in_request: req.redirect_uri_in_request,
        scope: req.scope.clone(),
        nonce: req.nonce.clone(),
        code_challenge: req.code_challenge.clone(),
        auth_time,
        grant_id,
        expires_at: now + chrono::Duration::seconds(policy.code_ttl),
        dpop_jkt: req.dpop_jkt.clone(),
    };
    store.insert_code(&record).await?;
    Ok(code)
}

/// The access-denied response when the user declines consent (RFC 6749 §4.1.2.1).
pub fn denied_response(policy: &Policy, req: &AuthorizationRequest) -> AuthorizationResponse {
    req.target.error_response(
        &policy.issuer,
        &OAuthError::new(ErrorCode::AccessDenied, "the user denied the request"),
    )
}
