//! What tests in this and other crates need to run against PostgreSQL: a fresh schema per
//! test on the machine's server, or a loud skip when there is none.
//!
//! The server is `CONSENTRY_TEST_PG_URL` (default `host=127.0.0.1 user=postgres
//! dbname=test`). Without one, a test prints `SKIPPED (no PostgreSQL …)` and returns; with
//! `CONSENTRY_REQUIRE_SERVICES=1` (what `.ci/run` sets) the absence fails the test instead, so
//! CI cannot pass by skipping.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::postgres::{PgOptions, PgStore};

/// The test server's URL.
#[must_use]
pub fn pg_url() -> String {
    std::env::var("CONSENTRY_TEST_PG_URL")
        .unwrap_or_else(|_| "host=127.0.0.1 user=postgres dbname=test".into())
}

/// Whether a missing service must fail tests rather than skip them.
#[must_use]
pub fn services_required() -> bool {
    std::env::var("CONSENTRY_REQUIRE_SERVICES").is_ok_and(|v| v == "1")
}

/// A schema of its own for one test, dropped with it.
#[derive(Debug)]
pub struct TestSchema {
    /// Options that put every table in the schema.
    pub opts: PgOptions,
    /// The schema's name.
    pub name: String,
}

impl TestSchema {
    /// The URL with the schema as its search path, for processes started by a test.
    #[must_use]
    pub fn url(&self) -> String {
        let base = &self.opts.url;
        if base.contains("://") {
            let sep = if base.contains('?') { '&' } else { '?' };
            format!("{base}{sep}options=-c%20search_path%3D{}", self.name)
        } else {
            format!("{base} options='-c search_path={}'", self.name)
        }
    }
}

impl Drop for TestSchema {
    fn drop(&mut self) {
        if let Ok(s) = PgStore::connect(&PgOptions::new(&self.opts.url)) {
            let _ = s.execute_batch(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name));
        }
    }
}

/// A fresh, empty schema on the test server, or `None` (after saying so on stderr) when there
/// is no server and services are not required. `label` names the test in the schema's name.
///
/// # Panics
/// When the server is unreachable and `CONSENTRY_REQUIRE_SERVICES=1`.
#[must_use]
pub fn fresh_schema(label: &str) -> Option<TestSchema> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let url = pg_url();
    match PgStore::connect(&PgOptions::new(&url)).and_then(|s| s.execute_batch("SELECT 1")) {
        Ok(()) => {}
        Err(e) if services_required() => {
            panic!("PostgreSQL at {url:?} is required (CONSENTRY_REQUIRE_SERVICES=1): {e}")
        }
        Err(e) => {
            eprintln!("SKIPPED {label} on PostgreSQL (no PostgreSQL at {url:?}: {e})");
            return None;
        }
    }
    let clean: String = label
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .take(30)
        .collect();
    let name = format!(
        "t{}_{}_{clean}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    let mut opts = PgOptions::new(&url);
    opts.schema = Some(name.clone());
    opts.max_connections = 4;
    // Created now, so a process given `url()` finds it.
    if let Err(e) = PgStore::connect(&opts) {
        panic!("creating schema {name}: {e}");
    }
    Some(TestSchema { opts, name })
}
