//! The four DMA checks of issue 5, each printed as one line.

use iommugen_runtime::domain::Domain;
use iommugen_runtime::pgtable::TablePool;
use iommugen_runtime::smmuv3::event::{Access, Event, EventKind};
use iommugen_runtime::Prot;

use crate::edu::Edu;
use crate::println;
use crate::smmu::Instance;
use crate::tlb::Maintenance;

use crate::arm_smmu_v3::{ArmSmmuV3PageTable, ArmSmmuV3Pool as Pool};

/// TLB maintenance of the domain through the SMMU's command queue.
pub type SmmuTlb<'s> =
    iommugen_runtime::smmuv3::SmmuTlb<'s, 'static, iommugen_runtime::smmuv3::Mmio>;
pub type Table<'s> = ArmSmmuV3PageTable<Maintenance<'s>>;
pub type Dom<'s> = Domain<'s, Table<'s>>;

pub struct Ctx<'a, 's> {
    pub smmu: &'static Instance,
    pub tlb: &'s SmmuTlb<'s>,
    pub pool: &'static Pool,
    /// The edu's DMA domain from `arch_setup_dma_ops`: IOVAs come from its
    /// allocator, within the driver's aperture and the device's mask.
    pub dom: &'a mut Dom<'s>,
    pub limit: u64,
    pub edu: Edu,
    pub sid: u32,
    /// Check 1's second buffer (IOVA, PA), unmapped by check 2.
    pub b: Option<(u64, u64)>,
}

pub(crate) const SZ_4K: u64 = 0x1000;
const SZ_2M: u64 = 0x20_0000;
pub(crate) const RW: Prot = Prot::READ.union(Prot::WRITE).union(Prot::CACHE);
const RO: Prot = Prot::READ.union(Prot::CACHE);

/// Reads the page tables the way the SMMU walks them (VMSAv8-64, 4K
/// granule, 48-bit input, start level 0): the level and descriptor that end
/// the walk for `iova` (a page, a block, or an invalid entry).
fn walk(root: u64, iova: u64) -> (u32, u64) {
    let mut table = root;
    for level in 0..=3u32 {
        let index = (iova >> (39 - 9 * level)) & 0x1ff;
        // SAFETY: `table` is a table of the domain's pool (the root, or an
        // address taken from a valid table descriptor), 512 entries long.
        let d = unsafe { core::ptr::read_volatile((table + index * 8) as *const u64) };
        let invalid = d & 1 == 0;
        let leaf = level == 3 || d & 0b10 == 0;
        if invalid || leaf {
            return (level, d);
        }
        table = d & 0x0000_ffff_ffff_f000;
    }
    (3, 0)
}

const OA_MASK: u64 = 0x0000_ffff_ffff_f000;

fn bytes(pa: u64, len: u64) -> &'static mut [u8] {
    // SAFETY: callers pass buffers from the bump allocator (identity-mapped
    // RAM owned by the checks); the device only writes them between calls.
    unsafe { core::slice::from_raw_parts_mut(pa as *mut u8, len as usize) }
}

pub(crate) fn fill(pa: u64, len: u64, f: impl Fn(usize) -> u8) {
    for (i, b) in bytes(pa, len).iter_mut().enumerate() {
        // SAFETY: `b` points into the buffer; volatile so the compiler does
        // not assume the memory unchanged across the device's DMA.
        unsafe { core::ptr::write_volatile(b, f(i)) };
    }
}

pub(crate) fn all(pa: u64, len: u64, f: impl Fn(usize, u8) -> bool) -> bool {
    bytes(pa, len).iter().enumerate().all(|(i, b)| {
        // SAFETY: as in `fill`.
        f(i, unsafe { core::ptr::read_volatile(b) })
    })
}

pub(crate) fn pattern(i: usize) -> u8 {
    (i as u8).wrapping_mul(7).wrapping_add(3)
}

/// Events since the last drain: (count, first event).
pub(crate) fn drain_events(ctx: &Ctx<'_, '_>) -> (u32, Option<Event>) {
    let mut first = None;
    let mut smmu = ctx.smmu.borrow_mut();
    let stats = smmu.drain_events(|e| {
        if first.is_none() {
            first = Some(e);
        }
    });
    (stats.events, first)
}

pub(crate) fn tlb_ok(ctx: &Ctx<'_, '_>) -> Result<(), &'static str> {
    match ctx.tlb.take_error() {
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
    let (edu, sid) = (ctx.edu, ctx.sid);
    refused_write(ctx, edu, sid, iova, pa, kind)
}

/// [`expect_refused_write`] for any device: `edu`, whose StreamID is `sid`
/// (events come from `ctx`'s SMMU). Returns the number of event records.
pub(crate) fn refused_write(
    ctx: &mut Ctx<'_, '_>,
    edu: Edu,
    sid: u32,
    iova: u64,
    pa: u64,
    kind: EventKind,
) -> Result<u32, &'static str> {
    fill(pa, SZ_4K, |_| 0x5a);
    edu.write_to_ram(0, iova, 16).map_err(|_| "DMA timed out")?;
    if !all(pa, SZ_4K, |_, b| b == 0x5a) {
        return Err("the refused write reached memory");
    }
    let (n, first) = drain_events(ctx);
    let e = first.ok_or("no event recorded")?;
    println!("  event: {e} ({n} records for 16 bytes)");
    if e.kind != kind {
        return Err("wrong event type");
    }
    if e.stream_id != sid {
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

/// No event since the last drain, or `why` (after printing the first).
pub(crate) fn no_events(ctx: &Ctx<'_, '_>, why: &'static str) -> Result<(), &'static str> {
    let (n, first) = drain_events(ctx);
    match first {
        None => Ok(()),
        Some(e) => {
            println!("  unexpected event: {e} (+{})", n - 1);
            Err(why)
        }
    }
}

pub(crate) fn alloc(size: u64) -> Result<u64, &'static str> {
    crate::BUMP
        .with(|b| b.alloc_zeroed(size, size))
        .ok_or("no RAM for a buffer")
}

pub(crate) fn map(
    ctx: &mut Ctx<'_, '_>,
    pa: u64,
    size: u64,
    prot: Prot,
) -> Result<u64, &'static str> {
    let iova = ctx.dom.map(pa, size, prot, ctx.limit).map_err(|e| {
        println!("  domain map of {pa:#x}+{size:#x} failed: {e}");
        "mapping through the DMA domain failed"
    })?;
    tlb_ok(ctx)?;
    Ok(iova)
}

fn check1(ctx: &mut Ctx<'_, '_>) -> Result<(), &'static str> {
    let a = alloc(SZ_4K)?;
    let b = alloc(SZ_4K)?;
    fill(a, SZ_4K, pattern);
    let iova_a = map(ctx, a, SZ_4K, RW)?;
    let iova_b = map(ctx, b, SZ_4K, RW)?;
    if iova_a == a || iova_b == b {
        return Err("IOVA equals the physical address: no proof of translation");
    }
    ctx.edu
        .read_from_ram(iova_a, 0, 256)
        .map_err(|_| "DMA timed out")?;
    ctx.edu
        .write_to_ram(0, iova_b, 256)
        .map_err(|_| "DMA timed out")?;
    if !all(b, 256, |i, v| v == pattern(i)) {
        return Err("bytes differ after RAM -> edu -> RAM");
    }
    if !all(b + 256, SZ_4K - 256, |_, v| v == 0) {
        return Err("DMA wrote past its 256 bytes");
    }
    no_events(ctx, "translated DMA raised events")?;
    println!(
        "check 1 (translation): ok: 256 bytes RAM {a:#x} -> edu -> RAM {b:#x} through IOVAs {iova_a:#x} -> {iova_b:#x}"
    );
    ctx.b = Some((iova_b, b));
    Ok(())
}

fn check2(ctx: &mut Ctx<'_, '_>) -> Result<(), &'static str> {
    let (iova_b, b) = ctx.b.ok_or("check 1 did not map B")?;
    let syncs = ctx.tlb.syncs();
    ctx.dom.unmap(iova_b, SZ_4K).map_err(|e| {
        println!("  domain unmap failed: {e}");
        "unmap failed"
    })?;
    tlb_ok(ctx)?;
    if ctx.dom.table.iova_to_phys(iova_b).is_some() {
        return Err("unmap left the page mapped");
    }
    if ctx.tlb.syncs() == syncs {
        return Err("unmap issued no TLB invalidation + sync");
    }
    let n = expect_refused_write(ctx, iova_b, b, EventKind::Translation)?;
    println!(
        "check 2 (isolation): ok: after unmap + TLBI_NH_VA + CMD_SYNC the write to IOVA {iova_b:#x} faulted (F_TRANSLATION, StreamID {:#x}, {n} events) and RAM is unchanged",
        ctx.sid
    );
    Ok(())
}

fn check3(ctx: &mut Ctx<'_, '_>) -> Result<(), &'static str> {
    let c = alloc(SZ_4K)?;
    fill(c, SZ_4K, |i| pattern(i) ^ 0xff);
    let iova_c = map(ctx, c, SZ_4K, RO)?;
    // Reads are allowed: the device fetches 16 bytes into its buffer at 0x800.
    ctx.edu
        .read_from_ram(iova_c, 0x800, 16)
        .map_err(|_| "DMA timed out")?;
    no_events(ctx, "a read through a read-only mapping faulted")?;
    let n = expect_refused_write(ctx, iova_c, c, EventKind::Permission)?;
    println!(
        "check 3 (read-only): ok: device read of IOVA {iova_c:#x} allowed, write refused (F_PERMISSION, {n} events), RAM unchanged"
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
    let d = alloc(SZ_2M)?;
    let tables_before = ctx.pool.in_use();
    let iova_d = map(ctx, d, SZ_2M, RW)?;
    let (level, desc) = walk(ctx.dom.table.root(), iova_d);
    // A level-2 block descriptor (bits[1:0] = 0b01) whose output is `d`.
    if level != 2 || desc & 0b11 != 0b01 || desc & OA_MASK != d {
        println!("  walk of {iova_d:#x}: level {level}, descriptor {desc:#x}");
        return Err("the 2 MiB mapping is not one level-2 block");
    }
    for off in [0x1000, SZ_2M - SZ_4K] {
        write_and_verify(ctx, iova_d + off, d + off)?;
    }
    let tables_mapped = ctx.pool.in_use();
    let hole = iova_d + 0x10_0000;
    if ctx.dom.table.unmap(hole, SZ_4K) != SZ_4K {
        return Err("partial unmap did not remove the page");
    }
    tlb_ok(ctx)?;
    let split = [
        walk(ctx.dom.table.root(), iova_d),
        walk(ctx.dom.table.root(), hole),
        walk(ctx.dom.table.root(), hole + SZ_4K),
    ];
    let page_at = |(level, desc): (u32, u64), pa: u64| {
        level == 3 && desc & 0b11 == 0b11 && desc & OA_MASK == pa
    };
    if !page_at(split[0], d)
        || split[1].0 != 3
        || split[1].1 & 1 != 0
        || !page_at(split[2], d + 0x10_1000)
    {
        println!("  after the split: {split:x?}");
        return Err("the partial unmap did not split the block into level-3 pages around a hole");
    }
    let n = expect_refused_write(ctx, hole, d + 0x10_0000, EventKind::Translation)?;
    for off in [0x1000, 0xf_f000, 0x10_1000, SZ_2M - SZ_4K] {
        write_and_verify(ctx, iova_d + off, d + off)?;
    }
    println!(
        "check 4 (2 MiB block): ok: IOVA {iova_d:#x} -> {d:#x} is one level-2 block; unmapping 4K at {hole:#x} split it into a level-3 table (tables {tables_before} -> {tables_mapped} -> {}); the hole faults ({n} events), its neighbours still translate",
        ctx.pool.in_use()
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
