//! A closed-loop load driver: `concurrency` callers, each issuing the next call as soon as the
//! last returns, for a fixed time.

use std::{future::Future, sync::Arc, time::Duration};

use tokio::time::Instant;

/// What one load run measured.
#[derive(Clone, Debug)]
pub struct Stats {
    pub requests: usize,
    pub errors: usize,
    pub per_second: f64,
    pub p50: Duration,
    pub p99: Duration,
}

impl Stats {
    pub fn summary(&self) -> String {
        format!(
            "{:>9.0} req/s  p50 {:>7.2} ms  p99 {:>7.2} ms  ({} calls, {} errors)",
            self.per_second,
            self.p50.as_secs_f64() * 1e3,
            self.p99.as_secs_f64() * 1e3,
            self.requests,
            self.errors
        )
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

/// Runs `call(worker, n)` from `concurrency` workers for `duration`; an `Err` counts as an error.
pub async fn drive<F, Fut>(concurrency: usize, duration: Duration, call: F) -> Stats
where
    F: Fn(usize, usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), String>> + Send,
{
    let call = Arc::new(call);
    let start = Instant::now();
    let deadline = start + duration;
    let workers: Vec<_> = (0..concurrency)
        .map(|worker| {
            let call = call.clone();
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut errors = 0;
                let mut n = 0;
                while Instant::now() < deadline {
                    let began = Instant::now();
                    if call(worker, n).await.is_err() {
                        errors += 1;
                    }
                    latencies.push(began.elapsed());
                    n += 1;
                }
                (latencies, errors)
            })
        })
        .collect();
    let mut latencies = Vec::new();
    let mut errors = 0;
    for worker in workers {
        if let Ok((l, e)) = worker.await {
            latencies.extend(l);
            errors += e;
        }
    }
    let elapsed = start.elapsed().as_secs_f64().max(1e-9);
    latencies.sort();
    Stats {
        requests: latencies.len(),
        errors,
        per_second: latencies.len() as f64 / elapsed,
        p50: percentile(&latencies, 0.50),
        p99: percentile(&latencies, 0.99),
    }
}
