//! `iommugen dt --lint`: mistakes in a tree that the boot flow accepts (or
//! only half-notices) but that make Linux do something the board's author
//! probably did not mean. Each warning has a stable code:
//!
//! | code | finding |
//! |---|---|
//! | `dt::W0310` | an IOMMU's `#iommu-cells` is one no matching spec's `cells` allows |
//! | `dt::W0311` | one master gives the same ID twice to one IOMMU |
//! | `dt::W0312` | an `iommu-map` entry overlaps an earlier one (first match wins) |
//! | `dt::W0313` | `iommu-map-mask` folds distinct requester IDs onto one ID |
//! | `dt::W0314` | a master (or `iommu-map` entry) points at a disabled IOMMU |
//! | `dt::W0315` | a specifier sets bits its driver's spec drops (`ignore`) |
//! | `dt::W0316` | a bus's `dma-ranges` leave memory out of direct-DMA masters' reach (`lint/dma.rs`) |
//! | `dt::W0317` | a `dma-ranges` entry reaches parent addresses the parent's window does not cover (`lint/dma.rs`) |
//! | `dt::W0318` | a master needs more IOMMUs or IDs than the default fwspec holds (`lint/fwspec.rs`) |
//! | `dt::W0319` | a master's `iommus` names IOMMUs of more than one driver (`lint/fwspec.rs`) |
//! | `dt::W0320` | a cache instance's `main` property (`renesas,ipmmu-main`) does not name the main instance Linux uses |
//! | `dt::W0321` | an instance's masters need more domains than it has translation contexts (`contexts`; `contexts.rs`) |

use iommugen_dsl::ir::Word;
use iommugen_runtime::fdt::{DeviceTree, Fdt, Node, NodeEntry, PhandleEntry};

use iommugen_runtime::instances;

use super::report::{path_of, DtError, Report, TreeDiagnostic};
use super::Drivers;

mod dma;
mod fwspec;

/// A warning about `node`'s `property` (the node path as the report
/// names it, for [`Report::locate`]).
fn warning(
    code: &'static str,
    (node, property): (&str, &'static str),
    message: String,
    help: &str,
) -> TreeDiagnostic {
    TreeDiagnostic::about("warning", code, node, Some(property), message).help(help)
}

/// The lint warnings for `blob`, given the drivers and the report
/// [`super::run`] made of it (duplicate IDs are read from the report's
/// fwspecs, so they are what the drivers really stored).
pub fn lint(
    blob: &[u8],
    drivers: &Drivers,
    report: &Report,
) -> Result<Vec<TreeDiagnostic>, DtError> {
    let fdt = Fdt::new(blob)?;
    let (n, p) = DeviceTree::measure(&fdt)?;
    let mut nodes = vec![NodeEntry::EMPTY; n];
    let mut phandles = vec![PhandleEntry::EMPTY; p];
    let tree = DeviceTree::new(fdt, &mut nodes, &mut phandles)?;
    let mut out = Vec::new();
    for node in tree.nodes() {
        cell_count(node, drivers, &mut out);
        disabled_targets(node, &mut out);
        iommu_map(node, &mut out);
        dma::parent_window(node, &mut out);
    }
    dma::uncovered_memory(tree, report, &mut out);
    duplicate_ids(report, &mut out);
    dropped_bits(report, drivers, &mut out);
    fwspec::capacity_and_drivers(report, drivers, &mut out);
    main_phandles(&tree, report, drivers, &mut out);
    super::contexts::lint(report, &mut out);
    Ok(out)
}

/// W0310: the specs that name one of the node's compatibles, and none of
/// them accepts its `#iommu-cells` (a disabled IOMMU is never initialised,
/// so the boot flow alone would not notice).
fn cell_count(node: Node<'_>, drivers: &Drivers, out: &mut Vec<TreeDiagnostic>) {
    let Some(cells) = node.u32_property("#iommu-cells") else {
        return;
    };
    let compatibles: Vec<&[u8]> = node
        .property("compatible")
        .map(|p| p.strings().collect())
        .unwrap_or_default();
    let matching: Vec<_> = drivers
        .drivers()
        .iter()
        .filter(|d| {
            d.ir.compatibles
                .iter()
                .any(|c| compatibles.contains(&c.as_bytes()))
        })
        .collect();
    if matching.is_empty() || matching.iter().any(|d| d.ir.cells.accepts(cells)) {
        return;
    }
    let allowed: Vec<String> = matching
        .iter()
        .map(|d| {
            let counts: Vec<String> = d.ir.cells.allowed.iter().map(u32::to_string).collect();
            format!("{} allows {}", d.ir.name, counts.join(" | "))
        })
        .collect();
    out.push(warning(
        "dt::W0310",
        (&path_of(node), "#iommu-cells"),
        format!(
            "{}: #iommu-cells = <{cells}> is not one any matching spec allows ({})",
            path_of(node),
            allowed.join("; ")
        ),
        "fix #iommu-cells to the binding's value, or the spec's `cells`",
    ));
}

/// W0320: a cache instance's `main` property names a node other than the
/// main instance Linux's IPMMU driver uses (dangling, another family's,
/// a cache, disabled). Linux reads only the property's presence and takes
/// whichever main IPMMU probed, so the board boots, but the tree says
/// something else than it does.
fn main_phandles(
    tree: &DeviceTree<'_>,
    report: &Report,
    drivers: &Drivers,
    out: &mut Vec<TreeDiagnostic>,
) {
    for i in report.iommus.iter().filter(|i| i.cache) {
        let Some(main) = &i.main else {
            // No main instance at all: an init error already says so.
            continue;
        };
        let Some(property) = drivers
            .drivers()
            .iter()
            .find(|d| i.driver.as_deref() == Some(d.ir.name.as_str()))
            .and_then(|d| d.main_property())
        else {
            continue;
        };
        let Some(node) = tree.find_path(&i.path) else {
            continue;
        };
        let named = match instances::named_main(node, property) {
            Some(Ok(n)) => path_of(n),
            Some(Err(_)) => "no node".to_owned(),
            None => continue,
        };
        if named == *main {
            continue;
        }
        out.push(warning(
            "dt::W0320",
            (&i.path, property),
            format!(
                "{}: {property} names {named}, but the main instance Linux uses is {main}",
                i.path
            ),
            "point the phandle at the family's main instance (Linux does not read it, the binding does)",
        ));
    }
}

/// W0314: `iommus` entries and `iommu-map` targets that are disabled
/// IOMMUs: Linux's of_iommu_xlate returns -ENODEV and the device runs
/// untranslated, silently.
fn disabled_targets(node: Node<'_>, out: &mut Vec<TreeDiagnostic>) {
    if !node.is_available() {
        return;
    }
    let tree = node.tree();
    let mut named = Vec::new();
    if let Some(mut rest) = node.property("iommus").and_then(|p| p.cells()) {
        while let Some(phandle) = rest.get(0) {
            let Some((_, after)) = rest.split(1) else {
                break;
            };
            rest = after;
            if phandle == 0 {
                continue;
            }
            let Ok(iommu) = tree.by_phandle(phandle) else {
                break;
            };
            let Some(count) = iommu.u32_property("#iommu-cells") else {
                break;
            };
            let Some((_, after)) = rest.split(count as usize) else {
                break;
            };
            rest = after;
            named.push(("iommus", iommu));
        }
    }
    for entry in map_entries(node) {
        if let Ok(iommu) = tree.by_phandle(entry.phandle) {
            named.push(("iommu-map", iommu));
        }
    }
    let mut seen = Vec::new();
    for (property, iommu) in named {
        if iommu.is_available() || seen.contains(&iommu.id()) {
            continue;
        }
        seen.push(iommu.id());
        out.push(warning(
            "dt::W0314",
            (&path_of(node), property),
            format!(
                "{}: {property} points at disabled IOMMU {}: {}",
                path_of(node),
                path_of(iommu),
                if property == "iommus" {
                    "its DMA runs untranslated"
                } else {
                    "the requesters mapped there run untranslated"
                }
            ),
            "enable the IOMMU, or drop the reference if bypass is intended",
        ));
    }
}

/// One `<rid-base phandle id-base length>` entry.
struct MapEntry {
    base: u32,
    phandle: u32,
    len: u32,
}

fn map_entries(node: Node<'_>) -> Vec<MapEntry> {
    let Some(cells) = node.property("iommu-map").and_then(|p| p.cells()) else {
        return vec![];
    };
    let cell = |i: usize| cells.get(i).unwrap_or(0);
    (0..cells.len() / 4)
        .map(|e| MapEntry {
            base: cell(e * 4),
            phandle: cell(e * 4 + 1),
            len: cell(e * 4 + 3),
        })
        .collect()
}

/// W0312 and W0313 for a host bridge's `iommu-map`.
fn iommu_map(node: Node<'_>, out: &mut Vec<TreeDiagnostic>) {
    let entries = map_entries(node);
    if entries.is_empty() {
        return;
    }
    let path = path_of(node);
    // of_map_id takes the first entry covering the masked RID, so a later
    // entry's overlapped RIDs never reach it.
    for (i, later) in entries.iter().enumerate() {
        let (lo, hi) = span(later);
        for (j, earlier) in entries[..i].iter().enumerate() {
            let (elo, ehi) = span(earlier);
            let (olo, ohi) = (lo.max(elo), hi.min(ehi));
            if olo < ohi {
                out.push(warning(
                    "dt::W0312",
                    (&path, "iommu-map"),
                    format!(
                        "{path}: iommu-map entry {i} (RIDs {lo:#x}-{:#x}) overlaps entry {j}: \
                         RIDs {olo:#x}-{:#x} take entry {j} (the first match wins){}",
                        hi - 1,
                        ohi - 1,
                        if olo == lo && ohi == hi {
                            format!("; entry {i} is never used")
                        } else {
                            String::new()
                        }
                    ),
                    "make the entries' RID ranges disjoint",
                ));
                break;
            }
        }
    }
    if let Some(mask) = node.u32_property("iommu-map-mask") {
        // Requester IDs are 16 bits (bus, device, function).
        let folded = !mask & 0xffff;
        if folded != 0 {
            out.push(warning(
                "dt::W0313",
                (&path, "iommu-map-mask"),
                format!(
                    "{path}: iommu-map-mask {mask:#x} folds requester IDs that differ only in \
                     bits {folded:#x} onto one ID: those functions share one translation"
                ),
                "intended when those functions must share a stream; else widen the mask",
            ));
        }
    }
}

/// `[base, base + len)` as 64-bit bounds (no overflow at 2^32).
fn span(e: &MapEntry) -> (u64, u64) {
    let lo = u64::from(e.base);
    (lo, lo + u64::from(e.len))
}

/// W0311: one master, one IOMMU, the same ID twice: redundant at best, and
/// some Linux versions' arm-smmu-v3 refuse the master ("stream N already
/// in tree").
fn duplicate_ids(report: &Report, out: &mut Vec<TreeDiagnostic>) {
    for m in &report.masters {
        for (iommu, ids) in &m.translations {
            let mut sorted = ids.clone();
            sorted.sort_unstable();
            let mut dups: Vec<u32> = sorted
                .windows(2)
                .filter(|w| w[0] == w[1])
                .map(|w| w[0])
                .collect();
            dups.dedup();
            if dups.is_empty() {
                continue;
            }
            let dups: Vec<String> = dups.iter().map(|d| format!("{d:#x}")).collect();
            out.push(warning(
                "dt::W0311",
                (&m.path, "iommus"),
                format!(
                    "{}: ID {} given more than once to {iommu}",
                    m.path,
                    dups.join(", ")
                ),
                "drop the repeated iommus entry",
            ));
        }
    }
}

/// W0315: a translated master's specifier has bits set that its driver's
/// spec declares dropped (`ignore`): Linux's `of_xlate` throws them away
/// without a word, so the tree says something the kernel never sees
/// (often a value shifted into the wrong field).
fn dropped_bits(report: &Report, drivers: &Drivers, out: &mut Vec<TreeDiagnostic>) {
    for m in &report.masters {
        for s in &m.specifiers {
            let Some(driver) = report
                .iommus
                .iter()
                .find(|i| i.path == s.iommu)
                .and_then(|i| i.driver.as_deref())
                .and_then(|name| drivers.drivers().iter().find(|d| d.ir.name == name))
            else {
                continue;
            };
            for (index, &cell) in (0u32..).zip(&s.cells) {
                let dropped = cell & driver.ir.dropped_bits(&Word::Cell(index));
                if dropped == 0 {
                    continue;
                }
                out.push(warning(
                    "dt::W0315",
                    (&m.path, "iommus"),
                    format!(
                        "{}: specifier cell {index} ({cell:#x}) for {} sets bits {dropped:#x}, \
                         which {} drops",
                        m.path, s.iommu, driver.ir.name
                    ),
                    "clear those bits, or check the value against the binding",
                ));
            }
        }
    }
}
