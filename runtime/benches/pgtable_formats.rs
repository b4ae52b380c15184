//! Page-table benchmarks for every non-LPAE format variant in one run,
//! with LPAE stage 1 4K (`S1G4K48`) per-page rows as the common yardstick
//! (LPAE's full set, against aarch64-paging, is `benches/pgtable.rs`).
//!
//! Per variant, in a 64 MiB window at 256 MiB: map one page per call in
//! sequential, two-interleaved-streams and scattered order (`&self` and
//! `&mut self`); map the window in one call; the floor (a tight loop
//! writing the same descriptors into preallocated tables); unmap one page
//! per call and the window in one call; random `iova_to_phys`. Every row's
//! time is per page of the format's granule: criterion's iteration is one
//! page, and one-call rows are scaled from whole-window runs.

mod formats;
mod rounds;

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use formats::{BenchFormat, FloorWord};
use iommugen_runtime::pgtable::lpae::S1G4K48;
use iommugen_runtime::pgtable::{
    AppleDart, ArmV7s, Exynos, Format, NoTlb, PageTable, Rockchip, StaticPool, Sun50i, Table16K,
    Table1K, Table4K, TableMem, TegraSmmu,
};
use iommugen_runtime::Prot;
use rounds::per_page;

const RANGE: u64 = 64 << 20;
const BASE: u64 = 256 << 20;

fn prot() -> Prot {
    Prot::READ | Prot::WRITE | Prot::CACHE
}

/// Places `pool` (empty) at `pa` and hands it out.
fn placed<T: TableMem, const N: usize>(
    pool: &'static StaticPool<T, N>,
    pa: u64,
) -> &'static StaticPool<T, N> {
    pool.set_phys_base(pa);
    pool
}

struct V7s;
impl BenchFormat for V7s {
    const NAME: &'static str = "v7s";
    type Pages = ArmV7s<false, { 1 << 12 }>;
    type Sizes = ArmV7s;
    type Pool = StaticPool<Table1K, { 16 + 64 }>;
    type Word = u32;
    const PA_OFF: u64 = 1 << 30;
    const RANGE_SHIFTS: &'static [(&'static str, u64)] = &[
        ("4k", 1 << 12),
        ("64k", 1 << 16),
        ("1m", 1 << 20),
        ("16m", 0),
    ];
    fn pool() -> &'static Self::Pool {
        static POOL: StaticPool<Table1K, { 16 + 64 }> = StaticPool::new();
        placed(&POOL, 0x4000_0000)
    }
    /// Small page: TEX0 | B | C | AP[0] (AF) | AP[1] (unprivileged) | S |
    /// nG, type 0b1x.
    fn floor_leaf(pa: u64) -> u64 {
        pa | 0xc7e
    }
    fn floor_table(pa: u64) -> u64 {
        pa | 1
    }
}

/// The MediaTek extension with outputs above 4 GiB (PA bits 32-34 in the
/// leaf's low bits).
struct V7sMtk;
impl BenchFormat for V7sMtk {
    const NAME: &'static str = "v7s_mtk";
    type Pages = ArmV7s<true, { 1 << 12 }>;
    type Sizes = ArmV7s<true>;
    type Pool = StaticPool<Table1K, { 16 + 64 }>;
    type Word = u32;
    const PA_OFF: u64 = 0x5_0000_0000;
    const RANGE_SHIFTS: &'static [(&'static str, u64)] = &[("4k", 1 << 12), ("16m", 0)];
    fn pool() -> &'static Self::Pool {
        V7s::pool()
    }
    /// S | nG | TEX0 | B | C, type 0b1x; PA 32 in bit 9, 33 in 4, 34 in 5.
    fn floor_leaf(pa: u64) -> u64 {
        let hi = ((pa >> 32) & 1) << 9 | ((pa >> 33) & 1) << 4 | ((pa >> 34) & 1) << 5;
        (pa & 0xffff_f000) | 0xc4e | hi
    }
    fn floor_table(pa: u64) -> u64 {
        pa | 1
    }
}

struct Dart<const G: u8>;
impl<const G: u8> BenchFormat for Dart<G> {
    const NAME: &'static str = if G == 1 { "dart1" } else { "dart2" };
    type Pages = AppleDart<G, 32>;
    type Sizes = AppleDart<G, 32>;
    type Pool = StaticPool<Table16K, { 1 + 2 }>;
    type Word = u64;
    const PA_OFF: u64 = 1 << 30;
    fn pool() -> &'static Self::Pool {
        static POOL: StaticPool<Table16K, { 1 + 2 }> = StaticPool::new();
        placed(&POOL, 0x8_0000_0000)
    }
    /// Sub-page window 0..=0xfff, valid; DART1 also sub-page protection
    /// disable (bit 1); DART2 holds PA[41:14] from bit 10 (cached: no NC).
    fn floor_leaf(pa: u64) -> u64 {
        let window = 0xfff << 40;
        if G == 1 {
            pa | window | 0b11
        } else {
            (pa >> 4) | window | 1
        }
    }
    fn floor_table(pa: u64) -> u64 {
        if G == 1 {
            pa | 1
        } else {
            (pa >> 4) | 1
        }
    }
}

/// v1 below 4 GiB; v2 with outputs above 64 GiB (PA 39:32 in bits 11:4).
struct Rk<const V: u32>;
impl<const V: u32> BenchFormat for Rk<V> {
    const NAME: &'static str = if V == 1 { "rk_v1" } else { "rk_v2" };
    type Pages = Rockchip<V>;
    type Sizes = Rockchip<V>;
    type Pool = StaticPool<Table4K, 40>;
    type Word = u32;
    const PA_OFF: u64 = if V == 1 { 1 << 30 } else { 0x12_0000_0000 };
    fn pool() -> &'static Self::Pool {
        static POOL: StaticPool<Table4K, 40> = StaticPool::new();
        placed(&POOL, 0x4000_0000)
    }
    /// Valid, readable, writable (bits 0-2).
    fn floor_leaf(pa: u64) -> u64 {
        Self::floor_table(pa) | 0b110
    }
    fn floor_table(pa: u64) -> u64 {
        let hi = if V == 2 {
            ((pa >> 32) & 0xf) << 8 | ((pa >> 36) & 0xf) << 4
        } else {
            0
        };
        (pa & 0xffff_f000) | hi | 1
    }
}

/// Exynos SysMMU v1 (entries hold the address; tables and outputs below
/// 4 GiB) and v5 (entries hold PA >> 4; tables and outputs above 4 GiB).
struct Sysmmu<const V: u32>;
impl<const V: u32> BenchFormat for Sysmmu<V> {
    const NAME: &'static str = if V >= 5 { "exynos_v5" } else { "exynos_v1" };
    type Pages = Exynos<V>;
    type Sizes = Exynos<V>;
    type Pool = StaticPool<Table1K, { 16 + 64 }>;
    type Word = u32;
    const PA_OFF: u64 = if V >= 5 { 0x8_0000_0000 } else { 1 << 30 };
    const RANGE_SHIFTS: &'static [(&'static str, u64)] =
        &[("4k", 1 << 12), ("64k", 1 << 16), ("1m", 0)];
    fn pool() -> &'static Self::Pool {
        static HIGH: StaticPool<Table1K, { 16 + 64 }> = StaticPool::new();
        if V >= 5 {
            placed(&HIGH, 0xb_8000_0000)
        } else {
            V7s::pool()
        }
    }
    /// Small page, type 0b10: v1 PA[31:12] with AP[0] (bit 4, access) and
    /// AP[2] clear (writable); v5 PA >> 4 with read (bit 2) and write
    /// (bit 3). Linux leaves no cache attribute in either.
    fn floor_leaf(pa: u64) -> u64 {
        if V >= 5 {
            (pa >> 4) | 0b1110
        } else {
            pa | 0x12
        }
    }
    /// Type 0b01; v5 holds the address >> 4.
    fn floor_table(pa: u64) -> u64 {
        if V >= 5 {
            (pa >> 4) | 1
        } else {
            pa | 1
        }
    }
}

/// Tegra124-class SMMU (34-bit PA): 4K pages only, tables and outputs above
/// 4 GiB; entries hold the page frame number.
struct Tegra;
impl BenchFormat for Tegra {
    const NAME: &'static str = "tegra";
    type Pages = TegraSmmu<34>;
    type Sizes = TegraSmmu<34>;
    type Pool = StaticPool<Table4K, 40>;
    type Word = u32;
    const PA_OFF: u64 = 0x2_0000_0000;
    fn pool() -> &'static Self::Pool {
        static POOL: StaticPool<Table4K, 40> = StaticPool::new();
        placed(&POOL, 0x1_4000_0000)
    }
    /// PTE: PFN in bits 21:0, readable (31), writable (30), non-secure (29).
    fn floor_leaf(pa: u64) -> u64 {
        (pa >> 12) | 0xe000_0000
    }
    /// PDE: the table's PFN, R | W | NS | next (bit 28).
    fn floor_table(pa: u64) -> u64 {
        (pa >> 12) | 0xf000_0000
    }
}

/// Allwinner H6: 4K pages only, below 4 GiB.
struct H6;
impl BenchFormat for H6 {
    const NAME: &'static str = "sun50i";
    type Pages = Sun50i;
    type Sizes = Sun50i;
    type Pool = StaticPool<Table1K, { 16 + 64 }>;
    type Word = u32;
    const PA_OFF: u64 = 1 << 30;
    fn pool() -> &'static Self::Pool {
        V7s::pool()
    }
    /// PTE: PA[31:12], authority index 4 (Linux's read/write domain) in
    /// bits 7:4, valid bit 1.
    fn floor_leaf(pa: u64) -> u64 {
        pa | 0x42
    }
    /// DTE: PA[31:10], bits 1:0 = 01.
    fn floor_table(pa: u64) -> u64 {
        pa | 1
    }
}

/// The yardstick: LPAE stage 1, 4K granule, 48-bit.
struct Lpae;
impl BenchFormat for Lpae {
    const NAME: &'static str = "lpae_s1_4k";
    type Pages = S1G4K48;
    type Sizes = S1G4K48;
    type Pool = StaticPool<Table4K, 40>;
    type Word = u64;
    const PA_OFF: u64 = 1 << 40;
    const FULL: bool = false;
    fn pool() -> &'static Self::Pool {
        Rk::<1>::pool()
    }
    /// Page: AttrIndx 1, inner shareable, AF, nG, type 0b11.
    fn floor_leaf(pa: u64) -> u64 {
        pa | 0xf47
    }
    fn floor_table(pa: u64) -> u64 {
        pa | 3
    }
}

/// Pages of the window and their size.
fn geometry<A: BenchFormat>() -> (u64, u64) {
    let page = 1u64 << <A::Pages as Format>::GRANULE_SHIFT;
    (page, RANGE / page)
}

/// The page index of the `i`th call of `n`.
type Order = fn(u64, u64) -> u64;

/// Orders for per-page maps.
const ORDERS: [(&str, Order); 3] = [
    ("seq", |i, _| i),
    // Two streams, one from each half of the window, alternating.
    ("2streams", |i, n| (i >> 1) + (i & 1) * (n / 2)),
    // An odd stride is a permutation of the (power-of-two) pages.
    ("scattered", |i, n| (i * 0x9e37) & (n - 1)),
];

/// `iters` pages' worth of whole-window operations: enough runs to cover
/// them, timed, and the time scaled to `iters` pages.
fn whole<S>(
    iters: u64,
    pages: u64,
    mut setup: impl FnMut() -> S,
    mut op: impl FnMut(&mut S),
) -> Duration {
    let runs = iters.div_ceil(pages);
    let mut total = Duration::ZERO;
    for _ in 0..runs {
        let mut s = setup();
        let t = Instant::now();
        op(&mut s);
        total += t.elapsed();
        drop(s);
    }
    total.mul_f64(iters as f64 / (runs * pages) as f64)
}

type Pt<F, A> = PageTable<F, &'static <A as BenchFormat>::Pool, NoTlb>;

fn fresh<F: Format, A: BenchFormat>() -> Pt<F, A> {
    PageTable::new(A::pool(), NoTlb).expect("a root table")
}

/// The window mapped page by page (so every format holds pages).
fn mapped<A: BenchFormat>() -> Pt<A::Pages, A> {
    let (page, pages) = geometry::<A>();
    let mut pt = fresh::<A::Pages, A>();
    for i in 0..pages {
        let ia = BASE + i * page;
        pt.map_mut(ia, ia + A::PA_OFF, page, prot()).expect("map");
    }
    pt
}

fn map_per_page<A: BenchFormat>(g: &mut Group) {
    let (page, pages) = geometry::<A>();
    for (order, at) in ORDERS {
        g.bench_function(format!("map_{order}"), |b| {
            b.iter_custom(|it| {
                per_page(it, pages, fresh::<A::Pages, A>, |pt, i| {
                    let ia = BASE + at(i, pages) * page;
                    pt.map(black_box(ia), ia + A::PA_OFF, page, prot())
                        .expect("map")
                })
            })
        });
        g.bench_function(format!("map_{order}_mut"), |b| {
            b.iter_custom(|it| {
                per_page(it, pages, fresh::<A::Pages, A>, |pt, i| {
                    let ia = BASE + at(i, pages) * page;
                    pt.map_mut(black_box(ia), ia + A::PA_OFF, page, prot())
                        .expect("map")
                })
            })
        });
    }
}

fn unmap_per_page<A: BenchFormat>(g: &mut Group) {
    let (page, pages) = geometry::<A>();
    g.bench_function("unmap_seq", |b| {
        b.iter_custom(|it| {
            per_page(it, pages, mapped::<A>, |pt, i| {
                assert_eq!(pt.unmap(black_box(BASE + i * page), page), page)
            })
        })
    });
    g.bench_function("unmap_seq_mut", |b| {
        b.iter_custom(|it| {
            per_page(it, pages, mapped::<A>, |pt, i| {
                assert_eq!(pt.unmap_mut(black_box(BASE + i * page), page), page)
            })
        })
    });
}

fn one_call<A: BenchFormat>(g: &mut Group) {
    let (_, pages) = geometry::<A>();
    for &(label, shift) in A::RANGE_SHIFTS {
        let name = if label.is_empty() {
            "map_64m".into()
        } else {
            format!("map_64m_{label}")
        };
        g.bench_function(name, |b| {
            b.iter_custom(|it| {
                whole(it, pages, fresh::<A::Sizes, A>, |pt| {
                    pt.map_mut(black_box(BASE), BASE + A::PA_OFF + shift, RANGE, prot())
                        .expect("map")
                })
            })
        });
    }
    g.bench_function("unmap_64m", |b| {
        b.iter_custom(|it| {
            whole(it, pages, mapped::<A>, |pt| {
                assert_eq!(pt.unmap_mut(black_box(BASE), RANGE), RANGE)
            })
        })
    });
}

/// The floor: the window's leaf tables and their parent entries written by
/// a tight loop into preallocated memory, with the hand-written
/// descriptors (checked first against the engine's codec).
fn floor<A: BenchFormat>(g: &mut Group) {
    type F<A> = <A as BenchFormat>::Pages;
    let (page, pages) = geometry::<A>();
    let per_table = 1u64 << F::<A>::INDEX_BITS[3];
    let parent_shift = F::<A>::SHIFT[2];
    let table_bytes = per_table * std::mem::size_of::<A::Word>() as u64;
    let table_pa = |t: u64| 0x4000_0000 + (t + 1) * table_bytes;
    let pa0 = BASE + A::PA_OFF;
    assert_eq!(
        A::floor_leaf(pa0 + page),
        F::<A>::leaf(pa0 + page, F::<A>::attrs(prot()), 3, false),
        "{}: the floor's leaf is not the engine's",
        A::NAME
    );
    assert_eq!(A::floor_table(table_pa(1)), F::<A>::table(table_pa(1), 2));
    let mut leaves = vec![A::Word::default(); pages as usize];
    let mut parent = vec![A::Word::default(); 1 << F::<A>::INDEX_BITS[2]];
    let first = ((BASE >> parent_shift) & ((1 << F::<A>::INDEX_BITS[2]) - 1)) as usize;
    g.bench_function("floor", |b| {
        b.iter_custom(|it| {
            whole(
                it,
                pages,
                || (),
                |_| {
                    for (t, table) in leaves.chunks_mut(per_table as usize).enumerate() {
                        let t = t as u64;
                        let base = pa0 + t * per_table * page;
                        for (i, d) in table.iter_mut().enumerate() {
                            *d = A::Word::of(A::floor_leaf(base + i as u64 * page));
                        }
                        parent[first + t as usize] = A::Word::of(A::floor_table(table_pa(t)));
                    }
                    black_box((&leaves, &parent));
                },
            )
        })
    });
}

fn lookup<A: BenchFormat>(g: &mut Group) {
    let mut x = 0x2545_f491_4f6c_dd1du64;
    let addrs: Vec<u64> = (0..4096)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            BASE + (x % RANGE)
        })
        .collect();
    let pt = mapped::<A>();
    g.bench_function("iova_to_phys_random", |b| {
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) & 4095;
            black_box(pt.iova_to_phys(black_box(addrs[i])).unwrap_or(u64::MAX))
        })
    });
}

type Group<'a> = criterion::BenchmarkGroup<'a, criterion::measurement::WallTime>;

fn variant<A: BenchFormat>(c: &mut Criterion) {
    let mut g = c.benchmark_group(A::NAME);
    g.throughput(Throughput::Elements(1));
    map_per_page::<A>(&mut g);
    unmap_per_page::<A>(&mut g);
    if A::FULL {
        one_call::<A>(&mut g);
        floor::<A>(&mut g);
        lookup::<A>(&mut g);
    }
    g.finish();
}

fn all(c: &mut Criterion) {
    variant::<V7s>(c);
    variant::<V7sMtk>(c);
    variant::<Dart<1>>(c);
    variant::<Dart<2>>(c);
    variant::<Rk<1>>(c);
    variant::<Rk<2>>(c);
    variant::<Sysmmu<1>>(c);
    variant::<Sysmmu<5>>(c);
    variant::<H6>(c);
    variant::<Tegra>(c);
    variant::<Lpae>(c);
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1))
        .sample_size(10)
}

criterion_group! { name = benches; config = config(); targets = all }
criterion_main!(benches);
