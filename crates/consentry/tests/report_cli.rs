//! `consentry report` through the real binary, over a store a gateway wrote.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use complaints::ComplaintKind;
use domain::{Category, Clock, ConsentAction, ConsentSource, ManualClock, Scope, Timestamp};
use gateway::{
    ComplaintRequest, ConsentRequest, Gateway, GatewayConfig, LoopbackCarrier, Principal,
    Submission,
};
use policy::{Policy, PolicyConfig};
use store::{Durability, Store};

fn consentry(args: &[&str], data: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_consentry"))
        .arg("report")
        .args(args)
        .arg("--data")
        .arg(data)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run consentry")
}

/// One shop that records consent itself, sends two marketing messages (one refused: no
/// consent) and is complained about.
fn populate(data: &Path) -> u32 {
    let at: Timestamp = "2026-11-11T03:00:00Z".parse().unwrap();
    let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(at));
    let gw = Gateway::open(
        Store::open_sqlite(data, Durability::Normal).unwrap(),
        GatewayConfig::default(),
        Policy::new(&PolicyConfig::default()).unwrap(),
        clock,
        Arc::new(LoopbackCarrier),
    )
    .unwrap();
    let workers = gw.start();
    let (shop, _) = gw.create_sender("好店, \"旗舰\"", "【好店】").unwrap();
    let me = Principal::Sender(shop.id);
    gw.record_consents(
        me,
        &[ConsentRequest {
            phone: "13800000001".into(),
            action: ConsentAction::OptIn,
            scope: Scope::Sender,
            sender: None,
            source: ConsentSource::Web,
            evidence: "order page".into(),
            at: None,
        }],
    )
    .unwrap();
    let to = ["13800000001".to_string(), "13800000002".to_string()];
    gw.submit(
        me,
        &Submission {
            to: &to,
            text: "【好店】双11全场5折，回T退订",
            category: Category::Marketing,
        },
    )
    .unwrap();
    assert!(gw.drain(std::time::Duration::from_secs(10)));
    let filed = gw
        .file_complaint(
            Principal::Admin,
            &ComplaintRequest {
                phone: "13800000001".into(),
                message_id: None,
                sender_id: Some(shop.id),
                source_number: None,
                text: None,
                received_at: None,
                kind: ComplaintKind::UnwantedMarketing,
                note: None,
            },
        )
        .unwrap();
    assert_eq!(
        filed.complaint.verdict(),
        complaints::ComplaintVerdict::Violation
    );
    drop(workers);
    shop.id.0
}

#[test]
fn report_prints_per_sender_figures_as_csv_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let shop = populate(&data);

    let out = consentry(&["--from", "2026-11-01", "--to", "2026-12-01"], &data);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let csv = String::from_utf8(out.stdout).unwrap();
    let mut lines = csv.lines();
    let header = lines.next().unwrap();
    assert!(header.ends_with(",blocked_no_consent"), "{header}");
    let row = lines.next().unwrap();
    // id, name (quoted: it has a comma and quotes), sent 1, marketing 1, blocked 1, opt-outs 0,
    // complaints 1, violations 1, upheld phones 1, suspensions 0, rate 10000.00, not
    // suspended, 1 no_consent.
    assert_eq!(
        row,
        format!("{shop},\"好店, \"\"旗舰\"\"\",1,1,1,0,1,1,1,0,10000.00,false,1")
    );

    let out = consentry(
        &[
            "--from",
            "2026-11-01",
            "--to",
            "2026-12-01T00:00:00Z",
            "--format",
            "json",
        ],
        &data,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["senders"][0]["violations"], 1, "{v}");
    assert_eq!(v["senders"][0]["blocked_by_reason"]["no_consent"], 1, "{v}");

    // A period before anything happened: the shop, all zeros.
    let out = consentry(
        &[
            "--from",
            "2026-10-01",
            "--to",
            "2026-10-02",
            "--format",
            "json",
        ],
        &data,
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["senders"][0]["sent"], 0, "{v}");
}

#[test]
fn report_names_bad_bounds_and_a_missing_store() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let out = consentry(&["--from", "2026-11-01", "--to", "2026-12-01"], &data);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no store"),
        "{out:?}"
    );
    assert!(!data.exists(), "a report never creates a store");
    populate(&data);
    let out = consentry(&["--from", "last week", "--to", "2026-12-01"], &data);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--from"),
        "{out:?}"
    );
    let out = consentry(&["--from", "2026-12-01", "--to", "2026-11-01"], &data);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("before"),
        "{out:?}"
    );
}
