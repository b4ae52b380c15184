//! Checks 6 and 7: MSIs through the SMMU. The edu's MSI is a 4-byte DMA
//! write of its message data to its message address; with the SMMU in
//! front, that address is an IOVA. The runtime's `msi` module finds the
//! doorbell (the host bridge's `msi-map` -> the ITS -> GITS_TRANSLATER)
//! and maps its page into the edu's domain in the software-MSI window
//! (0x8000000, 1 MiB, outside the IOVA allocator); the kernel programs the
//! edu's MSI capability with that IOVA and EventID 0, and the ITS with
//! DeviceID -> EventID 0 -> LPI 8192.
//!
//! Check 6: the edu raises its interrupt, the LPI becomes pending at the
//! boot CPU's redistributor and ICC_IAR1_EL1 acknowledges it, with no SMMU
//! event. Check 7: with the doorbell page unmapped from the domain (TLB
//! invalidated), the same MSI write faults in the SMMU (F_TRANSLATION at
//! the MSI IOVA) and no LPI arrives; mapped again, it arrives again.
//!
//! Built with `forget-msi-doorbell` the kernel programs the IOVA without
//! ever mapping the doorbell (a mutant): check 6 must fail.

use iommugen_runtime::msi::{MsiCookie, MsiTarget, GITS_TRANSLATER, SW_MSI_BASE, SW_MSI_SIZE};
use iommugen_runtime::smmuv3::event::{Access, EventKind};

use crate::checks::{self, Ctx, Dom};
use crate::gic::{Gic, FIRST_LPI};
use crate::pci::{Bdf, HostBridge};
use crate::println;

pub const FORGET_DOORBELL: bool = cfg!(feature = "forget-msi-doorbell");

/// PCI capability ID of MSI.
const CAP_MSI: u8 = 0x05;
/// The EventID the edu's MSI data carries, and the LPI it becomes.
const EVENT: u32 = 0;
const LPI: u32 = FIRST_LPI;

/// One domain's MSI set-up: where its device's MSIs go and the IOVA its
/// device writes.
pub struct Msi {
    pub target: MsiTarget,
    pub cookie: MsiCookie<1>,
    pub iova: u64,
}

/// Keeps the software-MSI window out of `dom`'s allocator and maps the
/// doorbell page into it (unless the mutant forgets): Linux's SW_MSI
/// reserved region and `iommu_dma_get_msi_page`.
pub fn prepare(dom: &mut Dom<'_>, target: MsiTarget) -> Result<Msi, &'static str> {
    let mut cookie = MsiCookie::new();
    cookie
        .reserve(dom)
        .map_err(|_| "cannot reserve the SW-MSI window")?;
    let iova = if FORGET_DOORBELL {
        SW_MSI_BASE + (target.doorbell & (dom.granule() - 1))
    } else {
        cookie.map_doorbell(dom, target.doorbell).map_err(|e| {
            println!("  doorbell map failed: {e}");
            "cannot map the MSI doorbell"
        })?
    };
    Ok(Msi {
        target,
        cookie,
        iova,
    })
}

/// Prints the window and the doorbell's IOVA.
pub fn describe(msi: &Msi, who: &str) {
    println!(
        "msi: {who}: DeviceID {:#x}, doorbell GITS_TRANSLATER {:#x} at IOVA {:#x} (SW-MSI window {SW_MSI_BASE:#x}+{SW_MSI_SIZE:#x}, kept out of the IOVA allocator)",
        msi.target.device_id, msi.target.doorbell, msi.iova
    );
}

/// What checks 6 and 7 need besides the first edu's context.
pub struct Env<'a, 't> {
    pub dt: &'a iommugen_runtime::fdt::DeviceTree<'t>,
    pub bridge: HostBridge,
    pub bdf: Bdf,
    pub msi: Msi,
}

/// Runs checks 6 and 7; returns how many failed.
pub fn run(ctx: &mut Ctx<'_, '_>, env: &mut Env<'_, '_>) -> u32 {
    let mut gic = None;
    let mut failed = 0;
    if let Err(why) = check6(ctx, env, &mut gic) {
        println!("check 6 (MSI through the SMMU): FAILED: {why}");
        failed += 1;
    }
    let result = match gic.as_ref() {
        Some(gic) => check7(ctx, env, gic),
        None => Err("check 6 did not bring the GIC up"),
    };
    if let Err(why) = result {
        println!("check 7 (MSI without its doorbell mapping): FAILED: {why}");
        failed += 1;
    }
    failed
}

/// Programs and enables the edu's MSI capability: address `iova`, data
/// `data`, one vector.
fn enable_msi(env: &Env<'_, '_>, iova: u64, data: u32) -> Result<(), &'static str> {
    let (b, bdf) = (&env.bridge, env.bdf);
    let cap = b
        .capability(bdf, CAP_MSI)
        .ok_or("the edu has no MSI capability")?;
    let head = b.read32(bdf, cap);
    let is_64 = (head >> 16) & (1 << 7) != 0;
    b.write32(bdf, cap + 4, iova as u32);
    if is_64 {
        b.write32(bdf, cap + 8, (iova >> 32) as u32);
        b.write32(bdf, cap + 0xc, data);
    } else if iova >> 32 != 0 {
        return Err("a 32-bit MSI capability cannot hold the IOVA");
    } else {
        b.write32(bdf, cap + 8, data);
    }
    // Control: enable (bit 0), one vector (MME 0).
    b.write32(bdf, cap, head & 0xff8f_ffff | 1 << 16);
    Ok(())
}

/// Raises the edu's interrupt and waits up to 100 ms for the LPI to be
/// pending; acknowledges it at the edu either way.
fn raise(ctx: &Ctx<'_, '_>, gic: &Gic) -> bool {
    ctx.edu.raise_irq(1);
    let deadline = crate::boot::now_ticks() + crate::boot::ticks_per_second() / 10;
    let mut seen = gic.pending(LPI);
    while !seen && crate::boot::now_ticks() < deadline {
        core::hint::spin_loop();
        seen = gic.pending(LPI);
    }
    ctx.edu.ack_irq(1);
    seen
}

fn check6(
    ctx: &mut Ctx<'_, '_>,
    env: &mut Env<'_, '_>,
    slot: &mut Option<Gic>,
) -> Result<(), &'static str> {
    let t = env.msi.target;
    let gic = slot.insert(Gic::init(env.dt, t.doorbell - GITS_TRANSLATER)?);
    gic.map_event(t.device_id, EVENT, LPI)?;
    enable_msi(env, env.msi.iova, EVENT)?;
    checks::no_events(ctx, "events before the MSI")?;
    if gic.pending(LPI) || ctx.edu.irq_status() != 0 {
        return Err("LPI or edu interrupt pending before the edu raised it");
    }
    if !raise(ctx, gic) {
        let (n, first) = checks::drain_events(ctx);
        if let Some(e) = first {
            println!("  event: {e} ({n} records)");
        }
        return Err("no LPI pending after the edu's MSI");
    }
    checks::no_events(ctx, "the MSI write raised SMMU events")?;
    let intid = gic.acknowledge();
    if intid != LPI {
        println!("  ICC_IAR1_EL1 = {intid}");
        return Err("the CPU interface did not acknowledge the LPI");
    }
    if gic.pending(LPI) {
        return Err("the LPI stayed pending after its acknowledge");
    }
    println!(
        "check 6 (MSI through the SMMU): ok: edu (StreamID {:#x}, DeviceID {:#x}) wrote its MSI to IOVA {:#x}, the SMMU translated it to GITS_TRANSLATER {:#x}; LPI {LPI} pending at the redistributor {:#x}, ICC_IAR1_EL1 = {intid}",
        ctx.sid,
        t.device_id,
        env.msi.iova,
        t.doorbell,
        gic.redistributor()
    );
    Ok(())
}

fn check7(ctx: &mut Ctx<'_, '_>, env: &mut Env<'_, '_>, gic: &Gic) -> Result<(), &'static str> {
    let doorbell = env.msi.target.doorbell;
    env.msi
        .cookie
        .unmap_doorbell(ctx.dom, doorbell)
        .map_err(|e| {
            println!("  doorbell unmap failed: {e}");
            "cannot unmap the doorbell"
        })?;
    checks::tlb_ok(ctx)?;
    if raise(ctx, gic) {
        return Err("the LPI arrived with the doorbell unmapped");
    }
    let (n, first) = checks::drain_events(ctx);
    let e = first.ok_or("no SMMU event for the MSI write")?;
    println!("  event: {e} ({n} record(s) for the 4-byte MSI write)");
    if e.kind != EventKind::Translation
        || e.stream_id != ctx.sid
        || e.input_address != Some(env.msi.iova)
        || e.access.map(|a| a.0) != Some(Access::Write)
    {
        return Err("the event is not a translation fault of the MSI write");
    }
    if gic.acknowledge() != 1023 {
        return Err("an interrupt was pending after the refused MSI");
    }
    // Mapped again: delivered again (the fault was the mapping's doing).
    let iova = env
        .msi
        .cookie
        .map_doorbell(ctx.dom, doorbell)
        .map_err(|_| "cannot map the doorbell again")?;
    checks::tlb_ok(ctx)?;
    if iova != env.msi.iova {
        return Err("the doorbell came back at another IOVA");
    }
    if !raise(ctx, gic) || gic.acknowledge() != LPI {
        return Err("the LPI did not arrive with the doorbell mapped again");
    }
    checks::no_events(ctx, "the MSI after the remap raised events")?;
    println!(
        "check 7 (MSI without its doorbell mapping): ok: doorbell page unmapped from the domain, the MSI write to IOVA {iova:#x} faulted (F_TRANSLATION, StreamID {:#x}, {n} event record(s)) and no LPI arrived; mapped again, LPI {LPI} arrived",
        ctx.sid
    );
    Ok(())
}
