//! `consentry classify`: stdin lines in, one JSON reading per line out, on every core.
//!
//! Why a pipeline: classifying is ~1 µs a message, so a process that reads, classifies and
//! writes one line at a time spends most of its time in I/O and JSON and uses one core
//! (#11 measured 262k msg/s, 16× scikit-learn's batch predict; the in-process figure is 50×+).
//! Session 3 classified batches on every core but read, decoded and wrote them on the main
//! thread between batches, so the cores idled during I/O (27–58× depending on load).
//! Now three stages overlap:
//!
//! 1. a reader thread takes raw blocks of up to [`BLOCK`] bytes from stdin, cut after the
//!    last newline (a line longer than a block waits for its end), and hands each block to
//!    the workers — nothing but `read` and a search for `\n`;
//! 2. one worker per core splits a block into lines, decodes each (UTF-8, else GBK, else
//!    lossy), reads it and formats its JSON by hand (a `serde_json::Value` per line cost more
//!    than the classification) into the block's own buffer;
//! 3. the calling thread writes the buffers in input order (each block has its own reply
//!    channel, queued in input order) and flushes.
//!
//! A block is whatever one `read` returned, so a person typing into `consentry classify` gets
//! each answer at once, while a file or pipe comes in full blocks. Queues are bounded (two
//! blocks a worker), so memory stays flat on any input size.

use std::io::{Read, Write};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result};
use classify::Model;

use super::inbox;

/// Bytes read at a time (a block is classified by one worker).
const BLOCK: usize = 1 << 18;

/// A classified block: its JSON lines and what decoding found.
type Done = (Vec<u8>, inbox::InputNotes);

/// A block of whole lines and where its answer goes.
type Job = (Vec<u8>, SyncSender<Done>);

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

/// Classifies every line of `block` (whole lines; the last may lack its newline at the end
/// of input) into JSON lines.
fn classify_block(model: &Model, block: &[u8]) -> Done {
    let mut out = Vec::with_capacity(block.len() * 3 + 256);
    let mut notes = inbox::InputNotes::default();
    let body = block.strip_suffix(b"\n").unwrap_or(block);
    for line in body.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let (text, decoded) = inbox::decode(line);
        notes.count(decoded);
        write_reading(&mut out, model, &text, decoded);
    }
    (out, notes)
}

/// Stage 1: reads `input` in blocks cut after their last newline; for each, queues its reply
/// channel on `order` (input order) and the block on `work`. Stops at the end of input, or
/// quietly when the writer has gone (a closed stdout).
fn read_blocks(
    mut input: impl Read,
    work: &SyncSender<Job>,
    order: &SyncSender<Receiver<Done>>,
) -> std::io::Result<()> {
    let send = |block: Vec<u8>| {
        let (tx, rx) = sync_channel(1);
        order.send(rx).is_ok() && work.send((block, tx)).is_ok()
    };
    // Read into a fixed buffer and append: zeroing a fresh block for every `read` would cost
    // a block's worth of writes per call on a trickling input (a terminal, a slow pipe).
    let mut buf = vec![0u8; BLOCK];
    let mut pending: Vec<u8> = Vec::new();
    loop {
        let n = loop {
            match input.read(&mut buf) {
                Ok(n) => break n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        };
        if n == 0 {
            if !pending.is_empty() {
                send(pending);
            }
            return Ok(());
        }
        let start = pending.len();
        pending.extend_from_slice(&buf[..n]);
        if let Some(last) = pending[start..].iter().rposition(|&b| b == b'\n') {
            let rest = pending.split_off(start + last + 1);
            if !send(std::mem::replace(&mut pending, rest)) {
                return Ok(());
            }
        }
    }
}

/// Stage 2: classifies blocks from the shared queue until it is closed.
fn work(model: &Model, jobs: &Mutex<Receiver<Job>>) {
    loop {
        // The lock is held only to take a job, not while classifying it.
        let job = match jobs.lock() {
            Ok(rx) => rx.recv(),
            Err(_) => return,
        };
        let Ok((block, reply)) = job else { return };
        // The writer may have gone (closed stdout); nothing to do then.
        let _ = reply.send(classify_block(model, &block));
    }
}

/// Reads lines from `input` (one message per line; empty lines and lines of any length
/// too, so output lines match input lines one for one) and writes their readings to `out`
/// in input order, classifying on `threads` worker threads.
/// Lines that are not UTF-8 are decoded as GBK when valid GBK, else lossily, and counted.
///
/// # Errors
/// Reading stdin or writing stdout (a closed pipe, `| head`, ends quietly).
pub fn classify_lines(
    model: &Model,
    input: impl Read + Send,
    mut out: impl Write,
    threads: usize,
) -> Result<inbox::InputNotes> {
    let threads = threads.max(1);
    let (work_tx, work_rx) = sync_channel::<Job>(2 * threads);
    let (order_tx, order_rx) = sync_channel::<Receiver<Done>>(2 * threads + 2);
    let jobs = Arc::new(Mutex::new(work_rx));
    std::thread::scope(|s| {
        let reader = s.spawn(move || read_blocks(input, &work_tx, &order_tx));
        for _ in 0..threads {
            let jobs = Arc::clone(&jobs);
            s.spawn(move || work(model, &jobs));
        }
        let mut notes = inbox::InputNotes::default();
        let written = (|| -> Result<()> {
            for reply in &order_rx {
                let (part, n) = reply
                    .recv()
                    .map_err(|_| anyhow::anyhow!("a classifier thread failed"))?;
                notes.gbk += n.gbk;
                notes.lossy += n.lossy;
                for r in [out.write_all(&part), out.flush()] {
                    match r {
                        Ok(()) => {}
                        // A closed pipe (`| head`) is not an error worth a message.
                        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(()),
                        Err(e) => return Err(e).context("writing stdout"),
                    }
                }
            }
            Ok(())
        })();
        // Closing our end stops the reader (and with it the workers) if we stopped early.
        drop(order_rx);
        let read = reader
            .join()
            .map_err(|_| anyhow::anyhow!("the reading thread failed"))?;
        written?;
        read.context("reading stdin")?;
        Ok(notes)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn run(input: &[u8], threads: usize) -> (Vec<Value>, inbox::InputNotes) {
        let model = Model::default_model().unwrap();
        let mut out = Vec::new();
        let notes = classify_lines(&model, input, &mut out, threads).unwrap();
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

    /// A reader that returns at most `step` bytes a call, like a terminal or a slow pipe.
    struct Trickle<'a> {
        data: &'a [u8],
        step: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.step.min(buf.len()).min(self.data.len());
            buf[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }

    #[test]
    fn lines_cut_across_reads_and_blocks_stay_whole_and_in_order() {
        let long = "双11全场5折，点击领取。".repeat(2 * BLOCK / 30);
        assert!(long.len() > BLOCK);
        let input = format!("晚上吃饭吗\r\n{long}\n\nhello there\r\nno newline at the end");
        let model = Model::default_model().unwrap();
        let (whole, _) = run(input.as_bytes(), 2);
        for step in [1, 7, 4096] {
            let mut out = Vec::new();
            let reader = Trickle {
                data: input.as_bytes(),
                step,
            };
            classify_lines(&model, reader, &mut out, 3).unwrap();
            let lines: Vec<Value> = out
                .split(|&b| b == b'\n')
                .filter(|l| !l.is_empty())
                .map(|l| serde_json::from_slice(l).unwrap())
                .collect();
            assert_eq!(lines, whole, "reads of {step} bytes");
        }
        assert_eq!(whole.len(), 5);
        assert_eq!(whole[1]["category"], "marketing", "{}", whole[1]);
    }
}
