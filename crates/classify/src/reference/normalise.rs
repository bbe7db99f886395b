//! Text normalisation: one canonical form for SMS from any source.
//!
//! The model must generalise from three public sets that were each mangled differently
//! (pre-segmented words with `DIGIT`/`URL` placeholders, digits masked as `x`) to real
//! traffic. So every surface form of a number, link or phone number is rewritten to one
//! private-use placeholder character, and the structure the placeholder hides (code length,
//! short link) is kept aside in [`Structure`] counters.
//!
//! Steps: NFKC (full-width `Ｔ` → `T`), lowercase, Traditional → Simplified (single-character
//! OpenCC table from `hanconv`), control characters → space, placeholders, and spaces dropped
//! unless they separate two Latin words (so `回 T 退订` and `回T退订` read alike).

use super::links::{is_urlish, url_kind};
use std::collections::HashMap;
use std::sync::OnceLock;
use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfkc_quick};

/// A number of 1–3 digits, or a number of unknown length (`DIGIT` in the fake-base-station set).
pub const NUM: char = '\u{E001}';
/// A run of 4–8 digits: the shape of a verification code (or a year).
pub const CODE: char = '\u{E002}';
/// Nine or more digits, or digit groups joined by `-`: a phone or account number.
pub const PHONE: char = '\u{E003}';
/// A web link or e-mail address.
pub const URL: char = '\u{E004}';
/// A redacted name or place (`NAME`, `PLACE` placeholders).
pub const NAME: char = '\u{E005}';

/// Counts of structure that the placeholders hide; read by the feature extractor.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Structure {
    /// Links of any kind.
    pub urls: u16,
    /// Links on a known shortener or a very short host (`t.cn/xyz`), typical of campaigns.
    pub short_urls: u16,
    /// Links on a hyphenated host or a cheap top-level domain (`.top`, `.vip`, `.xyz`…).
    pub suspicious_urls: u16,
    /// Phone-shaped numbers.
    pub phones: u16,
    /// Runs of 4–8 real digits (not masked), the shape of a one-time code.
    pub codes: u16,
    /// Words of three or more capital Latin letters ("FREE", "URGENT"), which NFKC and
    /// lowercasing would otherwise erase.
    pub caps_words: u16,
    /// Characters in the original text (for length and segment features).
    pub chars: u32,
}

/// Normalised text plus the structure counts gathered while normalising.
#[derive(Debug, Clone, Default)]
pub struct Normalised {
    /// The canonical text; see the module docs for the alphabet.
    pub text: String,
    /// Counts of links, phones and codes.
    pub structure: Structure,
}

/// Reusable buffers so that classifying a message allocates nothing in the steady state.
#[derive(Debug, Default)]
pub struct Normaliser {
    chars: Vec<char>,
}

/// Traditional → Simplified for single characters. The hot range (CJK ideographs in the BMP)
/// is a dense `u16` table, because a hash-map lookup per character cost a fifth of the time
/// of classifying a Chinese message; anything else goes through the map.
struct T2s {
    dense: Vec<u16>,
    rest: HashMap<char, char>,
}

const DENSE_START: u32 = 0x3400;
const DENSE_END: u32 = 0xA000;

impl T2s {
    #[inline]
    fn get(&self, c: char) -> char {
        let u = c as u32;
        if (DENSE_START..DENSE_END).contains(&u) {
            match self.dense[(u - DENSE_START) as usize] {
                0 => c,
                v => char::from_u32(u32::from(v)).unwrap_or(c),
            }
        } else if u < 0x2E80 {
            c
        } else {
            self.rest.get(&c).copied().unwrap_or(c)
        }
    }
}

fn t2s_table() -> &'static T2s {
    static TABLE: OnceLock<T2s> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut t = T2s {
            dense: vec![0; (DENSE_END - DENSE_START) as usize],
            rest: HashMap::new(),
        };
        for (from, to) in hanconv::RawDictionary::TSCharacters.iter() {
            let mut f = from.chars();
            let mut to = to.chars();
            let (Some(a), None, Some(b)) = (f.next(), f.next(), to.next()) else {
                continue;
            };
            if a == b {
                continue;
            }
            let (ua, ub) = (a as u32, b as u32);
            match u16::try_from(ub) {
                Ok(v) if (DENSE_START..DENSE_END).contains(&ua) => {
                    t.dense[(ua - DENSE_START) as usize] = v
                }
                _ => {
                    t.rest.insert(a, b);
                }
            }
        }
        t
    })
}

/// True for characters that make up Chinese text: ideographs, CJK punctuation, full-width
/// forms and our placeholders. Spaces next to these carry no meaning.
#[must_use]
pub fn is_cjk_like(c: char) -> bool {
    matches!(c as u32,
        0x2E80..=0x9FFF | 0xAC00..=0xD7AF | 0xE000..=0xE0FF | 0xF900..=0xFAFF
        | 0xFE30..=0xFE4F | 0xFF00..=0xFFEF | 0x20000..=0x3FFFF)
}

/// True for CJK ideographs only (used to decide where character trigrams are taken).
#[must_use]
pub fn is_ideograph(c: char) -> bool {
    matches!(c as u32, 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x3FFFF)
}

impl Normaliser {
    /// A normaliser with empty buffers.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Normalises `text` into `out` (cleared first).
    pub fn normalise_into(&mut self, text: &str, out: &mut Normalised) {
        out.text.clear();
        out.structure = Structure::default();
        self.chars.clear();
        if text.is_ascii() || is_nfkc_quick(text.chars()) == IsNormalized::Yes {
            self.chars.extend(text.chars());
        } else {
            self.chars.extend(text.nfkc());
        }
        out.structure.chars = u32::try_from(self.chars.len()).unwrap_or(u32::MAX);
        let table = t2s_table();
        let chars = &self.chars;
        let mut pending_space = false;
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            if c.is_whitespace() || c.is_control() {
                pending_space = true;
                i += 1;
                continue;
            }
            if c.is_ascii_alphanumeric() && (i == 0 || !is_urlish(chars[i - 1])) {
                let end = i + chars[i..].iter().take_while(|&&c| is_urlish(c)).count();
                if let Some(p) = placeholder(&chars[i..end]) {
                    push(out, p, &mut pending_space);
                    i = end;
                    continue;
                }
                let word = chars[i..end]
                    .iter()
                    .take_while(|c| c.is_ascii_alphabetic())
                    .count();
                if word >= 3 && chars[i..i + word].iter().all(char::is_ascii_uppercase) {
                    out.structure.caps_words += 1;
                }
                if let Some(kind) = url_kind(&chars[i..end]) {
                    out.structure.urls += 1;
                    out.structure.short_urls += u16::from(kind.short);
                    out.structure.suspicious_urls += u16::from(kind.suspicious);
                    push(out, URL, &mut pending_space);
                    i = end;
                    continue;
                }
            }
            if c.is_ascii_digit() || (matches!(c, 'x' | 'X') && is_masked_digit(chars, i)) {
                i = self.number(i, out, &mut pending_space);
                continue;
            }
            let lower = if c.is_ascii() {
                c.to_ascii_lowercase()
            } else {
                // Ideographs have no case: skip the Unicode case tables for them.
                let l = if is_ideograph(c) {
                    c
                } else {
                    c.to_lowercase().next().unwrap_or(c)
                };
                table.get(l)
            };
            push(out, lower, &mut pending_space);
            i += 1;
        }
    }

    /// Consumes a run of digits (real or masked as `x`, optionally joined by `-`) at `start`
    /// and emits one placeholder by its length. Returns the index after the run.
    fn number(&self, start: usize, out: &mut Normalised, pending_space: &mut bool) -> usize {
        let chars = &self.chars;
        let mut i = start;
        let mut digits = 0usize;
        let mut masked = false;
        let mut joined = false;
        while i < chars.len() {
            let c = chars[i];
            if c.is_ascii_digit() {
                digits += 1;
            } else if matches!(c, 'x' | 'X') && (digits > 0 || is_masked_digit(chars, i)) {
                digits += 1;
                masked = true;
            } else if c == '-' && digits > 0 && chars.get(i + 1).is_some_and(char::is_ascii_digit) {
                joined = true;
            } else {
                break;
            }
            i += 1;
        }
        // A letter glued to the run ("5g", "mp3") keeps it a word-ish number, still a NUM.
        let p = if digits >= 9 || (joined && digits >= 7) {
            out.structure.phones += 1;
            PHONE
        } else if digits >= 4 {
            out.structure.codes += u16::from(!masked && !joined);
            CODE
        } else {
            NUM
        };
        push(out, p, pending_space);
        i.max(start + 1)
    }
}

/// Emits `c`, first emitting a pending space only where it separates two Latin words.
fn push(out: &mut Normalised, c: char, pending_space: &mut bool) {
    if *pending_space {
        let prev_latin = out
            .text
            .chars()
            .next_back()
            .is_some_and(|p| p.is_ascii_alphanumeric() || p == '\'');
        if prev_latin && (c.is_ascii_alphanumeric() || c == '\'') {
            out.text.push(' ');
        }
        *pending_space = false;
    }
    out.text.push(c);
}

/// `x` stands for a masked digit in the Chinese spam set: a run of `x` not glued to other
/// Latin letters, and either long (`xxxx`) or next to Chinese or digits (`x月x日`).
fn is_masked_digit(chars: &[char], i: usize) -> bool {
    if !matches!(chars[i], 'x' | 'X') {
        return false;
    }
    let start = chars[..i]
        .iter()
        .rposition(|c| !matches!(c, 'x' | 'X'))
        .map_or(0, |p| p + 1);
    let end = i + chars[i..]
        .iter()
        .take_while(|c| matches!(c, 'x' | 'X'))
        .count();
    let before = start.checked_sub(1).map(|p| chars[p]);
    let after = chars.get(end).copied();
    let glued = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphabetic());
    if glued(before) || glued(after) {
        return false;
    }
    let context = |c: Option<char>| c.is_some_and(|c| is_cjk_like(c) || c.is_ascii_digit());
    end - start >= 3 || context(before) || context(after)
}

fn placeholder(run: &[char]) -> Option<char> {
    // Compared in place: this runs at the start of every Latin word, so no allocation.
    let is = |w: &str| run.len() == w.len() && run.iter().zip(w.chars()).all(|(&a, b)| a == b);
    if is("DIGIT") {
        Some(NUM)
    } else if is("CELLPHONE") {
        Some(PHONE)
    } else if is("URL") {
        Some(URL)
    } else if is("NAME") || is("PLACE") {
        Some(NAME)
    } else {
        None
    }
}

/// Normalises one message (convenience wrapper allocating fresh buffers).
#[must_use]
pub fn normalise(text: &str) -> Normalised {
    let mut out = Normalised::default();
    Normaliser::new().normalise_into(text, &mut out);
    out
}
