//! Several carriers, one chosen per message by the recipient's number.
//!
//! An aggregator in China reaches China Mobile, China Unicom and China Telecom through three
//! SMSCs, and which one a number belongs to is a matter of its prefix (`86138…` Mobile,
//! `86130…` Unicom, `86189…` Telecom; number portability aside). So each `[[carrier]]` lists
//! the E.164 digit prefixes it serves; the longest prefix that matches wins, and a carrier
//! with no prefixes takes every number no prefix claims. A number no carrier serves fails its
//! hand-off with a clear reason (the message is marked failed, never dropped silently).

use std::sync::Arc;

use crate::carrier::{Carrier, CarrierError, Outbound};

/// A [`Carrier`] that hands each message to one of several carriers by prefix.
pub struct RoutedCarriers {
    name: String,
    carriers: Vec<Arc<dyn Carrier>>,
    /// (prefix value, prefix digits, carrier index), longest prefixes first.
    prefixes: Vec<(u64, u32, usize)>,
    default: Option<usize>,
}

impl std::fmt::Debug for RoutedCarriers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RoutedCarriers")
            .field("name", &self.name)
            .field("prefixes", &self.prefixes)
            .field("default", &self.default)
            .finish_non_exhaustive()
    }
}

/// Digits of `n` (at least 1).
fn digits(n: u64) -> u32 {
    n.checked_ilog10().map_or(1, |d| d + 1)
}

impl RoutedCarriers {
    /// Routes over `(carrier, prefixes)`. Prefixes are E.164 digits, an optional leading `+`
    /// allowed (`"86138"`, `"+86189"`); a carrier with none is the default route.
    ///
    /// # Errors
    /// A message naming the carrier for: no carriers, two defaults, a prefix that is not 1–15
    /// digits, or a prefix claimed by two carriers.
    pub fn new(routes: Vec<(Arc<dyn Carrier>, Vec<String>)>) -> Result<Self, String> {
        if routes.is_empty() {
            return Err("no carriers to route to".into());
        }
        let mut carriers = Vec::with_capacity(routes.len());
        let mut prefixes: Vec<(u64, u32, usize)> = Vec::new();
        let mut default = None;
        for (i, (carrier, list)) in routes.into_iter().enumerate() {
            let name = carrier.name().to_owned();
            if list.is_empty() {
                if let Some(d) = default {
                    let first: &Arc<dyn Carrier> = &carriers[d];
                    return Err(format!(
                        "carriers {} and {name} both have no routes; only one may take every \
                         other number",
                        first.name()
                    ));
                }
                default = Some(i);
            }
            for p in list {
                let d = p.strip_prefix('+').unwrap_or(&p);
                if d.is_empty() || d.len() > 15 || !d.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(format!(
                        "carrier {name}: route {p:?} is not an E.164 prefix of 1-15 digits"
                    ));
                }
                let value: u64 = d
                    .parse()
                    .map_err(|_| format!("carrier {name}: route {p:?} is not a number"))?;
                // Leading zeros cannot begin an E.164 number (country codes start at 1).
                let len = u32::try_from(d.len()).unwrap_or(15);
                if digits(value) != len {
                    return Err(format!(
                        "carrier {name}: route {p:?} starts with 0; E.164 numbers start with \
                         the country code"
                    ));
                }
                if let Some(&(_, _, other)) =
                    prefixes.iter().find(|&&(v, l, _)| v == value && l == len)
                {
                    // `other` may be this carrier (not yet in `carriers`): a repeated prefix.
                    let other_name = carriers
                        .get(other)
                        .map_or_else(|| name.clone(), |c: &Arc<dyn Carrier>| c.name().to_owned());
                    return Err(format!(
                        "route {p:?} is given to both {other_name} and {name}"
                    ));
                }
                prefixes.push((value, len, i));
            }
            carriers.push(carrier);
        }
        prefixes.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let name = format!(
            "routed({})",
            carriers
                .iter()
                .map(|c| c.name().to_owned())
                .collect::<Vec<_>>()
                .join(",")
        );
        Ok(Self {
            name,
            carriers,
            prefixes,
            default,
        })
    }

    /// The carrier `phone` (E.164 digits) goes to, if any.
    #[must_use]
    pub fn route(&self, phone: u64) -> Option<&Arc<dyn Carrier>> {
        let d = digits(phone);
        self.prefixes
            .iter()
            .find(|&&(value, len, _)| len <= d && phone / 10u64.pow(d - len) == value)
            .map(|&(_, _, i)| i)
            .or(self.default)
            .map(|i| &self.carriers[i])
    }
}

impl Carrier for RoutedCarriers {
    fn name(&self) -> &str {
        &self.name
    }

    fn hand_off(&self, msg: &Outbound) -> Result<bool, CarrierError> {
        match self.route(msg.phone.as_u64()) {
            Some(c) => c.hand_off(msg),
            None => Err(CarrierError {
                carrier: self.name.clone(),
                why: format!("no [[carrier]] routes +{}", msg.phone.as_u64()),
            }),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use domain::{Category, Msisdn, SenderId, Timestamp};
    use parking_lot::Mutex;

    struct Named(&'static str, Mutex<Vec<u64>>);

    impl Carrier for Named {
        fn name(&self) -> &str {
            self.0
        }
        fn hand_off(&self, msg: &Outbound) -> Result<bool, CarrierError> {
            self.1.lock().push(msg.phone.as_u64());
            Ok(false)
        }
    }

    fn carrier(name: &'static str) -> Arc<Named> {
        Arc::new(Named(name, Mutex::new(Vec::new())))
    }

    fn to(phone: u64) -> Outbound {
        Outbound {
            id: 1,
            sender: SenderId(1),
            source_number: "1069000001".into(),
            phone: Msisdn::from_u64(phone),
            text: "hi".into(),
            category: Category::Transactional,
            decided_at: Timestamp::UNIX_EPOCH,
            epoch: None,
        }
    }

    fn strings(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn the_longest_prefix_wins_and_the_default_takes_the_rest() {
        let (cmcc, ctcc, intl) = (carrier("cmcc"), carrier("ctcc"), carrier("intl"));
        let routes = RoutedCarriers::new(vec![
            (
                cmcc.clone() as Arc<dyn Carrier>,
                strings(&["86138", "+86139"]),
            ),
            (
                ctcc.clone() as Arc<dyn Carrier>,
                strings(&["86189", "861381"]),
            ),
            (intl.clone() as Arc<dyn Carrier>, vec![]),
        ])
        .unwrap();
        for phone in [
            8613800138000u64,
            8613812345678,
            8613900139000,
            8618900189000,
            447700900123,
        ] {
            routes.hand_off(&to(phone)).unwrap();
        }
        assert_eq!(*cmcc.1.lock(), vec![8613800138000, 8613900139000]);
        // 861381… is Telecom's, although 86138 is Mobile's: longer prefixes win.
        assert_eq!(*ctcc.1.lock(), vec![8613812345678, 8618900189000]);
        assert_eq!(*intl.1.lock(), vec![447700900123]);
        assert_eq!(routes.name(), "routed(cmcc,ctcc,intl)");
    }

    #[test]
    fn a_number_no_carrier_serves_fails_its_hand_off_naming_it() {
        let routes = RoutedCarriers::new(vec![(
            carrier("cmcc") as Arc<dyn Carrier>,
            strings(&["86138"]),
        )])
        .unwrap();
        let e = routes.hand_off(&to(447700900123)).unwrap_err();
        assert!(e.why.contains("+447700900123"), "{e}");
        // A prefix longer than the number does not match it.
        assert!(routes.route(8613).is_none());
        assert!(routes.route(86138).is_some());
    }

    #[test]
    fn bad_routes_are_refused_naming_the_carrier() {
        let bad = |routes: Vec<(Arc<dyn Carrier>, Vec<String>)>, want: &str| {
            let e = RoutedCarriers::new(routes).unwrap_err();
            assert!(e.contains(want), "{e}");
        };
        bad(vec![], "no carriers");
        bad(
            vec![(carrier("a"), vec![]), (carrier("b"), vec![])],
            "a and b both have no routes",
        );
        for p in ["", "+", "86-138", "0086138", "1234567890123456", "８６"] {
            bad(vec![(carrier("a"), strings(&[p]))], "carrier a: route");
        }
        bad(
            vec![
                (carrier("a"), strings(&["86138"])),
                (carrier("b"), strings(&["+86138"])),
            ],
            "given to both a and b",
        );
        bad(
            vec![(carrier("a"), strings(&["86138", "86138"]))],
            "given to both a and a",
        );
    }
}
