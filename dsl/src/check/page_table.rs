//! `page-table { }`: dispatch on the format, and the LPAE rules (the other
//! formats and `requests` are in `formats.rs`).

use iommugen_runtime::pgtable::legal::{lpae as rules, FormatName};

use super::errors_since;
use super::formats;
use super::geometry::{self as geo, size_text};
use super::pt_items::Items;
use crate::ast::*;
use crate::diag::{Code, Diagnostic};
use crate::ir::{self, Format, Granule};
use crate::parse::{suggest, PAGE_TABLE_ITEMS};

/// Items of an LPAE block.
const LPAE_ITEMS: &[&str] = &["granule", "ias", "oas", "sizes", "coherent-walk", "pool"];

/// A `page-table` or `requests` block, checked by its format's rules.
/// `report_missing` is false when the driver's text did not all parse: an
/// item the block lacks is then most likely the text that broke (already
/// reported), so "missing" errors are dropped.
pub(super) fn translation(
    pt: &PageTableAst,
    span: Span,
    report_missing: bool,
    diags: &mut Vec<Diagnostic>,
) -> Option<ir::Translation> {
    let mark = diags.len();
    let checked = checked_translation(pt, span, diags);
    if !report_missing {
        let tail = diags.split_off(mark);
        diags.extend(tail.into_iter().filter(|d| d.code != Code::MissingItem));
    }
    checked
}

fn checked_translation(
    pt: &PageTableAst,
    span: Span,
    diags: &mut Vec<Diagnostic>,
) -> Option<ir::Translation> {
    if pt.requests {
        return formats::requests(pt, span, diags).map(ir::Translation::Requests);
    }
    let name = pt.format.name.as_str();
    let known = FormatName::ALL.iter().find(|f| f.dsl_name() == name);
    let table = match known {
        Some(FormatName::ArmLpaeS1) => lpae(pt, Format::ArmLpaeS1, span, diags),
        Some(FormatName::ArmLpaeS2) => lpae(pt, Format::ArmLpaeS2, span, diags),
        Some(FormatName::ArmV7s) => formats::arm_v7s(pt, span, diags),
        Some(&other) => formats::table_format(pt, other, span, diags),
        None => {
            let names: Vec<&str> = FormatName::ALL.iter().map(|f| f.dsl_name()).collect();
            let help = match suggest(name, &names) {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!("supported formats: {}", names.join(", ")),
            };
            diags.push(
                Diagnostic::new(
                    Code::UnknownFormat,
                    format!("unknown page-table format `{name}`"),
                    pt.format.span.clone(),
                    "not a supported format",
                )
                .help(help),
            );
            // Still report items no format has.
            Items::new(pt, PAGE_TABLE_ITEMS, "a page table", diags);
            None
        }
    };
    table.map(ir::Translation::Tables)
}

/// VMSAv8-64 long descriptors at either stage.
fn lpae(
    pt: &PageTableAst,
    format: Format,
    span: Span,
    diags: &mut Vec<Diagnostic>,
) -> Option<ir::PageTable> {
    let mark = diags.len();
    let what = format!("the `{}` format", format.dsl_name());
    let items = Items::new(pt, LPAE_ITEMS, &what, diags);
    let format = Some(format);
    let granule_item = items.need("granule", "granule 4K;", diags);
    let ias_item = items.need("ias", "ias 48;", diags);
    let oas_item = items.need("oas", "oas 48;", diags);
    let pool_item = items.need("pool", "pool 64;", diags);
    let coherent_walk = items.find("coherent-walk").is_some();
    let find = |kw: &str| items.find(kw);

    let granule = match granule_item {
        Some(PtKind::Granule(n)) => match n.value {
            0x1000 => Some(Granule::K4),
            0x4000 => Some(Granule::K16),
            0x10000 => Some(Granule::K64),
            v => {
                diags.push(
                    Diagnostic::new(
                        Code::BadGranule,
                        format!(
                            "granule {} is not a VMSAv8-64 translation granule",
                            size_text(v)
                        ),
                        n.span.clone(),
                        "not 4K, 16K or 64K",
                    )
                    .help("the Arm architecture defines the 4K, 16K and 64K granules"),
                );
                None
            }
        },
        _ => None,
    };

    let oas = match oas_item {
        Some(PtKind::Oas(n)) => {
            if !rules::OUTPUT_SIZES.iter().any(|&o| u64::from(o) == n.value) {
                diags.push(
                    Diagnostic::new(
                        Code::BadOutputSize,
                        format!("output address size {} is not one the Arm architecture defines", n.value),
                        n.span.clone(),
                        "not an architected size",
                    )
                    .help("physical address sizes (PARange, SMMU OAS) are 32, 36, 40, 42, 44, 48 or 52 bits"),
                );
                None
            } else if n.value == 52 && granule.is_some_and(|g| g != Granule::K64) {
                diags.push(
                    Diagnostic::new(
                        Code::NeedsLpa2,
                        format!(
                            "a 52-bit output address with the {} granule needs FEAT_LPA2, which iommugen does not support",
                            size_text(granule.map_or(0, Granule::bytes))
                        ),
                        n.span.clone(),
                        "needs FEAT_LPA2",
                    )
                    .help("52-bit output addresses without LPA2 need the 64K granule (FEAT_LPA); use `granule 64K` or `oas 48`"),
                );
                None
            } else {
                Some(n.value as u32)
            }
        }
        _ => None,
    };

    let ias = match (ias_item, granule) {
        (Some(PtKind::Ias(n)), Some(g)) => ias_check(n, g, format, oas, diags),
        // Without a valid granule only the granule-independent bounds apply.
        (Some(PtKind::Ias(n)), None) if n.value < u64::from(rules::MIN_IAS) || n.value > 52 => {
            ias_check(n, Granule::K64, format, oas, diags)
        }
        _ => None,
    };

    // A walk that starts at level 3 has one table, the root; the engine's
    // pool hands out granule-sized tables, so that root must be exactly one.
    let ias = match (format, granule, ias, ias_item) {
        (Some(f), Some(g), Some(i), Some(PtKind::Ias(n)))
            if geo::start_level(f, g, i) == 3 && i - g.shift() != geo::bits_per_level(g) =>
        {
            let one = g.shift() + geo::bits_per_level(g);
            diags.push(
                Diagnostic::new(
                    Code::BadInputSize,
                    format!(
                        "a {i}-bit input with the {} granule is a one-level walk whose table is not one granule",
                        size_text(g.bytes())
                    ),
                    n.span.clone(),
                    "one-level walk",
                )
                .help(format!(
                    "the engine's table pool holds granule-sized tables only; use `ias {one}` (one full table) or an input size that needs two or more levels"
                )),
            );
            None
        }
        _ => ias,
    };
    let page_sizes = match (format, granule, ias, oas) {
        (Some(f), Some(g), Some(i), Some(o)) => match find("sizes") {
            Some(PtKind::Sizes(list)) => sizes(list, f, g, i, o, diags),
            _ => Some(geo::allowed_sizes(f, g, i, o)),
        },
        _ => None,
    };

    let pool = match pool_item {
        Some(PtKind::Pool(n)) => match (format, granule, ias) {
            (Some(f), Some(g), Some(i)) => {
                let walk = geo::tables_per_walk(f, g, i);
                if n.value < walk || n.value > u64::from(u32::MAX) {
                    let what = if n.value > u64::from(u32::MAX) {
                        "more than 2^32 - 1 tables".to_owned()
                    } else {
                        format!(
                            "too small: one walk of a {}-bit input with the {} granule touches {walk} tables",
                            i,
                            size_text(g.bytes())
                        )
                    };
                    diags.push(
                        Diagnostic::new(
                            Code::PoolTooSmall,
                            format!("page-table pool of {} tables is {what}", n.value),
                            n.span.clone(),
                            format!("at least {walk}"),
                        )
                        .help(format!(
                            "the pool must hold the root table(s) and one table per further level; use `pool {}` or more",
                            walk.max(64)
                        )),
                    );
                    None
                } else {
                    Some(n.value as u32)
                }
            }
            _ => None,
        },
        _ => None,
    };

    if errors_since(diags, mark) {
        return None;
    }
    Some(ir::PageTable {
        format: format?,
        granule: granule?,
        ias: ias? as u8,
        oas: oas? as u8,
        page_sizes: page_sizes?,
        coherent_walk,
        pool_tables: pool?,
        span,
    })
}

fn ias_check(
    n: &Num,
    g: Granule,
    format: Option<Format>,
    oas: Option<u32>,
    diags: &mut Vec<Diagnostic>,
) -> Option<u32> {
    let v = n.value;
    let problem = if v < u64::from(rules::MIN_IAS) {
        Some((
            Code::BadInputSize,
            format!("input address size {v} is below the 25-bit minimum"),
            "TnSZ is at most 39 without FEAT_TTST, so the input range is at least 25 bits"
                .to_owned(),
        ))
    } else if v > 52 {
        Some((
            Code::BadInputSize,
            format!("input address size {v} is above the 52-bit maximum"),
            "VMSAv8-64 input addresses are at most 52 bits".to_owned(),
        ))
    } else if v > u64::from(rules::max_ias(g.shift())) {
        Some((
            Code::NeedsLpa2,
            format!(
                "a {v}-bit input address with the {} granule needs FEAT_LPA2, which iommugen does not support",
                size_text(g.bytes())
            ),
            "inputs above 48 bits need the 64K granule (FEAT_LVA at stage 1, FEAT_LPA at stage 2), or use `ias 48`".to_owned(),
        ))
    } else if v > 48 && format == Some(Format::ArmLpaeS2) && oas.is_some_and(|o| o != 52) {
        Some((
            Code::BadInputSize,
            format!("a {v}-bit stage-2 input address needs a 52-bit output address"),
            "stage-2 inputs above 48 bits with the 64K granule come with FEAT_LPA; set `oas 52` or use `ias 48`".to_owned(),
        ))
    } else {
        None
    };
    match problem {
        Some((code, msg, help)) => {
            diags.push(Diagnostic::new(code, msg, n.span.clone(), "input address size").help(help));
            None
        }
        None => Some(v as u32),
    }
}

fn sizes(
    list: &[Num],
    f: Format,
    g: Granule,
    ias: u32,
    oas: u32,
    diags: &mut Vec<Diagnostic>,
) -> Option<Vec<u64>> {
    let mut ok = true;
    let mut out = Vec::with_capacity(list.len());
    for n in list {
        match geo::block_size_problem(f, g, ias, oas, n.value) {
            Some(why) => {
                ok = false;
                diags.push(
                    Diagnostic::new(
                        Code::BadBlockSize,
                        format!(
                            "the {} granule cannot map {} pages or blocks",
                            size_text(g.bytes()),
                            size_text(n.value)
                        ),
                        n.span.clone(),
                        "not a page or block size here",
                    )
                    .help(why),
                );
            }
            None => out.push(n.value),
        }
    }
    out.sort_unstable();
    out.dedup();
    if ok && !out.contains(&g.bytes()) {
        let span = list.first().map_or(0, |a| a.span.start)..list.last().map_or(0, |b| b.span.end);
        diags.push(
            Diagnostic::new(
                Code::SizesMissGranule,
                format!(
                    "page sizes leave out the {} granule itself",
                    size_text(g.bytes())
                ),
                span,
                format!("add {}", size_text(g.bytes())),
            )
            .help("every mapping ends in granule-sized pages at the last level; list the granule"),
        );
        ok = false;
    }
    ok.then_some(out)
}
