//! Reading the CSV files people hand to the CLI (`import consents`, `check`).
//!
//! Excel on Chinese Windows saves "CSV" in GBK. Read as UTF-8, such a file failed row by row
//! with "invalid utf-8" and no hint (issue #14, item 11). It is refused whole, saying what it
//! is and what to do: decoding it silently would guess, and a wrong guess imports garbled
//! evidence into a ledger that cannot be edited.

use std::path::Path;

use anyhow::{Context, Result, bail};

/// The file's text, without a UTF-8 byte-order mark; a GBK (or other non-UTF-8) file is an
/// error that says to re-save it as UTF-8.
pub fn read_utf8(file: &Path) -> Result<String> {
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    match std::str::from_utf8(bytes) {
        Ok(text) => Ok(text.to_string()),
        Err(e) => {
            let line = bytes[..e.valid_up_to()]
                .iter()
                .filter(|b| **b == b'\n')
                .count()
                + 1;
            let (gbk, _, malformed) = encoding_rs::GBK.decode(bytes);
            if malformed {
                bail!(
                    "{}: line {line} is not UTF-8 (nor GBK); re-save the file as UTF-8",
                    file.display()
                );
            }
            let sample: String = gbk
                .lines()
                .nth(line - 1)
                .unwrap_or_default()
                .chars()
                .take(40)
                .collect();
            bail!(
                "{}: the file is GBK-encoded, not UTF-8 (line {line} reads as GBK: {sample:?}); \
                 re-save it as UTF-8 (in Excel: Save As → \"CSV UTF-8\")",
                file.display()
            )
        }
    }
}
