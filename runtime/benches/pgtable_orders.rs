//! Page-table access orders (issue 14): LPAE stage 1, 4K pages, 48-bit
//! input, on 1 GiB, one 4K page per call in the three orders callers
//! produce, beside aarch64-paging doing the same work in the same run:
//!
//! - `seq`: IOVAs in order (what a bump allocator gives one stream; the
//!   exclusive path's walk hint hits 511 calls in 512);
//! - `two_streams`: two streams in neighbouring last-level tables,
//!   interleaved (0, 512, 1, 513, …; two devices or two queues);
//! - `scattered`: page `(i × 4099) mod 2^18` (an IOVA allocator after
//!   churn; every call lands in another last-level table).
//!
//! Then the one-call round trip (map 1 GiB, unmap it) and the `&self`
//! path's scaling: two threads mapping and unmapping disjoint halves of
//! one table against one thread doing both halves. Every figure is per 4K
//! page. Results: book, "Performance".

mod rounds;

use std::hint::black_box;
use std::time::Duration;

use aarch64_paging::descriptor::El23Attributes as A;
use aarch64_paging::idmap::IdMap;
use aarch64_paging::paging::{Constraints, El2, MemoryRegion};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use iommugen_runtime::pgtable::lpae::S1G4K48Pages;
use iommugen_runtime::pgtable::{Handle, NoTlb, PageTable, StaticPool, Table4K};
use iommugen_runtime::Prot;

const PAGE: u64 = 4096;
const GIB: u64 = 1 << 30;
const PAGES: u64 = GIB / PAGE;
/// The window starts at 1 GiB; physical = IOVA + `PA_OFF`.
const BASE: u64 = GIB;
const PA_OFF: u64 = 1 << 40;

type Pool = StaticPool<Table4K, 1024>;
type Table = PageTable<S1G4K48Pages, &'static Pool, NoTlb>;
type Cpu<'t> = Handle<'t, S1G4K48Pages, &'static Pool, NoTlb>;

static POOL: Pool = StaticPool::new();

/// The order pages are visited in.
#[derive(Clone, Copy)]
enum Order {
    Seq,
    TwoStreams,
    Scattered,
}

impl Order {
    const ALL: [(Order, &'static str); 3] = [
        (Order::Seq, "seq"),
        (Order::TwoStreams, "two_streams"),
        (Order::Scattered, "scattered"),
    ];

    /// The IOVA of the `i`-th call; every order visits each page once.
    #[inline(always)]
    fn iova(self, i: u64) -> u64 {
        let page = match self {
            Order::Seq => i,
            // Pairs of last-level tables (1024 pages), the two halves
            // interleaved.
            Order::TwoStreams => (i & !1023) | ((i & 1023) >> 1) | ((i & 1) << 9),
            // 4099 is odd, so this is a permutation of 0..2^18.
            Order::Scattered => (i * 4099) % PAGES,
        };
        BASE + page * PAGE
    }
}

fn prot() -> Prot {
    Prot::READ | Prot::WRITE | Prot::CACHE
}

fn ours() -> Table {
    POOL.set_phys_base(0x4000_0000);
    PageTable::new(&POOL, NoTlb).expect("a root table")
}

fn mapped() -> Table {
    let pt = ours();
    pt.map(BASE, BASE + PA_OFF, GIB, prot())
        .expect("1 GiB maps");
    pt
}

fn peer_flags() -> A {
    A::VALID | A::ATTRIBUTE_INDEX_1 | A::INNER_SHAREABLE | A::ACCESSED | A::NON_GLOBAL
}

fn region(start: u64, size: u64) -> MemoryRegion {
    MemoryRegion::new(start as usize, (start + size) as usize)
}

fn peer_mapped() -> IdMap<El2> {
    let mut pt = IdMap::new(0, El2);
    let c = Constraints::NO_BLOCK_MAPPINGS | Constraints::NO_CONTIGUOUS_HINT;
    pt.map_range_with_constraints(&region(BASE, GIB), peer_flags(), c)
        .expect("the peer maps 1 GiB");
    pt
}

/// `iters` single-page calls in `order`, in rounds of the whole GiB,
/// timing only `op`.
fn per_page<S>(
    iters: u64,
    order: Order,
    setup: impl FnMut() -> S,
    mut op: impl FnMut(&mut S, u64),
) -> Duration {
    rounds::per_page(iters, PAGES, setup, |s, i| op(s, order.iova(i)))
}

/// [`per_page`] through one CPU's handle on the round's table (made
/// before the timed calls, as a CPU keeps its handle).
fn per_page_handle(
    iters: u64,
    order: Order,
    setup: impl Fn() -> Table,
    mut op: impl FnMut(&mut Cpu<'_>, u64),
) -> Duration {
    let mut total = Duration::ZERO;
    let mut left = iters;
    while left > 0 {
        let n = left.min(PAGES);
        let pt = setup();
        let mut h = pt.handle();
        let t = std::time::Instant::now();
        for i in 0..n {
            op(&mut h, order.iova(i));
        }
        total += t.elapsed();
        drop(h);
        drop(pt);
        left -= n;
    }
    total
}

fn map_orders(c: &mut Criterion) {
    for (order, name) in Order::ALL {
        let mut g = c.benchmark_group(format!("map_4k_{name}"));
        g.throughput(Throughput::Elements(1));
        g.bench_function("iommugen", |b| {
            b.iter_custom(|n| {
                per_page(n, order, ours, |pt, ia| {
                    pt.map(black_box(ia), ia + PA_OFF, PAGE, prot()).unwrap()
                })
            })
        });
        g.bench_function("iommugen-handle", |b| {
            b.iter_custom(|n| {
                per_page_handle(n, order, ours, |h, ia| {
                    h.map(black_box(ia), ia + PA_OFF, PAGE, prot()).unwrap()
                })
            })
        });
        g.bench_function("iommugen-mut", |b| {
            b.iter_custom(|n| {
                per_page(n, order, ours, |pt, ia| {
                    pt.map_mut(black_box(ia), ia + PA_OFF, PAGE, prot())
                        .unwrap()
                })
            })
        });
        g.bench_function("aarch64-paging", |b| {
            b.iter_custom(|n| {
                per_page(
                    n,
                    order,
                    || IdMap::new(0, El2),
                    |pt, ia| {
                        pt.map_range_with_constraints(
                            &region(black_box(ia), PAGE),
                            peer_flags(),
                            Constraints::NO_CONTIGUOUS_HINT,
                        )
                        .unwrap()
                    },
                )
            })
        });
        g.finish();
    }
}

fn unmap_orders(c: &mut Criterion) {
    for (order, name) in Order::ALL {
        let mut g = c.benchmark_group(format!("unmap_4k_{name}"));
        g.throughput(Throughput::Elements(1));
        g.bench_function("iommugen", |b| {
            b.iter_custom(|n| {
                per_page(n, order, mapped, |pt, ia| {
                    assert_eq!(pt.unmap(black_box(ia), PAGE), PAGE)
                })
            })
        });
        g.bench_function("iommugen-handle", |b| {
            b.iter_custom(|n| {
                per_page_handle(n, order, mapped, |h, ia| {
                    assert_eq!(h.unmap(black_box(ia), PAGE), PAGE)
                })
            })
        });
        g.bench_function("iommugen-mut", |b| {
            b.iter_custom(|n| {
                per_page(n, order, mapped, |pt, ia| {
                    assert_eq!(pt.unmap_mut(black_box(ia), PAGE), PAGE)
                })
            })
        });
        g.bench_function("aarch64-paging", |b| {
            b.iter_custom(|n| {
                per_page(n, order, peer_mapped, |pt, ia| {
                    // The peer has no unmap: it maps the page invalid.
                    pt.map_range_with_constraints(
                        &region(black_box(ia), PAGE),
                        A::empty(),
                        Constraints::NO_CONTIGUOUS_HINT,
                    )
                    .unwrap()
                })
            })
        });
        g.finish();
    }
}

/// Map 1 GiB of 4K pages in one call, then unmap it in one call.
fn round_trip(c: &mut Criterion) {
    let mut g = c.benchmark_group("map_unmap_1g_round_trip_4k");
    g.throughput(Throughput::Elements(PAGES));
    g.bench_function("iommugen", |b| {
        let pt = ours();
        b.iter(|| {
            pt.map(black_box(BASE), BASE + PA_OFF, GIB, prot()).unwrap();
            assert_eq!(pt.unmap(BASE, GIB), GIB);
        })
    });
    g.bench_function("iommugen-mut", |b| {
        let mut pt = ours();
        b.iter(|| {
            pt.map_mut(black_box(BASE), BASE + PA_OFF, GIB, prot())
                .unwrap();
            assert_eq!(pt.unmap_mut(BASE, GIB), GIB);
        })
    });
    g.finish();
}

/// One page per call through `&self`: map then unmap every page of
/// `[start, start + len)`.
fn churn(pt: &Table, start: u64, len: u64) {
    let mut ia = start;
    while ia < start + len {
        pt.map(black_box(ia), ia + PA_OFF, PAGE, prot()).unwrap();
        ia += PAGE;
    }
    let mut ia = start;
    while ia < start + len {
        assert_eq!(pt.unmap(black_box(ia), PAGE), PAGE);
        ia += PAGE;
    }
}

/// [`churn`] through one CPU's handle.
fn churn_handle(pt: &Table, start: u64, len: u64) {
    let mut h = pt.handle();
    let mut ia = start;
    while ia < start + len {
        h.map(black_box(ia), ia + PA_OFF, PAGE, prot()).unwrap();
        ia += PAGE;
    }
    let mut ia = start;
    while ia < start + len {
        assert_eq!(h.unmap(black_box(ia), PAGE), PAGE);
        ia += PAGE;
    }
}

/// The same work (map and unmap every page of 1 GiB, one per call) by one
/// thread, by two threads on disjoint halves of one shared table, and by
/// two threads on a table each (what the machine itself allows). The
/// element is one page mapped and unmapped; two cores should nearly halve
/// the time per element.
fn two_threads(c: &mut Criterion) {
    let mut g = c.benchmark_group("shared_map_unmap_4k_threads");
    g.throughput(Throughput::Elements(PAGES));
    g.bench_function("1-thread", |b| {
        let pt = ours();
        b.iter(|| churn(&pt, BASE, GIB))
    });
    g.bench_function("2-threads", |b| {
        let pt = ours();
        b.iter(|| {
            std::thread::scope(|s| {
                let pt = &pt;
                s.spawn(move || churn(pt, BASE, GIB / 2));
                churn(pt, BASE + GIB / 2, GIB / 2);
            })
        })
    });
    // The ceiling: the same two threads, each on a table of its own (the
    // pool is still shared), so nothing but the machine is shared.
    g.bench_function("1-thread-handle", |b| {
        let pt = ours();
        b.iter(|| churn_handle(&pt, BASE, GIB))
    });
    g.bench_function("2-threads-handles", |b| {
        let pt = ours();
        b.iter(|| {
            std::thread::scope(|s| {
                let pt = &pt;
                s.spawn(move || churn_handle(pt, BASE, GIB / 2));
                churn_handle(pt, BASE + GIB / 2, GIB / 2);
            })
        })
    });
    // The ceiling: the same two threads, each on a table of its own (the
    // pool is still shared), so nothing but the machine is shared.
    g.bench_function("2-threads-own-tables", |b| {
        let (a, c) = (ours(), ours());
        b.iter(|| {
            std::thread::scope(|s| {
                let a = &a;
                s.spawn(move || churn(a, BASE, GIB / 2));
                churn(&c, BASE + GIB / 2, GIB / 2);
            })
        })
    });
    g.bench_function("2-threads-own-tables-handles", |b| {
        let (a, c) = (ours(), ours());
        b.iter(|| {
            std::thread::scope(|s| {
                let a = &a;
                s.spawn(move || churn_handle(a, BASE, GIB / 2));
                churn_handle(&c, BASE + GIB / 2, GIB / 2);
            })
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

criterion_group! {
    name = benches;
    config = config();
    targets = map_orders, unmap_orders, round_trip, two_threads
}
criterion_main!(benches);
