//! Prints held-out mistakes of a model trained on one public source (development aid).
use classify::datasets::{Source, load, shared_data_dir, split};
use classify::{TrainConfig, train};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let Some(dir) = shared_data_dir() else {
        return Ok(());
    };
    let src = match std::env::args().nth(1).as_deref() {
        Some("uci") => Source::Uci,
        Some("fbs") => Source::Fbs,
        _ => Source::ZhSpam,
    };
    let all = load(&dir, src)?;
    let (tr, te) = if std::env::var("RANDSPLIT").is_ok() {
        let mut rng = classify::train::SplitMix(7);
        let (a, b): (Vec<_>, Vec<_>) = all
            .into_iter()
            .map(|e| (rng.next_u64() % 5 == 0, e))
            .partition(|(t, _)| !*t);
        (
            a.into_iter().map(|x| x.1).collect::<Vec<_>>(),
            b.into_iter().map(|x| x.1).collect::<Vec<_>>(),
        )
    } else {
        split(all)
    };
    let env = |k: &str, d: f32| {
        std::env::var(k)
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(d)
    };
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let cfg = TrainConfig {
        l1: env("L1", 0.01),
        alpha: env("ALPHA", 1.0),
        l2: env("L2", 0.1),
        beta: env("BETA", 1.0),
        epochs: env("EPOCHS", 6.0) as u32,
        bits: env("BITS", 20.0) as u32,
        balance: env("BAL", 0.5),
        ..TrainConfig::default()
    };
    let m = train(&tr, &cfg)?;
    let r = classify::eval(&m, &te);
    if std::env::var("QUIET").is_err() {
        println!("{r}");
    }
    println!("unwanted {:?}", r.binary(&["marketing", "fraud"]));
    if std::env::var("QUIET").is_ok() {
        return Ok(());
    }
    for e in &te {
        let s = m.classify(&e.text);
        if s.category != e.label {
            println!(
                "{} -> {} {:.2} | {}",
                e.label,
                s.category,
                s.confidence(),
                classify::normalise::normalise(&e.text).text
            );
        }
    }
    Ok(())
}
