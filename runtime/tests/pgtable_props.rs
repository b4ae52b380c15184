//! Property tests: random map / unmap / lookup sequences on every granule
//! and both stages, checked after every step against a plain model and
//! against the reference walker reading the raw table memory.

mod refwalk;

use iommugen_runtime::pgtable::lpae::*;
use iommugen_runtime::pgtable::{
    LpaeFormat, MapError, NoTlb, PageTable, StaticPool, Table16K, Table4K, Table64K, TablePool,
};
use iommugen_runtime::Prot;
use proptest::prelude::*;
use refwalk::harness::{check, config, expected_attrs, Model};

/// Physical address of every test pool (1 GiB: aligned for any root).
const POOL_PA: u64 = 0x4000_0000;

#[derive(Clone, Debug)]
enum Op {
    /// Unit index (into the format's sizes), anchor, offset in units,
    /// length in units, physical shift selector, prot bits, and whether
    /// the exclusive (`&mut self`) entry point is used.
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
    let op = prop_oneof![
        4 => (0usize..3, 0u8..5, -3i8..4, 1u8..6, 0u8..5, 0u8..64, any::<bool>())
            .prop_map(|(unit, anchor, off, len, pshift, prot, excl)| Op::Map { unit, anchor, off, len, pshift, prot, excl }),
        3 => (0usize..3, 0u8..5, -3i8..4, 1u8..6, any::<bool>())
            .prop_map(|(unit, anchor, off, len, excl)| Op::Unmap { unit, anchor, off, len, excl }),
        1 => (0u8..5, any::<u32>()).prop_map(|(anchor, off)| Op::Lookup { anchor, off }),
    ];
    proptest::collection::vec(op, 1..24)
}

/// Sizes a test picks from: the granule, the middle and the largest allowed
/// size of the format.
fn units<F: LpaeFormat>() -> [u64; 3] {
    let g = 1u64 << F::GRANULE_SHIFT;
    let big = 1u64 << (63 - F::PAGE_SIZES.leading_zeros());
    let mid_bits = F::PAGE_SIZES & !(g | big);
    let mid = if mid_bits == 0 {
        g
    } else {
        1u64 << mid_bits.trailing_zeros()
    };
    [g, mid, big]
}

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
        p = p | Prot::READ;
    }
    p
}

fn run<F: LpaeFormat, T: iommugen_runtime::pgtable::TableMem, const N: usize>(
    pool: &'static StaticPool<T, N>,
    ops: &[Op],
) {
    pool.set_phys_base(POOL_PA);
    let cfg = config::<F>();
    let root_tables = cfg.concat as usize;
    let u = units::<F>();
    let big = u[2];
    // A window of four of the largest blocks at the very top of the input
    // range (last root index, last concatenated table), and physical
    // addresses at the top of the output range.
    let window = 4 * big;
    let wbase = (1u64 << F::IAS) - window;
    let pbase = (1u64 << F::OAS) - 2 * window;
    let stage2 = matches!(F::STAGE, Stage::Two);
    let mut pt: PageTable<F, _, _> = PageTable::new(pool, NoTlb).unwrap();
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
                let unit = u[unit];
                let ia = at(anchor, off, unit);
                let size = (u64::from(len) * unit).min(wbase + window - ia);
                // pshift 0..3 keeps the block alignment, 4 shifts by one page.
                let pa = pbase
                    + (ia - wbase)
                    + if pshift < 4 {
                        (u64::from(pshift) * big / 4) & !(u[0] - 1)
                    } else {
                        u[0]
                    };
                let prot = prot_of(prot);
                // Shared (`&self`) and exclusive (`&mut self`) calls mix on
                // the same tables.
                let res = if excl {
                    pt.map_mut(ia, pa, size, prot)
                } else {
                    pt.map(ia, pa, size, prot)
                };
                // The pool is small on purpose: running out must leave the
                // tables as they were, which `check` below verifies.
                match res {
                    Err(MapError::NoMemory) => {}
                    Err(MapError::Overlap) => assert!(
                        model.overlaps(ia, size),
                        "false overlap at {ia:#x}+{size:#x}"
                    ),
                    _ => {
                        assert!(
                            !model.overlaps(ia, size),
                            "map over a mapping at {ia:#x}+{size:#x}"
                        );
                        assert_eq!(res, Ok(()), "map {ia:#x}+{size:#x} -> {pa:#x}");
                        model.map(ia, size, pa, expected_attrs(stage2, prot));
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
                let unit = u[unit];
                let ia = at(anchor, off, unit);
                let size = (u64::from(len) * unit).min(wbase + window - ia);
                let want = model.unmap(ia, size);
                let got = if excl {
                    pt.unmap_mut(ia, size)
                } else {
                    pt.unmap(ia, size)
                };
                assert_eq!(got, want, "unmap {ia:#x}+{size:#x}");
            }
            Op::Lookup { anchor, off } => {
                let ia = (wbase + u64::from(anchor) * big - u64::from(anchor == 4))
                    .wrapping_add(u64::from(off));
                let ia = ia.min(wbase + window - 1);
                assert_eq!(pt.iova_to_phys(ia), model.lookup(ia).map(|(pa, _)| pa));
            }
        }
        check(&cfg, pt.root(), pool, root_tables, &model, &|ia| {
            pt.iova_to_phys(ia)
        });
    }
    // Unmapping the whole window gives every table back.
    let want = model.unmap(wbase, window);
    assert_eq!(pt.unmap(wbase, window), want);
    check(&cfg, pt.root(), pool, root_tables, &model, &|ia| {
        pt.iova_to_phys(ia)
    });
    assert_eq!(pool.in_use(), root_tables);
    drop(pt);
    assert_eq!(pool.in_use(), 0);
}

macro_rules! prop_format {
    ($name:ident, $fmt:ty, $table:ty, $n:expr) => {
        proptest! {
            #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]
            #[test]
            fn $name(ops in ops()) {
                static POOL: StaticPool<$table, $n> = StaticPool::new();
                run::<$fmt, $table, $n>(&POOL, &ops);
            }
        }
    };
}

prop_format!(stage1_4k_48, S1G4K48, Table4K, 256);
prop_format!(stage1_4k_pages_only, S1G4K48Pages, Table4K, 256);
prop_format!(stage1_16k_47, S1G16K47, Table16K, 128);
prop_format!(stage1_64k_52, S1G64K52, Table64K, 64);
prop_format!(stage2_4k_40_concat, S2G4K40, Table4K, 256);
prop_format!(stage2_16k_48_concat, S2G16K48, Table16K, 128);
prop_format!(stage2_64k_44_concat, S2G64K44, Table64K, 64);
