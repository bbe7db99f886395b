//! Our side of `consentry bench quality` without the Python baseline or a rebuilt binary:
//! trains the recipe on the raw and on the artefact-free view of its rows and prints the
//! unwanted F1 (arg-max and reading) on the same held-out sets. The baseline's figures do
//! not depend on our model, so they can be read from any `bench quality` run.
//!
//!     cargo run -p classify --release --example versus_ours -- RECIPE.toml

use classify::Recipe;
use classify::datasets::shared_data_dir;
use classify::versus::{artefact_free_rows, held_out_sets, unwanted_prf};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .ok_or("usage: versus_ours RECIPE.toml")?;
    let recipe = Recipe::load(path.as_ref())?;
    let (rows, _) = recipe.examples()?;
    let sets = held_out_sets(shared_data_dir().as_deref())?;
    for (view, free) in [("raw", false), ("artefact-free", true)] {
        let train = if free {
            artefact_free_rows(&rows)
        } else {
            rows.clone()
        };
        let model = recipe.train_on(&train)?;
        println!("== {view}");
        for s in &sets {
            let test = if free {
                artefact_free_rows(&s.rows)
            } else {
                s.rows.clone()
            };
            let labels = model.labels();
            let argmax: Vec<&str> = test
                .iter()
                .map(|r| labels[model.predict(&r.text)].as_str())
                .collect();
            let read: Vec<String> = test
                .iter()
                .map(|r| model.read(&r.text).category.to_owned())
                .collect();
            let read: Vec<&str> = read.iter().map(String::as_str).collect();
            let a = unwanted_prf(&test, &argmax);
            println!(
                "{:<14} {:>5}  ours {:.4} (R {:.4})  ours-rd {:.4}",
                s.name,
                test.len(),
                a.f1,
                a.recall,
                unwanted_prf(&test, &read).f1
            );
        }
    }
    Ok(())
}
