//! A bare-metal kernel for QEMU's `virt` machine with `iommu=smmuv3`.
//!
//! It runs the iommugen runtime's boot flow on the device tree QEMU passes:
//! (1) a declaration table claims `arm,smmu-v3`; (2) `iommu_init` calls the
//! driver's early-init hook, which brings the SMMUv3 up; (3)
//! `of_pci_iommu_configure` turns the `edu` PCI function's requester ID into
//! a StreamID through the host bridge's `iommu-map`; (4)
//! `arch_setup_pci_dma_ops` gives it IOMMU DMA ops with a domain. The
//! domain's page table is the runtime's engine; its TLB maintenance goes
//! through the SMMU's command queue. Then `edu` DMA checks translation,
//! isolation after unmap, read-only mappings and 2 MiB blocks (checks 1-4),
//! isolation between two edus (5), an MSI through the SMMU to the GICv3
//! ITS with and without its doorbell mapped (6, 7) and a reserved region
//! from `iommu-addresses` the kernel adds to QEMU's tree (8). Each check
//! prints one line; the exit status (through semihosting) is 0 only if all
//! pass.
#![no_std]
#![no_main]

mod boot;
mod bootflow;
mod checks;
mod edu;
mod gic;
mod global;
mod isolation;
mod mem;
mod msi;
mod overlay;
mod pci;
mod reserved;
mod semihost;
mod smmu;
mod tlb;
mod tree;
mod uart;

use iommugen_runtime::boot::setup_pci;
use iommugen_runtime::decl::IOMMU_DECLARATIONS;
use iommugen_runtime::domain::Domain;
use iommugen_runtime::fwspec::FwSpec;
use iommugen_runtime::init::{iommu_init, IommuRecord, IommuTable};
use iommugen_runtime::msi::of_msi_target;
use iommugen_runtime::ops::{DmaOps, DomainInfo, DomainTable};
use iommugen_runtime::pgtable::{Format, MAIR};
use iommugen_runtime::smmuv3::cd::{Granule, Stage1Config};
use iommugen_runtime::smmuv3::{ContextDescriptor, DmaSlice};

use crate::bootflow::PathOf;
use crate::global::Global;

// Seed step (1) and the page-table format, generated from
// `examples/arm-smmu-v3.iommu` by build.rs: `pub mod arm_smmu_v3` with the
// `IommuDriver` (its init hook is `crate::smmu::probe`), `DECLARATIONS`, the
// format `ArmSmmuV3Format`, the pool `ARM_SMMU_V3_POOL` and `page_table()`.
include!(concat!(env!("OUT_DIR"), "/arm_smmu_v3.rs"));
use arm_smmu_v3::{ArmSmmuV3, ArmSmmuV3Format};

/// Free RAM after the image, for SMMU tables and queues and DMA buffers.
pub static BUMP: Global<mem::Bump> = Global::new(mem::Bump::new(0..0));

/// The domain's ASID (0 is left unused).
const ASID: u16 = 1;
/// The second edu's domain's ASID.
const ASID_B: u16 = 2;

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    println!("PANIC: {info}");
    semihost::exit(2)
}

#[no_mangle]
extern "C" fn kmain() -> ! {
    match run() {
        Ok(0) => {
            println!("qemu-virt-smmuv3: all checks passed");
            semihost::exit(0)
        }
        Ok(failed) => {
            println!("qemu-virt-smmuv3: {failed} check(s) FAILED");
            semihost::exit(1)
        }
        Err(why) => {
            println!("qemu-virt-smmuv3: setup FAILED: {why}");
            semihost::exit(4)
        }
    }
}

/// The SMMU instance behind IOMMU node `node`, if its hook succeeded (the
/// seed's `of_iommu_get_data`, then the driver's own storage).
fn instance_of(
    iommus: &IommuTable<'_, '_>,
    node: iommugen_runtime::fdt::NodeId,
) -> Option<&'static smmu::Instance> {
    smmu::instance(iommus.data(node)?)
}

/// Boots, runs the boot flow, sets up the domain, runs the checks; returns
/// the number of checks that failed.
fn run() -> Result<u32, &'static str> {
    let el: u64;
    // SAFETY: reading CurrentEL has no side effects.
    unsafe { core::arch::asm!("mrs {}, CurrentEL", out(reg) el, options(nomem, nostack)) };
    println!("qemu-virt-smmuv3: entered at EL{}", (el >> 2) & 3);

    let (qemu_blob, qemu) = tree::load()?;
    let ram = tree::memory(&qemu).ok_or("no /memory node")?;
    boot::enable_mmu(ram.clone());
    let free = tree::free_ram(&ram);
    println!(
        "boot: DTB at 0x40000000 ({} nodes), RAM {:#x}..{:#x}, MMU on (identity map), free RAM from {:#x}",
        qemu.len(),
        ram.start,
        ram.end,
        free.start
    );
    BUMP.with(|b| *b = mem::Bump::new(free));
    // The tree the boot flow runs on: QEMU's, with a node for the edu and
    // a reserved region it uses (check 8).
    let (dt, region) = reserved::extended_tree(qemu_blob, &qemu)?;

    // Seed steps (1) and (2).
    let tables = [&IOMMU_DECLARATIONS[..], arm_smmu_v3::DECLARATIONS];
    let mut records = [IommuRecord::EMPTY; 4];
    let iommus = iommu_init(&dt, &tables, &mut records).map_err(|_| "too many IOMMU nodes")?;
    bootflow::report_iommus(&dt, &iommus, "the SMMU's early-init hook failed")?;

    // The PCI function.
    let host = dt
        .nodes()
        .find(|n| tree::compatible(*n, "pci-host-ecam-generic") && n.is_available())
        .ok_or("no pci-host-ecam-generic node")?;
    let bridge =
        pci::HostBridge::from_node(host).ok_or("pcie node without reg or a 32-bit window")?;
    let mut found = bridge.find_all(edu::VENDOR, edu::DEVICE);
    let bdf = found.next().ok_or("no edu device on bus 0")?;
    // A second edu, if QEMU has one, shows isolation between two devices.
    let second = found.next();
    drop(found);
    let (bar0, bar0_size) = bridge
        .enable_bar0(bdf, 0)
        .ok_or("cannot place edu's BAR0")?;
    // SAFETY: BAR0 was just placed in the bridge's window, which the boot map
    // covers as Device memory.
    let edu = unsafe { edu::Edu::new(bar0) };
    println!(
        "pci: ecam {:#x}: edu {:04x}:{:04x} at {bdf} (rid {:#x}), BAR0 {bar0:#x}, ident {:#010x}",
        bridge.ecam,
        edu::VENDOR,
        edu::DEVICE,
        bdf.rid(),
        edu.ident()
    );

    // Seed steps (3) and (4).
    let mut fwspec: FwSpec<4, 2> = FwSpec::new();
    let mut domain_info = [DomainInfo::EMPTY; 4];
    let mut per_instance = [0u32; 4];
    let mut domains = DomainTable::new(&mut domain_info, &mut per_instance);
    let bootflow::Attached {
        setup,
        iommu: iommu_node,
        id: sid,
        domain,
        iova_base,
        iova_last,
    } = bootflow::attach_pci(
        &dt,
        host,
        bdf.rid(),
        &iommus,
        &mut fwspec,
        &mut domains,
        "StreamID",
    )?;

    // The domain: page table, context descriptor, and every (SMMU, StreamID)
    // of the fwspec pointed at it.
    let smmu = instance_of(&iommus, iommu_node).ok_or("the IOMMU has no instance")?;
    let (features, smmu_coherent) = {
        let s = smmu.borrow();
        (*s.features(), s.coherent())
    };
    let tlb = checks::SmmuTlb::new(smmu, ASID, Granule::G4K);
    if tlb::FORGET_INVALIDATION {
        println!("MUTANT: TLB invalidations are dropped (feature forget-tlb-invalidation); checks must fail");
    }
    let pt = ArmSmmuV3::page_table(tlb::Maintenance(&tlb))
        .map_err(|_| "no table for the page-table root")?;
    // The CD describes the spec's format: its input size, and its output
    // size capped by what the SMMU can emit.
    let ias = ArmSmmuV3Format::IAS as u8;
    let oas = (ArmSmmuV3Format::OAS as u8).min(features.oas_bits);
    let cd = ContextDescriptor::stage1(&Stage1Config {
        ttb0: pt.root(),
        ias,
        oas,
        granule: Granule::G4K,
        // The walker snoops our table writes only if the SMMU is coherent
        // (the tree says `dma-coherent` and IDR0.COHACC agrees).
        coherent_walk: smmu_coherent,
        asid: ASID,
        mair: MAIR,
    });
    let cd_table = BUMP
        .with(|b| b.slice::<ContextDescriptor>(1, 64))
        .ok_or("no RAM for the context descriptor")?;
    let mut cd_table = DmaSlice::identity(cd_table);
    let size = (iova_last - iova_base).saturating_add(1);
    // The domain owns the page table (the engine implements the boot flow's
    // PageTableOps) and allocates IOVAs in the window step (4) chose. The
    // allocator's bitmaps live here: 256 MiB of 4K pages (32 KiB of
    // stack), plenty for the checks; the domain manages that much of the
    // window, the top of it below 4 GiB.
    let mut iova_words = [0u64; iommugen_runtime::iova::storage_words(1 << 28, 12)];
    let mut dom: checks::Dom<'_> = Domain::new(pt, &mut iova_words, iova_base, size, 12)
        .map_err(|_| "cannot build the domain's IOVA allocator")?;
    // The edu's reserved regions, installed before it is attached.
    reserved::install(host, bdf, &mut dom)?;
    // MSIs: the host bridge's msi-map names the ITS and the DeviceID; the
    // SW-MSI window is reserved and the doorbell mapped before any DMA
    // mapping (Linux does both when the domain is set up).
    let target = of_msi_target(host, bdf.rid())
        .map_err(|e| {
            println!("of_msi_target: {e}");
            "the host bridge's MSI properties are unusable"
        })?
        .ok_or("no MSI controller for the edu")?;
    println!(
        "of_msi_target: rid {:#x} -> {} DeviceID {:#x}",
        bdf.rid(),
        PathOf(dt.node(target.controller).ok_or("bad node id")?),
        target.device_id
    );
    if msi::FORGET_DOORBELL {
        println!("MUTANT: the MSI doorbell is never mapped (feature forget-msi-doorbell); check 6 must fail");
    }
    let msi_a = msi::prepare(&mut dom, target)?;
    msi::describe(&msi_a, "edu");
    let mut msi_env = msi::Env {
        dt: &dt,
        bridge,
        bdf,
        msi: msi_a,
    };

    // Attach: the domain's mappings are in place before the SMMU uses them.
    for (node, id) in fwspec.all_ids() {
        let inst = instance_of(&iommus, node).ok_or("fwspec names an IOMMU without instance")?;
        smmu::prepare_stream(inst, id)?;
        inst.borrow_mut()
            .attach_stage1(id, &mut cd_table, cd)
            .map_err(|e| {
                println!("smmuv3: attach failed: {e}");
                "attaching the stream failed"
            })?;
        println!(
            "smmuv3: StreamID {id:#x} -> STE stage 1 -> CD (ASID {ASID}, TTB0 {:#x}, T0SZ {}, 4K granule, IPS {oas} bits, MAIR {MAIR:#x})",
            dom.table.root(),
            64 - ias
        );
    }
    let mut ctx = checks::Ctx {
        smmu,
        tlb: &tlb,
        pool: &arm_smmu_v3::ARM_SMMU_V3_POOL,
        dom: &mut dom,
        limit: setup.dma.mask.min(iova_last),
        edu,
        sid,
        b: None,
    };
    // Check 8 first: the reserved region works before any buffer is mapped.
    let mut failed = reserved::check(&mut ctx, region);
    failed += checks::run_all(&mut ctx);
    let Some(bdf_b) = second else {
        println!("pci: one edu device: check 5 (isolation between devices) needs two");
        return Ok(failed + msi::run(&mut ctx, &mut msi_env));
    };

    // The second edu: its own BAR, steps (3) and (4) again (a per-device
    // domain of its own), its own page table, ASID and CD.
    let (bar_b, _) = bridge
        .enable_bar0(bdf_b, bar0 + bar0_size)
        .ok_or("cannot place the second edu's BAR0")?;
    // SAFETY: as for the first edu's BAR0.
    let edu_b = unsafe { edu::Edu::new(bar_b) };
    let mut fwspec_b: FwSpec<4, 2> = FwSpec::new();
    let (setup_b, mapped_b) = setup_pci(host, bdf_b.rid(), &iommus, &mut fwspec_b, &mut domains)
        .map_err(|e| {
            println!("setup_pci (second edu): {e}");
            "of_pci_iommu_configure / arch_setup_dma_ops failed for the second edu"
        })?;
    let (_, sid_b) = mapped_b.ok_or("no iommu-map entry for the second edu")?;
    let DmaOps::Iommu {
        domain: domain_b,
        iova_base: base_b,
        iova_last: last_b,
    } = setup_b.dma.ops
    else {
        return Err("the second edu got direct DMA ops");
    };
    println!(
        "pci: second edu at {bdf_b} (rid {:#x}), BAR0 {bar_b:#x}: StreamID {sid_b:#x}, domain {} (the first edu's is {})",
        bdf_b.rid(),
        domain_b.0,
        domain.0
    );
    if domain_b == domain {
        return Err("`domain per-device` gave both edus one domain");
    }
    let tlb_b = checks::SmmuTlb::new(smmu, ASID_B, Granule::G4K);
    let pt_b = ArmSmmuV3::page_table(tlb::Maintenance(&tlb_b))
        .map_err(|_| "no table for the second page-table root")?;
    let cd_b = ContextDescriptor::stage1(&Stage1Config {
        ttb0: pt_b.root(),
        ias,
        oas,
        granule: Granule::G4K,
        coherent_walk: smmu_coherent,
        asid: ASID_B,
        mair: MAIR,
    });
    let cd_table_b = BUMP
        .with(|b| b.slice::<ContextDescriptor>(1, 64))
        .ok_or("no RAM for the second context descriptor")?;
    let mut cd_table_b = DmaSlice::identity(cd_table_b);
    for (node, id) in fwspec_b.all_ids() {
        let inst = instance_of(&iommus, node).ok_or("fwspec names an IOMMU without instance")?;
        smmu::prepare_stream(inst, id)?;
        inst.borrow_mut()
            .attach_stage1(id, &mut cd_table_b, cd_b)
            .map_err(|e| {
                println!("smmuv3: attach failed: {e}");
                "attaching the second stream failed"
            })?;
        println!(
            "smmuv3: StreamID {id:#x} -> STE stage 1 -> CD (ASID {ASID_B}, TTB0 {:#x})",
            pt_b.root()
        );
    }
    let mut iova_words_b = [0u64; iommugen_runtime::iova::storage_words(1 << 24, 12)];
    let size_b = (last_b - base_b).saturating_add(1);
    let mut dom_b: checks::Dom<'_> = Domain::new(pt_b, &mut iova_words_b, base_b, size_b, 12)
        .map_err(|_| "cannot build the second domain's IOVA allocator")?;
    // Every PCI function's domain gets the SW-MSI window and the doorbell.
    let target_b = of_msi_target(host, bdf_b.rid())
        .ok()
        .flatten()
        .ok_or("no MSI controller for the second edu")?;
    let msi_b = msi::prepare(&mut dom_b, target_b)?;
    msi::describe(&msi_b, "second edu");
    let mut other = isolation::Other {
        edu: edu_b,
        sid: sid_b,
        dom: &mut dom_b,
        limit: setup_b.dma.mask.min(last_b),
    };
    failed += isolation::run(&mut ctx, &mut other);
    failed += msi::run(&mut ctx, &mut msi_env);
    Ok(failed)
}
