//! Writes the deterministic train/test split of each public source (labels mapped to our
//! categories) to a directory, so that `scripts/bench_classify_baseline.py` scores the
//! baseline on exactly the messages our model is scored on. Written outside the repository.
//!
//! `cargo run -p classify --release --example dump_split -- /tmp/consentry-split`

use classify::datasets::{FBS_GROUPS, Source, load, load_mapped, shared_data_dir, split};
use std::io::Write;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "/tmp/consentry-split".into());
    let Some(dir) = shared_data_dir() else {
        eprintln!("shared data not found: nothing to dump");
        return Ok(());
    };
    std::fs::create_dir_all(&out)?;
    let sets = [
        ("uci", load(&dir, Source::Uci)?),
        ("zh", load(&dir, Source::ZhSpam)?),
        ("fbs", load(&dir, Source::Fbs)?),
        ("fbs3", load_mapped(&dir, Source::Fbs, FBS_GROUPS)?),
    ];
    for (name, rows) in sets {
        let (tr, te) = split(rows);
        for (part, rows) in [("train", tr), ("test", te)] {
            let path = std::path::Path::new(&out).join(format!("{name}.{part}.tsv"));
            let mut f = std::io::BufWriter::new(std::fs::File::create(&path)?);
            for e in rows {
                writeln!(f, "{}\t{}", e.label, e.text.replace(['\t', '\n'], " "))?;
            }
            println!("{}", path.display());
        }
    }
    Ok(())
}
