//! Browser sessions and CSRF protection for the HTML forms, for both audiences: the login
//! session of the authorization endpoint and the admin console's session. One implementation;
//! what differs is the [`CookieSpec`].
//!
//! The session cookie holds a random 256-bit id; the database holds only a SHA-256 of it, with
//! the user, `auth_time` and a synchronizer CSRF token (compared in constant time). Each spec
//! hashes the id under its own domain (`console:` for the console), so an id of one audience
//! can never be presented as the other's. A new id is issued at every sign-in (no fixation).
//!
//! | audience | cookie | SameSite | Path | sign-in form token cookie |
//! |---|---|---|---|---|
//! | [`LOGIN`] | `gatehouse_session` | Lax (the client redirects the browser here) | `/` | `gatehouse_login_csrf` |
//! | [`CONSOLE`] | `gatehouse_console` | Strict | `/admin` | `gatehouse_console_csrf` |
//!
//! All cookies are HttpOnly, and Secure whenever the issuer is https. Before sign-in there is
//! no session, so the sign-in forms use a double-submit token: a random value in an HttpOnly
//! cookie that must come back in the form.
//!
//! A session ends at its absolute expiry (`[session] ttl`) or after `[session] idle_ttl` without
//! use (`gatehouse_core::session`); an ended session found in a request is deleted and treated
//! as none. Whether a live login session counts for a given client is decided in core
//! (`gatehouse_core::authorize::bind_session`).

use actix_web::HttpRequest;
use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use chrono::{DateTime, Utc};
use gatehouse_core::ports::{Session, SessionStore};
use gatehouse_core::secret::{Secret, SecretHash, ct_eq_str};
use gatehouse_core::session::{Liveness, SessionActivityStore, SessionPolicy};
use gatehouse_core::{StoreError, UserId};
use gatehouse_store::Store;

/// Lifetime of a sign-in form's double-submit token, seconds.
const FORM_TOKEN_TTL: i64 = 3600;

/// The cookies of one audience.
#[derive(Debug)]
pub struct CookieSpec {
    /// The session cookie.
    pub name: &'static str,
    /// The sign-in form's double-submit token cookie.
    pub form_token: &'static str,
    pub path: &'static str,
    pub same_site: SameSite,
    /// Prefixed to the id before hashing (domain separation between audiences).
    id_domain: &'static str,
}

/// The login session of the authorization endpoint. Its ids are hashed bare, as they always
/// were, so sessions survive an upgrade.
pub const LOGIN: CookieSpec = CookieSpec {
    name: "gatehouse_session",
    form_token: "gatehouse_login_csrf",
    path: "/",
    same_site: SameSite::Lax,
    id_domain: "",
};

/// The admin console's session.
pub const CONSOLE: CookieSpec = CookieSpec {
    name: "gatehouse_console",
    form_token: "gatehouse_console_csrf",
    path: "/admin",
    same_site: SameSite::Strict,
    id_domain: "console:",
};

impl CookieSpec {
    fn id_hash(&self, id: &str) -> SecretHash {
        Secret::from_presented(&format!("{}{id}", self.id_domain)).hash()
    }

    fn presented_hash(&self, req: &HttpRequest) -> Option<SecretHash> {
        req.cookie(self.name).map(|c| self.id_hash(c.value()))
    }

    /// The live session of this browser, if any. Counts as a use: slides the idle expiry. A
    /// session past its absolute or idle expiry is deleted and reported as none.
    pub async fn current(
        &self,
        store: &Store,
        req: &HttpRequest,
        policy: SessionPolicy,
        now: DateTime<Utc>,
    ) -> Result<Option<Session>, StoreError> {
        let Some(hash) = self.presented_hash(req) else {
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

    /// Deletes this browser's session from storage, if any.
    pub async fn delete(&self, store: &Store, req: &HttpRequest) -> Result<(), StoreError> {
        if let Some(hash) = self.presented_hash(req) {
            store.delete_session(&hash).await?;
        }
        Ok(())
    }

    /// Ends this browser's session and returns the cookie that removes it from the browser.
    pub async fn end(
        &self,
        store: &Store,
        req: &HttpRequest,
        secure: bool,
    ) -> Result<Cookie<'static>, StoreError> {
        self.delete(store, req).await?;
        Ok(self.removal(self.name, secure))
    }

    /// Starts a new session for `user_id` (a fresh id at every sign-in; the old session, if
    /// any, is deleted) and returns it with its cookie.
    pub async fn start(
        &self,
        store: &Store,
        req: &HttpRequest,
        user_id: UserId,
        now: DateTime<Utc>,
        ttl: i64,
        secure: bool,
    ) -> Result<(Session, Cookie<'static>), StoreError> {
        self.delete(store, req).await?;
        let id = Secret::generate();
        let session = Session {
            id_hash: self.id_hash(id.expose()),
            user_id,
            auth_time: now,
            csrf_token: Secret::generate().expose().to_owned(),
            expires_at: now + chrono::Duration::seconds(ttl),
            last_seen: now,
        };
        store.insert_session(&session).await?;
        let cookie = self.cookie(self.name, id.expose().to_owned(), ttl, secure);
        Ok((session, cookie))
    }

    /// A new double-submit token for the sign-in form, with its cookie.
    pub fn form_csrf(&self, secure: bool) -> (String, Cookie<'static>) {
        let token = Secret::generate().expose().to_owned();
        let c = self.cookie(self.form_token, token.clone(), FORM_TOKEN_TTL, secure);
        (token, c)
    }

    /// Checks the sign-in form's token against its cookie, in constant time.
    pub fn check_form_csrf(&self, req: &HttpRequest, form_token: &str) -> bool {
        req.cookie(self.form_token)
            .is_some_and(|c| !form_token.is_empty() && ct_eq_str(c.value(), form_token))
    }

    /// The cookie that removes the sign-in form's token (once signed in).
    pub fn form_csrf_removal(&self, secure: bool) -> Cookie<'static> {
        self.removal(self.form_token, secure)
    }

    fn removal(&self, name: &'static str, secure: bool) -> Cookie<'static> {
        let mut c = self.cookie(name, String::new(), 0, secure);
        c.make_removal();
        c
    }

    fn cookie(&self, name: &'static str, value: String, ttl: i64, secure: bool) -> Cookie<'static> {
        Cookie::build(name, value)
            .path(self.path)
            .http_only(true)
            .secure(secure)
            .same_site(self.same_site)
            .max_age(CookieDuration::seconds(ttl))
            .finish()
    }
}

/// Checks a form's token against the session's synchronizer token, in constant time.
pub fn check_session_csrf(session: &Session, form_token: &str) -> bool {
    !form_token.is_empty() && ct_eq_str(&session.csrf_token, form_token)
}

/// The live login session of this browser ([`LOGIN`]`.current`), for the logout endpoint.
pub async fn current(
    store: &Store,
    req: &HttpRequest,
    policy: SessionPolicy,
    now: DateTime<Utc>,
) -> Result<Option<Session>, StoreError> {
    LOGIN.current(store, req, policy, now).await
}

/// Ends this browser's login session ([`LOGIN`]`.end`), for the logout endpoint.
pub async fn end(
    store: &Store,
    req: &HttpRequest,
    secure: bool,
) -> Result<Cookie<'static>, StoreError> {
    LOGIN.end(store, req, secure).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn one_id_hashes_differently_per_audience() {
        assert_ne!(LOGIN.id_hash("abc"), CONSOLE.id_hash("abc"));
        assert_eq!(LOGIN.id_hash("abc"), Secret::from_presented("abc").hash());
    }

    #[test]
    fn cookies_follow_their_spec() {
        let (_, c) = CONSOLE.form_csrf(true);
        assert_eq!(c.name(), "gatehouse_console_csrf");
        assert_eq!(c.path(), Some("/admin"));
        assert_eq!(c.same_site(), Some(SameSite::Strict));
        assert_eq!((c.http_only(), c.secure()), (Some(true), Some(true)));
        let (_, c) = LOGIN.form_csrf(false);
        assert_eq!(c.path(), Some("/"));
        assert_eq!(c.same_site(), Some(SameSite::Lax));
        assert_eq!(c.secure(), Some(false));
    }

    #[test]
    fn a_form_token_must_match_its_own_audiences_cookie() {
        let (token, _) = LOGIN.form_csrf(false);
        let req = TestRequest::default()
            .cookie(Cookie::new("gatehouse_login_csrf", token.clone()))
            .to_http_request();
        assert!(LOGIN.check_form_csrf(&req, &token));
        assert!(!LOGIN.check_form_csrf(&req, ""));
        assert!(!LOGIN.check_form_csrf(&req, "other"));
        assert!(!CONSOLE.check_form_csrf(&req, &token));
    }
}
