//! `dma-ranges` against memory and against the parent bus:
//!
//! - `dt::W0316`: a bus's window leaves memory out, and a master below it
//!   runs direct DMA (no IOMMU in front of it to reach the rest). Linux's
//!   dma-direct cannot address those pages: it bounces such buffers
//!   through swiotlb, or fails the mapping where there is none.
//! - `dt::W0317`: a `dma-ranges` entry reaches its parent bus's addresses
//!   that the parent's own `dma-ranges` covers only in part, or not at all.
//!   Linux translates only an entry's first address (`of_dma_get_range`):
//!   an entry whose start is outside the parent's window is dropped with a
//!   log line, and one whose tail is outside is kept whole, so the tail's
//!   addresses are translated with the offset of a parent entry that does
//!   not cover them. The boot flow here clips instead (see `dma.rs`).

use std::collections::{BTreeMap, HashMap, HashSet};

use iommugen_runtime::dma::{self, DmaFacts, DmaWindow, NodeDma, Range};
use iommugen_runtime::fdt::{DeviceTree, Node};

use super::super::report::{path_of, Report, TreeDiagnostic};
use super::super::translation::Translation;
use super::warning;

/// `[start, end)` as `u128`, so a range may end at 2^64.
type Span = (u128, u128);

/// A bus holding a limiting `dma-ranges` → (its CPU window, the direct
/// masters below it).
type Buses = BTreeMap<String, (Span, Vec<String>)>;

/// W0316 for every bus whose window leaves memory out and that has a
/// master below it running direct DMA.
pub(super) fn uncovered_memory(
    tree: DeviceTree<'_>,
    report: &Report,
    out: &mut Vec<TreeDiagnostic>,
) {
    let memory = memory_spans(tree);
    if memory.is_empty() {
        return;
    }
    let nodes = direct_nodes(tree, report);
    if nodes.is_empty() {
        return;
    }
    // Every node's window in one pass over the tree, as the report's own
    // (a walk of each master's ancestors would repeat the buses' work).
    let mut store = vec![NodeDma::EMPTY; tree.len()];
    let Ok(facts) = DmaFacts::new(&tree, &mut store) else {
        return;
    };
    let mut buses = Buses::new();
    for m in &report.masters {
        if m.translation != Translation::Direct {
            continue;
        }
        let Some(&node) = nodes.get(m.path.as_str()) else {
            continue;
        };
        if let (Ok(Some(w)), Some(bus)) = (facts.dma_window(node), limiting_bus(node)) {
            below(&mut buses, bus, w, m.path.clone());
        }
    }
    for p in &report.pci {
        if p.translation != Translation::Direct {
            continue;
        }
        let Some(&host) = nodes.get(p.host.as_str()) else {
            continue;
        };
        if let (Ok(Some(w)), Some(bus)) = (facts.dma_window_below(host), limiting_bus_from(host)) {
            below(&mut buses, bus, w, format!("{} RID {:#06x}", p.host, p.rid));
        }
    }
    for (bus, (window, masters)) in buses {
        let outside: Vec<Span> = memory.iter().flat_map(|&m| minus(m, window)).collect();
        if outside.is_empty() {
            continue;
        }
        let pieces: Vec<String> = outside.iter().map(|&s| show(s)).collect();
        let others = match masters.len() {
            1 => String::new(),
            n => format!(" and {} more", n - 1),
        };
        out.push(warning(
            "dt::W0316",
            (&bus, "dma-ranges"),
            format!(
                "{bus}: dma-ranges reach CPU {} only, so memory {} is out of reach of \
                 {}{others}, which run direct DMA: Linux bounces buffers there through \
                 swiotlb, or fails the mapping without it",
                show(window),
                pieces.join(", "),
                masters[0],
            ),
            "widen dma-ranges to cover memory, or put an IOMMU in front of these masters",
        ));
    }
}

/// The nodes of the direct-DMA masters and host bridges the report names,
/// by path, in one pass over the tree (a look-up by path per master would
/// scan every sibling at each level: quadratic on a flat bus).
fn direct_nodes<'t>(tree: DeviceTree<'t>, report: &Report) -> HashMap<String, Node<'t>> {
    let mut wanted: HashSet<&str> = report
        .masters
        .iter()
        .filter(|m| m.translation == Translation::Direct)
        .map(|m| m.path.as_str())
        .collect();
    wanted.extend(
        report
            .pci
            .iter()
            .filter(|p| p.translation == Translation::Direct)
            .map(|p| p.host.as_str()),
    );
    let mut found = HashMap::new();
    if wanted.is_empty() {
        return found;
    }
    for node in tree.nodes() {
        let path = path_of(node);
        if wanted.contains(path.as_str()) {
            found.insert(path, node);
        }
    }
    found
}

/// Note `master` below `bus`, whose window is `w` (the same for all of them).
fn below(buses: &mut Buses, bus: Node<'_>, w: DmaWindow, master: String) {
    let start = u128::from(w.cpu_base);
    let size = if w.size == u64::MAX {
        1u128 << 64
    } else {
        u128::from(w.size)
    };
    buses
        .entry(path_of(bus))
        .or_insert_with(|| ((start, start + size), Vec::new()))
        .1
        .push(master);
}

/// W0317 for `node`'s `dma-ranges` entries against the nearest ancestor
/// with a non-empty `dma-ranges` (through empty, 1:1, ones).
pub(super) fn parent_window(node: Node<'_>, out: &mut Vec<TreeDiagnostic>) {
    let Ok(Some(entries)) = dma::dma_ranges(node) else {
        return;
    };
    let entries: Vec<Range> = entries.filter_map(Result::ok).collect();
    if entries.is_empty() {
        return;
    }
    let Some((above, covered)) = parent_spans(node) else {
        return;
    };
    let path = path_of(node);
    for (k, r) in entries.iter().enumerate() {
        if r.size == 0 {
            continue;
        }
        let reach = (u128::from(r.parent), u128::from(r.parent) + r.size);
        let mut missing = vec![reach];
        for &c in &covered {
            missing = missing.into_iter().flat_map(|m| minus(m, c)).collect();
        }
        if missing.is_empty() {
            continue;
        }
        let start_lost = missing.iter().any(|&(s, _)| s == reach.0);
        let pieces: Vec<String> = missing.iter().map(|&s| show(s)).collect();
        out.push(warning(
            "dt::W0317",
            (&path, "dma-ranges"),
            format!(
                "{path}: dma-ranges entry {k} reaches {} on the parent bus, but {above}'s \
                 dma-ranges do not cover {}: {}",
                show(reach),
                pieces.join(", "),
                if start_lost {
                    "Linux cannot translate the entry's start and drops the entry"
                } else {
                    "Linux keeps the entry whole and translates its tail with an offset \
                     that does not apply there"
                }
            ),
            "make the entry fit the parent's window, or extend the parent's dma-ranges",
        ));
    }
}

/// The nearest ancestor above `node` with a non-empty `dma-ranges`, passing
/// only through empty (1:1) ones, and the child-side spans it covers. None
/// when a level has none (Linux then stops translating) or at the root.
fn parent_spans(node: Node<'_>) -> Option<(String, Vec<Span>)> {
    let mut bus = node.parent()?;
    loop {
        // The root's dma-ranges, if any, translate nothing further.
        bus.parent()?;
        let entries: Vec<Range> = dma::dma_ranges(bus).ok()??.filter_map(Result::ok).collect();
        if !entries.is_empty() {
            let spans = entries
                .iter()
                .map(|r| (u128::from(r.child), u128::from(r.child) + r.size))
                .collect();
            return Some((path_of(bus), spans));
        }
        bus = bus.parent()?;
    }
}

/// The bus whose non-empty `dma-ranges` limits a device at `node` (as
/// `DmaFacts::dma_window` finds it).
fn limiting_bus(node: Node<'_>) -> Option<Node<'_>> {
    limiting_bus_from(node.parent()?)
}

/// [`limiting_bus`] for a device sitting directly on `bus`.
fn limiting_bus_from(mut bus: Node<'_>) -> Option<Node<'_>> {
    loop {
        if let Some(p) = bus.property("dma-ranges") {
            if p.cells().is_some_and(|c| !c.is_empty()) {
                return Some(bus);
            }
        }
        bus = bus.parent()?;
    }
}

/// Memory the CPU has: every available `memory` node's `reg`, in the
/// root's cell sizes.
fn memory_spans(tree: DeviceTree<'_>) -> Vec<Span> {
    let root = tree.root();
    let na = root.u32_property("#address-cells").unwrap_or(2) as usize;
    let ns = root.u32_property("#size-cells").unwrap_or(1) as usize;
    if na == 0 || na > 2 || ns > 2 {
        return Vec::new();
    }
    let mut spans = Vec::new();
    for node in root.children() {
        let is_memory = node
            .property("device_type")
            .is_some_and(|p| p.strings().any(|s| s == b"memory".as_slice()));
        if !is_memory || !node.is_available() {
            continue;
        }
        let Some(mut rest) = node.property("reg").and_then(|p| p.cells()) else {
            continue;
        };
        while let Some((entry, after)) = rest.split(na + ns) {
            if entry.is_empty() {
                break;
            }
            rest = after;
            let Some((a, s)) = entry.split(na) else {
                break;
            };
            let start = u128::from(a.number());
            let size = u128::from(s.number());
            if size != 0 {
                spans.push((start, start + size));
            }
        }
    }
    spans
}

/// The parts of `a` outside `b`.
fn minus(a: Span, b: Span) -> Vec<Span> {
    let mut out = Vec::new();
    if b.0 > a.0 {
        out.push((a.0, a.1.min(b.0)));
    }
    if b.1 < a.1 {
        out.push((a.0.max(b.1), a.1));
    }
    out.retain(|&(s, e)| s < e);
    out
}

/// `0xSTART..=0xLAST`.
fn show((start, end): Span) -> String {
    format!("{start:#x}..={:#x}", end - 1)
}

#[cfg(test)]
mod tests {
    use super::minus;

    #[test]
    fn minus_cuts_both_sides() {
        assert_eq!(minus((0, 100), (10, 20)), vec![(0, 10), (20, 100)]);
        assert_eq!(minus((0, 100), (0, 100)), vec![]);
        assert_eq!(minus((0, 100), (50, 200)), vec![(0, 50)]);
        assert_eq!(minus((0, 100), (200, 300)), vec![(0, 100)]);
        assert_eq!(minus((10, 20), (0, 1 << 64)), vec![]);
    }
}
