//! The virtio-iommu checks, each printed as one named line: the edu's DMA
//! through a MAP, its refusal after UNMAP with the fault the device reports,
//! and PROBE's reserved regions kept out of the IOVA allocator.

use iommugen_runtime::domain::Domain;
use iommugen_runtime::iova::IovaError;
use iommugen_runtime::virtio::{Fault, Reason, ResvMem};
use iommugen_runtime::Prot;

use crate::edu::Edu;
use crate::generated::virtio_iommu::VirtioIommuDomain;
use crate::println;
use crate::virtio_iommu::Instance;

pub type Dom<'s> = Domain<'s, VirtioIommuDomain<&'static Instance>>;

pub struct Ctx<'a, 's> {
    pub viommu: &'static Instance,
    /// The edu's DMA domain: IOVAs from its allocator, MAP/UNMAP through
    /// its request domain.
    pub dom: &'a mut Dom<'s>,
    pub limit: u64,
    pub edu: Edu,
    pub endpoint: u32,
    pub resv: &'a [ResvMem],
}

const SZ_4K: u64 = 0x1000;
/// Bytes per edu transfer (QEMU 7.2's edu refuses a whole 4 KiB one: its
/// range check is off by one at the buffer's end).
const LEN: u64 = 256;
const SZ_2M: u64 = 0x20_0000;
const RO: Prot = Prot::READ.union(Prot::CACHE);
const RW: Prot = Prot::READ.union(Prot::WRITE).union(Prot::CACHE);

fn bytes(pa: u64, len: u64) -> &'static mut [u8] {
    // SAFETY: callers pass buffers from the bump allocator (identity-mapped
    // RAM owned by the checks); the device only writes them between calls.
    unsafe { core::slice::from_raw_parts_mut(pa as *mut u8, len as usize) }
}

fn fill(pa: u64, f: impl Fn(usize) -> u8) {
    for (i, b) in bytes(pa, LEN).iter_mut().enumerate() {
        // SAFETY: `b` points into the buffer; volatile so the compiler does
        // not assume the memory unchanged across the device's DMA.
        unsafe { core::ptr::write_volatile(b, f(i)) };
    }
}

fn all(pa: u64, f: impl Fn(usize, u8) -> bool) -> bool {
    bytes(pa, LEN).iter().enumerate().all(|(i, b)| {
        // SAFETY: as in `fill`.
        f(i, unsafe { core::ptr::read_volatile(b) })
    })
}

fn pattern(i: usize) -> u8 {
    (i as u8).wrapping_mul(7).wrapping_add(3)
}

fn page() -> Result<u64, &'static str> {
    crate::BUMP
        .with(|b| b.alloc_zeroed(SZ_4K, SZ_4K))
        .ok_or("no RAM for a DMA buffer")
}

/// Fault reports so far: (count, the first).
fn faults(ctx: &Ctx<'_, '_>) -> Result<(u32, Option<Fault>), &'static str> {
    let (mut n, mut first) = (0, None);
    let mut v = ctx.viommu.borrow_mut();
    while let Some(f) = v.poll_event().map_err(|e| {
        println!("  event queue: {e}");
        "reading the event queue failed"
    })? {
        n += 1;
        first = first.or(Some(f));
    }
    Ok((n, first))
}

fn print(name: &str, r: Result<(), &'static str>) -> u32 {
    match r {
        Ok(()) => {
            println!("{name}: ok");
            0
        }
        Err(why) => {
            println!("{name}: FAIL ({why})");
            1
        }
    }
}

/// Runs the checks in order; returns how many failed.
pub fn run_all(ctx: &mut Ctx<'_, '_>) -> u32 {
    let mut failed = 0;
    let mut b = None;
    failed += print(
        "check 1 (MAP: edu DMA round-trips through the mapping)",
        map(ctx, &mut b),
    );
    let unmap = match b {
        Some(b) => unmap_refuses(ctx, b),
        None => Err("check 1 left no mapping to unmap"),
    };
    failed += print(
        "check 2 (UNMAP: DMA refused, fault names endpoint and address)",
        unmap,
    );
    failed += print(
        "check 3 (PROBE: reserved regions kept out of the IOVA allocator)",
        reserved(ctx),
    );
    failed
}

/// The edu reads a pattern through one MAP and writes it back through
/// another; the second buffer must hold it, and no fault is reported.
fn map(ctx: &mut Ctx<'_, '_>, keep: &mut Option<(u64, u64)>) -> Result<(), &'static str> {
    let (a, b) = (page()?, page()?);
    fill(a, pattern);
    let ia = ctx.dom.map(a, SZ_4K, RO, ctx.limit).map_err(|e| {
        println!("  map: {e} ({:?})", ctx.viommu.borrow().last_error());
        "MAP of the source buffer failed"
    })?;
    let ib = ctx.dom.map(b, SZ_4K, RW, ctx.limit).map_err(|e| {
        println!("  map: {e} ({:?})", ctx.viommu.borrow().last_error());
        "MAP of the destination buffer failed"
    })?;
    println!("  MAP IOVA {ia:#x} -> PA {a:#x} (read), IOVA {ib:#x} -> PA {b:#x} (read/write)");
    ctx.edu
        .read_from_ram(ia, 0, LEN)
        .map_err(|_| "edu DMA timed out")?;
    ctx.edu
        .write_to_ram(0, ib, LEN)
        .map_err(|_| "edu DMA timed out")?;
    *keep = Some((ib, b));
    let (n, first) = faults(ctx)?;
    if n != 0 {
        println!("  unexpected fault: {first:?}");
        return Err("the device reported a fault for mapped DMA");
    }
    if !all(b, |i, v| v == pattern(i)) {
        return Err("the pattern did not arrive through the mappings");
    }
    Ok(())
}

/// After UNMAP of the destination, the same DMA must leave it untouched
/// and the device must report a mapping fault naming the edu's endpoint
/// and the IOVA.
fn unmap_refuses(ctx: &mut Ctx<'_, '_>, (iova, pa): (u64, u64)) -> Result<(), &'static str> {
    if cfg!(feature = "skip-unmap") {
        println!("  MUTANT: UNMAP skipped (feature skip-unmap); this check must fail");
    } else {
        ctx.dom.unmap(iova, SZ_4K).map_err(|e| {
            println!("  unmap: {e} ({:?})", ctx.viommu.borrow().last_error());
            "UNMAP failed"
        })?;
        println!("  UNMAP IOVA {iova:#x}");
    }
    fill(pa, |_| 0x5a);
    ctx.edu
        .write_to_ram(0, iova, LEN)
        .map_err(|_| "edu DMA timed out")?;
    let untouched = all(pa, |_, v| v == 0x5a);
    let (n, first) = faults(ctx)?;
    if let Some(f) = first {
        println!(
            "  fault: reason {:?} flags {:#x} endpoint {:#x} address {:x?} ({n} report(s))",
            f.reason, f.flags, f.endpoint, f.address
        );
    }
    if !untouched {
        return Err("the device wrote through the IOVA after UNMAP");
    }
    match first {
        None => Err("no fault reported"),
        Some(f) if f.reason != Reason::Mapping => Err("the fault is not a mapping fault"),
        Some(f) if f.endpoint != ctx.endpoint => Err("the fault names another endpoint"),
        Some(f) if f.address.map(|a| a & !(SZ_4K - 1)) != Some(iova) => {
            Err("the fault names another address")
        }
        Some(_) => Ok(()),
    }
}

/// Allocates the whole managed window (2 MiB ranges, then ever smaller
/// powers of two down to 4 KiB)
/// and checks that no range falls in a reserved region, that the
/// allocation used up exactly the free space, and gives it all back.
fn reserved(ctx: &mut Ctx<'_, '_>) -> Result<(), &'static str> {
    let (lo, top) = ctx.dom.iova.window();
    let inside = |r: &&ResvMem| u128::from(r.start) < top && r.end >= lo;
    let n_inside = ctx.resv.iter().filter(inside).count();
    if n_inside == 0 {
        return Err("no reserved region inside the managed window: nothing to prove");
    }
    let free = ctx.dom.iova.free_bytes();
    let mut got = [(0u64, 0u64); 512];
    let (mut n, mut total, mut bad) = (0, 0u128, None);
    let mut size = SZ_2M;
    while size >= SZ_4K {
        while n < got.len() {
            match ctx.dom.iova.alloc_range(size, lo, ctx.limit) {
                Ok(a) => {
                    let hit = ctx
                        .resv
                        .iter()
                        .any(|r| a <= r.end && r.start <= a + (size - 1));
                    if hit && bad.is_none() {
                        bad = Some(a);
                    }
                    got[n] = (a, size);
                    n += 1;
                    total += u128::from(size);
                }
                Err(IovaError::Exhausted) => break,
                Err(_) => return Err("the allocator failed"),
            }
        }
        size /= 2;
    }
    for &(a, size) in &got[..n] {
        ctx.dom
            .iova
            .free(a, size)
            .map_err(|_| "freeing an IOVA failed")?;
    }
    println!(
        "  {n} IOVA ranges ({total:#x} bytes) allocated in {lo:#x}..{top:#x} around {n_inside} reserved region(s)"
    );
    if let Some(a) = bad {
        println!("  IOVA {a:#x} lies in a reserved region");
        return Err("the allocator handed out a reserved IOVA");
    }
    if n == got.len() || total != free {
        return Err("the allocation did not use up the window's free space");
    }
    Ok(())
}
