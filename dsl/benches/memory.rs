//! Peak heap while checking 10^5 and 10^6 one-line drivers, as bytes per
//! input byte (a counting global allocator; no timing). Run with
//! `cargo bench -p iommugen-dsl --bench memory`.
//!
//! Three paths: `check_source` (one file, the library's streaming path),
//! `check_sources` (what `iommugen check` and build scripts call), and
//! `diagnose_sources` (diagnostics only, what `iommugen check` uses).

use std::sync::atomic::Ordering;

#[path = "counting/mod.rs"]
mod counting;
use counting::{LIVE, PEAK};

/// `n` distinct drivers, one per line.
fn one_line_drivers(n: usize) -> String {
    let mut s = String::with_capacity(n * 170);
    for i in 0..n {
        s.push_str(&format!(
            "driver d{i} {{ compatible \"v,iommu-{i}\"; cells 1; field sid: u16 = cell[0][15:0]; id = sid; page-table arm-lpae-s1 {{ granule 4K; ias 48; oas 48; pool 8; }} init crate::d::probe; }}\n"
        ));
    }
    s
}

/// Peak heap above what was live before `f` ran (its result included
/// until it is dropped inside).
fn peak_of(f: impl FnOnce()) -> usize {
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    f();
    PEAK.load(Ordering::Relaxed) - base
}

fn main() {
    // `cargo bench` passes `--bench`; a filter argument picks sizes.
    let filter: Option<String> = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    for n in [100_000usize, 1_000_000] {
        if filter
            .as_ref()
            .is_some_and(|f| !n.to_string().contains(f.as_str()))
        {
            continue;
        }
        let src = one_line_drivers(n);
        let files = vec![("gen.iommu".to_owned(), src)];
        let len = files[0].1.len() as f64;
        let report = |what: &str, peak: usize| {
            println!(
                "memory/{what}/{n}: input {:.1} MB, peak {:.1} MB, {:.2} bytes per input byte",
                len / 1e6,
                peak as f64 / 1e6,
                peak as f64 / len
            );
        };
        let peak = peak_of(|| {
            let checked = iommugen_dsl::check_source("gen.iommu", &files[0].1);
            assert_eq!(checked.spec.map(|s| s.drivers.len()), Some(n));
        });
        report("check_source", peak);
        let peak = peak_of(|| {
            let results = iommugen_dsl::check_sources(&files);
            assert!(results[0].1.diagnostics.is_empty());
        });
        report("check_sources", peak);
        let peak = peak_of(|| {
            let results = iommugen_dsl::diagnose_sources(&files);
            assert!(results[0].1.is_empty());
        });
        report("diagnose_sources", peak);
    }
}
