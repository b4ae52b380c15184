//! Reserved regions a device already uses at boot (the `reserved-memory`
//! binding's `iommu-addresses`, e.g. a framebuffer the firmware scans out):
//! they must be mapped (or at least kept) in the device's domain before it
//! is attached, or its DMA faults the moment translation starts.
//!
//! Like Linux's `of_iommu_get_resv_regions`, the regions come from the
//! master's `memory-region` phandles; each region node's `iommu-addresses`
//! lists `<phandle address size>` entries, and only the entries naming this
//! master count. The address and size take the cell counts a `reg` of the
//! master would (`#address-cells` / `#size-cells` of its nearest ancestor
//! that has them, 1 and 1 by default, as Linux's `of_n_addr_cells`; a PCI
//! function's node under its host bridge has 3 address cells, the bus
//! address being the last two). A
//! region with `reg` whose IOVA range equals its physical range is an
//! identity mapping; one with `reg` elsewhere is a fixed mapping (the
//! binding's meaning; Linux today only reserves such a range, with a
//! warning); one without `reg` is a carve-out, kept out of the allocator
//! and mapped to nothing.

use crate::fdt::{Cells, Node, NodeId, PhandleError};

/// What a reserved region asks of the domain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResvKind {
    /// Map IOVA = physical address.
    Direct,
    /// Map the IOVA range to the region's physical address `pa`.
    Fixed { pa: u64 },
    /// Keep the IOVA range out of the allocator; map nothing.
    Reserved,
}

/// One reserved IOVA range of a master.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResvRegion {
    /// The `reserved-memory` child it comes from.
    pub node: NodeId,
    pub iova: u64,
    pub size: u64,
    pub kind: ResvKind,
}

impl ResvRegion {
    pub const EMPTY: ResvRegion = ResvRegion {
        node: NodeId(0),
        iova: 0,
        size: 0,
        kind: ResvKind::Reserved,
    };
}

/// Why a master's reserved regions could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResvError {
    /// A `memory-region` phandle names no node, or several.
    Phandle(PhandleError),
    /// A property is not a whole number of entries, or an entry's phandle
    /// names no node.
    Malformed { node: NodeId },
    /// Cell counts above 2 (64-bit values), or a size of 0 or one that
    /// wraps past 2^64.
    BadRange { node: NodeId },
    /// More regions than the storage given.
    Full { capacity: usize },
}

impl core::fmt::Display for ResvError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            ResvError::Phandle(PhandleError::Dangling(p)) => {
                write!(f, "memory-region phandle {p:#x} names no node")
            }
            ResvError::Phandle(PhandleError::Duplicate(p)) => {
                write!(
                    f,
                    "memory-region phandle {p:#x} is declared by several nodes"
                )
            }
            ResvError::Malformed { .. } => {
                f.write_str("iommu-addresses or reg is not a whole number of entries")
            }
            ResvError::BadRange { .. } => f.write_str(
                "iommu-addresses or reg range is empty, wraps, or uses more than 2 cells",
            ),
            ResvError::Full { capacity } => write!(f, "more than {capacity} reserved regions"),
        }
    }
}

/// `#address-cells` and `#size-cells` for `reg`-style values of `node`:
/// the nearest ancestor's that has each, else 1 (Linux's defaults).
fn bus_cells(node: Node<'_>) -> (u32, u32) {
    let mut a = None;
    let mut s = None;
    let mut cur = node.parent();
    while let Some(n) = cur {
        a = a.or_else(|| n.u32_property("#address-cells"));
        s = s.or_else(|| n.u32_property("#size-cells"));
        if a.is_some() && s.is_some() {
            break;
        }
        cur = n.parent();
    }
    (a.unwrap_or(1), s.unwrap_or(1))
}

/// A value of `n` (0 to 2) cells; `None` above 2.
fn number(c: Cells<'_>, n: u32) -> Option<u64> {
    (n <= 2).then(|| c.number())
}

/// An `iommu-addresses` address of `dev`: as [`number`], except that a
/// device on a PCI bus (its parent's `device_type` is `"pci"`) has 3 cells,
/// whose first (phys.hi: space code and bus/device/function) is dropped,
/// keeping the 64-bit bus address, as Linux's `of_read_number` does on a
/// bridge without `dma-ranges`.
fn dma_address(c: Cells<'_>, n: u32, dev: Node<'_>) -> Option<u64> {
    let pci = dev
        .parent()
        .and_then(|p| p.property("device_type"))
        .and_then(|p| p.as_str_bytes())
        == Some(b"pci");
    if pci && n == 3 {
        return Some(c.number());
    }
    number(c, n)
}

/// The first (address, size) of `node`'s `reg`, if it has one.
fn first_reg(node: Node<'_>) -> Result<Option<(u64, u64)>, ResvError> {
    let Some(reg) = node.property("reg") else {
        return Ok(None);
    };
    let bad = ResvError::BadRange { node: node.id() };
    let (na, ns) = bus_cells(node);
    let cells = reg
        .cells()
        .ok_or(ResvError::Malformed { node: node.id() })?;
    let (addr, rest) = cells.split(na as usize).ok_or(bad)?;
    let (size, _) = rest.split(ns as usize).ok_or(bad)?;
    let (addr, size) = (number(addr, na).ok_or(bad)?, number(size, ns).ok_or(bad)?);
    Ok(Some((addr, size)))
}

/// The reserved regions `master` names, into `out`; returns how many.
/// A master with no `memory-region`, or regions without `iommu-addresses`
/// for it, has none.
pub fn reserved_regions(master: Node<'_>, out: &mut [ResvRegion]) -> Result<usize, ResvError> {
    let Some(regions) = master.property("memory-region") else {
        return Ok(0);
    };
    let tree = master.tree();
    let malformed = ResvError::Malformed { node: master.id() };
    let mut n = 0;
    for phandle in regions.cells().ok_or(malformed)?.iter() {
        let region = tree.by_phandle(phandle).map_err(ResvError::Phandle)?;
        let Some(prop) = region.property("iommu-addresses") else {
            continue;
        };
        let rid = region.id();
        let bad = ResvError::BadRange { node: rid };
        let mut rest = prop.cells().ok_or(ResvError::Malformed { node: rid })?;
        while !rest.is_empty() {
            let (ph, after) = rest.split(1).ok_or(ResvError::Malformed { node: rid })?;
            let dev = tree
                .by_phandle(ph.number() as u32)
                .map_err(|_| ResvError::Malformed { node: rid })?;
            let (na, ns) = bus_cells(dev);
            let (addr, after) = after
                .split(na as usize)
                .ok_or(ResvError::Malformed { node: rid })?;
            let (size, after) = after
                .split(ns as usize)
                .ok_or(ResvError::Malformed { node: rid })?;
            rest = after;
            if dev.id() != master.id() {
                continue;
            }
            let iova = dma_address(addr, na, dev).ok_or(bad)?;
            let size = number(size, ns).ok_or(bad)?;
            if size == 0 || iova.checked_add(size - 1).is_none() {
                return Err(bad);
            }
            let kind = match first_reg(region)? {
                Some((pa, len)) if pa == iova && len == size => ResvKind::Direct,
                Some((pa, _)) => ResvKind::Fixed { pa },
                None => ResvKind::Reserved,
            };
            let capacity = out.len();
            *out.get_mut(n).ok_or(ResvError::Full { capacity })? = ResvRegion {
                node: rid,
                iova,
                size,
                kind,
            };
            n += 1;
        }
    }
    Ok(n)
}
