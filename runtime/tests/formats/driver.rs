//! The random-operation property driver: map / unmap / lookup sequences in
//! a window of four of the format's largest units, through both the
//! shared (`&self`) and exclusive (`&mut self`) entry points, checked after
//! every step; a failed map must leave table memory byte-identical and the
//! pool as it was; an unmap returns what was mapped, or less only when a
//! split found the pool empty (then the model loses the prefix); the pool
//! is empty again at the end.

use iommugen_runtime::pgtable::{MapError, NoTlb, PageTable, StaticPool, TablePool};
use iommugen_runtime::Prot;
use proptest::prelude::*;

use super::{check, reader, snapshot, window, FormatUnderTest, Model, Span};

/// Ranges are `len` units from `off` units around the `anchor`-th quarter
/// boundary of the window (the last anchor is one unit before its end).
#[derive(Clone, Debug)]
pub enum Op {
    Map {
        unit: usize,
        anchor: u8,
        off: i8,
        len: u8,
        pshift: usize,
        prot: u8,
        excl: bool,
    },
    Unmap {
        unit: usize,
        anchor: u8,
        off: i8,
        len: u8,
        excl: bool,
    },
    Lookup {
        anchor: u8,
        off: u32,
    },
}

/// Sequences of 1 to 23 operations (3 under Miri).
pub fn ops<A: FormatUnderTest>() -> impl Strategy<Value = Vec<Op>> {
    let units = A::UNITS.len();
    let shifts = A::PA_SHIFTS.len();
    let op = prop_oneof![
        4 => (0..units, 0u8..5, -3i8..4, 1u8..6, 0..shifts, 0u8..128, any::<bool>())
            .prop_map(|(unit, anchor, off, len, pshift, prot, excl)| Op::Map { unit, anchor, off, len, pshift, prot, excl }),
        3 => (0..units, 0u8..5, -3i8..4, 1u8..6, any::<bool>())
            .prop_map(|(unit, anchor, off, len, excl)| Op::Unmap { unit, anchor, off, len, excl }),
        1 => (0u8..5, any::<u32>()).prop_map(|(anchor, off)| Op::Lookup { anchor, off }),
    ];
    proptest::collection::vec(op, 1..if cfg!(miri) { 4 } else { 24 })
}

/// Any combination of the six flags (bits 0-5); one asking for neither
/// read nor write gets read (bit 6 clear) or write (bit 6 set).
pub fn prot_of(bits: u8) -> Prot {
    let all = [
        Prot::READ,
        Prot::WRITE,
        Prot::CACHE,
        Prot::MMIO,
        Prot::NOEXEC,
        Prot::PRIV,
    ];
    let mut p = Prot::empty();
    for (i, f) in all.iter().enumerate() {
        if bits & (1 << i) != 0 {
            p = p | *f;
        }
    }
    if !p.contains(Prot::READ) && !p.contains(Prot::WRITE) {
        p = p | if bits & 0x40 == 0 {
            Prot::READ
        } else {
            Prot::WRITE
        };
    }
    p
}

pub fn run<A: FormatUnderTest, const N: usize>(pool: &'static StaticPool<A::Mem, N>, ops: &[Op]) {
    pool.set_phys_base(A::POOL_PA);
    let (wbase, window) = (A::WINDOW_BASE, window::<A>());
    let big = window / 4;
    let mut pt: PageTable<A::F, _, _> = PageTable::new(pool, NoTlb).expect("a root table");
    assert_eq!(pool.in_use(), A::ROOT_SLOTS, "an empty table's slots");
    let mut model = Model::default();
    let at = |anchor: u8, off: i8, unit: u64| -> u64 {
        let a = wbase + u64::from(anchor) * big - u64::from(anchor == 4) * unit;
        (a as i64 + i64::from(off) * unit as i64)
            .clamp(wbase as i64, (wbase + window - unit) as i64) as u64
    };
    for op in ops {
        match *op {
            Op::Map {
                unit,
                anchor,
                off,
                len,
                pshift,
                prot,
                excl,
            } => {
                let unit = A::UNITS[unit];
                let ia = at(anchor, off, unit);
                let size = (u64::from(len) * unit).min(wbase + window - ia);
                let pa = A::PA_BASE + (ia - wbase) + A::PA_SHIFTS[pshift];
                let prot = prot_of(prot);
                let before = snapshot::<A::Word, A::Mem, N>(pool);
                let in_use = pool.in_use();
                let res = if excl {
                    pt.map_mut(ia, pa, size, prot)
                } else {
                    pt.map(ia, pa, size, prot)
                };
                match res {
                    Err(e) => {
                        assert!(e == MapError::NoMemory || e == MapError::Overlap, "{e:?}");
                        if e == MapError::Overlap {
                            assert!(model.overlaps(ia, size), "false overlap {ia:#x}+{size:#x}");
                        }
                        assert!(
                            snapshot::<A::Word, A::Mem, N>(pool) == before,
                            "failed map changed table memory"
                        );
                        assert_eq!(pool.in_use(), in_use, "failed map kept tables");
                    }
                    Ok(()) => {
                        assert!(!model.overlaps(ia, size), "map over a mapping {ia:#x}");
                        model.map(ia, size, pa, A::expected(prot));
                    }
                }
            }
            Op::Unmap {
                unit,
                anchor,
                off,
                len,
                excl,
            } => {
                let unit = A::UNITS[unit];
                let ia = at(anchor, off, unit);
                let size = (u64::from(len) * unit).min(wbase + window - ia);
                let read = reader::<A::Word, A::Mem, N>(pool);
                let (leaves, _) = A::leaves(pt.root(), &read).expect("well-formed tables");
                let in_use = pool.in_use();
                let want = model.clone().unmap(ia, size);
                let got = if excl {
                    pt.unmap_mut(ia, size)
                } else {
                    pt.unmap(ia, size)
                };
                if got == want {
                    model.unmap(ia, size);
                } else {
                    assert!(got < want, "unmap {ia:#x}+{size:#x}: {got:#x} > {want:#x}");
                    let stop = model.unmap_prefix(ia, size, got);
                    assert!(
                        split_found_no_table::<A>(&leaves, (ia, ia + size), stop, in_use, N),
                        "unmap {ia:#x}+{size:#x}: {got:#x} of {want:#x}, stopped at \
                         {stop:#x} with {in_use} of {N} slots in use"
                    );
                }
            }
            Op::Lookup { anchor, off } => {
                let ia = (wbase + u64::from(anchor) * big - u64::from(anchor == 4))
                    .wrapping_add(u64::from(off))
                    .min(wbase + window - 1);
                assert_eq!(pt.iova_to_phys(ia), model.lookup(ia), "lookup {ia:#x}");
            }
        }
        check::<A, N>(pt.root(), pool, &model, &|ia| pt.iova_to_phys(ia));
    }
    let want = model.unmap(wbase, window);
    assert_eq!(pt.unmap(wbase, window), want);
    check::<A, N>(pt.root(), pool, &model, &|ia| pt.iova_to_phys(ia));
    assert_eq!(pool.in_use(), A::ROOT_SLOTS);
    drop(pt);
    assert_eq!(pool.in_use(), 0);
}

/// Whether an unmap of `[ia, end)` that stopped at `stop` (fewer bytes
/// than were mapped) stopped because a block it cuts needed a new table
/// and the pool (`in_use` of `slots` before the call) had none: the engine
/// then returns the prefix it unmapped (where Linux would refuse the whole
/// partial unmap). `leaves` are the walker's leaves before the call.
///
/// A cut needs a table when it falls inside a leaf of at least
/// [`FormatUnderTest::TABLE_SPAN`] bytes and not on a span boundary
/// (smaller leaves and span-aligned cuts split in place). The engine works
/// from `ia` upwards, so it stops either at `ia` (the start cut) or at the
/// start of the span holding `end` (the end cut), having possibly taken one
/// table for the start cut first. Tables the prefix empties go back only
/// after the call, so they do not count as free.
fn split_found_no_table<A: FormatUnderTest>(
    leaves: &[Span<A::Attrs>],
    (ia, end): (u64, u64),
    stop: u64,
    in_use: usize,
    slots: usize,
) -> bool {
    let span = A::TABLE_SPAN;
    let in_block = |x: u64| {
        leaves
            .iter()
            .any(|l| l.size >= span && l.ia <= x && x < l.ia + l.size)
    };
    let chunk = stop - stop % span;
    let cut = ia > chunk || end < chunk + span;
    let start_split = ia % span != 0 && in_block(ia) && chunk != ia - ia % span;
    in_block(stop) && cut && stop == ia.max(chunk) && in_use + usize::from(start_split) == slots
}

/// Map `size` bytes at `ia` in one call, unmap one page `hole` bytes past
/// each `step`, check, and unmap the rest: the rest stays mapped, the cut
/// needs exactly `tables` non-root tables, and they go with the rest.
pub fn cut_everywhere<A: FormatUnderTest, const N: usize>(
    pool: &'static StaticPool<A::Mem, N>,
    (ia, pa, size): (u64, u64, u64),
    (step, hole): (u64, u64),
    tables: usize,
) {
    pool.set_phys_base(A::POOL_PA);
    let page = A::UNITS[0];
    let pt: PageTable<A::F, _, _> = PageTable::new(pool, NoTlb).expect("a root table");
    let prot = Prot::READ | Prot::WRITE;
    for at in (0..size).step_by(step as usize).map(|k| k + hole) {
        pt.map(ia, pa, size, prot).expect("map the whole range");
        assert_eq!(pt.unmap(ia + at, page), page);
        let mut model = Model::default();
        model.map(ia, size, pa, A::expected(prot));
        model.unmap(ia + at, page);
        check::<A, N>(pt.root(), pool, &model, &|a| pt.iova_to_phys(a));
        assert_eq!(
            pool.in_use(),
            A::ROOT_SLOTS + tables,
            "tables after the cut"
        );
        assert_eq!(pt.unmap(ia, size), size - page);
        assert_eq!(pool.in_use(), A::ROOT_SLOTS);
    }
}
