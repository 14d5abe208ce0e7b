//! [`TokenHarness`]: the token endpoint's entry run over the fakes, and its registered clients.

use super::*;

/// The token endpoint's entry over the fakes: a store, a fixed policy and rules.
pub struct TokenHarness {
    pub store: FakeStore,
    pub policy: Policy,
    pub rules: AssertionRules,
    pub exchange: ExchangeRules,
}

impl Default for TokenHarness {
    fn default() -> Self {
        Self {
            store: FakeStore::default(),
            policy: Policy::new("https://issuer.example"),
            rules: AssertionRules {
                audiences: vec!["https://issuer.example".into()],
                max_lifetime: 300,
                skew: 60,
            },
            exchange: ExchangeRules {
                ttl: 300,
                default_alg: SigningAlg::RS256,
            },
        }
    }
}

impl TokenHarness {
    /// Registers `c` (confidential: with a fresh secret, for HTTP Basic).
    pub fn register(&self, mut c: Client) -> Registered {
        let secret = (!c.is_public()).then(Secret::generate);
        c.secret_hash = secret.as_ref().map(Secret::hash);
        if secret.is_some() {
            c.auth_method = AuthMethod::ClientSecretBasic;
        }
        let reg = Registered {
            id: c.id.to_string(),
            secret: secret.map(|s| s.expose().to_owned()),
        };
        self.store.add_client(c);
        reg
    }

    /// Runs one token request with form parameters `params`.
    pub async fn token(
        &self,
        creds: Option<ClientCredentials>,
        params: &[(&str, &str)],
        now: DateTime<Utc>,
    ) -> crate::token::TokenOutcome {
        let pairs = params
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let req = match crate::token::TokenRequest::parse(&Params::new(pairs).unwrap()) {
            Ok(r) => r,
            Err(e) => {
                return crate::token::TokenOutcome {
                    answer: Err(e.into()),
                    events: Vec::new(),
                };
            }
        };
        let ep = crate::token::TokenEndpoint {
            clients: &self.store,
            store: &self.store,
            signer: &FakeSigner,
            assertions: &TrustingVerifier,
            policy: &self.policy,
            assertion_rules: &self.rules,
            exchange_rules: self.exchange,
            now,
            client_ip: Some("192.0.2.7".parse().unwrap()),
            request_id: Some("req-1"),
            dpop: None,
        };
        crate::token::token(&ep, creds, req).await
    }
}

/// A registered client of a [`TokenHarness`].
pub struct Registered {
    pub id: String,
    pub secret: Option<String>,
}

impl Registered {
    /// What the client presents: HTTP Basic, or its `client_id` alone when public.
    pub fn creds(&self) -> Option<ClientCredentials> {
        let client_id = self.id.clone();
        Some(match &self.secret {
            Some(s) => ClientCredentials::Basic {
                client_id,
                secret: Secret::from_presented(s),
            },
            None => ClientCredentials::None { client_id },
        })
    }
}

/// The answer of a token request as JSON (the wire body), or its error code.
pub fn answer(o: &crate::token::TokenOutcome) -> Result<serde_json::Value, crate::ErrorCode> {
    match &o.answer {
        Ok(a) => Ok(serde_json::to_value(a).unwrap()),
        Err(e) => Err(e.to_oauth().code),
    }
}
