//! The console's askama templates (`templates/console/`, autoescaped HTML).

use askama::Template;

/// The navigation bar of every signed-in page.
pub struct Nav {
    /// `api-keys`, `clients`, `signing-keys` or `audit`.
    pub current: &'static str,
    pub username: String,
    /// The session's CSRF token, for the sign-out form.
    pub csrf_token: String,
    pub api_keys: bool,
    pub clients: bool,
    pub signing_keys: bool,
    pub audit: bool,
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
    pub tenants: Vec<String>,
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
    pub actor: String,
    pub action: String,
    pub target: String,
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
    pub tenants: Vec<String>,
    pub rows: Vec<AuditRow>,
    /// The link to the next older page, when there may be one.
    pub older: Option<String>,
    pub newest: String,
    /// Whether this is not the newest page.
    pub paged: bool,
}
