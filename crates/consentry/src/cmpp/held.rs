//! Which messages an SP's Msg_Id stands for while they are held for quiet hours, so its CANCEL
//! can withdraw them ([`cmpp::Submissions::cancel`]).
//!
//! Msg_Ids are minted by the listener and name a SUBMIT, not a stored message; only held
//! messages can be withdrawn, so only their Msg_Ids are kept, in memory and bounded (the oldest
//! forgotten first). After a restart, or past the bound, a CANCEL answers Success_Id 1 ("could
//! not"), and `POST /v1/messages/{id}/cancel` still withdraws by the gateway's message id.

use std::collections::{HashMap, VecDeque};

use parking_lot::Mutex;

#[derive(Default)]
struct Inner {
    /// Msg_Id → (account, message ids).
    by_msg_id: HashMap<u64, (u64, Vec<u64>)>,
    order: VecDeque<u64>,
}

/// Held messages by Msg_Id.
pub(crate) struct HeldIds {
    inner: Mutex<Inner>,
    capacity: usize,
}

impl HeldIds {
    pub(crate) fn new(capacity: usize) -> Self {
        HeldIds {
            inner: Mutex::new(Inner::default()),
            capacity: capacity.max(1),
        }
    }

    /// `account`'s SUBMIT answered with `msg_ids` (a long message's parts) holds `ids`.
    pub(crate) fn remember(&self, account: u64, msg_ids: &[u64], ids: &[u64]) {
        if ids.is_empty() {
            return;
        }
        let mut s = self.inner.lock();
        for &m in msg_ids {
            if s.by_msg_id.insert(m, (account, ids.to_vec())).is_none() {
                s.order.push_back(m);
            }
        }
        // `order` holds every kept Msg_Id (and those taken since): bounding it bounds both.
        while s.order.len() > self.capacity {
            let Some(old) = s.order.pop_front() else {
                break;
            };
            s.by_msg_id.remove(&old);
        }
    }

    /// The messages `msg_id` of `account` holds, forgetting them (with every other part's
    /// Msg_Id of the same SUBMIT). Another SP's Msg_Id reads as unknown.
    pub(crate) fn take(&self, account: u64, msg_id: u64) -> Option<Vec<u64>> {
        let mut s = self.inner.lock();
        let (owner, ids) = s.by_msg_id.get(&msg_id)?.clone();
        if owner != account {
            return None;
        }
        s.by_msg_id
            .retain(|_, (a, i)| !(*a == account && *i == ids));
        Some(ids)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_msg_id_withdraws_its_messages_once_and_only_for_its_sp() {
        let held = HeldIds::new(2);
        held.remember(7, &[100, 101], &[5]);
        assert_eq!(held.take(8, 100), None, "another SP's Msg_Id");
        assert_eq!(held.take(7, 101), Some(vec![5]));
        assert_eq!(held.take(7, 100), None, "the other part went with it");
        held.remember(7, &[1], &[1]);
        held.remember(7, &[2], &[2]);
        held.remember(7, &[3], &[3]);
        assert_eq!(
            held.take(7, 1),
            None,
            "the oldest is forgotten past the bound"
        );
        assert_eq!(held.take(7, 3), Some(vec![3]));
    }
}
