//! `dma { }`: the domain policy and the default IOVA aperture, inside the
//! translation's input range.

use super::geometry::size_text;
use super::{errors_since, repeated};
use crate::ast::*;
use crate::diag::{Code, Diagnostic};
use crate::ir;
use crate::parse::suggest;

/// The whole input range but the first page (so that IOVA 0 is never handed
/// out).
pub(super) fn default_dma(pt: &ir::Translation, span: Span) -> ir::DmaPolicy {
    let g = pt.granule().bytes();
    ir::DmaPolicy {
        domain: ir::DomainPolicy::PerInstance,
        aperture_base: g,
        aperture_size: input_end(pt.ias()) - g + 1,
        span,
    }
}

pub(super) fn dma(
    items: &[DmaItem],
    span: Span,
    pt: Option<&ir::Translation>,
    diags: &mut Vec<Diagnostic>,
) -> Option<ir::DmaPolicy> {
    let mark = diags.len();
    let mut seen: Vec<&DmaItem> = Vec::with_capacity(items.len());
    for item in items {
        if let Some(first) = seen
            .iter()
            .find(|s| s.kind.keyword() == item.kind.keyword())
        {
            diags.push(repeated(
                item.kind.keyword(),
                item.keyword.clone(),
                first.keyword.clone(),
            ));
        } else {
            seen.push(item);
        }
    }
    let mut policy = pt.map(|pt| default_dma(pt, span.clone()));
    for item in seen {
        match &item.kind {
            DmaKind::Domain(v) => match v.name.as_str() {
                "per-instance" => {
                    if let Some(p) = policy.as_mut() {
                        p.domain = ir::DomainPolicy::PerInstance;
                    }
                }
                "per-device" => {
                    if let Some(p) = policy.as_mut() {
                        p.domain = ir::DomainPolicy::PerDevice;
                    }
                }
                other => {
                    let help = match suggest(other, &["per-instance", "per-device"]) {
                        Some(s) => format!("did you mean `{s}`?"),
                        None => "use `per-instance` (one domain per IOMMU, shared by its masters) or `per-device` (isolation)".to_owned(),
                    };
                    diags.push(
                        Diagnostic::new(
                            Code::UnknownDomainPolicy,
                            format!("unknown domain policy `{other}`"),
                            v.span.clone(),
                            "not a policy",
                        )
                        .help(help),
                    );
                }
            },
            DmaKind::Aperture { start, end } => {
                // Without a valid page table the input range is unknown.
                let Some(pt) = pt else { continue };
                let (g, ias) = (pt.granule().bytes(), pt.ias());
                // The last input address; a 64-bit range has no end in u64.
                let last = input_end(ias);
                let problem = if start.value >= end.value {
                    Some(format!(
                        "aperture {:#x}..{:#x} is empty",
                        start.value, end.value
                    ))
                } else if start.value % g != 0 || end.value % g != 0 {
                    Some(format!(
                        "aperture {:#x}..{:#x} is not aligned to the {} granule",
                        start.value,
                        end.value,
                        size_text(g)
                    ))
                } else if end.value - 1 > last {
                    Some(format!(
                        "aperture ends at {:#x}, beyond the {ias}-bit input range (which ends at {:#x})",
                        end.value,
                        u128::from(last) + 1
                    ))
                } else {
                    None
                };
                match problem {
                    Some(msg) => diags.push(
                        Diagnostic::new(Code::BadAperture, msg, start.span.start..end.span.end, "IOVA aperture")
                            .help("write `aperture START..END;`, half-open, granule-aligned, inside `ias`"),
                    ),
                    None => {
                        if let Some(p) = policy.as_mut() {
                            p.aperture_base = start.value;
                            p.aperture_size = end.value - start.value;
                        }
                    }
                }
            }
        }
    }
    if errors_since(diags, mark) {
        return None;
    }
    policy
}

/// The last address of a `ias`-bit input range (`ias` in 1..=64).
fn input_end(ias: u8) -> u64 {
    u64::MAX >> (64 - u32::from(ias.clamp(1, 64)))
}
