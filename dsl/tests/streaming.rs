//! `check_source` checks each driver as the parser hands it over and drops
//! its tree (see `lib.rs`); it must report exactly what parsing the whole
//! file and then running `check_ast` reports: same diagnostics, same order,
//! same spec.

use iommugen_dsl::{check::check_ast, check_source, parse::parse, Checked, Code, Diagnostic};
use proptest::prelude::*;

/// The two steps one after the other, combined as `Checked` documents:
/// syntax diagnostics first, then the checker's, stably sorted by position;
/// a spec only without errors.
fn whole_tree(src: &str) -> Checked {
    let (ast, mut diagnostics) = parse(src);
    let checked = check_ast(&ast);
    diagnostics.extend(checked.diagnostics);
    diagnostics.sort_by_key(|d| d.primary_span().map(|s| s.start));
    let has_errors = diagnostics.iter().any(Diagnostic::is_error);
    Checked {
        spec: if has_errors { None } else { checked.spec },
        diagnostics,
    }
}

fn same(src: &str) {
    assert_eq!(check_source("t", src), whole_tree(src), "differ on {src:?}");
}

/// Drivers that collide with each other by name or compatible string, also
/// through escapes (`"a\,b"` is the string `a,b`), or that have errors.
const DRIVERS: &[&str] = &[
    "driver a { compatible \"a,b\"; cells 1; field s: u16 = cell[0][15:0]; id = s; page-table arm-lpae-s1 { granule 4K; ias 48; oas 48; pool 64; } init crate::a; }",
    "driver b { compatible \"a\\,b\", \"c\"; cells 1; field s: u16 = cell[0][15:0]; id = s; page-table arm-lpae-s1 { granule 4K; ias 48; oas 48; pool 64; } init crate::b; }",
    "driver a { compatible \"c\", \"c\"; cells 0; page-table arm-lpae-s1 { granule 4K; ias 48; oas 48; pool 64; } init crate::a; }",
    "/// doc\ndriver d { compatible \"\"; cells 1; field x: u8 = cell[0]; page-table arm-lpae-s1 { granule 4K; ias 48; oas 48; pool 64; } }",
    "driver e { compatible \"e\"; cells 1 | 2; field m: u16 = cell[1][15:0] else property \"p\"[15:0] else 0; field s: u16 = cell[0]; check s < 1 << 15; id = m << 16 | s; pci iommu-map; page-table arm-lpae-s2 { granule 64K; ias 52; oas 52; pool 64; } dma { domain per-device; aperture 0x1000..0x1_0000_0000; } init crate::e; }",
    "driver f { compatible \"a,b\" cells 1; }",
    "driver b { compatible \"g\"; cells 1; field x: u16 = cell[3]; page-table arm-lpae-s1 { granule 8K; ias 48; oas 48; pool 64; } init crate::b; }",
    "driver g { compatible \"c\"; cells 1; /// stray doc\n page-table arm-lpae-s1 { granule 4K; ias 48; oas 48; pool 64; } init crate::g; }",
    "driver h {",
    "}",
];

#[test]
fn every_template_alone_and_all_together() {
    for d in DRIVERS {
        same(d);
    }
    let all = DRIVERS.join("\n");
    same(&all);
    // The cross-driver checks did run: `a` and `b` are defined twice, and
    // `b`'s `"a\,b"` is driver `a`'s `a,b`.
    let diags = check_source("t", &all).diagnostics;
    let has = |code: Code, text: &str| {
        diags
            .iter()
            .any(|d| d.code == code && d.message.contains(text))
    };
    assert!(has(Code::DuplicateDriver, "driver `a`"));
    assert!(has(Code::DuplicateDriver, "driver `b`"));
    assert!(has(
        Code::DuplicateCompatible,
        "`a,b` is claimed by drivers `a` and `b`"
    ));
    // Driver `b` claims `c` before the second `a` lists it twice.
    assert!(has(
        Code::DuplicateCompatible,
        "`c` is claimed by drivers `b` and `a`"
    ));
    let alone = check_source("t", DRIVERS[2]).diagnostics;
    assert!(alone.iter().any(|d| d.code == Code::DuplicateCompatible
        && d.message.contains("`c` is listed twice in driver `a`")));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn mixed_files(picks in proptest::collection::vec(0..DRIVERS.len(), 0..12)) {
        let src: Vec<&str> = picks.iter().map(|&i| DRIVERS[i]).collect();
        same(&src.join("\n"));
    }
}
