//! The hand-written fast path builds exactly what the pest grammar builds:
//! same trees, same spans, same diagnostics, on valid and broken input.

use iommugen_dsl::parse::{parse, parse_pest_only};
use proptest::prelude::*;

const VOCAB: &[&str] = &[
    "driver",
    "d",
    "extends",
    "extendsx",
    "{",
    "}",
    ";",
    "compatible",
    "\"a,b\"",
    "\"x\\\"y\"",
    ",",
    "cells",
    "1",
    "2",
    "|",
    "field",
    "ignore",
    "child",
    "main",
    "contexts",
    "reserved",
    "master",
    "one",
    "instance",
    "same",
    "where",
    "wherex",
    "\"q,ns\"",
    "x",
    "sid",
    ":",
    "u16",
    "u8",
    "u1_6",
    "=",
    "cell",
    "[",
    "]",
    "0",
    "15",
    "else",
    "property",
    "master",
    "masterx",
    "allow",
    "masters",
    "deny",
    "soc",
    "revision",
    "\"ee100000.mmc\"",
    "\"p\"",
    ">>",
    "&",
    "0x1f",
    "0b10",
    "0x_",
    "4KK",
    "12e",
    "check",
    "<",
    "<<",
    "<=",
    ">",
    ">=",
    "==",
    "!=",
    "||",
    "&&",
    "!",
    "(",
    ")",
    "+",
    "-",
    "*",
    "^",
    "id",
    "pci",
    "iommu-map",
    "iommu-mapx",
    "page-table",
    "arm-lpae-s1",
    "granule",
    "4K",
    "ias",
    "oas",
    "48",
    "sizes",
    "2M",
    "coherent-walk",
    "pool",
    "dma",
    "domain",
    "per-device",
    "per-",
    "aperture",
    "..",
    "0x1000",
    "init",
    "crate",
    "::",
    "probe",
    "///",
    "//",
    "/*",
    "*/",
    "\n",
    "\u{c}",
    "\t",
    "99999999999999999999999",
    "é",
    "\"é\"",
];

fn same(src: &str) {
    let fast = parse(src);
    let slow = parse_pest_only(src);
    assert_eq!(fast, slow, "paths disagree on {src:?}");
}

fn examples() -> Vec<String> {
    let dir = format!("{}/../examples", env!("CARGO_MANIFEST_DIR"));
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "iommu"))
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    v.sort();
    v
}

#[test]
fn examples_parse_identically() {
    for e in examples() {
        same(&e);
    }
}

#[test]
fn statement_forms_parse_identically() {
    for s in [
        "driver d { field m: u16 = cell[1][15:0] else property \"stream-match-mask\"[15:0] else cell[0] >> 5 & 0x1f else 0; }",
        "driver d { check !(a == 1) && b != 2 || c >= 3 - (4 * 5) ^ 6; id = a<<16|b; }",
        "driver d { compatible \"a\\\\b\", \"c\"; cells 0|1 | 2; init crate :: a::b; pci iommu-map; }",
        "driver d { page-table arm-lpae-s2 { granule 64K; ias 52; oas 52; sizes 64K, 512M 4T; coherent-walk; pool 16; } }",
        "driver d { dma { domain per-device; aperture 4K..0x1_0000_0000; } }",
        "driver d { /* c */ cells /* c */ 1 // c\n ; }",
        "/// doc\ndriver d { /// inner doc\n cells 1; }",
        "driver d { field x: u8 = 0[3:0]; field y: u99999999999999999999 = 0; }",
        "driver d { ignore cell[0][31:16], property \"p\"[31:16] , cell [1] ; ignore cell[2][5]; }",
        "driver d { ignore cell[0][31:16] >> 2; ignore property; ignore cell[0],; ignore 0[3:0]; }",
        "driver d { ignore /* c */ cell[0] /* c */ [ 7 : 4 ] // c\n ; }",
        "driver d extends base { compatible \"x,y\"; }",
        "/// doc\ndriver d /* c */ extends // c\n base { init crate::p; }",
        "driver d extends { }",
        "driver d extends a b { }",
        "driver d extendsbase { }",
        "driver extends extends extends { }",
        "driver d extends 1 { }",
        "driver d base { }",
        "driver d { field r: u8 = master property \"renesas,id\"[7:0] else cell[0] >> 4 & 0xf else 0; }",
        "driver d { ignore master property \"p\"[31:8], property \"q\"; }",
        "driver d { field r: u8 = master \"p\"; field s: u8 = master property; field t: u8 = masterproperty \"p\"; }",
        "driver d { allow masters \"ee100000.mmc\" , \"e6e88000.serial\"; allow masters; allow \"x\"; }",
        "driver d { deny soc \"renesas,r8a7795\" revision \"ES2.*\", \"renesas,r8a7796\" ; }",
        "driver d { deny soc \"a,b\" /* c */ revision // c\n \"ES1.*\"; deny soc \"a,b\" revision; deny soc; }",
        "driver d { deny socs \"a,b\"; allow mastersx \"a\"; deny soc \"a,b\" revisionx \"c\"; }",
        "driver d { child \"q,ns\", \"q,sec\" where asid == property \"qcom,ctx-asid\" else property \"reg\" >> 12; }",
        "driver d { child \"q\" where a == property \"reg\"[15:4] >> 2 & 0x3 else cell[0] else 7; }",
        "driver d { child /* c */ \"q\" // c\n where /* c */ a == property \"p\" ; }",
        "driver d { child \"q\" wherex a == property \"p\"; child where a == property \"p\"; }",
        "driver d { child \"q\" where a = property \"p\"; child \"q\" where == property \"p\"; }",
        "driver d { child \"q\", where a == property \"p\"; child \"q\" where a == ; child \"q\" where a == property \"p\" else; }",
        "driver d { child \"q\" where a.b == property \"p\"; child q where a == property \"p\"; }",
        "driver d { main property \"renesas,ipmmu-main\"; main /* c */ property // c\n \"p\" ; }",
        "driver d { main \"p\"; main property; main property \"p\" \"q\"; main cell[0]; mainx property \"p\"; }",
        "driver d { contexts 8 reserved 1; contexts 16; contexts /* c */ 8 // c\n reserved 0x1 ; }",
        "driver d { contexts; contexts 8 reserved; contexts reserved 1; contexts 8 reservedx 1; contexts 8 1; }",
        "driver d { contexts 0; contexts 8 reserved 8; contexts 99999999999; contexts 4K; }",
        "driver d { master one instance; master same larb; master /* c */ one // c\n instance ; master same\n x ; }",
        "driver d { master; master one; master instance; master one instances; master same; master same 3; master same a b; master oneinstance; mastersame x; master same \"x\"; }",
    ] {
        same(s);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn token_soup(tokens in proptest::collection::vec((0..VOCAB.len(), 0..3usize), 0..80)) {
        let mut src = String::from("driver d {\n");
        for (t, sep) in tokens {
            src.push_str(VOCAB[t]);
            src.push_str([" ", "", "\n"][sep]);
        }
        same(&src);
    }

    #[test]
    fn mutated_examples(which in 0usize..6, cut in 0usize..2000, len in 0usize..12, insert in 0..VOCAB.len()) {
        let ex = examples();
        let mut src = ex[which % ex.len()].clone();
        let mut start = cut.min(src.len());
        while !src.is_char_boundary(start) { start -= 1; }
        let mut end = (start + len).min(src.len());
        while !src.is_char_boundary(end) { end -= 1; }
        src.replace_range(start..end, VOCAB[insert]);
        same(&src);
    }
}
