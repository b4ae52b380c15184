//! IOVA allocator: alloc/free pairs, a batch of mixed sizes that keeps many
//! blocks live (splits and buddy merges do real work), and one alloc/free
//! pair with 10,000 blocks outstanding (a streaming-DMA steady state).
//! Same 4 GiB window of 4K pages as the earlier free-stack allocator, so the
//! figures compare.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use iommugen_runtime::iova::{storage_words, IovaAllocator};

const WINDOW: u64 = 1 << 32;

fn storage() -> Vec<u64> {
    vec![0; storage_words(WINDOW, 12)]
}

fn bench_iova(c: &mut Criterion) {
    let mut g = c.benchmark_group("iova");
    g.measurement_time(Duration::from_secs(2));
    g.warm_up_time(Duration::from_millis(500));
    g.throughput(Throughput::Elements(1));
    g.bench_function("alloc_free_4k", |b| {
        let mut st = storage();
        let mut a = IovaAllocator::new(&mut st, 0, WINDOW, 12).unwrap();
        b.iter(|| {
            let x = a.alloc(4096, u64::MAX).unwrap();
            a.free(std::hint::black_box(x), 4096).unwrap();
        })
    });
    g.bench_function("alloc_free_4k_10000_live", |b| {
        let mut st = storage();
        let mut a = IovaAllocator::new(&mut st, 0, WINDOW, 12).unwrap();
        // Mixed orders live, with holes between them from freed blocks.
        let mut live = Vec::new();
        for i in 0..20_000u64 {
            let size = 4096u64 << (i % 5);
            live.push((a.alloc(size, u64::MAX).unwrap(), size));
        }
        for (x, s) in live.iter().skip(1).step_by(2) {
            a.free(*x, *s).unwrap();
        }
        b.iter(|| {
            let x = a.alloc(4096, u64::MAX).unwrap();
            a.free(std::hint::black_box(x), 4096).unwrap();
        })
    });
    // A 31-bit device in the same fragmented domain: its block comes from
    // below the cursor, far under the live blocks, so each pair tracks and
    // re-absorbs the gap between (the limit path's cost).
    g.bench_function("alloc_free_4k_below_2g_10000_live", |b| {
        let mut st = storage();
        let mut a = IovaAllocator::new(&mut st, 0, WINDOW, 12).unwrap();
        let mut live = Vec::new();
        for i in 0..20_000u64 {
            let size = 4096u64 << (i % 5);
            live.push((a.alloc(size, u64::MAX).unwrap(), size));
        }
        for (x, s) in live.iter().skip(1).step_by(2) {
            a.free(*x, *s).unwrap();
        }
        b.iter(|| {
            let x = a.alloc(4096, 0x7fff_ffff).unwrap();
            a.free(std::hint::black_box(x), 4096).unwrap();
        })
    });
    const LIVE: usize = 256;
    g.throughput(Throughput::Elements(LIVE as u64));
    g.bench_function("alloc_256_mixed_then_free", |b| {
        let mut st = storage();
        let mut a = IovaAllocator::new(&mut st, 0, WINDOW, 12).unwrap();
        let mut live = [(0u64, 0u64); LIVE];
        b.iter(|| {
            for (i, slot) in live.iter_mut().enumerate() {
                let size = 4096u64 << (i % 5);
                *slot = (a.alloc(size, u64::MAX).unwrap(), size);
            }
            // Free in an interleaved order so merges happen out of order.
            for i in (0..LIVE).step_by(2).chain((1..LIVE).step_by(2)) {
                let (x, s) = live[i];
                a.free(x, s).unwrap();
            }
        })
    });
    g.finish();
}

criterion_group!(benches, bench_iova);
criterion_main!(benches);
