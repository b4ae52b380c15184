//! The device tree QEMU leaves at the start of RAM, read with the runtime's
//! FDT index: memory, the SMMUv3 node, the PCIe host and its `iommu-map`.
//!
//! Integration point: the SMMU and the StreamID are found by hand here; the
//! runtime's `iommu_init` / `of_pci_iommu_configure` replace that once the
//! generated declaration table exists (see the report / book chapter).

use core::ops::Range;

use iommugen_runtime::fdt::{DeviceTree, Fdt, Node, NodeEntry, PhandleEntry};

use crate::pci::HostBridge;

/// QEMU places the DTB at the start of RAM for kernels linked above it.
const DTB_ADDR: usize = 0x4000_0000;

static mut NODES: [NodeEntry; 256] = [NodeEntry::EMPTY; 256];
static mut PHANDLES: [PhandleEntry; 64] = [PhandleEntry::EMPTY; 64];

pub fn load() -> Result<DeviceTree<'static>, &'static str> {
    // SAFETY: RAM at DTB_ADDR holds QEMU's blob; its header's totalsize
    // (big-endian word 1) bounds the slice. Bytes are read one at a time so
    // nothing is unaligned while the MMU is still off.
    let blob = unsafe {
        let hdr = core::slice::from_raw_parts(DTB_ADDR as *const u8, 8);
        let total = u32::from_be_bytes([hdr[4], hdr[5], hdr[6], hdr[7]]) as usize;
        if u32::from_be_bytes([hdr[0], hdr[1], hdr[2], hdr[3]]) != 0xd00d_feed || total > 2 << 20 {
            return Err("no device tree at 0x4000_0000 (kernel linked below 0x4010_0000?)");
        }
        core::slice::from_raw_parts(DTB_ADDR as *const u8, total)
    };
    let fdt = Fdt::new(blob).map_err(|_| "malformed device tree")?;
    // SAFETY: called once at boot, before anything else uses the storage.
    let (nodes, phandles) = unsafe {
        (
            &mut *core::ptr::addr_of_mut!(NODES),
            &mut *core::ptr::addr_of_mut!(PHANDLES),
        )
    };
    DeviceTree::new(fdt, nodes, phandles).map_err(|_| "device tree too large to index")
}

fn compatible(node: Node<'_>, want: &str) -> bool {
    node.property("compatible")
        .is_some_and(|p| p.strings().any(|s| s == want.as_bytes()))
}

/// The first `memory` node's first range.
pub fn memory(dt: &DeviceTree<'_>) -> Option<Range<u64>> {
    let node = dt
        .nodes()
        .find(|n| n.property("device_type").and_then(|p| p.as_str_bytes()) == Some(b"memory"))?;
    let reg = node.property("reg")?.cells()?;
    let (base, rest) = reg.split(2)?;
    let (size, _) = rest.split(2)?;
    let (base, size) = (base.number(), size.number());
    Some(base..base + size)
}

/// RAM after the image (the linker's `__free_start`) up to the end of RAM.
pub fn free_ram(ram: &Range<u64>) -> Range<u64> {
    extern "C" {
        static __free_start: u8;
    }
    // Only the symbol's address is taken, never its value.
    let start = core::ptr::addr_of!(__free_start) as u64;
    start..ram.end
}

/// One `iommu-map` entry: RIDs `rid_base..rid_base+length` map to
/// StreamIDs from `sid_base`.
#[derive(Clone, Copy, Debug)]
pub struct IdMap {
    pub rid_base: u32,
    pub iommu: u32,
    pub sid_base: u32,
    pub length: u32,
}

impl IdMap {
    pub fn sid_for(&self, rid: u32) -> Option<u32> {
        let off = rid.checked_sub(self.rid_base)?;
        (off < self.length).then(|| self.sid_base + off)
    }
    pub fn max_sid(&self) -> u32 {
        self.sid_base + self.length.saturating_sub(1)
    }
}

pub struct Platform {
    pub smmu_base: u64,
    pub smmu_coherent: bool,
    pub smmu_phandle: u32,
    pub host: HostBridge,
    pub map: IdMap,
}

pub fn platform(dt: &DeviceTree<'_>) -> Result<Platform, &'static str> {
    let smmu = dt
        .nodes()
        .find(|n| compatible(*n, "arm,smmu-v3") && n.is_available())
        .ok_or("no arm,smmu-v3 node")?;
    let reg = smmu
        .property("reg")
        .and_then(|p| p.cells())
        .ok_or("smmu without reg")?;
    let (base, _) = reg.split(2).ok_or("smmu reg too short")?;
    let phandle = smmu.u32_property("phandle").ok_or("smmu without phandle")?;
    let pcie = dt
        .nodes()
        .find(|n| compatible(*n, "pci-host-ecam-generic") && n.is_available())
        .ok_or("no pci-host-ecam-generic node")?;
    let host = HostBridge::from_node(pcie).ok_or("pcie node without reg or a 32-bit window")?;
    let map = pcie
        .property("iommu-map")
        .and_then(|p| p.cells())
        .ok_or("pcie node without iommu-map")?;
    let map = IdMap {
        rid_base: map.get(0).ok_or("short iommu-map")?,
        iommu: map.get(1).ok_or("short iommu-map")?,
        sid_base: map.get(2).ok_or("short iommu-map")?,
        length: map.get(3).ok_or("short iommu-map")?,
    };
    if map.iommu != phandle {
        return Err("iommu-map points at another IOMMU");
    }
    Ok(Platform {
        smmu_base: base.number(),
        smmu_coherent: smmu.has_property("dma-coherent"),
        smmu_phandle: phandle,
        host,
        map,
    })
}
