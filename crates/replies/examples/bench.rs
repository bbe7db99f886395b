//! Prints single-core throughput and corpus precision/recall:
//! `cargo run -p replies --release --example bench -- [N]`.

use replies::IntentParser;
use replies::bench::{bench, count_label};
use replies::corpus::{CORPUS_TSV, parse, score};

fn main() {
    let n = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(5_000_000);
    let parser = IntentParser::default();
    let cases = parse(CORPUS_TSV).unwrap_or_default();
    println!("corpus: {} cases", cases.len());
    for s in score(&parser, &cases) {
        println!(
            "  {:<8} support {:>4}  precision {:.3}  recall {:.3}",
            s.intent.as_str(),
            s.support,
            s.precision,
            s.recall
        );
    }
    let _ = bench(n / 10); // warm caches and the CPU clock
    let f = bench(n);
    println!(
        "parsed {} replies ({} distinct) in {:.3?}: {:.0} intents/s, naive baseline {:.0}/s, ratio {:.2}",
        f.texts, f.distinct, f.elapsed, f.intents_per_sec, f.baseline_per_sec, f.ratio_to_baseline
    );
    let counts: Vec<String> = f
        .counts
        .iter()
        .enumerate()
        .map(|(i, c)| format!("{}={c}", count_label(i)))
        .collect();
    println!("  {}", counts.join(" "));
}
