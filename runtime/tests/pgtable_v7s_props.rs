//! ARMv7 short descriptors: random map / unmap / lookup sequences (partial
//! unmaps of supersections, sections and large pages included), checked
//! after every step against a plain model and the reference walker reading
//! raw table memory; a failed map leaves table memory byte-identical; the
//! pool is empty again at the end. With and without the MediaTek extension.

mod v7s_common;

use iommugen_runtime::pgtable::{
    ArmV7s, Format, MapError, NoTlb, PageTable, StaticPool, Table1K, TablePool,
};
use iommugen_runtime::refwalk::arm_v7s::WalkConfig;
use iommugen_runtime::Prot;
use proptest::prelude::*;
use v7s_common::{check, expected_attrs, snapshot, Model, POOL_PA};

/// The four leaf sizes.
const UNITS: [u64; 4] = [1 << 12, 1 << 16, 1 << 20, 1 << 24];

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
        4 => (0usize..4, 0u8..5, -3i8..4, 1u8..6, 0u8..5, 0u8..64, any::<bool>())
            .prop_map(|(unit, anchor, off, len, pshift, prot, excl)| Op::Map { unit, anchor, off, len, pshift, prot, excl }),
        3 => (0usize..4, 0u8..5, -3i8..4, 1u8..6, any::<bool>())
            .prop_map(|(unit, anchor, off, len, excl)| Op::Unmap { unit, anchor, off, len, excl }),
        1 => (0u8..5, any::<u32>()).prop_map(|(anchor, off)| Op::Lookup { anchor, off }),
    ];
    proptest::collection::vec(op, 1..24)
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

fn run<const MTK: bool, const N: usize>(pool: &'static StaticPool<Table1K, N>, ops: &[Op]) {
    type F<const M: bool> = ArmV7s<M>;
    pool.set_phys_base(POOL_PA);
    let cfg = WalkConfig { mtk_ext: MTK };
    let big = UNITS[3];
    // Four supersections at the top of the 32-bit input range; outputs at
    // the top of the output range (above 4 GiB with the extension).
    let window = 4 * big;
    let wbase = (1u64 << 32) - window;
    let pbase = (1u64 << <F<MTK> as Format>::OAS) - 2 * window;
    let mut pt: PageTable<F<MTK>, _, _> = PageTable::new(pool, NoTlb).unwrap();
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
                let pa = pbase
                    + (ia - wbase)
                    + if pshift < 4 {
                        (u64::from(pshift) * big / 4) & !0xfff
                    } else {
                        0x1000
                    };
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
                        model.map(ia, size, pa, expected_attrs(MTK, prot));
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
                    .wrapping_add(u64::from(off));
                let ia = ia.min(wbase + window - 1);
                assert_eq!(pt.iova_to_phys(ia), model.lookup(ia));
            }
        }
        check(&cfg, pt.root(), pool, &model, &|ia| pt.iova_to_phys(ia));
    }
    let want = model.unmap(wbase, window);
    assert_eq!(pt.unmap(wbase, window), want);
    check(&cfg, pt.root(), pool, &model, &|ia| pt.iova_to_phys(ia));
    assert_eq!(pool.in_use(), 16);
    drop(pt);
    assert_eq!(pool.in_use(), 0);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]
    #[test]
    fn v7s_random_ops(ops in ops()) {
        // 16 slots of root and up to 24 second-level tables: small enough
        // that maps run out of tables.
        static POOL: StaticPool<Table1K, 40> = StaticPool::new();
        run::<false, 40>(&POOL, &ops);
    }

    #[test]
    fn v7s_mtk_random_ops(ops in ops()) {
        static POOL: StaticPool<Table1K, 40> = StaticPool::new();
        run::<true, 40>(&POOL, &ops);
    }
}

/// Every partial unmap of a supersection: a 4K hole at each 1M step splits
/// it into sections and one section into pages; the rest stays mapped.
#[test]
fn supersection_cut_everywhere() {
    static POOL: StaticPool<Table1K, 64> = StaticPool::new();
    POOL.set_phys_base(POOL_PA);
    let cfg = WalkConfig { mtk_ext: false };
    let pt: PageTable<ArmV7s, _, _> = PageTable::new(&POOL, NoTlb).unwrap();
    let (ia, pa) = (0x1000_0000u64, 0x2000_0000u64);
    let prot = Prot::READ | Prot::WRITE;
    for hole in (0..16u64).map(|k| k << 20) {
        pt.map(ia, pa, 1 << 24, prot).unwrap();
        assert_eq!(pt.unmap(ia + hole + 0x3000, 0x1000), 0x1000);
        let mut model = Model::default();
        model.map(ia, 1 << 24, pa, expected_attrs(false, prot));
        model.unmap(ia + hole + 0x3000, 0x1000);
        check(&cfg, pt.root(), &POOL, &model, &|a| pt.iova_to_phys(a));
        assert_eq!(pt.unmap(ia, 1 << 24), (1 << 24) - 0x1000);
        assert_eq!(POOL.in_use(), 16);
    }
}
