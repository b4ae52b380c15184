//! The outline of a spec: drivers, their statements, and the statements of
//! their blocks (what an editor shows as document symbols).

use crate::ast::{ItemKind, SpecAst};
use crate::ir::Span;

/// What a symbol stands for (the server maps these to its protocol's kinds).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SymbolKind {
    Driver,
    Field,
    /// A block: `page-table`, `requests`, `dma`.
    Block,
    /// Any other statement (`compatible`, `cells`, `check`, ...).
    Statement,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Symbol {
    pub name: String,
    /// A short description: a field's type, a block's format.
    pub detail: Option<String>,
    pub kind: SymbolKind,
    /// The whole text of the symbol.
    pub span: Span,
    /// The part to select when jumping to it (the name).
    pub selection: Span,
    pub children: Vec<Symbol>,
}

/// Symbols of every driver the parser read, in source order.
pub fn symbols(spec: &SpecAst) -> Vec<Symbol> {
    spec.drivers
        .iter()
        .map(|d| Symbol {
            name: d.name.name.clone(),
            detail: Some("driver".to_owned()),
            kind: SymbolKind::Driver,
            span: d.span.clone(),
            selection: d.name.span.clone(),
            children: d.items.iter().map(item).collect(),
        })
        .collect()
}

fn item(i: &crate::ast::Item) -> Symbol {
    let plain = |kind| Symbol {
        name: i.kind.keyword().to_owned(),
        detail: None,
        kind,
        span: i.span.clone(),
        selection: i.keyword.clone(),
        children: Vec::new(),
    };
    match &i.kind {
        ItemKind::Field(f) => Symbol {
            name: f.name.name.clone(),
            detail: Some(format!("u{}", f.width.value)),
            kind: SymbolKind::Field,
            span: i.span.clone(),
            selection: f.name.span.clone(),
            children: Vec::new(),
        },
        ItemKind::PageTable(pt) => Symbol {
            detail: Some(pt.format.name.clone()),
            children: pt
                .items
                .iter()
                .map(|p| Symbol {
                    name: p.kind.keyword().to_owned(),
                    detail: None,
                    kind: SymbolKind::Statement,
                    span: p.span.clone(),
                    selection: p.keyword.clone(),
                    children: Vec::new(),
                })
                .collect(),
            ..plain(SymbolKind::Block)
        },
        ItemKind::Dma(items) => Symbol {
            children: items
                .iter()
                .map(|p| Symbol {
                    name: p.kind.keyword().to_owned(),
                    detail: None,
                    kind: SymbolKind::Statement,
                    span: p.span.clone(),
                    selection: p.keyword.clone(),
                    children: Vec::new(),
                })
                .collect(),
            ..plain(SymbolKind::Block)
        },
        _ => plain(SymbolKind::Statement),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drivers_fields_and_blocks() {
        let src = "driver d {\n  cells 1;\n  field s: u8 = cell[0];\n  page-table arm-lpae-s1 { granule 4K; }\n  dma { domain per-device; }\n}\n";
        let (spec, _) = crate::parse::parse(src);
        let syms = symbols(&spec);
        assert_eq!(syms.len(), 1);
        let d = &syms[0];
        assert_eq!((d.name.as_str(), &src[d.selection.clone()]), ("d", "d"));
        let names: Vec<_> = d
            .children
            .iter()
            .map(|c| (c.name.as_str(), c.kind))
            .collect();
        assert_eq!(
            names,
            [
                ("cells", SymbolKind::Statement),
                ("s", SymbolKind::Field),
                ("page-table", SymbolKind::Block),
                ("dma", SymbolKind::Block)
            ]
        );
        assert_eq!(d.children[1].detail.as_deref(), Some("u8"));
        assert_eq!(d.children[2].detail.as_deref(), Some("arm-lpae-s1"));
        assert_eq!(d.children[2].children[0].name, "granule");
        assert_eq!(d.children[3].children[0].name, "domain");
    }
}
