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

    /// One key-maintenance step at `self.now()`: the rotation scheduler, then a reload of the
    /// key ring. Run every few seconds by the server; tests call it after moving the clock.
    pub async fn run_key_scheduler(&self) -> Result<(), String> {
        let schedule = crate::keys::Schedule::from_settings(&self.settings);
        let scheduled = crate::keys::scheduler_tick(
            &self.store,
            &schedule,
            self.settings.master_key.as_ref(),
            self.now(),
        )
        .await;
        // Reload even when the scheduler failed, so keys rotated elsewhere are still picked up.
        let reloaded = self.keys.reload(&self.store, self.now()).await;
        scheduled.and(reloaded)
    }
}
