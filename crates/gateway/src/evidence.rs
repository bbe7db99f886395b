//! Evidence bundles: one JSON document a third party can check without access to consentry.
//!
//! The bundle holds the complaint with the verdict and findings computed when it was filed, the
//! ledger events and decision they rest on (as stored), and the audit chain's proofs for those
//! records with the head hash at the time of export. Each proof carries the record's chained
//! columns as stored, and the bundle carries every block from the oldest proof's to the head
//! (`audit.path`), so a regulator who anchored a head can recompute each record's digest,
//! check it against its block's digest list, and follow the block hashes to that head with no
//! database: `consentry evidence verify FILE --head HEAD` (`store::audit::offline`).

use domain::{Msisdn, Timestamp};
use serde::Serialize;
use store::{
    AuditHead, AuditKind, AuditLink, AuditLog, AuditProof, ComplaintLog, ComplaintRecord,
    MessageLog, MessageRecord, SuspensionRecord,
};

use crate::{Gateway, GatewayError, Principal};

/// The format name and version of the bundle.
pub const EVIDENCE_FORMAT: &str = "consentry-evidence/2";

/// The sender as it stands at export.
#[derive(Debug, Clone, Serialize)]
pub struct SenderAtExport {
    /// Id.
    pub id: u32,
    /// Name.
    pub name: String,
    /// Its reply number.
    pub source_number: String,
    /// Suspended at export.
    pub suspended: bool,
}

/// Where the evidence sits in the audit chain.
#[derive(Debug, Clone, Serialize)]
pub struct AuditSection {
    /// The chain's head at export: compare with an anchored copy.
    pub head: AuditHead,
    /// A proof per chained record the verdict rests on (the message's decision, each ledger
    /// event, the complaint and its suspension when they are chained).
    pub proofs: Vec<AuditProof>,
    /// Every block after the oldest proof's block, up to `head`: the way a checker follows
    /// from the records to the head (and to any head it anchored on the way).
    pub path: Vec<AuditLink>,
}

/// A self-contained evidence bundle.
#[derive(Debug, Clone, Serialize)]
pub struct EvidenceBundle {
    /// [`EVIDENCE_FORMAT`].
    pub format: &'static str,
    /// When exported.
    pub generated_at: Timestamp,
    /// The complaint, with its verdict, findings, the events, decision and scores it rests on.
    pub complaint: ComplaintRecord,
    /// The message as stored now (delivery may have moved on since the verdict).
    pub message: Option<MessageRecord>,
    /// The sender at export.
    pub sender: Option<SenderAtExport>,
    /// Suspension changes this complaint caused.
    pub suspensions: Vec<SuspensionRecord>,
    /// Audit head and proofs.
    pub audit: AuditSection,
}

impl Gateway {
    /// The evidence bundle of complaint `id`, for whoever may read the complaint.
    pub fn complaint_evidence(
        &self,
        by: Principal,
        id: u64,
    ) -> Result<EvidenceBundle, GatewayError> {
        let complaint = self.complaint(by, id)?;
        let message = match complaint.message_id {
            Some(m) => self.store.message(m)?,
            None => None,
        };
        let sender = complaint
            .sender
            .and_then(|s| self.access.sender(s))
            .map(|s| SenderAtExport {
                id: s.id.0,
                name: s.name,
                source_number: s.source_number,
                suspended: s.suspended,
            });
        let suspensions: Vec<SuspensionRecord> = match complaint.sender {
            Some(s) => self
                .store
                .suspensions(s)?
                .into_iter()
                .filter(|c| c.complaint_id == Some(id))
                .collect(),
            None => Vec::new(),
        };
        let mut wanted: Vec<(AuditKind, i64)> =
            vec![(AuditKind::Complaint, i64::try_from(id).unwrap_or(-1))];
        for s in &suspensions {
            wanted.push((
                AuditKind::SuspensionChange,
                i64::try_from(s.id).unwrap_or(-1),
            ));
        }
        if let Some(m) = complaint.message_id {
            wanted.push((AuditKind::Decision, i64::try_from(m).unwrap_or(-1)));
        }
        for e in &complaint.adjudication.events {
            wanted.push((AuditKind::ConsentEvent, i64::try_from(e.seq).unwrap_or(-1)));
        }
        let head = self.store.audit_head()?;
        let mut proofs = Vec::with_capacity(wanted.len());
        for (kind, row) in wanted {
            if let Some(p) = self.store.audit_proof(kind, row)? {
                proofs.push(p);
            }
        }
        // Blocks appended between reading the head and listing the way are cut off, so the way
        // ends at the head named.
        let mut path = match proofs.iter().map(|p| p.block).min() {
            Some(oldest) => self.store.audit_path(oldest)?,
            None => Vec::new(),
        };
        path.retain(|l| l.block <= head.blocks);
        Ok(EvidenceBundle {
            format: EVIDENCE_FORMAT,
            generated_at: self.clock.now(),
            complaint,
            message,
            sender,
            suspensions,
            audit: AuditSection { head, proofs, path },
        })
    }
}

impl Gateway {
    /// [`Gateway::complaint_evidence`] as the JSON a reader downloads. A sender's copy masks
    /// the complainant's number everywhere it appears (all but its last four digits), chained
    /// records included: the sender learns which complaint it answers, not who complained.
    /// Proofs whose record was masked are marked `redacted` (their digests are found in their
    /// blocks but cannot be recomputed from this copy), and the bundle says what was masked.
    pub fn complaint_evidence_json(
        &self,
        by: Principal,
        id: u64,
    ) -> Result<serde_json::Value, GatewayError> {
        let bundle = self.complaint_evidence(by, id)?;
        let phone = bundle.complaint.phone;
        // Through text, not `to_value`: `to_value` widens the scores' f32 to f64
        // (`9.132156e-7` → `9.132156159687042e-7`), and the bundle's adjudication would no
        // longer read as the chained one's text.
        let text = serde_json::to_string(&bundle);
        let mut v: serde_json::Value =
            text.and_then(|t| serde_json::from_str(&t)).map_err(|e| {
                GatewayError::Store(store::StoreError::Corrupt {
                    table: "complaints",
                    row: i64::try_from(id).unwrap_or(-1),
                    why: format!("evidence bundle: {e}"),
                })
            })?;
        if let Principal::Sender(_) = by {
            mask_phone(&mut v, phone);
        }
        Ok(v)
    }
}

/// The forms a number takes in stored text (`+8613900001234`, `8613900001234`,
/// `13900001234`), longest first, each with its masked form.
fn phone_forms(phone: Msisdn) -> Vec<(String, String)> {
    let digits = phone.as_u64().to_string();
    let cc = phone.country_code().to_string();
    let national = digits.strip_prefix(&cc).unwrap_or(&digits).to_string();
    let stars = |s: &str| {
        let keep = s.len().saturating_sub(4);
        format!("{}{}", "*".repeat(keep), &s[keep..])
    };
    vec![
        (format!("+{digits}"), format!("+{}", stars(&digits))),
        (digits.clone(), stars(&digits)),
        (national.clone(), stars(&national)),
    ]
}

fn mask_text(s: &str, forms: &[(String, String)]) -> Option<String> {
    let mut out = s.to_string();
    for (clear, masked) in forms {
        if out.contains(clear.as_str()) {
            out = out.replace(clear.as_str(), masked);
        }
    }
    (out != s).then_some(out)
}

fn mask_value(v: &mut serde_json::Value, forms: &[(String, String)]) -> bool {
    match v {
        // Chained records store the number as an integer (`8613900001234`).
        serde_json::Value::Number(n) if forms.get(1).is_some_and(|f| n.to_string() == f.0) => {
            *v = serde_json::Value::String(forms[1].1.clone());
            true
        }
        serde_json::Value::String(s) => match mask_text(s, forms) {
            Some(m) => {
                *s = m;
                true
            }
            None => false,
        },
        serde_json::Value::Array(a) => a
            .iter_mut()
            .fold(false, |any, x| mask_value(x, forms) | any),
        serde_json::Value::Object(o) => o
            .values_mut()
            .fold(false, |any, x| mask_value(x, forms) | any),
        _ => false,
    }
}

/// Masks `phone` through the bundle `v`; marks each proof whose record it touched.
fn mask_phone(v: &mut serde_json::Value, phone: Msisdn) {
    let forms = phone_forms(phone);
    if let Some(proofs) = v
        .pointer_mut("/audit/proofs")
        .and_then(serde_json::Value::as_array_mut)
    {
        for p in proofs {
            if let Some(record) = p.get_mut("record")
                && mask_value(record, &forms)
                && let Some(o) = p.as_object_mut()
            {
                o.insert("redacted".into(), serde_json::Value::Bool(true));
            }
        }
    }
    mask_value(v, &forms);
    if let Some(o) = v.as_object_mut() {
        o.insert(
            "redacted".into(),
            serde_json::json!({
                "complainant_phone": forms[0].1,
                "why": "a merchant's copy: the complainant's number is masked wherever it appears; proofs marked `redacted` are found in their blocks but their digests cannot be recomputed from this copy",
            }),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_number_is_masked_in_every_form_and_proofs_say_so() {
        let phone = Msisdn::parse("+8613900001234", domain::Region::CN).unwrap();
        let mut v = serde_json::json!({
            "complaint": {"phone": "+8613900001234", "adjudication": "{\"to\":\"13900001234\"}"},
            "message": {"to": "13900001234", "phone": "+8613900001234", "text": "hi"},
            "audit": {"proofs": [
                {"record": [{"column": "phone", "value": 8613900001234_u64}]},
                {"record": [{"column": "name", "value": "Shop"}]}
            ]}
        });
        mask_phone(&mut v, phone);
        let text = v.to_string();
        assert!(!text.contains("13900001234"), "{text}");
        assert_eq!(v["complaint"]["phone"], "+*********1234");
        assert_eq!(v["message"]["to"], "*******1234");
        assert_eq!(v["audit"]["proofs"][0]["redacted"], true);
        assert!(v["audit"]["proofs"][1].get("redacted").is_none());
        assert_eq!(
            v["audit"]["proofs"][0]["record"][0]["value"],
            "*********1234"
        );
        assert_eq!(v["message"]["text"], "hi");
    }
}
