//! ID fields, checks and ID packing: the `of_xlate` half of a driver.

use super::Set;
use crate::ast::*;
use crate::diag::{Code, Diagnostic};
use crate::ir;
use crate::parse::suggest;

/// A declared field. Kept (with `ir: None`) even when it has errors, so that
/// expressions naming it do not report a second, misleading error.
pub(super) struct FieldInfo<'a> {
    pub name: &'a Ident,
    pub width: u8,
    pub span: Span,
    pub ir: Option<ir::Field>,
    /// False for names the parser could not read a declaration for.
    pub parsed: bool,
}

pub(super) fn fields<'a>(
    d: &'a DriverAst,
    cells: Option<&ir::CellCount>,
    diags: &mut Vec<Diagnostic>,
) -> Vec<FieldInfo<'a>> {
    let mut out: Vec<FieldInfo<'a>> = Vec::with_capacity(d.items.len() + d.unparsed_fields.len());
    for item in &d.items {
        let ItemKind::Field(f) = &item.kind else {
            continue;
        };
        if let Some(first) = out.iter().find(|x| x.name.name == f.name.name) {
            diags.push(
                Diagnostic::new(
                    Code::DuplicateField,
                    format!("field `{}` is declared twice", f.name.name),
                    f.name.span.clone(),
                    "declared again here",
                )
                .secondary(first.name.span.clone(), "first declared here")
                .help("give each field its own name"),
            );
            continue;
        }
        let mut ok = true;
        let width = if (1..=32).contains(&f.width.value) {
            f.width.value as u8
        } else {
            ok = false;
            diags.push(
                Diagnostic::new(
                    Code::BadFieldType,
                    format!(
                        "field `{}` has type u{}; fields are u1 to u32",
                        f.name.name, f.width.value
                    ),
                    f.width.span.clone(),
                    "not u1..u32",
                )
                .help("IDs are 32-bit values; pick a width from 1 to 32"),
            );
            32
        };
        let mut sources = Vec::with_capacity(f.sources.len());
        for s in &f.sources {
            match source(s, &f.name.name, width, cells, diags) {
                Some(src) => sources.push(src),
                None => ok = false,
            }
        }
        if ok {
            ok = always_available(f, &sources, cells, diags);
        }
        if ok {
            wider_than_bits(f, &sources, width, diags);
        }
        let ir = ok.then(|| ir::Field {
            name: f.name.name.clone(),
            width,
            sources,
            span: item.span.clone(),
        });
        out.push(FieldInfo {
            name: &f.name,
            width,
            span: item.span.clone(),
            ir,
            parsed: true,
        });
    }
    for name in &d.unparsed_fields {
        out.push(FieldInfo {
            name,
            width: 32,
            span: name.span.clone(),
            ir: None,
            parsed: false,
        });
    }
    out
}

pub(super) fn source(
    s: &SourceAst,
    field: &str,
    width: u8,
    cells: Option<&ir::CellCount>,
    diags: &mut Vec<Diagnostic>,
) -> Option<ir::Source> {
    let errors = diags.len();
    // Start with the whole 32-bit word and narrow it step by step.
    let mut bits = ir::BitRange::WHOLE;
    if let Some(sel) = &s.bits {
        if let Some(r) = super::bits::bit_range(sel, diags) {
            bits = r;
        }
    }
    if let Some(shr) = &s.shr {
        if shr.value >= u64::from(bits.width) {
            diags.push(
                Diagnostic::new(
                    Code::BadBitRange,
                    format!(
                        "shifting right by {} leaves none of the {} bits",
                        shr.value, bits.width
                    ),
                    shr.span.clone(),
                    "shift too large",
                )
                .help("shift by less than the width of the value"),
            );
        } else {
            bits.lsb += shr.value as u8;
            bits.width -= shr.value as u8;
        }
    }
    if let Some(mask) = &s.mask {
        let m = mask.value;
        if m == 0 || m > u64::from(u32::MAX) || m & (m + 1) != 0 {
            let mut d = Diagnostic::new(
                Code::BadMask,
                format!("mask {m:#x} is not a run of low bits"),
                mask.span.clone(),
                "not of the form 2^n - 1",
            );
            d = if m != 0
                && m <= u64::from(u32::MAX)
                && (m >> m.trailing_zeros()) & ((m >> m.trailing_zeros()) + 1) == 0
            {
                let lo = m.trailing_zeros();
                let hi = 63 - m.leading_zeros();
                d.help(format!(
                    "a field's value is shifted down to bit 0; select these bits with `[{hi}:{lo}]` instead"
                ))
            } else {
                d.help("masks select low bits after the shift, e.g. `>> 5 & 0x1f`; use a bit range for anything else")
            };
            diags.push(d);
        } else {
            bits.width = bits.width.min((64 - m.leading_zeros()) as u8);
        }
    }
    if diags.len() > errors {
        // The bit selection is broken; its width would only mislead.
        return None;
    }
    let (src, given) = match &s.base {
        SourceBase::Cell(index) => {
            if let Some(cells) = cells {
                let max = cells.max();
                if index.value >= u64::from(max) {
                    let allowed = cells
                        .allowed
                        .iter()
                        .map(u32::to_string)
                        .collect::<Vec<_>>()
                        .join(" | ");
                    let msg = if max == 0 {
                        format!(
                            "cell[{}] does not exist: this driver takes no cells (`cells 0`)",
                            index.value
                        )
                    } else {
                        format!(
                            "cell[{}] is beyond the declared cell count: `cells {allowed}` gives indices 0 to {}",
                            index.value,
                            max - 1
                        )
                    };
                    diags.push(
                        Diagnostic::new(
                            Code::CellOutOfRange,
                            msg,
                            index.span.clone(),
                            "no such cell",
                        )
                        .secondary(cells.span.clone(), "cell count declared here")
                        .help("use a smaller index, or allow more cells in `cells`"),
                    );
                }
            }
            (
                ir::Source::Cell {
                    index: index.value.min(u64::from(u32::MAX)) as u32,
                    bits,
                    span: s.span.clone(),
                },
                bits.width,
            )
        }
        SourceBase::Property(name) => (
            ir::Source::Property {
                name: name.value.clone(),
                bits,
                span: s.span.clone(),
            },
            bits.width,
        ),
        SourceBase::MasterProperty(name) => (
            ir::Source::MasterProperty {
                name: name.value.clone(),
                bits,
                span: s.span.clone(),
            },
            bits.width,
        ),
        SourceBase::Const(n) => {
            let value = if n.value > u64::from(u32::MAX) {
                None
            } else {
                Some(bits.extract(n.value as u32))
            };
            let needed = value.map_or(64 - n.value.leading_zeros(), |v| 32 - v.leading_zeros());
            if needed > u32::from(width) {
                diags.push(
                    Diagnostic::new(
                        Code::FieldTooNarrow,
                        format!(
                            "constant {:#x} needs {needed} bits but field `{field}` is u{width}",
                            n.value
                        ),
                        n.span.clone(),
                        "does not fit",
                    )
                    .help(format!("use a smaller constant or widen `{field}`")),
                );
                return None;
            }
            (
                ir::Source::Const {
                    value: value.unwrap_or(0),
                    span: s.span.clone(),
                },
                0,
            )
        }
    };
    if given > width {
        diags.push(
            Diagnostic::new(
                Code::FieldTooNarrow,
                format!("this source gives {given} bits but field `{field}` is u{width}"),
                s.span.clone(),
                format!("{given} bits wide"),
            )
            .help(super::bits::too_narrow_help(&src, field, width, given)),
        );
    }
    (diags.len() == errors).then_some(src)
}

/// A type wider than every cell and property source wastes ID bits, and packing places the
/// field by its type: `u32` from a 16-bit range would seem to overlap the
/// next field. Warn and name the width that fits.
fn wider_than_bits(f: &FieldAst, sources: &[ir::Source], width: u8, diags: &mut Vec<Diagnostic>) {
    // Constants are defaults; only what the device tree supplies sets the
    // width (a constant-only field is left as declared).
    let Some(widest) = sources
        .iter()
        .filter_map(|s| match s {
            ir::Source::Cell { bits, .. }
            | ir::Source::Property { bits, .. }
            | ir::Source::MasterProperty { bits, .. } => Some(u32::from(bits.width)),
            ir::Source::Const { .. } => None,
        })
        .max()
    else {
        return;
    };
    if widest < u32::from(width) {
        diags.push(
            Diagnostic::new(
                Code::FieldWiderThanBits,
                format!(
                    "field `{}` is u{width} but its sources give at most {widest} bits",
                    f.name.name
                ),
                f.width.span.clone(),
                format!("{} unused bits", u32::from(width) - widest),
            )
            .help(format!(
                "declare it `u{widest}`: IDs pack fields by their type's width"
            )),
        );
    }
}

/// The last source of a field must always exist, so the field always has a
/// value: a constant, or a cell every accepted cell count provides.
fn always_available(
    f: &FieldAst,
    sources: &[ir::Source],
    cells: Option<&ir::CellCount>,
    diags: &mut Vec<Diagnostic>,
) -> bool {
    let (Some(last), Some(cells)) = (sources.last(), cells) else {
        return true;
    };
    let min = cells.allowed.first().copied().unwrap_or(0);
    let why = match last {
        ir::Source::Const { .. } => return true,
        ir::Source::Cell { index, .. } if *index < min => return true,
        ir::Source::Cell { index, .. } => {
            format!("cell[{index}] is absent when `#iommu-cells` is {min}")
        }
        ir::Source::Property { name, .. } => format!("the IOMMU node may lack property \"{name}\""),
        ir::Source::MasterProperty { name, .. } => {
            format!("the master's node may lack property \"{name}\" (a PCI function has no node)")
        }
    };
    let span = f
        .sources
        .last()
        .map_or(f.name.span.clone(), |s| s.span.clone());
    diags.push(
        Diagnostic::new(
            Code::FieldMayBeMissing,
            format!("field `{}` may have no value: {why}", f.name.name),
            span,
            "may be absent",
        )
        .help("end the chain with a default that always exists, e.g. `else 0`"),
    );
    false
}

fn lower_expr(
    e: &ExprAst,
    fields: &[FieldInfo<'_>],
    diags: &mut Vec<Diagnostic>,
) -> Option<ir::Expr> {
    Some(match e {
        ExprAst::Name(id) => match fields.iter().position(|f| f.name.name == id.name) {
            Some(i) => ir::Expr::Field(i),
            None => {
                diags.push(unknown_field(id, fields));
                return None;
            }
        },
        ExprAst::Lit(n) => ir::Expr::Lit(n.value),
        ExprAst::Not(inner, _) => ir::Expr::Not(Box::new(lower_expr(inner, fields, diags)?)),
        ExprAst::Binary(op, l, r, _) => {
            let l = lower_expr(l, fields, diags);
            let r = lower_expr(r, fields, diags);
            ir::Expr::Binary(*op, Box::new(l?), Box::new(r?))
        }
    })
}

pub(super) fn unknown_field(id: &Ident, fields: &[FieldInfo<'_>]) -> Diagnostic {
    let names: Vec<&str> = fields.iter().map(|f| f.name.name.as_str()).collect();
    let help = match suggest(&id.name, &names) {
        Some(s) => format!("did you mean `{s}`?"),
        None if names.is_empty() => "declare it with `field NAME: uN = cell[0];`".to_owned(),
        None => format!("fields of this driver: {}", names.join(", ")),
    };
    Diagnostic::new(
        Code::UnknownField,
        format!("no field named `{}`", id.name),
        id.span.clone(),
        "not a field",
    )
    .help(help)
}

pub(super) fn checks(
    d: &DriverAst,
    fields: &[FieldInfo<'_>],
    diags: &mut Vec<Diagnostic>,
) -> Vec<ir::Check> {
    d.items
        .iter()
        .filter_map(|item| match &item.kind {
            ItemKind::Check(e) if refuse_too_deep(e, diags) => None,
            ItemKind::Check(e) => lower_expr(e, fields, diags).map(|expr| {
                // About as long as the statement it came from (`check` and
                // `;` leave room for added spaces): usually one allocation.
                let mut text = String::with_capacity(item.span.len());
                let _ = write_expr(e, &mut text);
                ir::Check {
                    expr,
                    text,
                    span: item.span.clone(),
                }
            }),
            _ => None,
        })
        .collect()
}

/// A group's condition: lowered, with its text (as a check's).
pub(super) fn condition(
    e: &ExprAst,
    fields: &[FieldInfo<'_>],
    diags: &mut Vec<Diagnostic>,
) -> Option<(ir::Expr, String)> {
    if refuse_too_deep(e, diags) {
        return None;
    }
    let expr = lower_expr(e, fields, diags)?;
    let mut text = String::new();
    let _ = write_expr(e, &mut text);
    Some((expr, text))
}

/// Reports an expression deeper than the language allows (only trees not
/// built by the parser can be), so the recursive passes never see one.
fn refuse_too_deep(e: &ExprAst, diags: &mut Vec<Diagnostic>) -> bool {
    match crate::depth::within_limit(e) {
        Ok(()) => false,
        Err(d) => {
            diags.push(d);
            true
        }
    }
}

/// `a << 16 | b` into its terms.
fn or_terms<'e>(e: &'e ExprAst, out: &mut Vec<&'e ExprAst>) {
    match e {
        ExprAst::Binary(BinOp::BitOr, l, r, _) => {
            or_terms(l, out);
            or_terms(r, out);
        }
        other => out.push(other),
    }
}

pub(super) fn ids(
    d: &DriverAst,
    fields: &[FieldInfo<'_>],
    diags: &mut Vec<Diagnostic>,
) -> Vec<ir::IdPacking> {
    let mut out = Vec::new();
    for item in &d.items {
        let ItemKind::Id(e) = &item.kind else {
            continue;
        };
        if refuse_too_deep(e, diags) {
            continue;
        }
        let mut terms = Vec::with_capacity(4);
        or_terms(e, &mut terms);
        let mut parts: Vec<(ir::PackPart, Span, u32, u32)> = Vec::with_capacity(terms.len());
        let mut ok = true;
        for t in terms {
            let (name, shift) = match t {
                ExprAst::Name(id) => (id, 0),
                ExprAst::Binary(BinOp::Shl, l, r, _) => match (&**l, &**r) {
                    (ExprAst::Name(id), ExprAst::Lit(n)) => (id, n.value),
                    _ => {
                        ok = false;
                        diags.push(bad_term(t));
                        continue;
                    }
                },
                _ => {
                    ok = false;
                    diags.push(bad_term(t));
                    continue;
                }
            };
            let Some(fi) = fields.iter().position(|f| f.name.name == name.name) else {
                ok = false;
                diags.push(unknown_field(name, fields));
                continue;
            };
            if !fields[fi].parsed {
                // Its declaration already failed to parse; nothing to add.
                ok = false;
                continue;
            }
            let width = u64::from(fields[fi].width);
            let (lo, hi) = (shift, shift.saturating_add(width - 1));
            if hi > 31 {
                ok = false;
                diags.push(
                    Diagnostic::new(
                        Code::PackOverflow,
                        format!(
                            "`{}` (u{width}) shifted by {shift} takes bits {lo} to {hi}, beyond bit 31 of the 32-bit ID",
                            name.name
                        ),
                        t.span(),
                        "overflows 32 bits",
                    )
                    .help("IDs kept per master are 32 bits; shift less or narrow the field"),
                );
                continue;
            }
            let (lo, hi) = (lo as u32, hi as u32);
            for (other, ospan, olo, ohi) in &parts {
                if lo <= *ohi && *olo <= hi {
                    ok = false;
                    diags.push(
                        Diagnostic::new(
                            Code::PackOverlap,
                            format!(
                                "`{}` (bits {lo} to {hi}) overlaps `{}` (bits {olo} to {ohi}) in the packed ID",
                                name.name, fields[other.field].name.name
                            ),
                            t.span(),
                            format!("bits {lo} to {hi}"),
                        )
                        .secondary(ospan.clone(), format!("bits {olo} to {ohi}"))
                        .help("shift one field past the other, e.g. `a << 16 | b` for two 16-bit fields"),
                    );
                }
            }
            parts.push((
                ir::PackPart {
                    field: fi,
                    shift: lo as u8,
                },
                t.span(),
                lo,
                hi,
            ));
        }
        if ok {
            out.push(ir::IdPacking {
                parts: parts.into_iter().map(|p| p.0).collect(),
                span: item.span.clone(),
            });
        }
    }
    out
}

fn bad_term(t: &ExprAst) -> Diagnostic {
    Diagnostic::new(
        Code::BadPacking,
        format!("`{t}` cannot be packed into an ID"),
        t.span(),
        "expected a field, or a field shifted left by a constant",
    )
    .help("an ID is fields OR-ed together, each optionally shifted: `id = mask << 16 | stream_id;`")
}

/// Fields no check and no ID mentions are dead weight: warn.
pub(super) fn unused(d: &DriverAst, fields: &[FieldInfo<'_>], diags: &mut Vec<Diagnostic>) {
    fn names<'e>(e: &'e ExprAst, out: &mut Set<&'e str>) {
        // Without recursion: this pass also sees trees too deep to lower.
        crate::depth::for_each_name(e, |i| {
            out.insert(&i.name);
        });
    }
    let mut used = Set::default();
    for item in &d.items {
        match &item.kind {
            ItemKind::Check(e) | ItemKind::Id(e) => names(e, &mut used),
            // A field a group tests sorts masters, so it is used.
            ItemKind::Dma(items) => {
                for i in items {
                    if let DmaKind::Group { cond, .. } = &i.kind {
                        names(cond, &mut used);
                    }
                }
            }
            // A field a child node's key must equal is checked, so used.
            ItemKind::Child(c) => {
                used.insert(c.field.name.as_str());
            }
            // Compared across a master's IDs: used.
            ItemKind::Probe(ProbeAst::Same(f)) => {
                used.insert(f.name.as_str());
            }
            _ => {}
        }
    }
    for f in fields.iter().filter(|f| f.parsed) {
        if !used.contains(f.name.name.as_str()) {
            diags.push(
                Diagnostic::new(
                    Code::UnusedField,
                    format!("field `{}` is never used", f.name.name),
                    f.name.span.clone(),
                    "not used by any `check` or `id`",
                )
                .help(format!(
                    "pack it into an ID (`id = {} ...;`), check it, or remove it",
                    f.name.name
                )),
            );
        }
    }
}

/// A PCI master's ID comes from `iommu-map` as a single cell, so every field
/// must have a source available with one cell.
pub(super) fn pci_one_cell(fields: &[FieldInfo<'_>], pci: Span, diags: &mut Vec<Diagnostic>) {
    for f in fields {
        let Some(ir) = &f.ir else { continue };
        let ok = ir.sources.iter().any(|s| match s {
            ir::Source::Cell { index, .. } => *index == 0,
            ir::Source::Const { .. } => true,
            ir::Source::Property { .. } | ir::Source::MasterProperty { .. } => false,
        });
        if !ok {
            diags.push(
                Diagnostic::new(
                    Code::PciNeedsOneCell,
                    format!(
                        "field `{}` has no value for a PCI master: `iommu-map` gives a single cell",
                        f.name.name
                    ),
                    f.span.clone(),
                    "needs cell[1] or later, or a property",
                )
                .secondary(pci.clone(), "PCI support declared here")
                .help("add a fallback the single mapped cell provides: `else cell[0]` or a constant `else 0`"),
            );
        }
    }
}
