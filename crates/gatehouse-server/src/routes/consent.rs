//! The consent page and `POST /consent` (RFC 6749 §4.1.1 "the authorization server …
//! obtains an authorization decision", OIDC Core §3.1.2.4). The form carries the session's
//! synchronizer CSRF token, `decision=allow|deny` (contract) and the original request.
//!
//! A post counts only with a login session bound to the client's tenant (core
//! `authorize::bind_session`); otherwise it is an expired form and nothing is saved or issued.
//! Consent is recorded for the scopes the user was shown (admin scopes narrowed to those held)
//! and audited (`consent`, allow or deny).

use actix_web::{HttpRequest, HttpResponse, web};
use gatehouse_core::OAuthError;
use gatehouse_core::audit::{ActorKind, Outcome};
use gatehouse_core::authorize::{self, AuthorizationRequest, Interaction};
use gatehouse_core::ports::ConsentStore;
use gatehouse_core::session::BoundSession;
use serde_json::json;

use super::authorize::{proceed, read_form, validate};
use crate::audit_sink::RequestAudit;
use crate::error::{PageError, authorization_response};
use crate::request_meta::RequestMeta;
use crate::session;
use crate::state::AppState;

/// `POST /consent`: `decision=allow|deny`, with the session's CSRF token.
pub async fn consent_post(
    req: HttpRequest,
    state: web::Data<AppState>,
    meta: RequestMeta,
    body: web::Bytes,
) -> Result<HttpResponse, PageError> {
    let form = read_form(&req, &body)?;
    let policy = state.settings.session_policy();
    let s = session::LOGIN
        .current(&state.store, &req, policy, state.now())
        .await?
        .ok_or(PageError::ExpiredForm)?;
    if !session::check_session_csrf(&s, form.fields.get("csrf_token").unwrap_or_default()) {
        return Err(PageError::ExpiredForm);
    }
    let areq = validate(&state, &form.params).await?;
    let signed_in = authorize::bind_session(&state.store, Some(s), &areq)
        .await?
        .ok_or(PageError::ExpiredForm)?;
    let allowed = match form.fields.get("decision") {
        Some("allow") => true,
        Some("deny") => false,
        _ => {
            return Err(PageError::BadRequest(OAuthError::invalid_request(
                "decision must be allow or deny",
            )));
        }
    };
    let areq = areq
        .for_user(&signed_in)
        .map_err(|e| PageError::authorize(&state.policy.issuer, e))?;
    if !allowed {
        tracing::info!(user_id = %signed_in.user().id, client_id = %areq.client.id, "consent denied");
        audit_decision(&state, &meta, &areq, &signed_in, false).await;
        let denied = authorize::denied_response(&state.policy, &areq);
        return Ok(authorization_response(denied, &areq.client.name));
    }
    let now = state.now();
    let user = &signed_in.user().id;
    state
        .store
        .save_consent(user, &areq.client.id, &areq.scope, now)
        .await?;
    audit_decision(&state, &meta, &areq, &signed_in, true).await;
    let interaction = Interaction {
        just_logged_in: false,
        just_consented: true,
    };
    proceed(&state, &meta, areq, Some(signed_in), interaction).await
}

async fn audit_decision(
    state: &AppState,
    meta: &RequestMeta,
    areq: &AuthorizationRequest,
    b: &BoundSession,
    allowed: bool,
) {
    RequestAudit::new(&state.store, meta)
        .event(
            state.now(),
            Some(areq.client.tenant_id.to_string()),
            ActorKind::User,
            Some(b.user().id.to_string()),
            "consent",
            Some(areq.client.id.to_string()),
            if allowed {
                Outcome::Success
            } else {
                Outcome::Denied
            },
            json!({
                "decision": if allowed { "allow" } else { "deny" },
                "scope": areq.scope.to_string(),
            }),
        )
        .await;
}
