//! Rockchip IOMMU tables: random map / unmap / lookup sequences (unmaps cut
//! multi-page and multi-table mappings anywhere), checked after every step
//! against a plain model and the reference walker reading raw table memory;
//! a failed map leaves table memory byte-identical; the pool is empty again
//! at the end. Both versions; v2 with tables above 4 GiB and output ranges
//! that cross a 64 GiB boundary (both high address fields change).

mod rockchip_common;

use iommugen_runtime::pgtable::TablePool;
use iommugen_runtime::pgtable::{MapError, NoTlb, PageTable, Rockchip, StaticPool, Table4K};
use iommugen_runtime::refwalk::rockchip::WalkConfig;
use iommugen_runtime::Prot;
use proptest::prelude::*;
use rockchip_common::{check, expected_attrs, pool_pa, snapshot, Model};

/// Step sizes for ranges: a page, 16 pages, a whole page table (4 MiB).
const UNITS: [u64; 3] = [1 << 12, 1 << 16, 1 << 22];
/// Four directory entries at the top of the 32-bit input range.
const TABLE_SPAN: u64 = 1 << 22;
const WINDOW: u64 = 4 * TABLE_SPAN;
const WBASE: u64 = (1 << 32) - WINDOW;

#[derive(Clone, Debug)]
enum Op {
    Map {
        unit: usize,
        anchor: u8,
        off: i8,
        len: u8,
        pshift: u8,
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

fn ops() -> impl Strategy<Value = Vec<Op>> {
    let n = if cfg!(miri) { 4 } else { 24 };
    let op = prop_oneof![
        4 => (0usize..3, 0u8..5, -3i8..4, 1u8..6, 0u8..5, 0u8..64, any::<bool>())
            .prop_map(|(unit, anchor, off, len, pshift, prot, excl)| Op::Map { unit, anchor, off, len, pshift, prot, excl }),
        3 => (0usize..3, 0u8..5, -3i8..4, 1u8..6, any::<bool>())
            .prop_map(|(unit, anchor, off, len, excl)| Op::Unmap { unit, anchor, off, len, excl }),
        1 => (0u8..5, any::<u32>()).prop_map(|(anchor, off)| Op::Lookup { anchor, off }),
    ];
    proptest::collection::vec(op, 1..n)
}

/// Any combination of the six flags that asks for read or write (the
/// engine refuses neither; write-only is expressible here).
fn prot_of(bits: u8) -> Prot {
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
        p = p | Prot::WRITE;
    }
    p
}

/// The input address `off` units from the `anchor`-th table boundary of
/// the window (the last anchor is one unit before the end), kept inside.
fn at(anchor: u8, off: i8, unit: u64) -> u64 {
    let a = WBASE + u64::from(anchor) * TABLE_SPAN - u64::from(anchor == 4) * unit;
    (a as i64 + i64::from(off) * unit as i64).clamp(WBASE as i64, (WBASE + WINDOW - unit) as i64)
        as u64
}

fn run<const V: u32, const N: usize>(pool: &'static StaticPool<Table4K, N>, ops: &[Op]) {
    pool.set_phys_base(pool_pa(V));
    let cfg = WalkConfig { version: V };
    // v1: outputs near the top of 4 GiB; v2: around 0x90_0000_0000, where
    // PA 39:36 goes 8 -> 9 and PA 35:32 goes 0xf -> 0.
    let pbase = if V == 2 {
        0x90_0000_0000 - WINDOW
    } else {
        (1 << 32) - 3 * WINDOW
    };
    let mut pt: PageTable<Rockchip<V>, _, _> = PageTable::new(pool, NoTlb).unwrap();
    let mut model = Model::default();
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
                let unit = UNITS[unit];
                let ia = at(anchor, off, unit);
                let size = (u64::from(len) * unit).min(WBASE + WINDOW - ia);
                let pa = pbase + (ia - WBASE) + u64::from(pshift) * 0x41_000;
                let prot = prot_of(prot);
                let before = snapshot(pool);
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
                        assert!(snapshot(pool) == before, "failed map changed table memory");
                        assert_eq!(pool.in_use(), in_use, "failed map kept tables");
                    }
                    Ok(()) => {
                        assert!(!model.overlaps(ia, size), "map over a mapping {ia:#x}");
                        model.map(ia, size, pa, expected_attrs(prot));
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
                let unit = UNITS[unit];
                let ia = at(anchor, off, unit);
                let size = (u64::from(len) * unit).min(WBASE + WINDOW - ia);
                let want = model.unmap(ia, size);
                let got = if excl {
                    pt.unmap_mut(ia, size)
                } else {
                    pt.unmap(ia, size)
                };
                assert_eq!(got, want, "unmap {ia:#x}+{size:#x}");
            }
            Op::Lookup { anchor, off } => {
                let ia = (WBASE + u64::from(anchor) * TABLE_SPAN).wrapping_add(u64::from(off));
                let ia = ia.clamp(WBASE, WBASE + WINDOW - 1);
                assert_eq!(pt.iova_to_phys(ia), model.lookup(ia));
            }
        }
        check(&cfg, pt.root(), pool, &model, &|ia| pt.iova_to_phys(ia));
    }
    let want = model.unmap(WBASE, WINDOW);
    assert_eq!(pt.unmap(WBASE, WINDOW), want);
    check(&cfg, pt.root(), pool, &model, &|ia| pt.iova_to_phys(ia));
    assert_eq!(pool.in_use(), 1);
    drop(pt);
    assert_eq!(pool.in_use(), 0);
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: if cfg!(miri) { 2 } else { 96 },
        ..ProptestConfig::default()
    })]
    #[test]
    fn rockchip_v1_random_ops(ops in ops()) {
        // The directory and up to three page tables for a four-table
        // window: maps that span all four run out of tables.
        static POOL: StaticPool<Table4K, 4> = StaticPool::new();
        run::<1, 4>(&POOL, &ops);
    }

    #[test]
    fn rockchip_v2_random_ops(ops in ops()) {
        static POOL: StaticPool<Table4K, 4> = StaticPool::new();
        run::<2, 4>(&POOL, &ops);
    }
}

/// A 4 MiB mapping (one full page table) cut by a one-page hole at every
/// 256 KiB step: the rest stays mapped and the table is retired only with
/// its last page.
#[test]
fn full_table_cut_everywhere() {
    static POOL: StaticPool<Table4K, 4> = StaticPool::new();
    POOL.set_phys_base(pool_pa(2));
    let cfg = WalkConfig { version: 2 };
    let pt: PageTable<Rockchip<2>, _, _> = PageTable::new(&POOL, NoTlb).unwrap();
    let (ia, pa) = (0x1000_0000u64, 0x3_ffe0_0000u64);
    let prot = Prot::READ | Prot::WRITE;
    let step = if cfg!(miri) { 1 << 21 } else { 1 << 18 };
    for hole in (0..TABLE_SPAN).step_by(step) {
        pt.map(ia, pa, TABLE_SPAN, prot).unwrap();
        assert_eq!(pt.unmap(ia + hole, 0x1000), 0x1000);
        let mut model = Model::default();
        model.map(ia, TABLE_SPAN, pa, expected_attrs(prot));
        model.unmap(ia + hole, 0x1000);
        check(&cfg, pt.root(), &POOL, &model, &|a| pt.iova_to_phys(a));
        assert_eq!(POOL.in_use(), 2);
        assert_eq!(pt.unmap(ia, TABLE_SPAN), TABLE_SPAN - 0x1000);
        assert_eq!(POOL.in_use(), 1);
    }
}
