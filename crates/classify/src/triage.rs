//! Triage: what a person must read, what the model is unsure about, and — listed, not just
//! counted — what was set aside and why.
//!
//! The story behind it: a consumer missed clients' messages among 2,000 adverts, and a
//! triage that only said "set aside 1,843" could not show which ones. So:
//! - a message is set aside only when [`Model::read_explained`] calls it marketing or fraud with at
//!   least `min_confidence`; a message read as a person's is never set aside (the reading
//!   itself never calls it unwanted, see [`crate::reading`]);
//! - messages the model is unsure about (`uncertain`, or unwanted below `min_confidence`)
//!   form an **unsure** group that stays in the list to read;
//! - everything set aside is listed after the messages to read, each with its category,
//!   score and the clause that decided it, so a mistake can be found and undone.

use crate::Category;
use crate::model::Model;
use std::fmt;

/// One message with its reading.
#[derive(Debug, Clone, PartialEq)]
pub struct Kept<'a> {
    /// Position in the input.
    pub index: usize,
    /// The message.
    pub text: &'a str,
    /// Its category label (or `uncertain`).
    pub category: String,
    /// Probability of that category (for `uncertain`, the best label's).
    pub confidence: f32,
    /// The clause that decided a marketing or fraud reading, if the message has several.
    pub clause: Option<&'a str>,
}

/// The result of [`triage`]. Each list is in reading order: `read` by what must not be
/// missed (personal, notices, codes), each group in arrival order; the others in arrival
/// order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Triage<'a> {
    /// Messages to read.
    pub read: Vec<Kept<'a>>,
    /// Kept because the model was not sure (still to read).
    pub unsure: Vec<Kept<'a>>,
    /// Set aside as marketing or fraud.
    pub set_aside: Vec<Kept<'a>>,
}

impl Triage<'_> {
    /// Set-aside counts per category, in first-seen order.
    #[must_use]
    pub fn set_aside_counts(&self) -> Vec<(&str, usize)> {
        let mut counts: Vec<(&str, usize)> = Vec::new();
        for k in &self.set_aside {
            match counts.iter_mut().find(|(c, _)| *c == k.category) {
                Some((_, n)) => *n += 1,
                None => counts.push((&k.category, 1)),
            }
        }
        counts
    }

    /// Messages in all: read + unsure + set aside.
    #[must_use]
    pub fn total(&self) -> usize {
        self.read.len() + self.unsure.len() + self.set_aside.len()
    }
}

/// Where a message to read goes: what a person must not miss first.
fn priority(category: &str) -> u8 {
    match category.parse::<Category>() {
        Ok(Category::Personal) => 0,
        Ok(Category::Transactional) => 1,
        Ok(Category::Verification) => 2,
        _ => 3,
    }
}

/// Sorts `messages` into those to read, those the model is unsure about, and those set
/// aside (marketing or fraud at `min_confidence` or above).
pub fn triage<'a, I>(model: &Model, messages: I, min_confidence: f32) -> Triage<'a>
where
    I: IntoIterator<Item = &'a str>,
{
    let mut t = Triage::default();
    for (index, text) in messages.into_iter().enumerate() {
        let r = model.read_explained(text);
        let kept = Kept {
            index,
            text,
            category: r.category.to_owned(),
            confidence: r.score(r.category).unwrap_or_else(|| r.confidence()),
            clause: r.clause_text(text),
        };
        let unwanted = r
            .category
            .parse::<Category>()
            .is_ok_and(Category::is_unwanted);
        if unwanted && kept.confidence >= min_confidence {
            t.set_aside.push(kept);
        } else if unwanted || r.category == crate::UNCERTAIN {
            t.unsure.push(kept);
        } else {
            t.read.push(kept);
        }
    }
    t.read.sort_by_key(|k| (priority(&k.category), k.index));
    t
}

/// The text of a message on one line.
fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

impl fmt::Display for Triage<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} of {} messages to read (most important first):",
            self.read.len() + self.unsure.len(),
            self.total()
        )?;
        for k in &self.read {
            writeln!(
                f,
                "{:<13} {:.2}  {}",
                k.category,
                k.confidence,
                one_line(k.text)
            )?;
        }
        if !self.unsure.is_empty() {
            writeln!(
                f,
                "unsure ({}): the model could not tell; read them too",
                self.unsure.len()
            )?;
            for k in &self.unsure {
                write!(
                    f,
                    "{:<13} {:.2}  {}",
                    k.category,
                    k.confidence,
                    one_line(k.text)
                )?;
                if let Some(c) = k.clause {
                    write!(f, "  [may be selling: {}]", one_line(c))?;
                }
                writeln!(f)?;
            }
        }
        write!(f, "set aside {}", self.set_aside.len())?;
        for (l, n) in self.set_aside_counts() {
            write!(f, "  {l} {n}")?;
        }
        writeln!(f)?;
        for k in &self.set_aside {
            write!(
                f,
                "  #{:<5} {:<9} {:.2}  {}",
                k.index + 1,
                k.category,
                k.confidence,
                one_line(k.text)
            )?;
            if let Some(c) = k.clause {
                write!(f, "  [because: {}]", one_line(c))?;
            }
            writeln!(f)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn people_are_read_first_ads_are_listed_with_their_clause() {
        let model = Model::default_model().expect("model");
        let inbox = [
            "【某某旗舰店】双11狂欢，全场5折起，满300减50，点击 t.cn/A6x 抢购，回T退订",
            "【京东】您的订单已发货，预计明天送达。另外双11全场5折，点击领取优惠券，回T退订",
            "老婆我今晚加班，晚点回来，你们先吃",
        ];
        let t = triage(&model, inbox, 0.8);
        assert_eq!(t.total(), 3);
        assert_eq!(t.read[0].text, inbox[2], "{t}");
        assert!(t.set_aside.iter().all(|k| k.index != 2), "{t}");
        let disguised = t
            .set_aside
            .iter()
            .find(|k| k.index == 1)
            .expect("set aside");
        assert!(
            disguised.clause.is_some_and(|c| c.starts_with("另外")),
            "{t}"
        );
        let shown = t.to_string();
        assert!(shown.contains("because: 另外双11"), "{shown}");
        assert!(shown.find("老婆") < shown.find("set aside"), "{shown}");
    }
}
