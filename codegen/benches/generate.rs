//! `generate` over every shipped example spec (check + codegen + format).
//! The target is under 20 ms per spec in a release build.

use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, Criterion};
use iommugen_codegen::{generate, Options};

fn examples() -> Vec<(String, String)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples");
    let mut specs: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "iommu"))
        .collect();
    specs.sort();
    specs
        .into_iter()
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&p).unwrap())
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let options = Options::default();
    let specs = examples();
    let mut group = c.benchmark_group("generate");
    group
        .warm_up_time(std::time::Duration::from_millis(300))
        .measurement_time(std::time::Duration::from_secs(1))
        .sample_size(20);
    for (name, text) in &specs {
        group.bench_function(name.as_str(), |b| {
            b.iter(|| generate(name, text, &options).unwrap())
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
