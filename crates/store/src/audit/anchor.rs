//! Anchors: heads published outside the database. A chain that verifies on its own proves only
//! that it is self-consistent — someone who deletes the newest blocks together with their rows,
//! or rebuilds the whole chain after a rewrite, leaves a chain that verifies. A head copied
//! elsewhere at some moment (a regulator's inbox, a transparency log, a printed report) must
//! still be a block of the chain later: that is what [`crate::AuditLog::verify_audit_against`]
//! checks.

use serde::{Deserialize, Serialize};

/// A published head: the hash of block `blocks` (when known).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditAnchor {
    /// The block number the hash belongs to; `None` when only the hash was kept (the verifier
    /// then accepts it at any position).
    #[serde(default)]
    pub blocks: Option<u64>,
    /// Hex SHA-256 of that block.
    pub hash: String,
}

/// Why an anchor could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {why}")]
pub struct AnchorError {
    /// 1-based line of the input (1 for a single value).
    pub line: usize,
    /// What is wrong.
    pub why: String,
}

impl AuditAnchor {
    /// One anchor: a bare 64-digit hex hash, `BLOCKS:HASH`, or the JSON `consentry audit head`
    /// and `GET /v1/audit/head` print (`{"blocks":…,"records":…,"hash":"…"}`).
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if s.starts_with('{') {
            let a: AuditAnchor =
                serde_json::from_str(s).map_err(|e| format!("not an audit head: {e}"))?;
            return a.checked();
        }
        let (blocks, hash) = match s.split_once(':') {
            Some((b, h)) => (
                Some(
                    b.trim()
                        .parse::<u64>()
                        .map_err(|_| format!("{b:?} is not a block number"))?,
                ),
                h.trim(),
            ),
            None => (None, s),
        };
        AuditAnchor {
            blocks,
            hash: hash.to_string(),
        }
        .checked()
    }

    /// Every anchor in a file of heads published over time: a JSON array of heads, one JSON
    /// head (as `audit head` prints it, over several lines), or one anchor per line in any
    /// form [`AuditAnchor::parse`] reads; blank lines and `#` comments are skipped.
    pub fn parse_many(text: &str) -> Result<Vec<Self>, AnchorError> {
        let t = text.trim();
        if t.starts_with('[') {
            let all: Vec<AuditAnchor> = serde_json::from_str(t).map_err(|e| AnchorError {
                line: e.line(),
                why: format!("not a list of audit heads: {e}"),
            })?;
            return all
                .into_iter()
                .map(AuditAnchor::checked)
                .collect::<Result<_, _>>()
                .map_err(|why| AnchorError { line: 1, why });
        }
        if t.starts_with('{') && serde_json::from_str::<serde_json::Value>(t).is_ok() {
            return AuditAnchor::parse(t)
                .map(|a| vec![a])
                .map_err(|why| AnchorError { line: 1, why });
        }
        let mut out = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            out.push(AuditAnchor::parse(line).map_err(|why| AnchorError { line: i + 1, why })?);
        }
        if out.is_empty() {
            return Err(AnchorError {
                line: 1,
                why: "no anchor in it".into(),
            });
        }
        Ok(out)
    }

    fn checked(mut self) -> Result<Self, String> {
        self.hash = self.hash.trim().to_ascii_lowercase();
        if self.hash.len() != 64 || !self.hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(format!(
                "{:?} is not a head hash (64 hexadecimal digits)",
                self.hash
            ));
        }
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

    #[test]
    fn every_published_form_reads() {
        assert_eq!(AuditAnchor::parse(H).unwrap().blocks, None);
        assert_eq!(
            AuditAnchor::parse(&format!("12:{}", H.to_uppercase())).unwrap(),
            AuditAnchor {
                blocks: Some(12),
                hash: H.into()
            }
        );
        let json = format!("{{\n  \"blocks\": 3,\n  \"records\": 9,\n  \"hash\": \"{H}\"\n}}");
        assert_eq!(AuditAnchor::parse_many(&json).unwrap()[0].blocks, Some(3));
        let lines = format!("# published daily\n{H}\n\n7:{H}\n");
        assert_eq!(AuditAnchor::parse_many(&lines).unwrap().len(), 2);
        let list = format!("[{{\"blocks\":1,\"hash\":\"{H}\"}}]");
        assert_eq!(AuditAnchor::parse_many(&list).unwrap().len(), 1);
    }

    #[test]
    fn a_mistyped_anchor_is_refused_with_its_line() {
        assert!(AuditAnchor::parse("abc").is_err());
        assert!(AuditAnchor::parse(&format!("x:{H}")).is_err());
        let e = AuditAnchor::parse_many(&format!("{H}\nnot-a-hash\n")).unwrap_err();
        assert_eq!(e.line, 2);
        assert!(AuditAnchor::parse_many("# nothing\n").is_err());
    }
}
