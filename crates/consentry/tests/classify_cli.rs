//! The classifier's subcommands through the real binary: classify, eval, train, triage,
//! bench classify, and what each does with bad input and bad model files.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

const CATEGORIES: [&str; 5] = [
    "verification",
    "transactional",
    "personal",
    "marketing",
    "fraud",
];

fn consentry(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_consentry"))
        .args(args)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run consentry");
    let mut input = child.stdin.take().unwrap();
    let bytes = stdin.to_vec();
    // Written from a thread so a large input cannot deadlock against a full stdout pipe.
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&bytes);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    out
}

fn json_lines(out: &Output) -> Vec<Value> {
    String::from_utf8(out.stdout.clone())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn classify_gives_every_stdin_line_a_category_whatever_it_holds() {
    let mut input = Vec::new();
    input.extend_from_slice(
        "【顺丰速运】您的快件已到达驿站，取件码 6-2-3051，请及时领取。\n".as_bytes(),
    );
    input.extend_from_slice(b"\n"); // empty line
    input.extend_from_slice(b"caf\xe9 \xff\xfe broken utf-8\n"); // invalid UTF-8
    input.extend_from_slice("😀🎉🔥\n".as_bytes()); // emoji only
    input.extend_from_slice(b"\x01\x02\x1b[31m\x7f\r\n"); // control characters, CRLF
    let mut long = "双11全场5折，点击领取优惠券 ".repeat(40_000).into_bytes();
    long.truncate(1 << 20);
    while std::str::from_utf8(&long).is_err() {
        long.pop();
    }
    input.extend_from_slice(&long); // 1 MB line, no trailing newline
    let out = consentry(&["classify"], &input);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 6, "one JSON line per input line");
    for v in &lines {
        let category = v["category"].as_str().unwrap();
        assert!(
            CATEGORIES.contains(&category) || category == "uncertain",
            "{v}"
        );
        let scores = v["scores"].as_object().unwrap();
        assert_eq!(scores.len(), 5, "{v}");
        for p in scores.values() {
            let p = p.as_f64().unwrap();
            assert!((0.0..=1.0).contains(&p), "{v}");
        }
    }
    assert_eq!(lines[0]["category"], "transactional", "{}", lines[0]);
    assert_eq!(lines[5]["category"], "marketing", "{}", lines[5]);
}

/// Bad input from #11: a GBK-encoded line is decoded and flagged, garbage bytes are flagged
/// lossy, empty and 10 kB lines each still get their one output line, and stderr tells the
/// user to re-save as UTF-8.
#[test]
fn classify_decodes_gbk_flags_garbage_and_keeps_one_line_per_input_line() {
    let mut input = Vec::new();
    let (gbk, _, _) = encoding_rs::GBK.encode("【顺丰速运】您的快件已到达驿站，请及时领取。");
    input.extend_from_slice(&gbk);
    input.push(b'\n');
    input.extend_from_slice(b"\xff\xfe\xfd not text\n");
    input.extend_from_slice(b"\n");
    input.extend_from_slice("晚上一起吃饭吗".repeat(500).as_bytes()); // ~10 kB
    input.push(b'\n');
    let out = consentry(&["classify"], &input);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 4, "one JSON line per input line");
    assert_eq!(lines[0]["input"], "gbk", "{}", lines[0]);
    assert_eq!(lines[0]["category"], "transactional", "{}", lines[0]);
    assert_eq!(lines[1]["input"], "lossy", "{}", lines[1]);
    assert!(lines[2].get("input").is_none() && lines[3].get("input").is_none());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("1 decoded as GBK") && err.contains("re-save it as UTF-8"),
        "{err}"
    );
}

#[test]
fn eval_prints_accuracy_per_class_figures_and_the_confusion_matrix() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("small.tsv");
    std::fs::write(
        &data,
        "spam\t双11全场5折，点击 http://t.cn/x 领取优惠券，回T退订\n\
         spam\tFREE entry! Win a £1000 prize, text WIN to 80086 now\n\
         ham\t晚上一起吃饭吗？我六点下班\n\
         ham\tOk, see you at the station at 7\n\
         no tab on this line\n\
         junk\tdropped by the map\n",
    )
    .unwrap();
    let out = consentry(
        &[
            "eval",
            "--data",
            data.to_str().unwrap(),
            "--map",
            "spam=marketing,ham=personal,junk=-",
        ],
        b"",
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("examples 4 "), "{stdout}");
    assert!(stdout.contains("accuracy"), "{stdout}");
    for label in CATEGORIES {
        assert!(stdout.contains(label), "{stdout}");
    }
    assert!(
        stdout.contains("precision") && stdout.contains("recall"),
        "{stdout}"
    );
    assert!(stdout.contains("confusion"), "{stdout}");
    assert!(stdout.contains("unwanted (marketing+fraud)"), "{stdout}");
    // The confusion matrix holds exactly the four mapped messages.
    let counts: u64 = stdout
        .lines()
        .skip_while(|l| !l.starts_with("confusion"))
        .skip(2)
        .take(5)
        .flat_map(|l| {
            l.split_whitespace()
                .skip(1)
                .map(|n| n.parse::<u64>().unwrap())
        })
        .sum();
    assert_eq!(counts, 4, "{stdout}");
}

#[test]
fn train_writes_a_model_that_eval_and_classify_then_use() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("train.tsv");
    let mut rows = String::new();
    for i in 0..30 {
        rows.push_str(&format!("ad\t全场{i}折，点击领取优惠券，回T退订\n"));
        rows.push_str(&format!("chat\t今晚{i}点一起吃饭吗\n"));
    }
    std::fs::write(&data, rows).unwrap();
    let model = dir.path().join("m.bin");
    let out = consentry(
        &[
            "train",
            "--data",
            data.to_str().unwrap(),
            "--out",
            model.to_str().unwrap(),
            "--map",
            "ad=marketing,chat=personal",
            "--bits",
            "16",
        ],
        b"",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("trained on 60 examples"));
    let out = consentry(
        &["classify", "--model", model.to_str().unwrap()],
        "全场5折优惠券\n明晚一起吃饭吗\n".as_bytes(),
    );
    let lines = json_lines(&out);
    assert_eq!(lines[0]["category"], "marketing");
    assert_eq!(lines[1]["category"], "personal");
    assert_eq!(lines[0]["scores"].as_object().unwrap().len(), 2);
}

fn triage_lines(out: &Output) -> Vec<String> {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

const INBOX: [&str; 6] = [
    "【某某旗舰店】双11狂欢，全场5折起，满300减50，点击 http://t.cn/A6x 抢购，回T退订",
    "【京东】您的订单已发货，快递单号 JD0012345678，预计明天送达。",
    "【某宝】亲爱的会员，年终大促今晚8点开抢，爆款低至1元，戳 http://t.cn/B7y 回T退订",
    "老婆我今晚加班，晚点回来，你们先吃",
    "【某某美妆】会员专享，面膜买一送一，仅限今日，详情 http://t.cn/C8z 回T退订",
    "【某某商城】双十二预售开启，定金翻倍，前1000名送好礼，回T退订",
];

#[test]
fn triage_lists_people_first_keeps_the_unsure_and_lists_what_it_set_aside() {
    let dir = tempfile::tempdir().unwrap();
    let inbox = dir.path().join("inbox.txt");
    std::fs::write(&inbox, INBOX.join("\n") + "\n\n").unwrap();
    let lines = triage_lines(&consentry(&["triage", inbox.to_str().unwrap()], b""));
    assert!(
        lines[0].ends_with("messages to read (most important first):"),
        "{lines:?}"
    );
    assert!(
        lines[1].starts_with("personal") && lines[1].contains("老婆"),
        "{lines:?}"
    );
    assert!(
        lines[2].starts_with("transactional") && lines[2].contains("已发货"),
        "{lines:?}"
    );
    let aside = lines
        .iter()
        .position(|l| l.starts_with("set aside"))
        .unwrap();
    // Every message appears once: read, unsure or listed as set aside.
    let listed = lines[aside + 1..]
        .iter()
        .filter(|l| l.starts_with("  #"))
        .count();
    let shown = aside - 1 - usize::from(lines.iter().any(|l| l.starts_with("unsure")));
    assert_eq!(shown + listed, 6, "{lines:?}");
    assert!(listed >= 3, "{lines:?}");
    assert!(
        lines[aside].contains(&format!("set aside {listed}")),
        "{lines:?}"
    );
    assert!(
        lines.last().unwrap().contains("1 empty lines skipped"),
        "{lines:?}"
    );
}

#[test]
fn triage_json_lists_every_message_with_category_score_and_clause() {
    let dir = tempfile::tempdir().unwrap();
    let inbox = dir.path().join("inbox.txt");
    let disguised =
        "【京东】您的订单已发货，预计明天送达。另外双11全场5折，点击领取优惠券，回T退订";
    std::fs::write(&inbox, format!("{}\n{disguised}\n", INBOX.join("\n"))).unwrap();
    let out = consentry(
        &["triage", inbox.to_str().unwrap(), "--format", "json"],
        b"",
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let n = |k: &str| v[k].as_array().unwrap().len();
    assert_eq!(n("read") + n("unsure") + n("set_aside"), 7, "{v}");
    assert_eq!(v["read"][0]["category"], "personal", "{v}");
    let d = v["set_aside"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["position"] == 7)
        .unwrap_or_else(|| panic!("the disguised notice is set aside: {v}"));
    assert!(d["clause"].as_str().unwrap().starts_with("另外双11"), "{d}");
    assert!(d["score"].as_f64().unwrap() >= 0.8, "{d}");
}

#[test]
fn triage_reads_the_text_column_of_a_csv_export() {
    let dir = tempfile::tempdir().unwrap();
    let inbox = dir.path().join("inbox.csv");
    let mut csv = String::from("date,from,body\n");
    for (i, m) in INBOX.iter().enumerate() {
        csv.push_str(&format!("2026-11-1{i},1069{i},\"{m}\"\n"));
    }
    std::fs::write(&inbox, csv).unwrap();
    let lines = triage_lines(&consentry(&["triage", inbox.to_str().unwrap()], b""));
    assert!(lines[1].contains("老婆"), "{lines:?}");
    assert!(
        lines.iter().all(|l| !l.contains("2026-11")),
        "only the body column: {lines:?}"
    );
    // Without a text column it is an error naming the header, not a guess.
    let bare = dir.path().join("bare.csv");
    std::fs::write(&bare, "date,from\n2026-11-10,10690\n").unwrap();
    let out = consentry(&["triage", bare.to_str().unwrap()], b"");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no text column") && err.contains("date, from"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}

fn assert_names_file(out: &Output, path: &Path) {
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(path.to_str().unwrap()), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn a_corrupt_or_missing_model_file_is_a_clear_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let garbage = dir.path().join("garbage.bin");
    std::fs::write(&garbage, b"this is not a model").unwrap();
    let out = consentry(&["classify", "--model", garbage.to_str().unwrap()], b"hi\n");
    assert_names_file(&out, &garbage);
    assert!(String::from_utf8_lossy(&out.stderr).contains("unusable"));
    assert!(out.stdout.is_empty(), "nothing classified with a bad model");

    // A real model cut short: the checksum or the length check must catch it.
    let model = dir.path().join("m.bin");
    let data = dir.path().join("d.tsv");
    std::fs::write(&data, "marketing\t全场5折\npersonal\t吃饭吗\n").unwrap();
    let out = consentry(
        &[
            "train",
            "--data",
            data.to_str().unwrap(),
            "--out",
            model.to_str().unwrap(),
            "--bits",
            "12",
        ],
        b"",
    );
    assert!(out.status.success());
    let bytes = std::fs::read(&model).unwrap();
    let cut = dir.path().join("cut.bin");
    std::fs::write(&cut, &bytes[..bytes.len() - 3]).unwrap();
    let out = consentry(
        &[
            "eval",
            "--model",
            cut.to_str().unwrap(),
            "--data",
            data.to_str().unwrap(),
        ],
        b"",
    );
    assert_names_file(&out, &cut);

    let missing = dir.path().join("missing.bin");
    let out = consentry(
        &["triage", "--model", missing.to_str().unwrap(), "-"],
        b"hi\n",
    );
    assert_names_file(&out, &missing);
}

#[test]
fn bench_classify_prints_json_figures() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("msgs.tsv");
    let rows: String = INBOX.iter().map(|m| format!("marketing\t{m}\n")).collect();
    std::fs::write(&data, rows.repeat(50)).unwrap();
    let out = consentry(
        &[
            "bench",
            "classify",
            "--data",
            data.to_str().unwrap(),
            "--rounds",
            "1",
            "--process-lines",
            "2000",
            "--no-baseline",
        ],
        b"",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["messages"], 300);
    assert!(
        v["ours"]["single_thread_per_sec"].as_f64().unwrap() > 0.0,
        "{v}"
    );
    assert!(
        v["ours"]["all_cores_per_sec"].as_f64().unwrap() > 0.0,
        "{v}"
    );
    assert!(v["ours"]["process_per_sec"].as_f64().unwrap() > 0.0, "{v}");
    assert!(v["ours"]["process_lines"].as_u64().unwrap() >= 2000, "{v}");
    assert!(
        v["ratio_single_thread"].is_null(),
        "no baseline, no ratio: {v}"
    );
    assert!(
        v["baseline"]["error"].as_str().unwrap().contains("skipped"),
        "{v}"
    );
}

#[test]
fn bench_send_prints_the_classifiers_cost_per_message() {
    let out = consentry(&["bench", "send", "--rounds", "1", "--phones", "50"], b"");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["texts"].as_u64().unwrap() >= 300, "{v}");
    assert!(
        v["decide_us_with_classifier"].as_f64().unwrap() > 0.0,
        "{v}"
    );
    assert!(
        v["decide_us_without_classifier"].as_f64().unwrap() > 0.0,
        "{v}"
    );
    // The classifier really is on one side: adverts declared as notices are reclassified
    // and refused for want of marketing consent.
    assert!(
        v["accepted_with"].as_u64().unwrap() < v["accepted_without"].as_u64().unwrap(),
        "{v}"
    );
}

/// Registers a sender directly in the store, as `POST /v1/senders` would.
fn register_sender(data: &Path) -> u32 {
    use store::SenderRegistry;
    let store = store::Store::open_sqlite(data, store::Durability::Normal).unwrap();
    store
        .create_sender(&store::NewSender {
            name: "好店".into(),
            signature: "【好店】".into(),
            number_prefix: "1069000012345".into(),
            extension_digits: 4,
            api_key_hash: "test".into(),
        })
        .unwrap()
        .id
        .0
}

fn check(dir: &Path, config: Option<&Path>, text: &str, category: &str) -> Output {
    let data = dir.join("data");
    let sender = register_sender(&data);
    let recipients = dir.join("to.csv");
    std::fs::write(&recipients, "phone\n13800130000\n").unwrap();
    let mut args = vec![
        "check".to_string(),
        recipients.to_str().unwrap().into(),
        "--sender".into(),
        sender.to_string(),
        "--text".into(),
        text.into(),
        "--category".into(),
        category.into(),
        "--data".into(),
        data.to_str().unwrap().into(),
    ];
    if let Some(c) = config {
        args.extend(["--config".into(), c.to_str().unwrap().into()]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    consentry(&args, b"")
}

#[test]
fn the_send_path_classifier_reclassifies_a_disguised_code_in_a_dry_run() {
    let dir = tempfile::tempdir().unwrap();
    let out = check(
        dir.path(),
        None,
        "【好店】验证码001，双11全场5折，点击领取优惠券",
        "verification",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let csv = String::from_utf8_lossy(&out.stdout);
    let row = csv.lines().nth(1).unwrap();
    assert!(row.starts_with("13800130000,rejected,"), "{csv}");
    assert!(
        row.contains("reclassified_marketing") && row.contains("no_consent"),
        "{csv}"
    );

    // Switched off in the configuration, the declared category stands.
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("c.toml");
    std::fs::write(&cfg, "[classify]\nenabled = false\n").unwrap();
    let out = check(
        dir.path(),
        Some(&cfg),
        "【好店】验证码001，双11全场5折，点击领取优惠券",
        "verification",
    );
    let csv = String::from_utf8_lossy(&out.stdout);
    assert!(
        csv.lines()
            .nth(1)
            .unwrap()
            .starts_with("13800130000,accepted,"),
        "{csv}"
    );
}

#[test]
fn a_corrupt_send_path_model_stops_start_up_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("broken.bin");
    std::fs::write(&model, b"CSTRYCLS but not really a model").unwrap();
    let cfg = dir.path().join("c.toml");
    std::fs::write(
        &cfg,
        format!("[classify]\nmodel = {:?}\n", model.to_str().unwrap()),
    )
    .unwrap();
    let out = check(
        dir.path(),
        Some(&cfg),
        "【好店】您的验证码是 482913",
        "verification",
    );
    assert_names_file(&out, &model);
    assert!(String::from_utf8_lossy(&out.stderr).contains("[classify]"));
}

/// The repository root (two levels above this crate).
fn repo() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Trains `recipe` (relative to the repository) with `consentry train` into a fresh
/// directory; returns the directory (kept alive by the caller) and the model's path.
fn train_recipe(root: &Path, recipe: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let out_path = dir.path().join("trained.bin");
    let recipe = root.join(recipe);
    let out = consentry(
        &[
            "train",
            "--recipe",
            recipe.to_str().unwrap(),
            "--out",
            out_path.to_str().unwrap(),
        ],
        b"",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (dir, out_path)
}

#[test]
fn the_committed_recipe_rebuilds_the_default_model_bit_for_bit() {
    let root = repo();
    let shared = root.join("../shared/data/sms");
    if !shared.is_dir() {
        eprintln!(
            "skipped: {} is absent, so the public data the default model is trained from is not here",
            shared.display()
        );
        return;
    }
    let (_dir, out_path) = train_recipe(&root, "models/classify-cascade.toml");
    let rebuilt = std::fs::read(&out_path).unwrap();
    let committed = std::fs::read(root.join("models/classify-cascade.bin")).unwrap();
    assert!(
        rebuilt == committed,
        "`consentry train --recipe models/classify-cascade.toml` no longer gives \
         models/classify-cascade.bin \
         ({} vs {} bytes): retrain and commit the model together with the change",
        rebuilt.len(),
        committed.len()
    );
}

/// `models/classify-v2.toml` is kept as the first pass alone (to measure it against the
/// cascade); the two recipes must not drift apart.
#[test]
fn the_first_pass_recipe_trains_the_default_models_first_pass() {
    let root = repo();
    if !root.join("../shared/data/sms").is_dir() {
        eprintln!("skipped: ../shared/data/sms is absent");
        return;
    }
    let (_dir, out_path) = train_recipe(&root, "models/classify-v2.toml");
    let first = classify::Model::load(&out_path).unwrap();
    let default = classify::Model::default_model().unwrap();
    assert!(first.cascade().is_none() && default.cascade().is_some());
    assert!(
        first.to_bytes() == default.first_pass().to_bytes(),
        "models/classify-v2.toml no longer trains the first pass of models/classify-cascade.bin"
    );
}

#[test]
fn eval_part_test_scores_only_the_held_out_rows() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d.tsv");
    // Digits would all normalise to the same placeholder (and so to the same part): vary
    // the words instead.
    let words: Vec<char> = "春夏秋冬东南西北上下左右前后山水风雨花草".chars().collect();
    let rows: String = (0..200)
        .map(|i| {
            let (a, b) = (words[i % 20], words[i / 20]);
            format!("ham\t明天{a}{b}见面吃饭\n")
        })
        .collect();
    std::fs::write(&data, rows).unwrap();
    let examples = |part: &str| {
        let out = consentry(
            &[
                "eval",
                "--data",
                data.to_str().unwrap(),
                "--map",
                "ham=personal",
                "--part",
                part,
            ],
            b"",
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        stdout
            .split_whitespace()
            .skip_while(|w| *w != "examples")
            .nth(1)
            .unwrap()
            .parse::<usize>()
            .unwrap()
    };
    let (all, test, rest) = (examples("all"), examples("test"), examples("not-test"));
    assert_eq!(all, 200);
    assert_eq!(test + rest, all);
    // About a fifth is held out (the split is by a hash of the normalised text).
    assert!((20..=70).contains(&test), "{test} held-out rows of 200");
    let out = consentry(
        &["eval", "--data", data.to_str().unwrap(), "--part", "half"],
        b"",
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("half"));
}

#[test]
fn a_bad_recipe_is_a_clear_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let recipe = dir.path().join("r.toml");
    std::fs::write(&recipe, "[[source]]\npath = \"missing.tsv\"\nweight = -1\n").unwrap();
    let model = dir.path().join("m.bin");
    let run = || {
        consentry(
            &[
                "train",
                "--recipe",
                recipe.to_str().unwrap(),
                "--out",
                model.to_str().unwrap(),
            ],
            b"",
        )
    };
    let out = run();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(recipe.to_str().unwrap()) && err.contains("weight"),
        "{err}"
    );
    // A valid recipe whose data file is missing names the data file.
    std::fs::write(&recipe, "[[source]]\npath = \"missing.tsv\"\n").unwrap();
    let out = run();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("missing.tsv"), "{err}");
    assert!(!model.exists());
}
