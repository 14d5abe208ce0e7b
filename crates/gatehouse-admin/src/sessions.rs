//! A user's browser sessions (sign-in page and console): list them and end one or all. Reading
//! needs the right to read users; ending needs the right to change them (and, as for every
//! change of a user, every admin scope the user holds). Sessions are named by a handle derived
//! from their stored digest, so neither the cookie nor its digest ever leaves the store.

use gatehouse_core::admin::Access;
use gatehouse_store::UserSession;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::actor::Context;
use crate::error::{Object, OpError};
use crate::users::visible;
use crate::views::{EndedSessions, SessionList, SessionView};

/// The public handle of a stored session: 32 hex digits of a digest of its stored digest.
fn handle(id_hash: &str) -> String {
    let d = Sha256::digest(format!("gatehouse-session:{id_hash}").as_bytes());
    d.iter().take(16).map(|b| format!("{b:02x}")).collect()
}

fn view(s: &UserSession) -> SessionView {
    SessionView {
        id: handle(&s.id_hash),
        created_at: s.created_at,
        auth_time: s.auth_time,
        last_seen_at: s.last_seen_at,
        expires_at: s.expires_at,
    }
}

/// The user's sessions that have not expired, newest sign-in first.
pub async fn list(ctx: &Context<'_>, user_id: &str) -> Result<SessionList, OpError> {
    let u = visible(ctx, user_id, Access::Read).await?;
    let sessions = ctx.store.user_sessions(user_id).await?;
    Ok(SessionList {
        user: u.user.id,
        username: u.user.username,
        sessions: sessions
            .iter()
            .filter(|s| s.expires_at > ctx.now)
            .map(view)
            .collect(),
    })
}

/// Ends the session `session` of the user, or all of its sessions when `None`.
pub async fn end(
    ctx: &Context<'_>,
    user_id: &str,
    session: Option<&str>,
) -> Result<EndedSessions, OpError> {
    let u = visible(ctx, user_id, Access::Write).await?;
    let tenant = u.user.tenant_id.as_str();
    let ended = match session {
        None => ctx.store.end_user_sessions(user_id).await?,
        Some(handle_given) => {
            let sessions = ctx.store.user_sessions(user_id).await?;
            let found = sessions.iter().find(|s| handle(&s.id_hash) == handle_given);
            let not_found = || OpError::NotFound {
                what: Object::Session,
                id: handle_given.to_owned(),
            };
            let s = found.ok_or_else(not_found)?;
            if !ctx.store.end_user_session(user_id, &s.id_hash).await? {
                return Err(not_found());
            }
            1
        }
    };
    let details = json!({
        "username": u.user.username,
        "session": session,
        "ended": ended,
    });
    ctx.audit(Some(tenant), "user.sessions_end", user_id, details)
        .await?;
    Ok(EndedSessions {
        user: u.user.id,
        ended,
    })
}

#[cfg(test)]
mod tests {
    use super::handle;

    #[test]
    fn a_handle_is_stable_short_and_not_the_digest() {
        let digest = "ab".repeat(32);
        assert_eq!(handle(&digest), handle(&digest));
        assert_eq!(handle(&digest).len(), 32);
        assert!(!digest.contains(&handle(&digest)));
        assert_ne!(handle(&digest), handle(&"cd".repeat(32)));
    }
}
