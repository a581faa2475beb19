//! Tasks as last read from the database, so that GetTask and ListTasks pages skip decoding
//! rows that have not changed. Task reads outnumber task changes by orders of magnitude (tasks
//! change when an admin edits one; reports and ledgers read them all day).
//!
//! Triggers on `tasks` and `indicators` notify `duban_targets_task_changed` with the changed
//! task's id when the change commits (migration 0003); every replica forgets that task.

use std::sync::Arc;

use duban_kit::notified::NotifiedCache;
use duban_proto::v1::Task;

const CHANNEL: &str = "duban_targets_task_changed";

/// Tasks by id.
pub type TaskCache = NotifiedCache<i64, Arc<Task>>;

/// A cache of at most `capacity` tasks; 0 turns caching off.
pub fn tasks(capacity: usize) -> TaskCache {
    NotifiedCache::new(CHANNEL, capacity)
}

/// The task a notification names.
pub fn task_of(payload: &str) -> Option<i64> {
    payload.parse().ok()
}
