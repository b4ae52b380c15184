//! The DMA facts of every node, computed once in document order into
//! caller storage, so coherence and windows cost O(1) per device instead of
//! a walk to the root (O(masters × depth) on deep trees).
//!
//! Parents precede children in [`DeviceTree`] order, so one forward pass
//! sees each node's parent already done. Besides coherence and the window,
//! each node keeps how its children's bus addresses translate up to the CPU
//! ([`Xlate`]): a chain of single-entry `dma-ranges` composes into one
//! interval map, so translating an entry costs one step per *multi*-entry
//! bus above it (those are walked as [`super::dma_window_below`] walks
//! them), not one per ancestor. Results equal the walking functions'
//! (`tests/dma_facts.rs` compares them on random trees).

use super::{entries, own_coherence, DmaRangeError, DmaWindow, Range};
use crate::fdt::{DeviceTree, Node, NodeId};

/// How an address on a node's child bus reaches the CPU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Xlate {
    /// Unchanged (the root, or a node without `dma-ranges`: the walk ends).
    Identity,
    /// `[child, last]` maps to `out + (addr - child)` on the child bus of
    /// `then` (`None`: the CPU); other addresses are unreachable.
    Piece {
        child: u64,
        last: u64,
        out: u64,
        then: Option<NodeId>,
    },
    /// Every address fails the same way at this node.
    Fail(DmaRangeError),
    /// Several entries: apply this node's `dma-ranges` as the walk does,
    /// then go on at the parent.
    Walk,
}

/// One node's facts. Storage for [`DmaFacts::new`], one per tree node.
#[derive(Clone, Copy, Debug)]
pub struct NodeDma {
    coherent: bool,
    has_ranges: bool,
    /// The window seen through this node from below when the node has
    /// `dma-ranges` (the walk of `dma_window_below` past the device's own
    /// bus).
    upper: Result<Option<DmaWindow>, DmaRangeError>,
    xlate: Xlate,
}

impl NodeDma {
    pub const EMPTY: NodeDma = NodeDma {
        coherent: false,
        has_ranges: false,
        upper: Ok(None),
        xlate: Xlate::Identity,
    };
}

/// Fewer [`NodeDma`] slots than the tree has nodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TooFewSlots {
    pub needed: usize,
}

impl core::fmt::Display for TooFewSlots {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "DMA facts need {} slots", self.needed)
    }
}

/// Coherence and DMA windows of one tree's nodes.
#[derive(Clone, Copy, Debug)]
pub struct DmaFacts<'s> {
    nodes: &'s [NodeDma],
    steps: u64,
}

impl<'s> DmaFacts<'s> {
    /// One pass over `tree`; `storage` needs `tree.len()` slots.
    pub fn new(tree: &DeviceTree<'_>, storage: &'s mut [NodeDma]) -> Result<Self, TooFewSlots> {
        let needed = tree.len();
        let memo = storage.get_mut(..needed).ok_or(TooFewSlots { needed })?;
        let mut steps = 0u64;
        for node in tree.nodes() {
            let parent = node.parent().map(|p| memo[p.id().0 as usize]);
            let ranges = node.property("dma-ranges");
            let coherent = own_coherence(node).unwrap_or(parent.is_some_and(|p| p.coherent));
            let cells = ranges.map(|p| p.cells().ok_or(DmaRangeError::BadLength));
            let (upper, xlate) = match cells {
                None => (Ok(None), Xlate::Identity),
                // The walk up never applies the root's own `dma-ranges`.
                Some(Err(e)) if node.parent().is_none() => (Err(e), Xlate::Identity),
                Some(Err(e)) => (Err(e), Xlate::Fail(e)),
                Some(Ok(c)) if c.is_empty() => match (node.parent(), parent) {
                    (Some(p), Some(pm)) => (pm.upper, pass_through(p.id(), pm.xlate)),
                    _ => (Ok(None), Xlate::Identity),
                },
                Some(Ok(c)) => {
                    let upper = window_of(node, entries(node, c), memo, &mut steps);
                    let xlate = match node.parent() {
                        None => Xlate::Identity,
                        Some(p) => compose(entries(node, c), p.id(), memo),
                    };
                    (upper, xlate)
                }
            };
            memo[node.id().0 as usize] = NodeDma {
                coherent,
                has_ranges: ranges.is_some(),
                upper,
                xlate,
            };
        }
        Ok(DmaFacts { nodes: memo, steps })
    }

    /// Levels the pass applied while translating windows: one per
    /// `dma-ranges` entry plus one per multi-entry bus above it (a measure
    /// of work that stays linear in the tree on nested buses).
    pub fn steps(&self) -> u64 {
        self.steps
    }

    fn get(&self, node: Node<'_>) -> Option<&NodeDma> {
        self.nodes.get(node.id().0 as usize)
    }

    /// [`super::is_coherent`]. A node of another (larger) tree falls back
    /// to the walk.
    pub fn is_coherent(&self, node: Node<'_>) -> bool {
        match self.get(node) {
            Some(m) => m.coherent,
            None => super::is_coherent(node),
        }
    }

    /// [`super::dma_window`].
    pub fn dma_window(&self, device: Node<'_>) -> Result<Option<DmaWindow>, DmaRangeError> {
        match device.parent() {
            Some(bus) => self.dma_window_below(bus),
            None => Ok(None),
        }
    }

    /// [`super::dma_window_below`].
    pub fn dma_window_below(&self, bus: Node<'_>) -> Result<Option<DmaWindow>, DmaRangeError> {
        let Some(m) = self.get(bus) else {
            return super::dma_window_below(bus);
        };
        if m.has_ranges {
            return m.upper;
        }
        // The device's own bus may lack `dma-ranges`: its parent decides.
        match bus.parent().and_then(|p| self.get(p)) {
            Some(pm) if pm.has_ranges => pm.upper,
            _ => Ok(None),
        }
    }
}

/// An empty `dma-ranges` (1:1) on a node whose parent translates by
/// `above`: the same map, reached through this node.
fn pass_through(parent: NodeId, above: Xlate) -> Xlate {
    match above {
        Xlate::Walk => Xlate::Piece {
            child: 0,
            last: u64::MAX,
            out: 0,
            then: Some(parent),
        },
        other => other,
    }
}

/// This node's map: a single entry composed with the parent's map, or a
/// walk when there are several.
fn compose<'a>(
    list: Result<impl Iterator<Item = Result<Range, DmaRangeError>> + 'a, DmaRangeError>,
    parent: NodeId,
    memo: &[NodeDma],
) -> Xlate {
    let mut list = match list {
        Ok(l) => l,
        Err(e) => return Xlate::Fail(e),
    };
    let r = match (list.next(), list.next()) {
        (Some(Ok(r)), None) => r,
        (Some(Err(e)), _) => return Xlate::Fail(e),
        (None, _) => return Xlate::Identity,
        _ => return Xlate::Walk,
    };
    if r.size == 0 {
        return Xlate::Fail(DmaRangeError::Unreachable);
    }
    // `entries` bounds child + size and parent + size by 2^64.
    let last = r.child + (r.size - 1) as u64;
    match memo[parent.0 as usize].xlate {
        Xlate::Identity => Xlate::Piece {
            child: r.child,
            last,
            out: r.parent,
            then: None,
        },
        Xlate::Piece {
            child: c2,
            last: l2,
            out,
            then,
        } => {
            // Addresses whose image r.parent + (a - r.child) lies in
            // [c2, l2]: an interval, possibly empty.
            let lo = u128::from(r.child) + u128::from(c2.saturating_sub(r.parent));
            let hi = (u128::from(l2) + u128::from(r.child))
                .checked_sub(u128::from(r.parent))
                .map(|h| h.min(u128::from(last)));
            match hi {
                Some(hi) if lo <= hi => {
                    let lo = lo as u64;
                    let image = r.parent + (lo - r.child);
                    Xlate::Piece {
                        child: lo,
                        last: hi as u64,
                        out: out.wrapping_add(image - c2),
                        then,
                    }
                }
                _ => Xlate::Fail(DmaRangeError::Unreachable),
            }
        }
        Xlate::Fail(_) | Xlate::Walk => Xlate::Piece {
            child: r.child,
            last,
            out: r.parent,
            then: Some(parent),
        },
    }
}

/// Translate `[addr, addr + size)` from `bus`'s child space to the CPU,
/// as `translate_up` does, through the memo.
fn translate(
    tree: DeviceTree<'_>,
    mut bus: NodeId,
    mut addr: u64,
    mut size: u128,
    memo: &[NodeDma],
    steps: &mut u64,
) -> Result<(u64, u128), DmaRangeError> {
    loop {
        *steps += 1;
        match memo[bus.0 as usize].xlate {
            Xlate::Identity => return Ok((addr, size)),
            Xlate::Fail(e) => return Err(e),
            Xlate::Piece {
                child,
                last,
                out,
                then,
            } => {
                if addr < child || addr > last {
                    return Err(DmaRangeError::Unreachable);
                }
                size = size.min(u128::from(last - addr) + 1);
                addr = out.wrapping_add(addr - child);
                match then {
                    Some(next) => bus = next,
                    None => return Ok((addr, size)),
                }
            }
            Xlate::Walk => {
                let node = tree.node(bus).ok_or(DmaRangeError::Unreachable)?;
                let (a, s) = super::translate_level(node, addr, size)?;
                addr = a;
                size = s;
                match node.parent() {
                    Some(p) => bus = p.id(),
                    None => return Ok((addr, size)),
                }
            }
        }
    }
}

/// The window a non-empty `dma-ranges` on `bus` gives (the body of
/// `dma_window_below`), translating each entry through the memo.
fn window_of<'a>(
    bus: Node<'a>,
    list: Result<impl Iterator<Item = Result<Range, DmaRangeError>> + 'a, DmaRangeError>,
    memo: &[NodeDma],
    steps: &mut u64,
) -> Result<Option<DmaWindow>, DmaRangeError> {
    let (mut lo, mut hi): (u128, u128) = (u128::MAX, 0);
    let mut cpu_base = 0;
    for r in list? {
        let r = r?;
        if r.size == 0 {
            continue;
        }
        let (cpu, reach) = match bus.parent() {
            Some(p) => translate(bus.tree(), p.id(), r.parent, r.size, memo, steps)?,
            None => (r.parent, r.size),
        };
        if u128::from(r.child) < lo {
            lo = u128::from(r.child);
            cpu_base = cpu;
        }
        hi = hi.max(u128::from(r.child) + reach);
    }
    if hi <= lo {
        return Err(DmaRangeError::Unreachable);
    }
    Ok(Some(DmaWindow {
        base: lo as u64,
        size: u64::try_from(hi - lo).unwrap_or(u64::MAX),
        cpu_base,
    }))
}
