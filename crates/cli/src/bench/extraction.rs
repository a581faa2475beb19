//! Extraction speed in MB/s per core (CPU time of this thread), against a single line-scan pass
//! over the same text measured the same way; and how it scales: the seeds at 1×, 4× and 16×
//! their size, as written and with their line breaks removed (scraped pages often arrive as
//! one long line), where a linear extractor keeps its MB/s.

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

/// MB/s per core of `work` over `inputs`, repeated for about `budget` of CPU time, after one
/// untimed round: the steady rate, without the one-time set-up of the first call (the
/// extractor compiles its regexes and automata then, some 20 ms).
fn rate(
    inputs: &[(String, Vec<u8>)],
    budget: Duration,
    mut work: impl FnMut(&str, &[u8]) -> usize,
) -> f64 {
    let mut sink = 0usize;
    for (name, content) in inputs {
        sink = sink.wrapping_add(work(name, content));
    }
    let start = thread_cpu();
    let mut bytes = 0usize;
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

/// Extraction speed at one size, as written and as one long line.
pub struct Scaling {
    pub factor: usize,
    pub with_breaks_mb_s: f64,
    pub one_line_mb_s: f64,
}

impl Scaling {
    /// Time of the one-line text over time of the same bytes with their line breaks.
    pub fn one_line_time_ratio(&self) -> f64 {
        self.with_breaks_mb_s / self.one_line_mb_s.max(1e-9)
    }
}

/// The seeds repeated `factor` times each, with and without their line breaks.
pub fn scaling(inputs: &[(String, Vec<u8>)], budget: Duration) -> Vec<Scaling> {
    [1, 4, 16]
        .into_iter()
        .map(|factor| {
            let grown: Vec<(String, Vec<u8>)> = inputs
                .iter()
                .map(|(name, content)| (name.clone(), content.repeat(factor)))
                .collect();
            let one_line: Vec<(String, Vec<u8>)> = grown
                .iter()
                .map(|(name, content)| {
                    let flat = content
                        .iter()
                        .copied()
                        .filter(|b| !matches!(b, b'\n' | b'\r'))
                        .collect();
                    (name.clone(), flat)
                })
                .collect();
            let extract =
                |name: &str, content: &[u8]| duban_extract::extract(content, name).items.len();
            Scaling {
                factor,
                with_breaks_mb_s: rate(&grown, budget, extract),
                one_line_mb_s: rate(&one_line, budget, extract),
            }
        })
        .collect()
}

/// Time at 16× over time at 1× for the same kind of text: 16 for a linear extractor.
pub fn growth(first_mb_s: f64, last_mb_s: f64, factor: usize) -> f64 {
    factor as f64 * first_mb_s / last_mb_s.max(1e-9)
}
