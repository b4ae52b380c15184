//! `generate` (check + codegen + format) for 10,000 and 100,000 drivers,
//! once each: wall time, the 100k/10k ratio (linear is ~10), and peak heap
//! from a counting allocator. One run per size, not criterion's many: the
//! 100,000-driver run alone takes about a minute of CPU.
//! `cargo bench -p iommugen-codegen --bench scale`.

use std::sync::atomic::Ordering;
use std::time::Instant;

use iommugen_codegen::{generate, Options};

#[path = "../../dsl/benches/counting/mod.rs"]
mod counting;
#[path = "../../dsl/benches/specs/mod.rs"]
mod specs;
use counting::{LIVE, PEAK};
use specs::generated_spec as spec;

fn main() {
    let options = Options::default();
    // Warm up code and allocator.
    let warm = spec(1_000);
    generate("gen.iommu", &warm, &options).expect("a clean spec");
    let mut times = Vec::new();
    for n in [10_000usize, 100_000] {
        let src = spec(n);
        let base = LIVE.load(Ordering::Relaxed);
        PEAK.store(base, Ordering::Relaxed);
        let start = Instant::now();
        let out = generate("gen.iommu", &src, &options).expect("a clean spec");
        let secs = start.elapsed().as_secs_f64();
        let peak = PEAK.load(Ordering::Relaxed) - base;
        println!(
            "generate/{n}: {secs:.2} s wall, {:.1} µs per driver; input {:.1} MB, output {:.1} MB, peak heap {:.1} MB ({:.2} per output byte)",
            secs * 1e6 / n as f64,
            src.len() as f64 / 1e6,
            out.code.len() as f64 / 1e6,
            peak as f64 / 1e6,
            peak as f64 / out.code.len() as f64
        );
        times.push(secs);
    }
    println!("generate: 100k/10k time ratio {:.1}", times[1] / times[0]);
}
