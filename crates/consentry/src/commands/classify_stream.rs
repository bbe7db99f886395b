//! `consentry classify`: stdin lines in, one JSON reading per line out, on every core.
//!
//! Why batches: classifying is ~1 µs a message, so a process that reads, classifies and
//! writes one line at a time spends most of its time in I/O and JSON and uses one core
//! (#11 measured 262k msg/s, 16× scikit-learn's batch predict; the in-process figure is 50×+).
//! Lines are read in batches, each batch is split over the cores, each core writes its part
//! into its own buffer (JSON by hand: a `serde_json::Value` per line cost more than the
//! classification), and the parts are written in input order.
//!
//! A batch ends after [`BATCH`] lines or as soon as no more input is buffered, so a person
//! typing into `consentry classify` still gets each answer at once.

use std::io::{BufRead, BufReader, Read, Write};

use anyhow::{Context, Result};
use classify::Model;

use super::inbox;

/// Most lines classified together.
const BATCH: usize = 8192;

/// Appends one JSON reading line for `text`:
/// `{"category":…,"scores":{label:p,…}[,"clause":…][,"input":"gbk"|"lossy"]}`.
fn write_reading(out: &mut Vec<u8>, model: &Model, text: &str, decoded: inbox::Decoded) {
    let r = model.read(text);
    out.extend_from_slice(b"{\"category\":\"");
    out.extend_from_slice(r.category.as_bytes());
    out.extend_from_slice(b"\",\"scores\":{");
    for (i, (label, p)) in r.scores.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        // Labels are model labels (plain ASCII words).
        out.push(b'"');
        out.extend_from_slice(label.as_bytes());
        out.extend_from_slice(b"\":");
        push_probability(out, *p);
    }
    out.push(b'}');
    if let Some(c) = r.clause_text(text) {
        out.extend_from_slice(b",\"clause\":");
        // A &str always serialises; the error arm cannot happen.
        let _ = serde_json::to_writer(&mut *out, c);
    }
    if decoded != inbox::Decoded::Utf8 {
        out.extend_from_slice(b",\"input\":\"");
        out.extend_from_slice(decoded.as_str().as_bytes());
        out.push(b'"');
    }
    out.extend_from_slice(b"}\n");
}

/// Writes `p` with three decimals (`0.826`, `1.000`): what a threshold needs. By hand
/// because float formatting was a sixth of the process's time.
fn push_probability(out: &mut Vec<u8>, p: f32) {
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let milli = (p.clamp(0.0, 1.0) * 1000.0).round() as u32;
    let digit = |d: u32| b'0' + u8::try_from(d % 10).unwrap_or(0);
    out.extend_from_slice(&[
        digit(milli / 1000),
        b'.',
        digit(milli / 100),
        digit(milli / 10),
        digit(milli),
    ]);
}

/// Classifies `lines` on `threads` threads; returns the output of each part in order.
fn classify_batch(
    model: &Model,
    lines: &[(String, inbox::Decoded)],
    threads: usize,
) -> Result<Vec<Vec<u8>>> {
    let chunk = lines.len().div_ceil(threads.max(1)).max(1);
    if lines.len() <= chunk {
        let mut buf = Vec::with_capacity(lines.len() * 160);
        for (t, d) in lines {
            write_reading(&mut buf, model, t, *d);
        }
        return Ok(vec![buf]);
    }
    std::thread::scope(|s| {
        let handles: Vec<_> = lines
            .chunks(chunk)
            .map(|part| {
                s.spawn(move || {
                    let mut buf = Vec::with_capacity(part.len() * 160);
                    for (t, d) in part {
                        write_reading(&mut buf, model, t, *d);
                    }
                    buf
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .map_err(|_| anyhow::anyhow!("a classifier thread failed"))
            })
            .collect()
    })
}

/// Reads lines from `input` (one message per line; empty lines and lines of any length
/// too, so output lines match input lines one for one) and writes their readings to `out`.
/// Lines that are not UTF-8 are decoded as GBK when valid GBK, else lossily, and counted.
///
/// # Errors
/// Reading stdin or writing stdout (a closed pipe, `| head`, ends quietly).
pub fn classify_lines<R: Read>(
    model: &Model,
    mut input: BufReader<R>,
    mut out: impl Write,
    threads: usize,
) -> Result<inbox::InputNotes> {
    let mut notes = inbox::InputNotes::default();
    let mut buf = Vec::new();
    let mut lines = Vec::with_capacity(BATCH);
    loop {
        lines.clear();
        let mut eof = false;
        while lines.len() < BATCH {
            buf.clear();
            if input.read_until(b'\n', &mut buf).context("reading stdin")? == 0 {
                eof = true;
                break;
            }
            let line = buf.strip_suffix(b"\n").unwrap_or(&buf);
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            let (text, decoded) = inbox::decode(line);
            notes.count(decoded);
            lines.push((text, decoded));
            // Nothing more buffered: answer what we have rather than wait for more input.
            if input.buffer().is_empty() {
                break;
            }
        }
        for part in classify_batch(model, &lines, threads)? {
            if let Err(e) = out.write_all(&part) {
                // A closed pipe (`| head`) is not an error worth a message.
                if e.kind() == std::io::ErrorKind::BrokenPipe {
                    return Ok(notes);
                }
                return Err(e).context("writing stdout");
            }
        }
        if let Err(e) = out.flush()
            && e.kind() != std::io::ErrorKind::BrokenPipe
        {
            return Err(e).context("writing stdout");
        }
        if eof {
            return Ok(notes);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn run(input: &[u8], threads: usize) -> (Vec<Value>, inbox::InputNotes) {
        let model = Model::default_model().unwrap();
        let mut out = Vec::new();
        let notes = classify_lines(&model, BufReader::new(input), &mut out, threads).unwrap();
        let lines = out
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .map(|l| serde_json::from_slice(l).unwrap())
            .collect();
        (lines, notes)
    }

    #[test]
    fn every_input_line_gets_one_json_line() {
        let (lines, notes) = run(
            b"hello\n\n\xff\xfe broken\n\xF0\x9F\x98\x80\xF0\x9F\x8E\x89\n\"quoted\\\"",
            2,
        );
        assert_eq!(notes.lossy, 1);
        assert_eq!(lines.len(), 5);
        for v in &lines {
            let c = v["category"].as_str().unwrap();
            assert!(c.parse::<classify::Category>().is_ok() || c == classify::UNCERTAIN);
            assert_eq!(v["scores"].as_object().unwrap().len(), 5);
        }
        assert_eq!(lines[2]["input"], "lossy");
    }

    #[test]
    fn probabilities_have_three_decimals() {
        for (p, want) in [
            (0.0, "0.000"),
            (0.8264, "0.826"),
            (0.9996, "1.000"),
            (1.0, "1.000"),
        ] {
            let mut out = Vec::new();
            push_probability(&mut out, p);
            assert_eq!(out, want.as_bytes());
        }
    }

    #[test]
    fn order_and_content_do_not_depend_on_the_number_of_threads() {
        let mut input = String::new();
        for i in 0..3000 {
            input.push_str(&format!(
                "【店{i}】您的订单已发货。另外双11全场{}折，点击领取\n晚上{i}点吃饭吗\n",
                i % 9 + 1
            ));
        }
        let (one, _) = run(input.as_bytes(), 1);
        let (four, _) = run(input.as_bytes(), 4);
        assert_eq!(one.len(), 6000);
        assert_eq!(one, four);
        assert_eq!(one[0]["category"], "marketing", "{}", one[0]);
        assert_eq!(one[1]["category"], "personal", "{}", one[1]);
    }
}
