//! Recognising links in SMS text without a regex: a run of URL-ish ASCII characters is a
//! link if it has a scheme, starts with `www.` or has a host on a known top-level domain.
//! Campaigns favour short links; phishing favours hyphenated look-alike hosts on cheap
//! domains, so both are reported to the feature extractor.

const SHORTENERS: &[&str] = &[
    "t.cn",
    "dwz.cn",
    "url.cn",
    "3.cn",
    "c.tb.cn",
    "m.tb.cn",
    "tb.cn",
    "bit.ly",
    "goo.gl",
    "tinyurl.com",
    "t.co",
    "ow.ly",
    "is.gd",
    "u.jd.com",
    "s.click",
    "suo.im",
    "j.mp",
    "sina.lt",
];
const CHEAP_TLDS: &[&str] = &[
    "top", "vip", "xyz", "cc", "tk", "info", "help", "club", "shop", "wang", "icu", "buzz", "live",
];
const TLDS: &[&str] = &[
    "help", "icu", "buzz", "live", "com", "cn", "net", "org", "cc", "top", "me", "ly", "io", "vip",
    "xyz", "co", "uk", "tk", "shop", "club", "info", "biz", "hk", "tw", "tv", "ws", "us", "de",
    "eu", "ru", "gl", "im", "lt", "in", "mobi", "wang",
];

/// Characters that may continue a link.
#[inline(always)]
pub(crate) fn is_urlish(c: char) -> bool {
    // One bit test instead of a chain of comparisons: this runs on every Latin character.
    const MASK: u128 = {
        let mut m = 0u128;
        let mut b = 0u8;
        while b < 128 {
            if b.is_ascii_alphanumeric()
                || matches!(
                    b,
                    b'.' | b'-'
                        | b'/'
                        | b':'
                        | b'?'
                        | b'='
                        | b'&'
                        | b'%'
                        | b'_'
                        | b'#'
                        | b'~'
                        | b'+'
                        | b'@'
                )
            {
                m |= 1 << b;
            }
            b += 1;
        }
        m
    };
    (c as u32) < 128 && (MASK >> (c as u32)) & 1 == 1
}

/// `Some(kind)` when the run is a link or e-mail address.
pub(crate) fn url_kind(run: &[char]) -> Option<UrlKind> {
    if run.len() < 4 || !run.contains(&'.') && !run.contains(&':') {
        return None;
    }
    let s: String = run.iter().map(char::to_ascii_lowercase).collect();
    let s = s.trim_end_matches(['.', '-', ':', '?']);
    let rest = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"))
        .map(|r| (r, true))
        .or_else(|| s.strip_prefix("www.").map(|r| (r, true)))
        .unwrap_or((s, false));
    let (body, explicit) = rest;
    let host = body.split(['/', '?', '#']).next().unwrap_or("");
    let host = host.rsplit('@').next().unwrap_or(host);
    let tld = host.rsplit('.').next().unwrap_or("");
    let looks_like_host = host.contains('.')
        && TLDS.contains(&tld)
        && host
            .split('.')
            .all(|label| !label.is_empty() && !label.bytes().all(|b| b.is_ascii_digit()));
    let shortener = SHORTENERS.contains(&host);
    if !(explicit || looks_like_host || shortener) {
        return None;
    }
    let has_path = body.len() > host.len() + 1;
    let short = SHORTENERS
        .iter()
        .any(|s| host == *s || host.ends_with(&format!(".{s}")))
        || (has_path && host.len() <= 8);
    // Phishing hosts imitate a brand with a hyphen ("icbc-verify", "royalmail-redelivery")
    // on cheap top-level domains; real senders' notices link to their own plain domains.
    let suspicious = host.contains('-') || CHEAP_TLDS.contains(&tld);
    Some(UrlKind { short, suspicious })
}

/// What a link looks like.
#[derive(Debug, Clone, Copy)]
pub(crate) struct UrlKind {
    pub(crate) short: bool,
    pub(crate) suspicious: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(s: &str) -> Option<(bool, bool)> {
        url_kind(&s.chars().collect::<Vec<_>>()).map(|k| (k.short, k.suspicious))
    }

    #[test]
    fn short_suspicious_plain_and_not_links() {
        assert_eq!(kind("t.cn/A6x8Kd"), Some((true, false)));
        assert_eq!(kind("3.cn/2Kx-p9"), Some((true, false)));
        assert_eq!(kind("icbc-verify.top"), Some((false, true)));
        assert_eq!(kind("https://www.example.com/orders"), Some((false, false)));
        assert_eq!(kind("12.50"), None);
        assert_eq!(kind("wear.t"), None);
    }
}
