//! Apple DART benchmarks beside LPAE's and ARMv7s's: one 16K page per
//! call, a 64 MiB range in one call (4096 pages; the format has no blocks),
//! unmapping both ways, random lookups, for DART1 and DART2, and a floor (a
//! tight loop writing the same DART1 page entries into preallocated
//! second-level tables). Throughput is per 16K page.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use iommugen_runtime::pgtable::{Dart1, Dart2, NoTlb, PageTable, StaticPool, Table16K};
use iommugen_runtime::Prot;

const PAGE: u64 = 1 << 14;
const RANGE: u64 = 64 << 20;
const PAGES: u64 = RANGE / PAGE;
/// The window starts at 256 MiB; physical = IOVA + `PA_OFF`.
const BASE: u64 = 256 << 20;
const PA_OFF: u64 = 1 << 30;

/// One root and one second-level table per 32 MiB of the range.
type Pool = StaticPool<Table16K, { 1 + 2 }>;
static POOL: Pool = StaticPool::new();

fn prot() -> Prot {
    Prot::READ | Prot::WRITE | Prot::CACHE
}

fn fresh<F: iommugen_runtime::pgtable::Format>() -> PageTable<F, &'static Pool, NoTlb> {
    POOL.set_phys_base(0x8_0000_0000);
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
    map_page_of::<Dart1>(c, "dart1");
    map_page_of::<Dart2>(c, "dart2");
}

fn map_page_of<Pages: iommugen_runtime::pgtable::Format>(c: &mut Criterion, name: &str) {
    let mut g = c.benchmark_group(format!("{name}_map_16k_per_call"));
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
    let mut g = c.benchmark_group("dart_map_64m_one_call");
    g.throughput(Throughput::Elements(PAGES));
    g.bench_function("dart1", |b| {
        b.iter_custom(|it| {
            rounds(it, 1, fresh::<Dart1>, |pt, _| {
                pt.map_mut(black_box(BASE), BASE + PA_OFF, RANGE, prot())
                    .unwrap()
            })
        })
    });
    g.bench_function("dart2", |b| {
        b.iter_custom(|it| {
            rounds(it, 1, fresh::<Dart2>, |pt, _| {
                pt.map_mut(black_box(BASE), BASE + PA_OFF, RANGE, prot())
                    .unwrap()
            })
        })
    });
    // The floor: two second-level tables of DART1 page entries written by
    // a tight loop into preallocated memory, with their first-level entries.
    let mut l2 = vec![[0u64; 2048]; 2];
    let mut l1 = vec![0u64; 128];
    g.bench_function("floor", |b| {
        b.iter(|| {
            // The engine's DART1 page bits for `prot()`: valid, SP_DIS and
            // the whole sub-page window.
            let attrs = 0x000f_ff00_0000_0003u64;
            for (t, table) in l2.iter_mut().enumerate() {
                let first = BASE + PA_OFF + ((t as u64) << 25);
                for (i, d) in table.iter_mut().enumerate() {
                    *d = (first + ((i as u64) << 14)) | attrs;
                }
                l1[(BASE >> 25) as usize + t] = (0x8_0000_4000 + ((t as u64) << 14)) | 1;
            }
            black_box((&l2, &l1));
        })
    });
    g.finish();
}

fn unmap(c: &mut Criterion) {
    unmap_of::<Dart1>(c, "dart1");
    unmap_of::<Dart2>(c, "dart2");
}

fn unmap_of<Pages: iommugen_runtime::pgtable::Format>(c: &mut Criterion, name: &str) {
    let mut g = c.benchmark_group(format!("{name}_unmap"));
    g.throughput(Throughput::Elements(1));
    let mapped = || {
        let mut pt = fresh::<Pages>();
        pt.map_mut(BASE, BASE + PA_OFF, RANGE, prot()).unwrap();
        pt
    };
    g.bench_function("16k_per_call", |b| {
        b.iter_custom(|it| {
            rounds(it, PAGES, mapped, |pt, i| {
                assert_eq!(pt.unmap(black_box(BASE + i * PAGE), PAGE), PAGE)
            })
        })
    });
    g.bench_function("16k_per_call-mut", |b| {
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
    lookup_of::<Dart1>(c, "dart1");
    lookup_of::<Dart2>(c, "dart2");
}

fn lookup_of<Pages: iommugen_runtime::pgtable::Format>(c: &mut Criterion, name: &str) {
    let mut g = c.benchmark_group(format!("{name}_iova_to_phys_random"));
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
