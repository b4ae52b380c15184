//! The fast path: a hand-written parser for well-formed items.
//!
//! pest costs about a microsecond per token here, which puts a 10,000-driver
//! file far above editor latency. Most items in a file are well formed, so the
//! parser first tries this small recursive-descent reader on each item; it
//! builds exactly the tree the pest path builds (same nodes, same spans) or
//! gives up with `None` at the first thing it does not expect. Then the pest
//! grammar parses the item and reports the error. `grammar.pest` stays the
//! definition of the language: the property tests in `tests/fast_path.rs`
//! check that both paths agree on every item either accepts.

use crate::ast::*;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tok {
    Ident,
    /// A name with dashes (`iommu-map`), only where a word is expected.
    Word,
    Number,
    Str,
    Punct,
    Eof,
}

struct Lexer<'a> {
    src: &'a str,
    b: &'a [u8],
    pos: usize,
    end: usize,
    /// The last token peeked: `(position, words, token)`. Most tokens are
    /// peeked before they are taken; this saves lexing them twice.
    peeked: Option<(usize, bool, Tok, Span)>,
}

fn ident_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_'
}
/// `[A-Za-z0-9_]`, by table: the lexer's innermost loop.
fn ident_char(c: u8) -> bool {
    IDENT_CHAR[usize::from(c)]
}
static IDENT_CHAR: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        t[c] = b.is_ascii_alphanumeric() || b == b'_';
        c += 1;
    }
    t
};

impl<'a> Lexer<'a> {
    fn new(src: &'a str, start: usize, end: usize) -> Self {
        Lexer {
            src,
            b: src.as_bytes(),
            pos: start,
            end,
            peeked: None,
        }
    }

    /// Skips whitespace and comments; `None` on a doc comment (left to pest).
    fn skip(&mut self) -> Option<()> {
        loop {
            // The grammar's WHITESPACE exactly (not form feed).
            while self.pos < self.end && matches!(self.b[self.pos], b' ' | b'\t' | b'\r' | b'\n') {
                self.pos += 1;
            }
            if self.pos >= self.end || self.b[self.pos] != b'/' {
                return Some(());
            }
            let rest = &self.b[self.pos..self.end];
            if rest.starts_with(b"//") {
                if rest.starts_with(b"///") && !rest.starts_with(b"////") {
                    return None;
                }
                while self.pos < self.end && self.b[self.pos] != b'\n' {
                    self.pos += 1;
                }
            } else if rest.starts_with(b"/*") {
                let close = rest[2..].windows(2).position(|w| w == b"*/")?;
                self.pos += 2 + close + 2;
            } else {
                return Some(());
            }
        }
    }

    /// The next token's kind and span, without consuming it. The cache
    /// check is inlined into the callers; lexing is not.
    #[inline(always)]
    fn peek(&mut self, words: bool) -> Option<(Tok, Span)> {
        if let Some((at, w, tok, span)) = &self.peeked {
            if *at == self.pos && *w == words {
                return Some((*tok, span.clone()));
            }
        }
        self.peek_lex(words)
    }

    #[inline(never)]
    fn peek_lex(&mut self, words: bool) -> Option<(Tok, Span)> {
        let t = self.lex(words)?;
        // `lex` skipped trivia, so the key is the token's own start.
        self.peeked = Some((t.1.start, words, t.0, t.1.clone()));
        Some(t)
    }

    fn lex(&mut self, words: bool) -> Option<(Tok, Span)> {
        self.skip()?;
        let s = self.pos;
        if s >= self.end {
            return Some((Tok::Eof, s..s));
        }
        let c = self.b[s];
        let mut e = s + 1;
        let kind = if ident_start(c) {
            while e < self.end && (ident_char(self.b[e]) || (words && self.b[e] == b'-')) {
                e += 1;
            }
            if words && self.b[s..e].contains(&b'-') {
                Tok::Word
            } else {
                Tok::Ident
            }
        } else if c.is_ascii_digit() {
            while e < self.end && ident_char(self.b[e]) {
                e += 1;
            }
            Tok::Number
        } else if c == b'"' {
            loop {
                match self.b.get(e).copied() {
                    _ if e >= self.end => return None,
                    Some(b'\\') => e += 2,
                    Some(b'"') => break,
                    Some(b'\n') | None => return None,
                    Some(_) => e += 1,
                }
            }
            e += 1;
            if e > self.end {
                return None;
            }
            Tok::Str
        } else if !c.is_ascii() {
            // Outside strings and comments the language is ASCII; let pest
            // report it (and never split a multi-byte character).
            return None;
        } else {
            if s + 2 <= self.end
                && matches!(
                    [c, self.b[s + 1]],
                    [b'|', b'|']
                        | [b'&', b'&']
                        | [b'=', b'=']
                        | [b'!', b'=']
                        | [b'<', b'<']
                        | [b'>', b'>']
                        | [b'<', b'=']
                        | [b'>', b'=']
                        | [b':', b':']
                        | [b'.', b'.']
                )
            {
                e = s + 2;
            }
            Tok::Punct
        };
        Some((kind, s..e))
    }

    fn next(&mut self, words: bool) -> Option<(Tok, Span)> {
        let t = self.peek(words)?;
        self.pos = t.1.end;
        Some(t)
    }

    fn text(&self, s: &Span) -> &'a str {
        &self.src[s.clone()]
    }

    /// The bytes of a token (compared without `str` boundary checks).
    fn bytes(&self, s: &Span) -> &'a [u8] {
        &self.b[s.clone()]
    }

    fn punct(&mut self, p: &str) -> Option<Span> {
        let (k, s) = self.next(false)?;
        (k == Tok::Punct && self.bytes(&s) == p.as_bytes()).then_some(s)
    }

    fn at_punct(&mut self, p: &str) -> bool {
        matches!(self.peek(false), Some((Tok::Punct, s)) if self.bytes(&s) == p.as_bytes())
    }

    fn keyword(&mut self, kw: &str) -> Option<Span> {
        let words = kw.contains('-');
        let (k, s) = self.next(words)?;
        (matches!(k, Tok::Ident | Tok::Word) && self.bytes(&s) == kw.as_bytes()).then_some(s)
    }

    fn ident(&mut self) -> Option<Ident> {
        let (k, s) = self.next(false)?;
        (k == Tok::Ident).then(|| Ident {
            name: self.text(&s).to_owned(),
            span: s,
        })
    }

    /// A name that may contain dashes (`word` in the grammar).
    fn word(&mut self) -> Option<Ident> {
        let (k, s) = self.next(true)?;
        let t = self.text(&s);
        (matches!(k, Tok::Ident | Tok::Word) && t.as_bytes()[0].is_ascii_alphabetic()).then(|| {
            Ident {
                name: t.to_owned(),
                span: s,
            }
        })
    }

    fn number(&mut self) -> Option<Num> {
        let (k, s) = self.next(false)?;
        if k != Tok::Number {
            return None;
        }
        // Overflow and malformed numbers are reported by the pest path.
        let value = number_value(self.bytes(&s))?;
        Some(Num { value, span: s })
    }

    fn string(&mut self) -> Option<Str> {
        let (k, s) = self.next(false)?;
        if k != Tok::Str {
            return None;
        }
        let inner = &self.src[s.start + 1..s.end - 1];
        let value = if inner.contains('\\') {
            unescape(inner)
        } else {
            inner.to_owned()
        };
        Some(Str { value, span: s })
    }

    fn done(&mut self) -> Option<()> {
        matches!(self.peek(false)?, (Tok::Eof, _)).then_some(())
    }
}

/// The value of a number token, in one pass: `Some` exactly when the
/// grammar's number (a `0x`/`0b` prefix or none, digits of that base and
/// `_`, at least one digit, at most one unit letter `K`/`M`/`G`/`T`) covers
/// the whole token and the value fits in 64 bits, as
/// [`crate::parse::parse_number`] computes it.
fn number_value(t: &[u8]) -> Option<u64> {
    let (body, scale) = match t.split_last() {
        Some((b'K', body)) => (body, 10),
        Some((b'M', body)) => (body, 20),
        Some((b'G', body)) => (body, 30),
        Some((b'T', body)) => (body, 40),
        _ => (t, 0),
    };
    let (digits, radix) = if let Some(hex) = body.strip_prefix(b"0x") {
        (hex, 16)
    } else if let Some(bin) = body.strip_prefix(b"0b") {
        (bin, 2)
    } else {
        (body, 10)
    };
    let mut value: u64 = 0;
    let mut any = false;
    for &c in digits {
        let d = match c {
            b'_' => continue,
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            b'A'..=b'F' => c - b'A' + 10,
            _ => return None,
        };
        if u64::from(d) >= radix {
            return None;
        }
        value = value.checked_mul(radix)?.checked_add(u64::from(d))?;
        any = true;
    }
    if !any {
        return None;
    }
    value.checked_mul(1 << scale)
}

/// A list's first element, with room for a few more: lists here are short
/// (cell counts, sources, sizes, path segments), and growing from one
/// element reallocates on the second.
fn list<T>(first: T) -> Vec<T> {
    let mut v = Vec::with_capacity(4);
    v.push(first);
    v
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some(other) => out.push(other),
                None => {}
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// A driver header: its docs, its name and the driver it extends.
pub(crate) type Head = (Vec<String>, Ident, Option<Ident>);

/// `/// docs` `driver NAME {` or `driver NAME extends BASE {`.
pub(crate) fn driver_head(src: &str, start: usize, end: usize) -> Option<Head> {
    let mut lx = Lexer::new(src, start, end);
    let (head, _) = driver_head_in(&mut lx)?;
    lx.done()?;
    Some(head)
}

/// [`driver_head`] without knowing where the header ends: also returns the
/// position of its `{`, the first brace [`crate::split::scan`] would find.
pub(crate) fn driver_head_at(src: &str, start: usize) -> Option<(Head, usize)> {
    let mut lx = Lexer::new(src, start, src.len());
    let (head, open) = driver_head_in(&mut lx)?;
    Some((head, open.start))
}

fn driver_head_in(lx: &mut Lexer<'_>) -> Option<(Head, Span)> {
    let mut docs = Vec::new();
    loop {
        // Plain comments and whitespace, then either a doc line or the header.
        if lx.skip().is_some() {
            break;
        }
        let line_end = lx.b[lx.pos..lx.end]
            .iter()
            .position(|&c| c == b'\n')
            .map_or(lx.end, |i| lx.pos + i);
        docs.push(doc_text(&lx.src[lx.pos..line_end]));
        lx.pos = line_end;
    }
    lx.keyword("driver")?;
    let name = lx.ident()?;
    let extends = if lx.at_punct("{") {
        None
    } else {
        lx.keyword("extends")?;
        Some(lx.ident()?)
    };
    let open = lx.punct("{")?;
    Some(((docs, name, extends), open))
}

/// A `///` line without the marker and one following space.
pub(crate) fn doc_text(raw: &str) -> String {
    let t = raw.trim_start_matches("///");
    t.strip_prefix(' ').unwrap_or(t).trim_end().to_owned()
}

/// `page-table FORMAT {` or `requests PROTOCOL {` (`Some(Some(format))`) or
/// `dma {` (`Some(None)`).
pub(crate) fn block_head(src: &str, start: usize, end: usize) -> Option<Option<Ident>> {
    let mut lx = Lexer::new(src, start, end);
    let (format, _, _) = block_head_in(&mut lx)?;
    lx.done()?;
    Some(format)
}

/// [`block_head`] at `start` without knowing where the header ends: the
/// format, the keyword's span and the position of the `{`.
pub(crate) fn block_head_at(src: &str, start: usize) -> Option<(Option<Ident>, Span, usize)> {
    block_head_in(&mut Lexer::new(src, start, src.len()))
}

fn block_head_in(lx: &mut Lexer<'_>) -> Option<(Option<Ident>, Span, usize)> {
    let (_, kw) = lx.next(true)?;
    let format = match lx.text(&kw) {
        "page-table" | "requests" => Some(lx.word()?),
        "dma" => None,
        _ => return None,
    };
    let open = lx.punct("{")?;
    Some((format, kw, open.start))
}

/// One driver statement filling `src[start..end]`: its kind and span
/// (keyword to `;`).
pub(crate) fn stmt(src: &str, start: usize, end: usize) -> Option<(ItemKind, Span)> {
    let mut lx = Lexer::new(src, start, end);
    let (kind, span, _) = stmt_in(&mut lx)?;
    lx.done()?;
    Some((kind, span))
}

/// The driver statement starting at `start` (before any `}` at `to`): kind,
/// span and keyword span. It ends at its first `;`, as [`crate::split`]
/// would cut it, so the caller need not scan for the end first.
pub(crate) fn stmt_at(src: &str, start: usize, to: usize) -> Option<(ItemKind, Span, Span)> {
    stmt_in(&mut Lexer::new(src, start, to))
}

fn stmt_in(lx: &mut Lexer<'_>) -> Option<(ItemKind, Span, Span)> {
    let (_, kw) = lx.next(true)?;
    let kind = match lx.text(&kw) {
        "compatible" => {
            let mut v = list(lx.string()?);
            while lx.at_punct(",") {
                lx.punct(",")?;
                v.push(lx.string()?);
            }
            ItemKind::Compatible(v)
        }
        "cells" => {
            let mut v = list(lx.number()?);
            while lx.at_punct("|") {
                lx.punct("|")?;
                v.push(lx.number()?);
            }
            ItemKind::Cells(v)
        }
        "field" => {
            let name = lx.ident()?;
            lx.punct(":")?;
            let ty = lx.ident()?;
            let digits = ty.name.strip_prefix('u')?;
            if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
                return None;
            }
            let width = Num {
                value: digits.parse().unwrap_or(u64::MAX),
                span: ty.span,
            };
            lx.punct("=")?;
            let mut sources = list(source(lx)?);
            while matches!(lx.peek(false)?, (Tok::Ident, s) if lx.text(&s) == "else") {
                lx.next(false)?;
                sources.push(source(lx)?);
            }
            ItemKind::Field(FieldAst {
                name,
                width,
                sources,
            })
        }
        "ignore" => ignore(lx)?,
        "check" => ItemKind::Check(expr(lx, 0)?),
        "child" => child(lx)?,
        "id" => {
            lx.punct("=")?;
            ItemKind::Id(expr(lx, 0)?)
        }
        "pci" => {
            lx.keyword("iommu-map")?;
            ItemKind::Pci
        }
        "allow" => {
            lx.keyword("masters")?;
            let mut v = list(lx.string()?);
            while lx.at_punct(",") {
                lx.punct(",")?;
                v.push(lx.string()?);
            }
            ItemKind::AllowMasters(v)
        }
        "deny" => {
            lx.keyword("soc")?;
            let mut v = list(denied(lx)?);
            while lx.at_punct(",") {
                lx.punct(",")?;
                v.push(denied(lx)?);
            }
            ItemKind::DenySocs(v)
        }
        "main" => {
            lx.keyword("property")?;
            ItemKind::Main(lx.string()?)
        }
        "master" => {
            let (k, s) = lx.next(false)?;
            if k != Tok::Ident {
                return None;
            }
            match lx.text(&s) {
                "one" => {
                    lx.keyword("instance")?;
                    ItemKind::Probe(ProbeAst::OneInstance)
                }
                "same" => ItemKind::Probe(ProbeAst::Same(lx.ident()?)),
                _ => return None,
            }
        }
        "contexts" => {
            let total = lx.number()?;
            let reserved = if matches!(lx.peek(false)?, (Tok::Ident, s) if lx.text(&s) == "reserved")
            {
                lx.next(false)?;
                Some(lx.number()?)
            } else {
                None
            };
            ItemKind::Contexts { total, reserved }
        }
        "init" => {
            let mut path = list(lx.ident()?);
            while lx.at_punct("::") {
                lx.punct("::")?;
                path.push(lx.ident()?);
            }
            ItemKind::Init(path)
        }
        _ => return None,
    };
    let semi = lx.punct(";")?;
    Some((kind, kw.start..semi.end, kw))
}

fn source(lx: &mut Lexer<'_>) -> Option<SourceAst> {
    let (k, s) = lx.peek(false)?;
    let start = s.start;
    let base = match (k, lx.text(&s)) {
        (Tok::Ident, "cell") => {
            lx.next(false)?;
            lx.punct("[")?;
            let n = lx.number()?;
            lx.punct("]")?;
            SourceBase::Cell(n)
        }
        (Tok::Ident, "property") => {
            lx.next(false)?;
            SourceBase::Property(lx.string()?)
        }
        (Tok::Ident, "master") => {
            lx.next(false)?;
            lx.keyword("property")?;
            SourceBase::MasterProperty(lx.string()?)
        }
        (Tok::Number, _) => SourceBase::Const(lx.number()?),
        _ => return None,
    };
    let mut end = lx.pos;
    let bits = bit_sel(lx)?;
    if let Some(b) = &bits {
        end = b.span.end;
    }
    let mut shr = None;
    if lx.at_punct(">>") {
        lx.punct(">>")?;
        let n = lx.number()?;
        end = n.span.end;
        shr = Some(n);
    }
    let mut mask = None;
    if lx.at_punct("&") {
        lx.punct("&")?;
        let n = lx.number()?;
        end = n.span.end;
        mask = Some(n);
    }
    Some(SourceAst {
        base,
        bits,
        shr,
        mask,
        span: start..end,
    })
}

/// One entry of `deny soc`: `"machine"` or `"machine" revision "glob"`.
fn denied(lx: &mut Lexer<'_>) -> Option<DeniedSocAst> {
    let machine = lx.string()?;
    let mut end = machine.span.end;
    let revision = if matches!(lx.peek(false)?, (Tok::Ident, s) if lx.text(&s) == "revision") {
        lx.next(false)?;
        let r = lx.string()?;
        end = r.span.end;
        Some(r)
    } else {
        None
    };
    Some(DeniedSocAst {
        span: machine.span.start..end,
        machine,
        revision,
    })
}

/// `child`'s body, after the keyword: strings, `where FIELD ==`, sources.
fn child(lx: &mut Lexer<'_>) -> Option<ItemKind> {
    let mut compatibles = list(lx.string()?);
    while lx.at_punct(",") {
        lx.punct(",")?;
        compatibles.push(lx.string()?);
    }
    match lx.next(false)? {
        (Tok::Ident, s) if lx.text(&s) == "where" => {}
        _ => return None,
    }
    let field = lx.ident()?;
    lx.punct("==")?;
    let mut key = list(source(lx)?);
    while matches!(lx.peek(false)?, (Tok::Ident, s) if lx.text(&s) == "else") {
        lx.next(false)?;
        key.push(source(lx)?);
    }
    Some(ItemKind::Child(ChildAst {
        compatibles,
        field,
        key,
    }))
}

/// `ignore`'s targets, after the keyword: `cell[N][hi:lo], property "p"[hi:lo]`.
fn ignore(lx: &mut Lexer<'_>) -> Option<ItemKind> {
    let mut targets = list(ignored(lx)?);
    while lx.at_punct(",") {
        lx.punct(",")?;
        targets.push(ignored(lx)?);
    }
    Some(ItemKind::Ignore(targets))
}

fn ignored(lx: &mut Lexer<'_>) -> Option<IgnoreAst> {
    let (k, s) = lx.next(false)?;
    let start = s.start;
    let word = match (k, lx.text(&s)) {
        (Tok::Ident, "cell") => {
            lx.punct("[")?;
            let n = lx.number()?;
            lx.punct("]")?;
            WordAst::Cell(n)
        }
        (Tok::Ident, "property") => WordAst::Property(lx.string()?),
        (Tok::Ident, "master") => {
            lx.keyword("property")?;
            WordAst::MasterProperty(lx.string()?)
        }
        _ => return None,
    };
    let mut end = lx.pos;
    let bits = bit_sel(lx)?;
    if let Some(b) = &bits {
        end = b.span.end;
    }
    Some(IgnoreAst {
        word,
        bits,
        span: start..end,
    })
}

/// An optional `[hi:lo]` or `[bit]`; `None` inside on a malformed one.
fn bit_sel(lx: &mut Lexer<'_>) -> Option<Option<BitSel>> {
    if !lx.at_punct("[") {
        return Some(None);
    }
    let open = lx.punct("[")?;
    let hi = lx.number()?;
    let lo = if lx.at_punct(":") {
        lx.punct(":")?;
        Some(lx.number()?)
    } else {
        None
    };
    let close = lx.punct("]")?;
    Some(Some(BitSel {
        hi,
        lo,
        span: open.start..close.end,
    }))
}

fn binop(t: &str) -> Option<BinOp> {
    Some(match t {
        "||" => BinOp::Or,
        "&&" => BinOp::And,
        "==" => BinOp::Eq,
        "!=" => BinOp::Ne,
        "<" => BinOp::Lt,
        "<=" => BinOp::Le,
        ">" => BinOp::Gt,
        ">=" => BinOp::Ge,
        "|" => BinOp::BitOr,
        "^" => BinOp::BitXor,
        "&" => BinOp::BitAnd,
        "<<" => BinOp::Shl,
        ">>" => BinOp::Shr,
        "+" => BinOp::Add,
        "-" => BinOp::Sub,
        "*" => BinOp::Mul,
        _ => return None,
    })
}

/// Precedence climbing with the grammar's levels; all operators associate
/// left. Gives up (`None`) on an expression deeper than
/// [`crate::depth::MAX_EXPR_DEPTH`] before recursing past it: the pest path
/// then reports the error (the same one for both paths, see
/// [`crate::depth::scan_statement`]).
fn expr(lx: &mut Lexer<'_>, min: u8) -> Option<ExprAst> {
    climb(lx, min, 0).map(|(e, _)| e)
}

/// [`expr`] at `level` (constructs enclosing it, a lower bound of its
/// depth in the whole tree); returns the tree and its height.
fn climb(lx: &mut Lexer<'_>, min: u8, level: usize) -> Option<(ExprAst, usize)> {
    let (mut lhs, mut height) = unary(lx, level)?;
    loop {
        let (k, s) = lx.peek(false)?;
        if k != Tok::Punct {
            return Some((lhs, height));
        }
        let Some(op) = binop(lx.text(&s)) else {
            return Some((lhs, height));
        };
        let p = precedence(op);
        if p <= min {
            return Some((lhs, height));
        }
        lx.next(false)?;
        let (rhs, rh) = climb(lx, p, level + 1)?;
        height = deeper(height.max(rh))?;
        let span = lhs.span().start..rhs.span().end;
        lhs = ExprAst::Binary(op, Box::new(lhs), Box::new(rhs), span);
    }
}

/// One more level above a subtree of height `h`, if within the limit.
fn deeper(h: usize) -> Option<usize> {
    (h < crate::depth::MAX_EXPR_DEPTH).then_some(h + 1)
}

fn unary(lx: &mut Lexer<'_>, level: usize) -> Option<(ExprAst, usize)> {
    if level > crate::depth::MAX_EXPR_DEPTH {
        return None;
    }
    let (k, s) = lx.next(false)?;
    match k {
        Tok::Punct if lx.text(&s) == "!" => {
            let (inner, h) = unary(lx, level + 1)?;
            let span = s.start..inner.span().end;
            Some((ExprAst::Not(Box::new(inner), span), deeper(h)?))
        }
        Tok::Punct if lx.text(&s) == "(" => {
            let (e, h) = climb(lx, 0, level + 1)?;
            lx.punct(")")?;
            Some((e, deeper(h)?))
        }
        Tok::Ident => Some((
            ExprAst::Name(Ident {
                name: lx.text(&s).to_owned(),
                span: s,
            }),
            0,
        )),
        Tok::Number => {
            lx.pos = s.start;
            Some((ExprAst::Lit(lx.number()?), 0))
        }
        _ => None,
    }
}

/// One `page-table` statement filling `src[start..end]`.
pub(crate) fn pt_stmt(src: &str, start: usize, end: usize) -> Option<(PtKind, Span)> {
    let mut lx = Lexer::new(src, start, end);
    let (kind, span, _) = pt_stmt_in(&mut lx)?;
    lx.done()?;
    Some((kind, span))
}

/// The `page-table` statement starting at `start`, like [`stmt_at`].
pub(crate) fn pt_stmt_at(src: &str, start: usize, to: usize) -> Option<(PtKind, Span, Span)> {
    pt_stmt_in(&mut Lexer::new(src, start, to))
}

fn pt_stmt_in(lx: &mut Lexer<'_>) -> Option<(PtKind, Span, Span)> {
    let (_, kw) = lx.next(true)?;
    let kind = match lx.text(&kw) {
        "granule" => PtKind::Granule(lx.number()?),
        "ias" => PtKind::Ias(lx.number()?),
        "oas" => PtKind::Oas(lx.number()?),
        "pool" => PtKind::Pool(lx.number()?),
        "coherent-walk" => PtKind::CoherentWalk,
        "mtk-ext" => PtKind::MtkExt,
        "generation" => PtKind::Generation(lx.word()?),
        "version" => PtKind::Version(lx.number()?),
        "sizes" => {
            let mut v = list(lx.number()?);
            loop {
                if lx.at_punct(",") {
                    lx.punct(",")?;
                    v.push(lx.number()?);
                } else if matches!(lx.peek(false)?, (Tok::Number, _)) {
                    v.push(lx.number()?);
                } else {
                    break;
                }
            }
            PtKind::Sizes(v)
        }
        _ => return None,
    };
    let semi = lx.punct(";")?;
    Some((kind, kw.start..semi.end, kw))
}

/// One `dma` statement filling `src[start..end]`.
pub(crate) fn dma_stmt(src: &str, start: usize, end: usize) -> Option<(DmaKind, Span)> {
    let mut lx = Lexer::new(src, start, end);
    let (kind, span, _) = dma_stmt_in(&mut lx)?;
    lx.done()?;
    Some((kind, span))
}

/// The `dma` statement starting at `start`, like [`stmt_at`].
pub(crate) fn dma_stmt_at(src: &str, start: usize, to: usize) -> Option<(DmaKind, Span, Span)> {
    dma_stmt_in(&mut Lexer::new(src, start, to))
}

fn dma_stmt_in(lx: &mut Lexer<'_>) -> Option<(DmaKind, Span, Span)> {
    let (_, kw) = lx.next(false)?;
    let kind = match lx.text(&kw) {
        "domain" => DmaKind::Domain(lx.word()?),
        "aperture" => {
            let start = lx.number()?;
            lx.punct("..")?;
            let end = lx.number()?;
            DmaKind::Aperture { start, end }
        }
        _ => return None,
    };
    let semi = lx.punct(";")?;
    Some((kind, kw.start..semi.end, kw))
}

#[cfg(test)]
mod tests {
    use super::number_value;
    use crate::parse::parse_number;

    /// The one-pass reader agrees with the checks it replaced: the token
    /// shape the grammar accepts, then `parse_number`.
    #[test]
    fn number_value_accepts_what_the_grammar_and_parse_number_accept() {
        fn shape_ok(t: &str) -> bool {
            let digits = t.trim_end_matches(['K', 'M', 'G', 'T']);
            if t.len() - digits.len() > 1 {
                return false;
            }
            if let Some(h) = digits.strip_prefix("0x") {
                !h.is_empty() && h.bytes().all(|c| c.is_ascii_hexdigit() || c == b'_')
            } else if let Some(b) = digits.strip_prefix("0b") {
                !b.is_empty() && b.bytes().all(|c| c == b'0' || c == b'1' || c == b'_')
            } else {
                digits.bytes().all(|c| c.is_ascii_digit() || c == b'_')
            }
        }
        for t in [
            "0",
            "48",
            "4K",
            "2M",
            "1G",
            "4T",
            "4KK",
            "0x1000_0000",
            "0xAbK",
            "0x",
            "0x_",
            "0xK",
            "0b101",
            "0b102",
            "0bA",
            "12e",
            "1_000",
            "0X1F",
            "0K",
            "99999999999999999999",
            "0xffff_ffff_ffff_ffff",
            "0x1_0000_0000_0000_0000",
            "16777216T",
            "0b",
            "00",
        ] {
            let want = if shape_ok(t) { parse_number(t) } else { None };
            assert_eq!(number_value(t.as_bytes()), want, "{t}");
        }
    }
}
