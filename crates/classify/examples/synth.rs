//! Writes the generated sets (see `classify::synth`) as `corpus/synth/{train,test}/*.tsv`:
//!
//!     cargo run -p classify --example synth
//!
//! The files are committed so recipes, `consentry eval` and the scikit-learn baseline read
//! them like any other data; `tests/synth_files.rs` fails when they drift from the templates.

use std::path::Path;

fn main() -> std::io::Result<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../corpus/synth");
    for (part, held_out) in [("train", false), ("test", true)] {
        let dir = root.join(part);
        std::fs::create_dir_all(&dir)?;
        for (name, rows) in classify::synth::all() {
            let rows: Vec<_> = rows.iter().filter(|r| r.held_out == held_out).collect();
            if rows.is_empty() {
                continue; // a training-only set has no test file
            }
            let path = dir.join(format!("{name}.tsv"));
            std::fs::write(&path, classify::synth::to_tsv(rows.iter().copied()))?;
            println!("{} rows -> {}", rows.len(), path.display());
        }
    }
    Ok(())
}
