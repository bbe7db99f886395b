//! The library surface the `consentry` binary calls: train, eval, classify, triage, bench.

use classify::cli::{EvalArgs, TrainArgs, run_classify, run_eval, run_train, run_triage};
use classify::{Category, Example, LabelMap, Model, TrainConfig, bench, eval, train, triage};
use std::io::Write;

#[test]
fn triage_keeps_notices_and_lists_what_it_sets_aside() {
    let model = Model::default_model().expect("embedded model");
    let messages = [
        "【招商银行】您账户1234于11月28日消费人民币86.00元，可用余额2,512.40元。",
        "【某商城】双12全场5折起，爆款直降，点击 t.cn/A6x8 立即抢购，回T退订",
        "晚上七点老地方吃饭，别迟到",
        "【京东】您的订单已发货，另有双11优惠券待领取，满299减50，点击 3.cn/2K 领取，退订回T",
    ];
    let t = triage(&model, messages, 0.5);
    let kept: Vec<usize> = t.read.iter().chain(&t.unsure).map(|k| k.index).collect();
    println!("{t}");
    assert!(kept.contains(&0) && kept.contains(&2), "{t}");
    assert!(!kept.contains(&1) && !kept.contains(&3), "{t}");
    assert_eq!(t.total(), messages.len());
    assert!(t.set_aside.iter().all(|k| k.category == "marketing"), "{t}");
}

#[test]
fn train_eval_and_cli_helpers_round_trip_through_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("d.tsv");
    let mut f = std::fs::File::create(&data).expect("create");
    for i in 0..30 {
        writeln!(f, "spam\t全场{i}折 点击领取优惠券 回T退订").expect("write");
        writeln!(f, "ham\t今晚{i}点一起吃饭吗").expect("write");
    }
    drop(f);
    let out = dir.path().join("m.bin");
    let args = TrainArgs {
        data: vec![data.clone()],
        map: "spam=marketing,ham=personal".into(),
        out: out.clone(),
        config: TrainConfig {
            bits: 14,
            ..TrainConfig::default()
        },
    };
    let outcome = run_train(&args).expect("train");
    assert_eq!(outcome.examples, 60);
    assert!(outcome.to_string().contains("trained on 60 examples"));
    let report = run_eval(&EvalArgs {
        model: Some(out.clone()),
        data: vec![data],
        map: args.map.clone(),
    })
    .expect("eval");
    assert!(report.accuracy() > 0.95, "{report}");
    let model = Model::load(&out).expect("load");
    let mut classified = Vec::new();
    run_classify(&model, "全场5折\n\n\u{ff}\n".as_bytes(), &mut classified).expect("classify");
    assert_eq!(String::from_utf8_lossy(&classified).lines().count(), 3);
    let mut triaged = Vec::new();
    run_triage(
        &model,
        "全场5折 点击领取优惠券\n今晚一起吃饭吗\n".as_bytes(),
        &mut triaged,
        0.5,
    )
    .expect("triage");
    assert!(String::from_utf8_lossy(&triaged).contains("set aside"));
}

#[test]
fn eval_report_figures_are_consistent() {
    let data = vec![
        Example::new("marketing", "全场5折 点击领取"),
        Example::new("marketing", "限时特惠 满199减100"),
        Example::new("personal", "晚上一起吃饭吗"),
        Example::new("personal", "明天几点见"),
    ];
    let model = train(
        &data,
        &TrainConfig {
            bits: 14,
            ..TrainConfig::default()
        },
    )
    .expect("train");
    let r = eval(&model, &data);
    assert_eq!(r.total(), 4);
    assert!((r.accuracy() - 1.0).abs() < 1e-9, "{r}");
    assert!(r.to_string().contains("confusion"));
    assert!(LabelMap::parse("a=b").is_ok());
    assert_eq!("fraud".parse::<Category>(), Ok(Category::Fraud));
}

#[test]
fn bench_reports_positive_rates() {
    let model = Model::default_model().expect("embedded model");
    let msgs: Vec<Example> = (0..200)
        .map(|i| Example::new("personal", format!("第{i}条消息，晚上见")))
        .collect();
    let r = bench(&model, &msgs, 1, None);
    assert!(r.single_per_sec > 0.0 && r.multi_per_sec > 0.0 && r.threads >= 1);
    println!("{r}");
}
