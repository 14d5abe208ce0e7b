//! HTTP routes, one file per endpoint. Each translates only: extractors ([`crate::extract`])
//! parse the wire into core types, one call into `gatehouse-core` decides, the audit events it
//! returns are written, and [`crate::error`] turns the answer into HTTP. Routes do not import
//! each other.

pub mod authorize;
pub mod consent;
pub mod device;
pub mod discovery;
pub mod health;
pub mod home;
pub mod introspect;
pub mod login;
pub mod logout;
pub mod par;
pub mod register;
pub mod revoke;
pub mod token;
pub mod userinfo;

use gatehouse_core::audit::{AuditSink, NewAuditEvent};

use crate::audit_sink::RequestAudit;
use crate::request_meta::RequestMeta;
use crate::state::AppState;

/// The form parser of the edge, for the pages that read their forms themselves.
pub use crate::extract::form_params;

/// Writes the audit events a request caused, stamped with its source IP and request id.
async fn write_audit(state: &AppState, meta: &RequestMeta, events: Vec<NewAuditEvent>) {
    let sink = RequestAudit::new(&state.store, meta);
    for event in events {
        sink.record(event).await;
    }
}
