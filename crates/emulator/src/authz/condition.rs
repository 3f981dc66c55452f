//! Azure role assignment conditions, version 2.0 (Azure ABAC): parsed when an assignment
//! is written, evaluated when it is used.
//!
//! Sources, MicrosoftDocs/azure-docs `articles/role-based-access-control/`:
//! - `conditions-format.md`: the grammar (`ActionMatches{'…'}`, `SubOperationMatches`,
//!   `Exists`, `AND`/`&&`, `OR`/`||`, `NOT`/`!`, parentheses), the comparison operators
//!   (string, GUID, numeric, boolean, date-time) and the cross-product prefixes
//!   (`ForAnyOfAnyValues:` …), and the rule that `a AND b OR c` is ambiguous and must be
//!   parenthesised;
//! - `conditions-authorization-actions-attributes.md`: the role assignment attributes
//!   (`@Request[…]` for writes, `@Resource[…]` for deletes: `RoleDefinitionId`,
//!   `PrincipalId`, `PrincipalType`);
//! - `delegate-role-assignments-examples.md`: conditions of exactly the shape
//!   `pulumi-azure-oidc permissions` writes.
//!
//! Keywords and operator names compare without regard to case (the docs write them in
//! one case; a tool writing another is not refused here). An attribute the request does
//! not carry has no values: `ForAny…` over it is false, `ForAll…` vacuously true.

use std::collections::BTreeMap;

/// The attributes one source (`@Request` or `@Resource`) offers, keyed by lower-case
/// name (`microsoft.authorization/roleassignments:roledefinitionid`).
pub(crate) type Attributes = BTreeMap<String, Vec<String>>;

/// What a condition is evaluated against.
#[derive(Debug, Default)]
pub(crate) struct Facts<'a> {
    pub(crate) action: &'a str,
    pub(crate) request: Attributes,
    pub(crate) resource: Attributes,
}

/// A parsed condition.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Expr {
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Not(Box<Expr>),
    ActionMatches(String),
    SubOperationMatches(String),
    Exists(Attribute),
    Compare {
        left: Operand,
        op: Operator,
        right: Operand,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Source {
    Request,
    Resource,
    Principal,
    Environment,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Attribute {
    source: Source,
    /// Lower case.
    name: String,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Operand {
    Attribute(Attribute),
    Values(Vec<String>),
}

/// How the values on each side are quantified (`ForAnyOfAnyValues:` …); plain operators
/// compare as any-of-any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Quantifier {
    AnyOfAny,
    AllOfAny,
    AnyOfAll,
    AllOfAll,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Compare {
    StringEquals,
    StringStartsWith,
    StringLike,
    Guid,
    Numeric(std::cmp::Ordering, bool),
    Bool,
    DateTime(std::cmp::Ordering, bool),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Operator {
    quantifier: Quantifier,
    compare: Compare,
    ignore_case: bool,
    negated: bool,
}

/// Parse a condition; `Err` says what is wrong, for the emulator's log of a refusal.
pub(crate) fn parse(text: &str) -> Result<Expr, String> {
    let tokens = tokenize(text)?;
    let mut parser = Parser { tokens, at: 0 };
    let expr = parser.expr()?;
    match parser.peek() {
        None => Ok(expr),
        Some(t) => Err(format!("unexpected {t:?} after the condition")),
    }
}

impl Expr {
    pub(crate) fn eval(&self, facts: &Facts<'_>) -> bool {
        match self {
            Expr::And(all) => all.iter().all(|e| e.eval(facts)),
            Expr::Or(any) => any.iter().any(|e| e.eval(facts)),
            Expr::Not(e) => !e.eval(facts),
            Expr::ActionMatches(pattern) => wildcard(pattern, facts.action, true),
            // Management actions have no suboperations (only storage data actions do).
            Expr::SubOperationMatches(_) => false,
            Expr::Exists(a) => !values(a, facts).is_empty(),
            Expr::Compare { left, op, right } => {
                let l = operand(left, facts);
                let r = operand(right, facts);
                op.holds(&l, &r)
            }
        }
    }
}

fn values(a: &Attribute, facts: &Facts<'_>) -> Vec<String> {
    let source = match a.source {
        Source::Request => &facts.request,
        Source::Resource => &facts.resource,
        // No custom security attributes or environment attributes are served.
        Source::Principal | Source::Environment => return Vec::new(),
    };
    source.get(&a.name).cloned().unwrap_or_default()
}

fn operand(o: &Operand, facts: &Facts<'_>) -> Vec<String> {
    match o {
        Operand::Attribute(a) => values(a, facts),
        Operand::Values(v) => v.clone(),
    }
}

impl Operator {
    fn holds(&self, left: &[String], right: &[String]) -> bool {
        let one = |l: &String, r: &String| self.compare_one(l, r) != self.negated;
        match self.quantifier {
            Quantifier::AnyOfAny => left.iter().any(|l| right.iter().any(|r| one(l, r))),
            Quantifier::AllOfAny => left.iter().all(|l| right.iter().any(|r| one(l, r))),
            Quantifier::AnyOfAll => left.iter().any(|l| right.iter().all(|r| one(l, r))),
            Quantifier::AllOfAll => left.iter().all(|l| right.iter().all(|r| one(l, r))),
        }
    }

    fn compare_one(&self, l: &str, r: &str) -> bool {
        let (l, r) = if self.ignore_case {
            (l.to_lowercase(), r.to_lowercase())
        } else {
            (l.to_owned(), r.to_owned())
        };
        match self.compare {
            Compare::StringEquals => l == r,
            Compare::StringStartsWith => l.starts_with(&r),
            Compare::StringLike => like(&r, &l),
            // "Case-insensitive matching with the format 00000000-0000-0000-0000-000000000000".
            Compare::Guid => match (uuid::Uuid::parse_str(&l), uuid::Uuid::parse_str(&r)) {
                (Ok(a), Ok(b)) => a == b,
                _ => false,
            },
            Compare::Numeric(ordering, or_equal) => {
                match (l.trim().parse::<i64>(), r.trim().parse::<i64>()) {
                    (Ok(a), Ok(b)) => a.cmp(&b) == ordering || (or_equal && a == b),
                    _ => false,
                }
            }
            Compare::Bool => l.eq_ignore_ascii_case(&r),
            // The documented format (`yyyy-mm-ddThh:mm:ss.mmmmmmmZ`) orders as text.
            Compare::DateTime(ordering, or_equal) => {
                l.as_str().cmp(r.as_str()) == ordering || (or_equal && l == r)
            }
        }
    }
}

/// `StringLike`: `*` any run, `?` one character, `\*` and `\?` literal.
fn like(pattern: &str, text: &str) -> bool {
    #[derive(Clone, Copy)]
    enum P {
        Any,
        One,
        Char(char),
    }
    let mut parts = Vec::new();
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        parts.push(match c {
            '\\' => match chars.next() {
                Some(n) => P::Char(n),
                None => P::Char('\\'),
            },
            '*' => P::Any,
            '?' => P::One,
            c => P::Char(c),
        });
    }
    let text: Vec<char> = text.chars().collect();
    // Positions reachable in `text` after each pattern part.
    let mut reach = vec![false; text.len() + 1];
    reach[0] = true;
    for part in parts {
        let mut next = vec![false; text.len() + 1];
        for i in 0..=text.len() {
            if !reach[i] {
                continue;
            }
            match part {
                P::Any => {
                    for slot in next.iter_mut().skip(i) {
                        *slot = true;
                    }
                }
                P::One => {
                    if i < text.len() {
                        next[i + 1] = true;
                    }
                }
                P::Char(c) => {
                    if text.get(i) == Some(&c) {
                        next[i + 1] = true;
                    }
                }
            }
        }
        reach = next;
    }
    reach[text.len()]
}

/// Azure's action wildcard: `*` stands for any run of characters
/// (azure-docs `role-definitions.md`); `ignore_case` as actions compare.
pub(crate) fn wildcard(pattern: &str, action: &str, ignore_case: bool) -> bool {
    let (p, a) = if ignore_case {
        (pattern.to_ascii_lowercase(), action.to_ascii_lowercase())
    } else {
        (pattern.to_owned(), action.to_owned())
    };
    let parts: Vec<&str> = p.split('*').collect();
    let [first, middle @ .., last] = parts.as_slice() else {
        return p == a;
    };
    let Some(mut rest) = a.strip_prefix(first) else {
        return false;
    };
    for part in middle {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.ends_with(last)
}

// ---- tokens ----

#[derive(Debug, Clone, PartialEq)]
enum Token {
    LParen,
    RParen,
    LBrace,
    RBrace,
    Comma,
    Not,
    And,
    Or,
    Attribute(Attribute),
    Quoted(String),
    /// A bare word: keyword, operator name, GUID, number or boolean.
    Word(String),
}

fn tokenize(text: &str) -> Result<Vec<Token>, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        match c {
            c if c.is_whitespace() => i += 1,
            '(' => {
                tokens.push(Token::LParen);
                i += 1;
            }
            ')' => {
                tokens.push(Token::RParen);
                i += 1;
            }
            '{' => {
                tokens.push(Token::LBrace);
                i += 1;
            }
            '}' => {
                tokens.push(Token::RBrace);
                i += 1;
            }
            ',' => {
                tokens.push(Token::Comma);
                i += 1;
            }
            '!' => {
                tokens.push(Token::Not);
                i += 1;
            }
            '&' if chars.get(i + 1) == Some(&'&') => {
                tokens.push(Token::And);
                i += 2;
            }
            '|' if chars.get(i + 1) == Some(&'|') => {
                tokens.push(Token::Or);
                i += 2;
            }
            '\'' => {
                let start = i + 1;
                let len = chars[start..]
                    .iter()
                    .position(|&c| c == '\'')
                    .ok_or("a quoted value is not closed")?;
                tokens.push(Token::Quoted(chars[start..start + len].iter().collect()));
                i = start + len + 1;
            }
            '@' => {
                let open = chars[i..]
                    .iter()
                    .position(|&c| c == '[')
                    .ok_or("an attribute has no '['")?
                    + i;
                let close = chars[open..]
                    .iter()
                    .position(|&c| c == ']')
                    .ok_or("an attribute has no ']'")?
                    + open;
                let source: String = chars[i + 1..open].iter().collect();
                let source = match source.to_ascii_lowercase().as_str() {
                    "request" => Source::Request,
                    "resource" => Source::Resource,
                    "principal" => Source::Principal,
                    "environment" => Source::Environment,
                    _ => return Err(format!("unknown attribute source '@{source}'")),
                };
                let name: String = chars[open + 1..close].iter().collect();
                if name.trim().is_empty() {
                    return Err("an attribute has no name".into());
                }
                tokens.push(Token::Attribute(Attribute {
                    source,
                    name: name.trim().to_ascii_lowercase(),
                }));
                i = close + 1;
            }
            c if c.is_alphanumeric() || c == '-' || c == '.' || c == ':' || c == '_' => {
                let start = i;
                while chars
                    .get(i)
                    .is_some_and(|&c| c.is_alphanumeric() || "-.:_".contains(c))
                {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                tokens.push(match word.to_ascii_uppercase().as_str() {
                    "AND" => Token::And,
                    "OR" => Token::Or,
                    "NOT" => Token::Not,
                    _ => Token::Word(word),
                });
            }
            other => return Err(format!("unexpected character '{other}'")),
        }
    }
    Ok(tokens)
}

// ---- grammar ----

struct Parser {
    tokens: Vec<Token>,
    at: usize,
}

/// How deeply conditions may nest: real ones nest a handful of levels; this only keeps
/// a hostile one from exhausting the stack.
const MAX_DEPTH: usize = 64;

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.at).cloned();
        self.at += 1;
        t
    }

    fn expect(&mut self, want: &Token) -> Result<(), String> {
        match self.next() {
            Some(t) if &t == want => Ok(()),
            other => Err(format!("expected {want:?}, found {other:?}")),
        }
    }

    fn expr(&mut self) -> Result<Expr, String> {
        self.chain(0)
    }

    /// Operands joined by one kind of operator: `a AND b AND c` or `a OR b`; mixing the
    /// two without parentheses is refused, as the docs require.
    fn chain(&mut self, depth: usize) -> Result<Expr, String> {
        if depth > MAX_DEPTH {
            return Err("the condition nests too deeply".into());
        }
        let mut items = vec![self.unary(depth)?];
        let mut joiner: Option<Token> = None;
        while let Some(t @ (Token::And | Token::Or)) = self.peek().cloned() {
            match &joiner {
                Some(j) if *j != t => {
                    return Err(
                        "AND and OR are mixed without parentheses, which is ambiguous".into(),
                    );
                }
                _ => joiner = Some(t),
            }
            self.at += 1;
            items.push(self.unary(depth)?);
        }
        Ok(match (joiner, items.len()) {
            (_, 1) => items.remove(0),
            (Some(Token::Or), _) => Expr::Or(items),
            _ => Expr::And(items),
        })
    }

    fn unary(&mut self, depth: usize) -> Result<Expr, String> {
        if self.peek() == Some(&Token::Not) {
            self.at += 1;
            if depth > MAX_DEPTH {
                return Err("the condition nests too deeply".into());
            }
            return Ok(Expr::Not(Box::new(self.unary(depth + 1)?)));
        }
        self.primary(depth)
    }

    fn primary(&mut self, depth: usize) -> Result<Expr, String> {
        match self.peek().cloned() {
            Some(Token::LParen) => {
                self.at += 1;
                let inner = self.chain(depth + 1)?;
                self.expect(&Token::RParen)?;
                Ok(inner)
            }
            Some(Token::Word(w)) if w.eq_ignore_ascii_case("ActionMatches") => {
                self.at += 1;
                Ok(Expr::ActionMatches(self.braced_string()?))
            }
            Some(Token::Word(w)) if w.eq_ignore_ascii_case("SubOperationMatches") => {
                self.at += 1;
                Ok(Expr::SubOperationMatches(self.braced_string()?))
            }
            Some(Token::Word(w)) if w.eq_ignore_ascii_case("Exists") => {
                self.at += 1;
                match self.next() {
                    Some(Token::Attribute(a)) => Ok(Expr::Exists(a)),
                    other => Err(format!("Exists needs an attribute, found {other:?}")),
                }
            }
            Some(_) => {
                let left = self.operand()?;
                let op = match self.next() {
                    Some(Token::Word(w)) => operator(&w)?,
                    other => return Err(format!("expected an operator, found {other:?}")),
                };
                let right = self.operand()?;
                if !matches!(left, Operand::Attribute(_)) && !matches!(right, Operand::Attribute(_))
                {
                    return Err("a comparison names no attribute".into());
                }
                Ok(Expr::Compare { left, op, right })
            }
            None => Err("the condition ends too early".into()),
        }
    }

    fn braced_string(&mut self) -> Result<String, String> {
        self.expect(&Token::LBrace)?;
        let value = match self.next() {
            Some(Token::Quoted(s)) => s,
            other => return Err(format!("expected a quoted value, found {other:?}")),
        };
        self.expect(&Token::RBrace)?;
        Ok(value)
    }

    fn operand(&mut self) -> Result<Operand, String> {
        match self.next() {
            Some(Token::Attribute(a)) => Ok(Operand::Attribute(a)),
            Some(Token::Quoted(s)) => Ok(Operand::Values(vec![s])),
            Some(Token::Word(w)) => Ok(Operand::Values(vec![w])),
            Some(Token::LBrace) => {
                let mut values = Vec::new();
                loop {
                    match self.next() {
                        Some(Token::Quoted(s) | Token::Word(s)) => values.push(s),
                        other => return Err(format!("expected a value, found {other:?}")),
                    }
                    match self.next() {
                        Some(Token::Comma) => continue,
                        Some(Token::RBrace) => break,
                        other => return Err(format!("expected ',' or '}}', found {other:?}")),
                    }
                }
                Ok(Operand::Values(values))
            }
            other => Err(format!("expected an attribute or a value, found {other:?}")),
        }
    }
}

/// `ForAnyOfAnyValues:GuidEquals`, `StringEqualsIgnoreCase`, … (conditions-format.md).
fn operator(word: &str) -> Result<Operator, String> {
    let (quantifier, name) = match word.split_once(':') {
        Some((q, n)) => (
            match q.to_ascii_lowercase().as_str() {
                "foranyofanyvalues" => Quantifier::AnyOfAny,
                "forallofanyvalues" => Quantifier::AllOfAny,
                "foranyofallvalues" => Quantifier::AnyOfAll,
                "forallofallvalues" => Quantifier::AllOfAll,
                _ => return Err(format!("unknown cross-product operator '{q}'")),
            },
            n,
        ),
        None => (Quantifier::AnyOfAny, word),
    };
    let lower = name.to_ascii_lowercase();
    let (base, ignore_case) = match lower.strip_suffix("ignorecase") {
        Some(b) if b.starts_with("string") => (b.to_owned(), true),
        _ => (lower.clone(), false),
    };
    let op = |compare, negated| Operator {
        quantifier,
        compare,
        ignore_case,
        negated,
    };
    use std::cmp::Ordering::{Equal, Greater, Less};
    Ok(match base.as_str() {
        "stringequals" => op(Compare::StringEquals, false),
        "stringnotequals" => op(Compare::StringEquals, true),
        "stringstartswith" => op(Compare::StringStartsWith, false),
        "stringnotstartswith" => op(Compare::StringStartsWith, true),
        "stringlike" => op(Compare::StringLike, false),
        "stringnotlike" => op(Compare::StringLike, true),
        "guidequals" => op(Compare::Guid, false),
        "guidnotequals" => op(Compare::Guid, true),
        "boolequals" => op(Compare::Bool, false),
        "boolnotequals" => op(Compare::Bool, true),
        "numericequals" => op(Compare::Numeric(Equal, true), false),
        "numericnotequals" => op(Compare::Numeric(Equal, true), true),
        "numericgreaterthan" => op(Compare::Numeric(Greater, false), false),
        "numericgreaterthanequals" => op(Compare::Numeric(Greater, true), false),
        "numericlessthan" => op(Compare::Numeric(Less, false), false),
        "numericlessthanequals" => op(Compare::Numeric(Less, true), false),
        "datetimeequals" => op(Compare::DateTime(Equal, true), false),
        "datetimenotequals" => op(Compare::DateTime(Equal, true), true),
        "datetimegreaterthan" => op(Compare::DateTime(Greater, false), false),
        "datetimegreaterthanequals" => op(Compare::DateTime(Greater, true), false),
        "datetimelessthan" => op(Compare::DateTime(Less, false), false),
        "datetimelessthanequals" => op(Compare::DateTime(Less, true), false),
        _ => return Err(format!("unknown operator '{name}'")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const READER: &str = "acdd72a7-3385-48ef-bd42-f606fba81ae7";
    const CONTRIBUTOR: &str = "b24988ac-6180-42a0-ab88-20f7382dd24c";

    /// The condition `pulumi-azure-oidc permissions` writes, for Reader and a second role.
    fn tool_condition() -> String {
        let ids = format!("{READER}, 4633458b-17de-408a-b874-0445c86b69e6");
        let part = |action: &str, source: &str| {
            format!(
                "((!(ActionMatches{{'Microsoft.Authorization/roleAssignments/{action}'}})) OR (@{source}[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {{{ids}}} AND @{source}[Microsoft.Authorization/roleAssignments:PrincipalType] ForAnyOfAnyValues:StringEqualsIgnoreCase {{'ServicePrincipal'}}))"
            )
        };
        format!(
            "{} AND {}",
            part("write", "Request"),
            part("delete", "Resource")
        )
    }

    fn attrs(role: &str, kind: &str) -> Attributes {
        let mut a = Attributes::new();
        a.insert(
            "microsoft.authorization/roleassignments:roledefinitionid".into(),
            vec![role.into()],
        );
        a.insert(
            "microsoft.authorization/roleassignments:principaltype".into(),
            vec![kind.into()],
        );
        a
    }

    #[test]
    fn the_tools_condition_allows_its_roles_for_service_principals_only() {
        let c = parse(&tool_condition()).unwrap();
        let write = |role: &str, kind: &str| Facts {
            action: "Microsoft.Authorization/roleAssignments/write",
            request: attrs(role, kind),
            resource: Attributes::new(),
        };
        assert!(c.eval(&write(READER, "ServicePrincipal")));
        assert!(c.eval(&write(&READER.to_uppercase(), "serviceprincipal")));
        assert!(!c.eval(&write(CONTRIBUTOR, "ServicePrincipal")));
        assert!(!c.eval(&write(READER, "User")));
        let delete = |role: &str| Facts {
            action: "Microsoft.Authorization/roleAssignments/delete",
            request: Attributes::new(),
            resource: attrs(role, "ServicePrincipal"),
        };
        assert!(c.eval(&delete(READER)));
        assert!(!c.eval(&delete(CONTRIBUTOR)));
        // Other actions pass through both clauses.
        let read = Facts {
            action: "Microsoft.Authorization/roleAssignments/read",
            ..Facts::default()
        };
        assert!(c.eval(&read));
    }

    #[test]
    fn syntax_is_checked() {
        for bad in [
            "",
            "(",
            "ActionMatches{'x'",
            "a AND b OR c",
            "@Request[x] StringEquals",
            "@Nowhere[x] StringEquals 'a'",
            "@Request[x] Frobnicates 'a'",
            "'a' StringEquals 'b'",
            "@Request[x] StringEquals 'unclosed",
            "@Request[x] StringEquals {'a' 'b'}",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} parsed");
        }
        assert!(
            parse("(a StringEquals 'b')").is_err(),
            "a bare word is no attribute"
        );
        assert!(
            parse("(@Request[x] StringEquals 'a' AND @Request[y] StringEquals 'b') OR @Request[z] StringEquals 'c'").is_ok()
        );
        assert!(parse("NOT Exists @Request[x] && @Request[y] BoolEquals true").is_ok());
        assert!(parse(&"(".repeat(500)).is_err());
        assert!(parse(&"!".repeat(500)).is_err());
    }

    #[test]
    fn quantifiers_and_operators() {
        let mut request = Attributes::new();
        request.insert("a:tags".into(), vec!["red".into(), "blue".into()]);
        let facts = Facts {
            action: "x/read",
            request,
            resource: Attributes::new(),
        };
        let holds = |c: &str| parse(c).unwrap().eval(&facts);
        assert!(holds(
            "@Request[a:tags] ForAnyOfAnyValues:StringEquals {'blue', 'green'}"
        ));
        assert!(!holds(
            "@Request[a:tags] ForAllOfAnyValues:StringEquals {'red', 'green'}"
        ));
        assert!(holds(
            "@Request[a:tags] ForAllOfAnyValues:StringEquals {'orange', 'red', 'blue'}"
        ));
        assert!(holds("@Request[a:tags] StringLike 'r?d'"));
        assert!(!holds(
            "@Request[a:tags] ForAllOfAllValues:StringStartsWith 'r'"
        ));
        assert!(holds(
            "@Request[a:tags] ForAnyOfAnyValues:StringNotEqualsIgnoreCase {'RED'}"
        ));
        assert!(!holds(
            "@Request[missing] ForAnyOfAnyValues:StringEquals {'x'}"
        ));
        assert!(holds(
            "@Request[missing] ForAllOfAnyValues:StringEquals {'x'}"
        ));
        assert!(holds("ActionMatches{'X/*'}"));
        assert!(!holds("Exists @Resource[a:tags]"));
    }

    #[test]
    fn wildcards() {
        assert!(wildcard("*", "anything/at/all", true));
        assert!(wildcard(
            "*/read",
            "Microsoft.Authorization/roleAssignments/read",
            true
        ));
        assert!(wildcard(
            "Microsoft.Authorization/*/Write",
            "microsoft.authorization/roleassignments/write",
            true
        ));
        assert!(!wildcard(
            "Microsoft.Authorization/*/read",
            "Microsoft.Authorization/roleAssignments/write",
            true
        ));
        assert!(wildcard("a*b*c", "a-x-b-y-c", true));
        assert!(!wildcard("a*b*c", "a-x-c-y-b", true));
        assert!(like("a*c?", "abcd"));
        assert!(!like("a*c", "abcd"));
        assert!(like("a\\*", "a*"));
        assert!(!like("a\\*", "ab"));
    }
}
