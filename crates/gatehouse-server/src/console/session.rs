//! The console's own server-side session: a random 256-bit id in the `gatehouse_console`
//! cookie (HttpOnly, SameSite=Strict, Path=/admin, Secure under an https issuer); the
//! `sessions` table holds only the SHA-256 of `console:` + id, so a console id can never be
//! presented as a login session of the authorization endpoint (nor the reverse). Lifetimes
//! are the login session's (`[session] ttl` absolute, `idle_ttl` idle; see
//! `gatehouse_core::session`), and the sign-in form uses a double-submit CSRF token, as the
//! login form does (`crate::session`).

use actix_web::HttpRequest;
use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use chrono::{DateTime, Utc};
use gatehouse_core::ports::{Session, SessionStore};
use gatehouse_core::secret::{Secret, SecretHash, ct_eq_str};
use gatehouse_core::session::{Liveness, SessionActivityStore, SessionPolicy};
use gatehouse_core::{StoreError, UserId};
use gatehouse_store::Store;

pub const COOKIE: &str = "gatehouse_console";
pub const SIGN_IN_CSRF_COOKIE: &str = "gatehouse_console_csrf";
const PATH: &str = "/admin";

fn id_hash(id: &str) -> SecretHash {
    Secret::from_presented(&format!("console:{id}")).hash()
}

fn presented_hash(req: &HttpRequest) -> Option<SecretHash> {
    req.cookie(COOKIE).map(|c| id_hash(c.value()))
}

/// The live console session of this browser, if any; a use slides its idle expiry. An ended
/// session is deleted and reported as none.
pub async fn current(
    store: &Store,
    req: &HttpRequest,
    policy: SessionPolicy,
    now: DateTime<Utc>,
) -> Result<Option<Session>, StoreError> {
    let Some(hash) = presented_hash(req) else {
        return Ok(None);
    };
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

/// Deletes this browser's console session from storage, if any.
pub async fn delete(store: &Store, req: &HttpRequest) -> Result<(), StoreError> {
    if let Some(hash) = presented_hash(req) {
        store.delete_session(&hash).await?;
    }
    Ok(())
}

/// Ends the session and returns the cookie that removes it from the browser.
pub async fn end(
    store: &Store,
    req: &HttpRequest,
    secure: bool,
) -> Result<Cookie<'static>, StoreError> {
    delete(store, req).await?;
    let mut removal = cookie(COOKIE, String::new(), 0, secure);
    removal.make_removal();
    Ok(removal)
}

/// Starts a fresh session for `user_id` (a new id at every sign-in; the old one is deleted)
/// and returns its cookie.
pub async fn start(
    store: &Store,
    req: &HttpRequest,
    user_id: UserId,
    now: DateTime<Utc>,
    ttl: i64,
    secure: bool,
) -> Result<Cookie<'static>, StoreError> {
    delete(store, req).await?;
    let id = Secret::generate();
    let session = Session {
        id_hash: id_hash(id.expose()),
        user_id,
        auth_time: now,
        csrf_token: Secret::generate().expose().to_owned(),
        expires_at: now + chrono::Duration::seconds(ttl),
        last_seen: now,
    };
    store.insert_session(&session).await?;
    Ok(cookie(COOKIE, id.expose().to_owned(), ttl, secure))
}

/// A new double-submit token for the sign-in form, with its cookie.
pub fn sign_in_csrf(secure: bool) -> (String, Cookie<'static>) {
    let token = Secret::generate().expose().to_owned();
    let c = cookie(SIGN_IN_CSRF_COOKIE, token.clone(), 3600, secure);
    (token, c)
}

/// The cookie that removes the sign-in token once signed in.
pub fn sign_in_csrf_removal(secure: bool) -> Cookie<'static> {
    let mut c = cookie(SIGN_IN_CSRF_COOKIE, String::new(), 0, secure);
    c.make_removal();
    c
}

/// Checks the sign-in form's token against its cookie, in constant time.
pub fn check_sign_in_csrf(req: &HttpRequest, form_token: &str) -> bool {
    req.cookie(SIGN_IN_CSRF_COOKIE)
        .is_some_and(|c| !form_token.is_empty() && ct_eq_str(c.value(), form_token))
}

fn cookie(name: &'static str, value: String, ttl: i64, secure: bool) -> Cookie<'static> {
    Cookie::build(name, value)
        .path(PATH)
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Strict)
        .max_age(CookieDuration::seconds(ttl))
        .finish()
}
