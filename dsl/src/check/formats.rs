//! The page-table formats other than LPAE, and `requests` blocks.
//!
//! Each format takes only the parameters it has; values come from the
//! runtime's `pgtable::legal` tables. The formats besides LPAE and ARMv7s
//! share one checker ([`table_format`]).

use iommugen_runtime::pgtable::legal::{self, FormatName};

use super::errors_since;
use super::geometry::size_text;
use super::pt_items::{bad, Items};
use crate::ast::*;
use crate::diag::{Code, Diagnostic};
use crate::ir::{self, Granule};
use crate::parse::suggest;

/// A format's fixed geometry: what its `granule`, `ias` and `sizes` may be.
struct Fixed {
    granule_shift: u32,
    ias: u32,
    sizes: u64,
}

/// `arm-v7s`: 4K pages, 32-bit IOVA, `oas` 32 (or up to 35 with `mtk-ext`).
pub(super) fn arm_v7s(
    pt: &PageTableAst,
    span: Span,
    diags: &mut Vec<Diagnostic>,
) -> Option<ir::PageTable> {
    use legal::arm_v7s as r;
    let mark = diags.len();
    let items = Items::new(
        pt,
        &[
            "granule",
            "ias",
            "oas",
            "sizes",
            "mtk-ext",
            "coherent-walk",
            "pool",
        ],
        "the `arm-v7s` format",
        diags,
    );
    let mtk_ext = items.find("mtk-ext").is_some();
    let ias = v7s_ias(&items, mtk_ext, diags);
    let fixed = Fixed {
        granule_shift: r::GRANULE_SHIFT,
        // The written value when refused, so the refusal is not repeated.
        ias: ias.unwrap_or_else(|| items.num("ias").map_or(r::IAS, |n| n.value as u32)),
        sizes: r::SIZES,
    };
    fixed_granule_and_ias(&items, &fixed, "arm-v7s", diags);
    let oas = match items.need("oas", "oas 32;", diags) {
        Some(PtKind::Oas(n)) => {
            let max = r::max_oas(mtk_ext);
            if n.value < u64::from(r::MIN_OAS) || n.value > u64::from(max) {
                let help = if !mtk_ext && n.value <= u64::from(r::max_oas(true)) && n.value > 32 {
                    "short descriptors hold 32-bit addresses; MediaTek M4Us keep PA bits 32-34 in spare descriptor bits: add `mtk-ext;` (Linux's IO_PGTABLE_QUIRK_ARM_MTK_EXT)".to_owned()
                } else {
                    format!(
                        "`arm-v7s` outputs {}..={} bits{}",
                        r::MIN_OAS,
                        max,
                        if mtk_ext { " with `mtk-ext`" } else { "" }
                    )
                };
                diags.push(bad(
                    Code::BadOutputSize,
                    n,
                    format!(
                        "output address size {} is not one `arm-v7s` can express",
                        n.value
                    ),
                    "output address size",
                    help,
                ));
                None
            } else {
                Some(n.value as u8)
            }
        }
        _ => None,
    };
    let page_sizes = sizes(&items, &fixed, "arm-v7s", diags);
    // Pool slots are 1K second-level tables; the first level takes 16 (64
    // at a 34-bit input).
    let walk = r::pool_min(ias.unwrap_or(r::IAS));
    let pool = pool(
        &items,
        walk,
        &format!(
            "the {}K first level ({} slots of 1K) and one 1K second-level table",
            walk - 1,
            walk - 1
        ),
        diags,
    );
    if errors_since(diags, mark) {
        return None;
    }
    Some(ir::PageTable {
        format: ir::Format::ArmV7s { mtk_ext },
        granule: Granule::K4,
        ias: ias? as u8,
        oas: oas?,
        page_sizes: page_sizes?,
        coherent_walk: items.find("coherent-walk").is_some(),
        pool_tables: pool?,
        span,
    })
}

/// `arm-v7s`'s `ias`: 32 (the default), or 34 with `mtk-ext` (MediaTek's
/// IOVA_34_EN). None after a diagnostic.
fn v7s_ias(items: &Items<'_>, mtk_ext: bool, diags: &mut Vec<Diagnostic>) -> Option<u32> {
    use legal::arm_v7s as r;
    let Some(n) = items.num("ias") else {
        return Some(r::IAS);
    };
    if n.value == u64::from(r::IAS) || (mtk_ext && n.value == u64::from(r::MTK_IAS)) {
        return Some(n.value as u32);
    }
    let help = if n.value == u64::from(r::MTK_IAS) {
        "a 34-bit IOVA is MediaTek's (Linux's IOVA_34_EN, with IO_PGTABLE_QUIRK_ARM_MTK_EXT): add `mtk-ext;`".to_owned()
    } else if mtk_ext {
        format!(
            "`arm-v7s` with `mtk-ext` takes `ias {}` or `ias {}`",
            r::IAS,
            r::MTK_IAS
        )
    } else {
        format!(
            "`arm-v7s` has `ias {}` only; write that or leave it out",
            r::IAS
        )
    };
    diags.push(bad(
        Code::BadInputSize,
        n,
        format!(
            "input address size {} is not one `arm-v7s` can express",
            n.value
        ),
        "input address size",
        help,
    ));
    None
}

/// What a format other than LPAE and ARMv7s has: its items, its fixed
/// geometry and the tables one walk needs.
struct Rules {
    allowed: &'static [&'static str],
    fixed: Fixed,
    pool_min: u64,
    pool_what: &'static str,
}

fn rules(f: FormatName) -> Rules {
    const WITH_GENERATION: &[&str] = &[
        "generation",
        "granule",
        "ias",
        "oas",
        "sizes",
        "coherent-walk",
        "pool",
    ];
    const WITH_VERSION: &[&str] = &[
        "version",
        "granule",
        "ias",
        "oas",
        "sizes",
        "coherent-walk",
        "pool",
    ];
    const PLAIN: &[&str] = &["granule", "ias", "oas", "sizes", "coherent-walk", "pool"];
    let fixed = |granule_shift, ias, sizes| Fixed {
        granule_shift,
        ias,
        sizes,
    };
    match f {
        FormatName::AppleDart => {
            use legal::apple_dart as r;
            Rules {
                allowed: WITH_GENERATION,
                fixed: fixed(r::GRANULE_SHIFT, r::IAS, r::SIZES),
                pool_min: r::POOL_MIN,
                pool_what: "the TTBR root tables and one leaf table",
            }
        }
        FormatName::Rockchip => {
            use legal::rockchip as r;
            Rules {
                allowed: WITH_VERSION,
                fixed: fixed(r::GRANULE_SHIFT, r::IAS, r::SIZES),
                pool_min: r::POOL_MIN,
                pool_what: "the directory and one page table",
            }
        }
        FormatName::ExynosSysmmu => {
            use legal::exynos_sysmmu as r;
            Rules {
                allowed: WITH_VERSION,
                fixed: fixed(r::GRANULE_SHIFT, r::IAS, r::SIZES),
                pool_min: r::POOL_MIN,
                pool_what: "the 16K first level (16 slots of 1K) and one 1K second-level table",
            }
        }
        FormatName::TegraSmmu => {
            use legal::tegra_smmu as r;
            Rules {
                allowed: WITH_GENERATION,
                fixed: fixed(r::GRANULE_SHIFT, r::IAS, r::SIZES),
                pool_min: r::POOL_MIN,
                pool_what: "the page directory and one page table",
            }
        }
        _ => {
            use legal::sun50i as r;
            Rules {
                allowed: PLAIN,
                fixed: fixed(r::GRANULE_SHIFT, r::IAS, r::SIZES),
                pool_min: r::POOL_MIN,
                pool_what: "the 16K directory (16 slots of 1K) and one 1K page table",
            }
        }
    }
}

/// The parameter that picks a format's variant.
#[derive(Clone, Copy)]
enum Variant {
    /// The format has none.
    Plain,
    /// `generation NAME;`: the index in the format's list.
    Generation(usize),
    /// `version N;`.
    Version(u64),
}

/// The variant a block names and the output size it implies, or `None`
/// after a located error.
fn variant(
    items: &Items<'_>,
    f: FormatName,
    diags: &mut Vec<Diagnostic>,
) -> Option<(Variant, u32)> {
    let name = f.dsl_name();
    match f {
        FormatName::AppleDart | FormatName::TegraSmmu => {
            let Some(PtKind::Generation(g)) = items.need(
                "generation",
                if f == FormatName::AppleDart {
                    "generation t8103;"
                } else {
                    "generation tegra124;"
                },
                diags,
            ) else {
                return None;
            };
            let (list, what, oas_of): (&[&str], &str, fn(usize) -> u32) =
                if f == FormatName::AppleDart {
                    (
                        &legal::apple_dart::GENERATIONS,
                        "DART",
                        legal::apple_dart::oas,
                    )
                } else {
                    (
                        &legal::tegra_smmu::GENERATIONS,
                        "Tegra SMMU",
                        legal::tegra_smmu::oas,
                    )
                };
            if let Some(i) = list.iter().position(|&n| n == g.name) {
                return Some((Variant::Generation(i), oas_of(i)));
            }
            let help = match suggest(&g.name, list) {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!("{what} generations: {}", list.join(", ")),
            };
            diags.push(
                Diagnostic::new(
                    Code::UnknownVariant,
                    format!("unknown {what} generation `{}`", g.name),
                    g.span.clone(),
                    "not a generation",
                )
                .help(help),
            );
            None
        }
        FormatName::Rockchip | FormatName::ExynosSysmmu => {
            let (oas_of, range): (fn(u64) -> u32, &str) = if f == FormatName::Rockchip {
                (legal::rockchip::oas, "1 (32-bit PA) or 2 (40-bit PA)")
            } else {
                (legal::exynos_sysmmu::oas, "1 to 7 (36-bit PA from 5 on)")
            };
            let Some(PtKind::Version(v)) = items.need("version", "version 1;", diags) else {
                return None;
            };
            match oas_of(v.value) {
                0 => {
                    diags.push(bad(
                        Code::UnknownVariant,
                        v,
                        format!("`{name}` has no version {}", v.value),
                        "not a version",
                        format!("versions: {range}"),
                    ));
                    None
                }
                oas => Some((Variant::Version(v.value), oas)),
            }
        }
        _ => Some((Variant::Plain, legal::sun50i::OAS)),
    }
}

/// Every format but LPAE and ARMv7s: the shared checks (items, fixed
/// granule and IAS, sizes, the variant and the output size it implies,
/// pool), then the IR.
pub(super) fn table_format(
    pt: &PageTableAst,
    f: FormatName,
    span: Span,
    diags: &mut Vec<Diagnostic>,
) -> Option<ir::PageTable> {
    let mark = diags.len();
    let r = rules(f);
    let name = f.dsl_name();
    let items = Items::new(pt, r.allowed, &format!("the `{name}` format"), diags);
    fixed_granule_and_ias(&items, &r.fixed, name, diags);
    let page_sizes = sizes(&items, &r.fixed, name, diags);
    let variant = variant(&items, f, diags);
    if let (Some((_, expected)), Some(n)) = (variant, items.num("oas")) {
        if n.value != u64::from(expected) {
            diags.push(bad(
                Code::BadOutputSize,
                n,
                format!(
                    "`{name}` here outputs {expected}-bit addresses, not {}",
                    n.value
                ),
                "output address size",
                format!("write `oas {expected};` or leave it out"),
            ));
        }
    }
    let pool = pool(&items, r.pool_min, r.pool_what, diags);
    if errors_since(diags, mark) {
        return None;
    }
    let (variant, oas) = variant?;
    let format = match (f, variant) {
        (FormatName::AppleDart, Variant::Generation(g)) => ir::Format::AppleDart {
            generation: match legal::apple_dart::number(g) {
                1 => ir::DartGeneration::T8103,
                _ => ir::DartGeneration::T6000,
            },
        },
        (FormatName::Rockchip, Variant::Version(v)) => ir::Format::Rockchip {
            version: u8::try_from(v).ok()?,
        },
        (FormatName::ExynosSysmmu, Variant::Version(v)) => ir::Format::ExynosSysmmu {
            version: u8::try_from(v).ok()?,
        },
        (FormatName::Sun50i, Variant::Plain) => ir::Format::Sun50i,
        (FormatName::TegraSmmu, Variant::Generation(g)) => ir::Format::TegraSmmu {
            generation: *ir::TegraGeneration::ALL.get(g)?,
        },
        // Every other pairing is refused by `variant` above.
        _ => return None,
    };
    let granule = match r.fixed.granule_shift {
        12 => Granule::K4,
        14 => Granule::K16,
        _ => Granule::K64,
    };
    Some(ir::PageTable {
        format,
        granule,
        ias: u8::try_from(r.fixed.ias).ok()?,
        oas: u8::try_from(oas).ok()?,
        page_sizes: page_sizes?,
        // DART walkers always snoop the CPU caches (the engine's DART
        // format is coherent whatever the spec says).
        coherent_walk: f == FormatName::AppleDart || items.find("coherent-walk").is_some(),
        pool_tables: pool?,
        span,
    })
}

/// `requests virtio-iommu { granule 4K; ias 48; sizes 4K 2M; }`.
pub(super) fn requests(
    pt: &PageTableAst,
    span: Span,
    diags: &mut Vec<Diagnostic>,
) -> Option<ir::HostRequests> {
    let mark = diags.len();
    let protocol = match pt.format.name.as_str() {
        "virtio-iommu" => Some(ir::Protocol::VirtioIommu),
        other => {
            let help = match suggest(other, &["virtio-iommu"]) {
                Some(s) => format!("did you mean `{s}`?"),
                None => "the protocol is `virtio-iommu`".to_owned(),
            };
            diags.push(
                Diagnostic::new(
                    Code::UnknownProtocol,
                    format!("unknown request protocol `{other}`"),
                    pt.format.span.clone(),
                    "not a protocol",
                )
                .help(help),
            );
            None
        }
    };
    let items = Items::new(
        pt,
        &["granule", "ias", "sizes"],
        "a `requests` block",
        diags,
    );
    let granule = match items.need("granule", "granule 4K;", diags) {
        Some(PtKind::Granule(n)) => match n.value {
            0x1000 => Some(Granule::K4),
            0x4000 => Some(Granule::K16),
            0x10000 => Some(Granule::K64),
            v => {
                diags.push(bad(
                    Code::BadGranule,
                    n,
                    format!("granule {} is not one a domain can use", size_text(v)),
                    "not 4K, 16K or 64K",
                    "the domain's pages are 4K, 16K or 64K (the device's page-size mask must include it)".to_owned(),
                ));
                None
            }
        },
        _ => None,
    };
    let ias = match items.need("ias", "ias 48;", diags) {
        Some(PtKind::Ias(n)) if n.value < 12 || n.value > 64 => {
            diags.push(bad(
                Code::BadInputSize,
                n,
                format!("input address size {} is outside 12..=64 bits", n.value),
                "input address size",
                "the device's input range is at most 64 bits and holds at least a page".to_owned(),
            ));
            None
        }
        Some(PtKind::Ias(n)) => Some(n.value as u8),
        _ => None,
    };
    let page_sizes = match (granule, ias) {
        (Some(g), Some(ias)) => match items.find("sizes") {
            Some(PtKind::Sizes(list)) => {
                let mut out = Vec::with_capacity(list.len());
                for n in list {
                    if !n.value.is_power_of_two()
                        || n.value < g.bytes()
                        || n.value.trailing_zeros() >= u32::from(ias)
                    {
                        diags.push(bad(
                            Code::BadBlockSize,
                            n,
                            format!("{} is not a request size for {} pages and a {ias}-bit input", size_text(n.value), size_text(g.bytes())),
                            "not a mapping size here",
                            "request sizes are powers of two, at least the granule and inside the input range".to_owned(),
                        ));
                    } else {
                        out.push(n.value);
                    }
                }
                out.sort_unstable();
                out.dedup();
                if !out.contains(&g.bytes()) && out.len() == list.len() {
                    out.insert(0, g.bytes());
                }
                Some(out)
            }
            _ => Some(vec![g.bytes()]),
        },
        _ => None,
    };
    if errors_since(diags, mark) {
        return None;
    }
    Some(ir::HostRequests {
        protocol: protocol?,
        granule: granule?,
        ias: ias?,
        page_sizes: page_sizes?,
        span,
    })
}

/// `granule` and `ias` may be left out; when given they must be the
/// format's only value.
fn fixed_granule_and_ias(items: &Items<'_>, f: &Fixed, name: &str, diags: &mut Vec<Diagnostic>) {
    for (kw, want, shown) in [
        (
            "granule",
            1u64 << f.granule_shift,
            size_text(1u64 << f.granule_shift),
        ),
        ("ias", u64::from(f.ias), f.ias.to_string()),
    ] {
        if let Some(n) = items.num(kw) {
            if n.value != want {
                let (code, what) = if kw == "granule" {
                    (Code::BadGranule, format!("granule {}", size_text(n.value)))
                } else {
                    (
                        Code::BadInputSize,
                        format!("input address size {}", n.value),
                    )
                };
                diags.push(bad(
                    code,
                    n,
                    format!("{what} is not one `{name}` can express"),
                    "fixed by the format",
                    format!("`{name}` has `{kw} {shown}` only; write that or leave it out"),
                ));
            }
        }
    }
}

/// `sizes` among the format's leaf sizes, always with the granule; all of
/// them when left out.
fn sizes(
    items: &Items<'_>,
    f: &Fixed,
    name: &str,
    diags: &mut Vec<Diagnostic>,
) -> Option<Vec<u64>> {
    let all: Vec<u64> = (0..64)
        .filter(|b| f.sizes & (1 << b) != 0)
        .map(|b| 1u64 << b)
        .collect();
    let Some(PtKind::Sizes(list)) = items.find("sizes") else {
        return Some(all);
    };
    let mut ok = true;
    let mut out = Vec::with_capacity(list.len());
    for n in list {
        if all.contains(&n.value) {
            out.push(n.value);
        } else {
            ok = false;
            let names: Vec<String> = all.iter().map(|&s| size_text(s)).collect();
            diags.push(bad(
                Code::BadBlockSize,
                n,
                format!("`{name}` cannot map {} pages or blocks", size_text(n.value)),
                "not a leaf size of this format",
                format!("its leaf sizes are {}", names.join(", ")),
            ));
        }
    }
    out.sort_unstable();
    out.dedup();
    let g = 1u64 << f.granule_shift;
    if ok && !out.contains(&g) {
        let span = list.first().map_or(0, |a| a.span.start)..list.last().map_or(0, |b| b.span.end);
        diags.push(
            Diagnostic::new(
                Code::SizesMissGranule,
                format!("page sizes leave out the {} page itself", size_text(g)),
                span,
                format!("add {}", size_text(g)),
            )
            .help("every mapping can end in smallest pages; list them"),
        );
        ok = false;
    }
    ok.then_some(out)
}

/// `pool N;`: at least one walk's tables (`walk`, described by `what`).
fn pool(items: &Items<'_>, walk: u64, what: &str, diags: &mut Vec<Diagnostic>) -> Option<u32> {
    let n = match items.need("pool", "pool 64;", diags) {
        Some(PtKind::Pool(n)) => n,
        _ => return None,
    };
    if n.value < walk || n.value > u64::from(u32::MAX) {
        diags.push(bad(
            Code::PoolTooSmall,
            n,
            format!(
                "page-table pool of {} tables cannot hold one walk ({what}) or is too large",
                n.value
            ),
            &format!("at least {walk}, at most 2^32 - 1"),
            format!("use `pool {}` or more", walk.max(16)),
        ));
        return None;
    }
    Some(n.value as u32)
}
