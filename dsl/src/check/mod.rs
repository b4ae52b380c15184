//! Syntax tree to checked IR.
//!
//! Each driver is checked on its own (`driver`); then the checks that span
//! drivers (names, compatible strings). Every problem becomes a diagnostic;
//! a driver with errors is left out of the spec, and the spec is only
//! returned when no driver had an error.

mod bits;
mod child;
mod contexts;
mod dma;
mod extends;
mod fields;
mod formats;
pub mod geometry;
mod masters;
mod page_table;
mod probe;
mod pt_items;

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

/// FNV-1a: the maps here are keyed by short names; SipHash's DoS resistance
/// buys nothing for a spec file and cost a tenth of the check time.
#[derive(Default)]
struct Fnv(u64);

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for &b in bytes {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
}

type Map<K, V> = HashMap<K, V, BuildHasherDefault<Fnv>>;
type Set<K> = HashSet<K, BuildHasherDefault<Fnv>>;

use crate::ast::*;
use crate::diag::{Code, Diagnostic};
use crate::ir;
use crate::Checked;

/// Checks a whole tree. Spans in the diagnostics are the tree's spans.
pub fn check_ast(spec: &SpecAst) -> Checked {
    let mut checker = Checker::with_capacity(spec.drivers.len());
    for d in &spec.drivers {
        checker.driver(d, |text, _, _| Cow::Borrowed(text));
    }
    checker.finish()
}

/// Checks drivers one at a time, keeping only what the checks across
/// drivers need (names and compatible strings as keys). [`check_ast`] feeds
/// it a whole tree; [`crate::check_source`] feeds it each driver as the
/// parser reads it and then drops that driver's tree, so a large file never
/// has its whole tree in memory. Both give the same diagnostics in the same
/// order.
pub(crate) struct Checker<'k> {
    diags: Vec<Diagnostic>,
    /// Duplicate compatible strings, appended after every driver's own
    /// diagnostics.
    compat_diags: Vec<Diagnostic>,
    drivers: Vec<ir::Driver>,
    /// Driver name to the span of its first definition.
    names: Map<Cow<'k, str>, Span>,
    /// Every driver's name, in order (owners of compatible strings).
    owners: Vec<Cow<'k, str>>,
    /// Compatible string to its first claim: owner index and span.
    claims: Map<Cow<'k, str>, (usize, Span)>,
    /// Whether to keep each driver's IR (not when only diagnostics are
    /// wanted).
    keep_ir: bool,
    /// With `keep_ir`: each checked driver's name to its place in
    /// `drivers` (the bases `extends` may name).
    kept: Map<Cow<'k, str>, usize>,
}

/// One driver's own result: its IR, or what it adds to its base.
// Returned once per driver and moved straight into the spec: boxing the
// large variant would cost an allocation per driver for nothing.
#[allow(clippy::large_enum_variant)]
enum Lowered {
    Full(ir::Driver),
    Extends(extends::Extension),
}

impl<'k> Checker<'k> {
    pub(crate) fn with_capacity(drivers: usize) -> Self {
        Checker {
            diags: Vec::new(),
            compat_diags: Vec::new(),
            drivers: Vec::with_capacity(drivers),
            names: Map::with_capacity_and_hasher(drivers, Default::default()),
            owners: Vec::with_capacity(drivers),
            claims: Map::with_capacity_and_hasher(drivers * 2, Default::default()),
            keep_ir: true,
            kept: Map::default(),
        }
    }

    /// Checks without keeping the IR: `finish` gives the diagnostics and,
    /// without errors, an empty spec.
    pub(crate) fn without_ir(mut self) -> Self {
        self.keep_ir = false;
        self.drivers = Vec::new();
        self
    }

    /// Checks `d`. `key(text, span, quoted)` turns the driver's name and its
    /// compatible strings (`quoted`: `span` includes the quotes) into keys
    /// that live as long as the checker.
    pub(crate) fn driver<'d>(
        &mut self,
        d: &'d DriverAst,
        key: impl Fn(&'d str, &Span, bool) -> Cow<'k, str>,
    ) {
        let name = key(&d.name.name, &d.name.span, false);
        let known_base = d
            .extends
            .as_ref()
            .is_some_and(|b| b.name != d.name.name && self.names.contains_key(b.name.as_str()));
        self.name_rule(name.clone(), &d.name.name, &d.name.span);
        let lowered = driver(d, &mut self.diags);
        if let Some(base) = &d.extends {
            self.base_rule(&d.name.name, &base.name, &base.span, known_base);
        }
        let ir = match lowered {
            Some(Lowered::Full(ir)) => Some(ir),
            // A base with errors was not kept: its extenders get no IR.
            Some(Lowered::Extends(ext)) => d.extends.as_ref().and_then(|b| {
                let at = *self.kept.get(b.name.as_str())?;
                Some(extends::lower(d, ext, self.drivers.get(at)?))
            }),
            None => None,
        };
        if let (Some(ir), true) = (ir, self.keep_ir) {
            if !self.kept.contains_key(&*name) {
                self.kept.insert(name.clone(), self.drivers.len());
            }
            self.drivers.push(ir);
        }
        let claims = compatibles(d).map(|c| (key(&c.value, &c.span, true), c.span.clone()));
        self.claim_rule(name, &d.name.name, claims);
    }

    /// What [`Checker::driver`] does, for a driver checked before: its own
    /// diagnostics (from [`driver_diagnostics`]) are taken as they are and
    /// only the rules across drivers run again (an editor re-checks only
    /// the driver an edit touched; `ide::recheck`).
    pub(crate) fn replay(
        &mut self,
        name: Cow<'k, str>,
        name_span: &Span,
        extends: Option<(&str, &Span)>,
        own: &[Diagnostic],
        claims: impl Iterator<Item = (Cow<'k, str>, Span)>,
    ) {
        let text = name.clone();
        let known_base = extends.is_some_and(|(b, _)| *b != *text && self.names.contains_key(b));
        self.name_rule(name, &text, name_span);
        self.diags.extend_from_slice(own);
        if let Some((base, span)) = extends {
            self.base_rule(&text, base, span, known_base);
        }
        self.claim_rule(text.clone(), &text, claims);
    }

    /// `E0108`: an `extends` naming no driver above (`known`: the base was
    /// defined before this driver's name was recorded).
    fn base_rule(&mut self, name: &str, base: &str, span: &Span, known: bool) {
        let names = &self.names;
        if let Some(diag) = extends::base_rule(
            name,
            base,
            span,
            |_| known,
            names.keys().map(|k| &**k).filter(|k| *k != name),
        ) {
            self.diags.push(diag);
        }
    }

    /// `E0105`: a driver name defined twice.
    fn name_rule(&mut self, name: Cow<'k, str>, text: &str, span: &Span) {
        if let Some(first) = self.names.get(&*name) {
            self.diags.push(
                Diagnostic::new(
                    Code::DuplicateDriver,
                    format!("driver `{text}` is defined twice"),
                    span.clone(),
                    "second definition",
                )
                .secondary(first.clone(), "first defined here")
                .help("driver names become Rust items; rename one of them"),
            );
        } else {
            self.names.insert(name, span.clone());
        }
    }

    /// `E0601` in one file: a compatible string claimed twice.
    fn claim_rule(
        &mut self,
        name: Cow<'k, str>,
        text: &str,
        claims: impl Iterator<Item = (Cow<'k, str>, Span)>,
    ) {
        let me = self.owners.len();
        self.owners.push(name);
        for (value, span) in claims {
            match self.claims.get(&*value) {
                Some((owner, first)) => {
                    let owner = &self.owners[*owner];
                    let msg = if **owner == *text {
                        format!("`{value}` is listed twice in driver `{owner}`")
                    } else {
                        format!("compatible `{value}` is claimed by drivers `{owner}` and `{text}`")
                    };
                    self.compat_diags.push(
                        Diagnostic::new(Code::DuplicateCompatible, msg, span, "claimed again here")
                            .secondary(first.clone(), format!("first claimed by `{owner}`"))
                            .help(
                                "each compatible string selects exactly one driver; remove one claim",
                            ),
                    );
                }
                None => {
                    self.claims.insert(value, (me, span));
                }
            }
        }
    }

    pub(crate) fn finish(mut self) -> Checked {
        self.diags.append(&mut self.compat_diags);
        let has_errors = self.diags.iter().any(Diagnostic::is_error);
        Checked {
            spec: (!has_errors).then_some(ir::Spec {
                drivers: self.drivers,
            }),
            diagnostics: self.diags,
        }
    }
}

pub(crate) fn compatibles(d: &DriverAst) -> impl Iterator<Item = &Str> {
    d.items.iter().flat_map(|i| match &i.kind {
        ItemKind::Compatible(v) => v.as_slice(),
        _ => &[],
    })
}

/// The same compatible string claimed in two different files. Returns
/// `(file index, diagnostic)` for every later claim; the diagnostic's label is
/// in that file and its message names the first file.
pub fn cross_file_compatibles(files: &[(&str, &SpecAst)]) -> Vec<(usize, Diagnostic)> {
    let names: Vec<&str> = files.iter().map(|(name, _)| *name).collect();
    let claims: Vec<Vec<crate::Claim>> = files
        .iter()
        .map(|(_, spec)| {
            spec.drivers
                .iter()
                .flat_map(|d| {
                    compatibles(d).map(|c| crate::Claim {
                        value: Cow::Borrowed(c.value.as_str()),
                        owner: Cow::Borrowed(d.name.name.as_str()),
                        span: c.span.clone(),
                    })
                })
                .collect()
        })
        .collect();
    cross_file_claims(&names, &claims)
}

/// [`cross_file_compatibles`] over each file's compatible strings in
/// order (`claims[i]` belongs to `names[i]`), so no tree need be kept.
pub(crate) fn cross_file_claims(
    names: &[&str],
    claims: &[Vec<crate::Claim>],
) -> Vec<(usize, Diagnostic)> {
    let mut out = Vec::new();
    let mut seen: HashMap<&str, (usize, &str, &str)> = HashMap::new();
    for (fi, (fname, file)) in names.iter().zip(claims).enumerate() {
        let mut local: HashMap<&str, ()> = HashMap::new();
        for c in file {
            if let Some((first_file, owner, first_name)) = seen.get(&*c.value) {
                if *first_file != fi {
                    out.push((
                        fi,
                        Diagnostic::new(
                            Code::DuplicateCompatible,
                            format!(
                                "compatible `{}` is claimed by driver `{owner}` in {first_name} and by `{}` here",
                                c.value, c.owner
                            ),
                            c.span.clone(),
                            "claimed again here",
                        )
                        .help("each compatible string selects exactly one driver; remove one claim"),
                    ));
                }
            } else {
                local.insert(&c.value, ());
            }
        }
        for c in file {
            if local.contains_key(&*c.value) {
                seen.entry(&c.value).or_insert((fi, &c.owner, fname));
            }
        }
    }
    out
}

/// Finds the single item of a kind, reporting repeats.
fn single<'a>(d: &'a DriverAst, keyword: &str, diags: &mut Vec<Diagnostic>) -> Option<&'a Item> {
    let mut found: Option<&Item> = None;
    for item in d.items.iter().filter(|i| i.kind.keyword() == keyword) {
        match found {
            None => found = Some(item),
            Some(first) => diags.push(repeated(
                keyword,
                item.keyword.clone(),
                first.keyword.clone(),
            )),
        }
    }
    found
}

pub(crate) fn repeated(keyword: &str, again: Span, first: Span) -> Diagnostic {
    Diagnostic::new(
        Code::RepeatedItem,
        format!("`{keyword}` is given more than once"),
        again,
        "repeated here",
    )
    .secondary(first, "first given here")
    .help(format!("keep one `{keyword}`"))
}

/// Reports that `d` lacks `what`, unless its text did not all parse: the
/// missing item is then most likely the broken or unclosed text, already
/// reported, and a cascade of "missing" errors would bury that report.
fn push_missing(d: &DriverAst, code: Code, what: &str, help: &str, diags: &mut Vec<Diagnostic>) {
    if !unparsed(d, what) && !d.parse_errors {
        diags.push(missing(d, code, what, help));
    }
}

/// Whether a statement with this keyword was written but did not parse.
fn unparsed(d: &DriverAst, keyword: &str) -> bool {
    d.unparsed_items.iter().any(|i| i.name == keyword)
}

fn missing(d: &DriverAst, code: Code, what: &str, help: &str) -> Diagnostic {
    Diagnostic::new(
        code,
        format!("driver `{}` has no `{what}`", d.name.name),
        d.name.span.clone(),
        format!("`{what}` missing in this driver"),
    )
    .help(help.to_owned())
}

/// One driver's own diagnostics: what [`Checker::driver`] reports
/// for it apart from the rules across drivers.
pub(crate) fn driver_diagnostics(d: &DriverAst) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    let _ = driver(d, &mut diags);
    diags
}

/// `compatible ""`: matches no node.
fn empty_compatibles(d: &DriverAst, diags: &mut Vec<Diagnostic>) {
    for c in compatibles(d) {
        if c.value.is_empty() {
            diags.push(Diagnostic::new(
                Code::MissingItem,
                "empty compatible string",
                c.span.clone(),
                "matches no node",
            ));
        }
    }
}

/// Checks one driver; `None` if it had an error.
fn driver(d: &DriverAst, diags: &mut Vec<Diagnostic>) -> Option<Lowered> {
    // Diagnostics are only ever appended: this driver had an error exactly
    // when one lies past this mark (counting all of them again per driver
    // made a file with many warnings quadratic).
    let mark = diags.len();
    if let Some(base) = &d.extends {
        let ext = extends::extension(d, base, diags);
        return (!errors_since(diags, mark)).then_some(Lowered::Extends(ext));
    }
    full_driver(d, diags, mark).map(Lowered::Full)
}

/// Checks a driver that extends none.
fn full_driver(d: &DriverAst, diags: &mut Vec<Diagnostic>, mark: usize) -> Option<ir::Driver> {
    // compatible (may repeat: the lists concatenate)
    let compatible_list: Vec<String> = compatibles(d).map(|c| c.value.clone()).collect();
    if !d
        .items
        .iter()
        .any(|i| matches!(i.kind, ItemKind::Compatible(_)))
    {
        push_missing(
            d,
            Code::MissingItem,
            "compatible",
            "add the device-tree compatible string(s) this driver binds to, e.g. `compatible \"arm,smmu-v3\";`",
                diags,
            );
    }
    empty_compatibles(d, diags);

    let cells = match single(d, "cells", diags) {
        Some(Item {
            kind: ItemKind::Cells(counts),
            span,
            ..
        }) => cell_count(counts, span, diags),
        _ => {
            push_missing(
                d,
                Code::MissingItem,
                "cells",
                "say how many `#iommu-cells` the binding uses, e.g. `cells 1;` or `cells 1 | 2;`",
                diags,
            );
            None
        }
    };

    let fields = fields::fields(d, cells.as_ref(), diags);
    let dropped = bits::dropped(d, &fields, cells.as_ref(), diags);
    let checks = fields::checks(d, &fields, diags);
    let children = child::children(d, &fields, diags);
    let ids = fields::ids(d, &fields, diags);
    // A field used only in text that did not parse is not unused.
    if !d.parse_errors {
        fields::unused(d, &fields, diags);
    }

    let pci = single(d, "pci", diags).map(|i| ir::PciSupport {
        span: i.span.clone(),
    });
    if let Some(pci) = &pci {
        fields::pci_one_cell(&fields, pci.span.clone(), diags);
    }

    let main = single(d, "main", diags).and_then(|i| match &i.kind {
        ItemKind::Main(p) => Some(ir::MainInstance {
            property: p.value.clone(),
            span: i.span.clone(),
        }),
        _ => None,
    });

    let contexts = contexts::contexts(d, diags);

    let tables = single(d, "page-table", diags);
    let requests = single(d, "requests", diags);
    if let (Some(t), Some(r)) = (tables, requests) {
        diags.push(
            Diagnostic::new(
                Code::TwoTranslations,
                "a driver translates either with tables or with requests, not both",
                r.keyword.clone(),
                "`requests` here",
            )
            .secondary(t.keyword.clone(), "`page-table` here")
            .help("keep `page-table` if the IOMMU walks tables in memory, `requests` if the host maps on request (virtio-iommu)"),
        );
    }
    let page_table = match tables.or(requests) {
        Some(Item {
            kind: ItemKind::PageTable(pt),
            span,
            ..
        }) => page_table::translation(pt, span.clone(), !d.parse_errors, diags),
        _ => {
            if !unparsed(d, "requests") {
                push_missing(
                    d,
                    Code::MissingItem,
                    "page-table",
                    "describe the translation tables, e.g. `page-table arm-lpae-s1 { granule 4K; ias 48; oas 48; pool 64; }`, or `requests virtio-iommu { granule 4K; ias 48; }`",
                    diags,
                );
            }
            None
        }
    };

    let dma = match single(d, "dma", diags) {
        Some(Item {
            kind: ItemKind::Dma(items),
            span,
            ..
        }) => dma::dma(items, span.clone(), page_table.as_ref(), &fields, diags),
        _ => page_table
            .as_ref()
            .map(|pt| dma::default_dma(pt, d.name.span.clone())),
    };

    let init = match single(d, "init", diags) {
        Some(Item {
            kind: ItemKind::Init(segs),
            span,
            ..
        }) => Some(ir::HookPath {
            segments: segs.iter().map(|s| s.name.clone()).collect(),
            span: span.clone(),
        }),
        _ => {
            push_missing(
                d,
                Code::MissingInit,
                "init",
                "name the early-init hook the boot flow calls for each matching IOMMU node, e.g. `init crate::smmu::probe;`",
                diags,
            );
            None
        }
    };

    let masters = masters::policy(d, diags);
    let probe = probe::policy(d, &fields, &ids, diags);

    if errors_since(diags, mark) {
        return None;
    }
    Some(ir::Driver {
        name: d.name.name.clone(),
        docs: d.docs.clone(),
        compatibles: compatible_list,
        extends: None,
        cells: cells?,
        fields: fields
            .into_iter()
            .map(|f| f.ir)
            .collect::<Option<Vec<_>>>()?,
        dropped,
        checks,
        children,
        ids,
        pci,
        main,
        contexts,
        translation: page_table?,
        dma: dma?,
        init: init?,
        masters,
        probe,
        span: d.span.clone(),
    })
}

/// Whether any diagnostic pushed since `diags.len()` was `mark` is an error.
pub(crate) fn errors_since(diags: &[Diagnostic], mark: usize) -> bool {
    diags
        .get(mark..)
        .is_some_and(|new| new.iter().any(Diagnostic::is_error))
}

/// Linux's `of_phandle_args` holds at most 16 arguments.
const MAX_PHANDLE_ARGS: u64 = 16;

fn cell_count(counts: &[Num], span: &Span, diags: &mut Vec<Diagnostic>) -> Option<ir::CellCount> {
    let mut allowed = Vec::with_capacity(counts.len());
    let mut ok = true;
    for n in counts {
        if n.value > MAX_PHANDLE_ARGS {
            ok = false;
            diags.push(
                Diagnostic::new(
                    Code::BadCellCount,
                    format!(
                        "`#iommu-cells` of {} is more than a phandle can carry",
                        n.value
                    ),
                    n.span.clone(),
                    format!("at most {MAX_PHANDLE_ARGS}"),
                )
                .help("a phandle's arguments hold at most 16 cells (Linux's MAX_PHANDLE_ARGS)"),
            );
        } else {
            allowed.push(n.value as u32);
        }
    }
    allowed.sort_unstable();
    allowed.dedup();
    (ok && !allowed.is_empty()).then(|| ir::CellCount {
        allowed,
        span: span.clone(),
    })
}
