//! The language's expression nesting limit, and everything that keeps deep
//! expressions from overflowing the stack.
//!
//! Every pass over an expression (the readers, lowering, the generator, the
//! `iommugen dt` interpreter, `syn` reading the generated code) recurses on
//! its shape. The limit bounds that recursion for every input, so no pass
//! needs an explicit stack; what the parser does not produce (trees built
//! through the public [`crate::ast`] API) is measured here without recursion
//! and refused with the same error. Freeing a tree never recurses at all
//! (the `Drop` impls below), whatever its depth.
//!
//! The *height* of an expression counts one level for each operator and each
//! pair of parentheses between the root and its deepest name or literal:
//! `a` is 0, `!a`, `(a)` and `a + b` are 1, `a + b + c` is 2 (operators
//! associate left, so a chain of `n` operators is `n` deep).

use crate::ast::{ExprAst, Span};
use crate::diag::{Code, Diagnostic};
use crate::ir;

/// The deepest expression the language accepts. Real conditions nest a
/// few levels. The tightest consumer is `syn`, which reads the generated
/// module to format it: in a debug build on a 2 MiB thread it overflowed
/// at about 80 levels of right-nested comparisons (`(a < (a < ...))`, the
/// heaviest shape measured), while at this limit such a shape is at most 32
/// comparisons deep (each also costs a pair of parentheses), and the shapes
/// that reach 64 in the IR (`!!!…a`, `a + a + …`) stayed fine past 128.
/// `codegen/tests/deep_checks.rs` generates each shape at the limit.
pub const MAX_EXPR_DEPTH: usize = 64;

/// The error for an expression deeper than [`MAX_EXPR_DEPTH`], at the token
/// (or node) where the nesting passes the limit.
pub fn too_deep(span: Span) -> Diagnostic {
    Diagnostic::new(
        Code::TooDeep,
        format!("expression nests more than {MAX_EXPR_DEPTH} levels deep"),
        span,
        format!("level {} starts here", MAX_EXPR_DEPTH + 1),
    )
    .help("split the condition into several `check` statements, or remove redundant parentheses")
}

/// The first node (depth first, left to right) deeper than the limit, if
/// the tree is too deep; visits at most the nodes above that level.
pub fn too_deep_node(e: &ExprAst) -> Option<&ExprAst> {
    let mut stack = vec![(e, 0usize)];
    while let Some((node, level)) = stack.pop() {
        if level > MAX_EXPR_DEPTH {
            return Some(node);
        }
        match node {
            ExprAst::Name(_) | ExprAst::Lit(_) => {}
            ExprAst::Not(inner, _) => stack.push((inner, level + 1)),
            ExprAst::Binary(_, l, r, _) => {
                stack.push((r, level + 1));
                stack.push((l, level + 1));
            }
        }
    }
    None
}

/// `Err` with the [`too_deep`] error if `e` is deeper than the limit.
pub(crate) fn within_limit(e: &ExprAst) -> Result<(), Diagnostic> {
    match too_deep_node(e) {
        Some(node) => Err(too_deep(node.span())),
        None => Ok(()),
    }
}

/// Whether an IR expression is deeper than [`MAX_EXPR_DEPTH`]: the checker
/// never produces one, but the IR is public, and the generator and the
/// interpreter recurse on it.
pub fn ir_too_deep(e: &ir::Expr) -> bool {
    let mut stack = vec![(e, 0usize)];
    while let Some((node, level)) = stack.pop() {
        if level > MAX_EXPR_DEPTH {
            return true;
        }
        match node {
            ir::Expr::Field(_) | ir::Expr::Lit(_) => {}
            ir::Expr::Not(inner) => stack.push((inner, level + 1)),
            ir::Expr::Binary(_, l, r) => {
                stack.push((r, level + 1));
                stack.push((l, level + 1));
            }
        }
    }
    false
}

/// Every name in `e`, left to right, without recursion.
pub(crate) fn for_each_name<'e>(e: &'e ExprAst, mut f: impl FnMut(&'e crate::ast::Ident)) {
    let mut stack = vec![e];
    while let Some(node) = stack.pop() {
        match node {
            ExprAst::Name(i) => f(i),
            ExprAst::Lit(_) => {}
            ExprAst::Not(inner, _) => stack.push(inner),
            ExprAst::Binary(_, l, r, _) => {
                stack.push(r);
                stack.push(l);
            }
        }
    }
}

/// A leaf left behind where a child was taken out (no allocation).
fn ast_leaf() -> ExprAst {
    ExprAst::Lit(crate::ast::Num {
        value: 0,
        span: 0..0,
    })
}

/// Frees a tree with an explicit stack: the derived drop recurses once per
/// level and a million-deep tree (which the public AST API can build)
/// would overflow. Subtrees of height one or less drop the plain way, so
/// typical conditions allocate nothing here.
impl Drop for ExprAst {
    fn drop(&mut self) {
        fn leaf(e: &ExprAst) -> bool {
            matches!(e, ExprAst::Name(_) | ExprAst::Lit(_))
        }
        /// Its drop recurses one level at most: no need to take it out.
        fn shallow(e: &ExprAst) -> bool {
            match e {
                ExprAst::Name(_) | ExprAst::Lit(_) => true,
                ExprAst::Not(inner, _) => leaf(inner),
                ExprAst::Binary(_, l, r, _) => leaf(l) && leaf(r),
            }
        }
        fn take(e: &mut ExprAst, out: &mut Vec<ExprAst>) {
            let mut grab = |child: &mut ExprAst| {
                if !shallow(child) {
                    out.push(core::mem::replace(child, ast_leaf()));
                }
            };
            match e {
                ExprAst::Name(_) | ExprAst::Lit(_) => {}
                ExprAst::Not(inner, _) => grab(inner),
                ExprAst::Binary(_, l, r, _) => {
                    grab(l);
                    grab(r);
                }
            }
        }
        let mut pending = Vec::new();
        take(self, &mut pending);
        while let Some(mut node) = pending.pop() {
            // Its children move to `pending`; `node` then drops flat.
            take(&mut node, &mut pending);
        }
    }
}

/// The IR's expressions are freed without recursion too (see the
/// [`ExprAst`] impl).
impl Drop for ir::Expr {
    fn drop(&mut self) {
        fn leaf(e: &ir::Expr) -> bool {
            matches!(e, ir::Expr::Field(_) | ir::Expr::Lit(_))
        }
        fn shallow(e: &ir::Expr) -> bool {
            match e {
                ir::Expr::Field(_) | ir::Expr::Lit(_) => true,
                ir::Expr::Not(inner) => leaf(inner),
                ir::Expr::Binary(_, l, r) => leaf(l) && leaf(r),
            }
        }
        fn take(e: &mut ir::Expr, out: &mut Vec<ir::Expr>) {
            let mut grab = |child: &mut ir::Expr| {
                if !shallow(child) {
                    out.push(core::mem::replace(child, ir::Expr::Lit(0)));
                }
            };
            match e {
                ir::Expr::Field(_) | ir::Expr::Lit(_) => {}
                ir::Expr::Not(inner) => grab(inner),
                ir::Expr::Binary(_, l, r) => {
                    grab(l);
                    grab(r);
                }
            }
        }
        let mut pending = Vec::new();
        take(self, &mut pending);
        while let Some(mut node) = pending.pop() {
            take(&mut node, &mut pending);
        }
    }
}

/// Binding power of an operator token of the expression grammar, or `None`.
fn binary_power(t: &[u8]) -> Option<u8> {
    let op = match t {
        b"||" => ir::BinOp::Or,
        b"&&" => ir::BinOp::And,
        b"==" => ir::BinOp::Eq,
        b"!=" => ir::BinOp::Ne,
        b"<" => ir::BinOp::Lt,
        b"<=" => ir::BinOp::Le,
        b">" => ir::BinOp::Gt,
        b">=" => ir::BinOp::Ge,
        b"|" => ir::BinOp::BitOr,
        b"^" => ir::BinOp::BitXor,
        b"&" => ir::BinOp::BitAnd,
        b"<<" => ir::BinOp::Shl,
        b">>" => ir::BinOp::Shr,
        b"+" => ir::BinOp::Add,
        b"-" => ir::BinOp::Sub,
        b"*" => ir::BinOp::Mul,
        _ => return None,
    };
    Some(crate::ast::precedence(op))
}

/// A pending construct of [`scan_statement`]: an open `(`, a `!`, or a
/// binary operator waiting for its right operand.
#[derive(Clone)]
enum Pending {
    Paren(Span),
    Not(Span),
    Binary(u8, Span),
}

/// The height measure of the expression grammar, as a shunting-yard pass
/// with explicit stacks (heights instead of nodes).
struct Measure {
    heights: Vec<usize>,
    pending: Vec<Pending>,
    want_operand: bool,
}

impl Measure {
    fn new() -> Self {
        Measure {
            heights: Vec::new(),
            pending: Vec::new(),
            want_operand: true,
        }
    }

    /// Starts over after text that is not an expression (the statement's
    /// keyword, `=`, a syntax error): what came before is measured.
    fn restart(&mut self) -> Result<(), Span> {
        self.finish()?;
        self.heights.clear();
        self.pending.clear();
        self.want_operand = true;
        Ok(())
    }

    fn push(&mut self, p: Pending) -> Result<(), Span> {
        // Every pending construct is an ancestor of what comes next.
        if self.pending.len() >= MAX_EXPR_DEPTH {
            return Err(match p {
                Pending::Paren(s) | Pending::Not(s) | Pending::Binary(_, s) => s,
            });
        }
        self.pending.push(p);
        Ok(())
    }

    fn node(&mut self, children: usize, at: Span) -> Result<(), Span> {
        let mut h = 0;
        for _ in 0..children {
            h = h.max(self.heights.pop().unwrap_or(0));
        }
        if h + 1 > MAX_EXPR_DEPTH {
            return Err(at);
        }
        self.heights.push(h + 1);
        Ok(())
    }

    /// Builds the pending operators that bind at least as tightly as `power`
    /// (all but open parentheses when `power` is 0).
    fn reduce(&mut self, power: u8) -> Result<(), Span> {
        while let Some(top) = self.pending.last().cloned() {
            match top {
                Pending::Not(at) => {
                    self.pending.pop();
                    self.node(1, at)?;
                }
                Pending::Binary(p, at) if p >= power => {
                    self.pending.pop();
                    self.node(2, at)?;
                }
                _ => break,
            }
        }
        Ok(())
    }

    fn finish(&mut self) -> Result<(), Span> {
        if !self.want_operand {
            self.reduce(0)?;
        }
        Ok(())
    }

    fn operand(&mut self) -> Result<(), Span> {
        if !self.want_operand {
            self.restart()?;
        }
        self.heights.push(0);
        self.want_operand = false;
        Ok(())
    }

    fn punct(&mut self, t: &[u8], at: Span) -> Result<(), Span> {
        match t {
            b"(" | b"!" => {
                if !self.want_operand {
                    self.restart()?;
                }
                self.push(if t == b"(" {
                    Pending::Paren(at)
                } else {
                    Pending::Not(at)
                })
            }
            b")" if !self.want_operand => {
                self.reduce(0)?;
                match self.pending.pop() {
                    Some(Pending::Paren(open)) => self.node(1, open),
                    _ => self.restart(),
                }
            }
            _ => match binary_power(t) {
                Some(p) if !self.want_operand => {
                    self.reduce(p)?;
                    self.push(Pending::Binary(p, at))?;
                    self.want_operand = true;
                    Ok(())
                }
                _ => self.restart(),
            },
        }
    }
}

/// Measures the expressions of the statement in `src[start..end]` without
/// recursion: `Some(span)` where one nests deeper than [`MAX_EXPR_DEPTH`].
///
/// The parser runs this before handing a `check` or `id` statement to pest,
/// whose recursive descent (and the Pratt pass over its output) must never
/// see more than the limit. Anything that is not expression syntax restarts
/// the measure, so the statement's keyword, `=` and syntax errors are
/// harmless; on a well-formed expression the answer is exact, which keeps it
/// in step with the fast reader (which gives up at the same depth).
pub(crate) fn scan_statement(src: &str, start: usize, end: usize) -> Option<Span> {
    let b = src.as_bytes();
    let end = end.min(b.len());
    let mut m = Measure::new();
    let mut i = start;
    let step = |m: &mut Measure, i: &mut usize| -> Result<(), Span> {
        let c = b[*i];
        let s = *i;
        if c.is_ascii_whitespace() {
            *i += 1;
        } else if b[s..end].starts_with(b"//") {
            while *i < end && b[*i] != b'\n' {
                *i += 1;
            }
        } else if b[s..end].starts_with(b"/*") {
            *i = b[s + 2..end]
                .windows(2)
                .position(|w| w == b"*/")
                .map_or(end, |p| s + 2 + p + 2);
        } else if c.is_ascii_alphanumeric() || c == b'_' {
            while *i < end && (b[*i].is_ascii_alphanumeric() || b[*i] == b'_') {
                *i += 1;
            }
            m.operand()?;
        } else if c == b'"' {
            *i += 1;
            while *i < end && b[*i] != b'"' && b[*i] != b'\n' {
                *i += if b[*i] == b'\\' { 2 } else { 1 };
            }
            *i = (*i + 1).min(end);
            m.restart()?;
        } else {
            let two = b.get(s..s + 2).filter(|_| s + 2 <= end);
            let len = match two {
                Some(t) if binary_power(t).is_some() => 2,
                _ => 1,
            };
            // A `!` before `=` is the operator `!=`, caught above.
            *i += len;
            m.punct(&b[s..s + len], s..s + len)?;
        }
        Ok(())
    };
    while i < end {
        if let Err(span) = step(&mut m, &mut i) {
            return Some(span);
        }
    }
    m.finish().err()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(s: &str) -> Option<Span> {
        scan_statement(s, 0, s.len())
    }

    #[test]
    fn measures_each_shape_exactly_at_the_limit() {
        let n = MAX_EXPR_DEPTH;
        let parens = format!("check {}a{};", "(".repeat(n), ")".repeat(n));
        let nots = format!("check {}a;", "!".repeat(n));
        let chain = format!("id = a{};", " + a".repeat(n));
        for ok in [&parens, &nots, &chain] {
            assert_eq!(scan(ok), None, "{ok}");
        }
        let parens = format!("check {}a{};", "(".repeat(n + 1), ")".repeat(n + 1));
        assert_eq!(scan(&parens), Some(6 + n..7 + n));
        let nots = format!("check {}a;", "!".repeat(n + 1));
        assert_eq!(scan(&nots), Some(6 + n..7 + n));
        let chain = format!("id = a{};", " + a".repeat(n + 1));
        let last_plus = 5 + 1 + 4 * n + 1;
        assert_eq!(scan(&chain), Some(last_plus..last_plus + 1));
    }

    #[test]
    fn precedence_levels_count_as_nesting() {
        // `a || b && c` is `||` over `&&`: 2 deep.
        let n = MAX_EXPR_DEPTH / 2;
        let ok = format!("check {}a{};", "(a || a && ".repeat(n), ")".repeat(n));
        assert!(scan(&ok).is_some(), "3 levels per group passes the limit");
        let ok = format!("check {}a{};", "(a || ".repeat(n), ")".repeat(n));
        assert_eq!(scan(&ok), None);
    }
}
