//! Check 8, a reserved region the edu uses before its driver maps
//! anything: the kernel gives the edu a node and a `reserved-memory` child
//! with `iommu-addresses` (src/overlay.rs), the runtime reads it
//! (`resv::reserved_regions`) and the domain installs it before the edu is
//! attached (`Domain::install_reserved`: a fixed mapping, kept out of the
//! IOVA allocator). The check: the edu's DMA through the region's IOVA
//! reaches the region's memory with nothing mapped explicitly, and the
//! allocator refuses every IOVA inside it.

use iommugen_runtime::fdt::{DeviceTree, Node};
use iommugen_runtime::resv::{reserved_regions, ResvKind, ResvRegion};

use crate::checks::{self, Ctx, Dom};
use crate::overlay::{self, Region};
use crate::pci::{Bdf, HostBridge};
use crate::{println, PathOf};

/// Where the region sits in the edu's I/O space: the top 64 KiB below
/// 4 GiB, where the allocator would otherwise hand out its first IOVAs.
const IOVA: u64 = 0xffff_0000;
const SIZE: u64 = 0x1_0000;

fn host_of<'t>(dt: &DeviceTree<'t>) -> Result<Node<'t>, &'static str> {
    dt.nodes()
        .find(|n| crate::tree::compatible(*n, "pci-host-ecam-generic") && n.is_available())
        .ok_or("no pci-host-ecam-generic node")
}

/// QEMU's tree extended with the first edu's node and a region for it
/// (memory taken from the bump allocator); its index and the region.
pub fn extended_tree(
    blob: &'static [u8],
    qemu: &DeviceTree<'_>,
) -> Result<(DeviceTree<'static>, Region), &'static str> {
    let host = host_of(qemu)?;
    let bridge = HostBridge::from_node(host).ok_or("pcie node without reg or a 32-bit window")?;
    let bdf = bridge
        .find_all(crate::edu::VENDOR, crate::edu::DEVICE)
        .next()
        .ok_or("no edu device on bus 0")?;
    let pa = crate::BUMP
        .with(|b| b.alloc_zeroed(SIZE, SIZE))
        .ok_or("no RAM for the reserved region")?;
    let region = Region {
        pa,
        iova: IOVA,
        size: SIZE,
    };
    let extended = overlay::extend(blob, qemu, host.name_bytes(), bdf, region)?;
    let dt = crate::tree::load_extended(extended)?;
    println!(
        "overlay: tree extended ({} -> {} bytes, {} nodes): {}/edu@{:x} with memory-region -> /reserved-memory/edu-buffer@{pa:x} (iommu-addresses IOVA {IOVA:#x} size {SIZE:#x})",
        blob.len(),
        extended.len(),
        dt.len(),
        PathOf(host_of(&dt)?),
        bdf.dev
    );
    Ok((dt, region))
}

/// The node of function `bdf` under `host`: the child whose `reg` phys.hi
/// names its bus/device/function (Linux's `of_pci_find_child_device`).
fn function_node<'t>(host: Node<'t>, bdf: Bdf) -> Option<Node<'t>> {
    let want = bdf.rid() << 8;
    host.children().find(|c| {
        c.property("reg")
            .and_then(|p| p.cells())
            .and_then(|c| c.get(0))
            .is_some_and(|hi| hi & 0x00ff_ff00 == want)
    })
}

/// Reads the edu's reserved regions and installs them in `dom`.
pub fn install(host: Node<'_>, bdf: Bdf, dom: &mut Dom<'_>) -> Result<(), &'static str> {
    let node = function_node(host, bdf).ok_or("the edu has no node under the host bridge")?;
    let mut regions = [ResvRegion::EMPTY; 4];
    let n = reserved_regions(node, &mut regions).map_err(|e| {
        println!("reserved_regions: {e}");
        "the edu's reserved regions are unreadable"
    })?;
    dom.install_reserved(&regions[..n]).map_err(|(i, e)| {
        println!("install_reserved: region {i}: {e}");
        "installing the edu's reserved regions failed"
    })?;
    for r in &regions[..n] {
        let region = node.tree().node(r.node).ok_or("bad node id")?;
        println!(
            "resv: {} memory-region {}: IOVA {:#x}+{:#x} {}, installed in the domain before attach",
            PathOf(node),
            PathOf(region),
            r.iova,
            r.size,
            Kind(r.kind)
        );
    }
    Ok(())
}

/// A region's kind for the log.
struct Kind(ResvKind);

impl core::fmt::Display for Kind {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.0 {
            ResvKind::Direct => f.write_str("identity"),
            ResvKind::Fixed { pa } => write!(f, "fixed -> PA {pa:#x}"),
            ResvKind::Reserved => f.write_str("carve-out"),
        }
    }
}

/// Runs check 8; returns 1 if it failed.
pub fn check(ctx: &mut Ctx<'_, '_>, r: Region) -> u32 {
    match run(ctx, r) {
        Ok(()) => 0,
        Err(why) => {
            println!("check 8 (reserved region): FAILED: {why}");
            1
        }
    }
}

fn run(ctx: &mut Ctx<'_, '_>, r: Region) -> Result<(), &'static str> {
    let t = &ctx.dom.table;
    if t.iova_to_phys(r.iova) != Some(r.pa)
        || t.iova_to_phys(r.iova + r.size - 1) != Some(r.pa + r.size - 1)
    {
        return Err("the region's IOVA range does not translate to its memory");
    }
    // The region's last page -> edu -> the region at 0x800, all by IOVA,
    // nothing mapped for it. (The last page's IOVA is the one the second
    // edu's allocator hands out first: QEMU's trace then shows one IOVA
    // reaching different memory for the two devices, check 5's test.)
    let top = r.size - 0x1000;
    checks::fill(r.pa + top, 256, checks::pattern);
    ctx.edu
        .read_from_ram(r.iova + top, 0, 256)
        .map_err(|_| "DMA timed out")?;
    ctx.edu
        .write_to_ram(0, r.iova + 0x800, 256)
        .map_err(|_| "DMA timed out")?;
    if !checks::all(r.pa + 0x800, 256, |i, v| v == checks::pattern(i)) {
        return Err("the edu's DMA through the region's IOVA did not reach its memory");
    }
    checks::no_events(ctx, "DMA through the reserved region raised events")?;
    // The allocator never hands out an IOVA inside the region.
    if let Ok(got) = ctx
        .dom
        .iova
        .alloc_range(0x1000, r.iova, r.iova + r.size - 1)
    {
        let _ = ctx.dom.iova.free(got, 0x1000);
        println!("  allocated {got:#x} inside the region");
        return Err("the IOVA allocator handed out an IOVA inside the region");
    }
    println!(
        "check 8 (reserved region): ok: IOVA {:#x}+{:#x} -> {:#x} (fixed) from iommu-addresses; edu read IOVA {:#x} and wrote IOVA {:#x} with no mapping of its own, 256 bytes arrived, no events; the allocator refuses the range",
        r.iova,
        r.size,
        r.pa,
        r.iova + top,
        r.iova + 0x800
    );
    Ok(())
}
