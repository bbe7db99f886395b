//! Single-thread throughput of `Model::classify` (whole text) and `Model::read` (the clause
//! reading the send path and the CLI use), passes alternated so both see the same machine
//! load (no training, no baseline): the quick loop for profiling the hot path.
//!
//! `cargo run -p classify --release --example throughput -- [rounds] [MODEL.bin]`

use classify::Model;
use classify::datasets::{Source, load, shared_data_dir};
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let rounds: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let Some(dir) = shared_data_dir() else {
        eprintln!("shared data not found: nothing to time");
        return Ok(());
    };
    let mut messages = Vec::new();
    for s in Source::ALL {
        messages.extend(load(&dir, s)?);
    }
    let model = match std::env::args().nth(2) {
        Some(path) => Model::load(path)?,
        None => Model::default_model()?,
    };
    let mut best = [0f64; 2];
    for _ in 0..rounds {
        for (which, slot) in best.iter_mut().enumerate() {
            let t = Instant::now();
            let mut sink = 0usize;
            for m in &messages {
                sink = sink.wrapping_add(if which == 0 {
                    model.classify(&m.text).category.len()
                } else {
                    model.read(&m.text).category.len()
                });
            }
            std::hint::black_box(sink);
            #[allow(clippy::cast_precision_loss)]
            let rate = messages.len() as f64 / t.elapsed().as_secs_f64();
            *slot = slot.max(rate);
        }
    }
    println!(
        "best over {rounds} alternated passes of {} messages: classify {:.0} msg/s, read {:.0} msg/s",
        messages.len(),
        best[0],
        best[1]
    );
    Ok(())
}
