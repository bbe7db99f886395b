//! Reading labelled messages: `label<TAB>text`, one per line.
//!
//! Real exports are messy, so the reader never fails on content: bytes that are not UTF-8
//! are replaced (lossy decoding), a trailing `\r` is dropped, and lines without a tab or with
//! an empty label are counted in [`ReadStats`] rather than aborting a long import.

use crate::error::Error;
use crate::train::Example;
use std::io::BufRead;
use std::path::{Path, PathBuf};

/// A label mapping such as `spam=marketing,ham=personal,AD:*=marketing,Other=-`.
///
/// A `from` ending in `*` matches by prefix; `to = -` drops the line. Labels that match no
/// rule pass through unchanged. The first matching rule wins.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LabelMap(Vec<(String, String)>);

impl LabelMap {
    /// Parses `from=to` pairs separated by commas. An empty string is the identity map.
    ///
    /// # Errors
    /// [`Error::LabelMap`] when a pair has no `=` or an empty side.
    pub fn parse(spec: &str) -> Result<Self, Error> {
        let mut rules = Vec::new();
        for pair in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (from, to) = pair
                .split_once('=')
                .ok_or_else(|| Error::LabelMap(spec.to_owned()))?;
            let (from, to) = (from.trim(), to.trim());
            if from.is_empty() || to.is_empty() {
                return Err(Error::LabelMap(spec.to_owned()));
            }
            rules.push((from.to_owned(), to.to_owned()));
        }
        Ok(Self(rules))
    }

    /// The mapped label, or `None` when the line is to be dropped.
    #[must_use]
    pub fn apply<'a>(&'a self, label: &'a str) -> Option<&'a str> {
        let hit = self
            .0
            .iter()
            .find(|(from, _)| match from.strip_suffix('*') {
                Some(prefix) => label.starts_with(prefix),
                None => from == label,
            });
        match hit {
            Some((_, to)) if to == "-" => None,
            Some((_, to)) => Some(to),
            None => Some(label),
        }
    }
}

/// What the reader skipped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReadStats {
    /// Lines read.
    pub lines: u64,
    /// Empty lines.
    pub empty: u64,
    /// Lines without a tab or with an empty label.
    pub malformed: u64,
    /// Lines dropped by the label map.
    pub dropped: u64,
    /// Lines that were not valid UTF-8 (kept, with replacement characters).
    pub lossy: u64,
}

impl ReadStats {
    /// Adds another file's counts to these.
    pub fn add(&mut self, other: &ReadStats) {
        self.lines += other.lines;
        self.empty += other.empty;
        self.malformed += other.malformed;
        self.dropped += other.dropped;
        self.lossy += other.lossy;
    }
}

/// `path` itself when it is a file, or the `*.tsv` files in the directory `path`, sorted by
/// name (the order is part of what makes training reproducible).
///
/// # Errors
/// [`Error::ReadData`] naming an unreadable directory.
pub fn tsv_files(path: &Path) -> Result<Vec<PathBuf>, Error> {
    if !path.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let entries = std::fs::read_dir(path).map_err(|source| Error::ReadData {
        path: path.to_path_buf(),
        source,
    })?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "tsv"))
        .collect();
    files.sort();
    Ok(files)
}

/// Reads `label<TAB>text` lines, applying `map` to each label.
///
/// # Errors
/// Only I/O errors of the underlying reader.
pub fn read_tsv(
    mut reader: impl BufRead,
    map: &LabelMap,
) -> std::io::Result<(Vec<Example>, ReadStats)> {
    let mut examples = Vec::new();
    let mut stats = ReadStats::default();
    let mut buf = Vec::new();
    loop {
        buf.clear();
        if reader.read_until(b'\n', &mut buf)? == 0 {
            break;
        }
        stats.lines += 1;
        let line = String::from_utf8_lossy(&buf);
        if matches!(line, std::borrow::Cow::Owned(_)) {
            stats.lossy += 1;
        }
        let line = line.trim_end_matches(['\n', '\r']);
        if line.trim().is_empty() {
            stats.empty += 1;
            continue;
        }
        let Some((label, text)) = line.split_once('\t') else {
            stats.malformed += 1;
            continue;
        };
        let label = label.trim();
        if label.is_empty() {
            stats.malformed += 1;
            continue;
        }
        match map.apply(label) {
            Some(l) => examples.push(Example::new(l, text)),
            None => stats.dropped += 1,
        }
    }
    Ok((examples, stats))
}

/// Reads a TSV file; see [`read_tsv`].
///
/// # Errors
/// [`Error::ReadData`] naming the file.
pub fn read_tsv_file(
    path: impl AsRef<Path>,
    map: &LabelMap,
) -> Result<(Vec<Example>, ReadStats), Error> {
    let path = path.as_ref();
    let err = |source| Error::ReadData {
        path: path.to_owned(),
        source,
    };
    let file = std::fs::File::open(path).map_err(err)?;
    read_tsv(std::io::BufReader::new(file), map).map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn map_prefix_drop_and_passthrough() {
        let m = LabelMap::parse("spam=marketing, AD:*=marketing,Other=-").unwrap_or_default();
        assert_eq!(m.apply("spam"), Some("marketing"));
        assert_eq!(m.apply("AD:Retail"), Some("marketing"));
        assert_eq!(m.apply("Other"), None);
        assert_eq!(m.apply("ham"), Some("ham"));
        assert!(LabelMap::parse("spam").is_err());
    }

    #[test]
    fn reader_survives_messy_lines() {
        let data: &[u8] = b"ham\thi\r\n\nno tab here\nspam\tbad \xff byte\n\tno label\nham\t\n";
        let (ex, st) = read_tsv(data, &LabelMap::default()).unwrap_or_default();
        assert_eq!(ex.len(), 3);
        assert_eq!(ex[0].text, "hi");
        assert_eq!((st.empty, st.malformed, st.lossy), (1, 2, 1));
    }
}
