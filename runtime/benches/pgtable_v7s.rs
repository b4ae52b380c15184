//! ARMv7 short-descriptor benchmarks beside LPAE's (`benches/pgtable.rs`):
//! one 4K page per call, a 64 MiB range in one call (as small pages, large
//! pages, sections and supersections, chosen by the output's alignment), unmapping both ways, random lookups, and
//! a floor (a tight loop writing the same small-page descriptors into
//! preallocated second-level tables). Throughput is per 4K page.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use iommugen_runtime::pgtable::{ArmV7s, NoTlb, PageTable, StaticPool, Table1K};
use iommugen_runtime::Prot;

const PAGE: u64 = 4096;
const RANGE: u64 = 64 << 20;
const PAGES: u64 = RANGE / PAGE;
/// The window starts at 256 MiB; physical = IOVA + `PA_OFF`.
const BASE: u64 = 256 << 20;
const PA_OFF: u64 = 1 << 30;

/// 4K pages only, and all four sizes.
type Pages = ArmV7s<false, { 1 << 12 }>;
type AllSizes = ArmV7s;
/// 16 slots of root and one second-level table per MiB of the range.
type Pool = StaticPool<Table1K, { 16 + 64 }>;
static POOL: Pool = StaticPool::new();

fn prot() -> Prot {
    Prot::READ | Prot::WRITE | Prot::CACHE
}

fn fresh<F: iommugen_runtime::pgtable::Format>() -> PageTable<F, &'static Pool, NoTlb> {
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
    let mut g = c.benchmark_group("v7s_map_4k_per_call");
    g.throughput(Throughput::Elements(1));
    g.bench_function("iommugen", |b| {
        b.iter_custom(|it| {
            rounds(it, PAGES, fresh::<Pages>, |pt, i| {
                let ia = BASE + i * PAGE;
                pt.map(black_box(ia), ia + PA_OFF, PAGE, prot()).unwrap()
            })
        })
    });
    g.bench_function("iommugen-mut", |b| {
        b.iter_custom(|it| {
            rounds(it, PAGES, fresh::<Pages>, |pt, i| {
                let ia = BASE + i * PAGE;
                pt.map_mut(black_box(ia), ia + PA_OFF, PAGE, prot())
                    .unwrap()
            })
        })
    });
    g.finish();
}

fn map_range(c: &mut Criterion) {
    let mut g = c.benchmark_group("v7s_map_64m_one_call");
    g.throughput(Throughput::Elements(PAGES));
    for (name, pa_off) in [
        ("4k", PA_OFF + PAGE),
        ("64k", PA_OFF + (1 << 16)),
        ("1m", PA_OFF + (1 << 20)),
        ("16m", PA_OFF),
    ] {
        g.bench_function(name, |b| {
            b.iter_custom(|it| {
                rounds(it, 1, fresh::<AllSizes>, |pt, _| {
                    pt.map_mut(black_box(BASE), BASE + pa_off, RANGE, prot())
                        .unwrap()
                })
            })
        });
    }
    // The floor: 64 second-level tables of small pages written by a tight
    // loop into preallocated memory, with their first-level entries.
    let mut l2 = vec![[0u32; 256]; 64];
    let mut l1 = vec![0u32; 4096];
    g.bench_function("floor", |b| {
        b.iter(|| {
            let attrs = 0xc7eu32; // the engine's small-page bits for `prot()`
            for (t, table) in l2.iter_mut().enumerate() {
                let first = (BASE + PA_OFF) as u32 + ((t as u32) << 20);
                for (i, d) in table.iter_mut().enumerate() {
                    *d = (first + ((i as u32) << 12)) | attrs;
                }
                l1[(BASE >> 20) as usize + t] = (0x4000_4000 + ((t as u32) << 10)) | 1;
            }
            black_box((&l2, &l1));
        })
    });
    g.finish();
}

fn unmap(c: &mut Criterion) {
    let mut g = c.benchmark_group("v7s_unmap");
    g.throughput(Throughput::Elements(1));
    let mapped = || {
        let mut pt = fresh::<Pages>();
        pt.map_mut(BASE, BASE + PA_OFF, RANGE, prot()).unwrap();
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
    let mut g = c.benchmark_group("v7s_iova_to_phys_random");
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
    let mut pt = fresh::<Pages>();
    pt.map_mut(BASE, BASE + PA_OFF, RANGE, prot()).unwrap();
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
