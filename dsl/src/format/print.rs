//! The layout of one top-level item (a driver, with everything inside it).
//!
//! The printer walks the item's tokens, comments included, and decides only
//! what goes between two of them: nothing, one space, a line end, or a line
//! end and one blank line. That choice depends on the tokens and on whether
//! the source had line ends between them, never on the spaces the source
//! had, so printing printed text again gives the same text.

use super::El;
use crate::lex::Kind;

/// What goes between two printed elements.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Sep {
    None,
    Space,
    /// A line end; `blank` adds one empty line.
    Line {
        blank: bool,
    },
}

/// Spaces per block level.
const INDENT: &str = "    ";

/// The column a statement wraps before, where it can.
const WIDTH: usize = 100;

/// Where the printer is in the item.
#[derive(Default)]
struct State {
    /// Open braces.
    depth: usize,
    /// A statement (or block header) has begun and not yet ended.
    in_stmt: bool,
    /// The current statement went on to a continuation line (a comment
    /// inside it forced a line end).
    cont: bool,
    /// The current statement is `check` or `id`: `-` subtracts (elsewhere
    /// it joins a dashed word such as `arm-lpae-s1`).
    expr: bool,
    /// The current statement is `child`: its `where` starts a continuation
    /// line (the compatible lists are long).
    child: bool,
    /// Open `[` in the current statement.
    brackets: usize,
    /// The current output line already ends a statement or brace.
    line_done: bool,
    /// A blank line may go before the next line (not right after `{`).
    blank_ok: bool,
    /// Characters on the current output line.
    col: usize,
}

/// Prints the elements `els` (of the source `src`) as one item, starting
/// at column 0 at the top level; no line end after the last element.
pub(super) fn item(src: &str, els: &[El]) -> String {
    let mut out = String::with_capacity(els.iter().map(|e| e.span.len() + 1).sum());
    let mut st = State::default();
    let mut prev: Option<&El> = None;
    let runs = runs(src, els);
    for (el, &run) in els.iter().zip(&runs) {
        let text = &src[el.span.clone()];
        let closes = el.kind == Kind::Punct && text == "}";
        if closes {
            st.depth = st.depth.saturating_sub(1);
        }
        let sep = match prev {
            None => Sep::None,
            Some(p) => separator(&st, src, p, el, closes, run),
        };
        match sep {
            Sep::None => {}
            Sep::Space => {
                out.push(' ');
                st.col += 1;
            }
            Sep::Line { blank } => {
                out.push('\n');
                if blank {
                    out.push('\n');
                }
                if st.in_stmt {
                    st.cont = true;
                }
                let levels = st.depth + usize::from(st.in_stmt && !closes);
                for _ in 0..levels {
                    out.push_str(INDENT);
                }
                st.col = levels * INDENT.len();
                st.line_done = false;
                st.blank_ok = true;
            }
        }
        out.push_str(text);
        st.col = match text.rfind('\n') {
            Some(i) => text.len() - i - 1,
            None => st.col + text.len(),
        };
        advance(&mut st, el.kind, text, closes);
        prev = Some(el);
    }
    out
}

/// The state after printing an element.
fn advance(st: &mut State, kind: Kind, text: &str, closes: bool) {
    if kind.is_comment() {
        return;
    }
    let end_stmt = |st: &mut State| {
        st.in_stmt = false;
        st.cont = false;
        st.expr = false;
        st.child = false;
        st.brackets = 0;
        st.line_done = true;
    };
    if closes || (kind == Kind::Punct && text == ";") {
        end_stmt(st);
        return;
    }
    if kind == Kind::Punct && text == "{" {
        end_stmt(st);
        st.depth += 1;
        st.blank_ok = false;
        return;
    }
    if !st.in_stmt {
        st.in_stmt = true;
        st.expr = kind == Kind::Ident && matches!(text, "check" | "id");
        st.child = kind == Kind::Ident && text == "child";
    }
    match (kind, text) {
        (Kind::Punct, "[") => st.brackets += 1,
        (Kind::Punct, "]") => st.brackets = st.brackets.saturating_sub(1),
        _ => {}
    }
}

/// Per element, the width of the text from it to the next place a line
/// may break (or the statement's end), counting a space between tokens.
fn runs(src: &str, els: &[El]) -> Vec<usize> {
    let mut out = vec![0; els.len()];
    let mut after = 0;
    for i in (0..els.len()).rev() {
        let text = &src[els[i].span.clone()];
        let ends = matches!(text, ";" | "{" | "}") || els[i].kind.is_comment();
        let breaks_after = els
            .get(i + 1)
            .is_some_and(|n| breakable(text, els[i].kind, &src[n.span.clone()], n.kind));
        out[i] = if ends || breaks_after || i + 1 == els.len() {
            text.len()
        } else {
            text.len() + 1 + after
        };
        after = out[i];
    }
    out
}

/// What goes between `p` and `n` (`closes`: `n` is a `}`; `run`: the width
/// from `n` to the next place to break).
fn separator(st: &State, src: &str, p: &El, n: &El, closes: bool, run: usize) -> Sep {
    let line = |blank: bool| Sep::Line {
        blank: blank && st.blank_ok && !st.in_stmt && n.newlines >= 2,
    };
    if matches!(p.kind, Kind::LineComment | Kind::DocComment) {
        // Ran to its line end.
        return line(!closes);
    }
    if closes {
        // An empty block stays `{}`.
        let empty = p.kind == Kind::Punct && &src[p.span.clone()] == "{";
        return if empty {
            Sep::None
        } else {
            Sep::Line { blank: false }
        };
    }
    let n_comment = n.kind.is_comment();
    if !st.in_stmt {
        // Between statements: a comment on the same line trails what is
        // before it; a block comment before a statement on its line stays.
        if n.newlines == 0 && (n_comment || !st.line_done) {
            return Sep::Space;
        }
        return line(true);
    }
    if n_comment {
        return if n.newlines > 0 {
            line(false)
        } else {
            Sep::Space
        };
    }
    if p.kind == Kind::BlockComment {
        return Sep::Space;
    }
    if st.child && n.kind == Kind::Ident && &src[n.span.clone()] == "where" {
        return Sep::Line { blank: false };
    }
    let next = &src[n.span.clone()];
    if st.col + 1 + run > WIDTH && breakable(&src[p.span.clone()], p.kind, next, n.kind) {
        // A statement past the width goes on to a continuation line at
        // its last place to break before the width (from the tokens and
        // their widths alone, so printing printed text changes nothing).
        return Sep::Line { blank: false };
    }
    if spaced(
        st,
        &src[p.span.clone()],
        p.kind,
        &src[n.span.clone()],
        n.kind,
    ) {
        Sep::Space
    } else {
        Sep::None
    }
}

/// Where a statement may go on to a continuation line: after a `,` (long
/// lists), and before `where`, `||` or `&&` (long conditions).
fn breakable(p: &str, pk: Kind, n: &str, nk: Kind) -> bool {
    (pk == Kind::Punct && p == ",")
        || (nk == Kind::Punct && matches!(n, "||" | "&&"))
        || (nk == Kind::Ident && n == "where")
}

/// Whether two code tokens of one statement have a space between them.
fn spaced(st: &State, p: &str, pk: Kind, n: &str, nk: Kind) -> bool {
    let p_punct = |s: &[&str]| pk == Kind::Punct && s.contains(&p);
    let n_punct = |s: &[&str]| nk == Kind::Punct && s.contains(&n);
    if n_punct(&[";", ",", ")", "]", "[", "::", ".."]) || p_punct(&["(", "[", "!", "::", ".."]) {
        return false;
    }
    if st.brackets > 0 {
        // Bit selections and indexes: `[15:0]`, `cell[0]`.
        return false;
    }
    if p_punct(&["-"]) || n_punct(&["-"]) {
        return st.expr;
    }
    // `name: type`.
    !n_punct(&[":"])
}
