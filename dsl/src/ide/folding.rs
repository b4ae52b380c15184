//! Foldable regions: each driver, each block inside one, and each run of
//! two or more comment lines (license headers, binding notes).

use crate::ast::{ItemKind, SpecAst};
use crate::ir::Span;
use crate::lex::{self, Kind};

/// What a region holds (editors fold comments differently).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FoldKind {
    Region,
    Comment,
}

/// Byte spans to fold, in source order of their starts; the server drops
/// those that begin and end on one line.
pub fn ranges(source: &str, spec: &SpecAst) -> Vec<(Span, FoldKind)> {
    let mut out = Vec::new();
    for d in &spec.drivers {
        out.push((d.span.clone(), FoldKind::Region));
        for i in &d.items {
            if matches!(i.kind, ItemKind::PageTable(_) | ItemKind::Dma(_)) {
                out.push((i.span.clone(), FoldKind::Region));
            }
        }
    }
    // Comment tokens on consecutive lines (a blank line ends a run).
    let mut run: Option<(Span, usize)> = None;
    let mut newlines = 0;
    for t in lex::tokens(source) {
        match t.kind {
            k if k.is_comment() => {
                run = Some(match run.take() {
                    Some((s, n)) => (s.start..t.span.end, n + 1),
                    None => (t.span.clone(), 1),
                });
                newlines = 0;
            }
            Kind::Space => {}
            Kind::Newline if newlines == 0 => newlines = 1,
            _ => {
                if let Some((span, n)) = run.take() {
                    if n > 1 {
                        out.push((span, FoldKind::Comment));
                    }
                }
                newlines = 0;
            }
        }
    }
    if let Some((span, n)) = run {
        if n > 1 {
            out.push((span, FoldKind::Comment));
        }
    }
    out.sort_by_key(|(s, _)| s.start);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drivers_blocks_and_comment_runs() {
        let src = "// a\n// b\ndriver d {\n  dma {\n    domain per-device;\n  }\n}\n// lone\n";
        let (spec, _) = crate::parse::parse(src);
        let got: Vec<_> = ranges(src, &spec)
            .into_iter()
            .map(|(s, k)| (&src[s], k))
            .collect();
        assert_eq!(got[0], ("// a\n// b", FoldKind::Comment));
        assert!(got[1].0.starts_with("driver d {") && got[1].0.ends_with('}'));
        assert!(got[2].0.starts_with("dma {"));
        assert_eq!(got.len(), 3, "one comment line folds nothing");
    }
}
