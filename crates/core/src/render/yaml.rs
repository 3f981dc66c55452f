//! A YAML writer for the small documents the renders produce (mappings, sequences of
//! strings, strings and booleans), byte for byte what serde_norway (libyaml's
//! emitter, unlimited width, Unicode on) writes for the same tree. libyaml and its
//! serde layer were most of the page's WASM module for these few lines of output; the
//! choice of scalar style below follows libyaml's `analyze_scalar` and
//! `select_scalar_style`, and the test in this module compares both writers.

/// A value in the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Node {
    Str(String),
    Bool(bool),
    Seq(Vec<String>),
    Map(Map),
}

/// A mapping that keeps insertion order; inserting a key again replaces its value
/// in place, as `serde_norway::Mapping` (an `IndexMap`) does.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Map(Vec<(String, Node)>);

impl Map {
    pub(crate) fn new() -> Self {
        Self(Vec::new())
    }

    pub(crate) fn insert(&mut self, key: &str, value: Node) {
        match self.0.iter_mut().find(|(k, _)| k == key) {
            Some(entry) => entry.1 = value,
            None => self.0.push((key.to_owned(), value)),
        }
    }
}

/// The document `root`, ending with a line break.
pub(crate) fn to_string(root: &Map) -> String {
    let mut w = Writer {
        out: String::new(),
        column: 0,
        whitespace: true,
        indention: true,
        indent: -1,
        indents: Vec::new(),
    };
    w.map(root, false);
    // The implicit document end.
    w.write_indent();
    w.out
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Style {
    Plain,
    Single,
    Double,
    Literal,
}

struct Writer {
    out: String,
    column: usize,
    whitespace: bool,
    indention: bool,
    indent: i64,
    indents: Vec<i64>,
}

fn is_break(c: char) -> bool {
    matches!(c, '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

fn is_blankz(c: Option<char>) -> bool {
    matches!(
        c,
        None | Some(' ' | '\t' | '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
    )
}

/// libyaml's `IS_PRINTABLE`: line feed, visible ASCII and space, and Unicode from
/// U+A0 on except surrogates, U+FEFF, U+FFFE and U+FFFF.
fn is_printable(c: char) -> bool {
    matches!(c, '\n' | ' '..='~' | '\u{A0}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
        && c != '\u{FEFF}'
}

/// What libyaml's `analyze_scalar` decides about a string (block context only).
struct Analysis {
    multiline: bool,
    plain_allowed: bool,
    single_quoted_allowed: bool,
    block_allowed: bool,
}

fn analyze(value: &str) -> Analysis {
    if value.is_empty() {
        return Analysis {
            multiline: false,
            plain_allowed: true,
            single_quoted_allowed: true,
            block_allowed: false,
        };
    }
    let chars: Vec<char> = value.chars().collect();
    let mut block_indicators = value.starts_with("---") || value.starts_with("...");
    let (mut line_breaks, mut special) = (false, false);
    let (mut leading_space, mut leading_break, mut trailing_space, mut trailing_break) =
        (false, false, false, false);
    let (mut break_space, mut space_break) = (false, false);
    let (mut previous_space, mut previous_break) = (false, false);
    let mut preceded_by_whitespace = true;
    let last = chars.len() - 1;
    for (i, &c) in chars.iter().enumerate() {
        let followed_by_whitespace = is_blankz(chars.get(i + 1).copied());
        if i == 0 {
            if "#,[]{}&*!|>'\"%@`".contains(c) || (c == '-' && followed_by_whitespace) {
                block_indicators = true;
            }
            if (c == '?' || c == ':') && followed_by_whitespace {
                block_indicators = true;
            }
        } else if (c == ':' && followed_by_whitespace) || (c == '#' && preceded_by_whitespace) {
            block_indicators = true;
        }
        if !is_printable(c) {
            special = true;
        }
        if is_break(c) {
            line_breaks = true;
        }
        if c == ' ' {
            leading_space |= i == 0;
            trailing_space |= i == last;
            break_space |= previous_break;
            previous_space = true;
            previous_break = false;
        } else if is_break(c) {
            leading_break |= i == 0;
            trailing_break |= i == last;
            space_break |= previous_space;
            previous_space = false;
            previous_break = true;
        } else {
            previous_space = false;
            previous_break = false;
        }
        preceded_by_whitespace = is_blankz(Some(c));
    }
    let mut a = Analysis {
        multiline: line_breaks,
        plain_allowed: true,
        single_quoted_allowed: true,
        block_allowed: true,
    };
    if leading_space || leading_break || trailing_space || trailing_break || line_breaks {
        a.plain_allowed = false;
    }
    if trailing_space {
        a.block_allowed = false;
    }
    if break_space {
        a.plain_allowed = false;
        a.single_quoted_allowed = false;
    }
    if space_break || special {
        a.plain_allowed = false;
        a.single_quoted_allowed = false;
        a.block_allowed = false;
    }
    if block_indicators {
        a.plain_allowed = false;
    }
    a
}

/// Whether serde_norway would read `v`, written plain, as something other than a
/// string (null, a boolean, an integer or a finite float); it then quotes it.
fn reads_as_non_string(v: &str) -> bool {
    if v.is_empty() || matches!(v, "~" | "null" | "Null" | "NULL") {
        return true;
    }
    if matches!(v, "true" | "True" | "TRUE" | "false" | "False" | "FALSE") {
        return true;
    }
    let leading_zero = digits_but_not_number(v);
    // serde_norway's integer forms: 0x / 0o / 0b with an optional `+` (or `-` before the
    // prefix), then decimal; an integer must fit u128 or i128. A decimal integer that
    // does not is still a finite float, so only the prefixed forms need the range.
    let unpositive = v.strip_prefix('+').unwrap_or(v);
    for (prefix, bits) in [("0x", 4), ("0o", 3), ("0b", 1)] {
        if let Some(rest) = unpositive.strip_prefix(prefix)
            && radix_fits(rest, bits, u128::MAX)
        {
            return true;
        }
        if let Some(rest) = v.strip_prefix('-').and_then(|r| r.strip_prefix(prefix))
            && radix_fits(rest, bits, 1 << 127)
        {
            return true;
        }
    }
    // Leading zeros make a string in YAML 1.2, but serde_norway quotes them anyway.
    leading_zero || is_finite_float(v)
}

/// Whether `digits` is one or more digits of base 2^`bits` whose value is at most
/// `max`: what `from_str_radix` accepts after the sign, decided with shifts rather
/// than 128-bit multiplication.
fn radix_fits(digits: &str, bits: u32, max: u128) -> bool {
    let mut value: u128 = 0;
    for c in digits.chars() {
        match c.to_digit(1 << bits) {
            Some(d) if value >> (128 - bits) == 0 => value = value << bits | u128::from(d),
            _ => return false,
        }
    }
    !digits.is_empty() && value <= max
}

fn digits_but_not_number(v: &str) -> bool {
    let v = v.strip_prefix(['-', '+']).unwrap_or(v);
    v.len() > 1 && v.starts_with('0') && v[1..].bytes().all(|b| b.is_ascii_digit())
}

/// serde_norway's `parse_f64(v).is_some()`: YAML's `.inf` and `.nan` spellings, or
/// Rust's float syntax with a finite value. Decided from the digits, without parsing
/// the number (which would link the float parser and its tables).
fn is_finite_float(v: &str) -> bool {
    let unpositive = match v.strip_prefix('+') {
        Some(rest) if rest.starts_with(['+', '-']) => return false,
        Some(rest) => rest,
        None => v,
    };
    if matches!(
        unpositive,
        ".inf" | ".Inf" | ".INF" | ".nan" | ".NaN" | ".NAN"
    ) || matches!(v, "-.inf" | "-.Inf" | "-.INF")
    {
        // `+.nan` is not a float to serde_norway, `.nan` is; both are then quoted or not
        // alike only if spelled as serde_norway does.
        return unpositive == v || !unpositive.starts_with(".n") && !unpositive.starts_with(".N");
    }
    let body = unpositive.strip_prefix(['+', '-']).unwrap_or(unpositive);
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || !digits(fraction) || whole.len() + fraction.len() == 0 {
        return false;
    }
    let exponent: i64 = match exponent {
        None => 0,
        Some(e) => {
            let unsigned = e.strip_prefix(['+', '-']).unwrap_or(e);
            if unsigned.is_empty() || !digits(unsigned) {
                return false;
            }
            let magnitude = unsigned.bytes().fold(0i64, |n, b| {
                n.saturating_mul(10).saturating_add(i64::from(b - b'0'))
            });
            if e.starts_with('-') {
                -magnitude
            } else {
                magnitude
            }
        }
    };
    // The value is 0.DIGITS × 10^point; it is finite unless it rounds to infinity,
    // that is unless it is at least 2^1024 − 2^970 (halfway past f64::MAX).
    let all = format!("{whole}{fraction}");
    let significant = all.trim_start_matches('0');
    if significant.is_empty() {
        return true;
    }
    let point =
        (whole.len() as i64 - (all.len() - significant.len()) as i64).saturating_add(exponent);
    const LIMIT: &str = "179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174497792";
    match point.cmp(&(LIMIT.len() as i64)) {
        std::cmp::Ordering::Less => true,
        std::cmp::Ordering::Greater => false,
        std::cmp::Ordering::Equal => {
            // Digit strings of the same magnitude compare as text; a proper prefix of
            // LIMIT is smaller, as LIMIT's remaining digits are not all zero.
            significant.trim_end_matches('0') < LIMIT
        }
    }
}

impl Writer {
    fn put(&mut self, c: char) {
        self.out.push(c);
        self.column += 1;
    }

    fn put_break(&mut self) {
        self.out.push('\n');
        self.column = 0;
    }

    /// libyaml's `WRITE_BREAK`.
    fn write_break(&mut self, c: char) {
        if c == '\n' {
            self.put_break();
        } else {
            self.out.push(c);
            self.column = 0;
        }
    }

    fn indicator(
        &mut self,
        text: &str,
        need_whitespace: bool,
        is_whitespace: bool,
        is_indention: bool,
    ) {
        if need_whitespace && !self.whitespace {
            self.put(' ');
        }
        for c in text.chars() {
            self.put(c);
        }
        self.whitespace = is_whitespace;
        self.indention = self.indention && is_indention;
    }

    fn write_indent(&mut self) {
        let indent = self.indent.max(0) as usize;
        if !self.indention || self.column > indent || (self.column == indent && !self.whitespace) {
            self.put_break();
        }
        while self.column < indent {
            self.put(' ');
        }
        self.whitespace = true;
        self.indention = true;
    }

    fn increase_indent(&mut self, flow: bool, indentless: bool) {
        self.indents.push(self.indent);
        if self.indent < 0 {
            self.indent = if flow { 2 } else { 0 };
        } else if !indentless {
            self.indent += 2;
        }
    }

    fn pop_indent(&mut self) {
        self.indent = self.indents.pop().unwrap_or(-1);
    }

    fn node(&mut self, node: &Node, mapping_value: bool) {
        match node {
            Node::Str(s) => self.scalar(s, false),
            Node::Bool(b) => {
                self.scalar_styled(if *b { "true" } else { "false" }, Style::Plain, false)
            }
            Node::Seq(items) => self.seq(items, mapping_value),
            Node::Map(map) => self.map(map, true),
        }
    }

    fn map(&mut self, map: &Map, _nested: bool) {
        if map.0.is_empty() {
            self.indicator("{", true, true, false);
            self.indicator("}", false, false, false);
            return;
        }
        self.increase_indent(false, false);
        for (key, value) in &map.0 {
            self.write_indent();
            let a = analyze(key);
            let simple = !a.multiline && key.len() <= 128;
            if simple {
                self.scalar(key, true);
                self.indicator(":", false, false, false);
            } else {
                self.indicator("?", true, false, true);
                self.scalar(key, false);
                self.write_indent();
                self.indicator(":", true, false, true);
            }
            self.node(value, true);
        }
        self.pop_indent();
    }

    fn seq(&mut self, items: &[String], mapping_value: bool) {
        if items.is_empty() {
            self.indicator("[", true, true, false);
            self.indicator("]", false, false, false);
            return;
        }
        let indentless = mapping_value && !self.indention;
        self.increase_indent(false, indentless);
        for item in items {
            self.write_indent();
            self.indicator("-", true, false, true);
            self.scalar(item, false);
        }
        self.pop_indent();
    }

    /// A string with the style serde_norway asks for: literal when it has a line
    /// feed, single-quoted when plain would read as another type, else any.
    fn scalar(&mut self, value: &str, simple_key: bool) {
        let style = if value.contains('\n') {
            Style::Literal
        } else if reads_as_non_string(value) {
            Style::Single
        } else {
            Style::Plain
        };
        self.scalar_styled(value, style, simple_key);
    }

    /// libyaml's `select_scalar_style` and `process_scalar`.
    fn scalar_styled(&mut self, value: &str, requested: Style, simple_key: bool) {
        let a = analyze(value);
        let mut style = requested;
        if simple_key && a.multiline {
            style = Style::Double;
        }
        if style == Style::Plain && (!a.plain_allowed || (value.is_empty() && simple_key)) {
            style = Style::Single;
        }
        if style == Style::Single && !a.single_quoted_allowed {
            style = Style::Double;
        }
        if style == Style::Literal && (!a.block_allowed || simple_key) {
            style = Style::Double;
        }
        self.increase_indent(true, false);
        match style {
            Style::Plain => self.plain(value),
            Style::Single => self.single_quoted(value, !simple_key),
            Style::Double => self.double_quoted(value),
            Style::Literal => self.literal(value),
        }
        self.pop_indent();
    }

    fn plain(&mut self, value: &str) {
        if !self.whitespace && !value.is_empty() {
            self.put(' ');
        }
        let mut breaks = false;
        for c in value.chars() {
            if c == ' ' {
                self.put(c);
            } else if is_break(c) {
                if !breaks && c == '\n' {
                    self.put_break();
                }
                self.write_break(c);
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                }
                self.put(c);
                self.indention = false;
                breaks = false;
            }
        }
        self.whitespace = false;
        self.indention = false;
    }

    fn single_quoted(&mut self, value: &str, _allow_breaks: bool) {
        self.indicator("'", true, false, false);
        let mut breaks = false;
        for c in value.chars() {
            if c == ' ' {
                self.put(c);
            } else if is_break(c) {
                if !breaks && c == '\n' {
                    self.put_break();
                }
                self.write_break(c);
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                }
                self.put(c);
                if c == '\'' {
                    self.put(c);
                }
                self.indention = false;
                breaks = false;
            }
        }
        if breaks {
            self.write_indent();
        }
        self.indicator("'", false, false, false);
        self.whitespace = false;
        self.indention = false;
    }

    fn double_quoted(&mut self, value: &str) {
        self.indicator("\"", true, false, false);
        for c in value.chars() {
            if !is_printable(c) || c == '\u{FEFF}' || is_break(c) || c == '"' || c == '\\' {
                self.put('\\');
                let short = match c {
                    '\0' => Some('0'),
                    '\u{7}' => Some('a'),
                    '\u{8}' => Some('b'),
                    '\t' => Some('t'),
                    '\n' => Some('n'),
                    '\u{B}' => Some('v'),
                    '\u{C}' => Some('f'),
                    '\r' => Some('r'),
                    '\u{1B}' => Some('e'),
                    '"' => Some('"'),
                    '\\' => Some('\\'),
                    '\u{85}' => Some('N'),
                    '\u{A0}' => Some('_'),
                    '\u{2028}' => Some('L'),
                    '\u{2029}' => Some('P'),
                    _ => None,
                };
                match short {
                    Some(s) => self.put(s),
                    None => {
                        let code = c as u32;
                        let (letter, width) = if code <= 0xFF {
                            ('x', 2)
                        } else if code <= 0xFFFF {
                            ('u', 4)
                        } else {
                            ('U', 8)
                        };
                        self.put(letter);
                        for k in (0..width).rev() {
                            let digit = (code >> (4 * k)) & 0xF;
                            self.put(
                                char::from_digit(digit, 16)
                                    .unwrap_or('0')
                                    .to_ascii_uppercase(),
                            );
                        }
                    }
                }
            } else {
                self.put(c);
            }
        }
        self.indicator("\"", false, false, false);
        self.whitespace = false;
        self.indention = false;
    }

    fn literal(&mut self, value: &str) {
        self.indicator("|", true, false, false);
        // Block scalar hints: an indentation indicator when the text starts with a
        // space or a break, then the chomping indicator.
        if value.starts_with(|c: char| c == ' ' || is_break(c)) {
            self.indicator("2", false, false, false);
        }
        let mut tail = value.chars().rev();
        let chomp = match (tail.next(), tail.next()) {
            (None, _) => Some("-"),
            (Some(last), _) if !is_break(last) => Some("-"),
            (Some(_), None) => Some("+"),
            (Some(_), Some(before)) if is_break(before) => Some("+"),
            _ => None,
        };
        if let Some(chomp) = chomp {
            self.indicator(chomp, false, false, false);
        }
        self.put_break();
        self.indention = true;
        self.whitespace = true;
        let mut breaks = true;
        for c in value.chars() {
            if is_break(c) {
                self.write_break(c);
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                }
                self.put(c);
                self.indention = false;
                breaks = false;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Map, Node};
    use serde_norway::{Mapping, Value};

    /// A small deterministic generator (xorshift): the same cases on every run.
    struct Rng(u64);

    impl Rng {
        fn below(&mut self, n: u64) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0 % n
        }
    }

    /// Pieces that exercise every style decision: indicators, numbers and their edge
    /// spellings, quotes, breaks, non-printable and astral characters, long keys.
    const PIECES: &[&str] = &[
        "a",
        "b",
        "Z",
        "0",
        "1",
        "9",
        "-",
        "+",
        ".",
        "e",
        "E",
        "x",
        "o",
        "_",
        " ",
        "  ",
        "\n",
        "\r",
        "\t",
        ":",
        ": ",
        "#",
        " #",
        "'",
        "\"",
        "\\",
        "!",
        "&",
        "*",
        "?",
        "|",
        ">",
        "%",
        "@",
        "`",
        "{",
        "}",
        "[",
        "]",
        ",",
        "~",
        "null",
        "true",
        "False",
        "0x1F",
        "0o7",
        "0b101",
        "-0x1",
        "1e5",
        "1.5",
        "inf",
        ".inf",
        ".nan",
        "-.inf",
        "NaN",
        "é",
        "\u{85}",
        "\u{a0}",
        "\u{2028}",
        "\u{feff}",
        "😀",
        "\u{1}",
        "---",
        "...",
        "${azure.login}",
        "<client-id of x>",
        "1e400",
        "1e308",
        "1.8e308",
        "179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174497792",
        "0e99999",
        "00",
        "007",
        "18446744073709551616",
        "-9223372036854775809",
        "0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF",
        "0x100000000000000000000000000000000",
        "0x00000000000000000000000000000000000000001",
        "-0x80000000000000000000000000000000",
        "-0x80000000000000000000000000000001",
        "0o3777777777777777777777777777777777777777777",
        "0o4000000000000000000000000000000000000000000",
        "-0o2000000000000000000000000000000000000000000",
        "0b11111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111",
        "0b111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111",
        "0x",
        "0xg",
        "-0x",
        "+-1",
        "++1",
        "1_000",
    ];

    fn string(r: &mut Rng) -> String {
        if r.below(40) == 0 {
            return "k".repeat(120 + r.below(20) as usize);
        }
        (0..r.below(6))
            .map(|_| PIECES[r.below(PIECES.len() as u64) as usize])
            .collect()
    }

    fn tree(r: &mut Rng, depth: u32) -> (Map, Mapping) {
        let (mut ours, mut theirs) = (Map::new(), Mapping::new());
        for _ in 0..if depth == 0 {
            1 + r.below(4)
        } else {
            r.below(5)
        } {
            let key = string(r);
            let (a, b) = match r.below(if depth < 3 { 5 } else { 3 }) {
                0 | 1 => {
                    let v = string(r);
                    (Node::Str(v.clone()), Value::String(v))
                }
                2 => {
                    let v = r.below(2) == 0;
                    (Node::Bool(v), Value::Bool(v))
                }
                3 => {
                    let items: Vec<String> = (0..r.below(4)).map(|_| string(r)).collect();
                    let seq = items.iter().cloned().map(Value::String).collect();
                    (Node::Seq(items), Value::Sequence(seq))
                }
                _ => {
                    let (a, b) = tree(r, depth + 1);
                    (Node::Map(a), Value::Mapping(b))
                }
            };
            ours.insert(&key, a);
            theirs.insert(Value::String(key), b);
        }
        (ours, theirs)
    }

    #[test]
    fn writes_what_serde_norway_writes() {
        let mut r = Rng(0x9E37_79B9_7F4A_7C15);
        for case in 0..20_000 {
            let (ours, theirs) = tree(&mut r, 0);
            let expected = serde_norway::to_string(&Value::Mapping(theirs)).unwrap();
            assert_eq!(super::to_string(&ours), expected, "case {case}");
        }
        for a in PIECES {
            for b in PIECES {
                let v = format!("{a}{b}");
                let mut ours = Map::new();
                ours.insert("k", Node::Str(v.clone()));
                ours.insert(&v, Node::Seq(vec![v.clone()]));
                let mut theirs = Mapping::new();
                theirs.insert(Value::String("k".into()), Value::String(v.clone()));
                theirs.insert(
                    Value::String(v.clone()),
                    Value::Sequence(vec![Value::String(v.clone())]),
                );
                let expected = serde_norway::to_string(&Value::Mapping(theirs)).unwrap();
                assert_eq!(super::to_string(&ours), expected, "{v:?}");
            }
        }
    }

    #[test]
    fn a_repeated_key_keeps_its_place() {
        let mut m = Map::new();
        m.insert("a", Node::Bool(true));
        m.insert("b", Node::Bool(true));
        m.insert("a", Node::Bool(false));
        assert_eq!(super::to_string(&m), "a: false\nb: true\n");
    }
}
