//! Check 5, isolation between two devices (`domain per-device`): a second
//! `edu` gets its own domain (own page table, context descriptor and ASID
//! behind its own StreamID). A buffer mapped in the first device's domain
//! only is reachable by the first device; the second device's DMA to the
//! very same IOVA faults with the second device's StreamID in the event
//! record and leaves memory alone, and the first device keeps working. The
//! second device's own mapping works at the same time.

use iommugen_runtime::smmuv3::event::EventKind;

use crate::checks::{self, Ctx, Dom, RW, SZ_4K};
use crate::edu::Edu;
use crate::println;

/// The second device and its domain.
pub struct Other<'a, 's> {
    pub edu: Edu,
    pub sid: u32,
    pub dom: &'a mut Dom<'s>,
    pub limit: u64,
}

/// Runs check 5; returns 1 if it failed.
pub fn run(a: &mut Ctx<'_, '_>, b: &mut Other<'_, '_>) -> u32 {
    match check(a, b) {
        Ok(()) => 0,
        Err(why) => {
            println!("check 5 (isolation between devices): FAILED: {why}");
            1
        }
    }
}

fn check(a: &mut Ctx<'_, '_>, b: &mut Other<'_, '_>) -> Result<(), &'static str> {
    if a.sid == b.sid {
        return Err("both devices have the same StreamID");
    }
    // A's buffer, in A's domain only.
    let p = checks::alloc(SZ_4K)?;
    let iova = checks::map(a, p, SZ_4K, RW)?;
    if b.dom.table.iova_to_phys(iova).is_some() {
        return Err("A's IOVA is mapped in B's domain too");
    }
    // B writes to A's IOVA: refused, memory unchanged, the event names B.
    let faults = checks::refused_write(a, b.edu, b.sid, iova, p, EventKind::Translation)?;
    // A still reaches its buffer through the same IOVA (its edu buffer
    // holds check 1's pattern).
    a.edu
        .write_to_ram(0, iova, 16)
        .map_err(|_| "A's DMA timed out")?;
    if !checks::all(p, 16, |i, v| v == checks::pattern(i)) {
        return Err("A's DMA no longer reaches its buffer");
    }
    // B's own domain works: B copies a buffer of its own into another,
    // both mapped in B's domain only.
    let r = checks::alloc(SZ_4K)?;
    let q = checks::alloc(SZ_4K)?;
    checks::fill(r, SZ_4K, checks::pattern);
    checks::fill(q, SZ_4K, |_| 0);
    let mut map_b = |pa| {
        b.dom.map(pa, SZ_4K, RW, b.limit).map_err(|e| {
            println!("  B's domain map failed: {e}");
            "mapping in B's domain failed"
        })
    };
    let iova_r = map_b(r)?;
    let iova_q = map_b(q)?;
    b.edu
        .read_from_ram(iova_r, 0, 16)
        .map_err(|_| "B's DMA timed out")?;
    b.edu
        .write_to_ram(0, iova_q, 16)
        .map_err(|_| "B's DMA timed out")?;
    checks::no_events(a, "B's DMA in its own domain faulted")?;
    if !checks::all(q, 16, |i, v| v == checks::pattern(i)) {
        return Err("B's copy in its own domain did not arrive");
    }
    if a.dom.table.iova_to_phys(iova_q) == Some(q) {
        return Err("B's buffer is mapped in A's domain");
    }
    println!(
        "check 5 (isolation between devices): ok: IOVA {iova:#x} maps {p:#x} in A's domain only; B (StreamID {:#x}) writing it faulted (F_TRANSLATION, {faults} events), A (StreamID {:#x}) still reaches it; B's own IOVA {iova_q:#x} -> {q:#x} works",
        b.sid, a.sid
    );
    Ok(())
}
