//! Arbitrary bytes as a spec file through the whole DSL front end.
//!
//! Checked on every input that is UTF-8 (the CLI rejects anything else
//! before parsing):
//! - no panic anywhere below;
//! - the fast reader and the pest-only path give the same tree and
//!   diagnostics (`dsl/tests/fast_path.rs`);
//! - streaming `check_source` equals `parse` then `check_ast`
//!   (`dsl/tests/streaming.rs`);
//! - every label span lies inside the source on character boundaries;
//! - the human (miette) and JSON renderers run;
//! - when the spec checks clean, the generated module parses as Rust.
#![no_main]

use iommugen_dsl::check::check_ast;
use iommugen_dsl::parse::{parse, parse_pest_only};
use iommugen_dsl::render::{self, HumanStyle};
use iommugen_dsl::{check_source, Checked, Diagnostic};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(src) = std::str::from_utf8(data) else {
        return;
    };

    let fast = parse(src);
    let slow = parse_pest_only(src);
    assert_eq!(fast, slow, "fast and pest paths disagree");

    let streamed = check_source("fuzz.iommu", src);
    let whole = whole_tree(fast);
    assert_eq!(
        streamed, whole,
        "check_source differs from parse + check_ast"
    );

    for d in &streamed.diagnostics {
        for l in &d.labels {
            assert!(
                l.span.start <= l.span.end && l.span.end <= src.len(),
                "label span {:?} outside the source ({} bytes): {d:?}",
                l.span,
                src.len()
            );
            assert!(
                src.is_char_boundary(l.span.start) && src.is_char_boundary(l.span.end),
                "label span {:?} splits a character: {d:?}",
                l.span
            );
        }
    }
    // Every diagnostic, through one line index: rendering is linear, long
    // lines are cut around their labels, nesting is bounded by the parser.
    let file = render::SourceFile::new("fuzz.iommu", src);
    for d in &streamed.diagnostics {
        let text = file.human(d, HumanStyle::default());
        assert!(!text.is_empty());
    }
    let json = render::json_array(streamed.diagnostics.iter().map(|d| (d, "fuzz.iommu", src)));
    assert!(serde_json::from_str::<serde_json::Value>(&json).is_ok());

    if streamed.spec.is_some() {
        match iommugen_codegen::generate("fuzz.iommu", src, &Default::default()) {
            Ok(out) => {
                if let Err(e) = syn::parse_file(&out.code) {
                    panic!("generated code does not parse: {e}\n{}", out.code);
                }
            }
            Err(diags) => panic!("clean spec, but generate reports {diags:?}"),
        }
    }
});

/// The two steps one after the other, as `check_source` documents them.
fn whole_tree((ast, mut diagnostics): (iommugen_dsl::ast::SpecAst, Vec<Diagnostic>)) -> Checked {
    let checked = check_ast(&ast);
    diagnostics.extend(checked.diagnostics);
    diagnostics.sort_by_key(|d| d.primary_span().map(|s| s.start));
    let has_errors = diagnostics.iter().any(Diagnostic::is_error);
    Checked {
        spec: if has_errors { None } else { checked.spec },
        diagnostics,
    }
}
