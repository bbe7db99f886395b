//! The simulation in CI: a few hundred seeds, each a short run with faults, crashes and
//! restarts; the first failing seed is printed with the command that reproduces it.
//! `SIM_SEEDS=N` runs more, `SIM_SEED=S` one; `SIM_STEPS=K` changes the steps per seed.

fn env(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

#[test]
fn no_seed_breaks_an_invariant_under_storage_and_carrier_faults_and_restarts() {
    let mut opts = sim::Options {
        steps: 50,
        audit_every: 10,
        ..sim::Options::default()
    };
    if let Some(k) = env("SIM_STEPS") {
        opts.steps = usize::try_from(k).unwrap_or(opts.steps);
    }
    let (first, count) = match env("SIM_SEED") {
        Some(s) => (s, 1),
        None => (1, env("SIM_SEEDS").unwrap_or(300)),
    };
    let summary = sim::run_many(first, count, &opts, |_| {});
    if let Some(o) = &summary.failed {
        panic!("{}", o.report());
    }
    println!(
        "{} seeds in {:.1} s ({:.0}/min): {} crashes, {} torn writes, {} marketing received, {} duplicates in the in-flight window",
        summary.seeds,
        summary.elapsed.as_secs_f64(),
        summary.per_minute(),
        summary.crashes,
        summary.torn,
        summary.marketing_received,
        summary.duplicates
    );
    // The faults must happen for the run to prove anything.
    if count >= 50 {
        assert!(summary.crashes > 0 && summary.torn > 0 && summary.duplicates > 0);
        assert!(summary.marketing_received > 100);
    }
}

/// Seeds that once broke an invariant, at the length that broke them (seed, steps).
/// 65 × 400: a marketing message withdrawn at the wire after an opt-out still counted against
/// its day's caps in the model, so the shop's next message, after consent was given again,
/// read as a third that day.
const ONCE_FAILED: &[(u64, usize)] = &[(65, 400)];

/// The seeds of [`ONCE_FAILED`] pass, kept as regressions.
#[test]
fn seeds_that_once_failed_pass() {
    for &(seed, steps) in ONCE_FAILED {
        let opts = sim::Options {
            steps,
            audit_every: 50,
            ..sim::Options::default()
        };
        let outcome = sim::run(seed, &opts);
        assert!(outcome.violation.is_none(), "{}", outcome.report());
    }
}
