//! Rendered diagnostics (no colour) for every check, one snapshot file per
//! case under `tests/snapshots/`. Regenerate with `UPDATE_EXPECT=1`.

use std::collections::BTreeSet;

use expect_test::expect_file;
use iommugen_dsl::render::{human_all, HumanStyle};
use iommugen_dsl::{check_source, check_sources, Code};

/// A driver that checks clean; cases replace one line of it.
const BASE: &str = r#"driver d {
    compatible "vendor,iommu";
    cells 1;
    field sid: u16 = cell[0][15:0];
    id = sid;
    page-table arm-lpae-s1 { granule 4K; ias 48; oas 48; pool 64; }
    init crate::d::probe;
}
"#;

fn with(from: &str, to: &str) -> String {
    assert!(
        BASE.contains(from),
        "case edits a line the base does not have: {from}"
    );
    BASE.replace(from, to)
}

/// Renders a case and returns the codes it produced.
fn render(name: &str, src: &str) -> (String, BTreeSet<&'static str>) {
    let checked = check_source(name, src);
    assert!(checked.spec.is_none() || !checked.has_errors());
    let text = human_all(
        &checked.diagnostics,
        &format!("{name}.iommu"),
        src,
        HumanStyle::default(),
    );
    let codes = checked
        .diagnostics
        .iter()
        .map(|d| d.code.as_str())
        .collect();
    (text, codes)
}

macro_rules! cases {
    ($($name:ident => $src:expr;)*) => {
        $(
            #[test]
            fn $name() {
                let src: String = $src;
                let (text, _) = render(stringify!($name), &src);
                expect_file![concat!("snapshots/", stringify!($name), ".txt")].assert_eq(&text);
            }
        )*

        /// Every diagnostic code has at least one snapshot case.
        #[test]
        fn every_code_has_a_case() {
            let mut seen = BTreeSet::new();
            $( { let src: String = $src; seen.extend(render(stringify!($name), &src).1); } )*
            seen.extend(cross_file_codes());
            seen.extend(undecodable().0.error.map(|d| d.code.as_str()));
            let missing: Vec<&str> = Code::ALL.iter().map(|c| c.as_str()).filter(|c| !seen.contains(c)).collect();
            assert!(missing.is_empty(), "codes without a snapshot case: {missing:?}");
        }
    };
}

cases! {
    base_is_clean => BASE.to_owned();
    e0001_missing_semicolon => with("cells 1;", "cells 1");
    e0001_recovers_per_statement => with(
        "cells 1;",
        "cells 1 |;\n    compatible \"a\" \"b\";\n    check sid <;\n    cells 1;",
    );
    e0002_number_too_large => with("id = sid;", "id = sid;\n    check sid < 99999999999999999999999;");
    e0003_unclosed_driver => BASE.trim_end().trim_end_matches('}').to_owned();
    e0004_expression_too_deep => with("id = sid;", &format!("id = sid;\n    check {}sid;", "!".repeat(iommugen_dsl::depth::MAX_EXPR_DEPTH + 1)));
    e0101_unknown_item => with("cells 1;", "cells 1;\n    feild x: u8 = cell[0];");
    e0101_item_in_wrong_block => with("cells 1;", "cells 1;\n    granule 4K;");
    e0102_repeated_item => with("cells 1;", "cells 1;\n    cells 2;");
    e0103_missing_page_table => with("    page-table arm-lpae-s1 { granule 4K; ias 48; oas 48; pool 64; }\n", "");
    e0103_missing_in_block => with("oas 48; pool 64;", "oas 48;");
    e0104_missing_init => with("    init crate::d::probe;\n", "");
    e0105_duplicate_driver => format!("{BASE}{}", BASE.replace("vendor,iommu", "vendor,other"));
    e0106_too_many_cells => with("cells 1;", "cells 1 | 17;");
    e0107_extension_restates_base => format!("{BASE}\ndriver vendor extends d {{\n    compatible \"vendor,other\";\n    cells 2;\n}}\n");
    e0108_unknown_base => format!("{BASE}\ndriver vendor extends e {{\n    compatible \"vendor,other\";\n}}\n");
    e0108_base_below => format!("driver vendor extends d {{\n    compatible \"vendor,other\";\n}}\n\n{BASE}");
    e0201_cell_out_of_range => with("cell[0][15:0]", "cell[1][15:0]");
    e0201_no_cells => with("cells 1;", "cells 0;");
    e0202_bit_beyond_31 => with("cell[0][15:0]", "cell[0][40:25]");
    e0202_reversed_range => with("cell[0][15:0]", "cell[0][0:15]");
    e0202_shift_too_far => with("cell[0][15:0]", "cell[0][15:0] >> 16");
    e0203_field_too_narrow => with("u16 = cell[0][15:0]", "u8 = cell[0][15:0]");
    e0203_constant_too_wide => with("cell[0][15:0]", "cell[0][15:0] else 0x10000");
    e0204_mask_not_low_bits => with("cell[0][15:0]", "cell[0] & 0xff00");
    e0205_unknown_field => with("id = sid;", "id = sid;\n    check sdi < 16;");
    e0206_duplicate_field => with("id = sid;", "field sid: u8 = cell[0][7:0];\n    id = sid;");
    e0207_field_may_be_missing => with("cells 1;", "cells 1 | 2;\n    field mask: u16 = cell[1][15:0];\n    id = mask << 16 | sid;");
    e0207_property_may_be_missing => with("id = sid;", "field mask: u16 = property \"stream-match-mask\"[15:0];\n    id = mask << 16 | sid;");
    e0203_property_too_narrow => with("id = sid;", "field m: u8 = property \"p\"[15:4] else 0;\n    id = m << 16 | sid;");
    e0208_bad_field_type => with("u16 = cell[0][15:0]", "u64 = cell[0]");
    e0209_ignore_overlaps_field => with("id = sid;", "ignore cell[0][23:8];\n    id = sid;");
    e0209_ignored_twice => with("id = sid;", "ignore cell[0][31:16], cell[0][20];\n    id = sid;");
    e0210_ignore_unread_property => with("id = sid;", "ignore property \"stream-match-mask\"[31:16];\n    id = sid;");
    e0201_ignore_cell_out_of_range => with("id = sid;", "ignore cell[1];\n    id = sid;");
    e0202_ignore_bad_range => with("id = sid;", "ignore cell[0][40:16], cell[0][16:31];\n    id = sid;");
    e0211_child_key_not_a_property => with("id = sid;", "child \"vendor,ctx\" where sid == cell[0] else property \"reg\" >> 12;\n    id = sid;");
    e0901_no_contexts => with("id = sid;", "id = sid;\n    contexts 0;");
    e0902_all_contexts_reserved => with("id = sid;", "id = sid;\n    contexts 8 reserved 8;");
    e0903_contexts_too_many => with("id = sid;", "id = sid;\n    contexts 0x1_0000_0000;");
    e0301_pack_overlap => with("id = sid;", "field hi: u8 = cell[0][23:16];\n    id = hi << 8 | sid;");
    e0302_pack_overflow => with("id = sid;", "id = sid << 20;");
    e0303_bad_packing => with("id = sid;", "id = sid + 1;");
    e0401_bad_output_size => with("oas 48;", "oas 50;");
    e0402_oas_52_needs_lpa2 => with("oas 48;", "oas 52;");
    e0402_ias_52_needs_lpa2 => with("ias 48;", "ias 52;");
    e0403_ias_too_small => with("ias 48;", "ias 20;");
    e0403_one_level_walk_not_one_table => with("granule 4K; ias 48;", "granule 64K; ias 26;");
    e0404_block_size_for_granule => with("pool 64;", "pool 64; sizes 4K 2M 1G 512G;");
    e0404_16k_level1_block => with("granule 4K;", "granule 16K; sizes 16K 32M 64G;");
    e0405_sizes_miss_granule => with("pool 64;", "pool 64; sizes 2M 1G;");
    e0406_pool_too_small => with("pool 64;", "pool 3;");
    e0407_bad_granule => with("granule 4K;", "granule 8K;");
    e0408_unknown_format => with("arm-lpae-s1", "arm-lpae-v7s");
    e0408_unknown_format_lists_all => with("arm-lpae-s1", "arm-v8s");
    e0406_dart_pool => with("page-table arm-lpae-s1 { granule 4K; ias 48; oas 48; pool 64; }", "page-table apple-dart { generation t8103; pool 1; }");
    e0411_rockchip_version => with("page-table arm-lpae-s1 { granule 4K; ias 48; oas 48; pool 64; }", "page-table rockchip { version 3; pool 32; }");
    e0401_rockchip_oas_of_version => with("page-table arm-lpae-s1 { granule 4K; ias 48; oas 48; pool 64; }", "page-table rockchip { version 1; oas 40; pool 32; }");
    e0410_item_not_in_format => with("page-table arm-lpae-s1 { granule 4K; ias 48; oas 48; pool 64; }", "page-table arm-v7s { granule 4K; oas 32; version 2; pool 64; }");
    e0410_mtk_ext_on_lpae => with("pool 64;", "pool 64; mtk-ext;");
    e0410_oas_in_requests => with("page-table arm-lpae-s1 { granule 4K; ias 48; oas 48; pool 64; }", "requests virtio-iommu { granule 4K; ias 48; oas 48; }");
    e0411_unknown_dart_generation => with("page-table arm-lpae-s1 { granule 4K; ias 48; oas 48; pool 64; }", "page-table apple-dart { generation t8112; pool 64; }");
    e0411_exynos_version => with("page-table arm-lpae-s1 { granule 4K; ias 48; oas 48; pool 64; }", "page-table exynos-sysmmu { version 9; pool 64; }");
    e0411_unknown_tegra_generation => with("page-table arm-lpae-s1 { granule 4K; ias 48; oas 48; pool 64; }", "page-table tegra-smmu { generation tegra21; pool 8; }");
    e0412_tables_and_requests => with("    init", "    requests virtio-iommu { granule 4K; ias 48; }\n    init");
    e0413_unknown_protocol => with("page-table arm-lpae-s1 { granule 4K; ias 48; oas 48; pool 64; }", "requests virtio-iomu { granule 4K; ias 48; }");
    e0401_v7s_oas_needs_mtk_ext => with("page-table arm-lpae-s1 { granule 4K; ias 48; oas 48; pool 64; }", "page-table arm-v7s { oas 34; pool 64; }");
    e0401_v7s_oas_beyond_mtk_ext => with("page-table arm-lpae-s1 { granule 4K; ias 48; oas 48; pool 64; }", "page-table arm-v7s { oas 36; mtk-ext; pool 64; }");
    e0401_dart_oas_of_generation => with("page-table arm-lpae-s1 { granule 4K; ias 48; oas 48; pool 64; }", "page-table apple-dart { generation t6000; oas 36; pool 64; }");
    e0403_v7s_ias => with("page-table arm-lpae-s1 { granule 4K; ias 48; oas 48; pool 64; }", "page-table arm-v7s { ias 40; oas 32; pool 64; }");
    e0403_v7s_ias_34_needs_mtk_ext => with("page-table arm-lpae-s1 { granule 4K; ias 48; oas 48; pool 64; }", "page-table arm-v7s { ias 34; oas 32; pool 64; }");
    e0403_v7s_mtk_ias => with("page-table arm-lpae-s1 { granule 4K; ias 48; oas 48; pool 64; }", "page-table arm-v7s { ias 33; oas 35; mtk-ext; pool 64; }");
    e0406_v7s_34_bit_pool => with("page-table arm-lpae-s1 { granule 4K; ias 48; oas 48; pool 64; }", "page-table arm-v7s { ias 34; oas 35; mtk-ext; pool 64; }");
    e0403_requests_ias => with("page-table arm-lpae-s1 { granule 4K; ias 48; oas 48; pool 64; }", "requests virtio-iommu { granule 4K; ias 65; }");
    e0404_v7s_size => with("page-table arm-lpae-s1 { granule 4K; ias 48; oas 48; pool 64; }", "page-table arm-v7s { oas 32; sizes 4K 2M; pool 64; }");
    e0404_requests_size => with("page-table arm-lpae-s1 { granule 4K; ias 48; oas 48; pool 64; }", "requests virtio-iommu { granule 64K; ias 48; sizes 4K 64K; }");
    e0405_v7s_sizes_miss_4k => with("page-table arm-lpae-s1 { granule 4K; ias 48; oas 48; pool 64; }", "page-table arm-v7s { oas 32; sizes 1M 16M; pool 64; }");
    e0406_v7s_pool => with("page-table arm-lpae-s1 { granule 4K; ias 48; oas 48; pool 64; }", "page-table arm-v7s { oas 32; pool 1; }");
    e0407_v7s_granule => with("page-table arm-lpae-s1 { granule 4K; ias 48; oas 48; pool 64; }", "page-table arm-v7s { granule 64K; oas 32; pool 64; }");
    e0407_dart_granule => with("page-table arm-lpae-s1 { granule 4K; ias 48; oas 48; pool 64; }", "page-table apple-dart { generation t8103; granule 4K; pool 64; }");
    e0501_aperture_in_requests => with("page-table arm-lpae-s1 { granule 4K; ias 48; oas 48; pool 64; }", "requests virtio-iommu { granule 4K; ias 32; }\n    dma { aperture 0x1000..0x2_0000_0000; }");
    e0501_bad_aperture => with("    init", "    dma { aperture 0x1000..0x2_0000_0000_0000; }\n    init");
    e0501_unaligned_aperture => with("    init", "    dma { aperture 0x1800..0x10000; }\n    init");
    e0502_unknown_domain_policy => with("    init", "    dma { domain per-devise; }\n    init");
    e0503_duplicate_group => with("    init", "    dma { group a where sid < 4; group a where sid >= 4; }\n    init");
    e0504_too_many_groups => with("    init", &format!("    dma {{ {} }}\n    init", (0..33).map(|i| format!("group g{i} where sid == {i};")).collect::<Vec<_>>().join(" ")));
    e0505_per_group_without_groups => with("    init", "    dma { domain per-group; }\n    init");
    e0102_shared_domains_twice => with("    init", "    dma { shared-domains; shared-domains; }\n    init");
    e0507_translated_for_compatibles => with("    init", "    dma { default translated for compatible \"v,gpu\"; }\n    init");
    e0506_unknown_default_domain => with("    init", "    dma { default identy; }\n    init");
    e0205_group_names_an_unknown_field => with("    init", "    dma { group a where sdi < 4; }\n    init");
    e0501_group_aperture_unaligned => with("    init", "    dma { group a aperture 0x1800..0x10000 where sid < 4; }\n    init");
    e0601_duplicate_compatible => format!("{BASE}{}", BASE.replace("driver d", "driver e"));
    e0602_pci_needs_one_cell => with("cells 1;", "cells 2;\n    pci iommu-map;\n    field ctx: u8 = cell[1][7:0];\n    id = ctx << 16 | sid;");
    e0701_bad_master_name => with("id = sid;", "id = sid;\n    allow masters \"ee100000.mmc\", \"0xEE120000.mmc\";");
    e0701_upper_case_address => with("id = sid;", "id = sid;\n    allow masters \"EE100000.mmc\";");
    e0702_master_listed_twice => with("id = sid;", "id = sid;\n    allow masters \"ee100000.mmc\", \"ee120000.mmc\", \"ee100000.mmc\";");
    e0702_soc_listed_twice => with("id = sid;", "id = sid;\n    deny soc \"renesas,r8a7796\", \"renesas,r8a7796\";");
    e0703_bad_machine => with("id = sid;", "id = sid;\n    deny soc \"r8a7796\";");
    e0704_probe_unknown_field => with("id = sid;", "id = sid;\n    master same sd;");
    e0705_probe_repeated => with("id = sid;", "id = sid;\n    master one instance;\n    master one instance;");
    e0706_probe_field_not_in_id => with("id = sid;", "field hi: u8 = cell[0][23:16];\n    check hi < 4;\n    id = sid;\n    master same hi;");
    e0207_master_property_may_be_missing => with("id = sid;", "field os: u4 = master property \"os-id\"[3:0];\n    id = os << 16 | sid;");
    w0002_field_wider_than_bits => with("u16 = cell[0][15:0]", "u32 = cell[0][15:0]");
    w0001_unused_field => with("id = sid;", "id = sid;\n    field spare: u8 = cell[0][23:16];");
}

fn cross_file_inputs() -> Vec<(String, String)> {
    vec![
        ("first.iommu".to_owned(), BASE.to_owned()),
        (
            "second.iommu".to_owned(),
            BASE.replace("driver d", "driver other"),
        ),
    ]
}

fn cross_file_codes() -> BTreeSet<&'static str> {
    check_sources(&cross_file_inputs())
        .into_iter()
        .flat_map(|(_, c)| c.diagnostics.into_iter().map(|d| d.code.as_str()))
        .collect()
}

#[test]
fn e0601_across_files() {
    let files = cross_file_inputs();
    let results = check_sources(&files);
    let mut text = String::new();
    for (i, c) in &results {
        let (name, src) = &files[*i];
        text.push_str(&human_all(&c.diagnostics, name, src, HumanStyle::default()));
    }
    expect_file!["snapshots/e0601_across_files.txt"].assert_eq(&text);
}

/// A file with a byte that is not UTF-8 in a string, as the CLI decodes it.
fn undecodable() -> (iommugen_dsl::encoding::Decoded, &'static str) {
    let mut bytes = BASE.as_bytes().to_vec();
    let at = BASE.find("iommu\"").unwrap() + 2;
    bytes[at] = 0xff;
    (
        iommugen_dsl::encoding::decode(bytes),
        "e0005_invalid_utf8.iommu",
    )
}

#[test]
fn e0005_invalid_utf8() {
    let (decoded, name) = undecodable();
    let error = decoded.error.expect("0xff is not UTF-8");
    let text = human_all(&[error], name, &decoded.text, HumanStyle::default());
    expect_file!["snapshots/e0005_invalid_utf8.txt"].assert_eq(&text);
}
