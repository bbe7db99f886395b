//! Generated evaluation and training sets: messages from people, pure notices, and notices
//! with a selling clause before or after them.
//!
//! Why generated: the public sets hold almost no Chinese person-to-person SMS and no
//! notices at all, so "a client moving a meeting reads as marketing" could neither be learnt
//! nor measured. The templates in [`people`] and [`notices`] were written for this project
//! (no text copied from any data set); slots (`{n}` a name, `{t}` a time, …) are filled from
//! small per-language lists with a seeded [`SplitMix`], so the output is the same on every
//! machine and the committed `corpus/synth/` files can be checked against it.
//!
//! **Held out by template, not by row.** Every fourth template (and every fourth selling
//! tail) is used only for the test files, so a test row is never a re-filled copy of a
//! training row: the figure says whether the model learnt "a person wrote this", not the
//! template.

pub mod adverts;
pub mod notices;
pub mod people;

use crate::train::SplitMix;

/// A generated message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// Our category label (`personal`, `transactional`, `verification`, `marketing`).
    pub label: &'static str,
    /// The message.
    pub text: String,
    /// Whether its template is held out (test files only).
    pub held_out: bool,
}

/// The generated sets, each as (file stem, rows), in the order the files are written.
#[must_use]
pub fn all() -> Vec<(&'static str, Vec<Row>)> {
    vec![
        ("people", people::rows()),
        ("notices", notices::pure_rows()),
        ("disguised", notices::disguised_rows()),
        ("tails", notices::tail_rows()),
        ("adverts", adverts::rows()),
    ]
}

/// Whether the `i`-th template of a list is held out for testing.
#[must_use]
pub fn held_out(i: usize) -> bool {
    i % 4 == 1
}

/// Slot values of one language: `slots[k]` are the choices for the slot named `names[k]`.
pub(crate) struct Slots {
    pub(crate) names: &'static [&'static str],
    pub(crate) values: &'static [&'static [&'static str]],
}

impl Slots {
    /// Fills every `{slot}` of `template` with a value picked by `rng`. Unknown slots are
    /// a bug in the templates and are left visible (a test checks none remain).
    pub(crate) fn fill(&self, template: &str, rng: &mut SplitMix) -> String {
        let mut out = String::with_capacity(template.len() + 16);
        let mut rest = template;
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let after = &rest[open + 1..];
            let Some(close) = after.find('}') else {
                out.push_str(&rest[open..]);
                return out;
            };
            let name = &after[..close];
            match self.names.iter().position(|n| *n == name) {
                Some(k) => {
                    let choices = self.values[k];
                    #[allow(clippy::cast_possible_truncation)]
                    let pick = (rng.next_u64() % choices.len() as u64) as usize;
                    out.push_str(choices[pick]);
                }
                None => {
                    out.push('{');
                    out.push_str(name);
                    out.push('}');
                }
            }
            rest = &after[close + 1..];
        }
        out.push_str(rest);
        out
    }
}

/// `fills` distinct fillings of each template (fewer when the slots allow fewer), labelled
/// `label`, held out by template index.
pub(crate) fn expand(
    templates: &[&str],
    slots: &Slots,
    label: &'static str,
    fills: usize,
    seed: u64,
) -> Vec<Row> {
    let mut out = Vec::new();
    for (i, t) in templates.iter().enumerate() {
        let mut rng = SplitMix(seed ^ (i as u64).wrapping_mul(0x9E37_79B9));
        let mut seen: Vec<String> = Vec::new();
        for _ in 0..fills * 4 {
            if seen.len() == fills {
                break;
            }
            let text = slots.fill(t, &mut rng);
            if !seen.contains(&text) {
                seen.push(text);
            }
        }
        out.extend(seen.into_iter().map(|text| Row {
            label,
            text,
            held_out: held_out(i),
        }));
    }
    out
}

/// The rows as `label<TAB>text` lines (the corpus file format).
#[must_use]
pub fn to_tsv<'a>(rows: impl IntoIterator<Item = &'a Row>) -> String {
    let mut s = String::new();
    for r in rows {
        s.push_str(r.label);
        s.push('\t');
        s.push_str(&r.text);
        s.push('\n');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_slot_is_filled_and_sets_are_large_enough() {
        for (name, rows) in all() {
            for r in &rows {
                assert!(!r.text.contains('{'), "{name}: unfilled slot in {}", r.text);
                assert!(
                    !r.text.contains('\t') && !r.text.contains('\n'),
                    "{}",
                    r.text
                );
            }
            if matches!(name, "tails" | "adverts") {
                // Training only: nothing of them is held out.
                assert!(rows.iter().all(|r| !r.held_out), "{name}");
                continue;
            }
            let test = rows.iter().filter(|r| r.held_out).count();
            assert!(test >= 70, "{name}: only {test} held-out rows");
            assert!(rows.len() - test >= 150, "{name}: too few training rows");
        }
        let people = people::rows();
        assert!(people.len() >= 300);
        let zh = people.iter().filter(|r| !r.text.is_ascii()).count();
        assert!(zh >= 150 && people.len() - zh >= 150, "zh {zh}");
    }

    #[test]
    fn generation_is_deterministic() {
        assert_eq!(all(), all());
    }
}
