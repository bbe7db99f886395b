//! Seeded storage faults for the simulation (`crates/sim`): what a commit does under test.
//!
//! The seam is the commit of a write transaction in the SQLite backend, not a wrapper around
//! the [`crate::Store`] roles and not a SQLite VFS. A role wrapper would sit above the real
//! transaction code and could only fail a call before or after it as a whole; a VFS would need
//! `unsafe` (forbidden in this workspace) and fails single page writes that SQLite's own tests
//! already cover. At the commit every write the gateway makes has done all its real work (rows,
//! audit blocks, the chain head computed in a copy), so the injected outcome is exactly the
//! one a disk gives: the commit fails and nothing is written, or the data reached the file but
//! its sync did not (the caller is told it failed; a crash may keep or tear it).
//!
//! Single-statement writes outside a transaction (console sessions, keys) are not faulted:
//! nothing on the send path depends on them.

/// What one commit does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommitFault {
    /// Commits as usual.
    None,
    /// A write failure: the transaction is rolled back and the caller gets
    /// [`crate::StoreError::Unavailable`]; nothing was written.
    Fail,
    /// An fsync failure: the transaction reached the file but the caller gets
    /// [`crate::StoreError::Unavailable`], so it must not acknowledge it. Whether it survives
    /// is decided by the crash that follows (it may be torn). As with PostgreSQL's answer to
    /// fsync failures, a process that saw one is not trusted to go on writing: the injector
    /// fails every later commit until the store is reopened.
    Unsynced,
}

/// Decides each commit's fate; held by a store opened for a simulation.
pub trait CommitFaults: Send + Sync + std::fmt::Debug {
    /// Called once per write transaction, just before it commits.
    fn next_commit(&self) -> CommitFault;
}
