//! The text patterns the error reader looks for, written as plain scans.
//!
//! Each function here does what one regular expression used to do (the expression is
//! quoted above it, with regex-lite's meaning: ASCII `\d`, `\s` and `\b`, leftmost
//! match first). A regex engine was a third of the browser module's code for some forty
//! fixed patterns; these scans are a few hundred bytes each. The tests below run every
//! scan against its expression, on the error fixtures and on generated text, so a
//! difference in what they match fails the build.

/// regex-lite's `\s`: `[\t\n\v\f\r ]`. Not `u8::is_ascii_whitespace`, which leaves out `\v`.
pub(super) fn is_space(b: u8) -> bool {
    matches!(b, b'\t' | b'\n' | 0x0B | 0x0C | b'\r' | b' ')
}

/// regex-lite's `\w`: `[0-9A-Za-z_]`.
fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// The byte at `i`, or none past the end.
fn at(b: &[u8], i: usize) -> Option<u8> {
    b.get(i).copied()
}

/// How many bytes from `i` on satisfy `f`.
fn run(b: &[u8], i: usize, f: impl Fn(u8) -> bool) -> usize {
    b.get(i..)
        .map_or(0, |rest| rest.iter().take_while(|&&c| f(c)).count())
}

fn digits(b: &[u8], i: usize) -> usize {
    run(b, i, |c| c.is_ascii_digit())
}

/// Whether exactly `n` digits start at `i`.
fn digits_exactly(b: &[u8], i: usize, n: usize) -> bool {
    b.len() >= i + n && b[i..i + n].iter().all(u8::is_ascii_digit)
}

/// Every start of `needle` in `text`, overlapping ones included, in order.
fn starts<'t>(text: &'t str, needle: &'t str) -> impl Iterator<Item = usize> + 't {
    let mut from = 0;
    std::iter::from_fn(move || {
        let found = from + text.get(from..)?.find(needle)?;
        from = found + 1;
        Some(found)
    })
}

/// A match at a position: where it ends and what replaces it.
type Matcher<'m> = dyn FnMut(&str, usize) -> Option<(usize, String)> + 'm;

/// The text with each match replaced: `matcher(text, i)` says whether a match starts at
/// `i` (a position holding `first`), where it ends and what replaces it. Matching goes
/// on after the end of each match, as a regex's `replace_all` does.
fn replace_all(text: &str, first: u8, matcher: &mut Matcher<'_>) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut i = 0;
    while let Some(offset) = bytes[i..].iter().position(|&c| c == first) {
        let start = i + offset;
        match matcher(text, start) {
            Some((end, with)) => {
                out.push_str(&text[copied..start]);
                out.push_str(&with);
                copied = end;
                i = end;
            }
            None => i = start + 1,
        }
    }
    out.push_str(&text[copied..]);
    out
}

// ---- The AADSTS reader ----

/// `\{\s*"error`: where the first JSON error body starts and where its `"error` ends.
pub(super) fn json_error(text: &str) -> Option<(usize, usize)> {
    let b = text.as_bytes();
    starts(text, "{").find_map(|start| {
        let after = start + 1 + run(b, start + 1, is_space);
        b[after..]
            .starts_with(b"\"error")
            .then_some((start, after + 6))
    })
}

/// One past the brace that closes the JSON object opening at `text[0]`, counting
/// brackets outside strings; serde_json then reads the object itself. Counting is
/// enough: for text that parses, the first return to depth zero is the
/// end of the value, and text that does not parse fails either way.
pub(super) fn json_object_end(text: &str) -> Option<usize> {
    let b = text.as_bytes();
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for (i, &c) in b.iter().enumerate() {
        if in_string {
            if escaped {
                escaped = false;
            } else if c == b'\\' {
                escaped = true;
            } else if c == b'"' {
                in_string = false;
            }
            continue;
        }
        match c {
            b'"' => in_string = true,
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            _ => {}
        }
    }
    None
}

/// `\\+TAIL` for each of `tails`, replaced by `with`: one or more backslashes before an
/// escaped character (`\\+[rnt]`, `\\+u0027`, `\\+"`).
pub(super) fn replace_escapes(text: &str, tails: &[&str], with: &str) -> String {
    // A run of backslashes that is not followed by a tail matches nowhere within it:
    // the end of the last run tried, so that a long run is read once.
    let mut failed_run_end = 0;
    let mut matcher = |text: &str, start: usize| {
        if start < failed_run_end {
            return None;
        }
        let b = text.as_bytes();
        let end = start + run(b, start, |c| c == b'\\');
        failed_run_end = end;
        let rest = &text[end..];
        tails
            .iter()
            .find(|t| rest.starts_with(*t))
            .map(|t| (end + t.len(), with.to_owned()))
    };
    replace_all(text, b'\\', &mut matcher)
}

/// `AADSTS(\d{5,7})\b`, every match: start, end and the digits.
pub(super) fn aadsts_codes(text: &str) -> Vec<(usize, usize, &str)> {
    let b = text.as_bytes();
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(offset) = text[from..].find("AADSTS") {
        let start = from + offset;
        let digits_at = start + 6;
        let n = digits(b, digits_at);
        // More than seven digits, or a letter right after, is no boundary.
        if (5..=7).contains(&n) && !at(b, digits_at + n).is_some_and(is_word) {
            found.push((start, digits_at + n, &text[digits_at..digits_at + n]));
            from = digits_at + n;
        } else {
            from = start + 1;
        }
    }
    found
}

/// `(?i)Trace ID:|Correlation ID:|Timestamp:`: whether the text holds the end of an
/// Entra message.
pub(super) fn has_message_end(text: &str) -> bool {
    let b = text.as_bytes();
    (0..b.len()).any(|i| {
        [&b"trace id:"[..], b"correlation id:", b"timestamp:"]
            .iter()
            .any(|label| {
                b.len() >= i + label.len() && b[i..i + label.len()].eq_ignore_ascii_case(label)
            })
    })
}

/// `error\?code=(\d{5,7})\b`: the code in a link to the error's page.
pub(super) fn linked_code(text: &str) -> Option<&str> {
    let b = text.as_bytes();
    starts(text, "error?code=").find_map(|start| {
        let i = start + 11;
        let n = digits(b, i);
        ((5..=7).contains(&n) && !at(b, i + n).is_some_and(is_word)).then(|| &text[i..i + n])
    })
}

/// `LABEL([^']*)'` where `label` ends with a quote: the quoted value after the label.
/// A later label holds a quote itself, so only the first label can have a closing one.
pub(super) fn quoted<'t>(text: &'t str, label: &str) -> Option<&'t str> {
    let start = text.find(label)? + label.len();
    let len = text[start..].find('\'')?;
    Some(&text[start..start + len])
}

fn is_hex(b: u8) -> bool {
    b.is_ascii_hexdigit()
}

/// `LABEL([0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12})`,
/// else `LABEL([0-9A-Fa-f-]{8,})`: a GUID after the label, else a run of hex digits
/// and dashes. The GUID comes first so that glued text (`…3b00Correlation ID`) does
/// not run into the id.
pub(super) fn id_after<'t>(text: &'t str, label: &str) -> Option<&'t str> {
    let b = text.as_bytes();
    let guid = starts(text, label).find_map(|start| {
        let i = start + label.len();
        let mut j = i;
        for (k, &n) in [8, 4, 4, 4, 12].iter().enumerate() {
            if k > 0 {
                if at(b, j) != Some(b'-') {
                    return None;
                }
                j += 1;
            }
            if run(b, j, is_hex) < n {
                return None;
            }
            j += n;
        }
        Some(&text[i..j])
    });
    guid.or_else(|| {
        starts(text, label).find_map(|start| {
            let i = start + label.len();
            let n = run(b, i, |c| is_hex(c) || c == b'-');
            (n >= 8).then(|| &text[i..i + n])
        })
    })
}

/// `Timestamp: (\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?:\.\d+)?Z?)`.
pub(super) fn timestamp(text: &str) -> Option<&str> {
    let b = text.as_bytes();
    starts(text, "Timestamp: ").find_map(|start| {
        let i = start + 11;
        let shape = date_time(b, i, b" T")?;
        let mut j = i + shape;
        if at(b, j) == Some(b'.') && digits(b, j + 1) > 0 {
            j += 1 + digits(b, j + 1);
        }
        if at(b, j) == Some(b'Z') {
            j += 1;
        }
        Some(&text[i..j])
    })
}

/// `\d{4}-\d\d-\d\d[SEP]\d\d:\d\d:\d\d` at `i`: its length.
fn date_time(b: &[u8], i: usize, separators: &[u8]) -> Option<usize> {
    let ok = digits_exactly(b, i, 4)
        && at(b, i + 4) == Some(b'-')
        && digits_exactly(b, i + 5, 2)
        && at(b, i + 7) == Some(b'-')
        && digits_exactly(b, i + 8, 2)
        && at(b, i + 10).is_some_and(|c| separators.contains(&c))
        && digits_exactly(b, i + 11, 2)
        && at(b, i + 13) == Some(b':')
        && digits_exactly(b, i + 14, 2)
        && at(b, i + 16) == Some(b':')
        && digits_exactly(b, i + 17, 2);
    ok.then_some(19)
}

/// `LABEL([^,\s]+)`: the word after the label, up to a comma or a space.
pub(super) fn word_after<'t>(text: &'t str, label: &str) -> Option<&'t str> {
    let b = text.as_bytes();
    starts(text, label).find_map(|start| {
        let i = start + label.len();
        let n = run(b, i, |c| c != b',' && !is_space(c));
        (n > 0).then(|| &text[i..i + n])
    })
}

/// `LABEL([^,\s]+?)\.?(?:\s|,|$)` (with `comma`) or `LABEL(\S+?)\.?(?:\s|$)`: the word
/// after the label without the full stop that ends a sentence.
pub(super) fn word_before_stop<'t>(text: &'t str, label: &str, comma: bool) -> Option<&'t str> {
    let b = text.as_bytes();
    starts(text, label).find_map(|start| {
        let i = start + label.len();
        let n = run(b, i, |c| !(is_space(c) || comma && c == b','));
        // The shortest word the rest can follow: one more character than a final full
        // stop, else the whole run (which ends at a space, a comma or the end).
        match n {
            0 => None,
            n if n >= 2 && b[i + n - 1] == b'.' => Some(&text[i..i + n - 1]),
            n => Some(&text[i..i + n]),
        }
    })
}

/// `LABEL(\S*)SUFFIX` where `suffix` starts with a space: the word between the two.
pub(super) fn word_between<'t>(text: &'t str, label: &str, suffix: &str) -> Option<&'t str> {
    let b = text.as_bytes();
    starts(text, label).find_map(|start| {
        let i = start + label.len();
        let n = run(b, i, |c| !is_space(c));
        text[i + n..].starts_with(suffix).then(|| &text[i..i + n])
    })
}

// ---- Undoing a paste ----

/// `\x1b\[[0-9;?]*[ -/]*[@-~]` removed: ANSI escape sequences.
pub(super) fn strip_ansi(text: &str) -> String {
    replace_all(text, 0x1b, &mut |text, start| {
        let b = text.as_bytes();
        if at(b, start + 1) != Some(b'[') {
            return None;
        }
        let mut j = start + 2;
        j += run(b, j, |c| c.is_ascii_digit() || c == b';' || c == b'?');
        j += run(b, j, |c| (b' '..=b'/').contains(&c));
        at(b, j)
            .is_some_and(|c| (b'@'..=b'~').contains(&c))
            .then(|| (j + 1, String::new()))
    })
}

/// `\[(?:\d{1,3}(?:;\d{1,3})*)?m` removed: what is left of a colour code without its ESC.
pub(super) fn strip_colour_remains(text: &str) -> String {
    replace_all(text, b'[', &mut |text, start| {
        let b = text.as_bytes();
        let mut j = start + 1;
        if at(b, j) != Some(b'm') {
            loop {
                let n = digits(b, j);
                if !(1..=3).contains(&n) {
                    return None;
                }
                j += n;
                match at(b, j) {
                    Some(b';') => j += 1,
                    Some(b'm') => break,
                    _ => return None,
                }
            }
        }
        Some((j + 1, String::new()))
    })
}

/// `\*+` where the run is exactly `**` removed: bold markers. Longer runs (a CI log's
/// mask of a secret) stay.
pub(super) fn strip_bold(text: &str) -> String {
    replace_all(text, b'*', &mut |text, start| {
        let n = run(text.as_bytes(), start, |c| c == b'*');
        let kept = if n == 2 { String::new() } else { "*".repeat(n) };
        Some((start + n, kept))
    })
}

/// An empty cache for `next_stop`: it holds for no position.
const UNKNOWN: (usize, usize) = (1, 0);

/// Where the first byte that `stop` accepts lies at or after `i` (or the end), from a
/// cache of the last answer: scanning text full of openings once, not once per opening.
fn next_stop(b: &[u8], i: usize, cache: &mut (usize, usize), stop: fn(u8) -> bool) -> usize {
    let (from, found) = *cache;
    if !(from <= i && i <= found) {
        *cache = (i, i + run(b, i, |c| !stop(c)));
    }
    cache.1
}

/// `\(https?://[^)\s]*\)` at `i`: where it ends and the address inside.
fn parenthesised_url<'t>(
    text: &'t str,
    i: usize,
    cache: &mut (usize, usize),
) -> Option<(usize, &'t str)> {
    let b = text.as_bytes();
    let rest = text.get(i..)?;
    let scheme = if rest.starts_with("(https://") {
        9
    } else if rest.starts_with("(http://") {
        8
    } else {
        return None;
    };
    let close = next_stop(b, i + scheme, cache, |c| c == b')' || is_space(c));
    (at(b, close) == Some(b')')).then(|| (close + 1, &text[i + 1..close]))
}

/// `\[(\d{1,6})\]\(https?://[^)\s]*\)` replaced by `$1`: a CI log's line-number link.
pub(super) fn line_number_links(text: &str) -> String {
    let mut url = UNKNOWN;
    replace_all(text, b'[', &mut |text, start| {
        let b = text.as_bytes();
        let n = digits(b, start + 1);
        if !(1..=6).contains(&n) || at(b, start + 1 + n) != Some(b']') {
            return None;
        }
        let (end, _) = parenthesised_url(text, start + 2 + n, &mut url)?;
        Some((end, text[start + 1..start + 1 + n].to_owned()))
    })
}

/// `\[([^\]\n]*)\]\((https?://[^)\s]*)\)` replaced by `$1 $2`: a link's text and address.
pub(super) fn links(text: &str) -> String {
    // Where the bracket opened at a position ends (the next `]` or line break), kept
    // so that text full of `[` is scanned once, not once per bracket.
    let (mut inside, mut url) = (UNKNOWN, UNKNOWN);
    replace_all(text, b'[', &mut |text, start| {
        let b = text.as_bytes();
        let stop = next_stop(b, start + 1, &mut inside, |c| c == b']' || c == b'\n');
        if at(b, stop) != Some(b']') {
            return None;
        }
        let (end, url) = parenthesised_url(text, stop + 1, &mut url)?;
        Some((end, format!("{} {url}", &text[start + 1..stop])))
    })
}

/// `AADSTS\d{5,7}:\+`: whether the text is form-encoded (`+` for spaces).
pub(super) fn form_encoded(text: &str) -> bool {
    let b = text.as_bytes();
    starts(text, "AADSTS").any(|start| {
        let n = digits(b, start + 6);
        (5..=7).contains(&n) && b[start + 6 + n..].starts_with(b":+")
    })
}

/// `(?i)</?a\b[^>]*>` removed: HTML anchors around a code.
pub(super) fn strip_anchors(text: &str) -> String {
    // As in `links`: where the tag that opened at a position closes.
    let mut tag = UNKNOWN;
    replace_all(text, b'<', &mut |text, start| {
        let b = text.as_bytes();
        let mut j = start + 1;
        if at(b, j) == Some(b'/') {
            j += 1;
        }
        if !at(b, j).is_some_and(|c| c.eq_ignore_ascii_case(&b'a'))
            || at(b, j + 1).is_some_and(is_word)
        {
            return None;
        }
        let close = next_stop(b, j + 1, &mut tag, |c| c == b'>');
        (at(b, close) == Some(b'>')).then(|| (close + 1, String::new()))
    })
}

/// `^\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)?\s`: the length of
/// a CI runner's timestamp at the start of a line.
pub(super) fn timestamp_prefix(line: &str) -> Option<usize> {
    let b = line.as_bytes();
    let mut j = date_time(b, 0, b"T ")?;
    j += fraction(b, j);
    match at(b, j) {
        Some(b'Z') => j += 1,
        Some(b'+' | b'-') if digits_exactly(b, j + 1, 2) => {
            let colon = usize::from(at(b, j + 3) == Some(b':'));
            if digits_exactly(b, j + 3 + colon, 2) {
                j += 5 + colon;
            }
        }
        _ => {}
    }
    at(b, j).is_some_and(is_space).then_some(j + 1)
}

/// `(?:[.,]\d+)?` at `j`: its length.
fn fraction(b: &[u8], j: usize) -> usize {
    let n = digits(b, j + 1);
    if matches!(at(b, j), Some(b'.' | b',')) && n > 0 {
        1 + n
    } else {
        0
    }
}

/// `^\[\d{1,2}:\d\d:\d\d(?:[.,]\d+)?\]\s?`: the length of a bracketed clock time at the
/// start of a line.
pub(super) fn clock_prefix(line: &str) -> Option<usize> {
    let b = line.as_bytes();
    if at(b, 0) != Some(b'[') {
        return None;
    }
    let n = digits(b, 1);
    if !(1..=2).contains(&n) {
        return None;
    }
    let mut j = 1 + n;
    let ok = at(b, j) == Some(b':')
        && digits_exactly(b, j + 1, 2)
        && at(b, j + 3) == Some(b':')
        && digits_exactly(b, j + 4, 2);
    if !ok {
        return None;
    }
    j += 6;
    j += fraction(b, j);
    if at(b, j) != Some(b']') {
        return None;
    }
    j += 1;
    Some(j + usize::from(at(b, j).is_some_and(is_space)))
}

/// `^(?:##\[[a-z]+\]|::[a-z]+(?: [^:]*)?::)`: the length of a runner's annotation
/// (`##[error]`, `::error::`, `::error file=…::`) at the start of a line.
pub(super) fn annotation_prefix(line: &str) -> Option<usize> {
    let b = line.as_bytes();
    let lower = |i| run(b, i, |c| c.is_ascii_lowercase());
    if b.starts_with(b"##[") {
        let n = lower(3);
        return (n > 0 && at(b, 3 + n) == Some(b']')).then_some(4 + n);
    }
    if !b.starts_with(b"::") {
        return None;
    }
    let n = lower(2);
    if n == 0 {
        return None;
    }
    let mut j = 2 + n;
    if at(b, j) == Some(b' ') {
        j += 1 + run(b, j + 1, |c| c != b':');
    }
    b[j..].starts_with(b"::").then_some(j + 2)
}

#[cfg(test)]
mod tests {
    //! Every scan against the expression it replaces (regex-lite, a dev-dependency).
    use super::*;
    use proptest::prelude::*;
    use regex_lite::Regex;

    fn re(pattern: &str) -> Regex {
        Regex::new(pattern).expect("test pattern")
    }

    fn group<'t>(pattern: &str, text: &'t str) -> Option<&'t str> {
        re(pattern)
            .captures(text)
            .and_then(|c| c.get(1))
            .map(|m| m.as_str())
    }

    fn prefix(pattern: &str, text: &str) -> Option<usize> {
        re(pattern).find(text).map(|m| m.end())
    }

    /// Every scan and its expression on one text; panics with both answers on a difference.
    fn same(text: &str) {
        let t = text;
        assert_eq!(
            json_error(t),
            re(r#"\{\s*"error"#).find(t).map(|m| (m.start(), m.end())),
            "{t:?}"
        );
        assert_eq!(
            replace_escapes(t, &["r", "n", "t"], " "),
            re(r"\\+[rnt]").replace_all(t, " "),
            "{t:?}"
        );
        assert_eq!(
            replace_escapes(t, &["u0027"], "'"),
            re(r"\\+u0027").replace_all(t, "'"),
            "{t:?}"
        );
        assert_eq!(
            replace_escapes(t, &["\""], "\""),
            re(r#"\\+""#).replace_all(t, "\""),
            "{t:?}"
        );
        let codes: Vec<(usize, usize, &str)> = re(r"AADSTS(\d{5,7})\b")
            .captures_iter(t)
            .map(|c| {
                let m = c.get(0).expect("whole match");
                (m.start(), m.end(), c.get(1).expect("group").as_str())
            })
            .collect();
        assert_eq!(aadsts_codes(t), codes, "{t:?}");
        assert_eq!(
            has_message_end(t),
            re(r"(?i)Trace ID:|Correlation ID:|Timestamp:").is_match(t),
            "{t:?}"
        );
        assert_eq!(
            linked_code(t),
            group(r"error\?code=(\d{5,7})\b", t),
            "{t:?}"
        );
        for label in [
            "Assertion Issuer: '",
            "presented assertion issuer '",
            "issued by '",
            "Assertion Subject: '",
            "presented assertion subject '",
            "Assertion Audience: '",
            "presented assertion audience '",
            "Application with identifier '",
            "in the directory '",
            "Tenant '",
            "Subject is '",
        ] {
            let pattern = format!("{}([^']*)'", regex_lite::escape(label));
            assert_eq!(quoted(t, label), group(&pattern, t), "{label} in {t:?}");
        }
        for label in ["Trace ID: ", "Correlation ID: "] {
            let l = regex_lite::escape(label);
            let guid = format!(
                "{l}([0-9A-Fa-f]{{8}}-[0-9A-Fa-f]{{4}}-[0-9A-Fa-f]{{4}}-[0-9A-Fa-f]{{4}}-[0-9A-Fa-f]{{12}})"
            );
            let loose = format!("{l}([0-9A-Fa-f-]{{8,}})");
            assert_eq!(
                id_after(t, label),
                group(&guid, t).or_else(|| group(&loose, t)),
                "{label} in {t:?}"
            );
        }
        assert_eq!(
            timestamp(t),
            group(
                r"Timestamp: (\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?:\.\d+)?Z?)",
                t
            ),
            "{t:?}"
        );
        assert_eq!(
            word_after(t, "Current time: "),
            group(r"Current time: ([^,\s]+)", t),
            "{t:?}"
        );
        assert_eq!(
            word_after(t, "valid from "),
            group(r"valid from ([^,\s]+)", t),
            "{t:?}"
        );
        assert_eq!(
            word_before_stop(t, "expiry time of assertion ", true),
            group(r"expiry time of assertion ([^,\s]+?)\.?(?:\s|,|$)", t),
            "{t:?}"
        );
        assert_eq!(
            word_before_stop(t, "identity provider ", false),
            group(r"identity provider (\S+?)\.?(?:\s|$)", t),
            "{t:?}"
        );
        assert_eq!(
            word_between(t, "certificate with identifier ", " used"),
            group(r"certificate with identifier (\S*) used", t),
            "{t:?}"
        );

        assert_eq!(
            strip_ansi(t),
            re(r"\x1b\[[0-9;?]*[ -/]*[@-~]").replace_all(t, ""),
            "{t:?}"
        );
        assert_eq!(
            strip_colour_remains(t),
            re(r"\[(?:\d{1,3}(?:;\d{1,3})*)?m").replace_all(t, ""),
            "{t:?}"
        );
        let bold = re(r"\*+").replace_all(t, |c: &regex_lite::Captures<'_>| {
            if &c[0] == "**" {
                String::new()
            } else {
                c[0].to_owned()
            }
        });
        assert_eq!(strip_bold(t), bold, "{t:?}");
        assert_eq!(
            line_number_links(t),
            re(r"\[(\d{1,6})\]\(https?://[^)\s]*\)").replace_all(t, "$1"),
            "{t:?}"
        );
        assert_eq!(
            links(t),
            re(r"\[([^\]\n]*)\]\((https?://[^)\s]*)\)").replace_all(t, "$1 $2"),
            "{t:?}"
        );
        assert_eq!(
            form_encoded(t),
            re(r"AADSTS\d{5,7}:\+").is_match(t),
            "{t:?}"
        );
        assert_eq!(
            strip_anchors(t),
            re(r"(?i)</?a\b[^>]*>").replace_all(t, ""),
            "{t:?}"
        );
        assert_eq!(
            timestamp_prefix(t),
            prefix(
                r"^\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)?\s",
                t
            ),
            "{t:?}"
        );
        assert_eq!(
            clock_prefix(t),
            prefix(r"^\[\d{1,2}:\d\d:\d\d(?:[.,]\d+)?\]\s?", t),
            "{t:?}"
        );
        assert_eq!(
            annotation_prefix(t),
            prefix(r"^(?:##\[[a-z]+\]|::[a-z]+(?: [^:]*)?::)", t),
            "{t:?}"
        );
    }

    /// Every error text of the test vectors, and each of their lines (the line scans
    /// see single lines).
    #[test]
    fn the_scans_match_their_expressions_on_the_fixtures() {
        let root = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/vectors/diagnose_error.json"
        );
        let text = std::fs::read_to_string(root).expect("vectors");
        let vectors: serde_json::Value = serde_json::from_str(&text).expect("json");
        let cases = vectors["cases"].as_array().expect("cases");
        assert!(cases.len() > 50);
        for case in cases {
            let t = case["text"].as_str().expect("text");
            same(t);
            for line in t.lines() {
                same(line);
                same(line.trim());
            }
        }
    }

    #[test]
    fn the_scans_match_their_expressions_on_edge_cases() {
        for t in [
            "",
            "AADSTS12345",
            "AADSTS1234567",
            "AADSTS12345678",
            "AADSTS123456_",
            "AADSTS123456é",
            "AAADSTS70021: x",
            "AADSTS70021:+The+resource",
            "xAADSTS12345678:+ AADSTS12345:+",
            "error?code=70021 error?code=7002131",
            "error?code=123 error?code=700213",
            "Trace ID: 0a1b2c3d-0000-0000-0000-000000000000Correlation ID: x",
            "Trace ID: 0a1b2c3d Trace ID: 0a1b2c3d-0000-0000-0000-000000000000",
            "Trace ID: 0a1b2c3 Trace ID: --------",
            "tRaCe iD: Timestamp: 2024-01-02 03:04:05.Z Timestamp: 2024-01-02T03:04:05.123Z",
            "Timestamp: 2024-01-02T03:04:05.Z",
            "TimeſtAMP: x",
            "Current time: , Current time: 2024-01-01T00:00:00.000Z, valid from x",
            "expiry time of assertion 2024. expiry time of assertion a..",
            "expiry time of assertion .",
            "expiry time of assertion ..,x",
            "expiry time of assertion x.y.",
            "identity provider https://a.b/c. identity provider .",
            "identity provider a,b.",
            "certificate with identifier  used certificate with identifier abc used",
            "certificate with identifier abc  used",
            "\x1b[31mred\x1b[0m \x1b[?25h \x1b[1;2 x \x1b[",
            "[31m [0m [1;2;3m [1234m [;m [1;m [m [",
            "* ** *** **bold** ****",
            "[12](https://x/y) [1234567](https://x) [12](http://a b) [12](ftp://x)",
            "[a [b](https://x) [c]\n](https://y) [](http://z) [x](https:/)",
            "[[[[[[[[",
            "<a href='x'>AADSTS</a> <A> <ab> </a > <a",
            "<a <a <a> >",
            "2024-03-01T10:11:12.1234567Z x",
            "2024-03-01 10:11:12,5+01:00\tx",
            "2024-03-01T10:11:12+0100 x",
            "2024-03-01T10:11:12+01 x",
            "2024-03-01T10:11:12. x",
            "2024-03-01T10:11:12Z",
            "[1:02:03] x",
            "[12:02:03.5]x",
            "[123:02:03] x",
            "[1:02:03.]",
            "##[error]x",
            "##[]x",
            "::error::x",
            "::error file=a.rs,line=1::x",
            "::error file=a",
            ":: x::",
            "::Error::",
            "{ \"error\": 1} {\x0B\"error",
            "\\\\\\\\u0027 \\\\r\\n\\t \\\\x \\\\\"",
        ] {
            same(t);
        }
    }

    /// Text made of the pieces the patterns look for, in any order.
    fn pieces() -> impl Strategy<Value = String> {
        let piece = prop::sample::select(vec![
            "AADSTS",
            "70021",
            "1",
            "12",
            "1234",
            "7002131",
            "a",
            "_",
            "é",
            "ſ",
            " ",
            "\t",
            "\x0B",
            "\n",
            ",",
            ".",
            ":",
            ";",
            "'",
            "\"",
            "\\",
            "\\\\",
            "*",
            "**",
            "[",
            "]",
            "(",
            ")",
            "<",
            ">",
            "/",
            "m",
            "?",
            "#",
            "##[",
            "::",
            "-",
            "+",
            "Z",
            "T",
            "\x1b[",
            "https://",
            "http://",
            "{",
            "\"error",
            "error?code=",
            "Trace ID: ",
            "trace id:",
            "Correlation ID: ",
            "Timestamp: ",
            "2024-01-02",
            "T03:04:05",
            " 03:04:05",
            "0a1b2c3d",
            "-0000",
            "000000000000",
            "Current time: ",
            "valid from ",
            "expiry time of assertion ",
            "identity provider ",
            "certificate with identifier ",
            " used",
            "Assertion Issuer: '",
            "Tenant '",
            "Subject is '",
            "issued by '",
            "u0027",
            "<a",
            "</A",
            "[1:",
            "02:03",
        ]);
        prop::collection::vec(piece, 0..24).prop_map(|v| v.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]
        #[test]
        fn the_scans_match_their_expressions_on_generated_text(t in pieces()) {
            same(&t);
        }

        #[test]
        fn an_object_ends_where_serde_json_stream_reader_ends_it(t in json_pieces()) {
            let mut values =
                serde_json::Deserializer::from_str(&t).into_iter::<serde_json::Value>();
            let streamed = match values.next() {
                Some(Ok(v)) => Some((values.byte_offset(), v)),
                _ => None,
            };
            let counted = json_object_end(&t).and_then(|end| {
                serde_json::from_str::<serde_json::Value>(&t[..end]).ok().map(|v| (end, v))
            });
            prop_assert_eq!(counted, streamed, "{:?}", t);
        }
    }

    #[test]
    fn an_object_ends_at_its_own_closing_brace() {
        for (text, end) in [
            (r#"{"error":"a}b","n":{"x":[1,{}]}} trailing"#, Some(32)),
            (r#"{"s":"\"}"}x"#, Some(11)),
            (r#"{"s":"\\"}"}x"#, Some(10)),
            ("{}1", Some(2)),
            (r#"{"open":"#, None),
            // Counted as closed; serde_json then refuses the text.
            ("{]", Some(2)),
        ] {
            assert_eq!(json_object_end(text), end, "{text}");
        }
    }

    /// Text that opens a JSON object: valid ones, broken ones, strings holding
    /// brackets and escapes, and what may follow the object.
    fn json_pieces() -> impl Strategy<Value = String> {
        let piece = prop::sample::select(vec![
            "{",
            "}",
            "[",
            "]",
            "\"",
            "\\",
            "\\\"",
            ":",
            ",",
            " ",
            "\n",
            "\"error\"",
            "\"a\"",
            "\"}\"",
            "\"{\"",
            "1",
            "-2.5e3",
            "true",
            "null",
            "x",
            "é",
            "\\u0027",
            "\\n",
        ]);
        prop::collection::vec(piece, 0..20).prop_map(|v| format!("{{{}", v.concat()))
    }
}
