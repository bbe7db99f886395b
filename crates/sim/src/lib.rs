//! The seeded fault simulation of one gateway, in the spirit of TigerBeetle's VOPR.
//!
//! One seed drives everything: the clock, the traffic (campaigns, consents through the API,
//! consumers' own replies), a disk that fails commits and tears the last unacknowledged write
//! in a crash ([`disk`]), a carrier that refuses hand-offs, keeps messages waiting, loses
//! answers in disconnects and delivers receipts late and twice ([`carrier`]), and restarts of
//! the gateway, orderly or `kill -9`, on the same SQLite file. The gateway is the real one on
//! the real SQLite backend: only the commit's outcome and the files after a crash are faked.
//! Single-threaded, so a seed replays exactly.
//!
//! Checked after every step against a reference model built from acknowledged calls only
//! ([`model`]):
//! - no marketing reaches a consumer (at hand-off or at the wire) against the ledger: after an
//!   acknowledged refusal, without consent, or inside quiet hours;
//! - no acknowledged consent event or message record is lost across restarts;
//! - no cap exceeded, per recipient and per sender per local day, both over the recorded
//!   decisions (SQL) and at hand-off;
//! - a message reaches a handset twice only within the in-flight window (it was handed off
//!   but the store had no durable record of the hand-off or of the carrier's id at the restart);
//! - no message recorded delivered that no handset got;
//! - the audit chain verifies, and still holds the last head taken while every write was
//!   acknowledged.
//!
//! ```no_run
//! let outcome = sim::run(42, &sim::Options::default());
//! assert!(outcome.violation.is_none(), "{}", outcome.report());
//! ```

mod carrier;
mod disk;
mod model;
mod world;

pub use model::Counts;

use std::path::PathBuf;
use std::time::{Duration, Instant};

/// How big a world each seed builds.
#[derive(Debug, Clone)]
pub struct Options {
    /// Steps per seed.
    pub steps: usize,
    /// Distinct phone numbers.
    pub phones: u64,
    /// Registered shops.
    pub senders: usize,
    /// The audit chain is verified from its start after every `audit_every` steps (1: every
    /// step), after every restart and at the end. It recomputes every digest, the costliest
    /// check by far; the other invariants run after every step regardless.
    pub audit_every: usize,
    /// Where the per-seed data directories go: by default `/dev/shm` where it exists (a RAM
    /// disk: `fsync` costs nothing there, and the crash emulation copies the files rather than
    /// relying on what was synced), else the system's temporary directory.
    pub dir: Option<PathBuf>,
    /// Seeds run at once by [`run_many`] (each seed is its own world, so they share nothing);
    /// by default one per core.
    pub threads: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            steps: 400,
            phones: 8,
            senders: 4,
            audit_every: 1,
            dir: Some(PathBuf::from("/dev/shm")).filter(|d| d.is_dir()),
            threads: std::thread::available_parallelism().map_or(1, std::num::NonZero::get),
        }
    }
}

/// The first invariant a seed broke.
#[derive(Debug, Clone)]
pub struct Violation {
    /// The step after which it was found (0-based).
    pub step: usize,
    /// What broke.
    pub what: String,
}

/// What one seed did.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// The seed.
    pub seed: u64,
    /// Steps run.
    pub steps: usize,
    /// The first violation, if any.
    pub violation: Option<Violation>,
    /// Crashes (`kill -9`).
    pub crashes: u64,
    /// Crashes that cut the log inside an unacknowledged write.
    pub torn: u64,
    /// Orderly restarts.
    pub restarts: u64,
    /// Injected write failures.
    pub write_failures: u64,
    /// Injected fsync failures.
    pub fsync_failures: u64,
    /// What the traffic and the carrier did.
    pub counts: Counts,
}

impl Outcome {
    /// One line: the seed, and its violation or what it exercised.
    #[must_use]
    pub fn report(&self) -> String {
        match &self.violation {
            Some(v) => format!(
                "seed {} FAILED at step {}: {}\nreproduce: consentry sim --seed {} --steps {}",
                self.seed, v.step, v.what, self.seed, self.steps
            ),
            None => format!(
                "seed {} ok: {} steps, {} crashes ({} torn), {} restarts, {} write and {} fsync failures, {:?}",
                self.seed,
                self.steps,
                self.crashes,
                self.torn,
                self.restarts,
                self.write_failures,
                self.fsync_failures,
                self.counts
            ),
        }
    }
}

/// Runs one seed. A panic inside the gateway (a failed `debug_assert!`, say) is a violation too.
#[must_use]
pub fn run(seed: u64, opts: &Options) -> Outcome {
    let result =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            match world::World::new(seed, opts) {
                Ok(w) => w.run(),
                Err(what) => Outcome {
                    seed,
                    violation: Some(Violation { step: 0, what }),
                    ..Outcome::default()
                },
            }
        }));
    result.unwrap_or_else(|panic| {
        let what = panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_string()))
            .unwrap_or_else(|| "a panic".into());
        Outcome {
            seed,
            violation: Some(Violation {
                step: 0,
                what: format!("panicked: {what}"),
            }),
            ..Outcome::default()
        }
    })
}

/// What a run of many seeds found.
#[derive(Debug, Clone)]
pub struct Summary {
    /// Seeds run.
    pub seeds: u64,
    /// How long they took.
    pub elapsed: Duration,
    /// The first failing seed's outcome, if one failed (the run stops there).
    pub failed: Option<Outcome>,
    /// Totals over the seeds run.
    pub crashes: u64,
    /// Torn writes over the seeds run.
    pub torn: u64,
    /// Marketing that reached a handset over the seeds run.
    pub marketing_received: u64,
    /// Duplicates within the in-flight window over the seeds run.
    pub duplicates: u64,
}

impl Summary {
    /// Seeds per minute.
    #[must_use]
    pub fn per_minute(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 {
            self.seeds as f64 * 60.0 / secs
        } else {
            0.0
        }
    }
}

/// Runs `count` seeds from `first` on [`Options::threads`] threads, stopping at the first that
/// fails; `each` sees every outcome (in the order they finish). Seeds are handed out in order,
/// so every seed below a failing one runs to its end, and the failure reported is the lowest
/// failing seed: the same one a run on one thread would report.
pub fn run_many(
    first: u64,
    count: u64,
    opts: &Options,
    each: impl FnMut(&Outcome) + Send,
) -> Summary {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicU64, Ordering};

    let started = Instant::now();
    let end = first.saturating_add(count);
    let next = AtomicU64::new(first);
    let lowest_failure = AtomicU64::new(u64::MAX);
    let shared = Mutex::new((
        Summary {
            seeds: 0,
            elapsed: Duration::ZERO,
            failed: None,
            crashes: 0,
            torn: 0,
            marketing_received: 0,
            duplicates: 0,
        },
        each,
    ));
    let threads = opts
        .threads
        .clamp(1, usize::try_from(count.max(1)).unwrap_or(usize::MAX));
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                loop {
                    let seed = next.fetch_add(1, Ordering::Relaxed);
                    if seed >= end || seed > lowest_failure.load(Ordering::Relaxed) {
                        return;
                    }
                    let o = run(seed, opts);
                    let Ok(mut g) = shared.lock() else { return };
                    let (s, each) = &mut *g;
                    s.seeds += 1;
                    s.crashes += o.crashes;
                    s.torn += o.torn;
                    s.marketing_received += o.counts.marketing_received;
                    s.duplicates += o.counts.duplicates;
                    each(&o);
                    if o.violation.is_some() {
                        lowest_failure.fetch_min(seed, Ordering::Relaxed);
                        if s.failed.as_ref().is_none_or(|f| seed < f.seed) {
                            s.failed = Some(o);
                        }
                    }
                }
            });
        }
    });
    let (mut s, _) = shared
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    s.elapsed = started.elapsed();
    s
}
