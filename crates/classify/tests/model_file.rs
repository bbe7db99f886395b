//! Model files: round trip, and clear errors naming the file when it is missing or damaged.

use classify::{Error, Example, Model, TrainConfig, train};

fn tiny() -> Model {
    let data = vec![
        Example::new("marketing", "全场5折 点击领取优惠券 回T退订"),
        Example::new("personal", "晚上一起吃饭吗"),
        Example::new("verification", "验证码 482913，5分钟内有效"),
    ];
    train(
        &data,
        &TrainConfig {
            bits: 14,
            ..TrainConfig::default()
        },
    )
    .expect("train")
}

#[test]
fn save_then_load_gives_the_same_model() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("m.bin");
    let m = tiny();
    m.save(&path).expect("save");
    assert_eq!(Model::load(&path).expect("load"), m);
}

#[test]
fn training_is_deterministic_for_a_seed() {
    assert_eq!(tiny().to_bytes(), tiny().to_bytes());
}

#[test]
fn missing_file_error_names_it() {
    let err = Model::load("/nonexistent/dir/model.bin").expect_err("missing file");
    assert!(matches!(err, Error::ReadModel { .. }));
    assert!(
        err.to_string().contains("/nonexistent/dir/model.bin"),
        "{err}"
    );
}

#[test]
fn damaged_files_are_rejected_with_the_file_name() {
    let dir = tempfile::tempdir().expect("tempdir");
    let good = tiny().to_bytes();
    let mut flipped = good.clone();
    let mid = flipped.len() / 2;
    flipped[mid] ^= 0x40;
    let mut version = good.clone();
    version[8] = 9;
    let cases: [(&str, Vec<u8>, &str); 5] = [
        ("empty.bin", Vec::new(), "magic"),
        ("text.bin", b"hello world, not a model".to_vec(), "magic"),
        (
            "truncated.bin",
            good[..good.len() - 20].to_vec(),
            "checksum",
        ),
        ("flipped.bin", flipped, "checksum"),
        ("version.bin", version, "version"),
    ];
    for (name, bytes, why) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).expect("write");
        let err = Model::load(&path).expect_err(name);
        let msg = err.to_string();
        assert!(matches!(err, Error::CorruptModel { .. }), "{name}: {msg}");
        assert!(msg.contains(name) && msg.contains(why), "{name}: {msg}");
    }
}

#[test]
fn the_embedded_default_model_loads() {
    let m = Model::default_model().expect("embedded model");
    assert_eq!(
        m.labels(),
        [
            "fraud",
            "marketing",
            "personal",
            "transactional",
            "verification"
        ]
    );
}

/// A first pass with a second stage (`classify::cascade`) attached: tiny, both trained on
/// the same rows.
fn tiny_cascade() -> Model {
    use classify::cascade::{Cascade, CascadeConfig};
    use classify::tfidf::Grams;
    let data = vec![
        Example::new("marketing", "全场5折 点击领取优惠券 回T退订"),
        Example::new("marketing", "Big sale today, 50% off everything"),
        Example::new("personal", "晚上一起吃饭吗"),
        Example::new("personal", "see you at the station at six"),
    ];
    let config = CascadeConfig {
        grams: Grams {
            bits: 14,
            ..Grams::default()
        },
        ..CascadeConfig::default()
    };
    let second = Cascade::train(&data, &config, false).expect("second stage");
    train(
        &data,
        &TrainConfig {
            bits: 14,
            ..TrainConfig::default()
        },
    )
    .expect("train")
    .with_cascade(second)
    .expect("same labels")
}

#[test]
fn a_cascade_survives_save_and_load() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("cascade.bin");
    let m = tiny_cascade();
    m.save(&path).expect("save");
    let back = Model::load(&path).expect("load");
    assert_eq!(back, m);
    assert!(back.cascade().is_some());
    for text in ["全场5折", "一起吃饭", "50% off", ""] {
        assert_eq!(back.classify(text), m.classify(text), "{text}");
    }
    // Version 3 only when a second stage is attached: a plain model stays version 2.
    assert_eq!(m.to_bytes()[8], 3);
    assert_eq!(m.first_pass().to_bytes()[8], 2);
}

#[test]
fn a_damaged_cascade_is_an_error_not_a_panic() {
    let good = tiny_cascade().to_bytes();
    // Every truncation, and a flipped byte anywhere, is refused with a reason.
    for cut in (9..good.len()).step_by(97) {
        assert!(Model::from_bytes(&good[..cut]).is_err(), "cut at {cut}");
    }
    for at in (12..good.len() - 8).step_by(89) {
        let mut bad = good.clone();
        bad[at] ^= 0x5A;
        assert!(Model::from_bytes(&bad).is_err(), "flip at {at}");
    }
}
