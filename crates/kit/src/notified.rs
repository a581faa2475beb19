//! A per-replica cache of rows that rarely change, kept current by Postgres notifications.
//!
//! Triggers `NOTIFY` a channel when a change commits; every replica listens and forgets what
//! the notification names (or everything, when the payload names nothing it knows). While the
//! listener is not connected (start-up, a lost connection) the cache is bypassed and emptied,
//! because notifications sent meanwhile are lost. A read that overlaps an invalidation does
//! not fill the cache with what it read.

use std::{
    hash::Hash,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::Duration,
};

use quick_cache::sync::Cache;
use sqlx::{PgPool, postgres::PgListener};
use tokio_util::sync::CancellationToken;

pub struct NotifiedCache<K, V> {
    /// The notification channel, also the cache's name in logs.
    channel: &'static str,
    entries: Option<Cache<K, V>>,
    /// Bumped by every invalidation: a read that began before it must not fill the cache with
    /// what it read.
    generation: AtomicU64,
    /// Whether the listener is connected, so that a change cannot go unnoticed.
    live: AtomicBool,
}

impl<K, V> NotifiedCache<K, V>
where
    K: Eq + Hash + Clone,
    V: Clone,
{
    /// A cache of at most `capacity` entries invalidated through `channel`; 0 turns caching
    /// off.
    pub fn new(channel: &'static str, capacity: usize) -> Self {
        Self {
            channel,
            entries: (capacity > 0).then(|| Cache::new(capacity)),
            generation: AtomicU64::new(0),
            live: AtomicBool::new(false),
        }
    }

    pub fn get(&self, key: &K) -> Option<V> {
        if !self.live.load(Ordering::Acquire) {
            return None;
        }
        self.entries.as_ref()?.get(key)
    }

    /// Taken before reading from the source, handed to [`NotifiedCache::fill`] after.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Caches `value`, read after [`NotifiedCache::generation`] returned `since`, unless
    /// something changed in between.
    pub fn fill(&self, since: u64, key: K, value: V) {
        let Some(entries) = &self.entries else {
            return;
        };
        if !self.live.load(Ordering::Acquire) || self.generation() != since {
            return;
        }
        entries.insert(key.clone(), value);
        // An invalidation between the check and the insert would be undone by the insert.
        if self.generation() != since {
            entries.remove(&key);
        }
    }

    pub fn invalidate(&self, key: &K) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        if let Some(entries) = &self.entries {
            entries.remove(key);
        }
    }

    /// Forgets everything; from now on caches (`live`) or not.
    fn reset(&self, live: bool) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.live.store(live, Ordering::Release);
        if let Some(entries) = &self.entries {
            entries.clear();
        }
    }

    /// Applies notifications until `shutdown`, reconnecting after a lost connection. `key_of`
    /// reads a payload; a payload it cannot read empties the cache.
    pub async fn follow(
        self: Arc<Self>,
        pool: PgPool,
        shutdown: CancellationToken,
        key_of: impl Fn(&str) -> Option<K>,
    ) {
        if self.entries.is_none() {
            return;
        }
        let channel = self.channel;
        loop {
            let listener = async {
                let mut listener = PgListener::connect_with(&pool).await?;
                listener.listen(channel).await?;
                Ok::<_, sqlx::Error>(listener)
            };
            let mut listener = tokio::select! {
                () = shutdown.cancelled() => return,
                listener = listener => match listener {
                    Ok(listener) => listener,
                    Err(err) => {
                        tracing::warn!(error = %err, channel, "cache: listening for changes failed; reading from the source meanwhile");
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
                    Ok(Some(notification)) => match key_of(notification.payload()) {
                        Some(key) => self.invalidate(&key),
                        None => self.reset(true),
                    },
                    // The connection was lost: whatever changed meanwhile went unannounced.
                    Ok(None) | Err(_) => {
                        self.reset(false);
                        tracing::warn!(
                            channel,
                            "cache: the change listener lost its connection; reconnecting"
                        );
                        break;
                    }
                }
            }
        }
    }
}
