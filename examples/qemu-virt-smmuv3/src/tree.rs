//! The device tree QEMU leaves at the start of RAM, indexed with the
//! runtime's FDT reader, and the RAM facts the kernel needs before the boot
//! flow runs.

use core::ops::Range;

use iommugen_runtime::fdt::{DeviceTree, Fdt, Node, NodeEntry, PhandleEntry};

/// QEMU places the DTB at the start of RAM for kernels linked above it.
const DTB_ADDR: usize = 0x4000_0000;

static mut QEMU_NODES: [NodeEntry; 256] = [NodeEntry::EMPTY; 256];
static mut QEMU_PHANDLES: [PhandleEntry; 64] = [PhandleEntry::EMPTY; 64];
static mut NODES: [NodeEntry; 256] = [NodeEntry::EMPTY; 256];
static mut PHANDLES: [PhandleEntry; 64] = [PhandleEntry::EMPTY; 64];

/// QEMU's blob and its index.
pub fn load() -> Result<(&'static [u8], DeviceTree<'static>), &'static str> {
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
    // SAFETY: called once at boot, before anything else uses the storage.
    let (nodes, phandles) = unsafe {
        (
            &mut *core::ptr::addr_of_mut!(QEMU_NODES),
            &mut *core::ptr::addr_of_mut!(QEMU_PHANDLES),
        )
    };
    Ok((blob, index(blob, nodes, phandles)?))
}

/// The index of the tree the boot flow runs on (QEMU's, extended by
/// `overlay::extend`).
pub fn load_extended(blob: &'static [u8]) -> Result<DeviceTree<'static>, &'static str> {
    // SAFETY: called once, after `load`, before anything else uses this
    // storage (a different one from `load`'s).
    let (nodes, phandles) = unsafe {
        (
            &mut *core::ptr::addr_of_mut!(NODES),
            &mut *core::ptr::addr_of_mut!(PHANDLES),
        )
    };
    index(blob, nodes, phandles)
}

fn index(
    blob: &'static [u8],
    nodes: &'static mut [NodeEntry],
    phandles: &'static mut [PhandleEntry],
) -> Result<DeviceTree<'static>, &'static str> {
    let fdt = Fdt::new(blob).map_err(|_| "malformed device tree")?;
    DeviceTree::new(fdt, nodes, phandles).map_err(|_| "device tree too large to index")
}

pub fn compatible(node: Node<'_>, want: &str) -> bool {
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
