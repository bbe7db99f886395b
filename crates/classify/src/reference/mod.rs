//! The normaliser and feature extractor exactly as they were before the speed-up (commit
//! db86b93), kept verbatim as the reference that the fast code must reproduce bit for bit:
//! same normalised text, same structure counts, same feature ids in the same order, and so
//! the same logits and scores. Test-only.
#![allow(dead_code)]

pub mod features;
pub mod links;
pub mod normalise;

use crate::model::{MAX_LABELS, Model, sigmoid};

/// Logits as the model computed them before the speed-up, from the reference pipeline.
fn reference_logits(model: &Model, text: &str) -> [f32; MAX_LABELS] {
    let n = normalise::normalise(text);
    let mut ids = Vec::new();
    features::extract(&n, model.bits, &mut ids);
    let k = model.labels.len();
    let mut acc = [0i32; MAX_LABELS];
    for &id in &ids {
        let base = id as usize * k;
        if let Some(row) = model.weights.get(base..base + k) {
            for (a, &w) in acc.iter_mut().zip(row) {
                *a += i32::from(w);
            }
        }
    }
    let mut out = [0f32; MAX_LABELS];
    #[allow(clippy::cast_precision_loss)]
    let v = model.scale / (ids.len().max(1) as f32).sqrt();
    #[allow(clippy::cast_precision_loss)]
    for c in 0..k {
        out[c] = model.bias[c] + acc[c] as f32 * v;
    }
    out
}

/// A deterministic pseudo-random generator (splitmix64), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % n as u64).unwrap_or(0)
    }
}

/// Pieces that exercise every branch of the normaliser: Chinese (simplified and
/// traditional), full-width forms, compatibility characters, combining marks, case,
/// emoji, controls, links, masked and real digits, the public sets' placeholders.
fn pieces() -> Vec<String> {
    let mut p: Vec<String> = [
        "验证码",
        "您的",
        "快件",
        "已到达",
        "退订",
        "拒收",
        "回T退订",
        "回 t 退订",
        "全场",
        "低至",
        "5折",
        "折",
        "【京东】",
        "【",
        "】",
        "银行",
        "驗證碼",
        "銀行",
        "優惠",
        "點擊",
        "領取",
        "ＴＤ",
        "Ｔ",
        "８３７２１５",
        "，",
        "。",
        "！",
        "：",
        "（",
        "）",
        "　",
        "\u{3000}",
        "、",
        "¥",
        "$",
        "£",
        "€",
        "元",
        "块",
        "%",
        "万",
        "p",
        "off",
        " off",
        "% off",
        "OFF",
        "FREE",
        "URGENT",
        "Win",
        "WIN a PRIZE",
        "txt",
        "msg",
        "2nite",
        "FREEmsg",
        "stop",
        "STOP",
        "unsubscribe",
        "opt out",
        "don't",
        "'",
        "''",
        "a",
        "ab",
        "abc",
        "Reply",
        "call",
        "http://",
        "https://",
        "www.",
        "t.cn/A6x8Kd",
        "3.cn/2Kx-p9",
        "icbc-verify.top",
        "https://www.example.com/orders?a=1&b=2#x",
        "foo@bar.com",
        "bit.ly/xyz",
        "u.jd.com/a",
        "12.50",
        "wear.t",
        "a.b.c",
        "1.2.3.4",
        "example.com.",
        "x",
        "X",
        "xx",
        "xxx",
        "xxxx",
        "x月x日",
        "xxx元",
        "xbox",
        "Xmas",
        "xxxxxxxxxxx",
        "0",
        "1",
        "12",
        "123",
        "1234",
        "12345678",
        "123456789",
        "13800138000",
        "6-2-3051",
        "1-2-3-4-5-6-7-8-9",
        "400-820-8820",
        "-",
        "--",
        "5g",
        "mp3",
        "DIGIT",
        "CELLPHONE",
        "URL",
        "NAME",
        "PLACE",
        "DIGITS",
        "digit",
        "\u{E001}",
        "\u{E002}",
        "\u{E003}",
        "\u{E004}",
        "\u{E005}",
        "\u{E0FF}",
        "😀",
        "🎉",
        "👍🏽",
        "❤️",
        "\u{200B}",
        "\u{FEFF}",
        "\u{0}",
        "\u{7}",
        "\u{1b}[31m",
        "\u{7f}",
        "\u{85}",
        "\u{a0}",
        "\t",
        "\n",
        "\r\n",
        " ",
        "  ",
        "e\u{301}",
        "\u{301}",
        "a\u{308}",
        "\u{308}",
        "\u{327}\u{301}",
        "o\u{323}\u{302}",
        "\u{1100}\u{1161}\u{11A8}",
        "\u{AC00}\u{11A8}",
        "한국어",
        "\u{F900}",
        "\u{FA0A}",
        "\u{2F800}",
        "ﬁ",
        "㈱",
        "½",
        "²",
        "①",
        "Ⅻ",
        "ⅻ",
        "㎏",
        "℡",
        "™",
        "Ω",
        "Å",
        "K",
        "İ",
        "ẞ",
        "ß",
        "Σ",
        "ς",
        "ΑΒΓ",
        "ДОБРО",
        "Ǆ",
        "ǅ",
        "ﾃｽﾄ",
        "ｶﾞ",
        "ｶ\u{ff9e}",
        "が",
        "か\u{3099}",
        "\u{3099}",
        "ㄱ",
        "𠮷",
        "𠀀",
        "\u{20000}",
        "\u{2A6D6}",
        "丟",
        "乾",
        "髮",
        "發",
        "後",
        "著",
        "裏",
        "麵",
        "\u{FF01}",
        "\u{FF5E}",
        "\u{FF61}",
        "\u{FFE5}",
        "\u{FFE0}",
        "\u{FE30}",
        "\u{FE4F}",
        "\u{2E80}",
        "\u{2F00}",
        "\u{3400}",
        "\u{4DBF}",
        "\u{9FFF}",
        "\u{A000}",
        "\u{D7A3}",
        "\u{E000}",
        "\u{F8FF}",
        "\u{10FFFF}",
        "\u{1D400}",
        "\u{1F1E8}\u{1F1F3}",
    ]
    .iter()
    .map(|s| (*s).to_string())
    .collect();
    // Every single-character Traditional → Simplified entry (and its target), so the
    // dense table and the out-of-block map are both covered.
    for (from, to) in hanconv::RawDictionary::TSCharacters.iter() {
        if from.chars().count() == 1 {
            p.push(from.to_string());
            p.push(to.chars().next().map(String::from).unwrap_or_default());
        }
    }
    p
}

/// Texts to compare: every line of the shared data and corpus files (raw, and the text
/// field as loaded), every piece alone, and random concatenations of pieces, including
/// long ones.
fn texts() -> Vec<String> {
    let mut out = Vec::new();
    let mut files = Vec::new();
    if let Some(dir) = crate::datasets::shared_data_dir() {
        for e in std::fs::read_dir(&dir).expect("shared data dir").flatten() {
            files.push(e.path());
        }
    } else {
        eprintln!("shared data not found: comparing on the corpus and generated text only");
    }
    for e in std::fs::read_dir(crate::datasets::corpus_dir())
        .expect("corpus dir")
        .flatten()
    {
        files.push(e.path());
    }
    files.retain(|p| p.extension().is_some_and(|e| e == "tsv"));
    files.sort();
    for f in &files {
        let bytes = std::fs::read(f).expect("readable data file");
        for line in String::from_utf8_lossy(&bytes).lines() {
            out.push(line.to_string());
            if let Some((_, text)) = line.split_once('\t') {
                out.push(text.to_string());
            }
        }
    }
    let pieces = pieces();
    out.extend(pieces.iter().cloned());
    let mut rng = Rng(0x5EED);
    for i in 0..60_000 {
        let n = if i % 500 == 0 {
            2000
        } else {
            1 + rng.below(12)
        };
        let mut s = String::new();
        for _ in 0..n {
            s.push_str(&pieces[rng.below(pieces.len())]);
            if rng.below(4) == 0 {
                s.push(' ');
            }
        }
        out.push(s);
    }
    // Random characters from the whole of Unicode, some of them unassigned.
    for _ in 0..20_000 {
        let s: String = (0..1 + rng.below(16))
            .filter_map(|_| {
                let u = match rng.below(4) {
                    0 => rng.below(0x80),
                    1 => rng.below(0x3000),
                    2 => 0x3000 + rng.below(0xD000),
                    _ => rng.below(0x11_0000),
                };
                char::from_u32(u32::try_from(u).ok()?)
            })
            .collect();
        out.push(s);
    }
    out
}

#[test]
fn fast_pipeline_is_bit_identical_to_the_reference() {
    let model = Model::default_model().expect("embedded model");
    let texts = texts();
    assert!(texts.len() > 100_000, "{} texts", texts.len());
    let mut normaliser = crate::normalise::Normaliser::new();
    let mut fast = crate::normalise::Normalised::default();
    let (mut ids, mut ref_ids, mut ids16, mut ref_ids16) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for text in &texts {
        let want = normalise::normalise(text);
        normaliser.normalise_into(text, &mut fast);
        assert_eq!(fast.text, want.text, "normalised text of {text:?}");
        let (a, b) = (fast.structure, want.structure);
        assert_eq!(
            (
                a.urls,
                a.short_urls,
                a.suspicious_urls,
                a.phones,
                a.codes,
                a.caps_words,
                a.chars
            ),
            (
                b.urls,
                b.short_urls,
                b.suspicious_urls,
                b.phones,
                b.codes,
                b.caps_words,
                b.chars
            ),
            "structure of {text:?}"
        );
        assert_eq!(crate::normalise::normalise(text).text, want.text);
        crate::features::extract(&fast, 20, &mut ids);
        features::extract(&want, 20, &mut ref_ids);
        assert_eq!(ids, ref_ids, "feature ids of {text:?}");
        crate::features::extract(&fast, 16, &mut ids16);
        features::extract(&want, 16, &mut ref_ids16);
        assert_eq!(ids16, ref_ids16, "16-bit feature ids of {text:?}");

        let want = reference_logits(&model, text);
        let mut got = [0f32; MAX_LABELS];
        model.logits(text, &mut got);
        let bits = |l: &[f32; MAX_LABELS]| l.map(f32::to_bits);
        assert_eq!(bits(&got), bits(&want), "logits of {text:?}");
        let scores = model.classify(text);
        let k = model.labels().len();
        let best = (1..k).fold(0, |b, c| if want[c] > want[b] { c } else { b });
        assert_eq!(
            scores.category,
            model.labels()[best],
            "category of {text:?}"
        );
        assert_eq!(model.predict(text), best, "prediction of {text:?}");
        for (c, (label, p)) in scores.scores.iter().enumerate() {
            assert_eq!(*label, model.labels()[c]);
            assert_eq!(p.to_bits(), sigmoid(want[c]).to_bits(), "score of {text:?}");
        }
    }
}
