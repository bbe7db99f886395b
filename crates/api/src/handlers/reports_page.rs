//! The sender report as one HTML page with inline SVG charts (no scripts, no external assets).

use std::fmt::Write as _;

use complaints::PeriodReport;

/// Escapes text for HTML element content and attribute values.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// One labelled bar group: (label, [(series value)]).
struct Row {
    label: String,
    values: Vec<f64>,
}

const COLOURS: [&str; 4] = ["#2b6cb0", "#c53030", "#dd6b20", "#718096"];

/// A horizontal bar chart; several series per row are stacked. `limit` draws a dashed line.
fn bars(title: &str, series: &[&str], rows: &[Row], limit: Option<f64>) -> String {
    let (label_w, bar_w, row_h) = (180.0, 420.0, 22.0);
    let max = rows
        .iter()
        .map(|r| r.values.iter().sum::<f64>())
        .chain(limit)
        .fold(0.0_f64, f64::max)
        .max(1.0);
    #[allow(clippy::cast_precision_loss)]
    let height = 40.0 + row_h * rows.len() as f64 + 24.0;
    let mut svg = format!(
        r#"<figure><figcaption>{}</figcaption><svg xmlns="http://www.w3.org/2000/svg" width="{}" height="{height}" role="img" aria-label="{}">"#,
        esc(title),
        label_w + bar_w + 80.0,
        esc(title)
    );
    for (i, r) in rows.iter().enumerate() {
        #[allow(clippy::cast_precision_loss)]
        let y = 30.0 + row_h * i as f64;
        let _ = write!(
            svg,
            r#"<text x="{}" y="{}" text-anchor="end" font-size="12">{}</text>"#,
            label_w - 6.0,
            y + 14.0,
            esc(&r.label)
        );
        let mut x = label_w;
        for (j, v) in r.values.iter().enumerate() {
            let w = bar_w * v / max;
            if w > 0.0 {
                let _ = write!(
                    svg,
                    r#"<rect x="{x:.1}" y="{y:.1}" width="{w:.1}" height="{:.1}" fill="{}"><title>{}: {v}</title></rect>"#,
                    row_h - 6.0,
                    COLOURS[j % COLOURS.len()],
                    esc(series.get(j).copied().unwrap_or(""))
                );
            }
            x += w;
        }
        let total: f64 = r.values.iter().sum();
        let _ = write!(
            svg,
            r#"<text x="{:.1}" y="{}" font-size="11">{}</text>"#,
            x + 4.0,
            y + 14.0,
            fmt_num(total)
        );
    }
    if let Some(l) = limit.filter(|l| *l > 0.0) {
        let x = label_w + bar_w * l / max;
        let _ = write!(
            svg,
            r##"<line x1="{x:.1}" y1="24" x2="{x:.1}" y2="{:.1}" stroke="#c53030" stroke-dasharray="4 3"/><text x="{x:.1}" y="18" font-size="11" text-anchor="middle" fill="#c53030">limit {}</text>"##,
            height - 20.0,
            fmt_num(l)
        );
    }
    // Legend.
    let mut lx = label_w;
    for (j, s) in series.iter().enumerate() {
        let _ = write!(
            svg,
            r#"<rect x="{lx}" y="{:.1}" width="10" height="10" fill="{}"/><text x="{}" y="{:.1}" font-size="11">{}</text>"#,
            height - 14.0,
            COLOURS[j % COLOURS.len()],
            lx + 14.0,
            height - 5.0,
            esc(s)
        );
        lx += 120.0;
    }
    svg.push_str("</svg></figure>");
    svg
}

fn fmt_num(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

fn name(s: &complaints::SenderFigures) -> String {
    if s.name.is_empty() {
        format!("#{}", s.sender_id)
    } else {
        format!("#{} {}", s.sender_id, s.name)
    }
}

/// The whole page.
#[must_use]
#[allow(clippy::cast_precision_loss)]
pub fn render(r: &PeriodReport, rate_limit: f64) -> String {
    let mut html = String::from(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>consentry · senders</title><style>
body{font:14px system-ui,sans-serif;margin:2em;color:#1a202c}table{border-collapse:collapse;margin:1em 0}
td,th{border:1px solid #cbd5e0;padding:4px 8px;text-align:right}td:nth-child(2),th:nth-child(2){text-align:left}
.susp{color:#c53030;font-weight:bold}figure{margin:1.5em 0}figcaption{font-weight:bold;margin-bottom:.3em}
</style></head><body>"#,
    );
    let _ = write!(
        html,
        "<h1>Senders, {} to {}</h1><p>{} senders; {} complaints matched no message sent through consentry (unverified); {} platform-wide opt-outs (they stop every sender and count against none); {} notices the platform sent in its own name.</p>",
        esc(&r.from.to_string()),
        esc(&r.to.to_string()),
        r.senders.len(),
        r.unverified_complaints,
        r.platform_opt_outs,
        r.platform_notices_sent
    );
    let active: Vec<&complaints::SenderFigures> = r
        .senders
        .iter()
        .filter(|s| s.sent + s.blocked + s.complaints + s.opt_outs + s.suspensions > 0)
        .collect();
    let rows = |f: &dyn Fn(&complaints::SenderFigures) -> Vec<f64>| -> Vec<Row> {
        active
            .iter()
            .map(|s| Row {
                label: name(s),
                values: f(s),
            })
            .collect()
    };
    html.push_str(&bars(
        "Messages: sent and blocked",
        &["sent", "blocked"],
        &rows(&|s| vec![s.sent as f64, s.blocked as f64]),
        None,
    ));
    html.push_str(&bars(
        "Phones with upheld complaints per 10,000 marketing messages",
        &["rate"],
        &rows(&|s| vec![s.complaint_rate_per_10k.unwrap_or(0.0)]),
        Some(rate_limit),
    ));
    html.push_str(&bars(
        "Complaints: violations and others",
        &["violations", "other complaints"],
        &rows(&|s| {
            vec![
                s.violations as f64,
                s.complaints.saturating_sub(s.violations) as f64,
            ]
        }),
        None,
    ));
    let mut by_reason: std::collections::BTreeMap<&str, u64> = std::collections::BTreeMap::new();
    for s in &r.senders {
        for (code, n) in &s.blocked_by_reason {
            *by_reason.entry(code).or_insert(0) += n;
        }
    }
    let reason_rows: Vec<Row> = by_reason
        .iter()
        .map(|(code, n)| Row {
            label: (*code).to_string(),
            values: vec![*n as f64],
        })
        .collect();
    html.push_str(&bars(
        "Blocked, by reason",
        &["messages"],
        &reason_rows,
        None,
    ));

    html.push_str("<table><tr><th>id</th><th>sender</th><th>sent</th><th>marketing</th><th>blocked</th><th>opt-outs</th><th>complaints</th><th>violations</th><th>upheld phones</th><th>per 10k</th><th>suspensions</th><th>status</th></tr>");
    for s in &r.senders {
        let _ = write!(
            html,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td{}>{}</td></tr>",
            s.sender_id,
            esc(&s.name),
            s.sent,
            s.marketing_sent,
            s.blocked,
            s.opt_outs,
            s.complaints,
            s.violations,
            s.upheld_phones,
            s.complaint_rate_per_10k
                .map(|v| format!("{v:.1}"))
                .unwrap_or_default(),
            s.suspensions,
            if s.suspended_now {
                r#" class="susp""#
            } else {
                ""
            },
            if s.suspended_now {
                "suspended"
            } else {
                "active"
            }
        );
    }
    html.push_str("</table></body></html>");
    html
}

#[cfg(test)]
mod tests {
    use super::*;
    use complaints::SenderFigures;
    use domain::SenderId;

    #[test]
    fn sender_names_cannot_inject_markup() {
        let mut s = SenderFigures::empty(SenderId(1), "<script>alert(1)</script>\"'");
        s.sent = 5;
        let r = PeriodReport::new(
            jiff::Timestamp::UNIX_EPOCH,
            jiff::Timestamp::UNIX_EPOCH,
            vec![s],
            complaints::PlatformFigures::default(),
        );
        let html = render(&r, 10.0);
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains("&lt;script&gt;"));
        assert!(html.contains("<svg"));
        assert!(
            !html.contains("src=") && !html.contains("href="),
            "no external assets"
        );
    }
}
