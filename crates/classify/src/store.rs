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
//! cascade           version 3 only: the second stage (below)
//! checksum u64      FNV-1a of every byte before it
//! ```
//!
//! Version 3 is version 2 plus a second stage ([`crate::cascade`]); a model without one is
//! still written as version 2 (`models/classify-v2.toml` trains one, bit for bit the first
//! pass of the committed cascade):
//!
//! ```text
//! bits u32, max_n_han u8, max_n_latin u8
//! gate     band f32, han_only u8, keep_fraud u8, keep_person f32, blend f32
//! idf_scale f32, n u32, n × (varint gap + u16 idf)      columns seen in training
//! scale f32, bias k × f32, calib k × (f32 a, f32 b)
//! nnz u32, nnz × (varint gap + k × i16 weights)
//! ```
//!
//! Only non-zero buckets are written (FTRL's L1 zeroes most), so the file is a fraction of
//! the in-memory table. The checksum turns a truncated or edited file into a clear error
//! instead of a silently different classifier.
//!
//! Written by hand rather than with serde: the layout *is* the compatibility promise (a
//! reader must know the version before it knows the shape of the rest), the varint gaps
//! keep a first pass at 0.9 MB where a serialised dense table would be 5 MB, and the
//! whole codec is ~150 lines with no format crate whose encoding could change under us.

use crate::cascade::{Cascade, Gate};
use crate::error::Error;
use crate::model::{MAX_LABELS, Model};
use crate::tfidf::Grams;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

const MAGIC: &[u8; 8] = b"CSTRYCLS";
/// The newest format version this build writes and reads (3 only for a cascade).
pub const FORMAT_VERSION: u32 = 3;

/// The committed default model, built by `consentry train --recipe
/// models/classify-cascade.toml` (the v2 first pass and its second stage, format version 3).
static DEFAULT_MODEL: &[u8] = include_bytes!("../../../models/classify-cascade.bin");

fn put_varint(out: &mut Vec<u8>, mut gap: usize) {
    loop {
        #[allow(clippy::cast_possible_truncation)]
        let byte = (gap & 0x7F) as u8;
        gap >>= 7;
        out.push(if gap > 0 { byte | 0x80 } else { byte });
        if gap == 0 {
            break;
        }
    }
}

fn put_f32s(out: &mut Vec<u8>, xs: impl IntoIterator<Item = f32>) {
    for x in xs {
        out.extend_from_slice(&x.to_le_bytes());
    }
}

fn put_u32(out: &mut Vec<u8>, x: usize) {
    out.extend_from_slice(&u32::try_from(x).unwrap_or(u32::MAX).to_le_bytes());
}

/// Writes the second stage (format version 3).
fn put_cascade(out: &mut Vec<u8>, c: &Cascade) {
    let k = c.bias.len();
    out.extend_from_slice(&c.grams.bits.to_le_bytes());
    out.push(c.grams.max_n_han);
    out.push(c.grams.max_n_latin);
    put_f32s(out, [c.gate.band]);
    out.push(u8::from(c.gate.han_only));
    out.push(u8::from(c.gate.keep_fraud));
    put_f32s(out, [c.gate.keep_person, c.gate.blend, c.idf_scale]);
    let seen: Vec<(usize, u16)> = c
        .idf
        .iter()
        .enumerate()
        .filter(|&(_, &q)| q != 0)
        .map(|(j, &q)| (j, q))
        .collect();
    put_u32(out, seen.len());
    let mut prev = 0;
    for (j, q) in seen {
        put_varint(out, j - prev);
        prev = j;
        out.extend_from_slice(&q.to_le_bytes());
    }
    put_f32s(out, [c.scale]);
    put_f32s(out, c.bias.iter().copied());
    put_f32s(out, c.calibration.iter().flat_map(|&(a, b)| [a, b]));
    let rows: Vec<(usize, &[i16])> = c
        .weights
        .chunks(k)
        .enumerate()
        .filter(|(_, w)| w.iter().any(|&x| x != 0))
        .collect();
    put_u32(out, rows.len());
    let mut prev = 0;
    for (j, w) in rows {
        put_varint(out, j - prev);
        prev = j;
        for x in w {
            out.extend_from_slice(&x.to_le_bytes());
        }
    }
}

/// Reads the second stage of a `k`-label model.
fn take_cascade(r: &mut Reader<'_>, k: usize) -> Result<Cascade, String> {
    let bits = r.u32()?;
    if !(12..=24).contains(&bits) {
        return Err(format!("second stage hash space 2^{bits} out of range"));
    }
    let (max_n_han, max_n_latin) = (r.take(1)?[0], r.take(1)?[0]);
    if !(1..=8).contains(&max_n_han) || !(1..=8).contains(&max_n_latin) {
        return Err("second stage n-gram lengths out of range".into());
    }
    let band = r.f32()?;
    let mut flag = || match r.take(1)?[0] {
        0 => Ok(false),
        1 => Ok(true),
        x => Err(format!("second stage flag {x} is not 0 or 1")),
    };
    let han_only = flag()?;
    let keep_fraud = flag()?;
    let (keep_person, blend, idf_scale) = (r.f32()?, r.f32()?, r.f32()?);
    let columns = 1usize << bits;
    let mut idf = vec![0u16; columns];
    let mut j = 0usize;
    for _ in 0..r.u32()? {
        j += r.varint()?;
        let slot = idf
            .get_mut(j)
            .ok_or_else(|| format!("idf column {j} outside 2^{bits}"))?;
        let b = r.take(2)?;
        *slot = u16::from_le_bytes([b[0], b[1]]);
    }
    let scale = r.f32()?;
    let bias = (0..k).map(|_| r.f32()).collect::<Result<Vec<_>, _>>()?;
    let calibration = (0..k)
        .map(|_| Ok((r.f32()?, r.f32()?)))
        .collect::<Result<Vec<_>, String>>()?;
    let mut weights = vec![0i16; columns * k];
    let mut j = 0usize;
    for _ in 0..r.u32()? {
        j += r.varint()?;
        let row = weights
            .get_mut(j * k..j * k + k)
            .ok_or_else(|| format!("second stage column {j} outside 2^{bits}"))?;
        for w in row {
            let b = r.take(2)?;
            *w = i16::from_le_bytes([b[0], b[1]]);
        }
    }
    Ok(Cascade {
        grams: Grams {
            bits,
            max_n_han,
            max_n_latin,
        },
        gate: Gate {
            band,
            han_only,
            keep_person,
            blend,
            keep_fraud,
        },
        idf,
        idf_scale,
        weights,
        scale,
        bias,
        calibration,
    })
}

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
        // The checksum is not recomputed here: these bytes are part of the binary, not a file
        // that can be truncated or edited, and hashing 10 MB was half of every process's model
        // load (10 of 20 ms, which `consentry classify` pays per run). A test checks the
        // embedded checksum once (`the_embedded_model_passes_its_checksum`).
        Self::parse(DEFAULT_MODEL, false).map_err(|reason| Error::CorruptModel {
            path: PathBuf::from("<embedded models/classify-cascade.bin>"),
            reason,
        })
    }

    /// The embedded default model, decoded once per process and shared: the send path's
    /// classifier and the complaints' reading hold the same copy (about 20 MB since the cascade
    /// became the default) instead of one each.
    ///
    /// # Errors
    /// As [`Model::default_model`].
    pub fn shared_default() -> Result<Arc<Self>, Error> {
        static SHARED: OnceLock<Arc<Model>> = OnceLock::new();
        if let Some(m) = SHARED.get() {
            return Ok(Arc::clone(m));
        }
        let m = Arc::new(Self::default_model()?);
        Ok(Arc::clone(SHARED.get_or_init(|| m)))
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
        let version: u32 = if self.cascade.is_some() { 3 } else { 2 };
        out.extend_from_slice(&version.to_le_bytes());
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
            put_varint(&mut out, bucket - prev);
            prev = bucket;
            out.extend(w.iter().map(|&x| x.to_le_bytes()[0]));
        }
        if let Some(c) = &self.cascade {
            put_cascade(&mut out, c);
        }
        out.extend_from_slice(&fnv1a(&out).to_le_bytes());
        out
    }

    /// Parses a model; the error is a reason for a person, the caller adds the file name.
    ///
    /// # Errors
    /// A description of the first problem found.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, String> {
        Self::parse(bytes, true)
    }

    /// [`Model::from_bytes`], checking the checksum only when `verify`.
    fn parse(bytes: &[u8], verify: bool) -> Result<Self, String> {
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
        if verify && sum != fnv1a(body).to_le_bytes() {
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
        let cascade = if version >= 3 {
            Some(Box::new(take_cascade(&mut r, k)?))
        } else {
            None
        };
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
            cascade,
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::{DEFAULT_MODEL, Model, fnv1a};

    /// [`Model::default_model`] skips the checksum of the bytes built into the binary: a bad
    /// embed fails here instead.
    #[test]
    fn the_embedded_model_passes_its_checksum() {
        let (body, sum) = DEFAULT_MODEL.split_at(DEFAULT_MODEL.len() - 8);
        assert_eq!(sum, fnv1a(body).to_le_bytes());
        assert!(Model::from_bytes(DEFAULT_MODEL).is_ok());
    }

    /// A damaged copy of the same bytes read as a file is still refused.
    #[test]
    fn a_damaged_copy_is_refused() {
        let mut bytes = DEFAULT_MODEL.to_vec();
        let i = bytes.len() / 2;
        bytes[i] ^= 0x40;
        let err = Model::from_bytes(&bytes).err().unwrap();
        assert!(err.contains("checksum"), "{err}");
    }
}
