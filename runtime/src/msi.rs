//! MSIs through the IOMMU: a PCI function's MSI is a DMA write to its MSI
//! controller's doorbell, so the doorbell must be mapped in the function's
//! domain or the IOMMU refuses the write.
//!
//! Two parts, as in Linux:
//!
//! - [`of_msi_target`]: which controller takes the function's MSIs and the
//!   DeviceID it sees, from the host bridge's `msi-map` / `msi-map-mask`
//!   (the rules of [`of_map_id`], as Linux's `of_msi_map_id`), or, without
//!   `msi-map`, from its `msi-parent` with the requester ID unchanged. The
//!   doorbell's physical address is the controller's first `reg` plus the
//!   doorbell register's offset: `GITS_TRANSLATER` (0x10040) for an
//!   `arm,gic-v3-its`, `MSI_SETSPI_NS` (0x40) for an `arm,gic-v2m-frame`.
//! - [`MsiCookie`]: the software-MSI window (Linux's `IOMMU_RESV_SW_MSI`,
//!   [`SW_MSI_BASE`], 1 MiB, the region arm-smmu-v3 reports), kept out of
//!   the domain's IOVA allocator, with each doorbell page mapped into it
//!   once per domain (Linux's `iommu_dma_get_msi_page`): the MSI address
//!   the function is programmed with is that IOVA.

use crate::domain::{Domain, DomainError, PageTableOps};
use crate::fdt::{Node, NodeId, PhandleError};
use crate::map_id::{of_map_id, MapError};
use crate::Prot;

/// The software-MSI IOVA window Linux's arm-smmu-v3 reserves
/// (`MSI_IOVA_BASE`).
pub const SW_MSI_BASE: u64 = 0x800_0000;
/// Its length (`MSI_IOVA_LENGTH`).
pub const SW_MSI_SIZE: u64 = 0x10_0000;
/// `GITS_TRANSLATER`'s offset in a GICv3 ITS frame.
pub const GITS_TRANSLATER: u64 = 0x1_0040;
/// `MSI_SETSPI_NS`'s offset in a GICv2m frame.
pub const V2M_MSI_SETSPI_NS: u64 = 0x40;

/// Where a function's MSIs go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MsiTarget {
    /// The MSI controller's node (`msi-controller`).
    pub controller: NodeId,
    /// The ID the controller sees (the ITS DeviceID).
    pub device_id: u32,
    /// The doorbell register's physical address.
    pub doorbell: u64,
}

/// Why a function's MSI target could not be found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MsiError {
    /// `msi-map` / `msi-map-mask` is malformed.
    Map(MapError),
    /// `msi-parent` is not a phandle or names no single node.
    Parent(Option<PhandleError>),
    /// The controller is not an `msi-controller` of a known kind.
    NotAController { node: NodeId },
    /// The controller's `reg` is missing or not readable with its parent's
    /// cell counts (at most 2 each).
    BadReg { node: NodeId },
    /// A bus above the controller has a non-empty `ranges`: its address is
    /// not the CPU's (this reader only follows identity buses).
    Translated { node: NodeId },
}

impl core::fmt::Display for MsiError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            MsiError::Map(e) => write!(f, "msi-map: {e}"),
            MsiError::Parent(None) => f.write_str("msi-parent is not a phandle"),
            MsiError::Parent(Some(PhandleError::Dangling(p))) => {
                write!(f, "msi-parent phandle {p:#x} names no node")
            }
            MsiError::Parent(Some(PhandleError::Duplicate(p))) => {
                write!(f, "msi-parent phandle {p:#x} is declared by several nodes")
            }
            MsiError::NotAController { .. } => f.write_str(
                "the MSI parent is not an msi-controller with compatible arm,gic-v3-its or arm,gic-v2m-frame",
            ),
            MsiError::BadReg { .. } => f.write_str("the MSI controller's reg is unreadable"),
            MsiError::Translated { .. } => {
                f.write_str("a bus above the MSI controller translates addresses (non-empty ranges)")
            }
        }
    }
}

fn compatible(node: Node<'_>, want: &str) -> bool {
    node.property("compatible")
        .is_some_and(|p| p.strings().any(|s| s == want.as_bytes()))
}

/// The doorbell's CPU physical address for controller `node`.
fn doorbell(node: Node<'_>) -> Result<u64, MsiError> {
    let id = node.id();
    let offset = if !node.has_property("msi-controller") {
        return Err(MsiError::NotAController { node: id });
    } else if compatible(node, "arm,gic-v3-its") {
        GITS_TRANSLATER
    } else if compatible(node, "arm,gic-v2m-frame") {
        V2M_MSI_SETSPI_NS
    } else {
        return Err(MsiError::NotAController { node: id });
    };
    let bad = MsiError::BadReg { node: id };
    let parent = node.parent().ok_or(bad)?;
    // `reg`'s cell counts: the nearest ancestor's, else 1 (Linux's
    // `of_n_addr_cells` / `of_n_size_cells`).
    let cells = |name| {
        let mut at = Some(parent);
        while let Some(n) = at {
            if let Some(v) = n.u32_property(name) {
                return v;
            }
            at = n.parent();
        }
        1
    };
    let (na, ns) = (cells("#address-cells"), cells("#size-cells"));
    if na > 2 || ns > 2 {
        return Err(bad);
    }
    let reg = node.property("reg").and_then(|p| p.cells()).ok_or(bad)?;
    let (base, rest) = reg.split(na as usize).ok_or(bad)?;
    rest.split(ns as usize).ok_or(bad)?;
    // Every bus between the controller and the root must map its children
    // 1:1 (`ranges;`), as QEMU virt's GIC does for its ITS.
    let mut bus = Some(parent);
    while let Some(b) = bus {
        let Some(up) = b.parent() else { break };
        match b.property("ranges") {
            Some(r) if r.value.is_empty() => {}
            _ => return Err(MsiError::Translated { node: b.id() }),
        }
        bus = Some(up);
    }
    base.number().checked_add(offset).ok_or(bad)
}

/// Where PCI function `rid` behind host bridge `host` sends its MSIs:
/// `Ok(None)` when the bridge names no MSI controller (no `msi-map` entry
/// covers the ID, or neither property is there).
pub fn of_msi_target(host: Node<'_>, rid: u32) -> Result<Option<MsiTarget>, MsiError> {
    let (controller, device_id) = if host.has_property("msi-map") {
        match of_map_id(host, rid, "msi-map", "msi-map-mask").map_err(MsiError::Map)? {
            Some(hit) => hit,
            None => return Ok(None),
        }
    } else if let Some(p) = host.property("msi-parent") {
        // `msi-parent = <&its>` (or `<&its N>` with `#msi-cells`): the
        // first phandle; a PCI function's DeviceID is its requester ID.
        let phandle = p
            .cells()
            .and_then(|c| c.get(0))
            .ok_or(MsiError::Parent(None))?;
        let node = host
            .tree()
            .by_phandle(phandle)
            .map_err(|e| MsiError::Parent(Some(e)))?;
        (node.id(), rid)
    } else {
        return Ok(None);
    };
    let node = host
        .tree()
        .node(controller)
        .ok_or(MsiError::NotAController { node: controller })?;
    Ok(Some(MsiTarget {
        controller,
        device_id,
        doorbell: doorbell(node)?,
    }))
}

/// A domain's software-MSI window: which doorbell pages are mapped where
/// (at most `N`, one granule each).
#[derive(Debug)]
pub struct MsiCookie<const N: usize> {
    base: u64,
    size: u64,
    pages: [(u64, u64); N],
    len: usize,
}

impl<const N: usize> MsiCookie<N> {
    /// Linux's window: [`SW_MSI_BASE`], [`SW_MSI_SIZE`].
    pub const fn new() -> Self {
        Self::with_window(SW_MSI_BASE, SW_MSI_SIZE)
    }

    /// Another window (granule-aligned).
    pub const fn with_window(base: u64, size: u64) -> Self {
        Self {
            base,
            size,
            pages: [(0, 0); N],
            len: 0,
        }
    }

    /// The window as (base, size).
    pub fn window(&self) -> (u64, u64) {
        (self.base, self.size)
    }

    /// Keep the window out of `dom`'s IOVA allocator (the reserved region
    /// the IOMMU driver reports), before the domain hands out any IOVA.
    pub fn reserve<P: PageTableOps>(&self, dom: &mut Domain<'_, P>) -> Result<(), DomainError> {
        dom.reserve(self.base, self.size)
    }

    /// The IOVA a device in `dom` writes to reach `doorbell`: the doorbell's
    /// page is mapped (device memory, write-only) at the window's next free
    /// page the first time, then reused.
    pub fn map_doorbell<P: PageTableOps>(
        &mut self,
        dom: &mut Domain<'_, P>,
        doorbell: u64,
    ) -> Result<u64, DomainError> {
        let g = dom.granule();
        let page = doorbell & !(g - 1);
        let offset = doorbell - page;
        if let Some(&(_, iova)) = self.pages[..self.len].iter().find(|p| p.0 == page) {
            return Ok(iova + offset);
        }
        let full = DomainError::Iova(crate::iova::IovaError::Exhausted);
        let iova = self.base + self.len as u64 * g;
        if self.len == N || iova + g > self.base + self.size {
            return Err(full);
        }
        dom.table
            .map(iova, page, g, Prot::WRITE | Prot::MMIO | Prot::NOEXEC)
            .map_err(DomainError::Map)?;
        self.pages[self.len] = (page, iova);
        self.len += 1;
        Ok(iova + offset)
    }

    /// Undo [`map_doorbell`](Self::map_doorbell) for `doorbell`'s page
    /// (the IOMMU then refuses the device's MSI writes to it). The page's
    /// IOVA is free for the next doorbell only if it was the last mapped.
    pub fn unmap_doorbell<P: PageTableOps>(
        &mut self,
        dom: &mut Domain<'_, P>,
        doorbell: u64,
    ) -> Result<(), DomainError> {
        let g = dom.granule();
        let page = doorbell & !(g - 1);
        let at = self.pages[..self.len]
            .iter()
            .position(|p| p.0 == page)
            .ok_or(DomainError::Map(crate::domain::MapError::NotMapped))?;
        let iova = self.pages[at].1;
        dom.table.unmap(iova, g).map_err(DomainError::Map)?;
        if at + 1 == self.len {
            self.len -= 1;
        } else {
            // Keep the IOVA allocated (later pages follow it): mark the
            // slot as holding no doorbell.
            self.pages[at].0 = u64::MAX;
        }
        Ok(())
    }

    /// Mapped doorbell pages as (physical page, IOVA); a page of
    /// `u64::MAX` is a slot unmapped before a later one.
    pub fn pages(&self) -> &[(u64, u64)] {
        &self.pages[..self.len]
    }
}

impl<const N: usize> Default for MsiCookie<N> {
    fn default() -> Self {
        Self::new()
    }
}
