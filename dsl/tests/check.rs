//! Checker tests: semantic rules, and the checker on a tree built in code
//! (as the `#[iommu_driver]` attribute will build it).

use iommugen_dsl::ast::*;
use iommugen_dsl::ir::{self, Format, Granule};
use iommugen_dsl::{check::check_ast, check_source, Code};

fn codes(src: &str) -> Vec<Code> {
    check_source("t", src)
        .diagnostics
        .iter()
        .map(|d| d.code)
        .collect()
}

fn driver_with_pt(pt: &str) -> String {
    format!(
        "driver d {{ compatible \"v,x\"; cells 1; field sid: u16 = cell[0][15:0]; id = sid;\n page-table {pt}\n init crate::d::probe; }}"
    )
}

fn pt(src: &str) -> Result<ir::PageTable, Vec<Code>> {
    let c = check_source("t", &driver_with_pt(src));
    match c.spec {
        Some(mut s) => match s.drivers.remove(0).translation {
            ir::Translation::Tables(pt) => Ok(pt),
            ir::Translation::Requests(_) => Err(Vec::new()),
        },
        None => Err(c.diagnostics.iter().map(|d| d.code).collect()),
    }
}

#[test]
fn output_sizes_follow_parange() {
    for oas in [32, 36, 40, 42, 44, 48] {
        assert!(
            pt(&format!(
                "arm-lpae-s1 {{ granule 4K; ias 48; oas {oas}; pool 8; }}"
            ))
            .is_ok(),
            "oas {oas}"
        );
    }
    for oas in [31, 39, 41, 46, 50, 56] {
        assert_eq!(
            pt(&format!(
                "arm-lpae-s1 {{ granule 4K; ias 48; oas {oas}; pool 8; }}"
            )),
            Err(vec![Code::BadOutputSize]),
            "oas {oas}"
        );
    }
}

#[test]
fn fifty_two_bits_need_64k_without_lpa2() {
    // FEAT_LPA: 52-bit OA with the 64K granule, and then 4T level-1 blocks.
    let p = pt("arm-lpae-s1 { granule 64K; ias 52; oas 52; pool 8; }").unwrap();
    assert_eq!(p.page_sizes, [64 << 10, 512 << 20, 4 << 40]);
    assert_eq!(
        pt("arm-lpae-s1 { granule 16K; ias 48; oas 52; pool 8; }"),
        Err(vec![Code::NeedsLpa2])
    );
    assert_eq!(
        pt("arm-lpae-s1 { granule 4K; ias 52; oas 48; pool 8; }"),
        Err(vec![Code::NeedsLpa2])
    );
    // 4T blocks need the 52-bit output.
    assert_eq!(
        pt("arm-lpae-s1 { granule 64K; ias 48; oas 48; sizes 64K 4T; pool 8; }"),
        Err(vec![Code::BadBlockSize])
    );
    // Stage 2 above 48 input bits comes with FEAT_LPA: needs oas 52.
    assert_eq!(
        pt("arm-lpae-s2 { granule 64K; ias 52; oas 48; pool 8; }"),
        Err(vec![Code::BadInputSize])
    );
    assert!(pt("arm-lpae-s2 { granule 64K; ias 52; oas 52; pool 8; }").is_ok());
}

#[test]
fn small_input_ranges_lose_large_blocks() {
    // ias 30 with 4K: two levels (2 and 3), so no 1G level-1 blocks.
    let p = pt("arm-lpae-s1 { granule 4K; ias 30; oas 40; pool 2; }").unwrap();
    assert_eq!(p.page_sizes, [4 << 10, 2 << 20]);
    assert_eq!(
        pt("arm-lpae-s1 { granule 4K; ias 30; oas 40; sizes 4K 1G; pool 2; }"),
        Err(vec![Code::BadBlockSize])
    );
}

#[test]
fn pool_holds_one_walk_including_concatenated_roots() {
    // Stage 2, 4K, 40-bit IPA: start at level 1 with two concatenated tables,
    // then levels 2 and 3: four tables.
    assert_eq!(
        pt("arm-lpae-s2 { granule 4K; ias 40; oas 40; pool 3; }"),
        Err(vec![Code::PoolTooSmall])
    );
    let p = pt("arm-lpae-s2 { granule 4K; ias 40; oas 40; pool 4; }").unwrap();
    assert_eq!(
        (p.format, p.granule, p.pool_tables),
        (Format::ArmLpaeS2, Granule::K4, 4)
    );
    assert_eq!(
        pt("arm-lpae-s1 { granule 4K; ias 48; oas 48; pool 0; }"),
        Err(vec![Code::PoolTooSmall])
    );
}

#[test]
fn apple_dart_generations_reach_the_ir() {
    let p = pt("apple-dart { generation t8103; pool 2; }").unwrap();
    assert_eq!(
        p.format,
        Format::AppleDart {
            generation: ir::DartGeneration::T8103
        }
    );
    assert_eq!(
        (p.granule, p.ias, p.oas, p.page_sizes.as_slice()),
        (Granule::K16, 32, 36, &[16 << 10][..])
    );
    // DART walkers are cache-coherent whether or not the spec says so.
    assert!(p.coherent_walk);
    let p = pt("apple-dart { generation t6000; granule 16K; ias 32; oas 42; sizes 16K; coherent-walk; pool 8; }").unwrap();
    assert_eq!(
        (p.format, p.oas, p.pool_tables),
        (
            Format::AppleDart {
                generation: ir::DartGeneration::T6000
            },
            42,
            8
        )
    );
    // One TTBR root and one leaf table.
    assert_eq!(
        pt("apple-dart { generation t8103; pool 1; }"),
        Err(vec![Code::PoolTooSmall])
    );
    assert_eq!(
        pt("apple-dart { generation t8103; oas 42; pool 8; }"),
        Err(vec![Code::BadOutputSize])
    );
    // The IAS and the page size are fixed by the format.
    let mut got =
        pt("apple-dart { generation t8103; ias 36; sizes 16K 32M; pool 8; }").unwrap_err();
    got.sort_by_key(|c| c.as_str());
    assert_eq!(got, vec![Code::BadInputSize, Code::BadBlockSize]);
    assert_eq!(pt("apple-dart { pool 8; }"), Err(vec![Code::MissingItem]));
}

#[test]
fn rockchip_versions_reach_the_ir() {
    for (v, oas) in [(1u8, 32u8), (2, 40)] {
        let p = pt(&format!("rockchip {{ version {v}; pool 2; }}")).unwrap();
        assert_eq!(
            (p.format, p.granule, p.ias, p.oas, p.page_sizes.as_slice()),
            (
                Format::Rockchip { version: v },
                Granule::K4,
                32,
                oas,
                &[4096][..]
            )
        );
        assert!(!p.coherent_walk);
    }
    let p = pt("rockchip { version 2; oas 40; coherent-walk; pool 32; }").unwrap();
    assert!(p.coherent_walk);
    assert_eq!(
        pt("rockchip { version 3; pool 32; }"),
        Err(vec![Code::UnknownVariant])
    );
    assert_eq!(
        pt("rockchip { version 1; oas 40; pool 32; }"),
        Err(vec![Code::BadOutputSize])
    );
    assert_eq!(
        pt("rockchip { version 1; pool 1; }"),
        Err(vec![Code::PoolTooSmall])
    );
    assert_eq!(
        pt("rockchip { version 1; generation t8103; pool 8; }"),
        Err(vec![Code::ItemNotInFormat])
    );
}

#[test]
fn exynos_versions_reach_the_ir() {
    // Versions 1-4 hold PA bits 31:12 in place; 5-7 hold PA >> 4 (36 bits).
    for (v, oas) in [(1u8, 32u8), (4, 32), (5, 36), (7, 36)] {
        let p = pt(&format!("exynos-sysmmu {{ version {v}; pool 17; }}")).unwrap();
        assert_eq!(
            (p.format, p.granule, p.ias, p.oas, p.page_sizes.as_slice()),
            (
                Format::ExynosSysmmu { version: v },
                Granule::K4,
                32,
                oas,
                &[4 << 10, 64 << 10, 1 << 20][..]
            )
        );
        assert!(!p.coherent_walk);
    }
    let p =
        pt("exynos-sysmmu { version 5; oas 36; sizes 4K 1M; coherent-walk; pool 64; }").unwrap();
    assert_eq!(
        (p.page_sizes.as_slice(), p.coherent_walk),
        (&[4 << 10, 1 << 20][..], true)
    );
    // Diagnostics come in source order: the version, then the pool (the
    // 16K first level is 16 slots of 1K, plus one second-level table).
    assert_eq!(
        pt("exynos-sysmmu { version 9; pool 8; }"),
        Err(vec![Code::UnknownVariant, Code::PoolTooSmall])
    );
    assert_eq!(
        pt("exynos-sysmmu { version 1; pool 16; }"),
        Err(vec![Code::PoolTooSmall])
    );
    assert_eq!(
        pt("exynos-sysmmu { version 1; oas 36; pool 17; }"),
        Err(vec![Code::BadOutputSize])
    );
    assert_eq!(
        pt("exynos-sysmmu { version 5; sizes 4K 16M; pool 17; }"),
        Err(vec![Code::BadBlockSize])
    );
    assert_eq!(
        pt("exynos-sysmmu { pool 17; }"),
        Err(vec![Code::MissingItem])
    );
}

#[test]
fn sun50i_reaches_the_ir() {
    let p = pt("sun50i { pool 17; }").unwrap();
    assert_eq!(
        (p.format, p.granule, p.ias, p.oas, p.page_sizes.as_slice()),
        (Format::Sun50i, Granule::K4, 32, 32, &[4096][..])
    );
    let p = pt("sun50i { granule 4K; ias 32; oas 32; sizes 4K; pool 64; }").unwrap();
    assert_eq!(p.pool_tables, 64);
    assert_eq!(pt("sun50i { pool 16; }"), Err(vec![Code::PoolTooSmall]));
    assert_eq!(
        pt("sun50i { sizes 4K 1M; pool 17; }"),
        Err(vec![Code::BadBlockSize])
    );
    assert_eq!(
        pt("sun50i { version 1; pool 17; }"),
        Err(vec![Code::ItemNotInFormat])
    );
    assert_eq!(
        pt("sun50i { oas 36; pool 17; }"),
        Err(vec![Code::BadOutputSize])
    );
}

#[test]
fn tegra_smmu_reaches_the_ir() {
    use iommugen_dsl::ir::TegraGeneration as G;
    for (name, generation, oas) in [
        ("tegra30", G::Tegra30, 32),
        ("tegra114", G::Tegra114, 32),
        ("tegra124", G::Tegra124, 34),
        ("tegra132", G::Tegra132, 34),
        ("tegra210", G::Tegra210, 34),
    ] {
        let p = pt(&format!("tegra-smmu {{ generation {name}; pool 2; }}")).unwrap();
        assert_eq!(
            (p.format, p.granule, p.ias, p.oas, p.page_sizes.as_slice()),
            (
                Format::TegraSmmu { generation },
                Granule::K4,
                32,
                oas,
                &[4096][..]
            )
        );
        assert!(!p.coherent_walk);
        assert_eq!(generation.dsl_name(), name);
    }
    let p = pt("tegra-smmu { generation tegra124; granule 4K; ias 32; oas 34; sizes 4K; coherent-walk; pool 64; }").unwrap();
    assert_eq!((p.pool_tables, p.coherent_walk), (64, true));
    assert_eq!(
        pt("tegra-smmu { generation tegra20; pool 2; }"),
        Err(vec![Code::UnknownVariant])
    );
    assert_eq!(pt("tegra-smmu { pool 2; }"), Err(vec![Code::MissingItem]));
    assert_eq!(
        pt("tegra-smmu { generation tegra124; pool 1; }"),
        Err(vec![Code::PoolTooSmall])
    );
    // Tegra30's controller has 32 address bits.
    assert_eq!(
        pt("tegra-smmu { generation tegra30; oas 34; pool 2; }"),
        Err(vec![Code::BadOutputSize])
    );
    assert_eq!(
        pt("tegra-smmu { generation tegra124; sizes 4K 4M; pool 2; }"),
        Err(vec![Code::BadBlockSize])
    );
    assert_eq!(
        pt("tegra-smmu { generation tegra124; version 1; pool 2; }"),
        Err(vec![Code::ItemNotInFormat])
    );
    assert_eq!(
        pt("tegra-smmu { generation tegra124; ias 34; pool 2; }"),
        Err(vec![Code::BadInputSize])
    );
}

#[test]
fn warnings_do_not_withhold_the_spec() {
    let src = "driver d { compatible \"v,x\"; cells 1; field sid: u16 = cell[0][15:0]; field spare: u8 = cell[0][23:16]; id = sid;\n page-table arm-lpae-s1 { granule 4K; ias 48; oas 48; pool 8; } init crate::d::probe; }";
    let c = check_source("t", src);
    assert_eq!(c.diagnostics.len(), 1);
    assert_eq!(c.diagnostics[0].code, Code::UnusedField);
    assert!(c.spec.is_some());
    assert_eq!(c.warnings(), 1);
}

#[test]
fn pci_accepts_fields_with_a_one_cell_fallback() {
    // arm,smmu: mask from cell[1], else the property, else 0 works for PCI.
    let src = "driver d { compatible \"v,x\"; cells 1 | 2; pci iommu-map; field sid: u16 = cell[0][15:0]; field m: u16 = cell[1][15:0] else property \"stream-match-mask\"[15:0] else 0; id = m << 16 | sid;\n page-table arm-lpae-s1 { granule 4K; ias 48; oas 48; pool 8; } init crate::d::probe; }";
    assert_eq!(codes(src), []);
}

#[test]
fn errors_in_one_driver_do_not_hide_another() {
    let bad = driver_with_pt("arm-lpae-s1 { granule 4K; ias 48; oas 50; pool 8; }");
    let also_bad = driver_with_pt("arm-lpae-s1 { granule 4K; ias 20; oas 48; pool 8; }")
        .replace("driver d", "driver e")
        .replace("v,x", "v,y");
    assert_eq!(
        codes(&format!("{bad}\n{also_bad}")),
        [Code::BadOutputSize, Code::BadInputSize]
    );
}

fn num(value: u64) -> Num {
    Num { value, span: 0..0 }
}
fn ident(name: &str) -> Ident {
    Ident {
        name: name.to_owned(),
        span: 0..0,
    }
}
fn item(kind: ItemKind) -> Item {
    Item {
        kind,
        keyword: 0..0,
        span: 0..0,
    }
}

/// The tree the attribute macro would build for a one-cell SMMUv3.
fn built_in_code() -> SpecAst {
    SpecAst {
        drivers: vec![DriverAst {
            docs: vec!["From Rust.".to_owned()],
            name: ident("smmu"),
            extends: None,
            items: vec![
                item(ItemKind::Compatible(vec![Str {
                    value: "arm,smmu-v3".to_owned(),
                    span: 0..0,
                }])),
                item(ItemKind::Cells(vec![num(1)])),
                item(ItemKind::Field(FieldAst {
                    name: ident("sid"),
                    width: num(32),
                    sources: vec![SourceAst {
                        base: SourceBase::Cell(num(0)),
                        bits: None,
                        shr: None,
                        mask: None,
                        span: 0..0,
                    }],
                })),
                item(ItemKind::Check(ExprAst::Binary(
                    BinOp::Lt,
                    Box::new(ExprAst::Name(ident("sid"))),
                    Box::new(ExprAst::Binary(
                        BinOp::Shl,
                        Box::new(ExprAst::Lit(num(1))),
                        Box::new(ExprAst::Lit(num(20))),
                        0..0,
                    )),
                    0..0,
                ))),
                item(ItemKind::Id(ExprAst::Name(ident("sid")))),
                item(ItemKind::PageTable(PageTableAst {
                    format: ident("arm-lpae-s1"),
                    requests: false,
                    items: vec![
                        PtItem {
                            kind: PtKind::Granule(num(4096)),
                            keyword: 0..0,
                            span: 0..0,
                        },
                        PtItem {
                            kind: PtKind::Ias(num(48)),
                            keyword: 0..0,
                            span: 0..0,
                        },
                        PtItem {
                            kind: PtKind::Oas(num(44)),
                            keyword: 0..0,
                            span: 0..0,
                        },
                        PtItem {
                            kind: PtKind::Pool(num(16)),
                            keyword: 0..0,
                            span: 0..0,
                        },
                    ],
                })),
                item(ItemKind::Init(vec![
                    ident("crate"),
                    ident("smmu"),
                    ident("probe"),
                ])),
            ],
            unparsed_fields: vec![],
            unparsed_items: vec![],
            parse_errors: false,
            span: 0..0,
        }],
    }
}

#[test]
fn tree_built_in_code_checks_like_parsed_source() {
    let built = check_ast(&built_in_code());
    assert!(built.diagnostics.is_empty(), "{:#?}", built.diagnostics);
    let from_text = check_source(
        "t",
        "/// From Rust.\ndriver smmu { compatible \"arm,smmu-v3\"; cells 1; field sid: u32 = cell[0]; check sid < 1 << 20; id = sid;\n page-table arm-lpae-s1 { granule 4K; ias 48; oas 44; pool 16; } init crate::smmu::probe; }",
    );
    // Same meaning; only spans differ.
    let strip = |s: ir::Spec| {
        let d = &s.drivers[0];
        (
            d.name.clone(),
            d.docs.clone(),
            d.compatibles.clone(),
            d.cells.allowed.clone(),
            d.fields
                .iter()
                .map(|f| (f.name.clone(), f.width))
                .collect::<Vec<_>>(),
            d.checks
                .iter()
                .map(|c| (c.expr.clone(), c.text.clone()))
                .collect::<Vec<_>>(),
            d.ids.iter().map(|p| p.parts.clone()).collect::<Vec<_>>(),
            d.translation
                .page_table()
                .expect("tables")
                .page_sizes
                .clone(),
            d.init.to_path_string(),
        )
    };
    assert_eq!(strip(built.spec.unwrap()), strip(from_text.spec.unwrap()));
}

#[test]
fn tree_built_in_code_reports_with_its_spans() {
    let mut tree = built_in_code();
    // A 4K granule cannot map 3M: the label carries the synthetic span given.
    let ItemKind::PageTable(pt) = &mut tree.drivers[0].items[5].kind else {
        panic!()
    };
    pt.items.push(PtItem {
        kind: PtKind::Sizes(vec![Num {
            value: 3 << 20,
            span: 7..9,
        }]),
        keyword: 0..0,
        span: 0..0,
    });
    let c = check_ast(&tree);
    assert!(c.spec.is_none());
    assert_eq!(c.diagnostics.len(), 1);
    assert_eq!(c.diagnostics[0].code, Code::BadBlockSize);
    assert_eq!(c.diagnostics[0].labels[0].span, 7..9);
}

#[test]
fn input_size_bounds_are_checked_even_with_a_bad_granule() {
    assert_eq!(
        pt("arm-lpae-s1 { granule 8K; ias 60; oas 48; pool 8; }"),
        Err(vec![Code::BadGranule, Code::BadInputSize])
    );
    // A plausible size is left alone until the granule is fixed.
    assert_eq!(
        pt("arm-lpae-s1 { granule 8K; ias 48; oas 48; pool 8; }"),
        Err(vec![Code::BadGranule])
    );
}

#[test]
fn huge_shift_in_a_packing_is_an_overflow_not_a_panic() {
    let src = "driver d { compatible \"v,x\"; cells 1; field sid: u16 = cell[0][15:0]; id = sid << 18446744073709551615;\n page-table arm-lpae-s1 { granule 4K; ias 48; oas 48; pool 8; } init crate::d::probe; }";
    assert_eq!(codes(src), [Code::PackOverflow]);
}

#[test]
fn all_ones_64_bit_mask_is_rejected_not_a_panic() {
    let src = "driver d { compatible \"v,x\"; cells 1; field sid: u16 = cell[0] & 0xffff_ffff_ffff_ffff; id = sid;\n page-table arm-lpae-s1 { granule 4K; ias 48; oas 48; pool 8; } init crate::d::probe; }";
    assert_eq!(codes(src), [Code::BadMask]);
}
