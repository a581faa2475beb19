//! Tasks as last read from the database, so that GetTask and ListTasks pages skip decoding
//! rows that have not changed. Task reads outnumber task changes by orders of magnitude (tasks
//! change when an admin edits one; reports and ledgers read them all day).
//!
//! Every replica keeps its own cache and listens on `duban_targets_task_changed`, which
//! triggers on `tasks` and `indicators` notify with the changed task's id when the change
//! commits. While the listener is not connected (start-up, a lost connection) the cache is
//! bypassed and emptied, because notifications sent meanwhile are lost.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::Duration,
};

use duban_proto::v1::Task;
use quick_cache::sync::Cache;
use sqlx::{PgPool, postgres::PgListener};
use tokio_util::sync::CancellationToken;

pub const CHANNEL: &str = "duban_targets_task_changed";

pub struct TaskCache {
    tasks: Option<Cache<i64, Arc<Task>>>,
    /// Bumped by every invalidation: a read that began before it must not fill the cache with
    /// what it read.
    generation: AtomicU64,
    /// Whether the listener is connected, so that a change cannot go unnoticed.
    live: AtomicBool,
}

impl TaskCache {
    /// A cache of at most `capacity` tasks; 0 turns caching off.
    pub fn new(capacity: usize) -> Self {
        Self {
            tasks: (capacity > 0).then(|| Cache::new(capacity)),
            generation: AtomicU64::new(0),
            live: AtomicBool::new(false),
        }
    }

    pub fn get(&self, id: i64) -> Option<Arc<Task>> {
        if !self.live.load(Ordering::Acquire) {
            return None;
        }
        self.tasks.as_ref()?.get(&id)
    }

    /// Taken before reading tasks from the database, handed to [`TaskCache::fill`] after.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Caches `task` (task id `id`), read from the database after [`TaskCache::generation`]
    /// returned `since`, unless something changed in between.
    pub fn fill(&self, since: u64, id: i64, task: &Task) {
        let Some(tasks) = &self.tasks else {
            return;
        };
        if !self.live.load(Ordering::Acquire) || self.generation() != since {
            return;
        }
        tasks.insert(id, Arc::new(task.clone()));
        // An invalidation between the check and the insert would be undone by the insert.
        if self.generation() != since {
            tasks.remove(&id);
        }
    }

    pub fn invalidate(&self, id: i64) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        if let Some(tasks) = &self.tasks {
            tasks.remove(&id);
        }
    }

    /// Forgets every task; from now on caches (`live`) or not.
    fn reset(&self, live: bool) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.live.store(live, Ordering::Release);
        if let Some(tasks) = &self.tasks {
            tasks.clear();
        }
    }

    /// Applies change notifications until `shutdown`, reconnecting after a lost connection.
    pub async fn follow(self: Arc<Self>, pool: PgPool, shutdown: CancellationToken) {
        if self.tasks.is_none() {
            return;
        }
        loop {
            let listener = async {
                let mut listener = PgListener::connect_with(&pool).await?;
                listener.listen(CHANNEL).await?;
                Ok::<_, sqlx::Error>(listener)
            };
            let mut listener = tokio::select! {
                () = shutdown.cancelled() => return,
                listener = listener => match listener {
                    Ok(listener) => listener,
                    Err(err) => {
                        tracing::warn!(error = %err, "task cache: listening for changes failed; reading from the database meanwhile");
                        tokio::select! {
                            () = shutdown.cancelled() => return,
                            () = tokio::time::sleep(Duration::from_secs(1)) => continue,
                        }
                    }
                },
            };
            self.reset(true);
            loop {
                let received = tokio::select! {
                    () = shutdown.cancelled() => {
                        self.reset(false);
                        return;
                    }
                    received = listener.try_recv() => received,
                };
                match received {
                    Ok(Some(notification)) => match notification.payload().parse() {
                        Ok(id) => self.invalidate(id),
                        // Not ours to read: forget everything rather than guess.
                        Err(_) => self.reset(true),
                    },
                    // The connection was lost: whatever changed meanwhile went unannounced.
                    Ok(None) | Err(_) => {
                        self.reset(false);
                        tracing::warn!(
                            "task cache: the change listener lost its connection; reconnecting"
                        );
                        break;
                    }
                }
            }
        }
    }
}
