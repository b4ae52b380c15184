//! Rendering many diagnostics on one line: one driver whose body is a
//! single line of `n` unknown items, so `n` errors share line 1. Before the
//! line index, 8,000 of them took 11 s to render and 200,000 never
//! finished; here 20,000 against 200,000 shows the scaling (ratio ~10).
//!
//! Groups: `json` renders every diagnostic; `human_capped` is what
//! `iommugen check` prints (the first 100 rendered, the rest counted);
//! `human_each` renders every diagnostic (a tenth of `n`, miette's own
//! cost dominates).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use iommugen_dsl::render::{write_json_array, Cap, HumanStyle, SourceFile};
use iommugen_dsl::{check_source, Diagnostic};

/// One line: a driver with `n` unknown items.
fn one_line(n: usize) -> String {
    let mut s = String::from("driver d { compatible \"v,x\"; cells 1; ");
    for i in 0..n {
        s.push_str(&format!("bogus{i}; "));
    }
    s.push_str("init crate::p; }\n");
    s
}

fn diagnostics(src: &str, n: usize) -> Vec<Diagnostic> {
    let d = check_source("line.iommu", src).diagnostics;
    // The n unknown items, and the missing page table.
    assert!(d.len() > n, "{} diagnostics", d.len());
    d
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("render_one_line");
    group.sample_size(10);
    for n in [20_000usize, 200_000] {
        let src = one_line(n);
        let diags = diagnostics(&src, n);
        group.throughput(Throughput::Elements(diags.len() as u64));
        group.bench_with_input(BenchmarkId::new("json", n), &diags, |b, diags| {
            b.iter(|| {
                let file = SourceFile::new("line.iommu", &src);
                let mut out = Vec::with_capacity(diags.len() * 300);
                write_json_array(&mut out, diags.iter().map(|d| (d, &file))).unwrap();
                out.len()
            })
        });
        group.bench_with_input(BenchmarkId::new("human_capped", n), &diags, |b, diags| {
            b.iter(|| {
                let file = SourceFile::new("line.iommu", &src);
                let mut cap = Cap::default();
                let mut len = 0;
                for d in diags {
                    if cap.admit(d) {
                        len += file.human(d, HumanStyle::default()).len();
                    }
                }
                (len, cap.summary())
            })
        });
        let tenth = &diags[..n / 10];
        group.bench_with_input(BenchmarkId::new("human_each", n / 10), tenth, |b, diags| {
            b.iter(|| {
                let file = SourceFile::new("line.iommu", &src);
                diags
                    .iter()
                    .map(|d| file.human(d, HumanStyle::default()).len())
                    .sum::<usize>()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
