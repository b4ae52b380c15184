//! The four DMA checks of issue 5, each printed as one line.

use core::cell::RefCell;

use iommugen_runtime::pgtable::format::S1G4K48;
use iommugen_runtime::pgtable::{PageTable, StaticPool, Table4K, TablePool};
use iommugen_runtime::smmuv3::event::{Access, Event, EventKind};
use iommugen_runtime::smmuv3::{Mmio, Smmuv3};
use iommugen_runtime::Prot;

use crate::edu::Edu;
use crate::mem::Bump;
use crate::println;
use crate::smmu_tlb::SmmuTlb;

pub struct Ctx<'a, 's> {
    pub smmu: &'s RefCell<Smmuv3<'static, Mmio>>,
    pub tlb: &'s SmmuTlb<'s>,
    pub pt: &'a PageTable<S1G4K48, &'static StaticPool<Table4K, 32>, &'s SmmuTlb<'s>>,
    pub pool: &'static StaticPool<Table4K, 32>,
    pub edu: Edu,
    pub sid: u32,
    pub bump: &'a mut Bump,
}

/// IOVAs far from the buffers' physical addresses (RAM is below 4 GiB), so a
/// bypassed or untranslated access could not land on the buffers.
const IOVA_A: u64 = 0x1_0000_0000;
const IOVA_B: u64 = 0x1_0001_0000;
const IOVA_C: u64 = 0x1_0002_0000;
/// 2 MiB aligned, in another 1 GiB region than the others.
const IOVA_D: u64 = 0x1_4000_0000;
const SZ_4K: u64 = 0x1000;
const SZ_2M: u64 = 0x20_0000;
const RW: Prot = Prot::READ.union(Prot::WRITE).union(Prot::CACHE);
const RO: Prot = Prot::READ.union(Prot::CACHE);

fn bytes(pa: u64, len: u64) -> &'static mut [u8] {
    // SAFETY: callers pass buffers from the bump allocator (identity-mapped
    // RAM owned by the checks); the device only writes them between calls.
    unsafe { core::slice::from_raw_parts_mut(pa as *mut u8, len as usize) }
}

fn fill(pa: u64, len: u64, f: impl Fn(usize) -> u8) {
    for (i, b) in bytes(pa, len).iter_mut().enumerate() {
        // SAFETY: `b` points into the buffer; volatile so the compiler does
        // not assume the memory unchanged across the device's DMA.
        unsafe { core::ptr::write_volatile(b, f(i)) };
    }
}

fn all(pa: u64, len: u64, f: impl Fn(usize, u8) -> bool) -> bool {
    bytes(pa, len).iter().enumerate().all(|(i, b)| {
        // SAFETY: as in `fill`.
        f(i, unsafe { core::ptr::read_volatile(b) })
    })
}

fn pattern(i: usize) -> u8 {
    (i as u8).wrapping_mul(7).wrapping_add(3)
}

/// Events since the last drain: (count, first event).
fn drain(ctx: &Ctx<'_, '_>) -> (u32, Option<Event>) {
    let mut first = None;
    let mut smmu = ctx.smmu.borrow_mut();
    let stats = smmu.drain_events(|e| {
        if first.is_none() {
            first = Some(e);
        }
    });
    (stats.events, first)
}

fn tlb_ok(ctx: &Ctx<'_, '_>) -> Result<(), &'static str> {
    match ctx.tlb.failed.take() {
        None => Ok(()),
        Some(e) => {
            println!("  tlb maintenance failed: {e}");
            Err("TLB maintenance through the command queue failed")
        }
    }
}

/// A device write to `iova` must fail with a `kind` event naming our
/// StreamID and the IOVA, leaving `pa` (what the IOVA used to reach)
/// untouched.
fn expect_refused_write(
    ctx: &mut Ctx<'_, '_>,
    iova: u64,
    pa: u64,
    kind: EventKind,
) -> Result<u32, &'static str> {
    fill(pa, SZ_4K, |_| 0x5a);
    ctx.edu
        .write_to_ram(0, iova, 16)
        .map_err(|_| "DMA timed out")?;
    if !all(pa, SZ_4K, |_, b| b == 0x5a) {
        return Err("the refused write reached memory");
    }
    let (n, first) = drain(ctx);
    let e = first.ok_or("no event recorded")?;
    println!("  event: {e} ({n} records for 16 bytes)");
    if e.kind != kind {
        return Err("wrong event type");
    }
    if e.stream_id != ctx.sid {
        return Err("event names another StreamID");
    }
    if e.input_address != Some(iova) {
        return Err("event names another address");
    }
    if e.access.map(|a| a.0) != Some(Access::Write) {
        return Err("event is not for a write");
    }
    Ok(n)
}

fn check1(ctx: &mut Ctx<'_, '_>) -> Result<(), &'static str> {
    let a = ctx.bump.alloc_zeroed(SZ_4K, SZ_4K).ok_or("no RAM")?;
    let b = ctx.bump.alloc_zeroed(SZ_4K, SZ_4K).ok_or("no RAM")?;
    fill(a, SZ_4K, pattern);
    ctx.pt
        .map(IOVA_A, a, SZ_4K, RW)
        .map_err(|_| "map A failed")?;
    ctx.pt
        .map(IOVA_B, b, SZ_4K, RW)
        .map_err(|_| "map B failed")?;
    tlb_ok(ctx)?;
    ctx.edu
        .read_from_ram(IOVA_A, 0, 256)
        .map_err(|_| "DMA timed out")?;
    ctx.edu
        .write_to_ram(0, IOVA_B, 256)
        .map_err(|_| "DMA timed out")?;
    if !all(b, 256, |i, v| v == pattern(i)) {
        return Err("bytes differ after RAM -> edu -> RAM");
    }
    if !all(b + 256, SZ_4K - 256, |_, v| v == 0) {
        return Err("DMA wrote past its 256 bytes");
    }
    let (n, first) = drain(ctx);
    if let Some(e) = first {
        println!("  unexpected event: {e} (+{})", n - 1);
        return Err("translated DMA raised events");
    }
    println!(
        "check 1 (translation): ok: 256 bytes RAM {a:#x} -> edu -> RAM {b:#x} via IOVA {IOVA_A:#x} -> {IOVA_B:#x}"
    );
    Ok(())
}

fn check2(ctx: &mut Ctx<'_, '_>) -> Result<(), &'static str> {
    let b = ctx.pt.iova_to_phys(IOVA_B).ok_or("IOVA B not mapped")?;
    let syncs = ctx.tlb.syncs.get();
    let unmapped = ctx.pt.unmap(IOVA_B, SZ_4K);
    tlb_ok(ctx)?;
    if unmapped != SZ_4K {
        return Err("unmap did not remove the page");
    }
    if ctx.tlb.syncs.get() == syncs {
        return Err("unmap issued no TLB invalidation + sync");
    }
    let n = expect_refused_write(ctx, IOVA_B, b, EventKind::Translation)?;
    println!(
        "check 2 (isolation): ok: after unmap + TLBI_NH_VA + CMD_SYNC the write to IOVA {IOVA_B:#x} faulted (F_TRANSLATION, sid {:#x}, {n} events) and RAM is unchanged",
        ctx.sid
    );
    Ok(())
}

fn check3(ctx: &mut Ctx<'_, '_>) -> Result<(), &'static str> {
    let c = ctx.bump.alloc_zeroed(SZ_4K, SZ_4K).ok_or("no RAM")?;
    fill(c, SZ_4K, |i| pattern(i) ^ 0xff);
    ctx.pt
        .map(IOVA_C, c, SZ_4K, RO)
        .map_err(|_| "map C failed")?;
    tlb_ok(ctx)?;
    // Reads are allowed: the device fetches 16 bytes into its buffer at 0x800.
    ctx.edu
        .read_from_ram(IOVA_C, 0x800, 16)
        .map_err(|_| "DMA timed out")?;
    let (n, first) = drain(ctx);
    if let Some(e) = first {
        println!("  unexpected event: {e} (+{})", n - 1);
        return Err("a read through a read-only mapping faulted");
    }
    let n = expect_refused_write(ctx, IOVA_C, c, EventKind::Permission)?;
    println!(
        "check 3 (read-only): ok: device read of IOVA {IOVA_C:#x} allowed, write refused (F_PERMISSION, {n} events), RAM unchanged"
    );
    Ok(())
}

fn write_and_verify(ctx: &mut Ctx<'_, '_>, iova: u64, pa: u64) -> Result<(), &'static str> {
    fill(pa, 16, |_| 0);
    ctx.edu
        .write_to_ram(0, iova, 16)
        .map_err(|_| "DMA timed out")?;
    if !all(pa, 16, |i, v| v == pattern(i)) {
        println!("  DMA to IOVA {iova:#x} did not reach {pa:#x}");
        return Err("DMA through the block mapping failed");
    }
    Ok(())
}

fn check4(ctx: &mut Ctx<'_, '_>) -> Result<(), &'static str> {
    let d = ctx.bump.alloc_zeroed(SZ_2M, SZ_2M).ok_or("no RAM")?;
    let tables_before = ctx.pool.in_use();
    ctx.pt
        .map(IOVA_D, d, SZ_2M, RW)
        .map_err(|_| "map D failed")?;
    tlb_ok(ctx)?;
    let tables_mapped = ctx.pool.in_use();
    // A 2 MiB block needs a level-2 table in a fresh 1 GiB region, no
    // level-3 table; 4 KiB pages would need both.
    if tables_mapped - tables_before != 1 {
        println!("  tables: {tables_before} -> {tables_mapped}");
        return Err("the 2 MiB mapping did not use a block");
    }
    for off in [0x1000, SZ_2M - SZ_4K] {
        write_and_verify(ctx, IOVA_D + off, d + off)?;
    }
    let hole = IOVA_D + 0x10_0000;
    if ctx.pt.unmap(hole, SZ_4K) != SZ_4K {
        return Err("partial unmap did not remove the page");
    }
    tlb_ok(ctx)?;
    let tables_split = ctx.pool.in_use();
    if tables_split != tables_mapped + 1 {
        return Err("the partial unmap did not split the block into a level-3 table");
    }
    let n = expect_refused_write(ctx, hole, d + 0x10_0000, EventKind::Translation)?;
    for off in [0x1000, 0xf_f000, 0x10_1000, SZ_2M - SZ_4K] {
        write_and_verify(ctx, IOVA_D + off, d + off)?;
    }
    println!(
        "check 4 (2 MiB block): ok: block at IOVA {IOVA_D:#x} -> {d:#x} (1 table), split by unmapping {hole:#x} (+1 table): the hole faults ({n} events), its neighbours still translate"
    );
    Ok(())
}

/// One check: a name for the log and the function.
type Check = (
    &'static str,
    fn(&mut Ctx<'_, '_>) -> Result<(), &'static str>,
);

/// Runs every check; returns how many failed.
pub fn run_all(ctx: &mut Ctx<'_, '_>) -> u32 {
    let checks: [Check; 4] = [
        ("check 1 (translation)", check1),
        ("check 2 (isolation)", check2),
        ("check 3 (read-only)", check3),
        ("check 4 (2 MiB block)", check4),
    ];
    let mut failed = 0;
    for (name, check) in checks {
        if let Err(why) = check(ctx) {
            println!("{name}: FAILED: {why}");
            failed += 1;
        }
    }
    let gerror = ctx.smmu.borrow().global_errors();
    if gerror != 0 {
        println!("smmuv3: global errors active: {gerror:#x}");
        failed += 1;
    }
    failed
}
