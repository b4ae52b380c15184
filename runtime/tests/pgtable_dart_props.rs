//! Apple DART: random map / unmap / lookup sequences (unmaps cutting into
//! ranges mapped in one call included; the format has no blocks, so no cut
//! splits anything), checked after every step against a plain model and
//! the reference walker reading raw table memory; a failed map leaves table
//! memory byte-identical; the pool is empty again at the end. DART1 with
//! one TTBR, DART2 with four (a window across the TTBR 0/1 boundary).

mod dart_common;

use dart_common::{check, expected_attrs, snapshot, ttbrs, Model, PAGE, POOL_PA};
use iommugen_runtime::pgtable::{
    AppleDart, Format, MapError, NoTlb, PageTable, StaticPool, Table16K, TablePool,
};
use iommugen_runtime::refwalk::apple_dart::WalkConfig;
use iommugen_runtime::Prot;
use proptest::prelude::*;

/// A page, 32 pages, and a whole second-level table (32 MiB).
const UNITS: [u64; 3] = [PAGE, 32 * PAGE, 2048 * PAGE];

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
    let op = prop_oneof![
        4 => (0usize..3, 0u8..5, -3i8..4, 1u8..4, 0u8..3, 0u8..64, any::<bool>())
            .prop_map(|(unit, anchor, off, len, pshift, prot, excl)| Op::Map { unit, anchor, off, len, pshift, prot, excl }),
        3 => (0usize..3, 0u8..5, -3i8..4, 1u8..4, any::<bool>())
            .prop_map(|(unit, anchor, off, len, excl)| Op::Unmap { unit, anchor, off, len, excl }),
        1 => (0u8..5, any::<u32>()).prop_map(|(anchor, off)| Op::Lookup { anchor, off }),
    ];
    proptest::collection::vec(op, 1..if cfg!(miri) { 4 } else { 20 })
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
        p = p | Prot::WRITE;
    }
    p
}

/// Runs `ops` in a window of four second-level tables' worth (128 MiB)
/// starting at `wbase`.
fn run<const G: u8, const IAS: u32, const N: usize>(
    pool: &'static StaticPool<Table16K, N>,
    wbase: u64,
    ops: &[Op],
) {
    type F<const G: u8, const IAS: u32> = AppleDart<G, IAS>;
    pool.set_phys_base(POOL_PA);
    let cfg = WalkConfig {
        generation: G,
        ias: IAS,
    };
    let big = UNITS[2];
    let window = 4 * big;
    let pbase = (1u64 << <F<G, IAS> as Format>::OAS) - 2 * window;
    let mut pt: PageTable<F<G, IAS>, _, _> = PageTable::new(pool, NoTlb).unwrap();
    let root_slots = pool.in_use();
    let t = ttbrs(pt.root(), F::<G, IAS>::ROOT_TABLES);
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
                let unit = UNITS[unit];
                let ia = at(anchor, off, unit);
                let size = (u64::from(len) * unit).min(wbase + window - ia);
                let pa = pbase + (ia - wbase) + u64::from(pshift) * PAGE;
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
                            assert!(
                                model.overlaps(ia, size),
                                "false overlap at {ia:#x}+{size:#x}"
                            );
                        }
                        assert!(snapshot(pool) == before, "failed map changed table memory");
                        assert_eq!(pool.in_use(), in_use, "failed map kept tables");
                    }
                    Ok(()) => {
                        assert!(
                            !model.overlaps(ia, size),
                            "map over a mapping at {ia:#x}+{size:#x}"
                        );
                        model.map(ia, size, pa, expected_attrs(G, prot));
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
                    .wrapping_add(u64::from(off))
                    .min(wbase + window - 1);
                assert_eq!(pt.iova_to_phys(ia), model.lookup(ia));
            }
        }
        check(&cfg, &t, root_slots, pool, &model, &|ia| {
            pt.iova_to_phys(ia)
        });
    }
    let want = model.unmap(wbase, window);
    assert_eq!(pt.unmap(wbase, window), want);
    check(&cfg, &t, root_slots, pool, &model, &|ia| {
        pt.iova_to_phys(ia)
    });
    assert_eq!(pool.in_use(), root_slots);
    drop(pt);
    assert_eq!(pool.in_use(), 0);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: if cfg!(miri) { 2 } else { 64 }, ..ProptestConfig::default() })]
    #[test]
    fn dart1_random_ops(ops in ops()) {
        // One root and three second-level tables for a four-table window:
        // maps run out of tables.
        static POOL: StaticPool<Table16K, 4> = StaticPool::new();
        // The top 128 MiB of the 32-bit input.
        run::<1, 32, 4>(&POOL, (1 << 32) - 4 * UNITS[2], &ops);
    }

    #[test]
    fn dart2_four_ttbrs_random_ops(ops in ops()) {
        // Four root tables and three second-level tables.
        static POOL: StaticPool<Table16K, 7> = StaticPool::new();
        // Two tables' worth each side of the TTBR 0/1 boundary.
        run::<2, 38, 7>(&POOL, (1 << 36) - 2 * UNITS[2], &ops);
    }
}
