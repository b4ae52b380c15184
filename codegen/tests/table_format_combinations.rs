//! Checker, generator and engine agree on Apple DART, Rockchip, Exynos
//! SysMMU, sun50i, the Tegra SMMU and ARMv7 short descriptors' input sizes: every generation, version and leaf-size choice the
//! checker accepts, with and without
//! `coherent-walk`, goes through the real generator into one file that
//! trybuild compiles and runs. Running it maps a page through each
//! driver's generated `page_table()` over its static pool and reads it
//! back, so the emitted format type, pool table type and engine alias fit.

use std::fmt::Write as _;
use std::path::PathBuf;

use iommugen_codegen::{generate, Options};
use iommugen_dsl::{check_source, ir};

/// (driver name, block) for every combination, with one the checker must
/// refuse per format mixed in.
fn blocks() -> Vec<(String, String)> {
    let mut out = Vec::new();
    for generation in ["t8103", "t6000", "t8112"] {
        for walk in ["", " coherent-walk;"] {
            let w = if walk.is_empty() { "nc" } else { "c" };
            out.push((
                format!("dart_{generation}_{w}"),
                format!("apple-dart {{ generation {generation};{walk} pool 4; }}"),
            ));
        }
    }
    for version in 0..=3 {
        for walk in ["", " coherent-walk;"] {
            let w = if walk.is_empty() { "nc" } else { "c" };
            out.push((
                format!("rk_v{version}_{w}"),
                format!("rockchip {{ version {version};{walk} pool 4; }}"),
            ));
        }
    }
    // Versions 1-4 share one encoding and 5-7 another: one of each end.
    for version in [0, 1, 4, 5, 7, 8] {
        for walk in ["", " coherent-walk;"] {
            let w = if walk.is_empty() { "nc" } else { "c" };
            out.push((
                format!("ex_v{version}_{w}"),
                format!("exynos-sysmmu {{ version {version};{walk} pool 17; }}"),
            ));
        }
    }
    // Sections and small pages only (no 64K large pages).
    out.push((
        "ex_v5_no_large".to_owned(),
        "exynos-sysmmu { version 5; sizes 4K 1M; pool 17; }".to_owned(),
    ));
    for (name, walk, pool) in [
        ("nc", "", 17),
        ("c", " coherent-walk;", 18),
        ("small", "", 16),
    ] {
        out.push((
            format!("sun50i_{name}"),
            format!("sun50i {{{walk} pool {pool}; }}"),
        ));
    }
    // Every generation (32- and 34-bit PA), and one that does not exist.
    for generation in [
        "tegra30", "tegra114", "tegra124", "tegra132", "tegra210", "tegra20",
    ] {
        for walk in ["", " coherent-walk;"] {
            let w = if walk.is_empty() { "nc" } else { "c" };
            out.push((
                format!("{generation}_{w}"),
                format!("tegra-smmu {{ generation {generation};{walk} pool 2; }}"),
            ));
        }
    }
    // Short descriptors: 32-bit input, MediaTek's 34-bit input (64-slot
    // first level), and a 34-bit input without the extension (refused).
    for (name, block) in [
        ("v7s_narrow", "arm-v7s { oas 32; pool 17; }"),
        (
            "v7s_mtk_wide",
            "arm-v7s { ias 34; oas 35; mtk-ext; pool 65; }",
        ),
        ("v7s_plain_wide", "arm-v7s { ias 34; oas 32; pool 65; }"),
    ] {
        out.push((name.to_owned(), block.to_owned()));
    }
    out
}

fn driver(name: &str, block: &str, n: usize) -> String {
    format!(
        "driver {name} {{ compatible \"v,x{n}\"; cells 1; field s: u32 = cell[0]; id = s;\n\
         page-table {block}\n init crate::hook::probe; }}\n"
    )
}

/// The accepted drivers: name, block and checked table.
fn accepted() -> Vec<(String, String, ir::PageTable)> {
    let mut out = Vec::new();
    for (n, (name, block)) in blocks().into_iter().enumerate() {
        if let Some(mut spec) = check_source("t", &driver(&name, &block, n)).spec {
            if let ir::Translation::Tables(pt) = spec.drivers.remove(0).translation {
                out.push((name, block, pt));
            }
        }
    }
    out
}

/// `dart_t8103_nc` → `DartT8103Nc`, as the generator names types.
fn camel(name: &str) -> String {
    name.split('_')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

#[test]
fn every_accepted_table_format_spec_generates_code_that_compiles_and_maps() {
    let accepted = accepted();
    let names: Vec<&str> = accepted.iter().map(|(n, _, _)| n.as_str()).collect();
    // Both generations and both versions, each with and without a coherent
    // walk; t8112, Rockchip versions 0 and 3, Exynos versions 0 and 8, a
    // sun50i pool without room for its 16K directory and Tegra20 (whose
    // GART is no SMMU) and a 34-bit short-descriptor input without
    // `mtk-ext` are refused.
    assert_eq!(
        names,
        [
            "dart_t8103_nc",
            "dart_t8103_c",
            "dart_t6000_nc",
            "dart_t6000_c",
            "rk_v1_nc",
            "rk_v1_c",
            "rk_v2_nc",
            "rk_v2_c",
            "ex_v1_nc",
            "ex_v1_c",
            "ex_v4_nc",
            "ex_v4_c",
            "ex_v5_nc",
            "ex_v5_c",
            "ex_v7_nc",
            "ex_v7_c",
            "ex_v5_no_large",
            "sun50i_nc",
            "sun50i_c",
            "tegra30_nc",
            "tegra30_c",
            "tegra114_nc",
            "tegra114_c",
            "tegra124_nc",
            "tegra124_c",
            "tegra132_nc",
            "tegra132_c",
            "tegra210_nc",
            "tegra210_c",
            "v7s_narrow",
            "v7s_mtk_wide"
        ]
    );
    let spec: String = accepted
        .iter()
        .enumerate()
        .map(|(n, (name, block, _))| driver(name, block, n))
        .collect();
    let code = generate("combos.iommu", &spec, &Options::default())
        .unwrap_or_else(|d| panic!("{d:?}"))
        .code;
    let mut s = String::from(
        "mod hook {\n\
             use iommugen_runtime::decl::{DriverError, InstanceData};\n\
             pub fn probe(_: iommugen_runtime::fdt::Node<'_>) -> Result<InstanceData, DriverError> { Ok(InstanceData(0)) }\n\
         }\n",
    );
    s.push_str(&code);
    s.push_str(
        "use iommugen_runtime::pgtable::{Format, NoTlb};\nuse iommugen_runtime::Prot;\nfn main() {\n",
    );
    for (name, _, pt) in &accepted {
        let ty = camel(name);
        let pool = format!("{}_POOL", name.to_ascii_uppercase());
        let page = pt.granule.bytes();
        // A PA near the top of the output range, so the high address bits
        // of DART2 and Rockchip v2 are exercised.
        let pa = (1u64 << pt.oas) - 4 * page;
        let _ = writeln!(
            s,
            "    {{\n\
                 use combos::*;\n\
                 assert_eq!(<{ty}Format as Format>::OAS, {oas});\n\
                 assert_eq!(<{ty}Format as Format>::IAS, {ias});\n\
                 assert_eq!(<{ty}Format as Format>::COHERENT_WALK, {coherent});\n\
                 {pool}.set_phys_base(0x4000_0000);\n\
                 let t = {ty}::page_table(NoTlb).unwrap();\n\
                 t.map(0x10_0000, {pa:#x}, {page:#x}, Prot::READ.union(Prot::WRITE)).unwrap();\n\
                 assert_eq!(t.iova_to_phys(0x10_0010), Some({pa:#x} + 0x10));\n\
                 assert_eq!(t.iova_to_phys(0x10_0000 + {page:#x}), None);\n\
             }}",
            oas = pt.oas,
            ias = pt.ias,
            coherent = pt.coherent_walk,
        );
    }
    s.push_str("}\n");
    let file = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("table_format_combinations_case.rs");
    std::fs::write(&file, s).unwrap();
    let t = trybuild::TestCases::new();
    t.pass(&file);
}
