//! Errors of the SMPP adapters.

/// Why the listener or a carrier link could not start.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum SmppError {
    #[error("{0}")]
    Io(String),
    #[error("invalid configuration: {0}")]
    Config(String),
}
