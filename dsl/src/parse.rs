//! Source text to [`SpecAst`], with recovery.
//!
//! `split` cuts the text into items; pest parses each item on its
//! own with the rules in `grammar.pest`. A bad item yields one diagnostic and
//! is dropped; parsing continues with the next one. When pest stops at a word
//! that starts a known item (a forgotten `;`), parsing resumes at that word.

use pest::iterators::Pair;
use pest::pratt_parser::{Assoc, Op, PrattParser};
use pest::Parser as _;

use crate::ast::*;
use crate::diag::{Code, Diagnostic};
use crate::fast::{self, doc_text};
use crate::split::{first_word, scan, skip_trivia, Piece};

#[derive(pest_derive::Parser)]
#[grammar = "grammar.pest"]
struct DslParser;

/// Keywords of driver-body statements.
pub const DRIVER_ITEMS: &[&str] = &[
    "compatible",
    "cells",
    "field",
    "ignore",
    "check",
    "child",
    "id",
    "pci",
    "main",
    "contexts",
    "page-table",
    "requests",
    "dma",
    "init",
    "allow",
    "deny",
    "master",
];
/// Keywords inside `page-table { }`.
pub const PAGE_TABLE_ITEMS: &[&str] = &[
    "granule",
    "ias",
    "oas",
    "sizes",
    "coherent-walk",
    "pool",
    "mtk-ext",
    "generation",
    "version",
];
/// Keywords inside `dma { }`.
pub const DMA_ITEMS: &[&str] = &["domain", "aperture", "group", "default", "shared-domains"];

#[derive(Clone, Copy, PartialEq, Eq)]
enum Scope {
    Driver,
    PageTable,
    Dma,
}

impl Scope {
    fn keywords(self) -> &'static [&'static str] {
        match self {
            Scope::Driver => DRIVER_ITEMS,
            Scope::PageTable => PAGE_TABLE_ITEMS,
            Scope::Dma => DMA_ITEMS,
        }
    }
    fn name(self) -> &'static str {
        match self {
            Scope::Driver => "a driver",
            Scope::PageTable => "`page-table`",
            Scope::Dma => "`dma`",
        }
    }
}

/// Parses one source file. Never fails: problems become diagnostics, and the
/// tree holds every driver whose header parsed.
pub fn parse(source: &str) -> (SpecAst, Vec<Diagnostic>) {
    parse_with(source, true)
}

/// [`parse`] with every item going through pest, for the tests that hold
/// the fast path to the grammar. Not for other use.
#[doc(hidden)]
pub fn parse_pest_only(source: &str) -> (SpecAst, Vec<Diagnostic>) {
    parse_with(source, false)
}

fn parse_with(source: &str, fast: bool) -> (SpecAst, Vec<Diagnostic>) {
    // Growing a vector of large nodes by doubling dominated big files;
    // a driver takes at least ~100 bytes of source, so reserve for that.
    let mut spec = SpecAst {
        drivers: Vec::with_capacity(source.len() / 128 + 1),
    };
    let diags = parse_each_with(source, fast, |d| spec.drivers.push(d));
    (spec, diags)
}

/// [`parse`], handing each driver to `sink` as soon as it is read instead of
/// building the whole tree: a caller that checks and drops each driver keeps
/// the working set to one driver (see [`crate::check_source`]). Returns the
/// syntax diagnostics.
pub(crate) fn parse_each(source: &str, sink: impl FnMut(DriverAst)) -> Vec<Diagnostic> {
    parse_each_with(source, true, sink)
}

fn parse_each_with(source: &str, fast: bool, sink: impl FnMut(DriverAst)) -> Vec<Diagnostic> {
    let mut p = P {
        fast,
        src: source,
        bytes: source.as_bytes(),
        diags: Vec::new(),
        unparsed_fields: Vec::new(),
        unparsed_items: Vec::new(),
        scratch: Scratch::default(),
    };
    p.file(sink);
    p.diags
}

struct P<'a> {
    /// Try the hand-written reader before pest (see [`crate::fast`]).
    fast: bool,
    src: &'a str,
    bytes: &'a [u8],
    diags: Vec<Diagnostic>,
    /// Names of `field` statements of the current driver that did not parse.
    unparsed_fields: Vec<Ident>,
    /// Keywords of statements of the current driver that did not parse.
    unparsed_items: Vec<Ident>,
    /// Reused buffers for the fast reader's item lists.
    scratch: Scratch,
}

/// Item lists are gathered here and then copied out at their exact length:
/// a list allocated with room to grow wasted about 2.5 KB per driver, which
/// made a large tree much larger than it needs to be (cache misses, and
/// allocations too big for the allocator's fast small-size path).
#[derive(Default)]
struct Scratch {
    items: Vec<Item>,
    pt: Vec<PtItem>,
    dma: Vec<DmaItem>,
}

/// The scratch buffer for lists of `T`.
trait ScratchFor<T> {
    fn buffer(&mut self) -> &mut Vec<T>;
}

impl ScratchFor<Item> for Scratch {
    fn buffer(&mut self) -> &mut Vec<Item> {
        &mut self.items
    }
}
impl ScratchFor<PtItem> for Scratch {
    fn buffer(&mut self) -> &mut Vec<PtItem> {
        &mut self.pt
    }
}
impl ScratchFor<DmaItem> for Scratch {
    fn buffer(&mut self) -> &mut Vec<DmaItem> {
        &mut self.dma
    }
}

/// What a body parse ended on.
enum BodyEnd {
    /// The block's `}` (or the end of the text given).
    Closed,
    /// A `driver` keyword: the block was never closed.
    NextDriver(usize),
}

impl<'a> P<'a> {
    fn file(&mut self, mut sink: impl FnMut(DriverAst)) {
        let mut pos = crate::encoding::text_start(self.src);
        loop {
            let from = pos;
            pos = skip_trivia(self.bytes, pos);
            if pos >= self.bytes.len() {
                if let Some(open) = crate::split::open_comment(self.bytes, from) {
                    self.diags.push(
                        Diagnostic::new(
                            Code::Syntax,
                            "a `/*` comment has no matching `*/`",
                            open..open + 2,
                            "runs to the end of the file",
                        )
                        .help("close the comment with `*/`"),
                    );
                }
                break;
            }
            if self.bytes[pos] == b'}' {
                self.diags.push(
                    Diagnostic::new(
                        Code::Syntax,
                        "unmatched `}`",
                        pos..pos + 1,
                        "nothing to close here",
                    )
                    .help("remove it, or check the braces of the driver above"),
                );
                pos += 1;
                continue;
            }
            let (ws, we) = first_word(self.bytes, pos);
            let word = &self.src[ws..we];
            if self.fast && word == "driver" {
                if let Some((driver, next)) = self.fast_driver(pos, ws) {
                    sink(driver);
                    pos = next;
                    continue;
                }
            }
            let piece = scan(self.bytes, pos);
            if word != "driver" {
                self.top_level_junk(ws, we, &piece);
                pos = piece_end(&piece, self.bytes.len());
                continue;
            }
            match piece {
                Piece::Stmt { end, .. } => {
                    self.diags.push(
                        Diagnostic::new(
                            Code::Syntax,
                            "a driver needs a body in braces",
                            ws..end,
                            "no `{` follows",
                        )
                        .help("write `driver NAME { ... }`"),
                    );
                    pos = end;
                }
                Piece::Block { start, open, close } => {
                    let mark = self.diags.len();
                    let head = self.driver_head(start, open);
                    let body_end = close.unwrap_or(self.bytes.len());
                    self.unparsed_fields.clear();
                    self.unparsed_items.clear();
                    let (items, end) = self.body(open + 1, body_end, Scope::Driver);
                    let unparsed_fields = std::mem::take(&mut self.unparsed_fields);
                    let unparsed_items = std::mem::take(&mut self.unparsed_items);
                    let next = match end {
                        BodyEnd::NextDriver(at) => {
                            self.unclosed(open, "driver");
                            at
                        }
                        BodyEnd::Closed => match close {
                            Some(c) => c + 1,
                            None => {
                                self.unclosed(open, "driver");
                                self.bytes.len()
                            }
                        },
                    };
                    if let Some((docs, name, extends)) = head {
                        let span_end = close.map_or(next, |c| c + 1).min(self.bytes.len());
                        sink(DriverAst {
                            docs,
                            name,
                            extends,
                            items,
                            unparsed_fields,
                            unparsed_items,
                            parse_errors: self.diags.len() > mark,
                            span: ws..span_end,
                        });
                    }
                    pos = next;
                }
            }
        }
    }

    /// A whole well-formed driver through the fast reader, without cutting
    /// it out first (that scan costs as much as reading it). `None` at the
    /// first thing the fast reader does not accept (doc comments inside the
    /// body, anything broken, a missing `}`): the caller then takes the
    /// recovering path from `start`, which reports the problem. Nothing is
    /// recorded before success, so giving up leaves no trace.
    ///
    /// Every brace the fast reader passes belongs to a block it parsed, and it
    /// skips strings and comments as [`scan`] does, so the `}` that ends the
    /// body here is the one `scan` would match: the tree is the same.
    fn fast_driver(&mut self, start: usize, ws: usize) -> Option<(DriverAst, usize)> {
        let ((docs, name, extends), open) = fast::driver_head_at(self.src, start)?;
        let (items, close) = self.fast_body(open + 1, |p, pos| {
            let found = ItemParser::<Item>::fast_item(p, pos, p.bytes.len());
            if found.is_some() {
                return found;
            }
            p.fast_block(pos)
        })?;
        Some((
            DriverAst {
                docs,
                name,
                extends,
                items,
                unparsed_fields: Vec::new(),
                unparsed_items: Vec::new(),
                parse_errors: false,
                span: ws..close + 1,
            },
            close + 1,
        ))
    }

    /// Items read by `item` from `from` up to the `}` closing the block:
    /// the items and that brace's position.
    fn fast_body<T>(
        &mut self,
        from: usize,
        item: impl Fn(&mut Self, usize) -> Option<(T, usize)>,
    ) -> Option<(Vec<T>, usize)>
    where
        Scratch: ScratchFor<T>,
    {
        // Taken out while `item` runs (it may use the other buffers).
        let mut buf = std::mem::take(self.scratch.buffer());
        buf.clear();
        let mut pos = from;
        let close = loop {
            pos = skip_trivia(self.bytes, pos);
            match self.bytes.get(pos) {
                None => break None,
                Some(b'}') => break Some(pos),
                Some(_) => match item(self, pos) {
                    Some((it, end)) => {
                        buf.push(it);
                        pos = end;
                    }
                    None => break None,
                },
            }
        };
        // Moved into a list of exactly their length; `buf` keeps its room.
        let items = close.map(|_| {
            let mut items = Vec::with_capacity(buf.len());
            items.append(&mut buf);
            items
        });
        *self.scratch.buffer() = buf;
        Some((items?, close?))
    }

    /// A `page-table` or `dma` block at `pos`, entirely through the fast
    /// reader.
    fn fast_block(&mut self, pos: usize) -> Option<(Item, usize)> {
        let (head, keyword, open) = fast::block_head_at(self.src, pos)?;
        let (kind, close) = match head {
            Some(format) => {
                let (items, close) = self.fast_body(open + 1, |p, at| {
                    ItemParser::<PtItem>::fast_item(p, at, p.bytes.len())
                })?;
                let requests = self.src.get(keyword.clone()) == Some("requests");
                let pt = PageTableAst {
                    format,
                    items,
                    requests,
                };
                (ItemKind::PageTable(pt), close)
            }
            None => {
                let (items, close) = self.fast_body(open + 1, |p, at| {
                    ItemParser::<DmaItem>::fast_item(p, at, p.bytes.len())
                })?;
                (ItemKind::Dma(items), close)
            }
        };
        let span = keyword.start..close + 1;
        Some((
            Item {
                kind,
                keyword,
                span,
            },
            close + 1,
        ))
    }

    fn top_level_junk(&mut self, ws: usize, we: usize, piece: &Piece) {
        if ws == we {
            let end = next_char_end(self.src, ws);
            self.diags.push(
                Diagnostic::new(
                    Code::Syntax,
                    format!("expected `driver`, found `{}`", &self.src[ws..end]),
                    ws..end,
                    "not the start of a driver",
                )
                .help("a spec file holds `driver NAME { ... }` items and comments"),
            );
            return;
        }
        let word = &self.src[ws..we];
        let help = if DRIVER_ITEMS.contains(&word) {
            format!("`{word}` belongs inside a driver: `driver NAME {{ {word} ...; }}`")
        } else if let Some(s) = suggest(word, &["driver"]) {
            format!("did you mean `{s}`?")
        } else {
            "a spec file holds `driver NAME { ... }` items and comments".to_owned()
        };
        let _ = piece;
        self.diags.push(
            Diagnostic::new(
                Code::UnknownItem,
                format!("unknown item `{word}` at the top level"),
                ws..we,
                "expected `driver`",
            )
            .help(help),
        );
    }

    fn unclosed(&mut self, open: usize, what: &str) {
        self.diags.push(
            Diagnostic::new(
                Code::UnclosedBlock,
                format!("this {what} block is never closed"),
                open..open + 1,
                "this `{` has no matching `}`",
            )
            .help("add the missing `}`"),
        );
    }

    fn driver_head(&mut self, start: usize, open: usize) -> Option<fast::Head> {
        if let Some(head) = self
            .fast
            .then(|| fast::driver_head(self.src, start, open + 1))
            .flatten()
        {
            return Some(head);
        }
        let pair = self.pest(Rule::driver_head, start, open + 1, "the driver header")?;
        let mut docs = Vec::new();
        let mut name = None;
        let mut extends = None;
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::doc => docs.push(doc_text(p.as_str())),
                Rule::ident => name = Some(self.ident(&p, start)),
                Rule::extends => {
                    extends = p
                        .into_inner()
                        .find(|q| q.as_rule() == Rule::ident)
                        .map(|q| self.ident(&q, start));
                }
                _ => {}
            }
        }
        name.map(|n| (docs, n, extends))
    }

    /// Parses the items between `from` and `to` (a block's `}` or the end).
    fn body<T>(&mut self, from: usize, to: usize, scope: Scope) -> (Vec<T>, BodyEnd)
    where
        Self: ItemParser<T>,
    {
        let mut items = Vec::with_capacity(16);
        let mut pos = from;
        loop {
            pos = skip_trivia(self.bytes, pos);
            if pos >= to {
                return (items, BodyEnd::Closed);
            }
            if self.bytes[pos] == b'}' {
                // Only reachable when `to` is the end of text: a stray `}`.
                return (items, BodyEnd::Closed);
            }
            // Most statements are well formed: read them straight away,
            // without cutting them out first.
            if self.fast {
                if let Some((item, end)) = self.fast_item(pos, to) {
                    items.push(item);
                    pos = end;
                    continue;
                }
            }
            let (ws, we) = first_word(self.bytes, pos);
            let word = &self.src[ws..we];
            if word == "driver" {
                return (items, BodyEnd::NextDriver(pos));
            }
            let piece = scan(self.bytes, pos);
            let end = piece_end(&piece, to).min(to);
            if !scope.keywords().contains(&word) {
                self.unknown_item(ws, we, end, scope);
                pos = end;
                continue;
            }
            match self.item(scope, word, ws..we, pos, &piece) {
                Ok(Some(item)) => items.push(item),
                Ok(None) => {}
                Err(Some(resume)) => {
                    pos = resume;
                    continue;
                }
                Err(None) => {}
            }
            pos = end;
        }
    }

    fn unknown_item(&mut self, ws: usize, we: usize, end: usize, scope: Scope) {
        let (span, word) = if ws == we {
            let e = next_char_end(self.src, ws);
            (ws..e, &self.src[ws..e])
        } else {
            (ws..we, &self.src[ws..we])
        };
        let _ = end;
        let elsewhere = [Scope::Driver, Scope::PageTable, Scope::Dma]
            .into_iter()
            .find(|s| *s != scope && s.keywords().contains(&word));
        let help = if let Some(other) = elsewhere {
            format!("`{word}` belongs inside {}", other.name())
        } else if let Some(s) = suggest(word, scope.keywords()) {
            format!("did you mean `{s}`?")
        } else {
            format!(
                "items allowed in {}: {}",
                scope.name(),
                scope.keywords().join(", ")
            )
        };
        self.diags.push(
            Diagnostic::new(
                Code::UnknownItem,
                format!("unknown item `{word}` in {}", scope.name()),
                span,
                "not an item here",
            )
            .help(help),
        );
    }

    /// Runs `rule` over `src[start..end]`; on failure records a syntax error
    /// and returns `None`.
    fn pest(&mut self, rule: Rule, start: usize, end: usize, what: &str) -> Option<Pair<'a, Rule>> {
        self.pest_or_resume(rule, start, end, what, &[]).ok()
    }

    /// Like [`Self::pest`], but on failure returns the error position if a
    /// word from `resume_words` starts there (parsing resumes at it).
    fn pest_or_resume(
        &mut self,
        rule: Rule,
        start: usize,
        end: usize,
        what: &str,
        resume_words: &[&str],
    ) -> Result<Pair<'a, Rule>, Option<usize>> {
        let text = &self.src[start..end];
        match DslParser::parse(rule, text) {
            Ok(mut pairs) => pairs.next().ok_or(None),
            Err(_) => {
                // Re-parse with attempt tracking for a precise message. The flag
                // is only ever switched on, so concurrent parses stay consistent.
                pest::set_error_detail(true);
                let err = match DslParser::parse(rule, text) {
                    Ok(mut pairs) => return pairs.next().ok_or(None),
                    Err(e) => e,
                };
                // The furthest position any alternative reached is where the
                // item went wrong; pest's own location can be the rule start.
                let location = match err.location {
                    pest::error::InputLocation::Pos(p) => p,
                    pest::error::InputLocation::Span((p, _)) => p,
                };
                let furthest = err.parse_attempts().map_or(0, |a| a.max_position);
                let at = start + location.max(furthest).min(text.len());
                let (diag, found_word) = self.syntax_error(&err, at, end, what);
                self.diags.push(diag);
                if at > start && resume_words.contains(&found_word) {
                    Err(Some(at))
                } else {
                    Err(None)
                }
            }
        }
    }

    fn syntax_error(
        &self,
        err: &pest::error::Error<Rule>,
        at: usize,
        end: usize,
        what: &str,
    ) -> (Diagnostic, &'a str) {
        let mut expected: Vec<String> = Vec::new();
        if let Some(attempts) = err.parse_attempts() {
            for t in attempts.expected_tokens() {
                // pest does not export the token type; its Debug form names
                // the variant. Only literal tokens are worth quoting.
                if format!("{t:?}").starts_with("Sensitive") {
                    let token = t.to_string();
                    // Comment starts and the tail of a half-written name are
                    // always "expected"; they say nothing useful.
                    let comment = ["//", "///", "/*", "_", "-"].contains(&token.as_str());
                    if !token.is_empty() && !comment && !token.chars().any(char::is_whitespace) {
                        push_unique(&mut expected, format!("`{token}`"));
                    }
                }
            }
        }
        if let pest::error::ErrorVariant::ParsingError { positives, .. } = &err.variant {
            for r in positives {
                if let Some(d) = rule_description(*r) {
                    push_unique(&mut expected, d.to_owned());
                }
            }
        }
        // Numbers and names are tokens the attempt tracker reports as
        // character ranges; describe them by what they are instead.
        if expected.iter().any(|e| e == "`0x`" || e == "`0b`") {
            expected.retain(|e| e != "`0x`" && e != "`0b`");
            push_unique(&mut expected, "a number".to_owned());
        }
        let (found_span, found) = if at >= end {
            (end..end, "end of item")
        } else {
            let (ws, we) = word_at(self.bytes, at);
            if self.bytes[at] == b'"' {
                let e = self.src[at + 1..end].find('"').map_or(end, |i| at + i + 2);
                (at..e, &self.src[at..e])
            } else if we > ws {
                (ws..we, &self.src[ws..we])
            } else {
                let e = next_char_end(self.src, at);
                (at..e, &self.src[at..e])
            }
        };
        let expected_text = match expected.len() {
            0 => "something else".to_owned(),
            1 => expected[0].clone(),
            _ => {
                let (last, rest) = expected.split_last().unwrap_or((&expected[0], &[]));
                format!("{} or {last}", rest.join(", "))
            }
        };
        let found_text = if found == "end of item" {
            found.to_owned()
        } else {
            format!("`{found}`")
        };
        let mut d = Diagnostic::new(
            Code::Syntax,
            format!("syntax error in {what}: expected {expected_text}, found {found_text}"),
            found_span,
            format!("expected {expected_text}"),
        );
        if expected.iter().any(|e| e == "`;`") {
            d = d.help("statements end with `;`");
        }
        (d, found)
    }

    fn ident(&self, p: &Pair<'_, Rule>, off: usize) -> Ident {
        Ident {
            name: p.as_str().to_owned(),
            span: span(p, off),
        }
    }

    fn num(&mut self, p: &Pair<'_, Rule>, off: usize) -> Num {
        let sp = span(p, off);
        let value = match parse_number(p.as_str()) {
            Some(v) => v,
            None => {
                self.diags.push(
                    Diagnostic::new(
                        Code::NumberTooLarge,
                        format!("number `{}` does not fit in 64 bits", p.as_str()),
                        sp.clone(),
                        "too large",
                    )
                    .help("numbers are unsigned 64-bit values"),
                );
                0
            }
        };
        Num { value, span: sp }
    }

    fn string(&self, p: &Pair<'_, Rule>, off: usize) -> Str {
        let inner = p.clone().into_inner().next().map_or("", |i| i.as_str());
        Str {
            value: unescape(inner),
            span: span(p, off),
        }
    }

    fn expr(&mut self, p: Pair<'_, Rule>, off: usize) -> ExprAst {
        let pratt = PrattParser::new()
            .op(Op::infix(Rule::or, Assoc::Left))
            .op(Op::infix(Rule::and, Assoc::Left))
            .op(Op::infix(Rule::eq, Assoc::Left)
                | Op::infix(Rule::ne, Assoc::Left)
                | Op::infix(Rule::lt, Assoc::Left)
                | Op::infix(Rule::le, Assoc::Left)
                | Op::infix(Rule::gt, Assoc::Left)
                | Op::infix(Rule::ge, Assoc::Left))
            .op(Op::infix(Rule::bor, Assoc::Left))
            .op(Op::infix(Rule::bxor, Assoc::Left))
            .op(Op::infix(Rule::band, Assoc::Left))
            .op(Op::infix(Rule::shl, Assoc::Left) | Op::infix(Rule::shr_op, Assoc::Left))
            .op(Op::infix(Rule::add, Assoc::Left) | Op::infix(Rule::sub, Assoc::Left))
            .op(Op::infix(Rule::mul, Assoc::Left))
            .op(Op::prefix(Rule::not));
        self.expr_with(&pratt, p, off)
    }

    fn expr_with(&mut self, pratt: &PrattParser<Rule>, p: Pair<'_, Rule>, off: usize) -> ExprAst {
        // The Pratt closures cannot borrow `self` mutably; collect number
        // diagnostics on the side.
        let mut diags = Vec::new();
        let e = pratt
            .map_primary(|prim| match prim.as_rule() {
                Rule::number => {
                    let sp = span(&prim, off);
                    let value = parse_number(prim.as_str()).unwrap_or_else(|| {
                        diags.push(Diagnostic::new(
                            Code::NumberTooLarge,
                            format!("number `{}` does not fit in 64 bits", prim.as_str()),
                            sp.clone(),
                            "too large",
                        ));
                        0
                    });
                    ExprAst::Lit(Num { value, span: sp })
                }
                Rule::ident => ExprAst::Name(Ident {
                    name: prim.as_str().to_owned(),
                    span: span(&prim, off),
                }),
                // A parenthesised expression: recurse with a fresh collector.
                _ => {
                    let mut inner = P {
                        fast: self.fast,
                        src: self.src,
                        bytes: self.bytes,
                        diags: Vec::new(),
                        unparsed_fields: Vec::new(),
                        unparsed_items: Vec::new(),
                        scratch: Scratch::default(),
                    };
                    let e = inner.expr_with(pratt, prim, off);
                    diags.extend(inner.diags);
                    e
                }
            })
            .map_prefix(|op, rhs| {
                let sp = op.as_span().start() + off..rhs.span().end;
                ExprAst::Not(Box::new(rhs), sp)
            })
            .map_infix(|lhs, op, rhs| {
                let bin = match op.as_rule() {
                    Rule::or => BinOp::Or,
                    Rule::and => BinOp::And,
                    Rule::eq => BinOp::Eq,
                    Rule::ne => BinOp::Ne,
                    Rule::lt => BinOp::Lt,
                    Rule::le => BinOp::Le,
                    Rule::gt => BinOp::Gt,
                    Rule::ge => BinOp::Ge,
                    Rule::bor => BinOp::BitOr,
                    Rule::bxor => BinOp::BitXor,
                    Rule::band => BinOp::BitAnd,
                    Rule::shl => BinOp::Shl,
                    Rule::shr_op => BinOp::Shr,
                    Rule::add => BinOp::Add,
                    Rule::sub => BinOp::Sub,
                    _ => BinOp::Mul,
                };
                let sp = lhs.span().start..rhs.span().end;
                ExprAst::Binary(bin, Box::new(lhs), Box::new(rhs), sp)
            })
            .parse(p.into_inner());
        self.diags.extend(diags);
        e
    }

    fn source(&mut self, p: Pair<'_, Rule>, off: usize) -> SourceAst {
        // pest's span of `source` takes in the whitespace skipped while
        // looking for optional suffixes that are absent; end at the last part.
        let last_end = p
            .clone()
            .into_inner()
            .map(|q| q.as_span().end() + off)
            .max();
        let mut sp = span(&p, off);
        sp.end = last_end.unwrap_or(sp.end);
        let mut base = SourceBase::Const(Num {
            value: 0,
            span: sp.clone(),
        });
        let mut bits = None;
        let mut shr = None;
        let mut mask = None;
        for q in p.into_inner() {
            match q.as_rule() {
                Rule::cell_ref => {
                    if let Some(n) = q.into_inner().find(|n| n.as_rule() == Rule::number) {
                        base = SourceBase::Cell(self.num(&n, off));
                    }
                }
                Rule::property_ref => {
                    if let Some(s) = q.into_inner().find(|s| s.as_rule() == Rule::string) {
                        base = SourceBase::Property(self.string(&s, off));
                    }
                }
                Rule::master_property_ref => {
                    if let Some(s) = q.into_inner().find(|s| s.as_rule() == Rule::string) {
                        base = SourceBase::MasterProperty(self.string(&s, off));
                    }
                }
                Rule::number => base = SourceBase::Const(self.num(&q, off)),
                Rule::bit_sel => {
                    let bsp = span(&q, off);
                    let mut nums = q.into_inner();
                    if let Some(hi) = nums.next() {
                        let hi = self.num(&hi, off);
                        let lo = nums.next().map(|lo| self.num(&lo, off));
                        bits = Some(BitSel { hi, lo, span: bsp });
                    }
                }
                Rule::shr => shr = q.into_inner().next().map(|n| self.num(&n, off)),
                Rule::mask => mask = q.into_inner().next().map(|n| self.num(&n, off)),
                _ => {}
            }
        }
        SourceAst {
            base,
            bits,
            shr,
            mask,
            span: sp,
        }
    }
}

impl P<'_> {
    /// One target of `ignore`: `cell[N]` or `property "name"`, then an
    /// optional bit selection.
    fn ignored(&mut self, p: Pair<'_, Rule>, off: usize) -> IgnoreAst {
        // As for a source, end at the last part, not at skipped whitespace.
        let mut sp = span(&p, off);
        if let Some(end) = p
            .clone()
            .into_inner()
            .map(|q| q.as_span().end() + off)
            .max()
        {
            sp.end = end;
        }
        let mut word = WordAst::Cell(Num {
            value: 0,
            span: sp.clone(),
        });
        let mut bits = None;
        for q in p.into_inner() {
            match q.as_rule() {
                Rule::cell_ref => {
                    if let Some(n) = q.into_inner().find(|n| n.as_rule() == Rule::number) {
                        word = WordAst::Cell(self.num(&n, off));
                    }
                }
                Rule::property_ref => {
                    if let Some(s) = q.into_inner().find(|s| s.as_rule() == Rule::string) {
                        word = WordAst::Property(self.string(&s, off));
                    }
                }
                Rule::master_property_ref => {
                    if let Some(s) = q.into_inner().find(|s| s.as_rule() == Rule::string) {
                        word = WordAst::MasterProperty(self.string(&s, off));
                    }
                }
                Rule::bit_sel => {
                    let bsp = span(&q, off);
                    let mut nums = q.into_inner();
                    if let Some(hi) = nums.next() {
                        let hi = self.num(&hi, off);
                        let lo = nums.next().map(|lo| self.num(&lo, off));
                        bits = Some(BitSel { hi, lo, span: bsp });
                    }
                }
                _ => {}
            }
        }
        IgnoreAst {
            word,
            bits,
            span: sp,
        }
    }
}

/// Parsing one item of a given scope into its tree node.
trait ItemParser<T> {
    /// The fast path on the statement at `pos`: the item and where it ends.
    fn fast_item(&mut self, pos: usize, to: usize) -> Option<(T, usize)>;

    /// `Ok(Some)` parsed; `Ok(None)` dropped after a reported error;
    /// `Err(Some(pos))` reported and resume at `pos`; `Err(None)` reported.
    fn item(
        &mut self,
        scope: Scope,
        word: &str,
        keyword: Span,
        start: usize,
        piece: &Piece,
    ) -> Result<Option<T>, Option<usize>>;
}

impl<'a> ItemParser<Item> for P<'a> {
    fn fast_item(&mut self, pos: usize, to: usize) -> Option<(Item, usize)> {
        let (kind, span, keyword) = fast::stmt_at(self.src, pos, to)?;
        let end = span.end;
        Some((
            Item {
                kind,
                keyword,
                span,
            },
            end,
        ))
    }

    fn item(
        &mut self,
        _scope: Scope,
        word: &str,
        keyword: Span,
        start: usize,
        piece: &Piece,
    ) -> Result<Option<Item>, Option<usize>> {
        match (word, piece) {
            ("page-table" | "requests" | "dma", Piece::Block { open, close, .. }) => {
                // `Some(format)` for a page table, `None` for dma.
                let head: Option<Ident> = match self
                    .fast
                    .then(|| fast::block_head(self.src, start, open + 1))
                    .flatten()
                {
                    Some(h) => h,
                    None => {
                        let Ok(pair) = self.pest_or_resume(
                            Rule::block_head,
                            start,
                            open + 1,
                            "the block header",
                            &[],
                        ) else {
                            self.unparsed_items.push(Ident {
                                name: word.to_owned(),
                                span: keyword.clone(),
                            });
                            return Ok(None);
                        };
                        let pt = pair.into_inner().find(|p| p.as_rule() == Rule::pt_head);
                        pt.map(|p| {
                            p.into_inner()
                                .find(|w| w.as_rule() == Rule::word)
                                .map(|w| self.ident(&w, start))
                                .unwrap_or(Ident {
                                    name: String::new(),
                                    span: keyword.clone(),
                                })
                        })
                    }
                };
                let to = close.unwrap_or(self.bytes.len());
                if close.is_none() {
                    self.unclosed(*open, word);
                }
                let span = keyword.start..close.map_or(to, |c| c + 1);
                let kind = match head {
                    Some(format) => {
                        let (items, end) = self.body::<PtItem>(open + 1, to, Scope::PageTable);
                        if let BodyEnd::NextDriver(at) = end {
                            return Err(Some(at));
                        }
                        ItemKind::PageTable(PageTableAst {
                            format,
                            items,
                            requests: word == "requests",
                        })
                    }
                    None => {
                        let (items, end) = self.body::<DmaItem>(open + 1, to, Scope::Dma);
                        if let BodyEnd::NextDriver(at) = end {
                            return Err(Some(at));
                        }
                        ItemKind::Dma(items)
                    }
                };
                Ok(Some(Item {
                    kind,
                    keyword,
                    span,
                }))
            }
            ("page-table" | "requests" | "dma", Piece::Stmt { end, .. }) => {
                self.diags.push(
                    Diagnostic::new(
                        Code::Syntax,
                        format!("`{word}` needs a block in braces"),
                        keyword.start..*end,
                        "no `{` follows",
                    )
                    .help(if word == "dma" {
                        "write `dma { domain per-instance; }`"
                    } else if word == "requests" {
                        "write `requests virtio-iommu { granule 4K; ias 48; }`"
                    } else {
                        "write `page-table arm-lpae-s1 { granule 4K; ias 48; oas 48; pool 64; }`"
                    }),
                );
                Ok(None)
            }
            (_, piece) => {
                // A statement; a block here means a forgotten `;` before the next
                // item's braces, so parse up to the `{` and resume from pest's stop.
                let end = stmt_end(piece);
                if let Some((kind, span)) = self
                    .fast
                    .then(|| fast::stmt(self.src, start, end))
                    .flatten()
                {
                    return Ok(Some(Item {
                        kind,
                        keyword,
                        span,
                    }));
                }
                if self.too_deep_for_pest(word, &keyword, end) {
                    return Ok(None);
                }
                let pair = match self.pest_or_resume(
                    Rule::stmt,
                    start,
                    end,
                    "this statement",
                    DRIVER_ITEMS,
                ) {
                    Ok(pair) => pair,
                    Err(resume) => {
                        self.unparsed_items.push(Ident {
                            name: word.to_owned(),
                            span: keyword.clone(),
                        });
                        if word == "field" {
                            self.note_unparsed_field(keyword.end);
                        }
                        return Err(resume);
                    }
                };
                let item = pair.into_inner().find(|p| p.as_rule() != Rule::doc);
                Ok(item.map(|p| self.stmt(p, start, keyword)))
            }
        }
    }
}

impl<'a> P<'a> {
    /// Reports a `check` or `id` statement whose expression nests deeper
    /// than [`crate::depth::MAX_EXPR_DEPTH`] instead of handing it to pest
    /// (recursive descent: a deep enough item would overflow the stack).
    /// The fast reader gives up on exactly these, so both paths report it
    /// here, at the same place.
    fn too_deep_for_pest(&mut self, word: &str, keyword: &Span, end: usize) -> bool {
        if word != "check" && word != "id" {
            return false;
        }
        let Some(at) = crate::depth::scan_statement(self.src, keyword.end, end) else {
            return false;
        };
        self.diags.push(crate::depth::too_deep(at));
        self.unparsed_items.push(Ident {
            name: word.to_owned(),
            span: keyword.clone(),
        });
        true
    }

    /// Remembers the name after a broken `field` keyword, so that uses of the
    /// field do not also report "no field named".
    fn note_unparsed_field(&mut self, after_keyword: usize) {
        let start = skip_trivia(self.bytes, after_keyword);
        let (ws, we) = word_at(self.bytes, start);
        let name = &self.src[ws..we];
        if !name.is_empty() && !name.contains('-') {
            self.unparsed_fields.push(Ident {
                name: name.to_owned(),
                span: ws..we,
            });
        }
    }

    fn stmt(&mut self, p: Pair<'_, Rule>, off: usize, keyword: Span) -> Item {
        let sp = span(&p, off);
        let rule = p.as_rule();
        let mut inner = p.into_inner();
        let kind = match rule {
            Rule::compatible => ItemKind::Compatible(inner.map(|s| self.string(&s, off)).collect()),
            Rule::cells => ItemKind::Cells(inner.map(|n| self.num(&n, off)).collect()),
            Rule::field => {
                let name = inner.next().map(|n| self.ident(&n, off));
                let ty = inner.next();
                let width = ty.map(|t| Num {
                    value: t.as_str()[1..].parse().unwrap_or(u64::MAX),
                    span: span(&t, off),
                });
                let sources = inner
                    .filter(|s| s.as_rule() == Rule::source)
                    .map(|s| self.source(s, off))
                    .collect();
                ItemKind::Field(FieldAst {
                    name: name.unwrap_or(Ident {
                        name: String::new(),
                        span: sp.clone(),
                    }),
                    width: width.unwrap_or(Num {
                        value: 0,
                        span: sp.clone(),
                    }),
                    sources,
                })
            }
            Rule::ignore => ItemKind::Ignore(inner.map(|t| self.ignored(t, off)).collect()),
            Rule::allow => ItemKind::AllowMasters(inner.map(|s| self.string(&s, off)).collect()),
            Rule::deny => ItemKind::DenySocs(
                inner
                    .map(|d| {
                        let mut sp = span(&d, off);
                        let strings: Vec<Str> = d
                            .into_inner()
                            .filter(|s| s.as_rule() == Rule::string)
                            .map(|s| self.string(&s, off))
                            .collect();
                        // As for a source: end at the last string, not at
                        // whitespace skipped looking for `revision`.
                        if let Some(last) = strings.last() {
                            sp.end = last.span.end;
                        }
                        let mut strings = strings.into_iter();
                        let machine = strings.next().unwrap_or(Str {
                            value: String::new(),
                            span: sp.clone(),
                        });
                        DeniedSocAst {
                            machine,
                            revision: strings.next(),
                            span: sp,
                        }
                    })
                    .collect(),
            ),
            Rule::check => match inner.next() {
                Some(e) => ItemKind::Check(self.expr(e, off)),
                None => ItemKind::Pci,
            },
            Rule::child => {
                let mut compatibles = Vec::new();
                let mut field = None;
                let mut key = Vec::new();
                for q in inner {
                    match q.as_rule() {
                        Rule::string => compatibles.push(self.string(&q, off)),
                        Rule::ident => field = Some(self.ident(&q, off)),
                        Rule::source => key.push(self.source(q, off)),
                        _ => {}
                    }
                }
                ItemKind::Child(ChildAst {
                    compatibles,
                    field: field.unwrap_or(Ident {
                        name: String::new(),
                        span: sp.clone(),
                    }),
                    key,
                })
            }
            Rule::id_stmt => match inner.next() {
                Some(e) => ItemKind::Id(self.expr(e, off)),
                None => ItemKind::Pci,
            },
            Rule::main => {
                let name = inner
                    .next()
                    .and_then(|r| r.into_inner().find(|s| s.as_rule() == Rule::string))
                    .map(|s| self.string(&s, off));
                ItemKind::Main(name.unwrap_or(Str {
                    value: String::new(),
                    span: sp.clone(),
                }))
            }
            Rule::probe => {
                let rule =
                    inner.find(|p| matches!(p.as_rule(), Rule::probe_one | Rule::probe_same));
                match rule {
                    Some(r) if r.as_rule() == Rule::probe_same => {
                        let name = r
                            .into_inner()
                            .find(|p| p.as_rule() == Rule::ident)
                            .map(|p| self.ident(&p, off))
                            .unwrap_or(Ident {
                                name: String::new(),
                                span: sp.clone(),
                            });
                        ItemKind::Probe(ProbeAst::Same(name))
                    }
                    _ => ItemKind::Probe(ProbeAst::OneInstance),
                }
            }
            Rule::contexts => {
                let mut nums = inner
                    .filter(|n| n.as_rule() == Rule::number)
                    .map(|n| self.num(&n, off));
                let total = nums.next().unwrap_or(Num {
                    value: 0,
                    span: sp.clone(),
                });
                ItemKind::Contexts {
                    total,
                    reserved: nums.next(),
                }
            }
            Rule::init => {
                let segs = inner
                    .next()
                    .map(|path| path.into_inner().map(|s| self.ident(&s, off)).collect())
                    .unwrap_or_default();
                ItemKind::Init(segs)
            }
            _ => ItemKind::Pci,
        };
        Item {
            kind,
            keyword,
            span: sp,
        }
    }
}

impl<'a> ItemParser<PtItem> for P<'a> {
    fn fast_item(&mut self, pos: usize, to: usize) -> Option<(PtItem, usize)> {
        let (kind, span, keyword) = fast::pt_stmt_at(self.src, pos, to)?;
        let end = span.end;
        Some((
            PtItem {
                kind,
                keyword,
                span,
            },
            end,
        ))
    }

    fn item(
        &mut self,
        _scope: Scope,
        word: &str,
        keyword: Span,
        start: usize,
        piece: &Piece,
    ) -> Result<Option<PtItem>, Option<usize>> {
        let end = stmt_end(piece);
        let _ = word;
        if let Some((kind, span)) = self
            .fast
            .then(|| fast::pt_stmt(self.src, start, end))
            .flatten()
        {
            return Ok(Some(PtItem {
                kind,
                keyword,
                span,
            }));
        }
        let pair =
            self.pest_or_resume(Rule::pt_stmt, start, end, "`page-table`", PAGE_TABLE_ITEMS)?;
        let Some(p) = pair.into_inner().next() else {
            return Ok(None);
        };
        let sp = span(&p, start);
        let rule = p.as_rule();
        if rule == Rule::generation {
            let name = p.into_inner().next().map_or_else(
                || Ident {
                    name: String::new(),
                    span: sp.clone(),
                },
                |w| self.ident(&w, start),
            );
            return Ok(Some(PtItem {
                kind: PtKind::Generation(name),
                keyword,
                span: sp,
            }));
        }
        let nums: Vec<Num> = p.into_inner().map(|n| self.num(&n, start)).collect();
        let first = nums.first().cloned().unwrap_or(Num {
            value: 0,
            span: sp.clone(),
        });
        let kind = match rule {
            Rule::granule => PtKind::Granule(first),
            Rule::ias => PtKind::Ias(first),
            Rule::oas => PtKind::Oas(first),
            Rule::sizes => PtKind::Sizes(nums),
            Rule::pool => PtKind::Pool(first),
            Rule::version => PtKind::Version(first),
            Rule::mtk_ext => PtKind::MtkExt,
            _ => PtKind::CoherentWalk,
        };
        Ok(Some(PtItem {
            kind,
            keyword,
            span: sp,
        }))
    }
}

impl<'a> ItemParser<DmaItem> for P<'a> {
    fn fast_item(&mut self, pos: usize, to: usize) -> Option<(DmaItem, usize)> {
        let (kind, span, keyword) = fast::dma_stmt_at(self.src, pos, to)?;
        let end = span.end;
        Some((
            DmaItem {
                kind,
                keyword,
                span,
            },
            end,
        ))
    }

    fn item(
        &mut self,
        _scope: Scope,
        word: &str,
        keyword: Span,
        start: usize,
        piece: &Piece,
    ) -> Result<Option<DmaItem>, Option<usize>> {
        let end = stmt_end(piece);
        let _ = word;
        if let Some((kind, span)) = self
            .fast
            .then(|| fast::dma_stmt(self.src, start, end))
            .flatten()
        {
            return Ok(Some(DmaItem {
                kind,
                keyword,
                span,
            }));
        }
        let pair = self.pest_or_resume(Rule::dma_stmt, start, end, "`dma`", DMA_ITEMS)?;
        let Some(p) = pair.into_inner().next() else {
            return Ok(None);
        };
        let sp = span(&p, start);
        let empty = |sp: &Span| Ident {
            name: String::new(),
            span: sp.clone(),
        };
        let kind = match p.as_rule() {
            Rule::domain => {
                let w = p.into_inner().next();
                DmaKind::Domain(w.map(|w| self.ident(&w, start)).unwrap_or(empty(&sp)))
            }
            Rule::shared_domains => DmaKind::SharedDomains,
            Rule::default_ty => {
                let mut kind = empty(&sp);
                let mut compatibles = Vec::new();
                for q in p.into_inner() {
                    match q.as_rule() {
                        Rule::word => kind = self.ident(&q, start),
                        Rule::default_for => compatibles.extend(
                            q.into_inner()
                                .filter(|s| s.as_rule() == Rule::string)
                                .map(|s| self.string(&s, start)),
                        ),
                        _ => {}
                    }
                }
                DmaKind::Default { kind, compatibles }
            }
            Rule::group => {
                let mut name = empty(&sp);
                let mut aperture = None;
                let mut cond = ExprAst::Lit(Num {
                    value: 1,
                    span: sp.clone(),
                });
                for q in p.into_inner() {
                    match q.as_rule() {
                        Rule::ident => name = self.ident(&q, start),
                        Rule::group_range => {
                            let mut it = q.into_inner().map(|n| self.num(&n, start));
                            if let (Some(a), Some(b)) = (it.next(), it.next()) {
                                aperture = Some((a, b));
                            }
                        }
                        Rule::expr => cond = self.expr(q, start),
                        _ => {}
                    }
                }
                DmaKind::Group {
                    name,
                    aperture,
                    cond,
                }
            }
            _ => {
                let mut it = p.into_inner();
                let zero = Num {
                    value: 0,
                    span: sp.clone(),
                };
                let start_n = it
                    .next()
                    .map(|n| self.num(&n, start))
                    .unwrap_or(zero.clone());
                let end_n = it.next().map(|n| self.num(&n, start)).unwrap_or(zero);
                DmaKind::Aperture {
                    start: start_n,
                    end: end_n,
                }
            }
        };
        Ok(Some(DmaItem {
            kind,
            keyword,
            span: sp,
        }))
    }
}

fn span(p: &Pair<'_, Rule>, off: usize) -> Span {
    let s = p.as_span();
    s.start() + off..s.end() + off
}

/// Where a statement's text ends: its `;`, or, when braces follow (a `;`
/// forgotten before the next item's block), the `{`, so the statement is
/// parsed alone and pest's stop says where to resume.
fn stmt_end(piece: &Piece) -> usize {
    match piece {
        Piece::Stmt { end, .. } => *end,
        Piece::Block { open, .. } => *open,
    }
}

fn piece_end(piece: &Piece, len: usize) -> usize {
    match piece {
        Piece::Stmt { end, .. } => *end,
        Piece::Block { close, .. } => close.map_or(len, |c| c + 1),
    }
}

fn next_char_end(src: &str, at: usize) -> usize {
    src[at..].chars().next().map_or(at, |c| at + c.len_utf8())
}

fn word_at(bytes: &[u8], at: usize) -> (usize, usize) {
    let mut e = at;
    while e < bytes.len()
        && (bytes[e].is_ascii_alphanumeric() || bytes[e] == b'_' || bytes[e] == b'-')
    {
        e += 1;
    }
    (at, e)
}

fn push_unique(v: &mut Vec<String>, s: String) {
    if !v.contains(&s) {
        v.push(s);
    }
}

fn rule_description(r: Rule) -> Option<&'static str> {
    Some(match r {
        Rule::ident => "a name",
        Rule::word => "a name",
        Rule::number => "a number",
        Rule::string => "a string",
        Rule::ty => "a type such as `u16`",
        Rule::expr => "an expression",
        Rule::source => {
            "a source (`cell[N]`, `property \"name\"`, `master property \"name\"` or a number)"
        }
        Rule::doc => return None,
        Rule::EOI => "end of item",
        _ => return None,
    })
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

/// `4K`, `0x1000_0000`, `0b101`, `48`: the value, or `None` on overflow
/// (or on text that is not a number).
pub fn parse_number(text: &str) -> Option<u64> {
    let (body, scale) = match text.as_bytes().last() {
        Some(b'K') => (&text[..text.len() - 1], 1u64 << 10),
        Some(b'M') => (&text[..text.len() - 1], 1 << 20),
        Some(b'G') => (&text[..text.len() - 1], 1 << 30),
        Some(b'T') => (&text[..text.len() - 1], 1 << 40),
        _ => (text, 1),
    };
    let (digits, radix) = if let Some(hex) = body.strip_prefix("0x") {
        (hex, 16)
    } else if let Some(bin) = body.strip_prefix("0b") {
        (bin, 2)
    } else {
        (body, 10)
    };
    // Digit by digit, without building a separator-free copy.
    let mut value: u64 = 0;
    let mut any = false;
    for c in digits.chars() {
        if c == '_' {
            continue;
        }
        let d = c.to_digit(radix)?;
        value = value
            .checked_mul(u64::from(radix))?
            .checked_add(u64::from(d))?;
        any = true;
    }
    if !any {
        return None;
    }
    value.checked_mul(scale)
}

/// The closest keyword within a small edit distance, for "did you mean".
pub fn suggest<'k>(word: &str, candidates: &[&'k str]) -> Option<&'k str> {
    let limit = (word.len() / 3).max(1);
    candidates
        .iter()
        .map(|c| (edit_distance(word, c), *c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Edit distance counting a swap of neighbours as one edit (`feild`).
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = v;
        }
    }
    d[a.len()][b.len()]
}
