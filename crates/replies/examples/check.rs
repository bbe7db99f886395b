//! Reads `intent<TAB>text` lines on stdin and prints the ones the parser reads differently.
use std::io::Read;
fn main() {
    let parser = replies::IntentParser::default();
    let mut input = String::new();
    let _ = std::io::stdin().read_to_string(&mut input);
    let cases = replies::corpus::parse(&input).unwrap_or_default();
    let mut bad = 0;
    for c in &cases {
        let r = parser.parse(c.text);
        if r.intent != c.intent || r.all_senders != c.all_senders || r.report != c.report {
            bad += 1;
            println!(
                "{:?}: want {} all={} report={}, got {} all={} report={} by {:?}",
                c.text,
                c.intent,
                c.all_senders,
                c.report,
                r.intent,
                r.all_senders,
                r.report,
                r.matched
            );
        }
    }
    println!("{bad} of {} differ", cases.len());
    for s in replies::corpus::score(&parser, &cases) {
        println!(
            "  {:<8} support {:>3} precision {:.3} recall {:.3}",
            s.intent.as_str(),
            s.support,
            s.precision,
            s.recall
        );
    }
}
