//! The bounded password-hashing pool (Argon2id, RFC 9106): sign-ins and password changes hash
//! here, never on the async workers and never more at once than the pool has slots.
//!
//! Each Argon2id computation needs 19 MiB of working memory and tens of milliseconds of CPU.
//! Unbounded, a few dozen concurrent sign-ins (or a flood of wrong ones) take the process to
//! hundreds of MiB. So:
//! - `slots` computations run at once (default: one per core); each slot owns its working
//!   memory ([`HashMemory`]), allocated on first use and then reused for every hash, so the
//!   resident size stays flat instead of creeping up with every freed 19 MiB buffer;
//! - up to `queue` more requests wait, each at most `max_queue_wait`;
//! - beyond that the caller gets [`Busy`] at once (the pages answer 503 with `Retry-After`).
//!
//! Slots run on tokio's blocking threads; the pool's permits bound how many are busy hashing.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use gatehouse_core::password::{self, HashMemory};
use gatehouse_core::signin::{Overloaded, PasswordCheck};
use tokio::sync::Semaphore;

/// Every slot is busy and the queue is full (or the wait ran out).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("password hashing is at capacity; retry in {retry_after} s")]
pub struct Busy {
    pub retry_after: u64,
}

/// A failure to hash a new password.
#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error(transparent)]
    Busy(#[from] Busy),
    #[error(transparent)]
    Password(#[from] password::PasswordError),
    #[error("the hashing thread failed")]
    Thread,
}

/// The pool's shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolSize {
    pub slots: usize,
    pub queue: usize,
    pub max_queue_wait: Duration,
}

pub struct HashPool {
    /// One permit per slot: held while hashing.
    running: Arc<Semaphore>,
    /// Slots plus queue: held from arrival to completion; none left means busy at once.
    admitted: Arc<Semaphore>,
    /// The slots' working memories (`None` until first used). A running job takes one out and
    /// puts it back; there is always one free for each free permit.
    memories: Arc<Mutex<Vec<Option<HashMemory>>>>,
    max_queue_wait: Duration,
}

/// Puts a slot's memory back even if the job panics.
struct Lease {
    memory: Option<HashMemory>,
    home: Arc<Mutex<Vec<Option<HashMemory>>>>,
}

impl Drop for Lease {
    fn drop(&mut self) {
        if let Ok(mut m) = self.home.lock() {
            m.push(self.memory.take());
        }
    }
}

impl HashPool {
    pub fn new(size: PoolSize) -> Self {
        let slots = size.slots.max(1);
        Self {
            running: Arc::new(Semaphore::new(slots)),
            admitted: Arc::new(Semaphore::new(slots + size.queue)),
            memories: Arc::new(Mutex::new((0..slots).map(|_| None).collect())),
            max_queue_wait: size.max_queue_wait,
        }
    }

    fn busy(&self) -> Busy {
        Busy {
            retry_after: self.max_queue_wait.as_secs().max(1),
        }
    }

    /// Runs `job` with a slot's memory, waiting for a slot at most `max_queue_wait`.
    async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce(&mut HashMemory) -> T + Send + 'static,
    ) -> Result<Result<T, HashError>, Busy> {
        let admitted = self
            .admitted
            .clone()
            .try_acquire_owned()
            .map_err(|_| self.busy())?;
        let permit =
            tokio::time::timeout(self.max_queue_wait, self.running.clone().acquire_owned())
                .await
                .map_err(|_| self.busy())?
                .map_err(|_| self.busy())?;
        let home = self.memories.clone();
        let done = tokio::task::spawn_blocking(move || {
            let _held = (admitted, permit);
            let memory = home.lock().ok().and_then(|mut m| m.pop()).flatten();
            let mut lease = Lease {
                memory: Some(memory.unwrap_or_default()),
                home,
            };
            lease.memory.as_mut().map(job)
        })
        .await;
        Ok(done.ok().flatten().ok_or(HashError::Thread))
    }

    /// Verifies `password` against the stored PHC string `phc`. A malformed stored hash is
    /// logged and verifies nothing.
    pub async fn verify(&self, password: &str, phc: &str) -> Result<bool, Busy> {
        let (pw, phc) = (password.to_owned(), phc.to_owned());
        let outcome = self
            .run(move |m| password::verify_password_with(&pw, &phc, m))
            .await?;
        match outcome {
            Ok(Ok(ok)) => Ok(ok),
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "a stored password hash cannot be verified");
                Ok(false)
            }
            Err(e) => {
                tracing::error!(error = %e, "password verification failed");
                Ok(false)
            }
        }
    }

    /// Hashes a new password (Argon2id, default parameters) into a PHC string.
    pub async fn hash(&self, password: &str) -> Result<String, HashError> {
        let pw = password.to_owned();
        let hashed = self
            .run(move |m| password::hash_password_with(&pw, m))
            .await?;
        Ok(hashed??)
    }
}

/// New passwords of operator actions (user creation, password resets through the admin API
/// and the console) are hashed in the same bounded pool as sign-ins.
impl gatehouse_admin::PasswordHasher for HashPool {
    async fn hash(&self, password: &str) -> Result<String, gatehouse_admin::OpError> {
        HashPool::hash(self, password).await.map_err(|e| match e {
            HashError::Busy(b) => gatehouse_admin::OpError::Busy(b.retry_after),
            e => gatehouse_admin::OpError::Storage(e.to_string()),
        })
    }
}

impl PasswordCheck for HashPool {
    async fn verify(&self, password: &str, phc: &str) -> Result<bool, Overloaded> {
        HashPool::verify(self, password, phc)
            .await
            .map_err(|b| Overloaded {
                retry_after: b.retry_after,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool(slots: usize, queue: usize, wait_ms: u64) -> Arc<HashPool> {
        Arc::new(HashPool::new(PoolSize {
            slots,
            queue,
            max_queue_wait: Duration::from_millis(wait_ms),
        }))
    }

    #[tokio::test]
    async fn hashes_and_verifies_with_reused_memory() {
        let p = pool(1, 0, 1000);
        let phc = p.hash("s3cret").await.unwrap();
        assert!(p.verify("s3cret", &phc).await.unwrap());
        assert!(!p.verify("s3cre7", &phc).await.unwrap());
        assert!(!p.verify("s3cret", "garbage").await.unwrap());
        let memories = p.memories.lock().unwrap();
        assert_eq!(memories.len(), 1, "the one slot's memory is back home");
        assert_eq!(memories[0].as_ref().map(HashMemory::kib), Some(19 * 1024));
    }

    #[tokio::test]
    async fn beyond_the_slots_and_the_queue_callers_are_turned_away_at_once() {
        let p = pool(1, 1, 60_000);
        let phc = password::dummy_hash().to_owned();
        let mut tasks = Vec::new();
        for _ in 0..6 {
            let (p, phc) = (p.clone(), phc.clone());
            tasks.push(tokio::spawn(async move { p.verify("x", &phc).await }));
        }
        let mut busy = 0;
        for t in tasks {
            match t.await.unwrap() {
                Ok(verified) => assert!(!verified),
                Err(b) => {
                    assert_eq!(b.retry_after, 60);
                    busy += 1;
                }
            }
        }
        assert!(
            busy >= 4,
            "only one running and one queued may proceed: {busy} busy"
        );
    }
}
