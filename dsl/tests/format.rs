//! The formatter on the shipped specs, on random layouts of them, on token
//! soup and on hostile input: it never changes a token, formatting twice
//! changes nothing, and the layout does not depend on the spaces written.

use iommugen_dsl::format::{format_source, Formatted};
use iommugen_dsl::lex::{lex, Kind};
use iommugen_dsl::{check_source, Code};
use proptest::prelude::*;

/// Every shipped spec, `examples/**/*.iommu`, as (path, text).
fn shipped() -> Vec<(String, String)> {
    fn walk(dir: &std::path::Path, out: &mut Vec<(String, String)>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|e| e == "iommu") {
                out.push((
                    p.display().to_string(),
                    std::fs::read_to_string(&p).unwrap(),
                ));
            }
        }
    }
    let mut out = Vec::new();
    walk(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples"),
        &mut out,
    );
    assert!(out.len() >= 8, "{out:?}");
    out
}

/// The non-layout tokens of `src`, as (kind, text).
fn code(src: &str) -> Vec<(Kind, String)> {
    lex(src)
        .into_iter()
        .filter(|t| !t.kind.is_layout())
        .map(|t| (t.kind, t.text(src).to_owned()))
        .collect()
}

/// Formats `src` (which must parse), holding the result to every rule.
fn formatted(src: &str) -> String {
    let f: Formatted = format_source(src);
    assert!(f.errors.is_empty(), "{src:?}: {:?}", f.errors);
    assert!(f.kept.is_empty(), "{src:?}: kept {:?}", f.kept);
    assert_eq!(code(&f.text), code(src), "tokens changed");
    assert_eq!(format_source(&f.text).text, f.text, "not idempotent");
    for line in f.text.lines() {
        assert_eq!(line, line.trim_end(), "trailing whitespace in {line:?}");
    }
    assert!(f.text.is_empty() || f.text.ends_with('\n') && !f.text.ends_with("\n\n"));
    f.text
}

#[test]
fn shipped_specs_are_formatted_and_stay_clean() {
    for (path, text) in shipped() {
        let out = formatted(&text);
        assert_eq!(out, text, "{path} is not formatted: run `iommugen fmt`");
        let checked = check_source(&path, &out);
        assert!(checked.diagnostics.is_empty(), "{path}");
    }
}

/// Whether two adjacent tokens would run together without a space.
fn word_like(k: Kind) -> bool {
    matches!(k, Kind::Ident | Kind::Number)
}

/// `src` with the layout between its tokens replaced by `seps[i % n]`
/// (`""` only where tokens cannot run together). Layout touching a `-` is
/// kept (dashed words such as `arm-lpae-s1` are one word of the grammar),
/// and a line comment keeps its line end. Before a comment the choice is
/// only between spaces, and before the first token of a line a line end
/// stays a line end, so which comments trail a line and which own it does
/// not change (nor whether a block comment has code after it on its
/// line); no blank lines are made.
fn relayout(src: &str, seps: &[usize]) -> String {
    const SAME_LINE: [&str; 4] = [" ", "", "\t ", "  "];
    const ANY: [&str; 6] = [" ", "", "\n", "\t", " \r\n  ", "\n\t"];
    let toks = lex(src);
    let mut out = String::new();
    let mut prev: Option<(Kind, &str)> = None;
    let mut i = 0;
    let mut gap = String::new();
    for t in &toks {
        if t.kind.is_layout() {
            gap.push_str(t.text(src));
            continue;
        }
        let text = t.text(src);
        if let Some((pk, ptext)) = prev {
            let pick = seps.get(i % seps.len().max(1)).copied().unwrap_or(0);
            i += 1;
            let had_line = gap.contains('\n');
            let sep = if ptext == "-" || text == "-" {
                gap.clone()
            } else if matches!(pk, Kind::LineComment | Kind::DocComment)
                || had_line && (t.kind.is_comment() || pk == Kind::BlockComment)
            {
                "\n".to_owned()
            } else if t.kind.is_comment() || pk == Kind::BlockComment {
                SAME_LINE[pick % SAME_LINE.len()].to_owned()
            } else {
                ANY[pick % ANY.len()].to_owned()
            };
            let sep = if sep.is_empty() && word_like(pk) && word_like(t.kind) {
                " ".to_owned()
            } else {
                sep
            };
            out.push_str(&sep);
        }
        out.push_str(text);
        prev = Some((t.kind, text));
        gap.clear();
    }
    out
}

#[test]
fn relayout_keeps_what_it_must() {
    let src = "driver d { page-table arm-lpae-s1 { granule 4K; } // c\n cells 1; }";
    let out = relayout(src, &[1]);
    assert_eq!(code(&out), code(src));
    assert!(out.contains("page-table arm-lpae-s1"), "{out}");
    assert!(out.contains("// c\n"), "{out}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// The layout comes from the tokens and the comments' places, not from
    /// the spaces: any relayout of a shipped spec formats the same.
    #[test]
    fn layout_does_not_depend_on_spacing(which in 0usize..64, seps in proptest::collection::vec(0usize..24, 1..40)) {
        let specs = shipped();
        let (_, text) = &specs[which % specs.len()];
        let flat = relayout(text, &[0]);
        let other = relayout(text, &seps);
        prop_assert_eq!(formatted(&other), formatted(&flat));
    }

    /// Comments added anywhere a space may go are kept, in order, and
    /// formatting them is idempotent.
    #[test]
    fn random_comments_are_kept(which in 0usize..64, at in proptest::collection::vec((0usize..4000, 0usize..5), 0..12)) {
        const COMMENTS: [&str; 5] = [" // c\n", "\n/* b */\n", " /* i */ ", "\n\n// own\n\n", "\n/* two\n  lines */ "];
        let specs = shipped();
        let (_, text) = &specs[which % specs.len()];
        let toks = lex(text);
        let mut out = String::new();
        let mut cuts: Vec<(usize, usize)> = at.iter().map(|&(p, c)| (p % toks.len().max(1), c)).collect();
        cuts.sort();
        let mut next = cuts.iter().peekable();
        for (i, t) in toks.iter().enumerate() {
            let prev_dash = i > 0 && toks[i - 1].text(text) == "-";
            while let Some(&&(p, c)) = next.peek() {
                if p != i {
                    break;
                }
                next.next();
                // Not inside a dashed word, and not where a line comment's
                // line end would be swallowed.
                if t.text(text) != "-" && !prev_dash && !(i > 0 && matches!(toks[i - 1].kind, Kind::LineComment | Kind::DocComment)) {
                    out.push_str(COMMENTS[c]);
                }
            }
            out.push_str(t.text(text));
        }
        formatted(&out);
    }

    /// Arbitrary tokens: never a panic; what has no syntax error formats
    /// idempotently with its tokens unchanged, the rest stays as it was.
    #[test]
    fn token_soup(tokens in proptest::collection::vec((0..SOUP.len(), 0..4usize), 0..60)) {
        let mut src = String::from("driver d {\n");
        for (t, sep) in tokens {
            src.push_str(SOUP[t]);
            src.push_str([" ", "", "\n", "\n\n"][sep]);
        }
        let f = format_source(&src);
        if f.has_errors() {
            prop_assert_eq!(&f.text, &src);
        } else {
            formatted(&src);
        }
    }
}

const SOUP: &[&str] = &[
    "driver",
    "d",
    "{",
    "}",
    ";",
    "compatible",
    "\"a,b\"",
    ",",
    "cells",
    "1",
    "|",
    "field",
    "x",
    ":",
    "u8",
    "=",
    "cell",
    "[",
    "]",
    "0",
    "7",
    "else",
    "check",
    "<",
    "!",
    "(",
    ")",
    "-",
    "+",
    "id",
    "page-table",
    "arm-lpae-s1",
    "granule",
    "4K",
    "dma",
    "domain",
    "per-device",
    "init",
    "a",
    "::",
    "//",
    "///",
    "/*",
    "*/",
    "\n",
    "é",
];

#[test]
fn syntax_errors_leave_the_file_as_it_was() {
    let src = "driver d {\n  cells 1\n  init   a;\n}\n";
    let f = format_source(src);
    assert_eq!(f.text, src);
    assert!(
        f.errors.iter().any(|d| d.code == Code::Syntax),
        "{:?}",
        f.errors
    );
}

const MILLION: usize = 1_000_000;

#[test]
fn a_million_levels_deep_is_an_error_not_a_crash() {
    let parens = format!(
        "driver d {{ check {}a{}; }}",
        "(".repeat(MILLION),
        ")".repeat(MILLION)
    );
    let braces = format!("driver d {}", "{".repeat(MILLION));
    let nots = format!("driver d {{ check {}a; }}", "!".repeat(MILLION));
    for src in [parens, braces, nots] {
        let f = format_source(&src);
        assert!(f.has_errors());
        assert_eq!(f.text, src);
    }
}

/// A driver with a `compatible` list about `bytes` long on one line.
fn wide_driver(bytes: usize) -> String {
    let list: Vec<String> = (0..bytes / 12).map(|i| format!("\"v,{i:07}\"")).collect();
    format!(
        "driver d {{ compatible {}; cells 0; init a; }}",
        list.join(",")
    )
}

// Scaling is measured in `benches/format.rs` (a megabyte line, 1,000 and
// 10,000 drivers), not timed here.

#[test]
fn a_megabyte_line_formats() {
    let out = formatted(&wide_driver(1 << 20));
    // The list wraps at 100 columns: about a megabyte over many lines.
    assert!(out.len() > 1 << 20);
    assert!(out.lines().all(|l| l.len() <= 100));
    assert!(out.lines().count() > 10_000);
    assert_eq!(formatted(&out), out, "idempotent");
    // A megabyte comment line, too.
    let comment = format!(
        "// {}\ndriver d {{ cells 0; init a; }}",
        "x".repeat(1 << 20)
    );
    assert!(formatted(&comment).starts_with("// xxx"));
}

#[test]
fn many_drivers_format_like_one() {
    let (_, one) = &shipped()[2];
    let many = (0..1600)
        .map(|_| one.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    let f = format_source(&many);
    assert!(f.errors.is_empty() && f.kept.is_empty());
    let single = format_source(one).text;
    let want = (0..1600)
        .map(|_| single.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    assert_eq!(f.text, want);
}
