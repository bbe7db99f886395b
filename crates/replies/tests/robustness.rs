//! Hostile and odd input never panics and never reads as consent.

use proptest::prelude::*;
use replies::{Intent, IntentParser, MAX_NORMALISED_CHARS, Reading, normalise};

fn parser() -> &'static IntentParser {
    static PARSER: std::sync::OnceLock<IntentParser> = std::sync::OnceLock::new();
    PARSER.get_or_init(IntentParser::default)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_strings_never_panic(text in any::<String>()) {
        let reading = parser().parse(&text);
        prop_assert_eq!(reading.matched.is_some(), reading.intent != Intent::Other);
        prop_assert!(!reading.all_senders || reading.intent == Intent::OptOut);
    }

    #[test]
    fn keyword_alphabet_soup_never_panics(text in "[T退订恤回复 ,.！？a-z全部不要再发*\u{3000}Ｔ]{0,40}") {
        let reading = parser().parse(&text);
        prop_assert_eq!(reading.matched.is_some(), reading.intent != Intent::Other);
    }

    #[test]
    fn normalising_twice_changes_nothing(text in "\\PC{0,60}") {
        let once = normalise(&text);
        prop_assert_eq!(normalise(&once), once);
    }

    #[test]
    fn keyword_survives_case_spacing_and_punctuation(
        pad in "[ .!。！，、\u{3000}]{0,4}",
        upper in any::<bool>(),
    ) {
        let word = if upper { "STOP" } else { "stop" };
        let text = format!("{pad}{word}{pad}");
        prop_assert_eq!(parser().intent(&text), Intent::OptOut);
    }
}

#[test]
fn empty_whitespace_and_emoji_are_other() {
    for text in ["", " ", "\n\t", "😀", "👍🏻👍🏻", "🇨🇳", "\u{200B}", "\u{FEFF}"] {
        assert_eq!(parser().parse(text), Reading::other(), "{text:?}");
    }
}

#[test]
fn control_characters_and_binary_junk_are_other() {
    let junk: String = (0u8..=31).map(char::from).collect();
    assert_eq!(parser().intent(&junk), Intent::Other);
    let bytes: Vec<u8> = (0..=255u8).cycle().take(4096).collect();
    let lossy = String::from_utf8_lossy(&bytes);
    let _ = parser().parse(&lossy);
    assert_eq!(parser().intent("\u{1b}[31m\u{7}"), Intent::Other);
}

/// A 10 KB essay is not a keyword reply; only its first characters are read, so a refusal at
/// the very end of one is not seen (documented in `normalise`).
#[test]
fn huge_input_is_capped() {
    let essay = "今天天气很好，我们去公园散步。".repeat(700);
    assert!(essay.len() > 10_000);
    assert_eq!(parser().intent(&essay), Intent::Other);
    assert!(normalise(&essay).chars().count() <= MAX_NORMALISED_CHARS);
    let tail = format!("{essay}不要再给我发广告了");
    assert_eq!(parser().intent(&tail), Intent::Other);
    let head = format!("不要再给我发广告了{essay}");
    assert_eq!(parser().intent(&head), Intent::OptOut);
    let stops = "STOP ".repeat(3000);
    assert_eq!(parser().intent(&stops), Intent::OptOut);
}

#[test]
fn reading_serialises_with_snake_case_intent() {
    let json = serde_json::to_value(parser().parse("全部退订")).unwrap_or_default();
    assert_eq!(json["intent"], "opt_out");
    assert_eq!(json["all_senders"], true);
    assert_eq!(json["matched"], "keyword:全部退订");
    let names: Vec<String> = Intent::ALL
        .iter()
        .map(|i| serde_json::to_string(i).unwrap_or_default())
        .collect();
    assert_eq!(
        names,
        ["\"opt_out\"", "\"help\"", "\"opt_in\"", "\"other\""]
    );
}

/// Regression names describe what broke (or would have).
#[test]
fn t_shirt_is_not_t() {
    assert_eq!(parser().intent("T恤还有货吗"), Intent::Other);
    assert_eq!(parser().intent("Ｔ恤"), Intent::Other);
}

#[test]
fn latin_keyword_next_to_chinese_has_a_boundary() {
    assert_eq!(
        parser().parse("回T退订").matched.as_deref(),
        Some("keyword:t")
    );
    assert_eq!(parser().intent("退订T"), Intent::OptOut);
}

#[test]
fn cancel_subscription_is_not_cancel_plus_subscribe() {
    assert_eq!(parser().intent("取消订阅"), Intent::OptOut);
}

#[test]
fn shipped_file_loads_like_the_embedded_default() {
    let path = std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../config/replies.toml"
    ));
    let parser = match IntentParser::from_path(path) {
        Ok(parser) => parser,
        Err(e) => panic!("{e}"),
    };
    assert_eq!(parser.parse("退订"), IntentParser::default().parse("退订"));
}

#[test]
fn bad_configs_are_errors_not_panics() {
    use replies::{ConfigError, RepliesConfig};
    let compile =
        |toml: &str| RepliesConfig::from_toml_str(toml).and_then(|c| IntentParser::new(&c));
    let empty_part = "[keywords]\n[[phrase]]\nintent = \"opt_out\"\npatterns = [\"*x\"]\n";
    assert!(matches!(compile(empty_part), Err(ConfigError::Invalid(_))));
    let other_rule = "[keywords]\n[[phrase]]\nintent = \"other\"\npatterns = [\"x\"]\n";
    assert!(matches!(compile(other_rule), Err(ConfigError::Invalid(_))));
    let bare = "[keywords]\nbare_only = [\"yes\"]\n";
    assert!(matches!(compile(bare), Err(ConfigError::Invalid(_))));
    let emoji = "[keywords]\nopt_out = [\"🙏\"]\n";
    assert!(matches!(compile(emoji), Err(ConfigError::Invalid(_))));
    assert!(matches!(
        compile("max_gap = \"x\""),
        Err(ConfigError::Parse(_))
    ));
}

/// Found by the proptest above in CI: dropping the backtick brought two combining marks of
/// different classes together, and a second normalisation reordered them.
#[test]
fn normalising_is_idempotent_when_punctuation_separated_combining_marks() {
    let once = replies::normalise("\u{1e01b}`\u{fb1e}");
    assert_eq!(replies::normalise(&once), once);
}
