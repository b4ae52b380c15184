//! Checker and engine agree on LPAE: every granule × stage × IAS × OAS ×
//! sizes combination `iommugen check` accepts becomes a format whose
//! compile-time check (`Geometry::VALID`, E0080 when it fails) passes. All
//! combinations go into one generated file, compiled once by trybuild.

use std::fmt::Write as _;
use std::path::PathBuf;

use iommugen_dsl::{check_source, ir};

const GRANULES: [(u32, &str, [&str; 4]); 3] = [
    (12, "4K", ["4K", "2M", "1G", "512G"]),
    (14, "16K", ["16K", "32M", "64G", "128T"]),
    (16, "64K", ["64K", "512M", "4T", "32P"]),
];
const OUTPUT_SIZES: [u32; 8] = [32, 36, 40, 42, 44, 48, 50, 52];

/// The LPAE page tables the checker accepts, over a grid that also holds
/// values it must refuse (IAS 24 and 53, OAS 50, a level-0 block).
fn accepted() -> (Vec<ir::PageTable>, usize) {
    let mut out = Vec::new();
    let mut tried = 0;
    for (_, g, level_sizes) in GRANULES {
        for stage in ["arm-lpae-s1", "arm-lpae-s2"] {
            for ias in 24..=53u32 {
                for oas in OUTPUT_SIZES {
                    // Every subset of the four level sizes; "none" leaves
                    // `sizes` out (the checker's default).
                    for mask in 0..=16u32 {
                        let sizes = if mask == 16 {
                            String::new()
                        } else {
                            let list: Vec<&str> = (0..4)
                                .filter(|b| mask & (1 << b) != 0)
                                .map(|b| level_sizes[b])
                                .collect();
                            if list.is_empty() {
                                continue;
                            }
                            format!(" sizes {};", list.join(" "))
                        };
                        tried += 1;
                        let src = format!(
                            "driver d {{ compatible \"v,x\"; cells 1; field s: u32 = cell[0]; id = s;\n\
                             page-table {stage} {{ granule {g}; ias {ias}; oas {oas};{sizes} pool 64; }}\n\
                             init crate::d::probe; }}"
                        );
                        if let Some(mut spec) = check_source("t", &src).spec {
                            if let ir::Translation::Tables(pt) = spec.drivers.remove(0).translation
                            {
                                out.push(pt);
                            }
                        }
                    }
                }
            }
        }
    }
    (out, tried)
}

/// One `LpaeFormat` per accepted table, each with its compile-time check
/// forced by a constant item.
fn source(tables: &[ir::PageTable]) -> String {
    let mut s = String::from(
        "use iommugen_runtime::pgtable::*;\n\
         macro_rules! f { ($n:ident, $st:ident, $g:expr, $i:expr, $o:expr, $sz:expr, $t:ident) => {\n\
             struct $n;\n\
             impl LpaeFormat for $n { const STAGE: Stage = Stage::$st; const GRANULE_SHIFT: u32 = $g;\n\
                 const IAS: u32 = $i; const OAS: u32 = $o; const PAGE_SIZES: u64 = $sz; const COHERENT_WALK: bool = true; }\n\
             const _: () = Geometry::<$n>::VALID;\n\
             // The generated `page_table()`: the engine over the spec's pool\n\
             // type, instantiated so its compile-time checks run.\n\
             impl $n { fn check() {\n\
                 let f: fn(&'static StaticPool<$t, 64>, NoTlb) -> Result<PageTable<$n, &'static StaticPool<$t, 64>, NoTlb>, MapError> = PageTable::new;\n\
                 std::hint::black_box(f);\n\
             } }\n\
         }; }\n",
    );
    for (i, pt) in tables.iter().enumerate() {
        let stage = match pt.format {
            ir::Format::ArmLpaeS2 => "Two",
            _ => "One",
        };
        let sizes: u64 = pt.page_sizes.iter().fold(0, |a, s| a | s);
        let table = match pt.granule {
            ir::Granule::K4 => "Table4K",
            ir::Granule::K16 => "Table16K",
            ir::Granule::K64 => "Table64K",
        };
        let _ = writeln!(
            s,
            "f!(F{i}, {stage}, {}, {}, {}, {sizes:#x}, {table});",
            pt.granule.shift(),
            pt.ias,
            pt.oas
        );
    }
    s.push_str("fn main() {\n");
    for i in 0..tables.len() {
        let _ = writeln!(s, "    F{i}::check();");
    }
    s.push_str("}\n");
    s
}

#[test]
fn every_accepted_lpae_geometry_compiles() {
    let (tables, tried) = accepted();
    // The grid holds both sides: the checker must refuse some and accept
    // the 52-bit 64K geometry with 4T blocks (the old E0080 case).
    assert!(tables.len() < tried, "the grid has refused values");
    assert!(tables.iter().any(|pt| pt.granule == ir::Granule::K64
        && pt.oas == 52
        && pt.page_sizes.contains(&(4 << 40))));
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let file = dir.join("lpae_combinations_case.rs");
    std::fs::write(&file, source(&tables)).unwrap();
    let t = trybuild::TestCases::new();
    t.pass(&file);
}
