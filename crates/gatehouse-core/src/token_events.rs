//! The audit events of the token side, built in one place: issuance (`token.issue`), the
//! RFC 8693 exchanges of an API key and of a user's token (delegation), both `token.exchange`, a replayed code (`token.code_replay`,
//! RFC 6749 §4.1.2), a reused refresh token (`token.refresh_reuse`, RFC 9700 §4.14.2) and a
//! revocation (`token.revoke`, RFC 7009). Ids only, never a token value. The source IP and
//! request id are stamped by the [`crate::audit::AuditSink`] that writes them.

use chrono::{DateTime, Utc};
use serde_json::json;

use crate::audit::{ActorKind, NewAuditEvent, Outcome};
use crate::authorize::ResponseType;
use crate::client::Client;
use crate::grant::delegation::DelegationResponse;
use crate::grant::mint::{Issued, TokenResponse};
use crate::grant::outcome::Incident;
use crate::grant::token_exchange::{ExchangeResponse, GRANT_TYPE_TOKEN_EXCHANGE};

/// `token.issue`: the client, the access token's `jti` and what came with it.
pub fn issued(t: &TokenResponse, now: DateTime<Utc>) -> NewAuditEvent {
    NewAuditEvent::protocol(
        now,
        Some(t.issued.tenant.clone()),
        ActorKind::Client,
        Some(t.issued.client_id.clone()),
        "token.issue",
        Some(t.issued.jti.clone()),
        Outcome::Success,
        json!({
            "grant_type": t.issued.grant_type,
            "jti": t.issued.jti,
            "sub": t.issued.sub,
            "grant_id": t.issued.grant_id,
            "refresh_token": t.refresh_token.is_some(),
            "id_token": t.id_token.is_some(),
            "scope": t.scope,
        }),
    )
}

/// `token.issue` at the authorization endpoint (implicit and hybrid flows): `grant_type`
/// `implicit`, the `response_type`, the access token's `jti` when one was issued (it is then the
/// target; otherwise the grant is), and whether an ID token and a code came with it.
pub fn front_channel(
    issued: &Issued,
    response_type: ResponseType,
    scope: &str,
    now: DateTime<Utc>,
) -> NewAuditEvent {
    let jti = (!issued.jti.is_empty()).then(|| issued.jti.clone());
    NewAuditEvent::protocol(
        now,
        Some(issued.tenant.clone()),
        ActorKind::Client,
        Some(issued.client_id.clone()),
        "token.issue",
        jti.clone().or_else(|| issued.grant_id.clone()),
        Outcome::Success,
        json!({
            "grant_type": issued.grant_type,
            "response_type": response_type.as_str(),
            "jti": jti,
            "sub": issued.sub,
            "grant_id": issued.grant_id,
            "access_token": response_type.token,
            "id_token": response_type.id_token,
            "code": response_type.code,
            "refresh_token": false,
            "scope": scope,
        }),
    )
}

/// `token.exchange`: the API key (by name, and its id as target) and the token's `jti`.
pub fn exchanged(x: &ExchangeResponse, now: DateTime<Utc>) -> NewAuditEvent {
    NewAuditEvent::protocol(
        now,
        Some(x.issued.tenant.clone()),
        ActorKind::ApiKey,
        Some(x.issued.key_name.clone()),
        "token.exchange",
        Some(x.issued.key_id.clone()),
        Outcome::Success,
        json!({
            "grant_type": GRANT_TYPE_TOKEN_EXCHANGE,
            "jti": x.issued.jti,
            "client_id": x.issued.client_id,
            "scope": x.scope,
        }),
    )
}

/// `token.exchange` of a delegation: the requesting client as actor, the token's `jti` as
/// target, whom it acts for and the `act` chain it carries.
pub fn delegated(d: &DelegationResponse, now: DateTime<Utc>) -> NewAuditEvent {
    NewAuditEvent::protocol(
        now,
        Some(d.issued.tenant.clone()),
        ActorKind::Client,
        Some(d.issued.client_id.clone()),
        "token.exchange",
        Some(d.issued.jti.clone()),
        Outcome::Success,
        json!({
            "grant_type": GRANT_TYPE_TOKEN_EXCHANGE,
            "jti": d.issued.jti,
            "client_id": d.issued.client_id,
            "sub": d.issued.sub,
            "subject_client_id": d.issued.subject_client_id,
            "subject_token_type": d.issued.subject_token_type,
            "act": d.issued.act,
            "resource": d.issued.resource,
            "scope": d.scope,
        }),
    )
}

/// `token.code_replay` / `token.refresh_reuse`: denied, the grant (revoked) as target.
pub fn incident(client: &Client, incident: &Incident, now: DateTime<Utc>) -> NewAuditEvent {
    let (action, grant, user) = match incident {
        Incident::CodeReplay { grant, user } => ("token.code_replay", grant, user),
        Incident::RefreshReuse { grant, user } => ("token.refresh_reuse", grant, user),
    };
    NewAuditEvent::protocol(
        now,
        Some(client.tenant_id.to_string()),
        ActorKind::Client,
        Some(client.id.to_string()),
        action,
        Some(grant.to_string()),
        Outcome::Denied,
        json!({ "user_id": user.as_str(), "grant_revoked": true }),
    )
}

/// `token.revoke`: what `client` revoked — a grant (`token_type` `refresh_token`) or an access
/// token's `jti` (`access_token`).
pub fn revoked(
    client: &Client,
    token_type: &'static str,
    target: String,
    now: DateTime<Utc>,
) -> NewAuditEvent {
    NewAuditEvent::protocol(
        now,
        Some(client.tenant_id.to_string()),
        ActorKind::Client,
        Some(client.id.to_string()),
        "token.revoke",
        Some(target),
        Outcome::Success,
        json!({ "token_type": token_type }),
    )
}
