//! The crate's one error type. Every variant that concerns a file names it, because the
//! person reading the message is usually looking at a CLI invocation with several paths.

use std::path::PathBuf;

/// Errors from loading, saving, reading data and training.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The model file could not be opened or read.
    #[error("cannot read model file {}: {source}", path.display())]
    ReadModel {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The model file could not be written.
    #[error("cannot write model file {}: {source}", path.display())]
    WriteModel {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The bytes are not a model this build can read (wrong magic, version, truncated, checksum).
    #[error("model file {} is unusable: {reason}", path.display())]
    CorruptModel {
        /// The file (`<embedded>` for the built-in model).
        path: PathBuf,
        /// What is wrong, for a person.
        reason: String,
    },
    /// A data file could not be read.
    #[error("cannot read data file {}: {source}", path.display())]
    ReadData {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A `from=to,...` label mapping did not parse.
    #[error(
        "bad label map {0:?}: expected comma-separated from=to pairs, e.g. spam=marketing,ham=personal"
    )]
    LabelMap(String),
    /// Training was given nothing to learn from.
    #[error("no training examples")]
    NoExamples,
    /// More classes than the scorer supports.
    #[error("{0} labels given; a model supports 2 to {max}", max = crate::model::MAX_LABELS)]
    LabelCount(usize),
    /// A training recipe could not be read or is invalid.
    #[error("training recipe {}: {reason}", path.display())]
    Recipe {
        /// The recipe file.
        path: PathBuf,
        /// What is wrong, for a person.
        reason: String,
    },
    /// A configuration value is out of range.
    #[error("invalid training configuration: {0}")]
    Config(String),
}
