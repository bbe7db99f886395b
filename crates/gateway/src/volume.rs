//! Per-recipient volume: what was accepted recently, for the caps and the duplicate window.
//!
//! Kept in memory (rebuilt from the store's recent accepted messages at start) because every
//! decision needs it. Sharded by phone; a decision holds its phone's shard from counting to
//! recording, so two concurrent sends to one phone can never both squeeze under a cap.

use domain::{Category, Msisdn, SenderId};
use parking_lot::{Mutex, MutexGuard};
use policy::Counts;
use rustc_hash::FxHashMap;
use smallvec::SmallVec;

const SHARDS: usize = 64;
/// Sends older than this are forgotten (the longest window: a local day, with margin).
const KEEP_SECS: i64 = 2 * 86_400;

/// One accepted send, 16 bytes.
#[derive(Debug, Clone, Copy)]
struct Send {
    sender: u32,
    /// Seconds since the Unix epoch, shifted by 2020 to fit 32 bits.
    secs: u32,
    /// Low 32 bits of the text hash (a 1-in-4-billion false duplicate is accepted).
    hash: u32,
    /// The recipient's local day number, truncated.
    day: u16,
    category: u8,
}

const BASE: i64 = 1_577_836_800;

fn cat_code(c: Category) -> u8 {
    match c {
        Category::Marketing => 0,
        Category::Transactional => 1,
        Category::Verification => 2,
    }
}

/// The counts a decision needs, plus the duplicate flag.
#[derive(Debug, Clone, Copy, Default)]
pub struct Seen {
    /// Counts for the caps.
    pub counts: Counts,
    /// Same text within the window.
    pub duplicate: bool,
}

/// One shard of phones. Most phones in a campaign hold one recent send, so it lives inline in
/// the map entry (32 bytes) rather than in a heap vector of its own: 133 → ~60 bytes a phone,
/// 149 → 88 at 1,000,000 (`cargo run --release -p gateway --example volume_rss`).
#[derive(Debug, Default)]
pub struct VolumeShard {
    phones: FxHashMap<u64, SmallVec<[Send; 1]>>,
}

/// The question asked of the volume for one decision.
#[derive(Debug, Clone, Copy)]
pub struct Query {
    /// Recipient.
    pub phone: Msisdn,
    /// Sender.
    pub sender: SenderId,
    /// Category applied.
    pub category: Category,
    /// Now, seconds since the Unix epoch.
    pub now: i64,
    /// The recipient's local day now.
    pub day: i32,
    /// Text hash.
    pub hash: u64,
    /// Duplicate window in seconds (0 disables).
    pub dup_window: i64,
}

impl VolumeShard {
    /// Counts what `q` needs.
    #[must_use]
    pub fn seen(&self, q: &Query) -> Seen {
        let mut s = Seen::default();
        let Some(sends) = self.phones.get(&q.phone.as_u64()) else {
            return s;
        };
        let now = q.now - BASE;
        #[allow(clippy::cast_possible_truncation)]
        let (day, hash, cat) = (q.day as u16, q.hash as u32, cat_code(q.category));
        for x in sends {
            let age = now - i64::from(x.secs);
            if q.dup_window > 0 && x.hash == hash && age < q.dup_window {
                s.duplicate = true;
            }
            if cat == 0 {
                if x.category == 0 && x.day == day {
                    s.counts.recipient_marketing_today += 1;
                    if x.sender == q.sender.0 {
                        s.counts.sender_marketing_today += 1;
                    }
                }
            } else if x.category == cat && x.sender == q.sender.0 {
                if age < 60 {
                    s.counts.category_last_minute += 1;
                }
                if age < 3600 {
                    s.counts.category_last_hour += 1;
                }
                if x.day == day {
                    s.counts.category_today += 1;
                }
            }
        }
        s
    }

    /// Takes back a send counted by [`VolumeShard::record`] whose decision was then never
    /// recorded (the store failed): an outage must not use up a merchant's daily quota.
    pub fn unrecord(&mut self, q: &Query) {
        let now = q.now - BASE;
        let Some(sends) = self.phones.get_mut(&q.phone.as_u64()) else {
            return;
        };
        #[allow(clippy::cast_possible_truncation)]
        let (secs, hash, day, category) = (
            u32::try_from(now.max(0)).unwrap_or(u32::MAX),
            q.hash as u32,
            q.day as u16,
            cat_code(q.category),
        );
        if let Some(i) = sends.iter().rposition(|x| {
            x.sender == q.sender.0
                && x.secs == secs
                && x.hash == hash
                && x.day == day
                && x.category == category
        }) {
            sends.remove(i);
        }
    }

    /// Records an accepted send, dropping ones too old to matter.
    pub fn record(&mut self, q: &Query) {
        let now = q.now - BASE;
        let sends = self.phones.entry(q.phone.as_u64()).or_default();
        sends.retain(|x| now - i64::from(x.secs) < KEEP_SECS);
        #[allow(clippy::cast_possible_truncation)]
        sends.push(Send {
            sender: q.sender.0,
            secs: u32::try_from(now.max(0)).unwrap_or(u32::MAX),
            hash: q.hash as u32,
            day: q.day as u16,
            category: cat_code(q.category),
        });
    }
}

/// All phones' recent volume.
#[derive(Debug)]
pub struct Volume {
    shards: Box<[Mutex<VolumeShard>]>,
}

impl Default for Volume {
    fn default() -> Self {
        Volume {
            shards: (0..SHARDS)
                .map(|_| Mutex::new(VolumeShard::default()))
                .collect(),
        }
    }
}

impl Volume {
    /// Locks `phone`'s shard.
    pub fn lock(&self, phone: Msisdn) -> MutexGuard<'_, VolumeShard> {
        let h = phone.as_u64().wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 58;
        self.shards[usize::try_from(h).unwrap_or(0) % SHARDS].lock()
    }

    /// Forgets the volume of every phone `drop` selects.
    pub fn forget(&self, drop: &dyn Fn(Msisdn) -> bool) {
        for s in &*self.shards {
            s.lock().phones.retain(|p, _| !drop(Msisdn::from_u64(*p)));
        }
    }

    /// Number of phones tracked.
    #[must_use]
    pub fn phones(&self) -> usize {
        self.shards.iter().map(|s| s.lock().phones.len()).sum()
    }
}
