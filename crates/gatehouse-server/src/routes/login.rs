//! `POST /login`: the login form of the authorization endpoint (OIDC Core §3.1.2.3), fields
//! `username`, `password`, `csrf_token` (contract) and `request` (the original authorization
//! request, validated again).
//!
//! The sign-in itself — throttling before any password hash, the user of the client's tenant,
//! the bounded hashing pool, audit events `login` — is [`crate::signin`] over core `signin`.
//! On success a fresh login session starts (a new id: no fixation) and the flow continues at
//! consent or code issuance; otherwise the login page comes back with 401, 429 or 503
//! ([`crate::error::PageError`]).

use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use gatehouse_core::authorize::{self, Interaction};
use gatehouse_core::signin::Audience;

use super::authorize::{login_form, proceed, read_form, validate};
use crate::error::PageError;
use crate::request_meta::RequestMeta;
use crate::session;
use crate::signin::{SignInFields, form_refusal, sign_in, start_session};
use crate::state::AppState;

pub async fn login_post(
    req: HttpRequest,
    state: web::Data<AppState>,
    meta: RequestMeta,
    body: web::Bytes,
) -> Result<HttpResponse, PageError> {
    let form = read_form(&req, &body)?;
    let fields = SignInFields::from_form(&form.fields);
    if !session::LOGIN.check_form_csrf(&req, fields.csrf_token) {
        return Err(PageError::ExpiredForm);
    }
    let areq = validate(&state, &form.params).await?;
    let audience = Audience::Client(&areq.client);
    let signed_in = match sign_in(&state, &meta, audience, &fields).await {
        Ok(a) => a,
        Err(e) => {
            return Err(PageError::Login {
                form: login_form(&areq, fields.username),
                refusal: form_refusal(e)?,
                secure: state.settings.is_https(),
            });
        }
    };
    let user_id = signed_in.user().id.clone();
    let (s, cookie) = start_session(&state, &req, &session::LOGIN, user_id).await?;
    let bound = authorize::bind_new_session(s, signed_in, &areq);
    let interaction = Interaction {
        just_logged_in: true,
        just_consented: false,
    };
    // The session exists now: its cookie goes out with whatever comes next, errors included.
    let mut resp = proceed(&state, &meta, areq.after_login(), bound, interaction)
        .await
        .unwrap_or_else(|e| e.error_response());
    let _ = resp.add_cookie(&cookie);
    Ok(resp)
}
