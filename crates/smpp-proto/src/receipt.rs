//! Delivery receipts: the SMPP 3.4 Appendix B text carried in a deliver_sm with esm_class
//! message type 0x04.
//!
//! Appendix B is informative, so SMSCs vary: label case (`Stat:`), spacing (`submit_date`,
//! `stat : DELIVRD`), missing fields, ids in hex where submit_sm_resp gave decimal (or the
//! reverse). Parsing is therefore by label, not position, and [`Receipt::id_matches`] compares
//! ids across bases. When the receipted_message_id / message_state TLVs are present they win:
//! they are typed, and the text is not.

use std::fmt;

use crate::message_state::MessageState;
use crate::pdu::{Address, ESM_CLASS_DELIVERY_RECEIPT, ShortMessage};
use crate::text::{DCS_DEFAULT, decode_text};
use crate::tlv::Tlv;

/// A `YYMMDDhhmm[ss]` timestamp from receipt text, kept as given (the zone is the SMSC's).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReceiptTime {
    pub year: u8,
    pub month: u8,
    pub day: u8,
    pub hour: u8,
    pub minute: u8,
    pub second: Option<u8>,
}

impl ReceiptTime {
    /// Parses 10 or 12 digits with plausible ranges; anything else is `None`.
    #[must_use]
    pub fn parse(s: &str) -> Option<ReceiptTime> {
        let s = s.trim();
        if !(s.len() == 10 || s.len() == 12) || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let two = |i: usize| s.get(i..i + 2).and_then(|d| d.parse::<u8>().ok());
        let t = ReceiptTime {
            year: two(0)?,
            month: two(2)?,
            day: two(4)?,
            hour: two(6)?,
            minute: two(8)?,
            second: if s.len() == 12 { Some(two(10)?) } else { None },
        };
        let valid = (1..=12).contains(&t.month)
            && (1..=31).contains(&t.day)
            && t.hour < 24
            && t.minute < 60
            && t.second.is_none_or(|sec| sec < 60);
        valid.then_some(t)
    }
}

impl fmt::Display for ReceiptTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:02}{:02}{:02}{:02}{:02}",
            self.year, self.month, self.day, self.hour, self.minute
        )?;
        match self.second {
            Some(s) => write!(f, "{s:02}"),
            None => Ok(()),
        }
    }
}

/// Why no receipt could be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReceiptError {
    /// Neither the text nor the TLVs name the message the receipt is about.
    #[error("delivery receipt has no message id")]
    MissingId,
}

/// A delivery receipt. Every field but `id` is optional because SMSCs omit them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Receipt {
    /// The SMSC message id, as the SMSC wrote it (hex or decimal).
    pub id: String,
    /// `sub:` number of messages originally submitted.
    pub submitted: Option<u32>,
    /// `dlvrd:` number of messages delivered.
    pub delivered: Option<u32>,
    pub submit_date: Option<ReceiptTime>,
    pub done_date: Option<ReceiptTime>,
    pub state: Option<MessageState>,
    /// `err:` network-specific error code, as written.
    pub error: Option<String>,
    /// `text:` the first characters of the original message.
    pub text: Option<String>,
}

/// Field labels in matching order, each as words separated by optional spaces or underscores.
const LABELS: [(&[&str], Field); 8] = [
    (&["submit", "date"], Field::SubmitDate),
    (&["done", "date"], Field::DoneDate),
    (&["dlvrd"], Field::Delivered),
    (&["sub"], Field::Submitted),
    (&["id"], Field::Id),
    (&["stat"], Field::State),
    (&["err"], Field::Error),
    (&["text"], Field::Text),
];

#[derive(Clone, Copy, PartialEq, Eq)]
enum Field {
    Id,
    Submitted,
    Delivered,
    SubmitDate,
    DoneDate,
    State,
    Error,
    Text,
}

/// If a label starts at `at` in `lower`, the offset just past its colon.
fn label_end(lower: &[u8], at: usize, words: &[&str]) -> Option<usize> {
    let mut i = at;
    for (n, word) in words.iter().enumerate() {
        if n > 0 {
            while matches!(lower.get(i), Some(b' ' | b'_')) {
                i += 1;
            }
        }
        if !lower.get(i..)?.starts_with(word.as_bytes()) {
            return None;
        }
        i += word.len();
    }
    while matches!(lower.get(i), Some(b' ' | b'\t')) {
        i += 1;
    }
    (lower.get(i) == Some(&b':')).then_some(i + 1)
}

/// Finds `(field, label start, value start)` for every label, stopping after `text:`.
fn find_labels(text: &str) -> Vec<(Field, usize, usize)> {
    let lower = text.to_ascii_lowercase().into_bytes();
    let mut found = Vec::new();
    let mut i = 0;
    while i < lower.len() {
        let at_boundary = i == 0 || lower[i - 1].is_ascii_whitespace();
        let hit = at_boundary
            .then(|| {
                LABELS
                    .iter()
                    .find_map(|(words, f)| label_end(&lower, i, words).map(|end| (*f, end)))
            })
            .flatten();
        match hit {
            Some((field, end)) => {
                found.push((field, i, end));
                if field == Field::Text {
                    break;
                }
                i = end;
            }
            None => i += 1,
        }
    }
    found
}

impl Receipt {
    /// Parses Appendix B receipt text. Unknown labels and unparseable values are skipped.
    pub fn parse(text: &str) -> Result<Receipt, ReceiptError> {
        let r = Receipt::parse_fields(text);
        if r.id.is_empty() {
            return Err(ReceiptError::MissingId);
        }
        Ok(r)
    }

    fn parse_fields(text: &str) -> Receipt {
        let labels = find_labels(text);
        let mut r = Receipt::default();
        for (n, (field, _, start)) in labels.iter().enumerate() {
            let end = labels.get(n + 1).map_or(text.len(), |(_, next, _)| *next);
            let raw = text.get(*start..end).unwrap_or_default();
            let value = raw.trim();
            match field {
                Field::Id => value.clone_into(&mut r.id),
                Field::Submitted => r.submitted = value.parse().ok(),
                Field::Delivered => r.delivered = value.parse().ok(),
                Field::SubmitDate => r.submit_date = ReceiptTime::parse(value),
                Field::DoneDate => r.done_date = ReceiptTime::parse(value),
                Field::State => r.state = MessageState::from_receipt_token(value),
                Field::Error => r.error = (!value.is_empty()).then(|| value.to_owned()),
                Field::Text => r.text = Some(raw.to_owned()),
            }
        }
        r
    }

    /// Reads the receipt in a deliver_sm, preferring the receipted_message_id and
    /// message_state TLVs over the text.
    pub fn from_deliver_sm(sm: &ShortMessage) -> Result<Receipt, ReceiptError> {
        let mut r = Receipt::parse_fields(&decode_text(sm.data_coding, sm.payload()));
        if let Some(id) = sm.tlvs.receipted_message_id().filter(|id| !id.is_empty()) {
            id.clone_into(&mut r.id);
        }
        if let Some(state) = sm.tlvs.message_state() {
            r.state = Some(state);
        }
        if r.id.is_empty() {
            return Err(ReceiptError::MissingId);
        }
        Ok(r)
    }

    /// True when `message_id` (as returned in submit_sm_resp) names the same message as this
    /// receipt, allowing for one side writing it in hex and the other in decimal.
    #[must_use]
    pub fn id_matches(&self, message_id: &str) -> bool {
        let (a, b) = (self.id.trim(), message_id.trim());
        if a.eq_ignore_ascii_case(b) {
            return true;
        }
        let dec = |s: &str| s.parse::<u128>().ok();
        let hex = |s: &str| u128::from_str_radix(s, 16).ok();
        matches!((hex(a), dec(b)), (Some(x), Some(y)) if x == y)
            || matches!((dec(a), hex(b)), (Some(x), Some(y)) if x == y)
    }

    /// A deliver_sm carrying this receipt from `source` (the original recipient) to
    /// `destination` (the original sender), with both the text and the TLVs.
    ///
    /// The text is plain ASCII with data_coding 0, whatever the message was written in: ESME
    /// software (smpplib users, Kannel) reads `short_message` as ASCII and matches
    /// `stat:(\w+)`, which a UCS-2 receipt of a Chinese message defeats. So `text:` keeps the
    /// first 20 characters only when each reads the same in ASCII and in GSM 03.38 (the
    /// alphabet data_coding 0 names), and is left empty otherwise ([`ascii_text_field`]); any
    /// other field outside that set (an SMSC's odd id) has its characters replaced by `?`.
    #[must_use]
    pub fn to_deliver_sm(&self, source: Address, destination: Address) -> ShortMessage {
        let ascii = Receipt {
            text: self.text.as_deref().map(ascii_text_field),
            ..self.clone()
        };
        let body: Vec<u8> = ascii
            .to_string()
            .chars()
            .map(|c| {
                if same_in_ascii_and_gsm(c) {
                    c as u8
                } else {
                    b'?'
                }
            })
            .collect();
        let mut sm = ShortMessage {
            source,
            destination,
            esm_class: ESM_CLASS_DELIVERY_RECEIPT,
            data_coding: DCS_DEFAULT,
            ..ShortMessage::default()
        };
        if body.len() <= 255 {
            sm.short_message = body;
        } else {
            sm.tlvs.push(Tlv::MessagePayload(body));
        }
        if self.id.len() < 65 && self.id.chars().all(|c| u32::from(c) <= 0xFF && c != '\0') {
            sm.tlvs.push(Tlv::ReceiptedMessageId(self.id.clone()));
        }
        if let Some(state) = self.state {
            sm.tlvs.push(Tlv::MessageState(state));
        }
        sm
    }
}

/// True for the characters whose octet is the same in ASCII and in the GSM 03.38 default
/// alphabet: letters, digits, space and the punctuation both tables put at the same place
/// (GSM moves `$`, `@` and `_`, and needs escapes for `[]{}\^~|`).
#[must_use]
pub fn same_in_ascii_and_gsm(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(
            c,
            ' ' | '!'
                | '"'
                | '#'
                | '%'
                | '&'
                | '\''
                | '('
                | ')'
                | '*'
                | '+'
                | ','
                | '-'
                | '.'
                | '/'
                | ':'
                | ';'
                | '<'
                | '='
                | '>'
                | '?'
        )
}

/// The `text:` field of an ASCII receipt: the first 20 characters of the message when every
/// one of them reads the same in ASCII and GSM, else empty (a receipt's `text:` is a courtesy;
/// a half-replaced Chinese greeting would only mislead).
#[must_use]
pub fn ascii_text_field(message: &str) -> String {
    let head: String = message.chars().take(20).collect();
    if head.chars().all(same_in_ascii_and_gsm) {
        head
    } else {
        String::new()
    }
}

/// Formats a receipt as Appendix B text. Absent fields are left out; `text` is cut to the 20
/// characters Appendix B allows.
#[must_use]
pub fn format_receipt(r: &Receipt) -> String {
    r.to_string()
}

impl fmt::Display for Receipt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "id:{}", self.id)?;
        if let Some(n) = self.submitted {
            write!(f, " sub:{n:03}")?;
        }
        if let Some(n) = self.delivered {
            write!(f, " dlvrd:{n:03}")?;
        }
        if let Some(t) = self.submit_date {
            write!(f, " submit date:{t}")?;
        }
        if let Some(t) = self.done_date {
            write!(f, " done date:{t}")?;
        }
        if let Some(s) = self.state {
            write!(f, " stat:{s}")?;
        }
        if let Some(e) = &self.error {
            write!(f, " err:{e}")?;
        }
        if let Some(t) = &self.text {
            let cut: String = t.chars().take(20).collect();
            write!(f, " text:{cut}")?;
        }
        Ok(())
    }
}
