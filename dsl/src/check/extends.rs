//! `driver NAME extends BASE { … }`: reuse of another driver's contract.
//!
//! An extending driver states only what differs from its base: its own
//! `compatible` strings (required) and, optionally, its own `init` hook
//! and its own default domain (`dma { default ..; }`, which reads no
//! field). Everything else (cells, fields, ignores, checks, IDs, PCI,
//! translation, the rest of the DMA policy) is the base's. The base must be defined above the extending
//! driver in the same file: the checker reads a file driver by driver and
//! frees each tree as it goes, so a base is always already checked, and a
//! chain of `extends` can never form a cycle. Bases in other files are not
//! visible (a file checks the same alone and together with others).
//!
//! Rules: `E0107` for any other item in an extending driver, `E0108` for a
//! base that is not above (or is the driver itself). A base with errors gives
//! its extenders no IR and no further diagnostics (the base's are the
//! report).

use super::{push_missing, single};
use crate::ast::*;
use crate::diag::{Code, Diagnostic};
use crate::ir;

/// What an extending driver itself says, checked alone.
pub(crate) struct Extension {
    pub compatibles: Vec<String>,
    pub init: Option<ir::HookPath>,
    /// Its own `default` (every master identity; the identity compatibles).
    pub default_domain: Option<(bool, Vec<String>)>,
}

/// Checks the items of an extending driver (`d.extends` is set): its own
/// diagnostics, which do not depend on the base.
pub(crate) fn extension(d: &DriverAst, base: &Ident, diags: &mut Vec<Diagnostic>) -> Extension {
    let mut default_domain = None;
    for item in &d.items {
        match &item.kind {
            ItemKind::Compatible(_) | ItemKind::Init(_) => {}
            ItemKind::Dma(items) => {
                default_domain = extension_dma(d, base, items, diags);
            }
            _ => {
                let kw = item.kind.keyword();
                diags.push(
                    Diagnostic::new(
                        Code::NotInExtension,
                        format!(
                            "`{}` extends `{}`, so its `{kw}` is the base's",
                            d.name.name, base.name
                        ),
                        item.keyword.clone(),
                        "an extending driver cannot say this",
                    )
                    .secondary(base.span.clone(), "the contract comes from here")
                    .help(format!(
                        "an extending driver adds `compatible` strings and may name its own `init`; change `{}` instead, or write `{}` as a driver of its own",
                        base.name, d.name.name
                    )),
                );
            }
        }
    }
    let compatibles: Vec<String> = super::compatibles(d).map(|c| c.value.clone()).collect();
    if !d
        .items
        .iter()
        .any(|i| matches!(i.kind, ItemKind::Compatible(_)))
    {
        push_missing(
            d,
            Code::MissingItem,
            "compatible",
            "an extending driver exists for its compatible strings: add them, e.g. `compatible \"nvidia,smmu-500\";`",
            diags,
        );
    }
    super::empty_compatibles(d, diags);
    let init = match single(d, "init", diags) {
        Some(Item {
            kind: ItemKind::Init(segs),
            span,
            ..
        }) => Some(ir::HookPath {
            segments: segs.iter().map(|s| s.name.clone()).collect(),
            span: span.clone(),
        }),
        _ => None,
    };
    Extension {
        compatibles,
        init,
        default_domain,
    }
}

/// An extension's `dma` block: only `default` (E0107 for anything else,
/// E0102 for a second one).
fn extension_dma(
    d: &DriverAst,
    base: &Ident,
    items: &[DmaItem],
    diags: &mut Vec<Diagnostic>,
) -> Option<(bool, Vec<String>)> {
    let mut out = None;
    let mut first: Option<&Span> = None;
    for item in items {
        match &item.kind {
            DmaKind::Default { kind, compatibles } => {
                if let Some(first) = first {
                    diags.push(super::repeated(
                        "default",
                        item.keyword.clone(),
                        first.clone(),
                    ));
                    continue;
                }
                first = Some(&item.keyword);
                out = super::dma::default_of(kind, compatibles, diags);
            }
            other => diags.push(
                Diagnostic::new(
                    Code::NotInExtension,
                    format!(
                        "`{}` extends `{}`, so its `{}` is the base's",
                        d.name.name,
                        base.name,
                        other.keyword()
                    ),
                    item.keyword.clone(),
                    "an extending driver cannot say this",
                )
                .secondary(base.span.clone(), "the contract comes from here")
                .help("an extending driver's `dma` block may only give its own `default`"),
            ),
        }
    }
    out
}

/// `E0108`: `base` is not a driver defined above `name` (`known` tells
/// whether a name is defined above; `above` lists them for a suggestion).
pub(crate) fn base_rule<'a>(
    name: &str,
    base: &str,
    span: &Span,
    known: impl Fn(&str) -> bool,
    above: impl Iterator<Item = &'a str>,
) -> Option<Diagnostic> {
    if base == name {
        return Some(
            Diagnostic::new(
                Code::UnknownBase,
                format!("driver `{name}` extends itself"),
                span.clone(),
                "a driver cannot be its own base",
            )
            .help("name the driver whose contract this one shares"),
        );
    }
    if known(base) {
        return None;
    }
    let candidates: Vec<&str> = above.collect();
    let mut diag = Diagnostic::new(
        Code::UnknownBase,
        format!("driver `{name}` extends `{base}`, which is not defined above it in this file"),
        span.clone(),
        "no such driver above",
    );
    diag = match crate::parse::suggest(base, &candidates) {
        Some(s) => diag.help(format!("did you mean `{s}`?")),
        None => diag.help(
            "a driver extends one defined earlier in the same file; move the base above it (bases in other files are not visible)",
        ),
    };
    Some(diag)
}

/// The IR of `d` extending `base`: the base's contract under `d`'s name,
/// docs and compatibles (and `init`, if `d` names one).
pub(crate) fn lower(d: &DriverAst, ext: Extension, base: &ir::Driver) -> ir::Driver {
    let mut ir = base.clone();
    ir.name = d.name.name.clone();
    ir.docs = d.docs.clone();
    ir.compatibles = ext.compatibles;
    ir.extends = Some(base.name.clone());
    if let Some(init) = ext.init {
        ir.init = init;
    }
    if let Some((all, some)) = ext.default_domain {
        ir.dma.identity_default = all;
        ir.dma.identity_compatibles = some;
    }
    ir.span = d.span.clone();
    ir
}
