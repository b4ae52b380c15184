//! `ignore`: the bits of a cell or property the driver drops.
//!
//! The rule (issue 9): a bit of a word that fields read from is either read
//! by some field, declared dropped here, or refused at run time when set.
//! So a spec cannot truncate a cell by accident: `field x: u6 =
//! cell[0][5:0];` alone refuses `<&iommu 64>` instead of reading it as ID 0.
//! This module checks the `ignore` statements and lowers them; the refused
//! bits follow from the IR ([`ir::Driver::refused_cell_bits`]).

use super::fields::FieldInfo;
use super::Map;
use crate::ast::*;
use crate::diag::{Code, Diagnostic};
use crate::ir;

/// For each word fields read: which source first reads each bit, as at
/// most 32 entries `(bits it was first to read, field, source span)`.
/// Bounded per word, so every lookup below is constant time whatever the
/// number of fields or targets.
type Readers<'f> = Map<ir::Word, Vec<(u32, &'f str, &'f Span)>>;

fn readers<'f>(fields: &'f [FieldInfo<'_>]) -> Readers<'f> {
    let mut map: Readers<'f> = Map::default();
    for f in fields.iter().filter_map(|f| f.ir.as_ref()) {
        for s in &f.sources {
            let Some((word, bits)) = s.read() else {
                continue;
            };
            let span = match s {
                ir::Source::Cell { span, .. }
                | ir::Source::Property { span, .. }
                | ir::Source::MasterProperty { span, .. }
                | ir::Source::Const { span, .. } => span,
            };
            let entries = map.entry(word).or_default();
            let seen = entries.iter().fold(0, |m, e| m | e.0);
            let new = bits.mask() & !seen;
            if new != 0 {
                entries.push((new, f.name.as_str(), span));
            }
        }
    }
    map
}

/// Lowers every `ignore` target of `d`. Targets with errors are reported
/// and left out.
pub(super) fn dropped(
    d: &DriverAst,
    fields: &[FieldInfo<'_>],
    cells: Option<&ir::CellCount>,
    diags: &mut Vec<Diagnostic>,
) -> Vec<ir::DroppedBits> {
    let mut out: Vec<ir::DroppedBits> = Vec::new();
    let mut readers: Option<Readers<'_>> = None;
    // Per word, the indices in `out` of its targets: disjoint, so at most 32.
    let mut by_word: Map<ir::Word, Vec<usize>> = Map::default();
    for item in &d.items {
        let ItemKind::Ignore(targets) = &item.kind else {
            continue;
        };
        let readers = readers.get_or_insert_with(|| self::readers(fields));
        for t in targets {
            let Some(mask) = mask(t, diags) else { continue };
            let word = match &t.word {
                WordAst::Cell(n) => {
                    if !cell_exists(n, cells, diags) {
                        continue;
                    }
                    ir::Word::Cell(n.value as u32)
                }
                WordAst::Property(name) => {
                    let word = ir::Word::Property(name.value.clone());
                    if !readers.contains_key(&word) {
                        diags.push(unread_property(t, &word));
                        continue;
                    }
                    word
                }
                WordAst::MasterProperty(name) => {
                    let word = ir::Word::MasterProperty(name.value.clone());
                    if !readers.contains_key(&word) {
                        diags.push(unread_property(t, &word));
                        continue;
                    }
                    word
                }
            };
            if let Some(d) = read_overlap(t, &word, mask, readers) {
                diags.push(d);
                continue;
            }
            let earlier = by_word.entry(word).or_default();
            if let Some(first) = earlier
                .iter()
                .map(|&i| &out[i])
                .find(|o| o.mask & mask != 0)
            {
                let both = first.mask & mask;
                diags.push(
                    Diagnostic::new(
                        Code::IgnoreOverlap,
                        format!(
                            "{} of {} {} ignored twice",
                            bits_text(both),
                            word_text(&first.word),
                            if both.count_ones() == 1 { "is" } else { "are" }
                        ),
                        t.span.clone(),
                        "ignored again here",
                    )
                    .secondary(first.span.clone(), "first ignored here")
                    .help("name each dropped bit once"),
                );
                continue;
            }
            earlier.push(out.len());
            out.push(ir::DroppedBits {
                word: match &t.word {
                    WordAst::Cell(n) => ir::Word::Cell(n.value as u32),
                    WordAst::Property(p) => ir::Word::Property(p.value.clone()),
                    WordAst::MasterProperty(p) => ir::Word::MasterProperty(p.value.clone()),
                },
                mask,
                span: t.span.clone(),
            });
        }
    }
    out
}

/// The target's bits as a mask; `None` (reported) for a bad range.
fn mask(t: &IgnoreAst, diags: &mut Vec<Diagnostic>) -> Option<u32> {
    match &t.bits {
        None => Some(u32::MAX),
        Some(sel) => bit_range(sel, diags).map(|r| r.mask()),
    }
}

/// `[high:low]` (or `[bit]`) of a 32-bit cell; `None` (reported) for a
/// range beyond bit 31 or upside down. Shared by sources and `ignore`.
pub(super) fn bit_range(sel: &BitSel, diags: &mut Vec<Diagnostic>) -> Option<ir::BitRange> {
    let hi = sel.hi.value;
    let lo = sel.lo.as_ref().map_or(hi, |l| l.value);
    if hi > 31 || lo > hi {
        let what = if hi > 31 {
            format!("bit {hi} is beyond bit 31 of a 32-bit cell")
        } else {
            format!("`[{hi}:{lo}]` has its high bit below its low bit")
        };
        diags.push(
            Diagnostic::new(
                Code::BadBitRange,
                format!("bad bit range: {what}"),
                sel.span.clone(),
                "invalid range",
            )
            .help("write `[high:low]` with 31 >= high >= low >= 0"),
        );
        return None;
    }
    Some(ir::BitRange {
        lsb: lo as u8,
        width: (hi - lo + 1) as u8,
    })
}

fn cell_exists(n: &Num, cells: Option<&ir::CellCount>, diags: &mut Vec<Diagnostic>) -> bool {
    let Some(cells) = cells else { return true };
    if n.value < u64::from(cells.max()) {
        return true;
    }
    diags.push(
        Diagnostic::new(
            Code::CellOutOfRange,
            format!(
                "cell[{}] is beyond the declared cell count, so it has no bits to ignore",
                n.value
            ),
            n.span.clone(),
            "no such cell",
        )
        .secondary(cells.span.clone(), "cell count declared here")
        .help("ignore bits of a cell the specifier has"),
    );
    false
}

/// A dropped bit that a field reads would be both used and thrown away.
fn read_overlap(
    t: &IgnoreAst,
    word: &ir::Word,
    mask: u32,
    readers: &Readers<'_>,
) -> Option<Diagnostic> {
    let (first, field, span) = readers
        .get(word)?
        .iter()
        .find(|(bits, _, _)| bits & mask != 0)?;
    let both = first & mask;
    Some(
        Diagnostic::new(
            Code::IgnoreOverlap,
            format!(
                "`ignore` drops {} of {}, which field `{field}` reads",
                bits_text(both),
                word_text(word)
            ),
            t.span.clone(),
            "ignores bits a field reads",
        )
        .secondary((*span).clone(), format!("`{field}` reads them here"))
        .help("ignore only the bits no field reads"),
    )
}

fn unread_property(t: &IgnoreAst, word: &ir::Word) -> Diagnostic {
    Diagnostic::new(
        Code::IgnoreUnreadProperty,
        format!("`ignore` names {}, which no field reads", word_text(word)),
        t.span.clone(),
        "not a source of any field",
    )
    .help("a property is only read as a field's source; remove this target or fix its name")
}

/// E0203's way out. Most drivers refuse a value past what the hardware has
/// (Renesas IPMMU refuses a uTLB past its count): widen and `check`. Only
/// a driver that really drops the high bits should say so, with a bit range
/// and an `ignore` of the rest.
pub(super) fn too_narrow_help(src: &ir::Source, field: &str, width: u8, given: u8) -> String {
    let first = format!(
        "widen `{field}` to u{given} and add a `check` that refuses what the hardware lacks, e.g. `check {field} < {};`",
        1u64 << width
    );
    let (word, lsb) = match src {
        ir::Source::Cell { index, bits, .. } => (format!("cell[{index}]"), bits.lsb),
        ir::Source::Property { name, bits, .. } => (format!("property \"{name}\""), bits.lsb),
        ir::Source::MasterProperty { name, bits, .. } => {
            (format!("master property \"{name}\""), bits.lsb)
        }
        ir::Source::Const { .. } => return first,
    };
    let (lo, keep_hi, top) = (
        u32::from(lsb),
        u32::from(lsb) + u32::from(width) - 1,
        u32::from(lsb) + u32::from(given) - 1,
    );
    let ignored = if keep_hi + 1 == top {
        format!("{top}")
    } else {
        format!("{top}:{}", keep_hi + 1)
    };
    format!(
        "{first}; only if the driver really drops the high bits, select `{word}[{keep_hi}:{lo}]` and declare the rest dropped with `ignore {word}[{ignored}];`"
    )
}

/// `bit 5` or `bits 16 to 31` (of a run), or `bits 0x...` otherwise.
pub(crate) fn bits_text(mask: u32) -> String {
    if mask == 0 {
        return "no bits".to_owned();
    }
    let lo = mask.trailing_zeros();
    let hi = 31 - mask.leading_zeros();
    let run = (mask >> lo).count_ones() == hi - lo + 1;
    match (run, lo == hi) {
        (true, true) => format!("bit {lo}"),
        (true, false) => format!("bits {lo} to {hi}"),
        _ => format!("bits {mask:#x}"),
    }
}

/// `cell[0]` or `property "name"`, as the spec writes it.
pub(crate) fn word_text(word: &ir::Word) -> String {
    match word {
        ir::Word::Cell(i) => format!("cell[{i}]"),
        ir::Word::Property(p) => format!("property \"{p}\""),
        ir::Word::MasterProperty(p) => format!("master property \"{p}\""),
    }
}
