//! Password sign-in: `[login_throttle]`, `[password_hashing]`, and the retired
//! `[rate_limits]` login keys.

use serde::{Deserialize, Serialize};

/// `[rate_limits]`: formerly per-minute limits on every login attempt. The keys are kept only
/// so that a configuration still using them fails to load with a message naming what
/// replaced them, instead of silently losing its limits.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimitSettings {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub login_attempts_per_ip_per_minute: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub login_attempts_per_user_per_minute: Option<u32>,
}

impl RateLimitSettings {
    pub(super) fn check_retired(&self) -> Result<(), String> {
        let retired = [
            (
                "login_attempts_per_ip_per_minute",
                self.login_attempts_per_ip_per_minute,
                "login_throttle.address_free_failures and login_throttle.address_decay_seconds",
            ),
            (
                "login_attempts_per_user_per_minute",
                self.login_attempts_per_user_per_minute,
                "login_throttle.user_address_free_failures and login_throttle.user_address_decay_seconds",
            ),
        ];
        for (key, value, replacement) in retired {
            if value.is_some() {
                return Err(format!(
                    "rate_limits.{key} was removed: sign-ins are now throttled by failures only; \
                     use {replacement} instead (see docs/configuration.md)"
                ));
            }
        }
        Ok(())
    }
}

/// `[login_throttle]`: failed password sign-ins, counted per username at an address and per
/// address (`gatehouse_core::throttle`; defaults and reasoning in `docs/security.md`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LoginThrottleSettings {
    /// Failures for one username from one address before any wait.
    pub user_address_free_failures: u32,
    /// Seconds after which one such failure is forgotten.
    pub user_address_decay_seconds: u32,
    /// Failures from one address (any username) before any wait.
    pub address_free_failures: u32,
    /// Seconds after which one such failure is forgotten.
    pub address_decay_seconds: u32,
    /// The first wait; it doubles with each further failure.
    pub initial_wait_seconds: u32,
    /// The longest wait.
    pub max_wait_seconds: u32,
    /// Most keys kept in memory per node (the oldest-to-expire go first when full).
    pub max_tracked_keys: usize,
}

impl Default for LoginThrottleSettings {
    fn default() -> Self {
        let p = gatehouse_core::throttle::ThrottlePolicy::default();
        Self {
            user_address_free_failures: p.per_user_and_address.free_failures,
            user_address_decay_seconds: p.per_user_and_address.decay_seconds,
            address_free_failures: p.per_address.free_failures,
            address_decay_seconds: p.per_address.decay_seconds,
            initial_wait_seconds: p.initial_wait,
            max_wait_seconds: p.max_wait,
            max_tracked_keys: 100_000,
        }
    }
}

impl LoginThrottleSettings {
    /// The core policy.
    pub fn policy(&self) -> gatehouse_core::throttle::ThrottlePolicy {
        use gatehouse_core::throttle::{ThrottlePolicy, ThrottleRule};
        ThrottlePolicy {
            per_user_and_address: ThrottleRule {
                free_failures: self.user_address_free_failures,
                decay_seconds: self.user_address_decay_seconds,
            },
            per_address: ThrottleRule {
                free_failures: self.address_free_failures,
                decay_seconds: self.address_decay_seconds,
            },
            initial_wait: self.initial_wait_seconds,
            max_wait: self.max_wait_seconds,
        }
    }

    pub(super) fn check(&self) -> Result<(), String> {
        for (key, v) in [
            (
                "user_address_decay_seconds",
                self.user_address_decay_seconds,
            ),
            ("address_decay_seconds", self.address_decay_seconds),
        ] {
            if !(1..=86_400).contains(&v) {
                return Err(format!("login_throttle.{key} must be between 1 and 86400"));
            }
        }
        if !(1..=86_400).contains(&self.max_wait_seconds)
            || !(1..=self.max_wait_seconds).contains(&self.initial_wait_seconds)
        {
            return Err("login_throttle: 1 <= initial_wait_seconds <= max_wait_seconds <= 86400 is required".into());
        }
        if !(1_000..=10_000_000).contains(&self.max_tracked_keys) {
            return Err("login_throttle.max_tracked_keys must be between 1000 and 10000000".into());
        }
        Ok(())
    }
}

/// `[password_hashing]`: the bounded Argon2id pool of `crate::hash_pool`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PasswordHashingSettings {
    /// Hashes computed at once (each holds 19 MiB); 0 = one per CPU core.
    pub concurrency: usize,
    /// Sign-ins that may wait for a free slot; more are answered 503 at once.
    pub queue: usize,
    /// Longest wait for a slot, in milliseconds, before a 503.
    pub max_queue_wait_ms: u64,
}

impl Default for PasswordHashingSettings {
    fn default() -> Self {
        Self {
            concurrency: 0,
            queue: 32,
            max_queue_wait_ms: 2000,
        }
    }
}

impl PasswordHashingSettings {
    /// The pool's shape, with `concurrency = 0` resolved to the number of cores.
    pub fn pool_size(&self) -> crate::hash_pool::PoolSize {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        crate::hash_pool::PoolSize {
            slots: if self.concurrency == 0 {
                cores
            } else {
                self.concurrency
            },
            queue: self.queue,
            max_queue_wait: std::time::Duration::from_millis(self.max_queue_wait_ms),
        }
    }

    pub(super) fn check(&self) -> Result<(), String> {
        if self.concurrency > 256 {
            return Err(
                "password_hashing.concurrency must be at most 256 (each slot holds 19 MiB)".into(),
            );
        }
        if self.queue > 10_000 {
            return Err("password_hashing.queue must be at most 10000".into());
        }
        if !(1..=60_000).contains(&self.max_queue_wait_ms) {
            return Err("password_hashing.max_queue_wait_ms must be between 1 and 60000".into());
        }
        Ok(())
    }
}
