//! `master one instance;` and `master same FIELD;`: the probe policy,
//! rules over all of a master's specifiers (Linux's `probe_device`).
//!
//! `same` is checked on the master's IDs, not on its specifiers, as
//! Linux's `mtk_iommu_probe_device` reads the larb back out of each fwspec
//! ID: so FIELD must be packed into the IDs, at one place in all of them.

use super::fields::{self, FieldInfo};
use crate::ast::*;
use crate::diag::{Code, Diagnostic};
use crate::ir;

/// The driver's probe policy; problems are reported into `diags`.
pub(super) fn policy(
    d: &DriverAst,
    fields: &[FieldInfo<'_>],
    ids: &[ir::IdPacking],
    diags: &mut Vec<Diagnostic>,
) -> ir::ProbePolicy {
    let mut policy = ir::ProbePolicy::default();
    let mut first_one: Option<&Item> = None;
    let mut first_same: Option<&Item> = None;
    for item in &d.items {
        let ItemKind::Probe(p) = &item.kind else {
            continue;
        };
        match p {
            ProbeAst::OneInstance => {
                if let Some(first) = first_one {
                    diags.push(repeated("master one instance", item, first));
                    continue;
                }
                first_one = Some(item);
                policy.one_instance = Some(item.span.clone());
            }
            ProbeAst::Same(name) => {
                if let Some(first) = first_same {
                    diags.push(repeated("master same", item, first));
                    continue;
                }
                first_same = Some(item);
                policy.same = same(name, item.span.clone(), fields, ids, diags);
            }
        }
    }
    policy
}

fn repeated(what: &str, again: &Item, first: &Item) -> Diagnostic {
    Diagnostic::new(
        Code::ProbeRepeated,
        format!("`{what}` is given more than once"),
        again.span.clone(),
        "repeated here",
    )
    .secondary(first.span.clone(), "first given here")
    .help(format!(
        "keep one `{what}`: a master is refused by the first rule it breaks"
    ))
}

fn same(
    name: &Ident,
    span: Span,
    fields: &[FieldInfo<'_>],
    ids: &[ir::IdPacking],
    diags: &mut Vec<Diagnostic>,
) -> Option<ir::SameField> {
    let Some(index) = fields.iter().position(|f| f.name.name == name.name) else {
        let mut d = fields::unknown_field(name, fields);
        d.code = Code::ProbeUnknownField;
        diags.push(d);
        return None;
    };
    let info = &fields[index];
    if !info.parsed {
        return None;
    }
    // Where the field sits in each ID; the rule reads it back from there.
    let mut shift: Option<u8> = None;
    for id in ids {
        let at = id.parts.iter().find(|p| p.field == index).map(|p| p.shift);
        match (at, shift) {
            (None, _) => {
                diags.push(not_in_id(
                    name,
                    Some(&id.span),
                    "is not packed into this ID",
                ));
                return None;
            }
            (Some(s), Some(before)) if s != before => {
                diags.push(not_in_id(
                    name,
                    Some(&id.span),
                    &format!("sits at bit {s} here, at bit {before} in an ID above"),
                ));
                return None;
            }
            (Some(s), _) => shift = Some(s),
        }
    }
    let Some(shift) = shift else {
        diags.push(not_in_id(name, None, "the driver packs no ID"));
        return None;
    };
    Some(ir::SameField {
        field: index,
        name: name.name.clone(),
        shift,
        width: info.width,
        span,
    })
}

fn not_in_id(name: &Ident, id: Option<&Span>, why: &str) -> Diagnostic {
    let d = Diagnostic::new(
        Code::ProbeFieldNotInId,
        format!("`master same {}`: the field {why}", name.name),
        name.span.clone(),
        "compared in every ID",
    )
    .help(format!(
        "the rule reads `{0}` back out of the master's IDs, as Linux's mtk_iommu_probe_device reads the larb: pack it into every `id` at one place (`id = {0} << 5 | ...;`)",
        name.name
    ));
    match id {
        Some(s) => d.secondary(s.clone(), "this `id`"),
        None => d,
    }
}
