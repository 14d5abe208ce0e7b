//! Who is signed in for a request and what the user sees next: the tenant rule binding a
//! browser session to the client's tenant ([`bind_session`], [`bind_new_session`]), and the
//! choice between login, consent and issuing ([`next_step`]; OIDC Core §3.1.2.3, `prompt`,
//! `max_age`).

use super::*;

/// The browser's session as it counts for `req`: only when its user still exists and belongs
/// to the client's tenant (enabled: [`resolve_client`] made sure). Otherwise `None`, exactly
/// as if nobody were signed in.
pub async fn bind_session<S: UserStore>(
    store: &S,
    session: Option<Session>,
    req: &AuthorizationRequest,
) -> Result<Option<BoundSession>, StoreError> {
    bind_session_to_client(store, session, &req.client).await
}

/// The one tenant rule of every page a user signs in to for a client (the authorization
/// endpoint, the device verification page): the session counts only when its user still
/// exists and belongs to `client`'s tenant.
pub async fn bind_session_to_client<S: UserStore>(
    store: &S,
    session: Option<Session>,
    client: &Client,
) -> Result<Option<BoundSession>, StoreError> {
    let Some(session) = session else {
        return Ok(None);
    };
    let Some(user) = store.find_user(&session.user_id).await? else {
        return Ok(None);
    };
    Ok((user.tenant_id == client.tenant_id).then(|| BoundSession::new(session, user)))
}

/// The session started by a sign-in at `req`'s client, bound to the signed-in user (same
/// tenant check as [`bind_session`], without reading the user again).
pub fn bind_new_session(
    session: Session,
    signed_in: Authenticated,
    req: &AuthorizationRequest,
) -> Option<BoundSession> {
    bind_new_session_to_client(session, signed_in, &req.client)
}

/// [`bind_new_session`] for any page that signs a user in for `client`.
pub fn bind_new_session_to_client(
    session: Session,
    signed_in: Authenticated,
    client: &Client,
) -> Option<BoundSession> {
    let user = signed_in.into_user();
    (user.tenant_id == client.tenant_id && user.id == session.user_id)
        .then(|| BoundSession::new(session, user))
}

/// What the user must do next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NextStep {
    Login,
    Consent,
    /// Issue a code for this user, authenticated at this time.
    Issue {
        user_id: UserId,
        auth_time: DateTime<Utc>,
    },
}

/// What happened in this browser just now, as the server knows it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Interaction {
    /// The user has just entered a password in this request.
    pub just_logged_in: bool,
    /// The user has just approved this request's scopes on the consent page.
    pub just_consented: bool,
}

/// Step 3: login, consent, or code (OIDC Core §3.1.2.3, `prompt` and `max_age`).
pub fn next_step(
    req: &AuthorizationRequest,
    session: Option<&BoundSession>,
    consented: Option<&ScopeSet>,
    interaction: Interaction,
    now: DateTime<Utc>,
) -> Result<NextStep, AuthorizeError> {
    let redirect = |code: ErrorCode, d: &'static str| AuthorizeError::Redirect {
        target: req.target.clone(),
        error: OAuthError::new(code, d),
    };
    let Some(session) = session
        .map(BoundSession::session)
        .filter(|s| s.expires_at > now)
    else {
        return if req.prompt.none {
            Err(redirect(
                ErrorCode::LoginRequired,
                "the user is not logged in",
            ))
        } else {
            Ok(NextStep::Login)
        };
    };
    let too_old = req
        .max_age
        .is_some_and(|m| (now - session.auth_time).num_seconds() > m);
    if !interaction.just_logged_in && (req.prompt.login || too_old) {
        return if req.prompt.none {
            Err(redirect(
                ErrorCode::LoginRequired,
                "the user must log in again (max_age)",
            ))
        } else {
            Ok(NextStep::Login)
        };
    }
    let covered = consented.is_some_and(|c| req.scope.is_subset(c));
    if !interaction.just_consented && (req.prompt.consent || !covered) {
        return if req.prompt.none {
            Err(redirect(
                ErrorCode::ConsentRequired,
                "the user has not consented to this client",
            ))
        } else {
            Ok(NextStep::Consent)
        };
    }
    Ok(NextStep::Issue {
        user_id: session.user_id.clone(),
        auth_time: session.auth_time,
    })
}
