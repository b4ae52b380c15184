//! Parse and check generated specs of 10,000 and 100,000 drivers (the
//! editor-latency and scaling figures in the book's DSL reference).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use iommugen_dsl::check_source;

/// `n` distinct drivers in the shape of the Arm SMMU example: two-cell
/// specifiers with a property default, a check, a packed ID, PCI, a page
/// table and a DMA block.
pub fn generated_spec(n: usize) -> String {
    let mut s = String::with_capacity(n * 560);
    for i in 0..n {
        s.push_str(&format!(
            r#"/// Generated driver {i}.
driver drv_{i} {{
    compatible "vendor,iommu-{i}";
    cells 1 | 2;
    field stream_id: u16 = cell[0][15:0];
    field mask: u16 = cell[1][15:0] else property "stream-match-mask"[15:0] else 0;
    check stream_id < 1 << 15;
    id = mask << 16 | stream_id;
    pci iommu-map;
    page-table arm-lpae-s1 {{ granule 4K; ias 48; oas 44; sizes 4K 2M 1G; pool 64; }}
    dma {{ domain per-device; aperture 0x1000_0000..0x1_0000_0000; }}
    init crate::drivers::probe_{i};
}}
"#
        ));
    }
    s
}

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
