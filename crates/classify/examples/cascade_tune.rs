//! Chooses the cascade's gate without looking at any test part: both stages learn the
//! recipe's rows outside the validation part, are calibrated on the validation part, and
//! each gate is scored on the validation part of each public source (unwanted F1) and on the
//! judgement sets (people / pure notices must stay at 0 marketing or fraud).
//!
//!     cargo run -p classify --release --example cascade_tune -- [RECIPE.toml]

use classify::calibrate;
use classify::cascade::{Cascade, Gate};
use classify::datasets::{Part, Source, load, part_of, shared_data_dir, split};
use classify::judgement::{Judgement, synth_test_sets};
use classify::versus::unwanted_prf;
use classify::{Example, Model, Recipe, train};
use std::path::Path;
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let arg = std::env::args()
        .nth(1)
        .map_or_else(|| root.join("models/classify-cascade.toml"), Into::into);
    let recipe = Recipe::load(&arg)?;
    let config = recipe.cascade.unwrap_or_default();
    let (examples, _) = recipe.examples()?;
    let (held, learn): (Vec<Example>, Vec<Example>) = examples
        .into_iter()
        .partition(|e| part_of(&e.text) == Part::Validation);
    let t = Instant::now();
    let first = train(&learn, &recipe.train)?;
    let first = first
        .clone()
        .with_calibration(calibrate::fit(&first, &held));
    eprintln!("first pass {:.1} s", t.elapsed().as_secs_f64());
    let t = Instant::now();
    let second = Cascade::train_uncalibrated(&learn, &config)?.calibrated_on(first.labels(), &held);
    eprintln!("second stage {:.1} s", t.elapsed().as_secs_f64());
    let data = shared_data_dir().ok_or("no ../shared/data")?;
    let mut sets = Vec::new();
    for (s, name) in [
        (Source::Uci, "uci"),
        (Source::ZhSpam, "zh"),
        (Source::Fbs, "fbs"),
    ] {
        let rows: Vec<Example> = load(&data, s)?
            .into_iter()
            .filter(|e| part_of(&e.text) == Part::Validation)
            .collect();
        sets.push((name, rows));
    }
    let [people, notices, disguised] = synth_test_sets()?;
    let ham: Vec<Example> = split(load(&data, Source::Uci)?)
        .1
        .into_iter()
        .filter(|e| e.label == "personal")
        .collect();
    let report = |name: &str, m: &Model| {
        let labels = m.labels();
        let mut line = format!("{name:<44}");
        for (_, rows) in &sets {
            let p: Vec<&str> = rows
                .iter()
                .map(|r| labels[m.predict(&r.text)].as_str())
                .collect();
            line += &format!(" {:.4}", unwanted_prf(rows, &p).f1);
        }
        let j = Judgement::measure(m, &people, &notices, &disguised, Some(&ham));
        line += &format!(
            "  people {} ham {} notices {} disguised {:.3}",
            j.people.unwanted,
            j.public_people.map_or(0, |p| p.unwanted),
            j.notices.unwanted,
            j.disguised.unwanted_rate()
        );
        println!("{line}");
    };
    println!(
        "{:<44} uci    zh     fbs   (validation part, unwanted F1)",
        "gate"
    );
    report("first pass only", &first);
    let mut gates = vec![(
        "second only (no gate)".to_owned(),
        Gate {
            band: 1.0,
            han_only: false,
            keep_person: 2.0,
            blend: 1.0,
            keep_fraud: false,
        },
    )];
    for band in [0.7f32, 0.8, 0.9, 1.0] {
        for keep in [0.5f32, 2.0] {
            for (blend, keep_fraud) in [(1.0f32, false), (1.0, true), (0.7, true)] {
                gates.push((
                    format!("band {band} keep_person {keep} blend {blend} keep_fraud {keep_fraud}"),
                    Gate {
                        band,
                        han_only: false,
                        keep_person: keep,
                        blend,
                        keep_fraud,
                    },
                ));
            }
        }
    }
    gates.push((
        "han only, band 1, keep 0.5, blend 1".to_owned(),
        Gate {
            band: 1.0,
            han_only: true,
            keep_person: 0.5,
            blend: 1.0,
            keep_fraud: false,
        },
    ));
    gates.push((
        "han only, band 1, keep 0.5, blend 0.5".to_owned(),
        Gate {
            band: 1.0,
            han_only: true,
            keep_person: 0.5,
            blend: 0.5,
            keep_fraud: false,
        },
    ));
    for (name, g) in gates {
        let m = first.clone().with_cascade(second.clone().with_gate(g))?;
        report(&name, &m);
    }
    Ok(())
}
