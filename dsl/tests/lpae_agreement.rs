//! The checker and the engine agree on LPAE page tables: every
//! `page-table arm-lpae-s1/s2` block the checker accepts (over all granules,
//! input sizes 20..=56, output sizes, and every subset of the four level
//! sizes, 4T included) passes the engine's legality rule
//! (`iommugen_runtime::pgtable::lpae::check`, what `Geometry::VALID`
//! evaluates at compile time). The checker may refuse more (e.g. a stage-2
//! input above 48 bits needs a 52-bit output). Regression: `granule 64K; oas 52; sizes 64K 512M 4T;`
//! passed the checker and failed to compile (E0080).

use iommugen_dsl::{check_source, ir};
use iommugen_runtime::pgtable::lpae;

fn size_text(b: u64) -> String {
    for (shift, unit) in [(40, "T"), (30, "G"), (20, "M"), (10, "K")] {
        if b >= 1 << shift && b % (1 << shift) == 0 {
            return format!("{}{unit}", b >> shift);
        }
    }
    b.to_string()
}

#[test]
fn everything_the_checker_accepts_compiles() {
    let mut accepted = 0;
    let mut saw_4t = false;
    for (kind, stage2) in [("arm-lpae-s1", false), ("arm-lpae-s2", true)] {
        for g in [12u32, 14, 16] {
            // The four level sizes of this granule.
            let level_sizes: Vec<u64> = (0..4).map(|l| 1u64 << (g + (3 - l) * (g - 3))).collect();
            for ias in 20..=56u32 {
                for oas in [30u32, 32, 36, 40, 42, 44, 48, 52, 56] {
                    for subset in 0u32..16 {
                        let mut sizes = 1u64 << g;
                        for (l, s) in level_sizes.iter().enumerate() {
                            if subset & (1 << l) != 0 {
                                sizes |= s;
                            }
                        }
                        let list: Vec<String> = (0..64)
                            .filter(|b| sizes & (1 << b) != 0)
                            .map(|b| size_text(1 << b))
                            .collect();
                        let src = format!(
                            "driver d {{ compatible \"v,x\"; cells 1; field sid: u16 = cell[0][15:0]; id = sid;\n page-table {kind} {{ granule {}; ias {ias}; oas {oas}; sizes {}; pool 4096; }} init crate::d::probe; }}",
                            size_text(1 << g),
                            list.join(" ")
                        );
                        let checked = check_source("t.iommu", &src);
                        let engine = lpae::check(stage2, g, ias, oas, sizes);
                        if let Some(spec) = &checked.spec {
                            {
                                let pt: &ir::PageTable =
                                    spec.drivers[0].translation.page_table().expect("tables");
                                let got: u64 = pt.page_sizes.iter().fold(0, |a, s| a | s);
                                assert_eq!(got, sizes, "{src}");
                                assert_eq!(
                                    engine,
                                    Ok(()),
                                    "checker accepts, engine refuses: {src}"
                                );
                                accepted += 1;
                                saw_4t |= sizes & (1 << 42) != 0;
                            }
                        }
                    }
                }
            }
        }
    }
    assert!(accepted > 1000, "only {accepted} accepted");
    assert!(saw_4t, "the 4T block of 64K/52-bit was never accepted");
}
