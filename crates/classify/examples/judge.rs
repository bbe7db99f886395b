//! Trains the model a recipe describes (default `models/classify-cascade.toml`,
//! the default model's), or loads a model
//! file, and prints the judgement figures (people, pure notices, disguised notices) and the
//! held-out unwanted F1 of each public source.
//!
//!     cargo run -p classify --release --example judge -- [RECIPE.toml | MODEL.bin] [--save OUT]

use classify::datasets::{Source, load, shared_data_dir, split};
use classify::judgement::{Judgement, synth_test_sets};
use classify::{Model, Recipe, eval};
use std::path::Path;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let arg = args
        .first()
        .filter(|a| !a.starts_with("--"))
        .map_or_else(|| root.join("models/classify-cascade.toml"), Into::into);
    let model = if arg.extension().is_some_and(|e| e == "toml") {
        let t = std::time::Instant::now();
        let (m, n, _) = Recipe::load(&arg)?.train()?;
        eprintln!("trained on {n} rows in {:.1} s", t.elapsed().as_secs_f64());
        m
    } else {
        Model::load(&arg)?
    };
    if let Some(i) = args.iter().position(|a| a == "--save") {
        model.save(args.get(i + 1).ok_or("--save needs a path")?)?;
    }
    println!("calibration {:?}", model.calibration());
    let [people, notices, disguised] = synth_test_sets()?;
    let data = shared_data_dir();
    let ham = match &data {
        Some(d) => Some(
            split(load(d, Source::Uci)?)
                .1
                .into_iter()
                .filter(|e| e.label == "personal")
                .collect::<Vec<_>>(),
        ),
        None => None,
    };
    let j = Judgement::measure(&model, &people, &notices, &disguised, ham.as_deref());
    print!("{j}");
    if args.iter().any(|a| a == "--verbose") {
        for (name, rows) in [
            ("people", &people),
            ("notices", &notices),
            ("disguised", &disguised),
        ] {
            for r in rows.iter() {
                let reading = model.read(&r.text);
                let wrong = match name {
                    "disguised" => reading.category != "marketing",
                    _ => reading.category == "marketing" || reading.category == "fraud",
                };
                if wrong || args.iter().any(|a| a == "--all") {
                    let clause_max = classify::clauses::clauses(&r.text)
                        .into_iter()
                        .map(|c| model.classify(&r.text[c]).score("marketing").unwrap_or(0.0))
                        .fold(0f32, f32::max);
                    let sc: Vec<String> = reading
                        .scores
                        .iter()
                        .map(|(l, p)| format!("{}{:.2}", &l[..2], p))
                        .collect();
                    println!(
                        "{name} {} [{}] clause-max {clause_max:.2} {}",
                        reading.category,
                        sc.join(" "),
                        r.text
                    );
                }
            }
        }
    }
    if let Some(d) = &data {
        for s in [Source::Uci, Source::ZhSpam, Source::Fbs] {
            let (_, test) = split(load(d, s)?);
            let p = eval(&model, &test).binary(&["marketing", "fraud"]);
            println!(
                "{:<6} unwanted F1 {:.4} (P {:.4} R {:.4})",
                s.name(),
                p.f1,
                p.precision,
                p.recall
            );
        }
    }
    Ok(())
}
