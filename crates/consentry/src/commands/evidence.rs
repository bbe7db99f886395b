//! `consentry evidence verify FILE --head HEAD`: checks a complaint's evidence bundle with no
//! database, for a regulator who holds the bundle and a head published earlier.
//!
//! Every check is recomputed from the file ([`store::audit::offline`]): each proven record's
//! digest from its stored columns, its block's hash, the blocks from there to the bundle's head,
//! and the anchored head on that way. Then what the bundle *says* — the verdict, the
//! adjudication, the ledger events it rests on — is compared with the proven records, so a
//! bundle edited by hand (a verdict turned, an event left out of a proof) fails.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use serde::Deserialize;
use serde_json::Value;
use store::audit::offline;
use store::{AuditAnchor, AuditHead, AuditKind, AuditLink, AuditProof};

/// Evidence commands.
#[derive(Debug, clap::Subcommand)]
pub enum Evidence {
    /// Checks an evidence bundle (`GET /v1/complaints/{id}/evidence`) offline against a head
    /// published earlier. Exit status 0 when it holds, 2 when it does not.
    Verify {
        /// The bundle (JSON).
        file: PathBuf,
        /// The head you trust (published by the operator, anchored elsewhere): its 64-digit
        /// hash, `BLOCKS:HASH`, or the JSON `audit head` prints.
        #[arg(long, value_name = "HEAD")]
        head: String,
    },
}

#[derive(Deserialize)]
struct Bundle {
    format: String,
    complaint: Value,
    audit: AuditSection,
}

#[derive(Deserialize)]
struct AuditSection {
    head: AuditHead,
    proofs: Vec<AuditProof>,
    #[serde(default)]
    path: Vec<AuditLink>,
}

pub fn run(what: &Evidence) -> Result<ExitCode> {
    let Evidence::Verify { file, head } = what;
    let anchor =
        AuditAnchor::parse(head).map_err(|why| anyhow::anyhow!("--head {head:?}: {why}"))?;
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let bundle: Bundle = serde_json::from_str(&text)
        .with_context(|| format!("{} is not an evidence bundle", file.display()))?;
    if bundle.format != gateway::EVIDENCE_FORMAT {
        bail!(
            "{} is format {:?}; this consentry checks {:?} (export the bundle again)",
            file.display(),
            bundle.format,
            gateway::EVIDENCE_FORMAT
        );
    }
    match check(&bundle, &anchor) {
        Ok(summary) => {
            println!("evidence holds: {summary}");
            Ok(ExitCode::SUCCESS)
        }
        Err(why) => {
            println!("evidence does NOT hold: {why}");
            Ok(ExitCode::from(2))
        }
    }
}

fn check(b: &Bundle, anchor: &AuditAnchor) -> Result<String, String> {
    let a = &b.audit;
    for p in &a.proofs {
        offline::check_proof(p)?;
    }
    let way = offline::follow(&a.proofs, &a.path, Some(&a.head))?;
    let newest = a.proofs.iter().map(|p| p.block).max().unwrap_or(0);
    let at = offline::anchored(&way, anchor, newest)?;
    claims_match_records(&b.complaint, &a.proofs)?;
    let masked = a.proofs.iter().filter(|p| p.redacted).count();
    let masked = if masked == 0 {
        String::new()
    } else {
        format!(
            "; {masked} of them masked for a merchant (found in their blocks, digests not recomputed: check the operator's copy for those)"
        )
    };
    Ok(format!(
        "{} records proven, blocks {}..={} followed to head {} (block {}), anchored at block {at}{masked}",
        a.proofs.len(),
        way.first().map_or(0, |w| w.0),
        a.head.blocks,
        a.head.hash,
        a.head.blocks
    ))
}

/// The proven record's column `name`.
fn column<'a>(p: &'a AuditProof, name: &str) -> Option<&'a Value> {
    p.record.iter().find(|f| f.column == name).map(|f| &f.value)
}

fn proof(proofs: &[AuditProof], kind: AuditKind, row: i64) -> Option<&AuditProof> {
    proofs.iter().find(|p| p.kind == kind && p.row == row)
}

/// What the bundle states must be what the chain holds: the complaint's verdict and
/// adjudication, and each ledger event it rests on.
fn claims_match_records(complaint: &Value, proofs: &[AuditProof]) -> Result<(), String> {
    let id = complaint["id"]
        .as_i64()
        .ok_or("the bundle's complaint has no id")?;
    let p = proof(proofs, AuditKind::Complaint, id)
        .ok_or_else(|| format!("complaint {id} has no proof"))?;
    let stored: Value = column(p, "adjudication")
        .and_then(Value::as_str)
        .and_then(|s| serde_json::from_str(s).ok())
        .ok_or_else(|| format!("complaint {id}'s proven record has no adjudication"))?;
    if stored != complaint["adjudication"] {
        return Err(format!(
            "complaint {id}: the adjudication in the bundle is not the one chained"
        ));
    }
    if column(p, "verdict") != Some(&complaint["adjudication"]["verdict"]) {
        return Err(format!(
            "complaint {id}: the verdict in the bundle is not the one chained"
        ));
    }
    let events = complaint["adjudication"]["events"]
        .as_array()
        .map_or(&[][..], Vec::as_slice);
    for e in events {
        let seq = e["seq"].as_i64().ok_or("a ledger event without seq")?;
        let p = proof(proofs, AuditKind::ConsentEvent, seq)
            .ok_or_else(|| format!("ledger event {seq} has no proof"))?;
        for field in ["action", "scope"] {
            if column(p, field) != Some(&e[field]) {
                return Err(format!(
                    "ledger event {seq}: its {field} in the bundle is not the one chained"
                ));
            }
        }
        let sender = column(p, "sender_id").cloned().unwrap_or(Value::Null);
        if sender != e["sender"] {
            return Err(format!(
                "ledger event {seq}: its sender in the bundle is not the one chained"
            ));
        }
    }
    Ok(())
}
