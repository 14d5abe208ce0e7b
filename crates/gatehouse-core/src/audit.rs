//! The audit trail's records: an append-only list of security-relevant events (issue 4), read
//! with a cursor ("entries after id N"). Details never hold secrets: ids and names only.

// Used only by our own generic code on actix workers; see `ports`.
#![allow(async_fn_in_trait)]

use chrono::{DateTime, Utc};
use serde::Serialize;

/// Where protocol code sends the events it detects (refresh-token reuse, code replay). The
/// implementation stamps the request's source IP and request id, and must not fail the
/// request when the write fails: it logs a warning instead (never silently drops the event).
pub trait AuditSink {
    async fn record(&self, event: NewAuditEvent);
}

/// An [`AuditSink`] that records nothing (unit tests, benchmarks).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoAudit;

impl AuditSink for NoAudit {
    async fn record(&self, _event: NewAuditEvent) {}
}

/// Who did it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ActorKind {
    /// An operator at the CLI.
    Operator,
    User,
    Client,
    /// An API key, named by its name.
    ApiKey,
    /// Nobody identified (e.g. an unknown API key was presented).
    Anonymous,
}

impl ActorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Operator => "operator",
            Self::User => "user",
            Self::Client => "client",
            Self::ApiKey => "api_key",
            Self::Anonymous => "anonymous",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "operator" => Self::Operator,
            "user" => Self::User,
            "client" => Self::Client,
            "api_key" => Self::ApiKey,
            "anonymous" => Self::Anonymous,
            _ => return None,
        })
    }
}

/// The result of the audited action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Success,
    Failure,
    Denied,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Failure => "failure",
            Self::Denied => "denied",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "success" => Self::Success,
            "failure" => Self::Failure,
            "denied" => Self::Denied,
            _ => return None,
        })
    }
}

/// An event to append (the store assigns the id).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NewAuditEvent {
    #[serde(rename = "time")]
    pub at: DateTime<Utc>,
    pub tenant_id: Option<String>,
    pub actor_kind: ActorKind,
    /// A user or client id, or the API key's name.
    pub actor: Option<String>,
    /// Dotted verb, e.g. `tenant.create`, `api_key.revoke`, `api_key.use`.
    pub action: String,
    /// The id of the object acted upon.
    pub target: Option<String>,
    pub source_ip: Option<String>,
    pub request_id: Option<String>,
    pub outcome: Outcome,
    /// Extra facts (a JSON object). Never secrets.
    pub details: serde_json::Value,
}

impl NewAuditEvent {
    /// A successful operator action (the caller may set `actor`).
    pub fn operator(
        at: DateTime<Utc>,
        tenant_id: Option<&str>,
        action: &str,
        target: &str,
        details: serde_json::Value,
    ) -> Self {
        Self {
            at,
            tenant_id: tenant_id.map(str::to_owned),
            actor_kind: ActorKind::Operator,
            actor: None,
            action: action.to_owned(),
            target: Some(target.to_owned()),
            source_ip: None,
            request_id: None,
            outcome: Outcome::Success,
            details,
        }
    }
}

impl NewAuditEvent {
    /// An event of the protocol (not an operator action); source IP and request id are left
    /// for the [`AuditSink`] to fill in.
    #[allow(clippy::too_many_arguments)]
    pub fn protocol(
        at: DateTime<Utc>,
        tenant_id: Option<String>,
        actor_kind: ActorKind,
        actor: Option<String>,
        action: &str,
        target: Option<String>,
        outcome: Outcome,
        details: serde_json::Value,
    ) -> Self {
        Self {
            at,
            tenant_id,
            actor_kind,
            actor,
            action: action.to_owned(),
            target,
            source_ip: None,
            request_id: None,
            outcome,
            details,
        }
    }
}

/// How an event is written (issue 9; the promise per event type is in `docs/security.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// A security decision or change (sign-ins, consents, revocations, detected replays and
    /// reuses, every refusal, every operator action): the request waits for its commit, so
    /// what was acknowledged is never lost.
    Acknowledged,
    /// A routine success (a token issued or exchanged): queued for the next group commit
    /// without the request waiting; a crash of the process may lose the last few
    /// milliseconds of them.
    Buffered,
}

/// The actions whose successes are [`Durability::Buffered`].
const BUFFERED_ACTIONS: [&str; 2] = ["token.issue", "token.exchange"];

impl NewAuditEvent {
    /// How this event must be written: buffered only for a routine success, acknowledged for
    /// everything else (unknown actions included).
    pub fn durability(&self) -> Durability {
        if self.outcome == Outcome::Success && BUFFERED_ACTIONS.contains(&self.action.as_str()) {
            Durability::Buffered
        } else {
            Durability::Acknowledged
        }
    }
}

/// A stored event.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditEvent {
    /// Monotonic: later events have larger ids.
    pub id: i64,
    #[serde(flatten)]
    pub event: NewAuditEvent,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(action: &str, outcome: Outcome) -> NewAuditEvent {
        NewAuditEvent::protocol(
            DateTime::<Utc>::default(),
            None,
            ActorKind::Client,
            None,
            action,
            None,
            outcome,
            serde_json::Value::Null,
        )
    }

    #[test]
    fn only_routine_successes_are_buffered_and_every_security_decision_is_acknowledged() {
        for (action, outcome, expected) in [
            ("token.issue", Outcome::Success, Durability::Buffered),
            ("token.exchange", Outcome::Success, Durability::Buffered),
            ("token.issue", Outcome::Failure, Durability::Acknowledged),
            ("token.revoke", Outcome::Success, Durability::Acknowledged),
            (
                "token.refresh_reuse",
                Outcome::Denied,
                Durability::Acknowledged,
            ),
            (
                "token.code_replay",
                Outcome::Denied,
                Durability::Acknowledged,
            ),
            ("login", Outcome::Success, Durability::Acknowledged),
            ("consent.grant", Outcome::Success, Durability::Acknowledged),
            ("tenant.disable", Outcome::Success, Durability::Acknowledged),
            ("something.new", Outcome::Success, Durability::Acknowledged),
        ] {
            assert_eq!(event(action, outcome).durability(), expected, "{action}");
        }
    }
}
