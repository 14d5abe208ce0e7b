//! The console's askama templates (`templates/console/`, autoescaped HTML).

use askama::Template;

/// The navigation bar of every signed-in page.
pub struct Nav {
    /// `api-keys`, `clients`, `resources`, `users`, `tenants`, `signing-keys` or `audit`.
    pub current: &'static str,
    pub username: String,
    /// The session's CSRF token, for the sign-out form.
    pub csrf_token: String,
    pub api_keys: bool,
    pub clients: bool,
    pub signing_keys: bool,
    pub audit: bool,
    pub users: bool,
    /// A platform administrator: the Tenants page.
    pub tenants: bool,
    /// `tenant=ID`, so navigation keeps the chosen tenant.
    pub tenant_query: String,
}

#[derive(Template)]
#[template(path = "console/sign_in.html")]
pub struct SignInPage<'a> {
    pub csrf_token: &'a str,
    pub username: &'a str,
    pub error: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "console/message.html")]
pub struct MessagePage<'a> {
    pub title: &'a str,
    pub text: &'a str,
}

/// A sortable column heading.
pub struct Header {
    pub column: &'static str,
    pub label: &'static str,
    pub href: String,
    pub arrow: &'static str,
    /// The `aria-sort` value.
    pub aria: &'static str,
}

pub struct KeyRow {
    pub id: String,
    pub name: String,
    /// The warning text when expired or expiring soon.
    pub warning: Option<String>,
    pub masked: String,
    pub created: String,
    pub expires: String,
    pub expired: bool,
    pub last_used: String,
    pub last_used_ip: String,
    pub scopes: String,
    pub environment: &'static str,
    pub delete_href: String,
}

/// The create dialog's values and per-field errors.
#[derive(Debug, Clone)]
pub struct CreateForm {
    pub name: String,
    pub validity_days: String,
    pub scope: String,
    pub environment: String,
    pub name_error: Option<String>,
    pub validity_error: Option<String>,
    pub scope_error: Option<String>,
    pub environment_error: Option<String>,
    pub error: Option<String>,
}

impl CreateForm {
    pub fn has_errors(&self) -> bool {
        self.name_error.is_some()
            || self.validity_error.is_some()
            || self.scope_error.is_some()
            || self.environment_error.is_some()
            || self.error.is_some()
    }
}

impl Default for CreateForm {
    fn default() -> Self {
        Self {
            name: String::new(),
            validity_days: gatehouse_core::apikey::DEFAULT_VALIDITY_DAYS.to_string(),
            scope: String::new(),
            environment: "live".into(),
            name_error: None,
            validity_error: None,
            scope_error: None,
            environment_error: None,
            error: None,
        }
    }
}

#[derive(Template)]
#[template(path = "console/api_keys.html")]
pub struct ApiKeysPage<'a> {
    pub nav: Nav,
    pub tenant: &'a str,
    pub tenant_name: &'a str,
    /// Tenants a platform admin may pick (empty: no picker).
    pub tenants: Vec<TenantChoice>,
    pub headers: Vec<Header>,
    pub rows: Vec<KeyRow>,
    pub active: usize,
    pub max: usize,
    pub api_access: bool,
    pub offer_create: bool,
    pub at_limit: bool,
    pub limit_text: &'a str,
    pub can_write: bool,
    pub create_href: String,
    pub back_href: String,
    pub create: Option<CreateForm>,
    /// (id, name, masked secret) of the key whose deletion is being confirmed.
    pub confirm: Option<(String, String, String)>,
    /// (name, secret) of the key just created: shown this once.
    pub secret: Option<(String, String)>,
    pub notice: Option<String>,
    pub warn_days: i64,
    pub allowed_scopes: String,
}

pub struct AuditRow {
    pub id: i64,
    pub time: String,
    /// The actor's kind, e.g. `user`.
    pub actor_kind: &'static str,
    /// The actor's name when known, else its id.
    pub actor: String,
    /// The actor's id (shown on hover).
    pub actor_id: String,
    pub action: String,
    /// The target's name when known, else its id.
    pub target: String,
    pub target_id: String,
    pub source_ip: String,
    pub request_id: String,
    pub outcome: &'static str,
}

#[derive(Template)]
#[template(path = "console/audit.html")]
pub struct AuditPage<'a> {
    pub nav: Nav,
    pub tenant: &'a str,
    pub tenant_name: &'a str,
    pub tenants: Vec<TenantChoice>,
    pub rows: Vec<AuditRow>,
    /// The link to the next older page, when there may be one.
    pub older: Option<String>,
    pub newest: String,
    /// Whether this is not the newest page.
    pub paged: bool,
    /// The filter as typed.
    pub filter: AuditFilterForm,
    pub scan: u64,
}

/// The audit filter form's values.
#[derive(Debug, Clone, Default)]
pub struct AuditFilterForm {
    pub actor: String,
    pub action: String,
    pub outcome: String,
    pub from: String,
    pub to: String,
}

impl AuditFilterForm {
    pub fn is_empty(&self) -> bool {
        self.actor.is_empty()
            && self.action.is_empty()
            && self.outcome.is_empty()
            && self.from.is_empty()
            && self.to.is_empty()
    }
}

pub struct UserRow {
    pub id: String,
    pub username: String,
    pub email: String,
    pub admin_scopes: String,
    pub disabled: bool,
    pub created: String,
    pub sessions_href: String,
}

#[derive(Template)]
#[template(path = "console/users.html")]
pub struct UsersPage<'a> {
    pub nav: Nav,
    pub tenant: &'a str,
    pub tenant_name: &'a str,
    pub tenants: Vec<TenantChoice>,
    pub rows: Vec<UserRow>,
    pub can_write: bool,
    /// The admin scopes the signed-in admin may hand on (the policy decides each).
    pub offered_scopes: Vec<String>,
    pub notice: Option<String>,
    /// The link to the next page, when there may be one.
    pub next: Option<String>,
}

pub struct SessionRow {
    pub id: String,
    pub signed_in: String,
    pub last_seen: String,
    pub expires: String,
}

#[derive(Template)]
#[template(path = "console/user_sessions.html")]
pub struct SessionsPage<'a> {
    pub nav: Nav,
    pub tenant: &'a str,
    pub user_id: &'a str,
    pub username: &'a str,
    pub rows: Vec<SessionRow>,
    pub can_write: bool,
    pub notice: Option<String>,
    pub back: String,
}

pub struct TenantRow {
    pub id: String,
    pub name: String,
    pub created: String,
    pub disabled: bool,
    pub api_access: &'static str,
    pub is_default: bool,
}

#[derive(Template)]
#[template(path = "console/tenants.html")]
pub struct TenantsPage {
    pub nav: Nav,
    pub rows: Vec<TenantRow>,
    pub notice: Option<String>,
}

/// A tenant of the console's tenant picker: shown by name, with its id on hover.
pub struct TenantChoice {
    pub id: String,
    pub name: String,
}
