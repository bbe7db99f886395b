//! Model files: the adapter between [`Model`] and bytes on disk. The maths never sees a file.
//!
//! Format version 2, all integers little-endian (version 1 is read too: it has no
//! calibration block, which then means raw sigmoids):
//!
//! ```text
//! magic    8 bytes  "CSTRYCLS"
//! version  u32      1
//! bits     u32      hash space = 2^bits buckets
//! k        u32      number of labels, then k × (u32 length + UTF-8 label)
//! scale    f32      weight = i8 × scale
//! bias     k × f32
//! calib    k × (f32 a, f32 b)   Platt scaling per class (version 2 only)
//! nnz      u32      buckets with a non-zero weight, then nnz × (varint gap from the
//!                   previous bucket + k × i8 weights)
//! checksum u64      FNV-1a of every byte before it
//! ```
//!
//! Only non-zero buckets are written (FTRL's L1 zeroes most), so the file is a fraction of
//! the in-memory table. The checksum turns a truncated or edited file into a clear error
//! instead of a silently different classifier.
//!
//! Written by hand rather than with serde: the layout *is* the compatibility promise (a
//! reader must know the version before it knows the shape of the rest), the varint gaps
//! keep the committed model at 0.9 MB where a serialised dense table would be 5 MB, and the
//! whole codec is ~150 lines with no format crate whose encoding could change under us.

use crate::error::Error;
use crate::model::{MAX_LABELS, Model};
use std::path::{Path, PathBuf};

const MAGIC: &[u8; 8] = b"CSTRYCLS";
/// The format version this build writes and reads.
pub const FORMAT_VERSION: u32 = 2;

/// The committed default model, built by `consentry train --recipe models/classify-v2.toml`.
static DEFAULT_MODEL: &[u8] = include_bytes!("../../../models/classify-v2.bin");

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xCBF2_9CE4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01B3)
    })
}

impl Model {
    /// Loads a model file.
    ///
    /// # Errors
    /// [`Error::ReadModel`] if the file cannot be read, [`Error::CorruptModel`] if its content
    /// is not a valid model; both name the file.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, Error> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| Error::ReadModel {
            path: path.to_owned(),
            source,
        })?;
        Self::from_bytes(&bytes).map_err(|reason| Error::CorruptModel {
            path: path.to_owned(),
            reason,
        })
    }

    /// The model committed in `models/`, compiled into the library.
    ///
    /// # Errors
    /// [`Error::CorruptModel`] only if the build embedded a bad file (caught by the tests).
    pub fn default_model() -> Result<Self, Error> {
        Self::from_bytes(DEFAULT_MODEL).map_err(|reason| Error::CorruptModel {
            path: PathBuf::from("<embedded models/classify-v2.bin>"),
            reason,
        })
    }

    /// Writes the model to `path`.
    ///
    /// # Errors
    /// [`Error::WriteModel`] naming the file.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), Error> {
        let path = path.as_ref();
        std::fs::write(path, self.to_bytes()).map_err(|source| Error::WriteModel {
            path: path.to_owned(),
            source,
        })
    }

    /// Serialises to the format described in the module docs.
    #[must_use]
    pub fn to_bytes(&self) -> Vec<u8> {
        let k = self.labels.len();
        let mut out = Vec::new();
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        out.extend_from_slice(&self.bits.to_le_bytes());
        out.extend_from_slice(&u32::try_from(k).unwrap_or(0).to_le_bytes());
        for l in &self.labels {
            out.extend_from_slice(&u32::try_from(l.len()).unwrap_or(0).to_le_bytes());
            out.extend_from_slice(l.as_bytes());
        }
        out.extend_from_slice(&self.scale.to_le_bytes());
        for b in &self.bias {
            out.extend_from_slice(&b.to_le_bytes());
        }
        for (a, b) in &self.calibration {
            out.extend_from_slice(&a.to_le_bytes());
            out.extend_from_slice(&b.to_le_bytes());
        }
        let rows: Vec<(usize, &[i8])> = self
            .weights
            .chunks(k)
            .enumerate()
            .filter(|(_, w)| w.iter().any(|&x| x != 0))
            .collect();
        out.extend_from_slice(&u32::try_from(rows.len()).unwrap_or(0).to_le_bytes());
        let mut prev = 0usize;
        for (bucket, w) in rows {
            let mut gap = bucket - prev;
            prev = bucket;
            loop {
                #[allow(clippy::cast_possible_truncation)]
                let byte = (gap & 0x7F) as u8;
                gap >>= 7;
                out.push(if gap > 0 { byte | 0x80 } else { byte });
                if gap == 0 {
                    break;
                }
            }
            out.extend(w.iter().map(|&x| x.to_le_bytes()[0]));
        }
        out.extend_from_slice(&fnv1a(&out).to_le_bytes());
        out
    }

    /// Parses a model; the error is a reason for a person, the caller adds the file name.
    ///
    /// # Errors
    /// A description of the first problem found.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, String> {
        if bytes.len() < MAGIC.len() + 8 || &bytes[..8] != MAGIC {
            return Err("not a consentry classifier model (bad magic bytes)".into());
        }
        let (body, sum) = bytes.split_at(bytes.len() - 8);
        let mut r = Reader {
            bytes: body,
            pos: 8,
        };
        let version = r.u32()?;
        if !(1..=FORMAT_VERSION).contains(&version) {
            return Err(format!(
                "format version {version}, this build reads versions 1 to {FORMAT_VERSION}"
            ));
        }
        if sum != fnv1a(body).to_le_bytes() {
            return Err("checksum mismatch: the file is truncated or damaged".into());
        }
        let bits = r.u32()?;
        if !(12..=24).contains(&bits) {
            return Err(format!("hash space 2^{bits} out of range"));
        }
        let k = r.u32()? as usize;
        if !(2..=MAX_LABELS).contains(&k) {
            return Err(format!("{k} labels, expected 2..={MAX_LABELS}"));
        }
        let mut labels = Vec::with_capacity(k);
        for _ in 0..k {
            let len = r.u32()? as usize;
            let raw = r.take(len)?;
            labels.push(
                String::from_utf8(raw.to_vec()).map_err(|_| "label is not UTF-8".to_string())?,
            );
        }
        let scale = r.f32()?;
        let bias = (0..k).map(|_| r.f32()).collect::<Result<Vec<_>, _>>()?;
        let calibration = if version >= 2 {
            (0..k)
                .map(|_| Ok((r.f32()?, r.f32()?)))
                .collect::<Result<Vec<_>, String>>()?
        } else {
            vec![(1.0, 0.0); k]
        };
        let nnz = r.u32()? as usize;
        let buckets = 1usize << bits;
        let mut weights = vec![0i8; buckets * k];
        let mut bucket = 0usize;
        for _ in 0..nnz {
            bucket += r.varint()?;
            if bucket >= buckets {
                return Err(format!("bucket {bucket} outside hash space 2^{bits}"));
            }
            let w = r.take(k)?;
            for (dst, &src) in weights[bucket * k..bucket * k + k].iter_mut().zip(w) {
                *dst = i8::from_le_bytes([src]);
            }
        }
        if r.pos != body.len() {
            return Err("trailing bytes after the weights".into());
        }
        Ok(Self {
            labels,
            bits,
            scale,
            bias,
            weights,
            calibration,
        })
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.bytes.len())
            .ok_or("unexpected end of file")?;
        let s = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    fn u32(&mut self) -> Result<u32, String> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn f32(&mut self) -> Result<f32, String> {
        Ok(f32::from_bits(self.u32()?))
    }

    fn varint(&mut self) -> Result<usize, String> {
        let mut value = 0usize;
        for shift in (0..35).step_by(7) {
            let b = self.take(1)?[0];
            value |= usize::from(b & 0x7F) << shift;
            if b & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err("malformed varint".into())
    }
}
