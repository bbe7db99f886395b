//! `consentry bench classify` without the binary: throughput of the default model on all
//! public messages plus the corpus, and training time on them.
//!
//! `cargo run -p classify --release --example bench -- [rounds]`

use classify::datasets::{Source, load, shared_data_dir};
use classify::{Model, TrainConfig, bench};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let rounds = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    let Some(dir) = shared_data_dir() else {
        eprintln!(
            "shared data not found (../shared/data/sms or $CONSENTRY_DATA_DIR): nothing to time"
        );
        return Ok(());
    };
    let mut messages = Vec::new();
    for s in Source::ALL {
        messages.extend(load(&dir, s)?);
    }
    let model = Model::default_model()?;
    print!(
        "{}",
        bench(&model, &messages, rounds, Some(&TrainConfig::default()))
    );
    Ok(())
}
