//! Extraction speed in MB/s per core (CPU time of this thread), against a single line-scan pass
//! over the same text measured the same way.

use std::time::Duration;

use nix::sys::resource::{UsageWho, getrusage};

fn thread_cpu() -> Duration {
    getrusage(UsageWho::RUSAGE_THREAD)
        .map(|u| {
            let (user, system) = (u.user_time(), u.system_time());
            Duration::new(
                u64::try_from(user.tv_sec() + system.tv_sec()).unwrap_or(0),
                0,
            ) + Duration::from_micros(u64::try_from(user.tv_usec() + system.tv_usec()).unwrap_or(0))
        })
        .unwrap_or_default()
}

/// MB/s per core of `work` over `inputs`, repeated for about `budget` of CPU time.
fn rate(
    inputs: &[(String, Vec<u8>)],
    budget: Duration,
    mut work: impl FnMut(&str, &[u8]) -> usize,
) -> f64 {
    let start = thread_cpu();
    let mut bytes = 0usize;
    let mut sink = 0usize;
    while thread_cpu() - start < budget {
        for (name, content) in inputs {
            sink = sink.wrapping_add(work(name, content));
            bytes += content.len();
        }
    }
    std::hint::black_box(sink);
    let seconds = (thread_cpu() - start).as_secs_f64().max(1e-9);
    bytes as f64 / 1e6 / seconds
}

pub struct Figures {
    pub extract_mb_s: f64,
    pub line_scan_mb_s: f64,
}

/// Runs on the calling thread: call it from a blocking task.
pub fn measure(inputs: &[(String, Vec<u8>)], budget: Duration) -> Figures {
    let line_scan_mb_s = rate(inputs, budget, |_, content| {
        content
            .split(|b| *b == b'\n')
            .filter(|line| !line.is_empty())
            .count()
    });
    let extract_mb_s = rate(inputs, budget, |name, content| {
        duban_extract::extract(content, name).items.len()
    });
    Figures {
        extract_mb_s,
        line_scan_mb_s,
    }
}
