//! Definition and references of fields: a field is declared once
//! (`field NAME: …`) and used by name in `check` and `id` expressions,
//! `child` and `master same`.
//! The base a driver `extends` leads to that driver's name.

use crate::ast::{DriverAst, ExprAst, Ident, ItemKind, ProbeAst, SpecAst};
use crate::ir::Span;

use super::{driver_at, touches};

/// Where the field under `offset` is declared (on a use or on the
/// declaration itself).
pub fn definition(spec: &SpecAst, offset: usize) -> Option<Span> {
    if let Some(base) = base_definition(spec, offset) {
        return Some(base);
    }
    let (d, name) = field_under(spec, offset)?;
    declaration(d, &name).map(|i| i.span.clone())
}

/// On the `BASE` of `driver NAME extends BASE`: the name of the first
/// driver called BASE above it (the one the checker takes).
fn base_definition(spec: &SpecAst, offset: usize) -> Option<Span> {
    let at = spec
        .drivers
        .iter()
        .position(|d| d.extends.as_ref().is_some_and(|b| touches(&b.span, offset)))?;
    let base = spec.drivers[at].extends.as_ref()?;
    spec.drivers[..at]
        .iter()
        .find(|d| d.name.name == base.name)
        .map(|d| d.name.span.clone())
}

/// Every use of the field under `offset` in `check` and `id` expressions,
/// in source order, its declaration first if `with_declaration`.
pub fn references(spec: &SpecAst, offset: usize, with_declaration: bool) -> Vec<Span> {
    let Some((d, name)) = field_under(spec, offset) else {
        return Vec::new();
    };
    let mut out: Vec<Span> = Vec::new();
    if with_declaration {
        out.extend(declaration(d, &name).map(|i| i.span.clone()));
    }
    out.extend(uses(d).filter(|i| i.name == name).map(|i| i.span.clone()));
    out
}

/// The driver and field name whose declaration or use touches `offset`.
fn field_under(spec: &SpecAst, offset: usize) -> Option<(&DriverAst, String)> {
    let d = driver_at(spec, offset)?;
    let declared = d.items.iter().find_map(|i| match &i.kind {
        ItemKind::Field(f) if touches(&f.name.span, offset) => Some(f.name.name.clone()),
        _ => None,
    });
    let name = declared.or_else(|| {
        uses(d)
            .find(|i| touches(&i.span, offset))
            .map(|i| i.name.clone())
    })?;
    declaration(d, &name)?;
    Some((d, name))
}

fn declaration<'d>(d: &'d DriverAst, name: &str) -> Option<&'d Ident> {
    d.items.iter().find_map(|i| match &i.kind {
        ItemKind::Field(f) if f.name.name == name => Some(&f.name),
        _ => None,
    })
}

/// Every name in the driver's `check` and `id` expressions, the field
/// of each `child` and of `master same`, in source order. An explicit stack: expressions are shallow (the parser's limit)
/// but no pass over one recurses.
fn uses(d: &DriverAst) -> impl Iterator<Item = &Ident> {
    let mut names = Vec::new();
    for item in &d.items {
        let e = match &item.kind {
            ItemKind::Check(e) | ItemKind::Id(e) => e,
            ItemKind::Child(c) => {
                names.push(&c.field);
                continue;
            }
            ItemKind::Probe(ProbeAst::Same(f)) => {
                names.push(f);
                continue;
            }
            _ => continue,
        };
        let mut todo = vec![e];
        while let Some(e) = todo.pop() {
            match e {
                ExprAst::Name(i) => names.push(i),
                ExprAst::Lit(_) => {}
                ExprAst::Not(inner, _) => todo.push(inner),
                ExprAst::Binary(_, l, r, _) => {
                    todo.push(r);
                    todo.push(l);
                }
            }
        }
    }
    names.into_iter()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: &str = "driver d {\n    field sid: u16 = cell[0];\n    field m: u8 = 0;\n    check sid < 8 && !(sid == 3);\n    id = m << 16 | sid;\n}\n";

    fn spec() -> SpecAst {
        crate::parse::parse(SRC).0
    }

    fn texts(spans: &[Span]) -> Vec<(usize, &'static str)> {
        spans.iter().map(|s| (s.start, &SRC[s.clone()])).collect()
    }

    #[test]
    fn a_base_leads_to_its_driver() {
        let src = "driver a { cells 1; }\ndriver b extends a { compatible \"x\"; }\ndriver c extends z { }\n";
        let spec = crate::parse::parse(src).0;
        let def = definition(&spec, src.find("extends a").unwrap() + 8).unwrap();
        assert_eq!(def, 7..8);
        // A base no driver above is called: nowhere to go.
        assert_eq!(definition(&spec, src.find("extends z").unwrap() + 8), None);
    }

    #[test]
    fn master_same_is_a_use() {
        let src =
            "driver d {\n    field larb: u5 = cell[0];\n    id = larb;\n    master same larb;\n}\n";
        let spec = crate::parse::parse(src).0;
        let at = src.find("same larb").unwrap() + 6;
        assert_eq!(
            definition(&spec, at).unwrap().start,
            src.find("larb:").unwrap()
        );
        assert_eq!(references(&spec, at, true).len(), 3);
    }

    #[test]
    fn a_use_leads_to_its_declaration() {
        let at = SRC.find("sid <").unwrap() + 2;
        let def = definition(&spec(), at).unwrap();
        assert_eq!(def.start, SRC.find("sid:").unwrap());
        assert_eq!(definition(&spec(), SRC.find("16 |").unwrap()), None);
    }

    #[test]
    fn references_from_a_use_and_from_the_declaration() {
        let from_use = references(&spec(), SRC.find("| sid").unwrap() + 3, true);
        let from_decl = references(&spec(), SRC.find("sid:").unwrap(), true);
        assert_eq!(from_use, from_decl);
        let t = texts(&from_use);
        assert_eq!(t.len(), 4, "{t:?}");
        assert!(t.iter().all(|(_, s)| *s == "sid"));
        assert_eq!(
            references(&spec(), SRC.find("m <<").unwrap(), false).len(),
            1
        );
    }
}
