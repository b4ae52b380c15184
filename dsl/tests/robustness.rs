//! Arbitrary input never panics, and always yields either a spec or at least
//! one diagnostic; every diagnostic renders.

use iommugen_dsl::render::{human, json_value, HumanStyle};
use iommugen_dsl::{check_source, check_sources};
use proptest::prelude::*;

/// Words and symbols of the language, and some near misses.
const VOCAB: &[&str] = &[
    "driver",
    "d",
    "e",
    "{",
    "}",
    ";",
    "compatible",
    "\"a,b\"",
    "\"",
    ",",
    "cells",
    "1",
    "2",
    "|",
    "field",
    "x",
    "sid",
    ":",
    "u16",
    "u8",
    "u0",
    "u33",
    "=",
    "cell",
    "[",
    "]",
    "0",
    "15",
    "31",
    "40",
    "else",
    "property",
    "\"stream-match-mask\"",
    ">>",
    "&",
    "0x1f",
    "0xff00",
    "check",
    "<",
    "<<",
    "16",
    "||",
    "&&",
    "!",
    "(",
    ")",
    "id",
    "pci",
    "iommu-map",
    "page-table",
    "arm-lpae-s1",
    "arm-lpae-s2",
    "granule",
    "4K",
    "16K",
    "64K",
    "8K",
    "ias",
    "oas",
    "48",
    "52",
    "sizes",
    "2M",
    "1G",
    "4T",
    "coherent-walk",
    "pool",
    "dma",
    "domain",
    "per-device",
    "per-instance",
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
    "99999999999999999999999",
    "18446744073709551615",
    "4294967296",
    "é",
    "\\",
];

fn check_invariants(src: &str) {
    let c = check_source("p.iommu", src);
    assert_eq!(c.spec.is_some(), !c.has_errors(), "spec iff no errors");
    assert!(c.spec.is_some() || !c.diagnostics.is_empty());
    for d in &c.diagnostics {
        for l in &d.labels {
            assert!(
                l.span.start <= l.span.end && l.span.end <= src.len(),
                "label out of range: {:?}",
                l.span
            );
        }
        let _ = human(d, "p.iommu", src, HumanStyle::default());
        let _ = json_value(d, "p.iommu", src);
    }
}

fn example() -> String {
    std::fs::read_to_string(format!(
        "{}/../examples/arm-smmu.iommu",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        check_invariants(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn token_soup(tokens in proptest::collection::vec((0..VOCAB.len(), 0..3usize), 0..120)) {
        let mut src = String::new();
        for (t, sep) in tokens {
            src.push_str(VOCAB[t]);
            src.push_str([" ", "", "\n"][sep]);
        }
        check_invariants(&src);
    }

    #[test]
    fn mutated_example(cut in 0usize..2000, len in 0usize..40, insert in 0..VOCAB.len()) {
        let mut src = example();
        let mut start = cut.min(src.len());
        while !src.is_char_boundary(start) { start -= 1; }
        let mut end = (start + len).min(src.len());
        while !src.is_char_boundary(end) { end -= 1; }
        src.replace_range(start..end, VOCAB[insert]);
        check_invariants(&src);
    }

    #[test]
    fn several_files(a in proptest::collection::vec((0..VOCAB.len(), 0..3usize), 0..60)) {
        let soup: String = a.iter().map(|(t, s)| format!("{}{}", VOCAB[*t], [" ", "", "\n"][*s])).collect();
        let files = vec![("a".to_owned(), example()), ("b".to_owned(), soup), ("c".to_owned(), example())];
        let out = check_sources(&files);
        prop_assert_eq!(out.len(), 3);
        // The same example twice claims its compatibles twice.
        prop_assert!(out[2].1.has_errors());
    }
}
