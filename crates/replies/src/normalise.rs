//! Text normalisation: the one place where the many ways of typing a reply collapse into one.
//!
//! Consumers answer from every kind of phone and keyboard: full-width `Ｔ` from a Chinese IME,
//! `Stop!!!`, `退 订`, Traditional `退訂` from Hong Kong or Taiwan handsets, `ARRÊT` from a French
//! keyboard. Keywords and phrases in the config go through the very same function, so a rule
//! written once matches all of these. The steps, in order:
//!
//! 1. Cap the input at [`MAX_INPUT_BYTES`] (cut at a char boundary) and the output at
//!    [`MAX_NORMALISED_CHARS`]: a reply is an SMS, and a 10 KB essay is not a keyword reply; this
//!    bounds the work per message whatever a carrier hands us.
//! 2. NFKC (`Ｔ` → `T`, `①` → `1`, ideographic space → space), skipped when the quick check
//!    says the text is already NFKC, which is nearly always.
//! 3. Lower-case; Latin letters with diacritics lose them (`Ê` → `e`), so `ARRÊT` = `arret`.
//! 4. Apostrophes vanish (`don't` → `dont`); every other non-letter, non-digit (punctuation,
//!    symbols, emoji, control characters, whitespace) becomes a separator.
//! 5. Separators become one ASCII space only *between two space-delimited words* (Latin and the
//!    like). Next to CJK they vanish: Chinese has no spaces, so `退 订` = `退订` and `T 退订` =
//!    `t退订`. Matching later decides word boundaries by script, never by regex `\b`, which sees
//!    no boundary in `回T退订`.
//! 6. Traditional → Simplified Chinese (hanconv `t2s`), run only when a Traditional character
//!    was seen, because it allocates and most replies do not need it.

use std::sync::LazyLock;

use unicode_normalization::{IsNormalized, UnicodeNormalization, char::is_combining_mark};

/// Bytes of input looked at; the rest is ignored. Ten concatenated SMS segments fit.
pub const MAX_INPUT_BYTES: usize = 2048;

/// Characters of normalised text kept; the rest is ignored. Three UCS-2 SMS segments hold 201
/// characters and three GSM-7 ones 459, so a genuine reply always fits.
pub const MAX_NORMALISED_CHARS: usize = 480;

/// Returns the normalised form of `text` (see the module docs for the steps).
///
/// ```
/// assert_eq!(replies::normalise("Ｔ"), "t");
/// assert_eq!(replies::normalise("  Stop, please!! "), "stop please");
/// assert_eq!(replies::normalise("回复 T 退訂"), "回复t退订");
/// assert_eq!(replies::normalise("Don't text me"), "dont text me");
/// ```
#[must_use]
pub fn normalise(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(MAX_INPUT_BYTES));
    normalise_into(text, &mut out);
    out
}

/// Normalises `text` into `out` (cleared first), so a caller can reuse one buffer for many
/// messages and allocate nothing in steady state.
pub fn normalise_into(text: &str, out: &mut String) {
    out.clear();
    let text = truncate(text, MAX_INPUT_BYTES);
    let mut w = Writer::new(out);
    if text.is_ascii() {
        for &b in text.as_bytes() {
            if !w.push_ascii(b) {
                break;
            }
        }
        return;
    }
    let traditional = match unicode_normalization::is_nfkc_quick(text.chars()) {
        IsNormalized::Yes => w.push_all(text.chars()),
        _ => w.push_all(text.nfkc()),
    };
    // Dropping punctuation can bring combining marks together that NFKC orders (or composes)
    // differently; normalise the kept text once more so that normalising is idempotent.
    if unicode_normalization::is_nfkc_quick(out.chars()) != IsNormalized::Yes {
        let again: String = out.nfkc().collect();
        *out = again;
    }
    if traditional {
        let simplified = hanconv::t2s(out.as_str());
        out.clear();
        out.push_str(&simplified);
    }
}

/// True for characters of scripts written without spaces between words (Han, kana, Hangul).
/// Word boundaries next to them are implicit, so keyword matching may cut there.
#[must_use]
pub(crate) fn is_unspaced(c: char) -> bool {
    matches!(c as u32,
        0x3005..=0x3007 | 0x3040..=0x30FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF
        | 0xAC00..=0xD7AF | 0xF900..=0xFAFF | 0x20000..=0x3FFFF)
}

/// True for letters and digits of space-delimited scripts: two of these side by side belong to
/// the same word, so a match may not start or end between them.
#[must_use]
pub(crate) fn is_spaced_word(c: char) -> bool {
    c.is_ascii_alphanumeric() || (!c.is_ascii() && c.is_alphanumeric() && !is_unspaced(c))
}

pub(crate) fn truncate(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Class {
    None,
    Spaced,
    Unspaced,
}

/// Appends kept characters and decides where single spaces go (step 5 of the module docs).
struct Writer<'a> {
    out: &'a mut String,
    last: Class,
    pending_sep: bool,
    chars: usize,
}

impl<'a> Writer<'a> {
    fn new(out: &'a mut String) -> Self {
        Self {
            out,
            last: Class::None,
            pending_sep: false,
            chars: 0,
        }
    }

    /// Returns false once the output is full, so callers stop reading input.
    fn push(&mut self, c: char, class: Class) -> bool {
        if self.pending_sep && self.last == Class::Spaced && class == Class::Spaced {
            self.out.push(' ');
        }
        self.pending_sep = false;
        self.out.push(c);
        self.last = class;
        self.chars += 1;
        self.chars < MAX_NORMALISED_CHARS
    }

    fn separate(&mut self) {
        self.pending_sep = true;
    }

    fn push_ascii(&mut self, b: u8) -> bool {
        match b {
            b'a'..=b'z' | b'0'..=b'9' => self.push(b as char, Class::Spaced),
            b'A'..=b'Z' => self.push(b.to_ascii_lowercase() as char, Class::Spaced),
            b'\'' | b'`' => true,
            _ => {
                self.separate();
                true
            }
        }
    }

    /// Pushes every char; returns whether a Traditional Chinese character was seen.
    fn push_all(&mut self, chars: impl Iterator<Item = char>) -> bool {
        let mut traditional = false;
        for c in chars {
            let more = if c.is_ascii() {
                self.push_ascii(c as u8)
            } else if is_unspaced(c) {
                traditional |= is_traditional(c);
                self.push(c, Class::Unspaced)
            } else if c.is_alphanumeric() {
                self.push_letter(c)
            } else if matches!(c, '\u{2018}' | '\u{2019}' | '\u{02BC}') || is_combining_mark(c) {
                true
            } else {
                self.separate();
                true
            };
            if !more {
                break;
            }
        }
        traditional
    }

    /// Lower-cases a non-ASCII letter; Latin ones with a diacritic keep only their ASCII base.
    fn push_letter(&mut self, c: char) -> bool {
        let mut more = true;
        if (c as u32) < 0x250 {
            let mut base = None;
            unicode_normalization::char::decompose_canonical(c, |d| {
                if base.is_none() && d.is_ascii_alphanumeric() {
                    base = Some(d.to_ascii_lowercase());
                }
            });
            if let Some(b) = base {
                return self.push(b, Class::Spaced);
            }
        }
        for l in c.to_lowercase() {
            more = self.push(l, Class::Spaced);
        }
        more
    }
}

/// Traditional characters that hanconv would convert, as a bitmap over the main CJK blocks
/// (U+3400..U+9FFF) plus a sorted list for the rest: a lookup per character, no hashing.
struct TraditionalSet {
    bits: Vec<u64>,
    others: Vec<char>,
}

const BITMAP_START: u32 = 0x3400;
const BITMAP_END: u32 = 0xA000;

static TRADITIONAL: LazyLock<TraditionalSet> = LazyLock::new(|| {
    let mut bits = vec![0u64; ((BITMAP_END - BITMAP_START) / 64) as usize];
    let mut others = Vec::new();
    for (from, to) in hanconv::Dictionary::TSCharacters.iter() {
        let mut chars = from.chars();
        if let (Some(c), None) = (chars.next(), chars.next()) {
            if from == to {
                continue;
            }
            let u = c as u32;
            if (BITMAP_START..BITMAP_END).contains(&u) {
                let i = (u - BITMAP_START) as usize;
                bits[i / 64] |= 1 << (i % 64);
            } else {
                others.push(c);
            }
        }
    }
    others.sort_unstable();
    TraditionalSet { bits, others }
});

fn is_traditional(c: char) -> bool {
    let u = c as u32;
    let set = &*TRADITIONAL;
    if (BITMAP_START..BITMAP_END).contains(&u) {
        let i = (u - BITMAP_START) as usize;
        set.bits[i / 64] & (1 << (i % 64)) != 0
    } else {
        set.others.binary_search(&c).is_ok()
    }
}

/// Builds the lookup tables ahead of the first message, so no reply pays for them.
pub(crate) fn warm_up() {
    let _ = is_traditional('退');
    let _ = hanconv::t2s("訂");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_width_and_case() {
        assert_eq!(normalise("ＳＴＯＰ"), "stop");
        assert_eq!(normalise("Ｔ"), "t");
        assert_eq!(normalise("ⓣⓓ"), "td");
    }

    #[test]
    fn separators_only_between_latin_words() {
        assert_eq!(normalise("opt-out"), "opt out");
        assert_eq!(normalise("退 订 。"), "退订");
        assert_eq!(normalise("T 退订"), "t退订");
        assert_eq!(normalise("stop\u{3000}pls"), "stop pls");
        assert_eq!(normalise("退\u{200B}订"), "退订");
    }

    #[test]
    fn traditional_to_simplified() {
        assert_eq!(normalise("退訂"), "退订");
        assert_eq!(normalise("取消訂閱"), "取消订阅");
        assert_eq!(normalise("全部拒收"), "全部拒收");
    }

    #[test]
    fn diacritics_and_apostrophes() {
        assert_eq!(normalise("ARRÊT"), "arret");
        assert_eq!(normalise("don\u{2019}t"), "dont");
    }

    #[test]
    fn junk_and_caps() {
        assert_eq!(normalise(""), "");
        assert_eq!(normalise("😀😀🙏"), "");
        assert_eq!(normalise("\u{0}\u{7}\u{1b}[0m"), "0m");
        let long = "退订".repeat(5000);
        assert_eq!(normalise(&long).chars().count(), MAX_NORMALISED_CHARS);
        let latin = "a ".repeat(5000);
        assert!(normalise(&latin).len() <= MAX_INPUT_BYTES);
    }
}
