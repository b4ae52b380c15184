//! `dma { }`: the domain policy, the default IOVA aperture (inside the
//! translation's input range), the driver's groups and its default domain.

use super::fields::{condition, FieldInfo};
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
        groups: Vec::new(),
        identity_default: false,
        identity_compatibles: Vec::new(),
        shared_domains: false,
        span,
    }
}

pub(super) fn dma(
    items: &[DmaItem],
    span: Span,
    pt: Option<&ir::Translation>,
    fields: &[FieldInfo<'_>],
    diags: &mut Vec<Diagnostic>,
) -> Option<ir::DmaPolicy> {
    let mark = diags.len();
    let mut seen: Vec<&DmaItem> = Vec::with_capacity(items.len());
    let mut groups: Vec<ir::DomainGroup> = Vec::new();
    let mut group_names: Vec<&Ident> = Vec::new();
    // Groups first, so that `domain per-group` may come before them.
    for item in items {
        if matches!(item.kind, DmaKind::Group { .. }) {
            group(item, pt, fields, &mut group_names, &mut groups, diags);
        }
    }
    for item in items
        .iter()
        .filter(|i| !matches!(i.kind, DmaKind::Group { .. }))
    {
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
                "per-group" => {
                    if group_names.is_empty() {
                        diags.push(
                            Diagnostic::new(
                                Code::PerGroupWithoutGroups,
                                "`domain per-group` but the driver has no group",
                                v.span.clone(),
                                "no group to attach to",
                            )
                            .help("declare one, e.g. `group display where larb == 0;`, or use `per-instance`"),
                        );
                    } else if let Some(p) = policy.as_mut() {
                        p.domain = ir::DomainPolicy::PerGroup;
                    }
                }
                other => {
                    let help = match suggest(other, &["per-instance", "per-device", "per-group"]) {
                        Some(s) => format!("did you mean `{s}`?"),
                        None => "use `per-instance` (one domain per IOMMU, shared by its masters), `per-device` (isolation) or `per-group` (only the masters of a `group` attach)".to_owned(),
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
                if let Some((base, size)) = aperture(start, end, pt, diags) {
                    if let Some(p) = policy.as_mut() {
                        p.aperture_base = base;
                        p.aperture_size = size;
                    }
                }
            }
            DmaKind::Default { kind, compatibles } => {
                if let (Some((all, some)), Some(p)) =
                    (default_of(kind, compatibles, diags), policy.as_mut())
                {
                    p.identity_default = all;
                    p.identity_compatibles = some;
                }
            }
            DmaKind::SharedDomains => {
                if let Some(p) = policy.as_mut() {
                    p.shared_domains = true;
                }
            }
            DmaKind::Group { .. } => {}
        }
    }
    if errors_since(diags, mark) {
        return None;
    }
    if let Some(p) = policy.as_mut() {
        p.groups = groups;
    }
    policy
}

/// A checked `default` statement (`kind` must be `identity` or
/// `translated`, E0506): whether every master starts in identity, and the compatibles of those
/// that do when not every one does.
pub(super) fn default_of(
    kind: &Ident,
    compatibles: &[Str],
    diags: &mut Vec<Diagnostic>,
) -> Option<(bool, Vec<String>)> {
    if !matches!(kind.name.as_str(), "identity" | "translated") {
        let help = match suggest(&kind.name, &["identity", "translated"]) {
            Some(s) => format!("did you mean `{s}`?"),
            None => "use `identity` (the IOMMU passes DMA through until a driver attaches a domain) or `translated`".to_owned(),
        };
        diags.push(
            Diagnostic::new(
                Code::UnknownDefaultDomain,
                format!("unknown default domain `{}`", kind.name),
                kind.span.clone(),
                "not a domain type",
            )
            .help(help),
        );
        return None;
    }
    let identity = kind.name == "identity";
    if !identity && !compatibles.is_empty() {
        diags.push(
            Diagnostic::new(
                Code::TranslatedForCompatibles,
                "`default translated` takes no `for compatible` list",
                kind.span.clone(),
                "translated is already every master's default",
            )
            .help("write `default identity for compatible \"..\";` for the masters that start untranslated"),
        );
        return None;
    }
    if let Some(empty) = compatibles.iter().find(|c| c.value.is_empty()) {
        diags.push(
            Diagnostic::new(
                Code::MissingItem,
                "empty compatible string",
                empty.span.clone(),
                "no node has an empty compatible",
            )
            .help("name the masters' compatible strings, e.g. \"qcom,mdss\""),
        );
        return None;
    }
    Some((
        identity && compatibles.is_empty(),
        compatibles.iter().map(|c| c.value.clone()).collect(),
    ))
}

/// One `group`: a unique name, a condition over the fields, an aperture
/// checked as the driver's is.
fn group<'a>(
    item: &'a DmaItem,
    pt: Option<&ir::Translation>,
    fields: &[FieldInfo<'_>],
    names: &mut Vec<&'a Ident>,
    out: &mut Vec<ir::DomainGroup>,
    diags: &mut Vec<Diagnostic>,
) {
    let DmaKind::Group {
        name,
        aperture: range,
        cond,
    } = &item.kind
    else {
        return;
    };
    if let Some(first) = names.iter().find(|n| n.name == name.name) {
        diags.push(
            Diagnostic::new(
                Code::DuplicateGroup,
                format!("group `{}` is declared twice", name.name),
                name.span.clone(),
                "second declaration",
            )
            .secondary(first.span.clone(), "first declared here")
            .help("give each group its own name"),
        );
        return;
    }
    names.push(name);
    if names.len() == ir::MAX_GROUPS + 1 {
        diags.push(
            Diagnostic::new(
                Code::TooManyGroups,
                format!("more than {} groups", ir::MAX_GROUPS),
                name.span.clone(),
                "one group too many",
            )
            .help("a master's IDs carry one bit per group: merge groups whose masters can share a domain"),
        );
    }
    let aperture = match (range, pt) {
        (Some((start, end)), Some(pt)) => match aperture(start, end, pt, diags) {
            Some(a) => Some(a),
            None => return,
        },
        _ => None,
    };
    if let Some((expr, text)) = condition(cond, fields, diags) {
        out.push(ir::DomainGroup {
            name: name.name.clone(),
            cond: expr,
            text,
            aperture,
            span: item.span.clone(),
        });
    }
}

/// `START..END` as `(base, size)`, if non-empty, granule-aligned and inside
/// the input range.
fn aperture(
    start: &Num,
    end: &Num,
    pt: &ir::Translation,
    diags: &mut Vec<Diagnostic>,
) -> Option<(u64, u64)> {
    let (g, ias) = (pt.granule().bytes(), pt.ias());
    // The last input address; a 64-bit range has no end in u64.
    let last = input_end(ias);
    let problem = if start.value >= end.value {
        format!("aperture {:#x}..{:#x} is empty", start.value, end.value)
    } else if start.value % g != 0 || end.value % g != 0 {
        format!(
            "aperture {:#x}..{:#x} is not aligned to the {} granule",
            start.value,
            end.value,
            size_text(g)
        )
    } else if end.value - 1 > last {
        format!(
            "aperture ends at {:#x}, beyond the {ias}-bit input range (which ends at {:#x})",
            end.value,
            u128::from(last) + 1
        )
    } else {
        return Some((start.value, end.value - start.value));
    };
    diags.push(
        Diagnostic::new(
            Code::BadAperture,
            problem,
            start.span.start..end.span.end,
            "IOVA aperture",
        )
        .help("write `aperture START..END;`, half-open, granule-aligned, inside `ias`"),
    );
    None
}

/// The last address of a `ias`-bit input range (`ias` in 1..=64).
fn input_end(ias: u8) -> u64 {
    u64::MAX >> (64 - u32::from(ias.clamp(1, 64)))
}
