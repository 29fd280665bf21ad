//! The formula language of formula KPIs: a small, safe expression language over metric names.
//!
//! ```text
//! expr    := or
//! or      := and ("or" and)*
//! and     := not ("and" not)*
//! not     := "not" not | compare
//! compare := sum (("<" | "<=" | ">" | ">=" | "==" | "!=") sum)?
//! sum     := product (("+" | "-") product)*
//! product := unary (("*" | "/") unary)*
//! unary   := "-" unary | primary
//! primary := number | metric | "(" expr ")"
//!          | "min(" expr ("," expr)* ")" | "max(" expr ("," expr)* ")" | "if(" expr "," expr "," expr ")"
//! ```
//!
//! A formula is parsed once, checked against a [`MetricCatalog`] and typed (numbers vs conditions).
//! Evaluation is exact decimal arithmetic. A metric without a value, or a division by zero, gives
//! "no value" (`None`), which propagates; `and`/`or` follow three-valued logic (`false and x` is
//! false, `true or x` is true). Metric values are taken in the metric's own unit (seconds for
//! times) and the result is taken as being in the KPI definition's unit.
//!
//! Limits: 4 096 characters, 256 nodes, 32 levels of nesting.

use rust_decimal::Decimal;
use std::collections::BTreeSet;
use std::str::FromStr;

use crate::catalog::MetricCatalog;
use crate::error::{Error, Result};

/// Longest accepted formula, in characters.
pub const MAX_FORMULA_CHARS: usize = 4096;
/// Most nodes in a formula's tree.
pub const MAX_FORMULA_NODES: usize = 256;
/// Deepest nesting of parentheses, function calls and unary operators.
pub const MAX_FORMULA_DEPTH: usize = 32;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok {
    Num,
    Ident,
    Plus,
    Minus,
    Star,
    Slash,
    LParen,
    RParen,
    Comma,
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
    End,
}

#[derive(Debug, Clone)]
struct Token {
    kind: Tok,
    text: String,
    pos: usize,
}

fn tokenize(src: &str) -> Result<Vec<Token>> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        let start = i;
        let simple = |kind: Tok, len: usize| Token {
            kind,
            text: chars[start..start + len].iter().collect(),
            pos: start,
        };
        let next = chars.get(i + 1).copied();
        let tok = match c {
            c if c.is_whitespace() => {
                i += 1;
                continue;
            }
            '0'..='9' | '.' => {
                while chars
                    .get(i)
                    .is_some_and(|c| c.is_ascii_digit() || *c == '.')
                {
                    i += 1;
                }
                let text: String = chars[start..i].iter().collect();
                out.push(Token {
                    kind: Tok::Num,
                    text,
                    pos: start,
                });
                continue;
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                while chars
                    .get(i)
                    .is_some_and(|c| c.is_ascii_alphanumeric() || *c == '_')
                {
                    i += 1;
                }
                let text: String = chars[start..i].iter().collect();
                out.push(Token {
                    kind: Tok::Ident,
                    text,
                    pos: start,
                });
                continue;
            }
            '+' => simple(Tok::Plus, 1),
            '-' => simple(Tok::Minus, 1),
            '*' => simple(Tok::Star, 1),
            '/' => simple(Tok::Slash, 1),
            '(' => simple(Tok::LParen, 1),
            ')' => simple(Tok::RParen, 1),
            ',' => simple(Tok::Comma, 1),
            '<' if next == Some('=') => simple(Tok::Le, 2),
            '<' => simple(Tok::Lt, 1),
            '>' if next == Some('=') => simple(Tok::Ge, 2),
            '>' => simple(Tok::Gt, 1),
            '=' if next == Some('=') => simple(Tok::Eq, 2),
            '!' if next == Some('=') => simple(Tok::Ne, 2),
            other => {
                return Err(Error::FormulaSyntax {
                    position: start,
                    message: format!("unexpected character {other:?}"),
                })
            }
        };
        i += tok.text.chars().count();
        out.push(tok);
    }
    out.push(Token {
        kind: Tok::End,
        text: String::new(),
        pos: chars.len(),
    });
    Ok(out)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Arith {
    Add,
    Sub,
    Mul,
    Div,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cmp {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
}

/// A numeric expression.
#[derive(Debug, Clone, PartialEq)]
enum Num {
    Lit(Decimal),
    Metric(usize),
    Neg(Box<Num>),
    Bin(Arith, Box<Num>, Box<Num>),
    Min(Vec<Num>),
    Max(Vec<Num>),
    If(Box<Cond>, Box<Num>, Box<Num>),
}

/// A condition.
#[derive(Debug, Clone, PartialEq)]
enum Cond {
    Cmp(Cmp, Num, Num),
    And(Box<Cond>, Box<Cond>),
    Or(Box<Cond>, Box<Cond>),
    Not(Box<Cond>),
}

enum Node {
    Num(Num),
    Cond(Cond),
}

struct Parser<'a> {
    tokens: Vec<Token>,
    at: usize,
    nodes: usize,
    catalog: &'a MetricCatalog,
    metrics: Vec<String>,
}

impl Parser<'_> {
    fn peek(&self) -> &Token {
        // The token list always ends with `End`, and `at` never moves past it.
        &self.tokens[self.at.min(self.tokens.len() - 1)]
    }

    fn bump(&mut self) -> Token {
        let t = self.peek().clone();
        if t.kind != Tok::End {
            self.at += 1;
        }
        t
    }

    fn expect_token(&mut self, kind: Tok, what: &str) -> Result<Token> {
        let t = self.bump();
        if t.kind == kind {
            Ok(t)
        } else {
            Err(syntax(&t, &format!("expected {what}")))
        }
    }

    fn count(&mut self) -> Result<()> {
        self.nodes += 1;
        if self.nodes > MAX_FORMULA_NODES {
            return Err(Error::FormulaTooLarge(format!(
                "more than {MAX_FORMULA_NODES} nodes"
            )));
        }
        Ok(())
    }

    fn is_word(&self, word: &str) -> bool {
        let t = self.peek();
        t.kind == Tok::Ident && t.text == word
    }

    fn expr(&mut self, depth: usize) -> Result<(Node, usize)> {
        if depth > MAX_FORMULA_DEPTH {
            return Err(Error::FormulaTooDeep(MAX_FORMULA_DEPTH));
        }
        self.or(depth)
    }

    fn or(&mut self, depth: usize) -> Result<(Node, usize)> {
        let (mut left, pos) = self.and(depth)?;
        while self.is_word("or") {
            self.bump();
            let l = as_cond(left, pos, "or")?;
            let (right, rpos) = self.and(depth)?;
            let r = as_cond(right, rpos, "or")?;
            self.count()?;
            left = Node::Cond(Cond::Or(Box::new(l), Box::new(r)));
        }
        Ok((left, pos))
    }

    fn and(&mut self, depth: usize) -> Result<(Node, usize)> {
        let (mut left, pos) = self.not(depth)?;
        while self.is_word("and") {
            self.bump();
            let l = as_cond(left, pos, "and")?;
            let (right, rpos) = self.not(depth)?;
            let r = as_cond(right, rpos, "and")?;
            self.count()?;
            left = Node::Cond(Cond::And(Box::new(l), Box::new(r)));
        }
        Ok((left, pos))
    }

    fn not(&mut self, depth: usize) -> Result<(Node, usize)> {
        if self.is_word("not") {
            let t = self.bump();
            if depth + 1 > MAX_FORMULA_DEPTH {
                return Err(Error::FormulaTooDeep(MAX_FORMULA_DEPTH));
            }
            let (inner, pos) = self.not(depth + 1)?;
            let c = as_cond(inner, pos, "not")?;
            self.count()?;
            return Ok((Node::Cond(Cond::Not(Box::new(c))), t.pos));
        }
        self.compare(depth)
    }

    fn compare(&mut self, depth: usize) -> Result<(Node, usize)> {
        let (left, pos) = self.sum(depth)?;
        let op = match self.peek().kind {
            Tok::Lt => Cmp::Lt,
            Tok::Le => Cmp::Le,
            Tok::Gt => Cmp::Gt,
            Tok::Ge => Cmp::Ge,
            Tok::Eq => Cmp::Eq,
            Tok::Ne => Cmp::Ne,
            _ => return Ok((left, pos)),
        };
        let op_tok = self.bump();
        let l = as_num(left, pos, &op_tok.text)?;
        let (right, rpos) = self.sum(depth)?;
        let r = as_num(right, rpos, &op_tok.text)?;
        self.count()?;
        if matches!(
            self.peek().kind,
            Tok::Lt | Tok::Le | Tok::Gt | Tok::Ge | Tok::Eq | Tok::Ne
        ) {
            return Err(syntax(self.peek(), "comparisons do not chain; use `and`"));
        }
        Ok((Node::Cond(Cond::Cmp(op, l, r)), pos))
    }

    fn sum(&mut self, depth: usize) -> Result<(Node, usize)> {
        let (mut left, pos) = self.product(depth)?;
        loop {
            let op = match self.peek().kind {
                Tok::Plus => Arith::Add,
                Tok::Minus => Arith::Sub,
                _ => return Ok((left, pos)),
            };
            let t = self.bump();
            let l = as_num(left, pos, &t.text)?;
            let (right, rpos) = self.product(depth)?;
            let r = as_num(right, rpos, &t.text)?;
            self.count()?;
            left = Node::Num(Num::Bin(op, Box::new(l), Box::new(r)));
        }
    }

    fn product(&mut self, depth: usize) -> Result<(Node, usize)> {
        let (mut left, pos) = self.unary(depth)?;
        loop {
            let op = match self.peek().kind {
                Tok::Star => Arith::Mul,
                Tok::Slash => Arith::Div,
                _ => return Ok((left, pos)),
            };
            let t = self.bump();
            let l = as_num(left, pos, &t.text)?;
            let (right, rpos) = self.unary(depth)?;
            let r = as_num(right, rpos, &t.text)?;
            self.count()?;
            left = Node::Num(Num::Bin(op, Box::new(l), Box::new(r)));
        }
    }

    fn unary(&mut self, depth: usize) -> Result<(Node, usize)> {
        if self.peek().kind == Tok::Minus {
            let t = self.bump();
            if depth + 1 > MAX_FORMULA_DEPTH {
                return Err(Error::FormulaTooDeep(MAX_FORMULA_DEPTH));
            }
            let (inner, pos) = self.unary(depth + 1)?;
            let n = as_num(inner, pos, "-")?;
            self.count()?;
            return Ok((Node::Num(Num::Neg(Box::new(n))), t.pos));
        }
        self.primary(depth)
    }

    fn primary(&mut self, depth: usize) -> Result<(Node, usize)> {
        let t = self.bump();
        self.count()?;
        match t.kind {
            Tok::Num => {
                let value = Decimal::from_str(&t.text)
                    .map_err(|_| syntax(&t, &format!("{:?} is not a number", t.text)))?;
                Ok((Node::Num(Num::Lit(value)), t.pos))
            }
            Tok::LParen => {
                let (inner, _) = self.expr(depth + 1)?;
                self.expect_token(Tok::RParen, "`)`")?;
                Ok((inner, t.pos))
            }
            Tok::Ident if self.peek().kind == Tok::LParen => self.call(&t, depth + 1),
            Tok::Ident => {
                if matches!(t.text.as_str(), "and" | "or" | "not" | "min" | "max" | "if") {
                    return Err(syntax(&t, &format!("unexpected `{}`", t.text)));
                }
                let key = self
                    .catalog
                    .get(&t.text)
                    .map(|m| m.key.clone())
                    .ok_or_else(|| Error::UnknownMetric {
                        name: t.text.clone(),
                        position: Some(t.pos),
                    })?;
                let idx = match self.metrics.iter().position(|m| *m == key) {
                    Some(i) => i,
                    None => {
                        self.metrics.push(key);
                        self.metrics.len() - 1
                    }
                };
                Ok((Node::Num(Num::Metric(idx)), t.pos))
            }
            Tok::End => Err(syntax(&t, "unexpected end of formula")),
            _ => Err(syntax(&t, &format!("unexpected `{}`", t.text))),
        }
    }

    fn call(&mut self, name: &Token, depth: usize) -> Result<(Node, usize)> {
        if depth > MAX_FORMULA_DEPTH {
            return Err(Error::FormulaTooDeep(MAX_FORMULA_DEPTH));
        }
        self.expect_token(Tok::LParen, "`(`")?;
        let mut args = Vec::new();
        loop {
            args.push(self.expr(depth)?);
            match self.bump() {
                t if t.kind == Tok::Comma => continue,
                t if t.kind == Tok::RParen => break,
                t => return Err(syntax(&t, "expected `,` or `)`")),
            }
        }
        let fname = name.text.as_str();
        match fname {
            "min" | "max" => {
                let nums = args
                    .into_iter()
                    .map(|(n, p)| as_num(n, p, fname))
                    .collect::<Result<Vec<_>>>()?;
                let node = if fname == "min" {
                    Num::Min(nums)
                } else {
                    Num::Max(nums)
                };
                Ok((Node::Num(node), name.pos))
            }
            "if" => {
                let mut it = args.into_iter();
                match (it.next(), it.next(), it.next(), it.next()) {
                    (Some((c, cp)), Some((a, ap)), Some((b, bp)), None) => {
                        let c = as_cond(c, cp, "if")?;
                        let a = as_num(a, ap, "if")?;
                        let b = as_num(b, bp, "if")?;
                        Ok((
                            Node::Num(Num::If(Box::new(c), Box::new(a), Box::new(b))),
                            name.pos,
                        ))
                    }
                    _ => Err(syntax(
                        name,
                        "if takes 3 arguments: if(condition, then, else)",
                    )),
                }
            }
            other => Err(syntax(
                name,
                &format!("unknown function `{other}` (min, max, if)"),
            )),
        }
    }
}

fn syntax(t: &Token, message: &str) -> Error {
    Error::FormulaSyntax {
        position: t.pos,
        message: if t.kind == Tok::End && !message.contains("end") {
            format!("{message}, found end of formula")
        } else {
            message.to_owned()
        },
    }
}

fn as_num(node: Node, pos: usize, context: &str) -> Result<Num> {
    match node {
        Node::Num(n) => Ok(n),
        Node::Cond(_) => Err(Error::FormulaType {
            position: pos,
            message: format!("`{context}` needs a number, found a condition"),
        }),
    }
}

fn as_cond(node: Node, pos: usize, context: &str) -> Result<Cond> {
    match node {
        Node::Cond(c) => Ok(c),
        Node::Num(_) => Err(Error::FormulaType {
            position: pos,
            message: format!("`{context}` needs a condition, found a number"),
        }),
    }
}

/// A parsed, validated formula.
///
/// ```
/// use teamkpi::{Formula, MetricCatalog};
/// use rust_decimal::Decimal;
/// let f = Formula::parse("tickets_resolved / tickets_assigned * 100", &MetricCatalog::builtin()).unwrap();
/// let values = |name: &str| match name {
///     "tickets_resolved" => Some(Decimal::from(8)),
///     "tickets_assigned" => Some(Decimal::from(10)),
///     _ => None,
/// };
/// assert_eq!(f.evaluate(&values).unwrap(), Some(Decimal::from(80)));
/// // Division by zero is "no value", never a panic or infinity.
/// assert_eq!(f.evaluate(&|_: &str| Some(Decimal::ZERO)).unwrap(), None);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Formula {
    source: String,
    root: Num,
    metrics: Vec<String>,
}

impl Formula {
    /// Parses and validates `source` against `catalog`.
    pub fn parse(source: &str, catalog: &MetricCatalog) -> Result<Formula> {
        let len = source.chars().count();
        if len > MAX_FORMULA_CHARS {
            return Err(Error::FormulaTooLarge(format!(
                "{len} characters, at most {MAX_FORMULA_CHARS}"
            )));
        }
        let tokens = tokenize(source)?;
        let mut parser = Parser {
            tokens,
            at: 0,
            nodes: 0,
            catalog,
            metrics: Vec::new(),
        };
        let (node, pos) = parser.expr(0)?;
        let end = parser.peek().clone();
        if end.kind != Tok::End {
            return Err(syntax(&end, &format!("unexpected `{}`", end.text)));
        }
        let root = match node {
            Node::Num(n) => n,
            Node::Cond(_) => {
                return Err(Error::FormulaType {
                    position: pos,
                    message: "a formula must give a number; wrap a condition in if(…, 1, 0)".into(),
                })
            }
        };
        Ok(Formula {
            source: source.to_owned(),
            root,
            metrics: parser.metrics,
        })
    }

    /// The formula text.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The canonical metric keys the formula reads, sorted.
    pub fn metrics(&self) -> BTreeSet<&str> {
        self.metrics.iter().map(String::as_str).collect()
    }

    /// Evaluates with metric values looked up by canonical key; `None` from the lookup means the
    /// metric has no value. Returns `Ok(None)` for "no value".
    pub fn evaluate(&self, values: &dyn Fn(&str) -> Option<Decimal>) -> Result<Option<Decimal>> {
        let resolved: Vec<Option<Decimal>> = self.metrics.iter().map(|m| values(m)).collect();
        eval_num(&self.root, &resolved)
    }
}

fn overflow() -> Error {
    Error::ArithmeticOverflow("formula".into())
}

fn eval_num(n: &Num, vals: &[Option<Decimal>]) -> Result<Option<Decimal>> {
    Ok(match n {
        Num::Lit(d) => Some(*d),
        Num::Metric(i) => vals.get(*i).copied().flatten(),
        Num::Neg(inner) => eval_num(inner, vals)?.map(|v| -v),
        Num::Bin(op, l, r) => {
            let (Some(a), Some(b)) = (eval_num(l, vals)?, eval_num(r, vals)?) else {
                return Ok(None);
            };
            match op {
                Arith::Add => Some(a.checked_add(b).ok_or_else(overflow)?),
                Arith::Sub => Some(a.checked_sub(b).ok_or_else(overflow)?),
                Arith::Mul => Some(a.checked_mul(b).ok_or_else(overflow)?),
                Arith::Div if b.is_zero() => None,
                Arith::Div => Some(a.checked_div(b).ok_or_else(overflow)?),
            }
        }
        Num::Min(args) | Num::Max(args) => {
            let is_min = matches!(n, Num::Min(_));
            let mut best: Option<Decimal> = None;
            for a in args {
                let Some(v) = eval_num(a, vals)? else {
                    return Ok(None);
                };
                best = Some(match best {
                    None => v,
                    Some(b) if is_min => b.min(v),
                    Some(b) => b.max(v),
                });
            }
            best
        }
        Num::If(c, a, b) => match eval_cond(c, vals)? {
            Some(true) => eval_num(a, vals)?,
            Some(false) => eval_num(b, vals)?,
            None => None,
        },
    })
}

fn eval_cond(c: &Cond, vals: &[Option<Decimal>]) -> Result<Option<bool>> {
    Ok(match c {
        Cond::Cmp(op, l, r) => {
            let (Some(a), Some(b)) = (eval_num(l, vals)?, eval_num(r, vals)?) else {
                return Ok(None);
            };
            Some(match op {
                Cmp::Lt => a < b,
                Cmp::Le => a <= b,
                Cmp::Gt => a > b,
                Cmp::Ge => a >= b,
                Cmp::Eq => a == b,
                Cmp::Ne => a != b,
            })
        }
        Cond::Not(inner) => eval_cond(inner, vals)?.map(|b| !b),
        Cond::And(l, r) => match (eval_cond(l, vals)?, eval_cond(r, vals)?) {
            (Some(false), _) | (_, Some(false)) => Some(false),
            (Some(true), Some(true)) => Some(true),
            _ => None,
        },
        Cond::Or(l, r) => match (eval_cond(l, vals)?, eval_cond(r, vals)?) {
            (Some(true), _) | (_, Some(true)) => Some(true),
            (Some(false), Some(false)) => Some(false),
            _ => None,
        },
    })
}
