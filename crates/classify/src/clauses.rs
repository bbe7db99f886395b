//! Splitting a message into clauses, so that an advert tacked onto a notice is read on its
//! own ("您的订单已发货。另外双11全场5折" is a shipping notice *and* an advert).
//!
//! Why clauses and not only the whole text: a linear model averages its evidence over the
//! message, so a long, clearly transactional notice can outvote a short selling tail (the
//! issue's example read 0.59 marketing as a whole; its tail alone reads far higher).
//!
//! A clause ends after sentence punctuation (`。！？；!?;` and a newline, `…`, and a `.`
//! followed by a space), and a new clause starts at a tail marker: `另外 顺便 同时 此外 另有
//! 附： 温馨提示 PS P.S. Also Plus, By the way Bonus: BTW`. Pieces with fewer than three
//! letters or ideographs are merged into their neighbour, so "！" or "PS" alone is never a
//! clause. The ranges index the original text, so a caller can quote the clause verbatim.

use std::ops::Range;

/// Chinese markers that open a tail clause.
const ZH_MARKERS: [&str; 9] = [
    "另外",
    "顺便",
    "同时",
    "此外",
    "另有",
    "附：",
    "附:",
    "温馨提示",
    "顺带",
];

/// Latin markers (matched case-insensitively at the start of a word).
const EN_MARKERS: [&str; 9] = [
    "ps:",
    "ps ",
    "p.s.",
    "also",
    "plus,",
    "by the way",
    "bonus:",
    "btw",
    "ps：",
];

fn ends_clause(c: char) -> bool {
    matches!(c, '。' | '！' | '？' | '；' | '!' | '?' | ';' | '\n' | '…')
}

/// Byte ranges of the clauses of `text`, in order, each trimmed of surrounding whitespace.
/// A text without a boundary is one clause; an empty text has none.
#[must_use]
pub fn clauses(text: &str) -> Vec<Range<usize>> {
    let mut cuts = vec![0];
    let bytes = text.as_bytes();
    // The last character that is not a space: a Latin marker opens a clause only after
    // punctuation ("shipped. Also:" yes, "can you also bring" no).
    let mut prev: Option<char> = None;
    for (i, c) in text.char_indices() {
        let after = i + c.len_utf8();
        if ends_clause(c) || (c == '.' && bytes.get(after).is_some_and(u8::is_ascii_whitespace)) {
            cuts.push(after);
        } else if starts_marker(&text[i..], prev) {
            cuts.push(i);
        }
        if !c.is_whitespace() {
            prev = Some(c);
        }
    }
    cuts.push(text.len());
    cuts.dedup();
    let mut out: Vec<Range<usize>> = Vec::new();
    for w in cuts.windows(2) {
        let r = trim(text, w[0]..w[1]);
        if r.is_empty() {
            continue;
        }
        match out.last_mut() {
            // A piece too short to read on its own joins the clause before it.
            Some(last) if letters(&text[r.clone()]) < 3 || letters(&text[last.clone()]) < 3 => {
                last.end = r.end;
            }
            _ => out.push(r),
        }
    }
    out
}

fn starts_marker(rest: &str, prev: Option<char>) -> bool {
    if ZH_MARKERS.iter().any(|m| rest.starts_with(m)) {
        return true;
    }
    // Latin markers only at the start of a sentence-like piece: "plus," yes, "surplus," no.
    if prev.is_some_and(char::is_alphanumeric) {
        return false;
    }
    let head = rest.get(..rest.len().min(12)).unwrap_or(rest);
    let Some(first) = head.chars().next() else {
        return false;
    };
    if !first.is_ascii_alphabetic() {
        return false;
    }
    let lower = head.to_ascii_lowercase();
    EN_MARKERS.iter().any(|m| {
        lower.starts_with(m)
            && !lower[m.len()..]
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphanumeric() && m.ends_with(char::is_alphabetic))
    })
}

fn trim(text: &str, r: Range<usize>) -> Range<usize> {
    let s = &text[r.clone()];
    let start = r.start + (s.len() - s.trim_start().len());
    let end = r.end - (s.len() - s.trim_end().len());
    start..end.max(start)
}

fn letters(s: &str) -> usize {
    s.chars().filter(|c| c.is_alphanumeric()).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(text: &str) -> Vec<&str> {
        clauses(text).into_iter().map(|r| &text[r]).collect()
    }

    #[test]
    fn notice_with_a_selling_tail_splits_at_the_marker() {
        assert_eq!(
            split("【好店旗舰店】您的订单已发货，预计明天送达另外双11全场5折"),
            vec![
                "【好店旗舰店】您的订单已发货，预计明天送达",
                "另外双11全场5折"
            ]
        );
        assert_eq!(
            split("Your parcel has shipped. Also: 50% off everything today!"),
            vec![
                "Your parcel has shipped.",
                "Also: 50% off everything today!"
            ]
        );
        assert_eq!(
            split("验证码1234，5分钟内有效。PS：会员日全场半价"),
            vec!["验证码1234，5分钟内有效。", "PS：会员日全场半价"]
        );
    }

    #[test]
    fn words_that_contain_a_marker_do_not_split() {
        assert_eq!(
            split("The surplus, also known"),
            vec!["The surplus,", "also known"]
        );
        assert_eq!(
            split("Can you also bring it"),
            vec!["Can you also bring it"]
        );
        assert_eq!(split("Alsoran psst"), vec!["Alsoran psst"]);
        assert_eq!(split("pstop plus"), vec!["pstop plus"]);
    }

    #[test]
    fn short_pieces_join_their_neighbour_and_empty_text_has_no_clause() {
        assert_eq!(split("好的！！谢谢"), vec!["好的！！谢谢"]);
        assert_eq!(split("Ok. See you at 5"), vec!["Ok. See you at 5"]);
        assert!(split("").is_empty());
        assert!(split("  \n ").is_empty());
        assert_eq!(split("一句话没有标点"), vec!["一句话没有标点"]);
    }
}
