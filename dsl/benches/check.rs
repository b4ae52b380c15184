//! Parse and check generated specs of 10,000 and 100,000 drivers (the
//! editor-latency and scaling figures in the book's DSL reference).

#[path = "specs/mod.rs"]
mod specs;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use iommugen_dsl::check_source;
use specs::generated_spec;

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("parse_and_check");
    group.sample_size(10);
    for n in [10_000usize, 100_000] {
        let src = generated_spec(n);
        // Sanity: the generated spec is clean, so the timing covers the full
        // path to IR, not an early error exit.
        let checked = check_source("gen.iommu", &src);
        assert!(checked.diagnostics.is_empty());
        assert_eq!(checked.spec.map(|s| s.drivers.len()), Some(n));
        group.throughput(Throughput::Bytes(src.len() as u64));
        group.bench_with_input(BenchmarkId::from_parameter(n), &src, |b, src| {
            b.iter(|| check_source("gen.iommu", src))
        });
    }
    group.finish();

    // Every driver with one warning (an unused field): the per-driver error
    // test once recounted all diagnostics so far, which made this quadratic.
    let mut group = c.benchmark_group("parse_and_check_with_warnings");
    group.sample_size(10);
    let n = 10_000usize;
    let src = generated_spec(n).replace(
        "    pci iommu-map;",
        "    field spare: u8 = 0;\n    pci iommu-map;",
    );
    let checked = check_source("gen.iommu", &src);
    assert_eq!(checked.warnings(), n);
    assert!(!checked.has_errors());
    group.throughput(Throughput::Bytes(src.len() as u64));
    group.bench_with_input(BenchmarkId::from_parameter(n), &src, |b, src| {
        b.iter(|| check_source("gen.iommu", src))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
