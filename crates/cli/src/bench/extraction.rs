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

/// A workload's speed in MB/s per core: over all its rounds, and in its fastest round.
#[derive(Debug, Clone, Copy)]
pub struct Rate {
    pub mean: f64,
    /// The round least slowed by the machine: this machine's per-core speed swings by half
    /// with what runs on the other hyperthread of its core (BENCHMARKS.md, the ninth session),
    /// and the fastest of many rounds is what the code costs on a quiet core (the figure
    /// Python's `timeit` reports, for the same reason). Extraction's bar is judged on it.
    pub fastest: f64,
}

/// What one workload's rounds added up to.
#[derive(Default)]
struct Tally {
    bytes: usize,
    cpu: Duration,
    fastest: f64,
}

impl Tally {
    fn add(&mut self, bytes: usize, cpu: Duration) {
        self.bytes += bytes;
        self.cpu += cpu;
        self.fastest = self.fastest.max(mb_s(bytes, cpu));
    }

    fn rate(&self) -> Rate {
        Rate {
            mean: mb_s(self.bytes, self.cpu),
            fastest: self.fastest,
        }
    }
}

fn mb_s(bytes: usize, cpu: Duration) -> f64 {
    bytes as f64 / 1e6 / cpu.as_secs_f64().max(1e-9)
}

/// The speed of two workloads, measured in turns, a round of each, until each has had about
/// `budget` of CPU time or the pair twice that; after one untimed round of each (the
/// extractor compiles its regexes and automata on its first call, some 20 ms). This machine's
/// speed swings by a third within minutes, and two figures measured one after the other can
/// fall on either side of a swing; taken in turns they see the same machine, and their ratio
/// holds steady.
fn rates<A, B>(a: &mut Workload<'_, A>, b: &mut Workload<'_, B>, budget: Duration) -> (Rate, Rate)
where
    A: FnMut(&str, &[u8]) -> usize,
    B: FnMut(&str, &[u8]) -> usize,
{
    let mut sink = 0usize;
    a.round(&mut sink);
    b.round(&mut sink);
    let (mut at, mut bt) = (Tally::default(), Tally::default());
    while (at.cpu < budget || bt.cpu < budget) && at.cpu + bt.cpu < budget * 2 {
        let t = thread_cpu();
        let a_bytes = a.round(&mut sink);
        let u = thread_cpu();
        let b_bytes = b.round(&mut sink);
        let v = thread_cpu();
        at.add(a_bytes, u.saturating_sub(t));
        bt.add(b_bytes, v.saturating_sub(u));
    }
    std::hint::black_box(sink);
    (at.rate(), bt.rate())
}

pub struct Figures {
    pub extract: Rate,
    pub line_scan: Rate,
}

impl Figures {
    /// Line-scan time over extraction time for the same bytes, in the same run.
    pub fn ratio(&self) -> f64 {
        self.line_scan.mean / self.extract.mean.max(1e-9)
    }
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
    let (line_scan, extract) = rates(&mut scan, &mut extract, budget);
    Figures { extract, line_scan }
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
            let (with_breaks, one_line) = rates(
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
                with_breaks_mb_s: with_breaks.mean,
                one_line_mb_s: one_line.mean,
            }
        })
        .collect()
}

/// Time at 16× over time at 1× for the same kind of text: 16 for a linear extractor.
pub fn growth(first_mb_s: f64, last_mb_s: f64, factor: usize) -> f64 {
    factor as f64 * first_mb_s / last_mb_s.max(1e-9)
}
