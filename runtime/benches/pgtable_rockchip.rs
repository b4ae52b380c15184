//! Rockchip IOMMU benchmarks beside LPAE's and ARMv7s's: one 4K page per
//! call, a 64 MiB range in one call (v1, and v2 with outputs above 4 GiB,
//! whose scattered address bits rule out the one-add fill), unmapping both
//! ways, random lookups, and a floor (a tight loop writing the same PTEs
//! into preallocated page tables). Throughput is per 4K page.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use iommugen_runtime::pgtable::{Format, NoTlb, PageTable, Rockchip, StaticPool, Table4K};
use iommugen_runtime::Prot;

const PAGE: u64 = 4096;
const RANGE: u64 = 64 << 20;
const PAGES: u64 = RANGE / PAGE;
/// The window starts at 256 MiB; physical = IOVA + the version's offset.
const BASE: u64 = 256 << 20;
const PA_OFF_V1: u64 = 1 << 30;
const PA_OFF_V2: u64 = 0x12_0000_0000;

type V1 = Rockchip<1>;
type V2 = Rockchip<2>;
/// The directory and one page table per 4 MiB of the range.
type Pool = StaticPool<Table4K, { 1 + 16 }>;
static POOL: Pool = StaticPool::new();

fn prot() -> Prot {
    Prot::READ | Prot::WRITE
}

fn fresh<F: Format>() -> PageTable<F, &'static Pool, NoTlb> {
    POOL.set_phys_base(0x4000_0000);
    PageTable::new(&POOL, NoTlb).unwrap()
}

/// Run `iters` operations in rounds of at most the whole range, timing
/// only `op`.
fn rounds<S>(
    iters: u64,
    per_round: u64,
    mut setup: impl FnMut() -> S,
    mut op: impl FnMut(&mut S, u64),
) -> Duration {
    let mut total = Duration::ZERO;
    let mut left = iters;
    while left > 0 {
        let n = left.min(per_round);
        let mut s = setup();
        let t = Instant::now();
        for i in 0..n {
            op(&mut s, i);
        }
        total += t.elapsed();
        drop(s);
        left -= n;
    }
    total
}

fn map_page(c: &mut Criterion) {
    let mut g = c.benchmark_group("rk_map_4k_per_call");
    g.throughput(Throughput::Elements(1));
    g.bench_function("iommugen", |b| {
        b.iter_custom(|it| {
            rounds(it, PAGES, fresh::<V1>, |pt, i| {
                let ia = BASE + i * PAGE;
                pt.map(black_box(ia), ia + PA_OFF_V1, PAGE, prot()).unwrap()
            })
        })
    });
    g.bench_function("iommugen-mut", |b| {
        b.iter_custom(|it| {
            rounds(it, PAGES, fresh::<V1>, |pt, i| {
                let ia = BASE + i * PAGE;
                pt.map_mut(black_box(ia), ia + PA_OFF_V1, PAGE, prot())
                    .unwrap()
            })
        })
    });
    g.finish();
}

fn map_range(c: &mut Criterion) {
    let mut g = c.benchmark_group("rk_map_64m_one_call");
    g.throughput(Throughput::Elements(PAGES));
    g.bench_function("v1", |b| {
        b.iter_custom(|it| {
            rounds(it, 1, fresh::<V1>, |pt, _| {
                pt.map_mut(black_box(BASE), BASE + PA_OFF_V1, RANGE, prot())
                    .unwrap()
            })
        })
    });
    g.bench_function("v2", |b| {
        b.iter_custom(|it| {
            rounds(it, 1, fresh::<V2>, |pt, _| {
                pt.map_mut(black_box(BASE), BASE + PA_OFF_V2, RANGE, prot())
                    .unwrap()
            })
        })
    });
    // The floor: 16 page tables of PTEs written by a tight loop into
    // preallocated memory, with their directory entries.
    let mut pts = vec![[0u32; 1024]; 16];
    let mut dir = vec![0u32; 1024];
    g.bench_function("floor", |b| {
        b.iter(|| {
            let flags = 0x7u32; // valid | readable | writable, as for `prot()`
            for (t, table) in pts.iter_mut().enumerate() {
                let first = (BASE + PA_OFF_V1) as u32 + ((t as u32) << 22);
                for (i, d) in table.iter_mut().enumerate() {
                    *d = (first + ((i as u32) << 12)) | flags;
                }
                dir[(BASE >> 22) as usize + t] = (0x4000_1000 + ((t as u32) << 12)) | 1;
            }
            black_box((&pts, &dir));
        })
    });
    g.finish();
}

fn unmap(c: &mut Criterion) {
    let mut g = c.benchmark_group("rk_unmap");
    g.throughput(Throughput::Elements(1));
    let mapped = || {
        let mut pt = fresh::<V1>();
        pt.map_mut(BASE, BASE + PA_OFF_V1, RANGE, prot()).unwrap();
        pt
    };
    g.bench_function("4k_per_call", |b| {
        b.iter_custom(|it| {
            rounds(it, PAGES, mapped, |pt, i| {
                assert_eq!(pt.unmap(black_box(BASE + i * PAGE), PAGE), PAGE)
            })
        })
    });
    g.bench_function("4k_per_call-mut", |b| {
        b.iter_custom(|it| {
            rounds(it, PAGES, mapped, |pt, i| {
                assert_eq!(pt.unmap_mut(black_box(BASE + i * PAGE), PAGE), PAGE)
            })
        })
    });
    g.throughput(Throughput::Elements(PAGES));
    g.bench_function("64m_one_call", |b| {
        b.iter_custom(|it| {
            rounds(it, 1, mapped, |pt, _| {
                assert_eq!(pt.unmap_mut(black_box(BASE), RANGE), RANGE)
            })
        })
    });
    g.finish();
}

fn lookup(c: &mut Criterion) {
    let mut g = c.benchmark_group("rk_iova_to_phys_random");
    g.throughput(Throughput::Elements(1));
    let mut x = 0x2545_f491_4f6c_dd1du64;
    let addrs: Vec<u64> = (0..4096)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            BASE + (x % RANGE)
        })
        .collect();
    let mut pt = fresh::<V2>();
    pt.map_mut(BASE, BASE + PA_OFF_V2, RANGE, prot()).unwrap();
    g.bench_function("iommugen", |b| {
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) & 4095;
            black_box(pt.iova_to_phys(black_box(addrs[i])).unwrap_or(u64::MAX))
        })
    });
    g.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(2))
        .sample_size(10)
}

criterion_group! { name = benches; config = config(); targets = map_page, map_range, unmap, lookup }
criterion_main!(benches);
