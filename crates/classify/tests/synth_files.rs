//! The committed `corpus/synth/` files are exactly what the templates generate, so a change
//! to a template cannot silently leave the training data (and the default model) behind.
//! Regenerate with `cargo run -p classify --example synth`.

use std::path::Path;

#[test]
fn committed_synth_files_match_the_templates() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../corpus/synth");
    for (part, held_out) in [("train", false), ("test", true)] {
        for (name, rows) in classify::synth::all() {
            let want = classify::synth::to_tsv(rows.iter().filter(|r| r.held_out == held_out));
            let path = root.join(part).join(format!("{name}.tsv"));
            if want.is_empty() {
                assert!(!path.exists(), "{} should not exist", path.display());
                continue;
            }
            let have = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert!(
                have == want,
                "{} differs from the templates: run `cargo run -p classify --example synth`",
                path.display()
            );
        }
    }
}
