//! A bare-metal kernel for QEMU's `virt` machine with `iommu=smmuv3`: it
//! brings up the SMMUv3 with the iommugen runtime, points QEMU's `edu` PCI
//! device at IOVAs mapped by the runtime's page-table engine, and checks
//! that DMA is translated, isolated and permission-checked. Each check
//! prints one line; the exit status (through semihosting) is 0 only if all
//! pass.
#![no_std]
#![no_main]

mod boot;
mod checks;
mod edu;
mod mem;
mod pci;
mod semihost;
mod smmu_tlb;
mod tree;
mod uart;

use core::cell::RefCell;

use iommugen_runtime::pgtable::format::S1G4K48;
use iommugen_runtime::pgtable::{PageTable, StaticPool, Table4K, MAIR};
use iommugen_runtime::smmuv3::cd::{Granule, Stage1Config};
use iommugen_runtime::smmuv3::driver::{read_features, Options};
use iommugen_runtime::smmuv3::regs::FRAME_SIZE;
use iommugen_runtime::smmuv3::{
    ContextDescriptor, DmaSlice, Memory, Mmio, Smmuv3, StreamTableSize,
};

/// Tables for the one DMA domain (4 KiB each).
static POOL: StaticPool<Table4K, 32> = StaticPool::new();

/// The domain's ASID (0 is left unused).
const ASID: u16 = 1;
const CMDQ_LOG2: u8 = 8;
const EVTQ_LOG2: u8 = 10;

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
            println!("qemu-virt-smmuv3: setup failed: {why}");
            semihost::exit(4)
        }
    }
}

/// Boots, sets up, runs the checks; returns the number that failed.
fn run() -> Result<u32, &'static str> {
    let el: u64;
    // SAFETY: reading CurrentEL has no side effects.
    unsafe { core::arch::asm!("mrs {}, CurrentEL", out(reg) el, options(nomem, nostack)) };
    println!("qemu-virt-smmuv3: entered at EL{}", (el >> 2) & 3);

    let dt = tree::load()?;
    let ram = tree::memory(&dt).ok_or("no /memory node")?;
    boot::enable_mmu(ram.clone());
    println!(
        "boot: RAM {:#x}..{:#x}, MMU on (identity map)",
        ram.start, ram.end
    );

    let facts = tree::platform(&dt)?;
    println!(
        "dt: smmu {:#x} ({}) phandle {:#x}; pcie ecam {:#x}, mmio32 {:#x}+{:#x}; iommu-map rid {:#x}+{:#x} -> sid {:#x}",
        facts.smmu_base,
        if facts.smmu_coherent { "dma-coherent" } else { "non-coherent" },
        facts.smmu_phandle,
        facts.host.ecam,
        facts.host.mmio32,
        facts.host.mmio32_size,
        facts.map.rid_base,
        facts.map.length,
        facts.map.sid_base,
    );

    // SAFETY: the node's `reg` is the SMMU's 128 KiB frame, identity-mapped
    // as Device memory by the boot map, and only this driver touches it.
    let regs = unsafe { Mmio::new(facts.smmu_base as usize, FRAME_SIZE) };
    let features = read_features(&regs);
    println!(
        "smmuv3: stage1={} stage2={} sid_bits={} oas={} granules 4K={} 16K={} 64K={} cmdq<=2^{} evtq<=2^{} range_inval={} coherent={}",
        features.stage1,
        features.stage2,
        features.sid_bits,
        features.oas_bits,
        features.granules.g4k,
        features.granules.g16k,
        features.granules.g64k,
        features.cmdq_max_log2,
        features.evtq_max_log2,
        features.range_invalidation,
        features.coherent,
    );
    if !features.granules.g4k {
        return Err("the SMMU lacks the 4K granule the page-table format uses");
    }

    let mut bump = mem::Bump::new(tree::free_ram(&ram));
    let strtab_size = StreamTableSize::for_max_stream_id(&features, facts.map.max_sid());
    let strtab = bump
        .slice(strtab_size.entries(), strtab_size.bytes() as u64)
        .ok_or("no RAM for the stream table")?;
    let cmdq_log2 = CMDQ_LOG2.min(features.cmdq_max_log2);
    let evtq_log2 = EVTQ_LOG2.min(features.evtq_max_log2);
    let cmdq = bump
        .slice(1 << cmdq_log2, 16u64 << cmdq_log2)
        .ok_or("no RAM for the command queue")?;
    let evtq = bump
        .slice(1 << evtq_log2, 32u64 << evtq_log2)
        .ok_or("no RAM for the event queue")?;
    let memory = Memory {
        stream_table: DmaSlice::identity(strtab),
        cmdq: DmaSlice::identity(cmdq),
        evtq: DmaSlice::identity(evtq),
    };
    let options = Options {
        coherent: facts.smmu_coherent,
        ..Options::default()
    };
    let smmu = Smmuv3::enable(regs, features, memory, options).map_err(|e| {
        println!("smmuv3: enable failed: {e}");
        "SMMU bring-up failed"
    })?;
    println!(
        "smmuv3: enabled: linear stream table 2^{} STEs ({} KiB), cmdq 2^{}, evtq 2^{}; CFGI_ALL + TLBI_NSNH_ALL + CMD_SYNC done",
        strtab_size.log2_entries,
        strtab_size.bytes() / 1024,
        cmdq_log2,
        evtq_log2
    );
    let smmu = RefCell::new(smmu);

    let bridge = facts.host;
    let bdf = bridge
        .find(edu::VENDOR, edu::DEVICE)
        .ok_or("no edu device on bus 0")?;
    let bar0 = bridge.enable_bar0(bdf).ok_or("cannot place edu's BAR0")?;
    // SAFETY: BAR0 was just placed in the bridge's window, which the boot map
    // covers as Device memory.
    let edu = unsafe { edu::Edu::new(bar0) };
    let sid = facts
        .map
        .sid_for(bdf.rid())
        .ok_or("edu's RID is outside the iommu-map")?;
    println!(
        "pci: edu {:04x}:{:04x} at {bdf}, rid {:#x} -> StreamID {sid:#x}, BAR0 {bar0:#x}, ident {:#010x}",
        edu::VENDOR,
        edu::DEVICE,
        bdf.rid(),
        edu.ident()
    );

    let tlb = smmu_tlb::SmmuTlb::new(&smmu, ASID);
    let pt: PageTable<S1G4K48, _, _> =
        PageTable::new(&POOL, &tlb).map_err(|_| "no table for the page-table root")?;
    let cd = ContextDescriptor::stage1(&Stage1Config {
        ttb0: pt.root(),
        ias: 48,
        oas: 48u8.min(features.oas_bits),
        granule: Granule::G4K,
        coherent_walk: facts.smmu_coherent && features.coherent,
        asid: ASID,
        mair: MAIR,
    });
    let cd_table = bump
        .slice::<ContextDescriptor>(1, 64)
        .ok_or("no RAM for the context descriptor")?;
    let mut cd_table = DmaSlice::identity(cd_table);
    smmu.borrow_mut()
        .attach_stage1(sid, &mut cd_table, cd)
        .map_err(|e| {
            println!("smmuv3: attach failed: {e}");
            "attaching the edu's stream failed"
        })?;
    println!(
        "smmuv3: StreamID {sid:#x} -> stage 1, ASID {ASID}, TTB0 {:#x}, T0SZ 16, 4K granule, MAIR {MAIR:#x}",
        pt.root()
    );

    let mut ctx = checks::Ctx {
        smmu: &smmu,
        tlb: &tlb,
        pt: &pt,
        pool: &POOL,
        edu,
        sid,
        bump: &mut bump,
    };
    Ok(checks::run_all(&mut ctx))
}
