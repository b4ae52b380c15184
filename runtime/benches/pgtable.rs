//! Page-table benchmarks (issue 6): stage 1, 4K granule, 48-bit input, on
//! 1 GiB. The engine, aarch64-paging doing the same work, and a floor (a
//! tight loop writing the same descriptors into preallocated tables) run
//! side by side. Throughput is reported per 4K page (`Elements`), so
//! criterion prints ns per page directly. Results: book, "Performance".

mod rounds;

use std::hint::black_box;
use std::time::{Duration, Instant};

use aarch64_paging::descriptor::El23Attributes as A;
use aarch64_paging::idmap::IdMap;
use aarch64_paging::paging::{Constraints, El2, MemoryRegion};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use iommugen_runtime::pgtable::lpae::{S1G4K48Pages, S1G4K48};
use iommugen_runtime::pgtable::{
    sizes, Format, LpaeFormat, NoTlb, PageTable, Stage, StaticPool, Table4K,
};
use iommugen_runtime::Prot;

const PAGE: u64 = 4096;
const GIB: u64 = 1 << 30;
const PAGES: u64 = GIB / PAGE;
/// The 1 GiB window starts at 1 GiB; physical = IOVA + `PA_OFF`.
const BASE: u64 = GIB;
const PA_OFF: u64 = 1 << 40;
/// For the 2M-block runs: off a 1G boundary, so no 1G block fits.
const BASE_2M: u64 = GIB + (2 << 20);

/// Stage 1, 4K granule, 48-bit, 4K pages and 2M blocks.
struct S1G4K2M;
impl LpaeFormat for S1G4K2M {
    const STAGE: Stage = Stage::One;
    const GRANULE_SHIFT: u32 = 12;
    const IAS: u32 = 48;
    const OAS: u32 = 48;
    const PAGE_SIZES: u64 = sizes::SZ_4K | sizes::SZ_2M;
    const COHERENT_WALK: bool = true;
}

static POOL_PAGES: StaticPool<Table4K, 1024> = StaticPool::new();
static POOL_BLOCKS: StaticPool<Table4K, 1024> = StaticPool::new();

fn prot() -> Prot {
    Prot::READ | Prot::WRITE | Prot::CACHE
}

fn ours<F: Format>(
    pool: &'static StaticPool<Table4K, 1024>,
) -> PageTable<F, &'static StaticPool<Table4K, 1024>, NoTlb> {
    pool.set_phys_base(0x4000_0000);
    PageTable::new(pool, NoTlb).unwrap()
}

/// The peer's flags for the same leaves (normal WB, inner shareable, AF, nG).
/// A fresh table of format `F` with 1 GiB at `base` mapped in one call: the
/// starting point of every unmap and lookup benchmark.
fn mapped<F: Format>(
    pool: &'static StaticPool<Table4K, 1024>,
    base: u64,
) -> PageTable<F, &'static StaticPool<Table4K, 1024>, NoTlb> {
    let pt = ours::<F>(pool);
    pt.map(base, base + PA_OFF, GIB, prot()).unwrap();
    pt
}

fn peer_flags() -> A {
    A::VALID | A::ATTRIBUTE_INDEX_1 | A::INNER_SHAREABLE | A::ACCESSED | A::NON_GLOBAL
}

fn peer() -> IdMap<El2> {
    IdMap::new(0, El2)
}

fn region(start: u64, size: u64) -> MemoryRegion {
    MemoryRegion::new(start as usize, (start + size) as usize)
}

/// Run `iters` single-page operations on the 1 GiB window in rounds of
/// at most a whole GiB, timing only `op`.
fn per_page<S>(iters: u64, setup: impl FnMut() -> S, mut op: impl FnMut(&mut S, u64)) -> Duration {
    rounds::per_page(iters, PAGES, setup, |s, i| op(s, BASE + i * PAGE))
}

/// Run `iters` whole-GiB operations, timing only `op`.
fn per_gib<S>(
    iters: u64,
    mut setup: impl FnMut() -> S,
    mut op: impl FnMut(&mut S),
    mut teardown: impl FnMut(S),
) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        let mut s = setup();
        let t = Instant::now();
        op(&mut s);
        total += t.elapsed();
        teardown(s);
    }
    total
}

#[repr(C, align(4096))]
struct RawTable([u64; 512]);

/// The floor: the same 512 L3 tables of descriptors written by a tight
/// loop into preallocated memory, optionally zeroing each table first (as a
/// fresh table from an allocator would need).
fn floor(tables: &mut [RawTable], l2: &mut RawTable, zero: bool) {
    let attrs = 0xf47u64; // the engine's descriptor bits for `prot()`
    for (t, table) in tables.iter_mut().enumerate() {
        if zero {
            table.0 = [0; 512];
        }
        let first = BASE + PA_OFF + ((t as u64) << 21);
        for (i, d) in table.0.iter_mut().enumerate() {
            *d = (first + ((i as u64) << 12)) | attrs;
        }
        l2.0[t] = (0x4000_0000 + ((t as u64) << 12)) | 3;
    }
    black_box(&*tables);
}

fn map_one_page(c: &mut Criterion) {
    let mut g = c.benchmark_group("map_4k_per_call");
    g.throughput(Throughput::Elements(1));
    g.bench_function("iommugen", |b| {
        b.iter_custom(|iters| {
            per_page(
                iters,
                || ours::<S1G4K48>(&POOL_BLOCKS),
                |pt, ia| pt.map(black_box(ia), ia + PA_OFF, PAGE, prot()).unwrap(),
            )
        })
    });
    g.bench_function("iommugen-mut", |b| {
        b.iter_custom(|iters| {
            per_page(
                iters,
                || ours::<S1G4K48>(&POOL_BLOCKS),
                |pt, ia| {
                    pt.map_mut(black_box(ia), ia + PA_OFF, PAGE, prot())
                        .unwrap()
                },
            )
        })
    });
    g.bench_function("aarch64-paging", |b| {
        b.iter_custom(|iters| {
            per_page(iters, peer, |pt, ia| {
                pt.map_range_with_constraints(
                    &region(black_box(ia), PAGE),
                    peer_flags(),
                    Constraints::NO_CONTIGUOUS_HINT,
                )
                .unwrap()
            })
        })
    });
    g.finish();
}

fn map_whole(c: &mut Criterion) {
    let mut g = c.benchmark_group("map_1g_one_call_4k");
    g.throughput(Throughput::Elements(PAGES));
    g.bench_function("iommugen", |b| {
        b.iter_custom(|iters| {
            per_gib(
                iters,
                || ours::<S1G4K48Pages>(&POOL_PAGES),
                |pt| pt.map(black_box(BASE), BASE + PA_OFF, GIB, prot()).unwrap(),
                drop,
            )
        })
    });
    g.bench_function("iommugen-mut", |b| {
        b.iter_custom(|iters| {
            per_gib(
                iters,
                || ours::<S1G4K48Pages>(&POOL_PAGES),
                |pt| {
                    pt.map_mut(black_box(BASE), BASE + PA_OFF, GIB, prot())
                        .unwrap()
                },
                drop,
            )
        })
    });
    g.bench_function("aarch64-paging", |b| {
        b.iter_custom(|iters| {
            per_gib(
                iters,
                peer,
                |pt| {
                    pt.map_range_with_constraints(
                        &region(black_box(BASE), GIB),
                        peer_flags(),
                        Constraints::NO_BLOCK_MAPPINGS | Constraints::NO_CONTIGUOUS_HINT,
                    )
                    .unwrap()
                },
                drop,
            )
        })
    });
    let mut tables: Vec<RawTable> = (0..512).map(|_| RawTable([0; 512])).collect();
    let mut l2 = RawTable([0; 512]);
    g.bench_function("floor+zeroing", |b| {
        b.iter(|| floor(&mut tables, &mut l2, true))
    });
    g.bench_function("floor", |b| b.iter(|| floor(&mut tables, &mut l2, false)));
    g.finish();

    let mut g = c.benchmark_group("map_1g_one_call_2m");
    g.throughput(Throughput::Elements(PAGES));
    g.bench_function("iommugen", |b| {
        b.iter_custom(|iters| {
            per_gib(
                iters,
                || ours::<S1G4K2M>(&POOL_BLOCKS),
                |pt| {
                    pt.map(black_box(BASE_2M), BASE_2M + PA_OFF, GIB, prot())
                        .unwrap()
                },
                drop,
            )
        })
    });
    g.bench_function("iommugen-mut", |b| {
        b.iter_custom(|iters| {
            per_gib(
                iters,
                || ours::<S1G4K2M>(&POOL_BLOCKS),
                |pt| {
                    pt.map_mut(black_box(BASE_2M), BASE_2M + PA_OFF, GIB, prot())
                        .unwrap()
                },
                drop,
            )
        })
    });
    g.bench_function("aarch64-paging", |b| {
        b.iter_custom(|iters| {
            per_gib(
                iters,
                peer,
                |pt| {
                    pt.map_range_with_constraints(
                        &region(black_box(BASE_2M), GIB),
                        peer_flags(),
                        Constraints::NO_CONTIGUOUS_HINT,
                    )
                    .unwrap()
                },
                drop,
            )
        })
    });
    g.finish();
}

fn unmap(c: &mut Criterion) {
    let mut g = c.benchmark_group("unmap_4k_per_call");
    g.throughput(Throughput::Elements(1));
    g.bench_function("iommugen", |b| {
        b.iter_custom(|iters| {
            per_page(
                iters,
                || mapped::<S1G4K48Pages>(&POOL_PAGES, BASE),
                |pt, ia| assert_eq!(pt.unmap(black_box(ia), PAGE), PAGE),
            )
        })
    });
    g.bench_function("iommugen-mut", |b| {
        b.iter_custom(|iters| {
            per_page(
                iters,
                || mapped::<S1G4K48Pages>(&POOL_PAGES, BASE),
                |pt, ia| assert_eq!(pt.unmap_mut(black_box(ia), PAGE), PAGE),
            )
        })
    });
    g.bench_function("aarch64-paging", |b| {
        b.iter_custom(|iters| {
            per_page(
                iters,
                || {
                    let mut pt = peer();
                    let c = Constraints::NO_BLOCK_MAPPINGS | Constraints::NO_CONTIGUOUS_HINT;
                    pt.map_range_with_constraints(&region(BASE, GIB), peer_flags(), c)
                        .unwrap();
                    pt
                },
                |pt, ia| {
                    // The peer has no unmap: map the page invalid.
                    pt.map_range_with_constraints(
                        &region(black_box(ia), PAGE),
                        A::empty(),
                        Constraints::NO_CONTIGUOUS_HINT,
                    )
                    .unwrap()
                },
            )
        })
    });
    g.finish();

    let mut g = c.benchmark_group("unmap_1g_one_call_4k");
    g.throughput(Throughput::Elements(PAGES));
    g.bench_function("iommugen", |b| {
        b.iter_custom(|iters| {
            per_gib(
                iters,
                || mapped::<S1G4K48Pages>(&POOL_PAGES, BASE),
                |pt| assert_eq!(pt.unmap(black_box(BASE), GIB), GIB),
                drop,
            )
        })
    });
    g.bench_function("iommugen-mut", |b| {
        b.iter_custom(|iters| {
            per_gib(
                iters,
                || mapped::<S1G4K48Pages>(&POOL_PAGES, BASE),
                |pt| assert_eq!(pt.unmap_mut(black_box(BASE), GIB), GIB),
                drop,
            )
        })
    });
    g.bench_function("aarch64-paging", |b| {
        b.iter_custom(|iters| {
            per_gib(
                iters,
                || {
                    let mut pt = peer();
                    let c = Constraints::NO_BLOCK_MAPPINGS | Constraints::NO_CONTIGUOUS_HINT;
                    pt.map_range_with_constraints(&region(BASE, GIB), peer_flags(), c)
                        .unwrap();
                    pt
                },
                |pt| {
                    let c = Constraints::NO_BLOCK_MAPPINGS | Constraints::NO_CONTIGUOUS_HINT;
                    pt.map_range_with_constraints(&region(black_box(BASE), GIB), A::empty(), c)
                        .unwrap();
                    // Give emptied tables back, as the engine does.
                    pt.compact_subtables();
                },
                drop,
            )
        })
    });
    g.finish();

    let mut g = c.benchmark_group("unmap_1g_one_call_2m");
    g.throughput(Throughput::Elements(PAGES));
    g.bench_function("iommugen", |b| {
        b.iter_custom(|iters| {
            per_gib(
                iters,
                || mapped::<S1G4K2M>(&POOL_BLOCKS, BASE_2M),
                |pt| assert_eq!(pt.unmap(black_box(BASE_2M), GIB), GIB),
                drop,
            )
        })
    });
    g.bench_function("iommugen-mut", |b| {
        b.iter_custom(|iters| {
            per_gib(
                iters,
                || mapped::<S1G4K2M>(&POOL_BLOCKS, BASE_2M),
                |pt| assert_eq!(pt.unmap_mut(black_box(BASE_2M), GIB), GIB),
                drop,
            )
        })
    });
    g.finish();
}

fn lookup(c: &mut Criterion) {
    let mut g = c.benchmark_group("iova_to_phys_random");
    g.throughput(Throughput::Elements(1));
    // Random page-aligned addresses plus an offset, from a fixed xorshift.
    let mut x = 0x2545_f491_4f6c_dd1du64;
    let addrs: Vec<u64> = (0..4096)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            BASE + (x % GIB)
        })
        .collect();
    let pt = mapped::<S1G4K48Pages>(&POOL_PAGES, BASE);
    g.bench_function("iommugen", |b| {
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) & 4095;
            // Consumed as one integer, like the peer's `out` below: handing
            // criterion's `black_box` an `Option<u64>` spills it as two
            // 8-byte stores reloaded as one 16-byte load, a store-forwarding
            // stall that cost more than the walk itself.
            black_box(pt.iova_to_phys(black_box(addrs[i])).unwrap_or(u64::MAX))
        })
    });
    drop(pt);
    let mut peer = peer();
    let c = Constraints::NO_BLOCK_MAPPINGS | Constraints::NO_CONTIGUOUS_HINT;
    peer.map_range_with_constraints(&region(BASE, GIB), peer_flags(), c)
        .unwrap();
    g.bench_function("aarch64-paging", |b| {
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) & 4095;
            let ia = addrs[i];
            let mut out = 0usize;
            peer.walk_range(&region(black_box(ia), 1), &mut |_, d, _| {
                out = d.output_address().0 + (ia as usize & 4095);
                Ok(())
            })
            .unwrap();
            black_box(out)
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

criterion_group! { name = benches; config = config(); targets = map_one_page, map_whole, unmap, lookup }
criterion_main!(benches);
