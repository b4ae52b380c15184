//! `child "COMPAT", … where FIELD == KEY else KEY …;`: the specifier must
//! name a child node of the IOMMU node that exists.
//!
//! Qualcomm's `qcom_iommu` keeps each context bank as a child node; the
//! specifier's cell is the bank's number, which Linux derives from the
//! child (its `qcom,ctx-asid`, else its `reg` offset / 0x1000), and its
//! `of_xlate` refuses a number no probed bank has. The key sources are
//! properties of the child, read with the same bit selections as a field's.

use super::fields::{self, FieldInfo};
use crate::ast::*;
use crate::diag::{Code, Diagnostic};
use crate::ir;

pub(super) fn children(
    d: &DriverAst,
    fields: &[FieldInfo<'_>],
    diags: &mut Vec<Diagnostic>,
) -> Vec<ir::ChildMatch> {
    d.items
        .iter()
        .filter_map(|item| match &item.kind {
            ItemKind::Child(c) => child(c, item.span.clone(), fields, diags),
            _ => None,
        })
        .collect()
}

fn child(
    c: &ChildAst,
    span: Span,
    fields: &[FieldInfo<'_>],
    diags: &mut Vec<Diagnostic>,
) -> Option<ir::ChildMatch> {
    let errors = diags.len();
    let field = match fields.iter().position(|f| f.name.name == c.field.name) {
        Some(i) => Some(i).filter(|&i| fields[i].parsed),
        None => {
            diags.push(fields::unknown_field(&c.field, fields));
            None
        }
    };
    let mut key = Vec::with_capacity(c.key.len());
    for s in &c.key {
        let SourceBase::Property(_) = &s.base else {
            diags.push(not_a_property(s));
            continue;
        };
        // A key is compared whole, so any 32-bit selection fits.
        if let Some(ir::Source::Property { name, bits, span }) =
            fields::source(s, &c.field.name, 32, None, diags)
        {
            key.push(ir::ChildKey {
                property: name,
                bits,
                span,
            });
        }
    }
    if diags.len() > errors || c.compatibles.is_empty() || key.len() != c.key.len() {
        return None;
    }
    Some(ir::ChildMatch {
        compatibles: c.compatibles.iter().map(|s| s.value.clone()).collect(),
        field: field?,
        key,
        text: text(c),
        span,
    })
}

fn not_a_property(s: &SourceAst) -> Diagnostic {
    let what = match &s.base {
        SourceBase::Cell(_) => "a specifier cell",
        SourceBase::Const(_) => "a constant",
        _ => "not a property of the child",
    };
    Diagnostic::new(
        Code::ChildKeyNotProperty,
        format!("a child node's key is read from the child; this is {what}"),
        s.span.clone(),
        "not a property of the child",
    )
    .help("name a property of the child node, e.g. `property \"reg\" >> 12`")
}

/// The statement after `child` (no `;`), for refusals: `"a", "b" where f
/// == property "p"[7:0] >> 1 & 0xf else …`.
fn text(c: &ChildAst) -> String {
    let mut out = String::new();
    for (i, s) in c.compatibles.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        quote(&s.value, &mut out);
    }
    out.push_str(" where ");
    out.push_str(&c.field.name);
    out.push_str(" ==");
    for (i, s) in c.key.iter().enumerate() {
        out.push_str(if i == 0 { " " } else { " else " });
        if let SourceBase::Property(p) = &s.base {
            out.push_str("property ");
            quote(&p.value, &mut out);
        }
        if let Some(b) = &s.bits {
            out.push_str(&match &b.lo {
                Some(lo) => format!("[{}:{}]", b.hi.value, lo.value),
                None => format!("[{}]", b.hi.value),
            });
        }
        if let Some(n) = &s.shr {
            out.push_str(&format!(" >> {}", n.value));
        }
        if let Some(n) = &s.mask {
            out.push_str(&format!(" & {:#x}", n.value));
        }
    }
    out
}

fn quote(s: &str, out: &mut String) {
    out.push('"');
    for ch in s.chars() {
        if matches!(ch, '"' | '\\') {
            out.push('\\');
        }
        out.push(ch);
    }
    out.push('"');
}
