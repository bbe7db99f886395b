//! Hyper-parameter tuning without looking at the test part: 5-fold cross-validation over the
//! train and validation parts (80%) of every public source, folds by a hash of the normalised
//! text (so campaign duplicates stay in one fold). Each fold trains the combined model (the
//! corpus and the other folds of every source, weighted as in the quality run) and is scored
//! on the held fold; figures are pooled over the folds. The validation part alone holds only
//! 60 UCI spam rows, too few to tell settings apart.
//!
//! `cargo run -p classify --release --example tune -- [--folds N] [--alpha A] [--l1 X] ...`

use classify::datasets::{Source, load, shared_data_dir, split};
use classify::normalise::normalise;
use classify::quality::{QualityConfig, corpus_parts};
use classify::{Category, EvalReport, Example, eval, train};
use std::time::Instant;

fn fold_of(text: &str, k: u64) -> u64 {
    let n = normalise(text);
    let h = n.text.bytes().fold(0xCBF2_9CE4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01B3)
    });
    (h / 10) % k
}

fn merge(into: &mut Option<EvalReport>, r: EvalReport) {
    match into {
        None => *into = Some(r),
        Some(a) => {
            for (ra, rb) in a.confusion.iter_mut().zip(&r.confusion) {
                for (x, y) in ra.iter_mut().zip(rb) {
                    *x += y;
                }
            }
        }
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--show-normalised") {
        // Prints how stdin lines normalise (placeholders as <NUM> etc.), to check the rules.
        for line in std::io::stdin().lines() {
            let n = normalise(&line?);
            let shown: String = n
                .text
                .chars()
                .map(|c| match c {
                    '\u{E001}' => "<NUM>".to_string(),
                    '\u{E002}' => "<CODE>".to_string(),
                    '\u{E003}' => "<PHONE>".to_string(),
                    '\u{E004}' => "<URL>".to_string(),
                    '\u{E005}' => "<NAME>".to_string(),
                    c => c.to_string(),
                })
                .collect();
            println!("{shown}");
        }
        return Ok(());
    }
    let Some(dir) = shared_data_dir() else {
        eprintln!("shared data not found: nothing to tune");
        return Ok(());
    };
    if args.iter().any(|a| a == "--speed") {
        // Classification only (no training), for `perf stat`: instruction counts do not
        // depend on what else the shared machine is doing.
        let mut all = Vec::new();
        for s in [Source::Uci, Source::ZhSpam, Source::Fbs] {
            all.extend(load(&dir, s)?);
        }
        let model = classify::Model::default_model()?;
        let t = Instant::now();
        let mut sink = 0usize;
        for _ in 0..5 {
            for e in &all {
                sink += model.classify(&e.text).category.len();
            }
        }
        #[allow(clippy::cast_precision_loss)]
        let rate = (5 * all.len()) as f64 / t.elapsed().as_secs_f64();
        println!("{rate:.0} msg/s ({sink})");
        return Ok(());
    }
    let get = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .and_then(|s| s.parse::<f32>().ok())
    };
    let mut cfg = QualityConfig::default();
    let t = &mut cfg.train;
    if let Some(v) = get("--alpha") {
        t.alpha = v;
    }
    if let Some(v) = get("--beta") {
        t.beta = v;
    }
    if let Some(v) = get("--l1") {
        t.l1 = v;
    }
    if let Some(v) = get("--l2") {
        t.l2 = v;
    }
    if let Some(v) = get("--balance") {
        t.balance = v;
    }
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    if let Some(v) = get("--epochs") {
        t.epochs = v as u32;
    }
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    if let Some(v) = get("--bits") {
        t.bits = v as u32;
    }
    if let Some(v) = get("--corpus-weight") {
        cfg.corpus_weight = v;
    }
    if let Some(v) = get("--source-balance") {
        cfg.source_balance = v;
    }
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let k = get("--folds").map_or(5, |v| v as u64);
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let only = get("--only-fold").map(|v| v as u64);
    let show_errors = args.iter().any(|a| a == "--errors");
    eprintln!(
        "{:?} corpus_weight {} source_balance {}",
        cfg.train, cfg.corpus_weight, cfg.source_balance
    );

    let publics = [Source::Uci, Source::ZhSpam, Source::Fbs];
    let mut sets = Vec::new();
    for s in publics {
        let (rest, _test) = split(load(&dir, s)?);
        let folds: Vec<u64> = rest.iter().map(|e| fold_of(&e.text, k)).collect();
        sets.push((rest, folds));
    }
    let corpus = corpus_parts()?.train;
    let started = Instant::now();
    let mut pooled: Vec<Option<EvalReport>> = vec![None; publics.len()];
    for f in 0..k {
        if only.is_some_and(|o| o != f) {
            continue;
        }
        let mut train_rows: Vec<Example> = corpus
            .iter()
            .cloned()
            .map(|mut e| {
                e.weight = cfg.corpus_weight;
                e
            })
            .collect();
        let sizes: Vec<usize> = sets
            .iter()
            .map(|(rows, folds)| folds.iter().filter(|&&x| x != f).count().min(rows.len()))
            .collect();
        #[allow(clippy::cast_precision_loss)]
        let largest = *sizes.iter().max().unwrap_or(&1) as f32;
        for ((rows, folds), &n) in sets.iter().zip(&sizes) {
            #[allow(clippy::cast_precision_loss)]
            let w = (largest / n.max(1) as f32).powf(cfg.source_balance);
            for (e, &fo) in rows.iter().zip(folds) {
                if fo != f {
                    let mut e = e.clone();
                    e.weight *= w;
                    train_rows.push(e);
                }
            }
        }
        let model = train(&train_rows, &cfg.train)?;
        for (i, (rows, folds)) in sets.iter().enumerate() {
            let held: Vec<Example> = rows
                .iter()
                .zip(folds)
                .filter(|&(_, &fo)| fo == f)
                .map(|(e, _)| e.clone())
                .collect();
            if show_errors && i < 2 {
                for e in &held {
                    let got = model.classify(&e.text);
                    let u = |c: &str| c.parse::<Category>().is_ok_and(Category::is_unwanted);
                    if u(got.category) != u(&e.label) {
                        println!(
                            "{} {} -> {} {:.2}: {}",
                            publics[i].name(),
                            e.label,
                            got.category,
                            got.confidence(),
                            e.text
                        );
                    }
                }
            }
            merge(&mut pooled[i], eval(&model, &held));
        }
        eprintln!("fold {f} done at {:.1} s", started.elapsed().as_secs_f64());
    }
    let unwanted = [Category::Marketing.as_str(), Category::Fraud.as_str()];
    let mut line = String::new();
    for (s, r) in publics.iter().zip(&pooled) {
        if let Some(r) = r {
            let p = r.binary(&unwanted);
            line.push_str(&format!(
                "{} F1 {:.4} (P {:.4} R {:.4} n {})  ",
                s.name(),
                p.f1,
                p.precision,
                p.recall,
                p.support
            ));
        }
    }
    println!("CV {line}");
    Ok(())
}
