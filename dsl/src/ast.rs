//! The syntax tree: what a spec says, with the byte span of every piece.
//!
//! The tree keeps source positions and raw values (numbers as written, names
//! not yet resolved); [`crate::check`] decides what they mean. Every field is
//! public so that the `#[iommu_driver]` attribute can build the same tree from
//! Rust tokens (with synthetic spans) and run the same checker.

use core::fmt;

pub use crate::ir::{BinOp, Span};

/// One source file: its drivers in source order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SpecAst {
    pub drivers: Vec<DriverAst>,
}

/// `/// docs` `driver NAME { items }`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DriverAst {
    pub docs: Vec<String>,
    pub name: Ident,
    /// `driver NAME extends BASE { … }`: the driver takes BASE's contract
    /// (everything but its name, docs and compatibles) and adds its own
    /// compatibles; BASE is a driver defined above it in the same file.
    pub extends: Option<Ident>,
    pub items: Vec<Item>,
    /// Fields whose declaration did not parse (the parser already reported
    /// why). The checker lets expressions name them without a second error
    /// and produces no IR for the driver. Front ends other than the parser
    /// leave this empty.
    pub unparsed_fields: Vec<Ident>,
    /// Keywords of statements that did not parse (reported already); the
    /// checker does not call such an item missing.
    pub unparsed_items: Vec<Ident>,
    /// The parser reported an error inside this driver's text (a statement
    /// that did not parse, an unknown item, a missing `}`): the checker then
    /// does not report items the driver lacks. Other front ends: `false`.
    pub parse_errors: bool,
    pub span: Span,
}

/// A name as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

/// An integer literal, already scaled by its unit suffix (`4K` is 4096).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Num {
    pub value: u64,
    pub span: Span,
}

/// A string literal, unescaped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Str {
    pub value: String,
    pub span: Span,
}

/// One statement of a driver body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Item {
    pub kind: ItemKind,
    /// The leading keyword, for "repeated item" labels.
    pub keyword: Span,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ItemKind {
    /// `compatible "a", "b";`
    Compatible(Vec<Str>),
    /// `cells 1 | 2;`
    Cells(Vec<Num>),
    /// `field NAME: uN = SOURCE else SOURCE ...;`
    Field(FieldAst),
    /// `ignore cell[0][31:16], property "p"[31:16];`
    Ignore(Vec<IgnoreAst>),
    /// `check EXPR;`
    Check(ExprAst),
    /// `child "a", "b" where FIELD == SOURCE else SOURCE ...;`
    Child(ChildAst),
    /// `id = EXPR;`
    Id(ExprAst),
    /// `pci iommu-map;`
    Pci,
    /// `main property "NAME";`: an instance whose node has `NAME` (a
    /// phandle, maybe with cells) is a cache instance of a main one.
    Main(Str),
    /// `contexts N reserved K;`: each main instance has N translation
    /// contexts, the first K (none when left out) kept from domains.
    Contexts { total: Num, reserved: Option<Num> },
    /// `page-table FORMAT { ... }` or `requests PROTOCOL { ... }`
    PageTable(PageTableAst),
    /// `dma { ... }`
    Dma(Vec<DmaItem>),
    /// `init a::b::c;`
    Init(Vec<Ident>),
    /// `allow masters "ee100000.mmc", ...;`: the platform masters that may
    /// attach (PCI functions always may).
    AllowMasters(Vec<Str>),
    /// `deny soc "renesas,r8a7796", "renesas,r8a7795" revision "ES2.*";`
    DenySocs(Vec<DeniedSocAst>),
    /// `master one instance;` or `master same FIELD;`: a rule over all of
    /// a master's specifiers, checked after the last `of_xlate`.
    Probe(ProbeAst),
}

/// A probe-policy statement (`master ...;`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProbeAst {
    /// `master one instance;`: the master's specifiers name one instance
    /// of the driver.
    OneInstance,
    /// `master same FIELD;`: every ID of the master has the same value
    /// in FIELD.
    Same(Ident),
}

/// One entry of `deny soc`: a machine compatible and, optionally, the
/// chip revisions (a glob) it is limited to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeniedSocAst {
    pub machine: Str,
    pub revision: Option<Str>,
    pub span: Span,
}

impl ItemKind {
    /// The keyword that introduces this item, as the user writes it.
    pub fn keyword(&self) -> &'static str {
        match self {
            ItemKind::Compatible(_) => "compatible",
            ItemKind::Cells(_) => "cells",
            ItemKind::Field(_) => "field",
            ItemKind::Ignore(_) => "ignore",
            ItemKind::Check(_) => "check",
            ItemKind::Child(_) => "child",
            ItemKind::Id(_) => "id",
            ItemKind::Pci => "pci",
            ItemKind::Main(_) => "main",
            ItemKind::Contexts { .. } => "contexts",
            ItemKind::PageTable(pt) if pt.requests => "requests",
            ItemKind::PageTable(_) => "page-table",
            ItemKind::Dma(_) => "dma",
            ItemKind::Init(_) => "init",
            ItemKind::AllowMasters(_) => "allow",
            ItemKind::DenySocs(_) => "deny",
            ItemKind::Probe(_) => "master",
        }
    }
}

/// `field NAME: uWIDTH = sources[0] else sources[1] ...`
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldAst {
    pub name: Ident,
    /// The `N` of `uN`; its span covers the whole type.
    pub width: Num,
    pub sources: Vec<SourceAst>,
}

/// `child "COMPAT", … where FIELD == KEY else KEY …;`: the IOMMU node must
/// have an available child node compatible with one of the strings whose
/// key (the first of the sources the child has, each a property of the
/// child) equals the field (Qualcomm's context banks, `qcom_iommu`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChildAst {
    pub compatibles: Vec<Str>,
    /// The field the key must equal.
    pub field: Ident,
    /// Tried in order on each child; only `property "NAME"` sources are
    /// meaningful (the checker refuses the others).
    pub key: Vec<SourceAst>,
}

/// `BASE [hi:lo] >> shift & mask`, each suffix optional.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceAst {
    pub base: SourceBase,
    pub bits: Option<BitSel>,
    pub shr: Option<Num>,
    pub mask: Option<Num>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SourceBase {
    /// `cell[N]`
    Cell(Num),
    /// `property "name"`
    Property(Str),
    /// `master property "name"`: a `u32` property of the master's node.
    MasterProperty(Str),
    /// A constant.
    Const(Num),
}

/// One target of `ignore`: `cell[N]` or `property "name"`, then the bits
/// (`None`: all 32).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IgnoreAst {
    pub word: WordAst,
    pub bits: Option<BitSel>,
    pub span: Span,
}

/// A 32-bit word a field can read bits of.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WordAst {
    /// `cell[N]`
    Cell(Num),
    /// `property "name"`
    Property(Str),
    /// `master property "name"`
    MasterProperty(Str),
}

/// `[hi:lo]`, or `[bit]` (then `lo` is `None`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BitSel {
    pub hi: Num,
    pub lo: Option<Num>,
    pub span: Span,
}

/// `page-table FORMAT { items }`, or `requests PROTOCOL { items }` when the
/// IOMMU takes map/unmap requests instead of walking tables.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PageTableAst {
    pub format: Ident,
    pub items: Vec<PtItem>,
    /// Written as `requests`, not `page-table`.
    pub requests: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PtItem {
    pub kind: PtKind,
    pub keyword: Span,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PtKind {
    Granule(Num),
    Ias(Num),
    Oas(Num),
    Sizes(Vec<Num>),
    CoherentWalk,
    Pool(Num),
    /// `mtk-ext;` (arm-v7s): MediaTek's PA bits 32-34.
    MtkExt,
    /// `generation t8103;` (apple-dart).
    Generation(Ident),
    /// `version 2;` (rockchip, exynos-sysmmu).
    Version(Num),
}

impl PtKind {
    pub fn keyword(&self) -> &'static str {
        match self {
            PtKind::Granule(_) => "granule",
            PtKind::Ias(_) => "ias",
            PtKind::Oas(_) => "oas",
            PtKind::Sizes(_) => "sizes",
            PtKind::CoherentWalk => "coherent-walk",
            PtKind::Pool(_) => "pool",
            PtKind::MtkExt => "mtk-ext",
            PtKind::Generation(_) => "generation",
            PtKind::Version(_) => "version",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DmaItem {
    pub kind: DmaKind,
    pub keyword: Span,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DmaKind {
    /// `domain per-instance;` or `domain per-device;`
    Domain(Ident),
    /// `aperture START..END;` (half-open)
    Aperture { start: Num, end: Num },
    /// `group NAME [aperture START..END] where COND;`
    Group {
        name: Ident,
        aperture: Option<(Num, Num)>,
        cond: ExprAst,
    },
    /// `default identity [for compatible "..", ..];` or `default
    /// translated;`
    Default { kind: Ident, compatibles: Vec<Str> },
    /// `shared-domains;`
    SharedDomains,
}

impl DmaKind {
    pub fn keyword(&self) -> &'static str {
        match self {
            DmaKind::Domain(_) => "domain",
            DmaKind::Aperture { .. } => "aperture",
            DmaKind::Group { .. } => "group",
            DmaKind::Default { .. } => "default",
            DmaKind::SharedDomains => "shared-domains",
        }
    }
}

/// An expression over field names and literals.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExprAst {
    Name(Ident),
    Lit(Num),
    Not(Box<ExprAst>, Span),
    Binary(BinOp, Box<ExprAst>, Box<ExprAst>, Span),
}

impl ExprAst {
    pub fn span(&self) -> Span {
        match self {
            ExprAst::Name(i) => i.span.clone(),
            ExprAst::Lit(n) => n.span.clone(),
            ExprAst::Not(_, s) | ExprAst::Binary(_, _, _, s) => s.clone(),
        }
    }
}

/// Binding power of a binary operator, Rust's order (higher binds tighter).
pub fn precedence(op: BinOp) -> u8 {
    match op {
        BinOp::Or => 1,
        BinOp::And => 2,
        BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge | BinOp::Eq | BinOp::Ne => 3,
        BinOp::BitOr => 4,
        BinOp::BitXor => 5,
        BinOp::BitAnd => 6,
        BinOp::Shl | BinOp::Shr => 7,
        BinOp::Add | BinOp::Sub => 8,
        BinOp::Mul => 9,
    }
}

/// The operator as written.
pub fn op_text(op: BinOp) -> &'static str {
    match op {
        BinOp::Add => "+",
        BinOp::Sub => "-",
        BinOp::Mul => "*",
        BinOp::Shl => "<<",
        BinOp::Shr => ">>",
        BinOp::BitAnd => "&",
        BinOp::BitOr => "|",
        BinOp::BitXor => "^",
        BinOp::Lt => "<",
        BinOp::Le => "<=",
        BinOp::Gt => ">",
        BinOp::Ge => ">=",
        BinOp::Eq => "==",
        BinOp::Ne => "!=",
        BinOp::And => "&&",
        BinOp::Or => "||",
    }
}

/// Prints the expression with the fewest parentheses that keep its meaning;
/// used for [`crate::ir::Check::text`] so that trees built from Rust tokens
/// get the same text as trees parsed from a file.
impl fmt::Display for ExprAst {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_expr(self, f)
    }
}

/// The `Display` form of `e`, written straight into `out` (the checker
/// prints every `check` into its `String` without going through `write!`).
/// With an explicit stack: `Display` is public, and a tree built through
/// this API may be deeper than the parser allows.
pub(crate) fn write_expr(e: &ExprAst, out: &mut impl fmt::Write) -> fmt::Result {
    enum Task<'e> {
        /// A subtree, its parent's binding power, and whether it is the
        /// right operand.
        Expr(&'e ExprAst, u8, bool),
        Text(&'static str),
    }
    let mut todo = Vec::with_capacity(16);
    todo.push(Task::Expr(e, 0, false));
    while let Some(task) = todo.pop() {
        match task {
            Task::Text(t) => out.write_str(t)?,
            Task::Expr(ExprAst::Name(i), _, _) => out.write_str(&i.name)?,
            Task::Expr(ExprAst::Lit(n), _, _) => {
                out.write_str(literal_text(n.value, &mut [0; 18]))?
            }
            Task::Expr(ExprAst::Not(inner, _), _, _) => {
                out.write_str("!")?;
                todo.push(Task::Expr(inner, 10, false));
            }
            Task::Expr(ExprAst::Binary(op, l, r, _), parent, right) => {
                let p = precedence(*op);
                // Comparisons do not chain in Rust; parenthesise equal levels
                // on the right (left-associative operators).
                let paren = p < parent || (p == parent && right);
                if paren {
                    out.write_str("(")?;
                    todo.push(Task::Text(")"));
                }
                // Popped in reverse: left, ` op `, right.
                todo.push(Task::Expr(r, p, true));
                todo.push(Task::Text(" "));
                todo.push(Task::Text(op_text(*op)));
                todo.push(Task::Text(" "));
                todo.push(Task::Expr(l, p, false));
            }
        }
    }
    Ok(())
}

/// A literal as [`ExprAst`]'s `Display` prints it: decimal below `0x1000`,
/// else `0x` and lowercase hex digits (what `{}` and `{:#x}` give), written
/// into `buf` without the formatting machinery, which dominated the cost of
/// printing every `check` of a large file.
fn literal_text(mut v: u64, buf: &mut [u8; 18]) -> &str {
    let (radix, prefix): (u64, &[u8]) = if v >= 0x1000 { (16, b"0x") } else { (10, b"") };
    let mut at = buf.len();
    loop {
        at -= 1;
        buf[at] = b"0123456789abcdef"[(v % radix) as usize];
        v /= radix;
        if v == 0 {
            break;
        }
    }
    at -= prefix.len();
    buf[at..at + prefix.len()].copy_from_slice(prefix);
    // Only ASCII digits and `0x` were written.
    core::str::from_utf8(&buf[at..]).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A million levels print (and drop) on a 2 MiB test thread.
    #[test]
    fn printing_a_deep_tree_does_not_recurse() {
        let leaf = || {
            ExprAst::Lit(Num {
                value: 1,
                span: 0..0,
            })
        };
        let mut e = leaf();
        for _ in 0..1_000_000 {
            e = ExprAst::Binary(BinOp::Sub, Box::new(leaf()), Box::new(e), 0..0);
        }
        let text = e.to_string();
        assert!(text.starts_with("1 - (1 - (1 - "));
        assert_eq!(text.matches('(').count(), 999_999);
    }

    #[test]
    fn literals_print_like_the_std_formats() {
        for v in [0, 7, 10, 4095, 0x1000, 0xdead_beef, 1 << 32, u64::MAX] {
            let want = if v >= 0x1000 {
                format!("{v:#x}")
            } else {
                format!("{v}")
            };
            assert_eq!(literal_text(v, &mut [0; 18]), want);
        }
    }
}
