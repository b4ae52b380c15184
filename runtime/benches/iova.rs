//! IOVA allocator: alloc/free pairs of mixed sizes, and a batch that keeps
//! many blocks live (the free stacks and buddy merging do real work).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use iommugen_runtime::iova::IovaAllocator;

fn bench_iova(c: &mut Criterion) {
    let mut g = c.benchmark_group("iova");
    g.throughput(Throughput::Elements(1));
    g.bench_function("alloc_free_4k", |b| {
        let mut a = IovaAllocator::<64>::new(0, 1 << 32, 12).unwrap();
        b.iter(|| {
            let x = a.alloc(4096, u64::MAX).unwrap();
            a.free(std::hint::black_box(x), 4096).unwrap();
        })
    });
    const LIVE: usize = 256;
    g.throughput(Throughput::Elements(LIVE as u64));
    g.bench_function("alloc_256_mixed_then_free", |b| {
        let mut a = IovaAllocator::<64>::new(0, 1 << 32, 12).unwrap();
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
