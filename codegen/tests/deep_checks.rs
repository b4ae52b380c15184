//! Checks as deep as the language allows generate and format on the
//! default 2 MiB test thread stack; deeper ones are refused by the checker,
//! and an IR built past the limit without the checker becomes a
//! `compile_error!` rather than a stack overflow.

use iommugen_codegen::{generate, spec_file, Options, Origin};
use iommugen_dsl::depth::MAX_EXPR_DEPTH;
use iommugen_dsl::ir::{BinOp, Expr};
use iommugen_dsl::Code;

fn spec_with(check: &str) -> String {
    format!(
        "driver d {{\n    compatible \"v,d\";\n    cells 1;\n    field a: u16 = cell[0][15:0];\n    id = a;\n    {check}\n    page-table arm-lpae-s1 {{ granule 4K; ias 48; oas 48; pool 64; }}\n    init crate::d::probe;\n}}\n"
    )
}

fn shapes(n: usize) -> [String; 5] {
    [
        format!("check {}a{} > 0;", "(".repeat(n - 1), ")".repeat(n - 1)),
        format!("check {}a;", "!".repeat(n)),
        format!("check a{};", " + a".repeat(n)),
        // Comparisons and logic: a different emitter path per level.
        format!("check a{};", " < a || a".repeat(n / 2)),
        // The heaviest for `syn`: comparisons nested on the right.
        format!("check {}a{};", "(a < ".repeat(n / 2), ")".repeat(n / 2)),
    ]
}

#[test]
fn checks_at_the_limit_generate() {
    for check in shapes(MAX_EXPR_DEPTH) {
        let out = generate("d.iommu", &spec_with(&check), &Options::default());
        let out = out.unwrap_or_else(|d| panic!("{check:.40}: {d:?}"));
        assert!(out.code.contains("CheckRejected"), "{check:.40}");
    }
}

#[test]
fn a_million_levels_is_a_diagnostic_not_a_crash() {
    for check in shapes(1_000_000) {
        let Err(err) = generate("d.iommu", &spec_with(&check), &Options::default()) else {
            panic!("{check:.40}: generated");
        };
        let codes: Vec<Code> = err.iter().map(|d| d.code).collect();
        assert_eq!(codes, [Code::TooDeep], "{check:.40}");
    }
}

#[test]
fn an_ir_past_the_limit_becomes_a_compile_error() {
    let text = spec_with("check a > 0;");
    let mut spec = iommugen_dsl::check_source("d.iommu", &text).spec.unwrap();
    let mut e = Expr::Field(0);
    for _ in 0..1_000_000 {
        e = Expr::Binary(BinOp::Add, Box::new(e), Box::new(Expr::Lit(1)));
    }
    spec.drivers[0].checks[0].expr = e;
    let origin = Origin::Spec {
        file: "d.iommu",
        source: &text,
    };
    let tokens = spec_file(&spec, "d", &origin, &Options::default()).to_string();
    assert!(tokens.contains("compile_error"), "{tokens:.200}");
    assert!(tokens.contains(&format!("nests deeper than {MAX_EXPR_DEPTH} levels")));
}

/// Groups: one deep condition in an IR built past the limit, and more
/// groups than the mask has bits, are compile errors, not overflows.
#[test]
fn an_ir_with_a_deep_group_or_too_many_groups_is_a_compile_error() {
    let text = spec_with("dma { group g where a < 4; }");
    let spec = iommugen_dsl::check_source("d.iommu", &text).spec.unwrap();
    let origin = Origin::Spec {
        file: "d.iommu",
        source: &text,
    };
    let mut deep = spec.clone();
    let mut e = Expr::Field(0);
    for _ in 0..1_000_000 {
        e = Expr::Binary(BinOp::Or, Box::new(e), Box::new(Expr::Lit(1)));
    }
    deep.drivers[0].dma.groups[0].cond = e;
    let tokens = spec_file(&deep, "d", &origin, &Options::default()).to_string();
    assert!(
        tokens.contains("a group of driver `d` nests deeper"),
        "{tokens:.200}"
    );
    let mut many = spec;
    let g = many.drivers[0].dma.groups[0].clone();
    many.drivers[0].dma.groups = vec![g; 33];
    let tokens = spec_file(&many, "d", &origin, &Options::default()).to_string();
    assert!(tokens.contains("more than 32 groups"), "{tokens:.200}");
}

/// A build script's spec that is not UTF-8 (or nests too deep) is a
/// located diagnostic in the builder's report, not an I/O error or a crash.
#[test]
fn the_builder_reports_bad_encoding_and_depth_as_diagnostics() {
    let out = std::env::temp_dir().join(format!("iommugen-deep-builder-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out).unwrap();
    let mut bytes = spec_with("check a > 0;").into_bytes();
    let at = bytes.iter().position(|&b| b == b',').unwrap();
    bytes[at] = 0xfe;
    let bad = out.join("bad.iommu");
    std::fs::write(&bad, bytes).unwrap();
    let deep = out.join("deep.iommu");
    std::fs::write(&deep, spec_with(&shapes(1_000_000)[0])).unwrap();
    let err = iommugen_codegen::Builder::new()
        .spec(&bad)
        .spec(&deep)
        .out_dir(&out)
        .cargo_metadata(false)
        .generate()
        .unwrap_err();
    let text = format!("{err:?}");
    assert!(
        text.contains("iommu::E0005") && text.contains("bad.iommu:2:18"),
        "{text:.3000}"
    );
    assert!(
        text.contains("iommu::E0004") && text.contains("deep.iommu:6:"),
        "{text:.3000}"
    );
}
