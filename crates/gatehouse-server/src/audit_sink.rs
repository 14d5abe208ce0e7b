//! Writing protocol events (logins, consents, token issuance and revocation, refresh-token
//! reuse, code replay, token exchange) to the audit trail, stamped with the request's source
//! IP and request id from [`RequestMeta`].
//!
//! Token and sign-in metrics are counted here too ([`crate::telemetry::audit_event`]), from the
//! same events, so what counts as an issued token or a refused sign-in is decided once.
//!
//! An audit write never fails the request it describes: a failed write is logged as a warning
//! with the action, so it is not lost silently. Events go through the store's group-commit
//! writer: a security decision waits for its commit, a routine success (a token issued) is
//! only queued, as the core's `NewAuditEvent::durability` says, so the token endpoint never
//! waits for a database write it does not need.

use gatehouse_core::audit::{ActorKind, AuditSink, Durability, NewAuditEvent, Outcome};
use gatehouse_store::Store;

use crate::request_meta::RequestMeta;

/// The audit trail of one request.
pub struct RequestAudit<'a> {
    pub store: &'a Store,
    pub meta: &'a RequestMeta,
}

impl<'a> RequestAudit<'a> {
    pub fn new(store: &'a Store, meta: &'a RequestMeta) -> Self {
        Self { store, meta }
    }

    /// Records an event built from its parts.
    #[allow(clippy::too_many_arguments)]
    pub async fn event(
        &self,
        at: chrono::DateTime<chrono::Utc>,
        tenant: Option<String>,
        actor_kind: ActorKind,
        actor: Option<String>,
        action: &str,
        target: Option<String>,
        outcome: Outcome,
        details: serde_json::Value,
    ) {
        self.record(NewAuditEvent::protocol(
            at, tenant, actor_kind, actor, action, target, outcome, details,
        ))
        .await;
    }
}

impl AuditSink for RequestAudit<'_> {
    async fn record(&self, mut event: NewAuditEvent) {
        crate::telemetry::audit_event(&event);
        event.source_ip = self.meta.ip_string();
        event.request_id = Some(self.meta.request_id.clone());
        let action = event.action.clone();
        let written = match event.durability() {
            Durability::Acknowledged => self.store.audit().append(&event).await.map(|_| ()),
            Durability::Buffered => self.store.audit().append_buffered(event).await,
        };
        if let Err(e) = written {
            tracing::warn!(
                error = %e,
                action = %action,
                request_id = %self.meta.request_id,
                "audit event not written"
            );
        }
    }
}
