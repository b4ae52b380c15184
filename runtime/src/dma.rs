//! Seed step (4), the device's DMA facts: coherence and the DMA window.
//!
//! - Coherence: a node is coherent when it or its nearest ancestor that says
//!   either way has `dma-coherent` (rather than `dma-noncoherent`); nothing
//!   said means non-coherent, Linux's default on Arm.
//! - Window: the nearest ancestor bus with a non-empty `dma-ranges` limits
//!   the device; an empty `dma-ranges` means 1:1 and the walk continues up;
//!   an absent one ends it (no limit), except on the device's own bus, which
//!   Linux's `of_dma_get_range` skips. Each entry
//!   `<child-address parent-address size>` (cells from the bus's
//!   `#address-cells`/`#size-cells` and its parent's `#address-cells`) is
//!   then translated up through every further ancestor's `dma-ranges` to a
//!   CPU physical address; a range an ancestor does not cover is clipped to
//!   what it does cover.

use crate::fdt::{Cells, Node, Property};

mod facts;
pub use facts::{DmaFacts, NodeDma, TooFewSlots};

/// Why a `dma-ranges` could not be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DmaRangeError {
    /// Not a whole number of entries for the cell sizes in force.
    BadLength,
    /// `#address-cells` or `#size-cells` above 4 (3 for sizes would be odd
    /// but legal PCI; more is nonsense).
    BadCells,
    /// An entry's address plus size passes 2^64.
    Overflow,
    /// No part of the window is reachable through some ancestor's
    /// `dma-ranges`.
    Unreachable,
}

impl core::fmt::Display for DmaRangeError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            DmaRangeError::BadLength => "dma-ranges is not a whole number of entries",
            DmaRangeError::BadCells => "#address-cells or #size-cells out of range",
            DmaRangeError::Overflow => "dma-ranges entry wraps past 2^64",
            DmaRangeError::Unreachable => {
                "dma-ranges window not reachable through the parent buses"
            }
        })
    }
}

/// The range of bus addresses a device can drive, and where it lands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DmaWindow {
    /// Lowest bus (device-visible) address.
    pub base: u64,
    /// Bytes from `base`; `u64::MAX` stands for the whole 64-bit space.
    pub size: u64,
    /// The CPU physical address `base` translates to.
    pub cpu_base: u64,
}

impl DmaWindow {
    /// The last bus address the device can drive.
    pub fn last(&self) -> u64 {
        self.base.saturating_add(self.size.saturating_sub(1))
    }

    /// The DMA mask: all ones up to the top bit of the last address
    /// (Linux's `DMA_BIT_MASK(ilog2(end) + 1)`).
    pub fn mask(&self) -> u64 {
        let last = self.last();
        if last == 0 {
            return 0;
        }
        u64::MAX >> last.leading_zeros()
    }
}

/// What `node` itself says: `Some(true)` for `dma-coherent`, `Some(false)`
/// for `dma-noncoherent`, `None` when it says neither.
pub fn own_coherence(node: Node<'_>) -> Option<bool> {
    match node.properties_named(["dma-coherent", "dma-noncoherent"]) {
        [Some(_), _] => Some(true),
        [None, Some(_)] => Some(false),
        [None, None] => None,
    }
}

/// Linux's `of_dma_is_coherent`, without the architecture default override.
pub fn is_coherent(node: Node<'_>) -> bool {
    let mut n = Some(node);
    while let Some(cur) = n {
        if let Some(c) = own_coherence(cur) {
            return c;
        }
        n = cur.parent();
    }
    false
}

fn cells_value(prop: Option<Property<'_>>, default: u32) -> Result<usize, DmaRangeError> {
    match prop {
        None => Ok(default as usize),
        Some(p) => p
            .as_u32()
            .filter(|&n| n <= 4)
            .map(|n| n as usize)
            .ok_or(DmaRangeError::BadCells),
    }
}

/// One parsed `dma-ranges` entry: `[child, child + size)` → `parent`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Range {
    /// Bus address on the node's own (child) side.
    pub child: u64,
    /// The address it reaches on the parent bus.
    pub parent: u64,
    /// Bytes (up to 2^64, hence `u128`).
    pub size: u128,
}

/// The entries of `bus`'s own `dma-ranges`: None when it has none, an
/// empty iterator when it is empty (1:1). For tools that check a tree's
/// windows against each other (`iommugen dt --lint`); the boot flow uses
/// [`dma_window`].
pub fn dma_ranges(
    bus: Node<'_>,
) -> Result<Option<impl Iterator<Item = Result<Range, DmaRangeError>> + '_>, DmaRangeError> {
    let Some(prop) = bus.property("dma-ranges") else {
        return Ok(None);
    };
    let cells = prop.cells().ok_or(DmaRangeError::BadLength)?;
    entries(bus, cells).map(Some)
}

/// Iterate the entries of `bus`'s `dma-ranges` value.
fn entries<'a>(
    bus: Node<'a>,
    value: Cells<'a>,
) -> Result<impl Iterator<Item = Result<Range, DmaRangeError>> + 'a, DmaRangeError> {
    let [a, s] = bus.properties_named(["#address-cells", "#size-cells"]);
    let na = cells_value(a, 2)?;
    let ns = cells_value(s, 1)?;
    let pna = match bus.parent() {
        Some(p) => cells_value(p.property("#address-cells"), 2)?,
        None => na,
    };
    let width = na + pna + ns;
    if width == 0 || value.len() % width != 0 {
        return Err(DmaRangeError::BadLength);
    }
    let mut rest = value;
    Ok(core::iter::from_fn(move || {
        let (entry, after) = rest.split(width)?;
        if entry.is_empty() {
            return None;
        }
        rest = after;
        let (c, r) = entry.split(na)?;
        let (p, s) = r.split(pna)?;
        let range = Range {
            child: c.number(),
            parent: p.number(),
            size: u128::from(s.number()),
        };
        // Neither side of an entry may run past 2^64 (so no translation
        // wraps).
        let top = u128::from(range.child.max(range.parent));
        Some(if top + range.size > 1 << 64 {
            Err(DmaRangeError::Overflow)
        } else {
            Ok(range)
        })
    }))
}

/// Translate `[addr, addr + size)` from `bus`'s child space through `bus`'s
/// own `dma-ranges` and on up. Returns the clipped CPU range.
fn translate_up(
    mut bus: Node<'_>,
    mut addr: u64,
    mut size: u128,
) -> Result<(u64, u128), DmaRangeError> {
    // The walk visits each ancestor once: it ends at the root.
    while let Some(parent) = bus.parent() {
        if !bus.has_property("dma-ranges") {
            break;
        }
        (addr, size) = translate_level(bus, addr, size)?;
        bus = parent;
    }
    Ok((addr, size))
}

/// One level of [`translate_up`]: `bus`'s own `dma-ranges` (present; empty
/// is 1:1) applied to `[addr, addr + size)`.
fn translate_level(bus: Node<'_>, addr: u64, size: u128) -> Result<(u64, u128), DmaRangeError> {
    let Some(prop) = bus.property("dma-ranges") else {
        return Ok((addr, size));
    };
    let cells = prop.cells().ok_or(DmaRangeError::BadLength)?;
    if cells.is_empty() {
        return Ok((addr, size));
    }
    for r in entries(bus, cells)? {
        let r = r?;
        let end = u128::from(r.child) + r.size;
        if u128::from(addr) >= u128::from(r.child) && u128::from(addr) < end {
            let clipped = size.min(end - u128::from(addr));
            return Ok((r.parent.wrapping_add(addr - r.child), clipped));
        }
    }
    Err(DmaRangeError::Unreachable)
}

/// The device's DMA window, or `None` when no `dma-ranges` limits it.
pub fn dma_window(device: Node<'_>) -> Result<Option<DmaWindow>, DmaRangeError> {
    match device.parent() {
        Some(bus) => dma_window_below(bus),
        None => Ok(None),
    }
}

/// The DMA window of a device sitting directly on `bus` (a PCI function
/// below its host bridge, which has no node of its own).
pub fn dma_window_below(bus: Node<'_>) -> Result<Option<DmaWindow>, DmaRangeError> {
    let mut bus = Some(bus);
    // Linux's of_dma_get_range: the device's own bus may lack `dma-ranges`
    // (the walk goes on up), but above it every level must have one (empty
    // meaning 1:1) or nothing limits the device.
    let mut first = true;
    while let Some(b) = bus {
        let Some(prop) = b.property("dma-ranges") else {
            if first {
                first = false;
                bus = b.parent();
                continue;
            }
            return Ok(None);
        };
        first = false;
        let cells = prop.cells().ok_or(DmaRangeError::BadLength)?;
        if cells.is_empty() {
            bus = b.parent();
            continue;
        }
        let (mut lo, mut hi): (u128, u128) = (u128::MAX, 0);
        let mut cpu_base = 0;
        for r in entries(b, cells)? {
            let r = r?;
            if r.size == 0 {
                continue;
            }
            // The entry's parent-side range, translated on up.
            let (cpu, reach) = match b.parent() {
                Some(p) => translate_up(p, r.parent, r.size)?,
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
        let size = u64::try_from(hi - lo).unwrap_or(u64::MAX);
        return Ok(Some(DmaWindow {
            base: lo as u64,
            size,
            cpu_base,
        }));
    }
    Ok(None)
}
