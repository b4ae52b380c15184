//! The items of a `page-table` or `requests` block, once each: repeats,
//! missing required items and items the format does not have are reported
//! here, so each format's checker only judges values.

use super::repeated;
use crate::ast::*;
use crate::diag::{Code, Diagnostic};

/// A block's items, first occurrence of each keyword.
pub(super) struct Items<'a> {
    pt: &'a PageTableAst,
    seen: Vec<&'a PtItem>,
}

impl<'a> Items<'a> {
    /// Reports repeats and every item outside `allowed` (which `what`, e.g.
    /// "the `arm-v7s` format", does not have).
    pub fn new(
        pt: &'a PageTableAst,
        allowed: &[&str],
        what: &str,
        diags: &mut Vec<Diagnostic>,
    ) -> Self {
        let mut seen: Vec<&PtItem> = Vec::with_capacity(pt.items.len());
        for item in &pt.items {
            let kw = item.kind.keyword();
            if let Some(first) = seen.iter().find(|s| s.kind.keyword() == kw) {
                diags.push(repeated(kw, item.keyword.clone(), first.keyword.clone()));
            } else if !allowed.contains(&kw) {
                diags.push(
                    Diagnostic::new(
                        Code::ItemNotInFormat,
                        format!("{what} has no `{kw}`"),
                        item.span.clone(),
                        "not a parameter here",
                    )
                    .help(format!("its items are: {}", allowed.join(", "))),
                );
            } else {
                seen.push(item);
            }
        }
        Items { pt, seen }
    }

    pub fn find(&self, kw: &str) -> Option<&'a PtKind> {
        self.seen
            .iter()
            .find(|i| i.kind.keyword() == kw)
            .map(|i| &i.kind)
    }

    /// The item, or a "missing" error at the block's name.
    pub fn need(&self, kw: &str, example: &str, diags: &mut Vec<Diagnostic>) -> Option<&'a PtKind> {
        let k = self.find(kw);
        if k.is_none() {
            let block = if self.pt.requests {
                "requests"
            } else {
                "page-table"
            };
            diags.push(
                Diagnostic::new(
                    Code::MissingItem,
                    format!("`{block}` has no `{kw}`"),
                    self.pt.format.span.clone(),
                    format!("`{kw}` missing in this block"),
                )
                .help(format!("add `{example}` inside the braces")),
            );
        }
        k
    }

    /// The number of `kw` (an `ias`, `oas`, `pool` or `version` item).
    pub fn num(&self, kw: &str) -> Option<&'a Num> {
        match self.find(kw)? {
            PtKind::Ias(n) | PtKind::Oas(n) | PtKind::Pool(n) | PtKind::Version(n) => Some(n),
            PtKind::Granule(n) => Some(n),
            _ => None,
        }
    }
}

/// A located error on the value `n`.
pub(super) fn bad(code: Code, n: &Num, msg: String, label: &str, help: String) -> Diagnostic {
    Diagnostic::new(code, msg, n.span.clone(), label).help(help)
}
