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
