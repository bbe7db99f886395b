//! The classifier's pipeline pinned: normalisation, structure counts and feature ids over a
//! fixed set of texts hash to a committed digest, so any change to what the model sees is a
//! deliberate one (update the digest and retrain the default model in the same commit — the
//! recipe test in `crates/consentry/tests/classify_cli.rs` then checks the model file).
//!
//! This replaced a frozen copy of the pre-speed-up pipeline (`src/reference/`, removed in
//! session 2) that had proven the fast normaliser and extractor bit-identical to the plain
//! ones; the digests below were computed while that oracle still passed. The fast scorer is
//! still compared with a plain sum of weights on every text. Test-only.

use crate::features::extract;
use crate::model::{MAX_LABELS, Model, sigmoid};
use crate::normalise::{Normalised, Normaliser, normalise};

/// Digest of the pipeline's output on the corpus and the generated texts (no shared data).
const GENERATED_DIGEST: u64 = 0x1b07_5022_a9c4_5323;
/// Digest of the pipeline's output on every line of `../shared/data/sms/*.tsv`.
const SHARED_DIGEST: u64 = 0x1c2a_01bf_04cf_28fd;

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

/// The pinned texts: every corpus line (raw, and its text field), every piece alone, random
/// concatenations of pieces (some 2,000 pieces long) and random characters from all of
/// Unicode.
fn texts() -> Vec<String> {
    let mut out = lines_of(&crate::datasets::corpus_dir());
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

/// Every line of the `*.tsv` files in `dir` (raw, and the text field as loaded), or nothing
/// when `dir` does not exist.
fn lines_of(dir: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    let Ok(files) = crate::io::tsv_files(dir) else {
        return out;
    };
    for f in files.iter().filter(|f| f.is_file()) {
        let bytes = std::fs::read(f).expect("readable data file");
        for line in String::from_utf8_lossy(&bytes).lines() {
            out.push(line.to_string());
            if let Some((_, text)) = line.split_once('\t') {
                out.push(text.to_string());
            }
        }
    }
    out
}

/// FNV-1a over everything the model sees of each text: normalised text, structure counts,
/// feature ids at 20 and 16 bits.
fn digest(texts: &[String]) -> u64 {
    let mut h = 0xCBF2_9CE4_8422_2325u64;
    let mut eat = |bytes: &[u8]| {
        for &b in bytes {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01B3);
        }
    };
    let mut normaliser = Normaliser::new();
    let mut n = Normalised::default();
    let mut ids = Vec::new();
    for text in texts {
        normaliser.normalise_into(text, &mut n);
        assert_eq!(
            normalise(text).text,
            n.text,
            "one-off and reused normaliser differ"
        );
        eat(n.text.as_bytes());
        eat(&[0xFF]);
        let s = n.structure;
        for v in [
            s.urls,
            s.short_urls,
            s.suspicious_urls,
            s.phones,
            s.codes,
            s.caps_words,
        ] {
            eat(&v.to_le_bytes());
        }
        eat(&s.chars.to_le_bytes());
        for bits in [20, 16] {
            extract(&n, bits, &mut ids);
            for id in &ids {
                eat(&id.to_le_bytes());
            }
            eat(&u32::MAX.to_le_bytes());
        }
    }
    h
}

fn check(name: &str, got: u64, want: u64) {
    assert_eq!(
        got, want,
        "{name}: the normaliser or the feature extractor now gives other output (digest \
         {got:#018x}). If that is intended, set {name} to it and retrain the default model with \
         models/classify-cascade.toml in the same commit."
    );
}

#[test]
fn the_pipeline_output_is_pinned() {
    let texts = texts();
    assert!(texts.len() > 80_000, "{} texts", texts.len());
    check("GENERATED_DIGEST", digest(&texts), GENERATED_DIGEST);
    match crate::datasets::shared_data_dir() {
        Some(dir) => check("SHARED_DIGEST", digest(&lines_of(&dir)), SHARED_DIGEST),
        None => eprintln!("shared data not found: SHARED_DIGEST not checked"),
    }
}

/// Logits as a plain loop over the weights would compute them.
fn plain_logits(model: &Model, text: &str) -> [f32; MAX_LABELS] {
    let mut ids = Vec::new();
    extract(&normalise(text), model.bits, &mut ids);
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

#[test]
fn the_fast_scorer_equals_a_plain_sum_of_weights() {
    // The first pass: a cascade's second stage replaces some of these logits on purpose (its
    // own tests in `cascade.rs` cover it).
    let model = Model::default_model().expect("embedded model").first_pass();
    let k = model.labels().len();
    for text in &texts() {
        let want = plain_logits(&model, text);
        let mut got = [0f32; MAX_LABELS];
        model.logits(text, &mut got);
        let bits = |l: &[f32; MAX_LABELS]| l.map(f32::to_bits);
        assert_eq!(bits(&got), bits(&want), "logits of {text:?}");
        // The category is the arg-max of the calibrated logits a·z + b.
        let cal = |c: usize| {
            let (a, b) = model.calibration()[c];
            a * want[c] + b
        };
        let best = (1..k).fold(0, |b, c| if cal(c) > cal(b) { c } else { b });
        assert_eq!(model.predict(text), best, "prediction of {text:?}");
        let scores = model.classify(text);
        assert_eq!(
            scores.category,
            model.labels()[best],
            "category of {text:?}"
        );
        for (c, (label, p)) in scores.scores.iter().enumerate() {
            assert_eq!(*label, model.labels()[c]);
            let (a, b) = model.calibration()[c];
            assert_eq!(
                p.to_bits(),
                sigmoid(a * want[c] + b).to_bits(),
                "score of {text:?}"
            );
        }
    }
}

#[test]
#[ignore = "prints the digests; run when they are meant to change"]
fn print_digests() {
    println!("GENERATED_DIGEST {:#018x}", digest(&texts()));
    if let Some(dir) = crate::datasets::shared_data_dir() {
        println!("SHARED_DIGEST {:#018x}", digest(&lines_of(&dir)));
    }
}
