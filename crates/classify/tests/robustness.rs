//! Bad input never panics and always gets a category: empty, huge, control characters,
//! emoji only, invalid UTF-8 through the reader.

use classify::{LabelMap, Model, read_tsv};
use proptest::prelude::*;
use std::sync::OnceLock;

fn model() -> &'static Model {
    static M: OnceLock<Model> = OnceLock::new();
    M.get_or_init(|| Model::default_model().expect("embedded model"))
}

fn assert_valid(text: &str) {
    let s = model().classify(text);
    assert!(model().labels().iter().any(|l| l == s.category));
    assert!(
        s.scores
            .iter()
            .all(|(_, p)| p.is_finite() && (0.0..=1.0).contains(p))
    );
}

#[test]
fn edge_cases_get_a_category() {
    let huge = "促销".repeat(300_000) + &"a".repeat(400_000);
    for text in [
        "",
        " ",
        "\n\t\r",
        "\u{0}\u{1b}[31m\u{7f}",
        "😀😀😀🎉",
        "\u{E001}\u{E004}",
        "xxxxxxxxxxxxxxxxxxxxxxxx",
        "1-2-3-4-5-6-7-8-9",
        "http://",
        "【】",
        &huge,
    ] {
        assert_valid(text);
    }
}

#[test]
fn reader_decodes_invalid_utf8_lossily() {
    let data: &[u8] = b"marketing\t\xff\xfe\xfd sale\nhello\n\n";
    let (examples, stats) = read_tsv(data, &LabelMap::default()).expect("in-memory read");
    assert_eq!(examples.len(), 1);
    assert_eq!(stats.lossy, 1);
    assert_valid(&examples[0].text);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn any_string_gets_a_category(text in any::<String>()) {
        assert_valid(&text);
    }

    #[test]
    fn any_bytes_through_the_reader_get_a_category(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let mut line = b"label\t".to_vec();
        line.extend(bytes.iter().filter(|&&b| b != b'\n'));
        let (examples, _) = read_tsv(line.as_slice(), &LabelMap::default()).expect("in-memory read");
        for e in examples {
            assert_valid(&e.text);
        }
    }

    #[test]
    fn mixed_scripts_and_controls(text in "[\\x00-\\x1f a-zA-Z0-9xX【】回T退订验证码￥$%.:/😀\\u{4e00}-\\u{4e20}]{0,200}") {
        assert_valid(&text);
    }
}
