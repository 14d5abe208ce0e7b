//! Browser login sessions and CSRF protection for the HTML forms.
//!
//! The session cookie holds a random 256-bit id; the database holds only its SHA-256, the
//! user, `auth_time` and a synchronizer CSRF token (compared in constant time). Before login
//! there is no session, so the login form uses a double-submit token: a random value in an
//! HttpOnly cookie that must come back in the form. Cookies are HttpOnly, SameSite=Lax, and
//! Secure whenever the issuer is https.
//!
//! A session ends at its absolute expiry (`[session] ttl`) or after `[session] idle_ttl` without
//! use (`gatehouse_core::session`); an ended session found in a request is deleted and treated
//! as none, which logs the user out.

use actix_web::HttpRequest;
use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use chrono::{DateTime, Utc};
use gatehouse_core::ports::{Session, SessionStore};
use gatehouse_core::secret::{Secret, ct_eq_str};
use gatehouse_core::session::{Liveness, SessionActivityStore, SessionPolicy};
use gatehouse_core::{StoreError, UserId};
use gatehouse_store::Store;

pub const SESSION_COOKIE: &str = "gatehouse_session";
pub const LOGIN_CSRF_COOKIE: &str = "gatehouse_login_csrf";

/// The valid session of this browser, if any. Counts as a use: slides the idle expiry.
/// A session past its absolute or idle expiry is deleted and reported as none.
pub async fn current(
    store: &Store,
    req: &HttpRequest,
    policy: SessionPolicy,
    now: DateTime<Utc>,
) -> Result<Option<Session>, StoreError> {
    let Some(c) = req.cookie(SESSION_COOKIE) else {
        return Ok(None);
    };
    let hash = Secret::from_presented(c.value()).hash();
    let Some(mut s) = store.find_session(&hash).await? else {
        return Ok(None);
    };
    match policy.check(&s, now) {
        Liveness::Expired => {
            store.delete_session(&hash).await?;
            Ok(None)
        }
        Liveness::Live { touch } => {
            if touch {
                store.touch_session(&hash, now).await?;
                s.last_seen = now;
            }
            Ok(Some(s))
        }
    }
}

/// Ends this browser's session: deletes it from storage (if any) and returns the cookie that
/// removes it from the browser.
pub async fn end(
    store: &Store,
    req: &HttpRequest,
    secure: bool,
) -> Result<Cookie<'static>, StoreError> {
    if let Some(c) = req.cookie(SESSION_COOKIE) {
        store
            .delete_session(&Secret::from_presented(c.value()).hash())
            .await?;
    }
    let mut removal = cookie(SESSION_COOKIE, String::new(), 0, secure);
    removal.make_removal();
    Ok(removal)
}

/// Starts a new session (a fresh id on every login: no session fixation) and returns the
/// session with its cookie. The old session, if any, is deleted.
pub async fn start(
    store: &Store,
    req: &HttpRequest,
    user_id: UserId,
    now: DateTime<Utc>,
    ttl: i64,
    secure: bool,
) -> Result<(Session, Cookie<'static>), StoreError> {
    if let Some(old) = req.cookie(SESSION_COOKIE) {
        store
            .delete_session(&Secret::from_presented(old.value()).hash())
            .await?;
    }
    let id = Secret::generate();
    let session = Session {
        id_hash: id.hash(),
        user_id,
        auth_time: now,
        csrf_token: Secret::generate().expose().to_owned(),
        expires_at: now + chrono::Duration::seconds(ttl),
        last_seen: now,
    };
    store.insert_session(&session).await?;
    let cookie = cookie(SESSION_COOKIE, id.expose().to_owned(), ttl, secure);
    Ok((session, cookie))
}

/// A new double-submit token for the login form, with its cookie.
pub fn login_csrf(secure: bool) -> (String, Cookie<'static>) {
    let token = Secret::generate().expose().to_owned();
    let c = cookie(LOGIN_CSRF_COOKIE, token.clone(), 3600, secure);
    (token, c)
}

/// Checks the login form's token against its cookie.
pub fn check_login_csrf(req: &HttpRequest, form_token: &str) -> bool {
    req.cookie(LOGIN_CSRF_COOKIE)
        .is_some_and(|c| !form_token.is_empty() && ct_eq_str(c.value(), form_token))
}

/// Checks a form's token against the session's.
pub fn check_session_csrf(session: &Session, form_token: &str) -> bool {
    !form_token.is_empty() && ct_eq_str(&session.csrf_token, form_token)
}

fn cookie(name: &'static str, value: String, ttl: i64, secure: bool) -> Cookie<'static> {
    Cookie::build(name, value)
        .path("/")
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Lax)
        .max_age(CookieDuration::seconds(ttl))
        .finish()
}
