//! Extraction speed in MB/s per core (CPU time of this thread), against a single line-scan pass
//! over the same text measured in turns with it; and how it scales: the seeds at 1×, 4× and 16×
//! their size, as written and with their line breaks removed (scraped pages often arrive as
//! one long line), where a linear extractor keeps its MB/s.

use std::time::Duration;

use nix::time::{ClockId, clock_gettime};

/// This thread's time on CPU, to the nanosecond: a round of the line scan takes a fraction of
/// a millisecond, finer than the scheduler's accounting that `getrusage` reports.
fn thread_cpu() -> Duration {
    clock_gettime(ClockId::CLOCK_THREAD_CPUTIME_ID)
        .map(Duration::from)
        .unwrap_or_default()
}

/// Work to measure: the inputs it runs over, a round at a time.
struct Workload<'a, F: FnMut(&str, &[u8]) -> usize> {
    inputs: &'a [(String, Vec<u8>)],
    work: F,
}

impl<F: FnMut(&str, &[u8]) -> usize> Workload<'_, F> {
    /// One round over every input: the bytes read.
    fn round(&mut self, sink: &mut usize) -> usize {
        let mut bytes = 0;
        for (name, content) in self.inputs {
            *sink = sink.wrapping_add((self.work)(name, content));
            bytes += content.len();
        }
        bytes
    }
}

/// MB/s per core of two workloads, measured in turns, a round of each, until each has had
/// about `budget` of CPU time or the pair twice that; after one untimed round of each (the
/// extractor compiles its regexes and automata on its first call, some 20 ms). This machine's
/// speed swings by a third within minutes, and two figures measured one after the other can
/// fall on either side of a swing; taken in turns they see the same machine, and their ratio
/// holds steady.
fn rates<A, B>(a: &mut Workload<'_, A>, b: &mut Workload<'_, B>, budget: Duration) -> (f64, f64)
where
    A: FnMut(&str, &[u8]) -> usize,
    B: FnMut(&str, &[u8]) -> usize,
{
    let mut sink = 0usize;
    a.round(&mut sink);
    b.round(&mut sink);
    let (mut a_bytes, mut b_bytes) = (0usize, 0usize);
    let (mut a_cpu, mut b_cpu) = (Duration::ZERO, Duration::ZERO);
    while (a_cpu < budget || b_cpu < budget) && a_cpu + b_cpu < budget * 2 {
        let t = thread_cpu();
        a_bytes += a.round(&mut sink);
        let u = thread_cpu();
        b_bytes += b.round(&mut sink);
        a_cpu += u.saturating_sub(t);
        b_cpu += thread_cpu().saturating_sub(u);
    }
    std::hint::black_box(sink);
    let mb_s = |bytes: usize, cpu: Duration| bytes as f64 / 1e6 / cpu.as_secs_f64().max(1e-9);
    (mb_s(a_bytes, a_cpu), mb_s(b_bytes, b_cpu))
}

pub struct Figures {
    pub extract_mb_s: f64,
    pub line_scan_mb_s: f64,
}

/// Runs on the calling thread: call it from a blocking task.
pub fn measure(inputs: &[(String, Vec<u8>)], budget: Duration) -> Figures {
    let mut scan = Workload {
        inputs,
        work: |_: &str, content: &[u8]| {
            content
                .split(|b| *b == b'\n')
                .filter(|line| !line.is_empty())
                .count()
        },
    };
    let mut extract = Workload {
        inputs,
        work: |name: &str, content: &[u8]| duban_extract::extract(content, name).items.len(),
    };
    let (line_scan_mb_s, extract_mb_s) = rates(&mut scan, &mut extract, budget);
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
            let (with_breaks_mb_s, one_line_mb_s) = rates(
                &mut Workload {
                    inputs: &grown,
                    work: extract,
                },
                &mut Workload {
                    inputs: &one_line,
                    work: extract,
                },
                budget,
            );
            Scaling {
                factor,
                with_breaks_mb_s,
                one_line_mb_s,
            }
        })
        .collect()
}

/// Time at 16× over time at 1× for the same kind of text: 16 for a linear extractor.
pub fn growth(first_mb_s: f64, last_mb_s: f64, factor: usize) -> f64 {
    factor as f64 * first_mb_s / last_mb_s.max(1e-9)
}
