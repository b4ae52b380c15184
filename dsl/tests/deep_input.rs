//! Expressions nested past the language's limit (`depth::MAX_EXPR_DEPTH`)
//! get one located error, in linear time and on the default 2 MiB test
//! thread stack, through the fast reader, the pest path and the checker;
//! trees built through the AST API are refused by the checker and freed
//! without recursion.

use iommugen_dsl::ast::*;
use iommugen_dsl::check::check_ast;
use iommugen_dsl::depth::MAX_EXPR_DEPTH;
use iommugen_dsl::parse::{parse, parse_pest_only};
use iommugen_dsl::{check_source, ir, Code};

const MILLION: usize = 1_000_000;

/// A driver that checks clean with `STMT` in place of its `check`.
fn driver_with(stmt: &str) -> String {
    format!(
        "driver d {{\n    compatible \"v,i\";\n    cells 1;\n    field a: u16 = cell[0][15:0];\n    id = a;\n    {stmt}\n    page-table arm-lpae-s1 {{ granule 4K; ias 48; oas 48; pool 64; }}\n    init crate::d::probe;\n}}\n"
    )
}

fn parens(n: usize) -> String {
    format!("check {}a{};", "(".repeat(n), ")".repeat(n))
}
fn nots(n: usize) -> String {
    format!("check {}a;", "!".repeat(n))
}
fn chain(n: usize) -> String {
    format!("check a{};", " + a".repeat(n))
}

/// Each shape, nested `n` deep, with the byte offset (in its statement) of
/// the token where level `MAX_EXPR_DEPTH + 1` starts.
fn shapes(n: usize) -> [(&'static str, String, usize); 3] {
    let m = MAX_EXPR_DEPTH;
    [
        ("parens", parens(n), 6 + m),
        ("nots", nots(n), 6 + m),
        ("chain", chain(n), 7 + 4 * m + 1),
    ]
}

#[test]
fn each_shape_at_the_limit_checks_clean_on_both_paths() {
    for (name, stmt, _) in shapes(MAX_EXPR_DEPTH) {
        let src = driver_with(&stmt);
        let checked = check_source("t", &src);
        assert!(!checked.has_errors(), "{name}: {:?}", checked.diagnostics);
        assert_eq!(parse(&src), parse_pest_only(&src), "{name}");
    }
}

#[test]
fn a_million_levels_of_each_shape_is_one_located_error() {
    for (name, stmt, at) in shapes(MILLION) {
        let src = driver_with(&stmt);
        let stmt_start = src.find("check").unwrap();
        let checked = check_source("t", &src);
        let codes: Vec<Code> = checked.diagnostics.iter().map(|d| d.code).collect();
        assert_eq!(codes, [Code::TooDeep], "{name}");
        let span = checked.diagnostics[0].primary_span().unwrap();
        assert_eq!(span.start, stmt_start + at, "{name}");
        assert_eq!(span.len(), 1, "{name}");
        // The pest path reports the same thing at the same place.
        assert_eq!(parse(&src).1, parse_pest_only(&src).1, "{name}");
    }
}

#[test]
fn one_past_the_limit_is_refused_at_the_same_token() {
    for (name, stmt, at) in shapes(MAX_EXPR_DEPTH + 1) {
        let src = driver_with(&stmt);
        let checked = check_source("t", &src);
        let span = checked.diagnostics[0].primary_span().unwrap();
        assert_eq!(checked.diagnostics[0].code, Code::TooDeep, "{name}");
        assert_eq!(span.start - src.find("check").unwrap(), at, "{name}");
    }
}

#[test]
fn a_deep_id_is_refused_without_a_missing_id_error() {
    let src = driver_with("").replace("id = a;", &format!("id = {}a;", "(".repeat(MILLION)));
    let checked = check_source("t", &src);
    let codes: Vec<Code> = checked.diagnostics.iter().map(|d| d.code).collect();
    assert_eq!(codes, [Code::TooDeep]);
}

#[test]
fn precedence_levels_inside_parentheses_count_too() {
    // Each group is a `(`, an `||` and an `&&` deep.
    let groups = MAX_EXPR_DEPTH / 3 + 1;
    let stmt = format!(
        "check {}a{};",
        "(a || a && ".repeat(groups),
        ")".repeat(groups)
    );
    let src = driver_with(&stmt);
    let codes: Vec<Code> = check_source("t", &src)
        .diagnostics
        .iter()
        .map(|d| d.code)
        .collect();
    assert_eq!(codes, [Code::TooDeep]);
    assert_eq!(parse(&src), parse_pest_only(&src));
}

fn leaf() -> ExprAst {
    ExprAst::Lit(Num {
        value: 1,
        span: 0..1,
    })
}

/// A tree the parser would never build, a million levels deep, built
/// without recursion; node `i` from the bottom has span `i..i + 1`.
fn deep_tree(shape: &str) -> ExprAst {
    let mut e = leaf();
    for i in 0..MILLION {
        e = match shape {
            "not" => ExprAst::Not(Box::new(e), i..i + 1),
            "left" => ExprAst::Binary(BinOp::Add, Box::new(e), Box::new(leaf()), i..i + 1),
            _ => ExprAst::Binary(BinOp::BitOr, Box::new(leaf()), Box::new(e), i..i + 1),
        };
    }
    e
}

fn item(kind: ItemKind) -> Item {
    Item {
        kind,
        keyword: 0..0,
        span: 0..0,
    }
}

#[test]
fn the_checker_refuses_deep_trees_from_the_ast_api() {
    let (base, _) = parse(&driver_with(""));
    for (shape, as_id) in [("not", false), ("left", false), ("right", true)] {
        let mut spec = base.clone();
        let d = &mut spec.drivers[0];
        let tree = deep_tree(shape);
        d.items.push(item(if as_id {
            ItemKind::Id(tree)
        } else {
            ItemKind::Check(tree)
        }));
        let checked = check_ast(&spec);
        let codes: Vec<Code> = checked.diagnostics.iter().map(|d| d.code).collect();
        assert_eq!(codes, [Code::TooDeep], "{shape}");
        // The label is on the first node, depth first, at level
        // MAX_EXPR_DEPTH + 1 below the root (span MILLION - 1): on the left
        // spine for `!` and a left chain, the leaf there for the right chain.
        let span = checked.diagnostics[0].primary_span().unwrap();
        let want = MILLION - 1 - (MAX_EXPR_DEPTH + 1);
        let want = if shape == "right" {
            0..1
        } else {
            want..want + 1
        };
        assert_eq!(span, want, "{shape}");
        // `spec`, holding a million-level tree, drops here.
    }
}

#[test]
fn a_million_level_ir_expression_drops_without_recursion() {
    let mut e = ir::Expr::Field(0);
    for _ in 0..MILLION {
        e = ir::Expr::Binary(BinOp::Add, Box::new(e), Box::new(ir::Expr::Lit(1)));
    }
    assert!(iommugen_dsl::depth::ir_too_deep(&e));
    let mut n = ir::Expr::Lit(0);
    for _ in 0..MAX_EXPR_DEPTH {
        n = ir::Expr::Not(Box::new(n));
    }
    assert!(!iommugen_dsl::depth::ir_too_deep(&n));
    drop(e);
}

/// A wide but shallow condition (a balanced tree of 2^18 names, 1.5 MB
/// on one line, 36 levels) is within the limit and checks.
#[test]
fn a_megabyte_balanced_expression_is_within_the_limit() {
    let mut e = "a".to_owned();
    for _ in 0..18 {
        e = format!("({e} + {e})");
    }
    assert!(e.len() > 1 << 20);
    let src = driver_with(&format!("check {e} > 0;"));
    let checked = check_source("t", &src);
    assert!(!checked.has_errors(), "{:?}", checked.diagnostics);
    assert_eq!(checked.spec.unwrap().drivers[0].checks.len(), 1);
}
