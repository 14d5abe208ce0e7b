//! The error of every operator action: refused by the policy, absent, invalid, conflicting or
//! failed. Surfaces turn it into their own shape (exit message, JSON error, page); nothing
//! here names a flag or a status code.

use gatehouse_core::admin::Denied;
use gatehouse_core::apikey::CreateRefused;
use gatehouse_core::field::FieldError;

/// The kind of object an operation addressed, for "not found" answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Object {
    Tenant,
    User,
    Client,
    ApiKey,
    /// A resource server (RFC 8707).
    Resource,
    Trust,
}

impl Object {
    pub fn as_str(self) -> &'static str {
        match self {
            Object::Tenant => "tenant",
            Object::User => "user",
            Object::Client => "client",
            Object::ApiKey => "API key",
            Object::Resource => "resource",
            Object::Trust => "trust",
        }
    }
}

/// Why an operator action did not happen. Nothing was written in any case but
/// [`OpError::Storage`] (a failed write of several is not rolled back by this layer; each
/// write is atomic by itself).
#[derive(Debug, thiserror::Error)]
pub enum OpError {
    /// The policy refused: a missing scope, a platform-only action, or a scope the caller
    /// would hand on without holding it. Never [`Denied::OtherTenant`]: that becomes
    /// [`OpError::OtherTenant`], which names the object.
    #[error(transparent)]
    Denied(Denied),
    /// The object addressed by id does not exist.
    #[error("no {} with id {id:?}", what.as_str())]
    NotFound { what: Object, id: String },
    /// The object exists in a tenant the caller may not see. Surfaces answer as they answer
    /// [`OpError::NotFound`] or with a refusal, never with the object.
    #[error("no {} with id {id:?}", what.as_str())]
    OtherTenant { what: Object, id: String },
    /// The tenant named in the request does not exist.
    #[error("no tenant with id {0:?}")]
    UnknownTenant(String),
    /// A field of the request is refused.
    #[error("{}: {}", .0.field, .0.reason)]
    Invalid(FieldError),
    /// The tenant's policy refuses (the tenant is disabled, or its API access is off).
    #[error("{0}")]
    Refused(String),
    /// The change conflicts with stored data (a taken username, a client without a secret to
    /// rotate, an object gone meanwhile).
    #[error("{0}")]
    Conflict(String),
    /// The tenant already has its maximum of active API keys (checked in the creating
    /// transaction, so concurrent creations cannot pass it).
    #[error("{0}")]
    LimitReached(String),
    /// The object changed since the caller read it (its [`crate::Precondition`] failed).
    #[error("the object changed since it was read")]
    Stale,
    /// Storage or key material failed; the message is for logs.
    #[error("storage error: {0}")]
    Storage(String),
}

impl From<FieldError> for OpError {
    fn from(e: FieldError) -> Self {
        OpError::Invalid(e)
    }
}

impl From<gatehouse_store::Error> for OpError {
    fn from(e: gatehouse_store::Error) -> Self {
        match e {
            gatehouse_store::Error::Conflict(m) => OpError::Conflict(m),
            // A row the write refers to went away after it was checked.
            gatehouse_store::Error::NotFound(m) => OpError::Conflict(format!("not found: {m}")),
            gatehouse_store::Error::Db(m) | gatehouse_store::Error::Connect(m) => {
                OpError::Storage(m)
            }
            e @ gatehouse_store::Error::MigrationsPending(_) => OpError::Storage(e.to_string()),
        }
    }
}

impl From<CreateRefused> for OpError {
    fn from(e: CreateRefused) -> Self {
        match e {
            CreateRefused::Invalid(f) => OpError::Invalid(f),
            r @ CreateRefused::LimitReached { .. } => OpError::LimitReached(r.to_string()),
            r @ (CreateRefused::TenantDisabled(_) | CreateRefused::ApiAccessDisabled(_)) => {
                OpError::Refused(r.to_string())
            }
        }
    }
}
