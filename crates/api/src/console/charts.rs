//! Bar charts as inline SVG, drawn on the server: no script, no external asset, and the numbers
//! are also in the markup (a `<title>` per bar and a text label) for screen readers.

use maud::{Markup, html};

const COLOURS: [&str; 6] = [
    "#2b6cb0", "#c53030", "#dd6b20", "#2f855a", "#6b46c1", "#4a5568",
];

/// `value / max` as a fraction for drawing (counts far beyond 2^52 lose precision nobody sees).
#[allow(clippy::cast_precision_loss)]
fn ratio(value: u64, max: u64) -> f64 {
    value as f64 / max as f64
}

/// A horizontal bar chart of `(label, value)` rows.
pub(crate) fn bars(title: &str, rows: &[(String, u64)]) -> Markup {
    let (label_w, bar_w, row_h) = (170.0_f64, 300.0_f64, 24.0_f64);
    let max = rows.iter().map(|r| r.1).max().unwrap_or(0).max(1);
    let height = 10.0 + row_h * f64::from(u32::try_from(rows.len().max(1)).unwrap_or(u32::MAX));
    let width = label_w + bar_w + 70.0;
    html! {
        figure {
            figcaption { (title) }
            @if rows.is_empty() {
                p { "—" }
            } @else {
                svg xmlns="http://www.w3.org/2000/svg" width=(width) height=(height)
                    viewBox={ "0 0 " (width) " " (height) } role="img" aria-label=(title) {
                    @for (i, (label, value)) in rows.iter().enumerate() {
                        @let y = 5.0 + row_h * f64::from(u32::try_from(i).unwrap_or(u32::MAX));
                        @let w = bar_w * ratio(*value, max);
                        text x=(label_w - 6.0) y=(y + 15.0) text-anchor="end" font-size="12" fill="#1a202c" { (label) }
                        rect x=(label_w) y=(y) width=(format!("{w:.1}")) height=(row_h - 6.0)
                            fill=(COLOURS[i % COLOURS.len()]) {
                            title { (label) ": " (value) }
                        }
                        text x=(format!("{:.1}", label_w + w + 4.0)) y=(y + 15.0) font-size="12" fill="#1a202c" { (value) }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_escaped_and_bars_scale_to_the_largest() {
        let svg = bars("t", &[("<b>".into(), 10), ("b".into(), 5)]).into_string();
        assert!(svg.contains("&lt;b&gt;") && !svg.contains("<b>"), "{svg}");
        assert!(
            svg.contains(r#"width="300.0""#) && svg.contains(r#"width="150.0""#),
            "{svg}"
        );
    }
}
