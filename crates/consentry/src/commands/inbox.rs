//! Reading what consumers and operators feed `consentry classify` and `triage`: text that
//! may be an inbox export from any phone, so never assumed to be clean.
//!
//! - **Encoding.** UTF-8 is expected. Chinese phones and Windows tools still export GBK; a
//!   line (or file) that is not valid UTF-8 but decodes as GB18030 without an error is
//!   decoded as such and counted, anything else is decoded lossily (U+FFFD) and counted.
//!   Nothing is dropped: the counts are reported so the user can re-save as UTF-8.
//! - **CSV.** The text column is found by its header name; a header without one is an
//!   error naming the columns (guessing "the last column" read phone numbers as messages),
//!   unless `--column` names it.
//! - **Empty lines** in a plain-text inbox hold no message: they are skipped and counted.

use anyhow::{Context, Result, bail};

/// How one line or file was decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decoded {
    /// Valid UTF-8.
    Utf8,
    /// Not UTF-8, but valid GBK/GB18030: decoded as that.
    Gbk,
    /// Neither: invalid bytes replaced by U+FFFD.
    Lossy,
}

impl Decoded {
    /// The name used in output (`"utf-8"`, `"gbk"`, `"lossy"`).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Decoded::Utf8 => "utf-8",
            Decoded::Gbk => "gbk",
            Decoded::Lossy => "lossy",
        }
    }
}

/// Decodes `bytes`: UTF-8, else GB18030 if that has no error, else lossy UTF-8.
#[must_use]
pub fn decode(bytes: &[u8]) -> (String, Decoded) {
    if let Ok(s) = std::str::from_utf8(bytes) {
        return (s.to_owned(), Decoded::Utf8);
    }
    let (text, had_errors) = encoding_rs::GB18030.decode_without_bom_handling(bytes);
    if !had_errors {
        return (text.into_owned(), Decoded::Gbk);
    }
    (String::from_utf8_lossy(bytes).into_owned(), Decoded::Lossy)
}

/// Counts of what reading an inbox did, for the user.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InputNotes {
    /// Lines (or the file) decoded as GBK.
    pub gbk: usize,
    /// Lines with bytes that were neither UTF-8 nor GBK (replaced).
    pub lossy: usize,
    /// Empty lines skipped (plain-text inboxes only).
    pub empty_skipped: usize,
}

impl InputNotes {
    /// Counts one decoding.
    pub fn count(&mut self, d: Decoded) {
        match d {
            Decoded::Utf8 => {}
            Decoded::Gbk => self.gbk += 1,
            Decoded::Lossy => self.lossy += 1,
        }
    }

    /// One line for stderr, or `None` when there is nothing to say.
    #[must_use]
    pub fn warning(&self) -> Option<String> {
        let mut parts = Vec::new();
        if self.gbk > 0 {
            parts.push(format!("{} decoded as GBK", self.gbk));
        }
        if self.lossy > 0 {
            parts.push(format!(
                "{} had bytes that are neither UTF-8 nor GBK (shown as �)",
                self.lossy
            ));
        }
        (!parts.is_empty()).then(|| {
            format!(
                "note: input is not all UTF-8: {}; re-save it as UTF-8 to be sure",
                parts.join(", ")
            )
        })
    }
}

/// Names a CSV text column may have in an inbox export.
pub const TEXT_COLUMNS: [&str; 8] = [
    "text",
    "body",
    "content",
    "message",
    "sms",
    "内容",
    "短信内容",
    "正文",
];

/// Messages of a CSV export: the column named `column`, else the one whose header is one of
/// [`TEXT_COLUMNS`]. The whole file is decoded first (UTF-8, else GBK, else lossy).
///
/// # Errors
/// No such column (the error lists the header), or a malformed record (named by line).
pub fn csv_messages(
    bytes: &[u8],
    column: Option<&str>,
    notes: &mut InputNotes,
) -> Result<Vec<String>> {
    let (text, decoded) = decode(bytes);
    notes.count(decoded);
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(true)
        .from_reader(text.as_bytes());
    let headers = reader.headers().context("reading the CSV header")?.clone();
    let wanted = |h: &str| {
        let h = h.trim().trim_start_matches('\u{feff}').to_lowercase();
        match column {
            Some(c) => h == c.trim().to_lowercase(),
            None => TEXT_COLUMNS.contains(&h.as_str()),
        }
    };
    let Some(index) = headers.iter().position(wanted) else {
        let names: Vec<&str> = headers.iter().collect();
        match column {
            Some(c) => bail!("no column {c:?} in the CSV header ({})", names.join(", ")),
            None => bail!(
                "no text column in the CSV header ({}): expected one of {}, or name it with \
                 --column",
                names.join(", "),
                TEXT_COLUMNS.join("/")
            ),
        }
    };
    let mut out = Vec::new();
    for (i, row) in reader.records().enumerate() {
        let row = row.with_context(|| format!("reading CSV record {}", i + 2))?;
        // A short record has an empty message rather than disappearing.
        out.push(row.get(index).unwrap_or_default().to_owned());
    }
    Ok(out)
}

/// Messages of a plain-text inbox, one per line; empty lines are skipped and counted.
#[must_use]
pub fn line_messages(bytes: &[u8], notes: &mut InputNotes) -> Vec<String> {
    let mut out = Vec::new();
    for line in bytes.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let (text, d) = decode(line);
        notes.count(d);
        if text.trim().is_empty() {
            notes.empty_skipped += 1;
        } else {
            out.push(text);
        }
    }
    // The split yields one empty piece after a final newline: not a line of the file.
    if bytes.ends_with(b"\n") || bytes.is_empty() {
        notes.empty_skipped = notes.empty_skipped.saturating_sub(1);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gbk_is_decoded_and_garbage_is_lossy() {
        let (gbk, _, _) = encoding_rs::GBK.encode("您的快件已到驿站");
        assert_eq!(decode(&gbk), ("您的快件已到驿站".to_owned(), Decoded::Gbk));
        assert_eq!(decode("好".as_bytes()).1, Decoded::Utf8);
        assert_eq!(decode(b"\xff\xff\xff").1, Decoded::Lossy);
    }

    #[test]
    fn csv_without_a_text_column_is_an_error_naming_the_header() {
        let mut n = InputNotes::default();
        let e = csv_messages(b"a,b\n1,first\n", None, &mut n).unwrap_err();
        assert!(e.to_string().contains("(a, b)"), "{e}");
        let named = csv_messages(b"a,b\n1,first\n2\n", Some("B"), &mut n).unwrap();
        assert_eq!(named, vec!["first", ""]);
        let found = csv_messages("time,内容\n1,晚上吃饭吗\n".as_bytes(), None, &mut n).unwrap();
        assert_eq!(found, vec!["晚上吃饭吗"]);
    }

    #[test]
    fn empty_lines_are_counted_not_lost() {
        let mut n = InputNotes::default();
        let m = line_messages(b"a\n\n  \nb\r\n", &mut n);
        assert_eq!(m, vec!["a", "b"]);
        assert_eq!(n.empty_skipped, 2);
    }
}
