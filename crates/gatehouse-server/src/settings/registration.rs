//! `[registration]`: dynamic client registration (RFC 7591). Registration needs an initial
//! access token (`gatehouse registration-token create`) unless `open` is set.

use gatehouse_core::ScopeSet;
use gatehouse_core::client::GrantType;
use gatehouse_core::registration::RegistrationPolicy;
use serde::{Deserialize, Serialize};

/// `[registration]`: open registration and the registration policy.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RegistrationSettings {
    /// Anyone may register a client without an initial access token (off by default).
    pub open: bool,
    /// The tenant (name or id) of clients registered without a token (open registration).
    pub tenant: String,
    /// The grant types a registered client may have (of authorization_code, refresh_token,
    /// client_credentials).
    pub grant_types: Vec<String>,
    /// The most a registered client may request, space separated; also the scopes of a
    /// client that names none.
    pub scope: String,
}

impl Default for RegistrationSettings {
    fn default() -> Self {
        Self {
            open: false,
            tenant: gatehouse_core::TenantId::DEFAULT.to_owned(),
            grant_types: ["authorization_code", "refresh_token", "client_credentials"]
                .map(str::to_owned)
                .to_vec(),
            scope: gatehouse_core::client::DEFAULT_CLIENT_SCOPES.to_owned(),
        }
    }
}

impl RegistrationSettings {
    /// The registration policy these settings describe.
    pub fn policy(&self) -> Result<RegistrationPolicy, String> {
        let mut grant_types = Vec::new();
        for g in &self.grant_types {
            let parsed =
                GrantType::parse(g).map_err(|e| format!("registration.grant_types: {e}"))?;
            if parsed == GrantType::JwtBearer {
                return Err(
                    "registration.grant_types: the JWT bearer grant needs an operator-made trust"
                        .into(),
                );
            }
            grant_types.push(parsed);
        }
        let scope = ScopeSet::parse(&self.scope).map_err(|e| format!("registration.scope: {e}"))?;
        Ok(RegistrationPolicy { grant_types, scope })
    }

    /// Checks the policy and the tenant syntax.
    pub fn check(&self) -> Result<(), String> {
        self.policy()?;
        gatehouse_core::TenantId::parse(&self.tenant)
            .map_err(|e| format!("registration.tenant: {e}"))?;
        Ok(())
    }
}
