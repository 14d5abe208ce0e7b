//! The state shared by all workers: storage, the key ring, settings and the clock.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use gatehouse_core::policy::Policy;
use gatehouse_core::ports::Clock;
use gatehouse_store::Store;

use crate::keys::KeyCache;
use crate::settings::Settings;

pub struct AppState {
    pub store: Store,
    pub keys: Arc<KeyCache>,
    pub policy: Policy,
    pub settings: Settings,
    pub clock: Arc<dyn Clock>,
}

impl AppState {
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }
}
