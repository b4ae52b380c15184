//! A bare-metal kernel for QEMU's `virt` machine with a `virtio-iommu-pci`.
//!
//! It runs the iommugen runtime's boot flow on the device tree QEMU passes:
//! (1) the declaration table generated from `examples/virtio-iommu.iommu`
//! claims the `virtio,pci-iommu` node; (2) `iommu_init` calls its early-init
//! hook, which places the device's BARs, walks its virtio-pci capabilities
//! and brings it up with the runtime's driver; (3) `of_pci_iommu_configure`
//! turns the `edu` function's requester ID into an endpoint ID through the
//! host bridge's `iommu-map` and the generated `of_xlate`; (4)
//! `arch_setup_pci_dma_ops` gives it IOMMU DMA ops with a domain. The
//! kernel ATTACHes the endpoint, PROBEs its reserved regions, and builds the
//! domain on the spec's request domain, so every map and unmap is a MAP or
//! UNMAP request. Then the checks; the exit status (through semihosting) is
//! 0 only if all pass.
#![no_std]
#![no_main]

// Shared with the SMMUv3 kernel: entry and MMU, globals, bump allocator,
// semihosting exit, device-tree loading, UART, ECAM and edu.
#[path = "../../qemu-virt-smmuv3/src/boot.rs"]
mod boot;
#[path = "../../qemu-virt-smmuv3/src/edu.rs"]
mod edu;
#[path = "../../qemu-virt-smmuv3/src/global.rs"]
mod global;
#[path = "../../qemu-virt-smmuv3/src/mem.rs"]
mod mem;
#[path = "../../qemu-virt-smmuv3/src/pci.rs"]
mod pci;
#[path = "../../qemu-virt-smmuv3/src/semihost.rs"]
mod semihost;
#[path = "../../qemu-virt-smmuv3/src/tree.rs"]
mod tree;
#[path = "../../qemu-virt-smmuv3/src/uart.rs"]
mod uart;

mod checks;
mod virtio_iommu;

use iommugen_runtime::boot::setup_pci;
use iommugen_runtime::decl::IOMMU_DECLARATIONS;
use iommugen_runtime::domain::Domain;
use iommugen_runtime::fdt::Node;
use iommugen_runtime::fwspec::FwSpec;
use iommugen_runtime::init::{iommu_init, IommuRecord, IommuState};
use iommugen_runtime::ops::{DmaOps, DomainInfo, DomainTable};
use iommugen_runtime::virtio::{ResvKind, ResvMem};

use crate::global::Global;

/// Seed step (1) and the request domain type, generated from
/// `examples/virtio-iommu.iommu` by build.rs: `virtio_iommu::VirtioIommu`
/// (its init hook is `crate::virtio_iommu::probe`), `DECLARATIONS` and
/// `VirtioIommuDomain`.
pub mod generated {
    include!(concat!(env!("OUT_DIR"), "/virtio_iommu.rs"));
}
use generated::virtio_iommu::VirtioIommu;

/// Free RAM after the image, for the virtqueues and DMA buffers.
pub static BUMP: Global<mem::Bump> = Global::new(mem::Bump::new(0..0));

/// The IOVA window the domain manages: 256 MiB from the bottom of the
/// aperture, which holds QEMU's MSI doorbell region (check 3).
const WINDOW: u64 = 1 << 28;

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    println!("PANIC: {info}");
    semihost::exit(2)
}

#[no_mangle]
extern "C" fn kmain() -> ! {
    match run() {
        Ok(0) => {
            println!("qemu-virt-virtio-iommu: all checks passed");
            semihost::exit(0)
        }
        Ok(failed) => {
            println!("qemu-virt-virtio-iommu: {failed} check(s) FAILED");
            semihost::exit(1)
        }
        Err(why) => {
            println!("qemu-virt-virtio-iommu: setup FAILED: {why}");
            semihost::exit(4)
        }
    }
}

/// A node's full path, for the log.
struct PathOf<'a>(Node<'a>);

impl core::fmt::Display for PathOf<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        self.0.write_path(f)
    }
}

fn run() -> Result<u32, &'static str> {
    let (_blob, dt) = tree::load()?;
    let ram = tree::memory(&dt).ok_or("no /memory node")?;
    boot::enable_mmu(ram.clone());
    let free = tree::free_ram(&ram);
    println!(
        "boot: DTB at 0x40000000 ({} nodes), RAM {:#x}..{:#x}, MMU on, free RAM from {:#x}",
        dt.len(),
        ram.start,
        ram.end,
        free.start
    );
    BUMP.with(|b| *b = mem::Bump::new(free));

    // Seed steps (1) and (2).
    let tables = [
        &IOMMU_DECLARATIONS[..],
        generated::virtio_iommu::DECLARATIONS,
    ];
    let mut records = [IommuRecord::EMPTY; 4];
    let iommus = iommu_init(&dt, &tables, &mut records).map_err(|_| "too many IOMMU nodes")?;
    for r in iommus.records() {
        let node = dt.node(r.node).ok_or("bad node id")?;
        match r.state {
            IommuState::Initialised { decl, .. } => {
                println!(
                    "iommu_init: {} claimed by {}",
                    PathOf(node),
                    decl.driver.name()
                )
            }
            IommuState::Failed { decl, error } => {
                println!(
                    "iommu_init: {} ({}) FAILED: {error}",
                    PathOf(node),
                    decl.driver.name()
                );
                return Err("the virtio-iommu's early-init hook failed");
            }
            IommuState::Disabled { .. } => println!("iommu_init: {} disabled", PathOf(node)),
            IommuState::Unclaimed => println!("iommu_init: {} unclaimed", PathOf(node)),
        }
    }

    // The edu, its BAR after the virtio-iommu's.
    let host = dt
        .nodes()
        .find(|n| tree::compatible(*n, "pci-host-ecam-generic") && n.is_available())
        .ok_or("no pci-host-ecam-generic node")?;
    let bridge = pci::HostBridge::from_node(host).ok_or("pcie node without reg or window")?;
    let bdf = bridge
        .find_all(edu::VENDOR, edu::DEVICE)
        .next()
        .ok_or("no edu device on bus 0")?;
    let from = virtio_iommu::NEXT_MMIO.with(|n| *n);
    let (bar0, _) = bridge
        .enable_bar0(bdf, from)
        .ok_or("cannot place edu's BAR0")?;
    // SAFETY: BAR0 was just placed in the bridge's window, which the boot map
    // covers as Device memory.
    let edu = unsafe { edu::Edu::new(bar0) };
    println!(
        "pci: edu at {bdf} (rid {:#x}), BAR0 {bar0:#x}, ident {:#010x}",
        bdf.rid(),
        edu.ident()
    );

    // Seed steps (3) and (4).
    let mut fwspec: FwSpec<4, 2> = FwSpec::new();
    let mut domain_info = [DomainInfo::EMPTY; 4];
    let mut per_instance = [0u32; 4];
    let mut domains = DomainTable::new(&mut domain_info, &mut per_instance);
    let (setup, mapped) =
        setup_pci(host, bdf.rid(), &iommus, &mut fwspec, &mut domains).map_err(|e| {
            println!("setup_pci: {e}");
            "of_pci_iommu_configure / arch_setup_dma_ops failed"
        })?;
    let (iommu_node, endpoint) = mapped.ok_or("no iommu-map entry for the edu")?;
    println!(
        "of_pci_iommu_configure: rid {:#x} -> {} endpoint {endpoint:#x} ({:?})",
        bdf.rid(),
        PathOf(dt.node(iommu_node).ok_or("bad node id")?),
        setup.configured
    );
    let DmaOps::Iommu {
        domain,
        iova_base,
        iova_last,
    } = setup.dma.ops
    else {
        return Err("the edu got direct DMA ops, not the IOMMU's");
    };
    println!(
        "arch_setup_dma_ops: coherent={} mask={:#x} ops=iommu domain {} IOVA {iova_base:#x}..={iova_last:#x}",
        setup.dma.coherent, setup.dma.mask, domain.0
    );

    // The device's domain: ATTACH every endpoint of the fwspec, PROBE the
    // edu's reserved regions.
    let data = iommus.data(iommu_node).ok_or("the IOMMU has no instance")?;
    let viommu = virtio_iommu::instance(data).ok_or("no virtio-iommu instance")?;
    let dom_id = domain.0 + 1;
    for (_, id) in fwspec.all_ids() {
        viommu.borrow_mut().attach(dom_id, id).map_err(|e| {
            println!("virtio-iommu: ATTACH endpoint {id:#x} failed: {e}");
            "ATTACH failed"
        })?;
        println!("virtio-iommu: ATTACH endpoint {id:#x} to domain {dom_id}");
    }
    let mut resv = [ResvMem {
        kind: ResvKind::Reserved,
        start: 0,
        end: 0,
    }; 8];
    let n = viommu
        .borrow_mut()
        .probe(endpoint, &mut resv)
        .map_err(|e| {
            println!("virtio-iommu: PROBE endpoint {endpoint:#x} failed: {e}");
            "PROBE failed"
        })?;
    let resv = &resv[..n];
    for r in resv {
        println!(
            "virtio-iommu: PROBE endpoint {endpoint:#x}: RESV_MEM {:?} {:#x}..={:#x}",
            r.kind, r.start, r.end
        );
    }

    // The boot flow's domain on the spec's request domain: its map and
    // unmap are MAP and UNMAP requests; the reserved regions are carved out
    // of its allocator before anything is allocated.
    let table = VirtioIommu::domain(viommu, dom_id);
    let size = WINDOW.min(iova_last - iova_base + 1);
    let mut iova_words = [0u64; iommugen_runtime::iova::storage_words(WINDOW, 12)];
    let mut dom: checks::Dom<'_> = Domain::new(table, &mut iova_words, iova_base, size, 12)
        .map_err(|_| "cannot build the domain's IOVA allocator")?;
    for r in resv {
        let start = r.start & !0xfff;
        let bytes = (r.end | 0xfff) - start + 1;
        dom.reserve(start, bytes).map_err(|e| {
            println!("domain: reserving {start:#x}+{bytes:#x} failed: {e}");
            "cannot reserve a PROBE region"
        })?;
    }
    let mut ctx = checks::Ctx {
        viommu,
        dom: &mut dom,
        limit: setup.dma.mask.min(iova_last),
        edu,
        endpoint,
        resv,
    };
    Ok(checks::run_all(&mut ctx))
}
