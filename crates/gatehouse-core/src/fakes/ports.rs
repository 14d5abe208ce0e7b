//! The storage ports of the core, implemented by [`FakeStore`] in memory.

use super::*;

impl crate::resource::ResourceStore for FakeStore {
    async fn find_resource(
        &self,
        tenant: &TenantId,
        identifier: &crate::resource::ResourceUri,
    ) -> Result<Option<crate::resource::ResourceServer>, StoreError> {
        let all = self.resources.lock().unwrap();
        Ok(all
            .iter()
            .find(|r| &r.tenant_id == tenant && &r.identifier == identifier)
            .cloned())
    }
    async fn client_resources(
        &self,
        client: &ClientId,
    ) -> Result<Vec<crate::resource::ResourceUri>, StoreError> {
        let m = self.client_resources.lock().unwrap();
        Ok(m.get(client.as_str()).cloned().unwrap_or_default())
    }
    async fn save_grant_resources(
        &self,
        grant: &GrantId,
        resources: &[crate::resource::ResourceUri],
        _now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut m = self.grant_resources.lock().unwrap();
        m.insert(grant.as_str().into(), resources.to_vec());
        Ok(())
    }
}

impl FakeStore {
    /// The terms saved for `grant`, as the store reads them with its code or refresh token.
    fn terms(&self, grant: &GrantId) -> GrantTerms {
        let resources = self.grant_resources.lock().unwrap();
        let claims = self.grant_claims.lock().unwrap();
        GrantTerms {
            resources: resources.get(grant.as_str()).cloned().unwrap_or_default(),
            claims: claims.get(grant.as_str()).cloned(),
        }
    }
}

impl crate::claims_request::ClaimsRequestStore for FakeStore {
    async fn save_claims_request(
        &self,
        grant: &GrantId,
        request: &crate::claims_request::ClaimsRequest,
        _now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut m = self.grant_claims.lock().unwrap();
        m.insert(grant.as_str().into(), request.clone());
        Ok(())
    }
    async fn find_claims_request(
        &self,
        grant: &GrantId,
    ) -> Result<Option<crate::claims_request::ClaimsRequest>, StoreError> {
        Ok(self
            .grant_claims
            .lock()
            .unwrap()
            .get(grant.as_str())
            .cloned())
    }
}

impl ClientStore for FakeStore {
    async fn find_client(&self, id: &ClientId) -> Result<Option<Client>, StoreError> {
        let clients = self.clients.lock().unwrap();
        Ok(clients.iter().find(|c| &c.id == id).cloned())
    }
}

impl ClientKeyStore for FakeStore {
    async fn client_key_source(&self, id: &ClientId) -> Result<Option<KeySource>, StoreError> {
        Ok(self.key_sources.lock().unwrap().get(id.as_str()).cloned())
    }
}

impl crate::dpop::DpopClientStore for FakeStore {
    async fn dpop_required(&self, client: &ClientId) -> Result<bool, StoreError> {
        Ok(self.dpop_required.lock().unwrap().contains(client.as_str()))
    }
}

impl ReplayStore for FakeStore {
    async fn use_jti(
        &self,
        issuer: &str,
        jti: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<JtiUse, StoreError> {
        let mut m = self.jtis.lock().unwrap();
        let k = (issuer.to_owned(), jti.to_owned());
        match m.get(&k) {
            Some(e) if *e > now => Ok(JtiUse::Replayed),
            _ => {
                m.insert(k, expires_at);
                Ok(JtiUse::Fresh)
            }
        }
    }
}

impl TrustStore for FakeStore {
    async fn find_trust(&self, iss: &str, sub: &str) -> Result<Option<Trust>, StoreError> {
        let trusts = self.trusts.lock().unwrap();
        Ok(trusts
            .iter()
            .find(|t| t.issuer == iss && t.subject == sub)
            .cloned())
    }
}

impl crate::apikey_auth::ApiKeyAuthStore for FakeStore {
    async fn find_api_key_by_hash(
        &self,
        hash: &SecretHash,
    ) -> Result<Option<(ApiKey, crate::tenant::Tenant)>, StoreError> {
        let keys = self.api_keys.lock().unwrap();
        Ok(keys.iter().find(|(k, _)| &k.secret_hash == hash).cloned())
    }
    async fn record_api_key_use(
        &self,
        _key_id: &str,
        _now: DateTime<Utc>,
        _ip: Option<std::net::IpAddr>,
    ) -> Result<(), StoreError> {
        Ok(())
    }
    async fn append_audit(&self, event: NewAuditEvent) -> Result<i64, StoreError> {
        let mut a = self.api_key_audit.lock().unwrap();
        a.push(event);
        Ok(a.len() as i64)
    }
}

impl UserStore for FakeStore {
    async fn find_user(&self, id: &UserId) -> Result<Option<User>, StoreError> {
        Ok(self
            .users
            .lock()
            .unwrap()
            .iter()
            .find(|u| &u.id == id)
            .cloned())
    }
    async fn find_user_by_username(
        &self,
        _: &TenantId,
        _: &str,
    ) -> Result<Option<User>, StoreError> {
        Ok(None)
    }
    async fn find_users_named(&self, _: &str, _: u64) -> Result<Vec<User>, StoreError> {
        Ok(Vec::new())
    }
}

impl CodeStore for FakeStore {
    async fn insert_code(&self, c: &CodeRecord) -> Result<(), StoreError> {
        self.add_code(c.clone());
        Ok(())
    }
    async fn redeem_code(
        &self,
        h: &SecretHash,
        _: DateTime<Utc>,
    ) -> Result<Redemption, StoreError> {
        let mut m = self.codes.lock().unwrap();
        Ok(match m.get_mut(&key(h)) {
            None => Redemption::NotFound,
            Some((c, true)) => Redemption::AlreadyRedeemed(c.clone()),
            Some((c, used)) => {
                *used = true;
                Redemption::Redeemed(c.clone(), self.terms(&c.grant_id))
            }
        })
    }
}

impl crate::device::DeviceStore for FakeStore {
    async fn insert_device(
        &self,
        d: &crate::device::DeviceAuthorization,
    ) -> Result<(), StoreError> {
        self.devices.lock().unwrap().push(d.clone());
        Ok(())
    }
    async fn pending_devices(
        &self,
        client: &crate::values::ClientId,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let m = self.devices.lock().unwrap();
        Ok(m.iter()
            .filter(|d| &d.client_id == client && d.expires_at > now)
            .count() as u64)
    }
    async fn find_device(
        &self,
        h: &SecretHash,
    ) -> Result<Option<crate::device::DeviceAuthorization>, StoreError> {
        let m = self.devices.lock().unwrap();
        Ok(m.iter()
            .find(|d| d.device_code_hash.to_hex() == h.to_hex())
            .cloned())
    }
    async fn find_device_by_user_code(
        &self,
        h: &SecretHash,
    ) -> Result<Option<crate::device::DeviceAuthorization>, StoreError> {
        let m = self.devices.lock().unwrap();
        Ok(m.iter()
            .find(|d| d.user_code_hash.to_hex() == h.to_hex())
            .cloned())
    }
    async fn decide_device(
        &self,
        h: &SecretHash,
        decision: &crate::device::Decision,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        use crate::device::DeviceStatus;
        let mut m = self.devices.lock().unwrap();
        let Some(d) = m.iter_mut().find(|d| {
            d.device_code_hash.to_hex() == h.to_hex()
                && d.status == DeviceStatus::Pending
                && d.expires_at > now
        }) else {
            return Ok(false);
        };
        d.status = if decision.approved {
            DeviceStatus::Approved
        } else {
            DeviceStatus::Denied
        };
        d.user_id = Some(decision.user_id.clone());
        d.auth_time = Some(decision.auth_time);
        d.scope = decision.scope.clone();
        Ok(true)
    }
    async fn record_device_poll(
        &self,
        h: &SecretHash,
        now: DateTime<Utc>,
        interval: i64,
    ) -> Result<(), StoreError> {
        let mut m = self.devices.lock().unwrap();
        if let Some(d) = m
            .iter_mut()
            .find(|d| d.device_code_hash.to_hex() == h.to_hex())
        {
            d.last_polled_at = Some(now);
            d.interval = interval;
        }
        Ok(())
    }
    async fn consume_device(&self, h: &SecretHash) -> Result<bool, StoreError> {
        use crate::device::DeviceStatus;
        let mut m = self.devices.lock().unwrap();
        let Some(d) = m.iter_mut().find(|d| {
            d.device_code_hash.to_hex() == h.to_hex() && d.status == DeviceStatus::Approved
        }) else {
            return Ok(false);
        };
        d.status = DeviceStatus::Consumed;
        Ok(true)
    }
}

impl GrantStore for FakeStore {
    async fn insert_refresh(&self, t: &RefreshRecord) -> Result<(), StoreError> {
        self.refresh
            .lock()
            .unwrap()
            .insert(key(&t.token_hash), t.clone());
        Ok(())
    }
    async fn find_refresh(&self, h: &SecretHash) -> Result<Option<RefreshRecord>, StoreError> {
        Ok(self.refresh.lock().unwrap().get(&key(h)).cloned())
    }
    async fn find_refresh_with_terms(
        &self,
        h: &SecretHash,
    ) -> Result<Option<(RefreshRecord, GrantTerms)>, StoreError> {
        let record = self.find_refresh(h).await?;
        Ok(record.map(|r| {
            let terms = self.terms(&r.grant_id);
            (r, terms)
        }))
    }
    async fn mark_refresh_used(
        &self,
        h: &SecretHash,
        now: DateTime<Utc>,
    ) -> Result<Rotation, StoreError> {
        let mut m = self.refresh.lock().unwrap();
        match m.get_mut(&key(h)) {
            Some(r) if r.used_at.is_none() && !r.revoked => {
                r.used_at = Some(now);
                Ok(Rotation::Rotated)
            }
            _ => Ok(Rotation::AlreadyUsed),
        }
    }
    async fn revoke_grant(&self, g: &GrantId, _: DateTime<Utc>) -> Result<(), StoreError> {
        self.revoked_grants
            .lock()
            .unwrap()
            .insert(g.as_str().into());
        for r in self.refresh.lock().unwrap().values_mut() {
            if &r.grant_id == g {
                r.revoked = true;
            }
        }
        Ok(())
    }
    async fn is_grant_revoked(&self, g: &GrantId) -> Result<bool, StoreError> {
        Ok(self.revoked_grants.lock().unwrap().contains(g.as_str()))
    }
}

impl RotationStore for FakeStore {
    async fn rotate_refresh(
        &self,
        old: &SecretHash,
        successor: &SecretHash,
        now: DateTime<Utc>,
    ) -> Result<Rotation, StoreError> {
        let mut m = self.refresh.lock().unwrap();
        match m.get_mut(&key(old)) {
            Some(r) if r.used_at.is_none() && !r.revoked => {
                r.used_at = Some(now);
                r.replaced_by = Some(successor.clone());
                Ok(Rotation::Rotated)
            }
            _ => Ok(Rotation::AlreadyUsed),
        }
    }
}

impl RevokedTokenStore for FakeStore {
    async fn revoke_access_token(
        &self,
        jti: &str,
        _: DateTime<Utc>,
        _: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.revoked_jtis.lock().unwrap().insert(jti.into());
        Ok(())
    }
    async fn is_access_token_revoked(&self, jti: &str) -> Result<bool, StoreError> {
        Ok(self.revoked_jtis.lock().unwrap().contains(jti))
    }
}

impl ConsentStore for FakeStore {
    async fn find_consent(&self, _: &UserId, _: &ClientId) -> Result<Option<ScopeSet>, StoreError> {
        Ok(None)
    }
    async fn save_consent(
        &self,
        _: &UserId,
        _: &ClientId,
        _: &ScopeSet,
        _: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        Ok(())
    }
}

impl SessionStore for FakeStore {
    async fn insert_session(&self, _: &Session) -> Result<(), StoreError> {
        Ok(())
    }
    async fn find_session(&self, _: &SecretHash) -> Result<Option<Session>, StoreError> {
        Ok(None)
    }
    async fn delete_session(&self, _: &SecretHash) -> Result<(), StoreError> {
        Ok(())
    }
}

/// Every tenant exists and is enabled, except those in `disabled_tenants`.
impl crate::tenant::TenantStore for FakeStore {
    async fn find_tenant(
        &self,
        id: &TenantId,
    ) -> Result<Option<crate::tenant::Tenant>, StoreError> {
        let mut t = enabled_tenant(id);
        t.disabled = self.disabled_tenants.lock().unwrap().contains(id.as_str());
        Ok(Some(t))
    }
}

impl crate::apikey_auth::ApiKeyLookup for FakeStore {
    async fn find_api_key(&self, id: &str) -> Result<Option<ApiKey>, StoreError> {
        let keys = self.api_keys.lock().unwrap();
        Ok(keys
            .iter()
            .find(|(k, _)| k.id == id)
            .map(|(k, _)| k.clone()))
    }
}
