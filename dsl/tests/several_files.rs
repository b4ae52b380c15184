//! `check_sources` streams each file and keeps only each compatible
//! string for the checks across files; it must report what parsing every
//! tree whole, checking it and comparing the trees reports.
//! `diagnose_sources` must give the same diagnostics without the IR.

use iommugen_dsl::check::{check_ast, cross_file_compatibles};
use iommugen_dsl::parse::parse;
use iommugen_dsl::{check_sources, diagnose_sources, Checked, Diagnostic};

/// The definition: whole trees, then the cross-file check over them.
fn whole_trees(files: &[(String, String)]) -> Vec<(usize, Checked)> {
    let parsed: Vec<_> = files.iter().map(|(_, s)| parse(s)).collect();
    let asts: Vec<(&str, _)> = files
        .iter()
        .zip(&parsed)
        .map(|((n, _), (ast, _))| (n.as_str(), ast))
        .collect();
    let cross = cross_file_compatibles(&asts);
    parsed
        .iter()
        .enumerate()
        .map(|(i, (ast, syntax))| {
            let checked = check_ast(ast);
            let mut diagnostics = syntax.clone();
            diagnostics.extend(checked.diagnostics);
            diagnostics.extend(
                cross
                    .iter()
                    .filter(|(f, _)| *f == i)
                    .map(|(_, d)| d.clone()),
            );
            diagnostics.sort_by_key(|d| d.primary_span().map(|s| (s.start, s.end)));
            let has_errors = diagnostics.iter().any(Diagnostic::is_error);
            let spec = if has_errors { None } else { checked.spec };
            (i, Checked { spec, diagnostics })
        })
        .collect()
}

const GOOD: &str = "driver @ { compatible \"v,@\", \"shared\"; cells 1; field s: u16 = cell[0][15:0]; id = s; page-table arm-lpae-s1 { granule 4K; ias 48; oas 48; pool 8; } init crate::p; }\n";

#[test]
fn streamed_files_report_what_whole_trees_report() {
    let a = GOOD.replace('@', "a") + &GOOD.replace('@', "b");
    let b = GOOD
        .replace('@', "c")
        .replace("\"shared\"", "\"v,a\", \"v,a\"");
    let c = GOOD.replace('@', "d").replace("\"shared\"", "\"sh\\ared\"") + "driver broken {";
    let d = GOOD.replace('@', "e").replace("oas 48", "oas 50");
    let files: Vec<(String, String)> = [a, b, c, d]
        .into_iter()
        .enumerate()
        .map(|(i, s)| (format!("f{i}.iommu"), s))
        .collect();
    for n in 1..=files.len() {
        for start in 0..files.len() {
            let some: Vec<_> = files.iter().cycle().skip(start).take(n).cloned().collect();
            let streamed = check_sources(&some);
            assert_eq!(streamed, whole_trees(&some), "{some:?}");
            let diagnosed = diagnose_sources(&some);
            assert_eq!(diagnosed.len(), streamed.len());
            for ((i, d), (j, c)) in diagnosed.iter().zip(&streamed) {
                assert_eq!((i, d), (j, &c.diagnostics));
            }
        }
    }
    // The cases do cross: "shared" and "v,a" are claimed in two files.
    let cross = check_sources(&files);
    assert!(cross[1]
        .1
        .diagnostics
        .iter()
        .any(|d| d.message.contains("in f0.iommu")));
}
