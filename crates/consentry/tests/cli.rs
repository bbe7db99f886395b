//! The CLI through the real binary: import (all or nothing) and check (dry run).
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::path::Path;
use std::process::Command;

fn consentry(args: &[&str], data: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_consentry"))
        .args(args)
        .arg("--data")
        .arg(data)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run consentry")
}

/// Registers a sender directly in the store, as `POST /v1/senders` would.
fn register_sender(data: &Path) -> u32 {
    let store = store::Store::open_sqlite(data, store::Durability::Normal).unwrap();
    use store::SenderRegistry;
    store
        .create_sender(&store::NewSender {
            name: "好店".into(),
            signature: "【好店】".into(),
            number_prefix: "1069000012345".into(),
            extension_digits: 4,
            api_key_hash: "test".into(),
        })
        .unwrap()
        .id
        .0
}

#[test]
fn import_applies_nothing_when_a_row_is_bad_and_everything_when_all_are_good() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let sender = register_sender(&data);
    let bad = dir.path().join("bad.csv");
    std::fs::write(
        &bad,
        format!(
            "phone,action,scope,sender_id,source,evidence,at\n\
             13800138000,opt_in,sender,{sender},web,form 1,2026-11-01T00:00:00Z\n\
             12345,opt_in,sender,{sender},web,form 2,\n\
             13800138001,opt_in,sender,999,web,form 3,\n\
             13800138002,maybe,platform,,web,,\n"
        ),
    )
    .unwrap();
    let out = consentry(&["import", "consents", bad.to_str().unwrap()], &data);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("line 3") && stderr.contains("line 4") && stderr.contains("line 5"),
        "{stderr}"
    );
    assert!(stderr.contains("nothing was imported"), "{stderr}");
    let report = std::fs::read_to_string(dir.path().join("bad.errors.csv")).unwrap();
    assert_eq!(report.lines().count(), 4, "{report}");
    let store = store::Store::open_sqlite(&data, store::Durability::Normal).unwrap();
    use store::ConsentLog;
    assert_eq!(store.consent_count().unwrap(), 0, "all or nothing");
    drop(store);

    let good = dir.path().join("good.csv");
    let mut csv = String::from("phone,action,scope,sender_id,source,evidence,at\n");
    for i in 0..1000 {
        csv.push_str(&format!(
            "1380013{i:04},opt_in,sender,{sender},web,form {i},2026-11-01T00:00:00Z\n"
        ));
    }
    csv.push_str("13800130000,opt_out,platform,,hotline,call 7,2026-11-02T00:00:00Z\n");
    std::fs::write(&good, csv).unwrap();
    let out = consentry(&["import", "consents", good.to_str().unwrap()], &data);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("imported 1001 consent events"));

    // check: the first number refused platform-wide, the others consented, one invalid.
    let recipients = dir.path().join("to.csv");
    std::fs::write(
        &recipients,
        "phone\n13800130000\n13800130001\n13800130002\nnot-a-number\n",
    )
    .unwrap();
    let decisions = dir.path().join("decisions.csv");
    let out = consentry(
        &[
            "check",
            recipients.to_str().unwrap(),
            "--sender",
            &sender.to_string(),
            "--text",
            "【好店】双11全场5折，回T退订",
            "--out",
            decisions.to_str().unwrap(),
        ],
        &data,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&decisions).unwrap();
    let rows: Vec<&str> = text.lines().collect();
    assert_eq!(rows[0], "to,status,reasons");
    assert!(
        rows[1].starts_with("13800130000,rejected,opted_out"),
        "{text}"
    );
    // Accepted or deferred depending on the hour the test runs (quiet hours are real time here).
    assert!(
        rows[2].contains(",accepted,") || rows[2].contains(",deferred,quiet_hours"),
        "{text}"
    );
    assert!(rows[4].contains("invalid_number"), "{text}");
    // A dry run records nothing.
    let store = store::Store::open_sqlite(&data, store::Durability::Normal).unwrap();
    use store::MessageLog;
    assert!(store.message(1).unwrap().is_none());
}

#[test]
fn import_refuses_while_the_gateway_holds_the_data_directory() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path()).unwrap();
    let lock = std::fs::File::create(dir.path().join("serve.lock")).unwrap();
    lock.lock().unwrap();
    let csv = dir.path().join("x.csv");
    std::fs::write(&csv, "phone,action,scope,sender_id,source,evidence,at\n").unwrap();
    let out = consentry(&["import", "consents", csv.to_str().unwrap()], dir.path());
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("in use by a running gateway"));
}

/// A first start creates the data directory for its owner only, keeps the keys out of stdout
/// (which ends up in journals) and writes them, and the database, readable by the owner only.
#[cfg(unix)]
#[test]
fn a_first_start_keeps_its_secrets_to_the_owner() {
    use std::io::{BufRead, BufReader};
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("new").join("data");
    let mut child = Command::new(env!("CARGO_BIN_EXE_consentry"))
        .args([
            "serve",
            "--http",
            "127.0.0.1:0",
            "--smpp",
            "127.0.0.1:0",
            "--data",
        ])
        .arg(&data)
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut printed = Vec::new();
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        let done = line.starts_with("consentry listening on ");
        printed.push(line);
        if done {
            break;
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&data), 0o700, "data directory");
    for file in ["admin.token", "carrier.token", "consentry.db"] {
        assert_eq!(mode(&data.join(file)), 0o600, "{file}");
    }
    for file in ["admin.token", "carrier.token"] {
        let key = std::fs::read_to_string(data.join(file)).unwrap();
        let key = key.trim();
        assert!(key.len() > 20);
        assert!(
            printed.iter().all(|l| !l.contains(key)),
            "{file}'s key printed: {printed:?}"
        );
        assert!(
            printed.iter().any(|l| l.contains(file)),
            "where the key went is said: {printed:?}"
        );
    }
}

/// An import names a column it does not know instead of ignoring it row after row, and a row
/// without `at` is an error (it would be dated by the import and could outrank a later refusal).
#[test]
fn import_refuses_unknown_columns_and_undated_rows() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let sender = register_sender(&data);
    let dated_wrong = dir.path().join("date.csv");
    std::fs::write(
        &dated_wrong,
        format!(
            "phone,action,scope,sender_id,source,evidence,date\n\
             13800138000,opt_in,sender,{sender},web,form,2020-01-01T00:00:00Z\n"
        ),
    )
    .unwrap();
    let out = consentry(
        &["import", "consents", dated_wrong.to_str().unwrap()],
        &data,
    );
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("unknown column(s) date"), "{stderr}");

    let undated = dir.path().join("undated.csv");
    std::fs::write(
        &undated,
        format!(
            "phone,action,scope,sender_id,source,evidence,at\n\
             13800138000,opt_in,sender,{sender},web,\"a form\nover two lines\",2026-11-01T00:00:00Z\n\
             13800138001,opt_in,sender,{sender},web,form,\n"
        ),
    )
    .unwrap();
    let out = consentry(&["import", "consents", undated.to_str().unwrap()], &data);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    // The bad row is on line 4 of the file (the evidence above spans two lines).
    assert!(
        stderr.contains("line 4") && stderr.contains("at is required"),
        "{stderr}"
    );
    let store = store::Store::open_sqlite(&data, store::Durability::Normal).unwrap();
    use store::ConsentLog;
    assert_eq!(store.consent_count().unwrap(), 0, "all or nothing");
}

/// Issue #14, item 7: a consent dated year 1 was accepted (and a refusal dated then did
/// nothing, silently); imports refuse it as the API does.
#[test]
fn import_refuses_rows_dated_before_2000() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let sender = register_sender(&data);
    let old = dir.path().join("old.csv");
    std::fs::write(
        &old,
        format!(
            "phone,action,scope,sender_id,source,evidence,at\n\
             13800138000,opt_out,sender,{sender},web,form 1,0001-01-01T00:00:00Z\n"
        ),
    )
    .unwrap();
    let out = consentry(&["import", "consents", old.to_str().unwrap()], &data);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("date_out_of_range"), "{stderr}");
}

#[test]
fn sim_runs_seeds_through_faults_and_restarts_and_says_none_broke_an_invariant() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_consentry"))
        .args([
            "sim",
            "--seeds",
            "2",
            "--steps",
            "60",
            "--audit-every",
            "5",
            "--dir",
        ])
        .arg(dir.path())
        .output()
        .expect("run consentry");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("seeds run: 2 "), "{stdout}");
    assert!(stdout.contains("seeds/min: "), "{stdout}");
    assert!(stdout.contains("no seed broke an invariant"), "{stdout}");
    // Logs stay off unless asked for: the injected faults would flood the terminal.
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let one = Command::new(env!("CARGO_BIN_EXE_consentry"))
        .args(["sim", "--seed", "7", "--steps", "30", "--verbose", "--dir"])
        .arg(dir.path())
        .output()
        .expect("run consentry");
    assert!(one.status.success());
    assert!(String::from_utf8_lossy(&one.stdout).contains("seeds run: 1 "));
    assert!(String::from_utf8_lossy(&one.stderr).contains("seed 7 ok: 30 steps"));
}

/// Issue #14, item 11: the help said `at` was optional while every undated row is refused.
#[test]
fn import_help_says_at_is_required() {
    let dir = tempfile::tempdir().unwrap();
    let out = consentry(&["import", "consents", "--help"], dir.path());
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{help}");
    assert!(!help.contains("optional"), "{help}");
    assert!(
        help.contains("Required: `phone`, `action`, `scope` and `at`"),
        "{help}"
    );
}

/// Issue #14, item 11: `check --help` named a `phone` column the file never had; the help
/// and the header written are the same list.
#[test]
fn check_help_names_the_columns_it_writes() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let sender = register_sender(&data);
    let out = consentry(&["check", "--help"], &data);
    let help = String::from_utf8_lossy(&out.stdout).replace('\n', " ");
    let to = dir.path().join("to.csv");
    std::fs::write(&to, "13800130000\n").unwrap();
    let decisions = dir.path().join("decisions.csv");
    let out = consentry(
        &[
            "check",
            to.to_str().unwrap(),
            "--sender",
            &sender.to_string(),
            "--text",
            "【好店】您的订单已发货",
            "--category",
            "transactional",
            "--out",
            decisions.to_str().unwrap(),
        ],
        &data,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let written = std::fs::read_to_string(&decisions).unwrap();
    let header = written.lines().next().unwrap();
    assert!(help.contains(&format!("`{header}`")), "{header} vs {help}");
}

/// Issue #14, item 11: a CSV saved by Excel on Chinese Windows (GBK) was refused as "invalid
/// utf-8" row by row, with no hint; now the file is named as GBK with what to do, and nothing
/// is imported.
#[test]
fn a_gbk_csv_is_refused_with_a_hint_to_resave_it_as_utf8() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let sender = register_sender(&data);
    let text = format!(
        "phone,action,scope,sender_id,source,evidence,at\n\
         13800138000,opt_in,sender,{sender},web,门店登记表第3页,2026-01-01T00:00:00Z\n"
    );
    let (gbk, _, unmappable) = encoding_rs::GBK.encode(&text);
    assert!(!unmappable);
    let file = dir.path().join("gbk.csv");
    std::fs::write(&file, &gbk).unwrap();
    let out = consentry(&["import", "consents", file.to_str().unwrap()], &data);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("GBK-encoded"), "{stderr}");
    assert!(stderr.contains("re-save it as UTF-8"), "{stderr}");
    assert!(
        stderr.contains("门店登记表"),
        "the line is shown decoded: {stderr}"
    );
    // `check` reads its recipients the same way.
    let to = dir.path().join("to.csv");
    let (gbk, _, _) = encoding_rs::GBK.encode("phone,备注\n13800130000,老客户\n");
    std::fs::write(&to, &gbk).unwrap();
    let out = consentry(
        &[
            "check",
            to.to_str().unwrap(),
            "--sender",
            &sender.to_string(),
            "--text",
            "x",
        ],
        &data,
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("re-save it as UTF-8"), "{stderr}");
    // Nothing was imported.
    let store = store::Store::open_sqlite(&data, store::Durability::Normal).unwrap();
    use store::ConsentLog;
    assert_eq!(store.consent_count().unwrap(), 0);
}
