//! The fault-injecting disk: seeded commit faults on the real SQLite store, and crashes that
//! leave the files as `kill -9` would, tearing the last write when it was never acknowledged.
//!
//! A crash is emulated at the file level: the database and its write-ahead log are copied
//! while the gateway still holds them open (SQLite buffers no committed data in the process, so
//! the files are what a killed process leaves), the gateway is dropped (a clean close would
//! checkpoint and delete the log, which `kill -9` does not), and the copies are put back
//! without the shared-memory index, so the reopen runs SQLite's real WAL recovery.
//!
//! A torn write: when the last commit was an injected fsync failure ([`CommitFault::Unsynced`])
//! the log is cut at a random byte between its length before that commit and its end. WAL
//! recovery then keeps the transaction whole or drops it whole (frames carry checksums and
//! commit marks). Every earlier commit was acknowledged and lies before the cut, so what may
//! vanish is exactly what was never acknowledged. If a checkpoint copied the write into the
//! database file (possible only after its log frames were synced) or the log was restarted,
//! the tear is only as deep as is physically possible.

use std::path::{Path, PathBuf};

use parking_lot::Mutex;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use store::faults::{CommitFault, CommitFaults};

const DB: &str = "consentry.db";
const WAL: &str = "consentry.db-wal";
const SHM: &str = "consentry.db-shm";

/// The per-seed fault rates, in parts per thousand commits.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DiskRates {
    pub fail: u32,
    pub unsynced: u32,
}

/// Where the log stood before an unacknowledged commit.
#[derive(Debug, Clone)]
struct TearPoint {
    wal_len: u64,
    wal_salt: Option<[u8; 8]>,
    db: Vec<u8>,
}

#[derive(Debug)]
struct State {
    rng: StdRng,
    armed: bool,
    /// Set by an injected fsync failure; every later commit fails until the next reopen.
    poisoned: bool,
    tear: Option<TearPoint>,
    failed: u64,
    unsynced: u64,
}

/// The simulation's disk: decides commit faults and performs crashes.
#[derive(Debug)]
pub(crate) struct Disk {
    dir: PathBuf,
    rates: DiskRates,
    state: Mutex<State>,
}

/// What a crash did to the last write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Torn {
    /// No unacknowledged write was pending.
    Nothing,
    /// The log was cut inside or after the unacknowledged write.
    Cut,
    /// The write could not be torn (checkpointed into the database file already).
    Kept,
}

impl Disk {
    pub(crate) fn new(dir: &Path, seed: u64, rates: DiskRates) -> Self {
        Disk {
            dir: dir.to_path_buf(),
            rates,
            state: Mutex::new(State {
                rng: StdRng::seed_from_u64(seed ^ 0xD15C),
                armed: false,
                poisoned: false,
                tear: None,
                failed: 0,
                unsynced: 0,
            }),
        }
    }

    /// Faults are injected only while armed (not while the world is being set up).
    pub(crate) fn arm(&self, on: bool) {
        self.state.lock().armed = on;
    }

    /// Whether an fsync failure has happened since the last reopen: the process must die.
    pub(crate) fn poisoned(&self) -> bool {
        self.state.lock().poisoned
    }

    /// Injected faults so far: (write failures, fsync failures).
    pub(crate) fn counts(&self) -> (u64, u64) {
        let s = self.state.lock();
        (s.failed, s.unsynced)
    }

    fn wal_state(&self) -> (u64, Option<[u8; 8]>) {
        let path = self.dir.join(WAL);
        let Ok(bytes) = std::fs::read(&path) else {
            return (0, None);
        };
        let salt = bytes.get(16..24).and_then(|s| <[u8; 8]>::try_from(s).ok());
        (bytes.len() as u64, salt)
    }

    /// Takes what a killed process leaves on disk. Call while the store is still open.
    pub(crate) fn snapshot(&self) -> std::io::Result<Snapshot> {
        let read = |name: &str| -> std::io::Result<Option<Vec<u8>>> {
            match std::fs::read(self.dir.join(name)) {
                Ok(b) => Ok(Some(b)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(e),
            }
        };
        Ok(Snapshot {
            db: read(DB)?,
            wal: read(WAL)?,
        })
    }

    /// Puts `snap` back after the store was dropped, tearing the unacknowledged write if there
    /// is one, and clears the fault state for the reopened store.
    pub(crate) fn restore(&self, mut snap: Snapshot) -> std::io::Result<Torn> {
        let mut s = self.state.lock();
        let torn = match (s.tear.take(), snap.wal.as_mut()) {
            (None, _) => Torn::Nothing,
            (Some(tp), Some(wal)) => {
                let checkpointed = snap.db.as_deref() != Some(tp.db.as_slice());
                let salt = wal.get(16..24).and_then(|b| <[u8; 8]>::try_from(b).ok());
                let len = wal.len() as u64;
                if checkpointed {
                    Torn::Kept
                } else if tp.wal_salt.is_some() && salt == tp.wal_salt && len >= tp.wal_len {
                    let cut = s.rng.random_range(tp.wal_len..=len);
                    wal.truncate(usize::try_from(cut).unwrap_or(wal.len()));
                    Torn::Cut
                } else if s.rng.random_bool(0.5) {
                    // The log was restarted by this very write (everything before it is in
                    // the database file) or begun by it: drop the write whole.
                    wal.truncate(if tp.wal_salt.is_some() { 32 } else { 0 });
                    Torn::Cut
                } else {
                    Torn::Kept
                }
            }
            (Some(_), None) => Torn::Kept,
        };
        s.poisoned = false;
        drop(s);
        for name in [DB, WAL, SHM] {
            match std::fs::remove_file(self.dir.join(name)) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        if let Some(db) = snap.db {
            std::fs::write(self.dir.join(DB), db)?;
        }
        if let Some(wal) = snap.wal {
            std::fs::write(self.dir.join(WAL), wal)?;
        }
        Ok(torn)
    }

    /// A clean stop: nothing to tear, and the fault state starts afresh.
    pub(crate) fn reopened(&self) {
        let mut s = self.state.lock();
        s.poisoned = false;
        s.tear = None;
    }
}

/// The files as a crash leaves them.
#[derive(Debug)]
pub(crate) struct Snapshot {
    db: Option<Vec<u8>>,
    wal: Option<Vec<u8>>,
}

impl CommitFaults for Disk {
    fn next_commit(&self) -> CommitFault {
        let mut s = self.state.lock();
        if !s.armed {
            return CommitFault::None;
        }
        if s.poisoned {
            s.failed += 1;
            return CommitFault::Fail;
        }
        let roll = s.rng.random_range(0..1000);
        if roll < self.rates.fail {
            s.failed += 1;
            CommitFault::Fail
        } else if roll < self.rates.fail + self.rates.unsynced {
            let (wal_len, wal_salt) = self.wal_state();
            let db = std::fs::read(self.dir.join(DB)).unwrap_or_default();
            s.tear = Some(TearPoint {
                wal_len,
                wal_salt,
                db,
            });
            s.poisoned = true;
            s.unsynced += 1;
            CommitFault::Unsynced
        } else {
            CommitFault::None
        }
    }
}
