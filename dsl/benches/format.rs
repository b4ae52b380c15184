//! `format_source` on growing inputs: one driver on a line of 128 KiB and
//! of 1 MiB, and 1,000 and 10,000 copies of the Arm SMMUv3 example. Linear
//! scaling shows as equal throughput (bytes per second) across each pair.
//! `cargo bench -p iommugen-dsl --bench format`.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use iommugen_dsl::format::format_source;

/// One driver whose `compatible` list fills a line of about `bytes`.
fn wide_driver(bytes: usize) -> String {
    let list: Vec<String> = (0..bytes / 12).map(|i| format!("\"v,{i:07}\"")).collect();
    format!(
        "driver d {{ compatible {}; cells 0; init a; }}",
        list.join(",")
    )
}

fn many_drivers(n: usize) -> String {
    let one = include_str!("../../examples/arm-smmu-v3.iommu");
    (0..n).map(|_| one).collect::<Vec<_>>().join("\n")
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("format");
    g.sample_size(10);
    let inputs = [
        ("line_128k", wide_driver(1 << 17)),
        ("line_1m", wide_driver(1 << 20)),
        ("drivers_1k", many_drivers(1_000)),
        ("drivers_10k", many_drivers(10_000)),
    ];
    for (name, src) in &inputs {
        let f = format_source(src);
        assert!(f.errors.is_empty() && f.kept.is_empty(), "{name}");
        g.throughput(Throughput::Bytes(src.len() as u64));
        g.bench_with_input(BenchmarkId::new("format_source", name), src, |b, src| {
            b.iter(|| format_source(std::hint::black_box(src)))
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
